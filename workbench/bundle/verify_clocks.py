"""verify-bundle's clocks check: the regulatory clocks the bundle carries, judged from its
bytes alone by the repository's rule (``governance.clocks.clock_states``)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workbench.bundle import layout as bl
from workbench.bundle.report import BundleReport
from workbench.bundle.verify_records import parse_when as _parse_when
from workbench.signing import registry as reg


def contracts_at_export(files: Mapping[str, bytes]) -> dict[str, Any]:
    """The contract at export per id: current.toml when HEAD differs from the head version,
    else the head version's contract.toml."""

    from workbench.model.state import parse_contract

    versions: dict[str, tuple[int, str]] = {}
    for path in files:
        m = re.fullmatch(r"contracts/([^/]+)/v([0-9]+)/contract\.toml", path)
        if m and int(m.group(2)) > versions.get(m.group(1), (0, ""))[0]:
            versions[m.group(1)] = (int(m.group(2)), path)
    out: dict[str, Any] = {}
    for cid in {*versions, *(p.split("/")[1] for p in files if p.endswith("/current.toml"))}:
        path = bl.current_path(cid)
        if path not in files:
            path = versions[cid][1]
        contract = parse_contract(path, files.get(path))
        if contract is not None:
            out[cid] = contract
    return out


def verify_clocks(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    head: reg.Registry,
    statuses: Mapping[str, str],
    exported: datetime,
    report: BundleReport,
) -> None:
    """The clocks the bundle carries, by the same rule as the repository
    (``governance.clocks.clock_states``) from its bytes alone, against what bundle.json
    states; a clock past its deadline at export is a warning (a failure with --strict)."""
    from workbench.governance.clocks import (
        ClockInputs,
        clock_entry,
        clock_states,
        parse_clock_records,
    )
    from workbench.governance.record_time import Placement
    from workbench.model.settings import Settings
    from workbench.signing.verdict import parse_people

    records, unreadable = parse_clock_records(files)
    stated = index.get("clocks")
    if not records and not stated:
        return
    people = parse_people(head.files[reg.PEOPLE])
    members = {p.id: p for p in people.people}
    team = head.policy.approval.compliance_team
    lead = next((t.lead for t in people.teams if t.id == team), None) if team else None
    listed = {e.get("path"): e for e in index.get("records") or [] if isinstance(e, dict)}
    try:
        settings = Settings.model_validate(tomllib.loads(files[bl.SETTINGS].decode("utf-8")))
        settings_clocks = list(settings.clocks)
    except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError):
        settings_clocks = []
    verdicts = clock_states(
        ClockInputs(
            records=records,
            signatures={r.path: statuses.get(r.path, "invalid") for r in records},  # type: ignore[misc]
            placements={
                p: Placement(_parse_when(e.get("commit_time")), _parse_when(e.get("parent_time")))
                for p, e in listed.items()
                if isinstance(p, str)
            },
            signatures_required=True,
            contracts=contracts_at_export(files),
            settings_clocks=settings_clocks,
            compliance_lead=lead,
            people_left=lambda pid, day: (m := members.get(pid)) is not None and m.has_left(day),
            known_people=frozenset(members),
            now=exported,
        )
    )
    problems = [message for _seam, message in verdicts.flags] + unreadable
    mine = sorted((clock_entry(c, exported) for c in verdicts.clocks), key=lambda e: str(e["id"]))
    theirs = sorted(
        (e for e in stated or [] if isinstance(e, dict)), key=lambda e: str(e.get("id"))
    )
    if mine != theirs:
        ids = {str(e.get("id")) for e in theirs} ^ {str(e["id"]) for e in mine}
        changed = [str(a["id"]) for a in mine for b in theirs if a["id"] == b.get("id") and a != b]
        problems.append(
            "bundle.json states other clocks than its records give"
            + (f" (only on one side: {', '.join(sorted(ids))})" if ids else "")
            + (f" (another state or deadline: {', '.join(changed)})" if changed else "")
        )
    if problems:
        report.add("clocks", "fail", "; ".join(problems[:20]))
        return
    expired = [c for c in verdicts.clocks if c.state == "expired"]
    late = sum(c.state == "met-late" for c in verdicts.clocks)
    text = (
        f"{len(verdicts.clocks)} clock(s), each start and stop signed by its person with the "
        f"authority the rule names; {sum(c.running for c in verdicts.clocks)} running"
        + (f", {late} met late" if late else "")
    )
    if expired:
        report.add(
            "clocks",
            "fail" if report.strict else "warn",
            text + "; EXPIRED at export: " + "; ".join(c.describe(exported) for c in expired),
        )
    else:
        report.add("clocks", "ok", text)
