"""The audit bundle's OSCAL documents stating an exemption nobody approved.

Whether a violation is open, resolved or exempt has one rule (`evidence/closures.py`,
`fold_violations`): signed closure records, checked for authority and time; the legacy
`findings/closures.toml` (an unsigned file of earlier versions) never exempts anything in a
repository with a key registry. The OSCAL export folded the violations again, its own way:
every entry of that unsigned file counted, and every contract `[[exemptions]]` entry,
co-signed or not. So a member commits a legacy closures file "exempting" an open violation,
approved by the compliance lead, and the next audit bundle's POA&M and assessment results
carry the risk as `deviation-approved`, with an "Approved exemption" remediation, while the
gate, the app and both verifiers say it is open. The OSCAL documents now take the
violations from the one fold. Real demo repo, real export, real signatures."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.bundle.conftest import EXPORT_AT, EXPORTER, members, signer
from tests.conftest import FIXED_NOW
from workbench.evidence.findings import CLOSURES_PATH
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench

POLICY = "policy-data-to-claims-agent"
FRESHNESS = "policy-freshness"  # fails in the demo
MEMBER = "yuki.tanaka"  # an ordinary member (policy-data)


def risks(data: bytes) -> dict[str, dict[str, Any]]:
    files = members(data)
    out: dict[str, dict[str, Any]] = {}
    ar = json.loads(files["oscal/assessment-results.json"])["assessment-results"]
    for result in ar["results"]:
        for risk in result.get("risks", []):
            out["ar " + risk["title"]] = risk
    poam = json.loads(files["oscal/poam.json"])["plan-of-action-and-milestones"]
    for risk in poam.get("risks", []):
        out["poam " + risk["title"]] = risk
    return out


def test_an_unsigned_legacy_exemption_is_not_an_approved_deviation_in_oscal(
    demo_repo: Path,
) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW + timedelta(minutes=5), actor=MEMBER)
    [v] = [
        v
        for v in wb.evidence.violations.find()
        if (v.contract, v.term) == (POLICY, FRESHNESS) and v.state == "open"
    ]
    expires = (FIXED_NOW + timedelta(days=30)).date().isoformat()
    legacy = (
        "[[closure]]\n"
        f'violation = "{v.id}"\ncontract = "{POLICY}"\nterm = "{FRESHNESS}"\n'
        f'action = "exempt"\nclosed_by = "{MEMBER}"\n'
        f"closed_at = {(FIXED_NOW + timedelta(minutes=5)).strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        f'reason = "sidecar migration"\napprover = "{EXPORTER}"\nexpires = {expires}\n'
    )
    wb.commit({CLOSURES_PATH: legacy.encode()}, "Record the sidecar exemption\n")
    # The one rule: the unsigned entry does not count.
    now = Workbench(demo_repo, now=EXPORT_AT)
    [still] = [x for x in now.evidence.violations.find() if x.id == v.id]
    assert still.state == "open"

    exporter = Workbench(demo_repo, now=EXPORT_AT, actor=EXPORTER)
    data = exporter.bundles.build(ExportOptions(record=False), signer(demo_repo, EXPORTER)).data
    found = {k: r for k, r in risks(data).items() if f"{POLICY} / {FRESHNESS}" in k}
    assert found, sorted(risks(data))
    for key, risk in found.items():
        assert risk["status"] == "open", (key, risk)
        assert not risk.get("remediations"), (key, risk)
