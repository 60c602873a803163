"""OSCAL 1.0.6 JSON documents for the bundle: assessment plan, assessment results, POA&M.

The documents are validated against NIST's published OSCAL 1.0.6 JSON Schemas (vendored
under ``tests/data/oscal/``) by ``tests/bundle/test_oscal_schema.py``; ``OSCAL_VERSION``
must name the release of those schemas.

* ``assessment-plan.json``: the minimal plan the results must import (``import-ap``):
  the repository as the system (``import-ssp`` points at workbench.toml in the bundle),
  each contract as a control objective of the local "handshake" control set.
* ``assessment-results.json``: one result for the export period with
  - ``attestation``: per contract, the principals who signed its head version
    (``responsible-parties`` with role ``signer``), and the verdict;
  - ``observation``: one per term check of the latest run in the period, with
    ``collected`` (the run time) and ``expires`` (the snapshot expiry);
  - ``finding``: per violation, ``not-satisfied`` with a related ``risk`` (status open,
    closed, or ``deviation-approved`` for an active exemption);
  - ``assessment-log``: reviews and acknowledgements, logged by their person.
* ``poam.json``: one ``poam-item`` per action item, its owner as the origin actor, and
  one per regulatory clock (kind, deadline, state at export), its owner as the actor.

UUIDs are uuid5 of stable ids (contract id, term id, violation id, person id...) in a
namespace derived from the repository id, so the same data gives the same documents.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from workbench.bundle import layout as bl
from workbench.model import safe_text
from workbench.model.findings import Run

OSCAL_VERSION = "1.0.6"
NAMESPACE = "https://handshake-workbench.dev/ns/oscal"


@dataclass
class OscalInput:
    wb: Any
    state: Any
    settings: Any
    head: Any  # the registry head
    bundle_files: Mapping[str, bytes]  # read back member by member: filter paths first
    index: dict[str, Any]
    runs: list[Run]
    exported_at: datetime
    expires: datetime
    snapshot_version: int
    scoped: set[str]
    options: Any


def _ts(when: datetime | date | str) -> str:
    """RFC 3339 UTC with seconds and ``Z`` (OSCAL's DateTimeWithTimezoneDatatype)."""
    if isinstance(when, str):
        try:  # run/closure times arrive as ISO text; a naive one is UTC
            parsed = datetime.fromisoformat(when.strip())
        except ValueError:
            return when  # left as is: the schema test reports it
        when = parsed
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(doc: dict[str, Any]) -> bytes:
    # Titles, names and reasons come from the repo: unsafe characters are \u escapes.
    text = safe_text.json_dumps(doc, indent=1, sort_keys=True)
    return (text + "\n").encode("utf-8")


class _Ids:
    def __init__(self, repository: str) -> None:
        self.ns = uuid.uuid5(uuid.NAMESPACE_URL, f"{NAMESPACE}/{repository}")

    def __call__(self, *parts: object) -> str:
        return str(uuid.uuid5(self.ns, "/".join(str(p) for p in parts)))


def _token(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-._" else "-" for c in text)
    return out if out and (out[0].isalpha() or out[0] == "_") else "x-" + out


def _text(value: object, fallback: str) -> str:
    """OSCAL's StringDatatype: non-empty, no leading or trailing whitespace."""
    return str(value or "").strip() or fallback


def _verdicts(inp: OscalInput) -> dict[str, Any]:
    try:
        return {v.contract_id: v for v in inp.wb.verdicts()}
    except Exception:  # noqa: BLE001 - OSCAL is a view; the bundle itself is the evidence
        return {}


def build_documents(inp: OscalInput) -> dict[str, bytes]:
    """The three documents, each from its own function; the results import the plan."""
    meta = _Metadata(inp)
    scoped = sorted(inp.scoped)
    reviewed = _reviewed_controls(scoped)
    return {
        bl.OSCAL_AP: _dump(_assessment_plan(inp, meta, scoped, reviewed)),
        bl.OSCAL_AR: _dump(_assessment_results(inp, meta, scoped, reviewed)),
        bl.OSCAL_POAM: _dump(_poam(inp, meta)),
    }


class _Metadata:
    """What every document's ``metadata`` holds: the organisation and the people the
    document mentions as parties, with stable ids."""

    def __init__(self, inp: OscalInput) -> None:
        self.inp = inp
        self.ids = _Ids(inp.settings.org.repository_id)
        state = inp.state
        self.people = {p.id: p for p in state.people.values()} if hasattr(state, "people") else {}
        self.exported = _ts(inp.exported_at)

    def party(self, person: str) -> dict[str, Any]:
        p = self.people.get(person)
        out: dict[str, Any] = {
            "uuid": self.ids("party", person),
            "type": "person",
            "name": _text(p.name if p else "", person),
            "short-name": _text(person, "unknown"),
        }
        email = _text(getattr(p, "email", None) or "", "")
        if email:
            out["email-addresses"] = [email]
        return out

    def __call__(
        self, title: str, roles: list[tuple[str, str]], mentioned: set[str]
    ) -> dict[str, Any]:
        org = self.inp.settings.org
        parties = [
            {
                "uuid": self.ids("party", "organisation"),
                "type": "organization",
                "name": _text(org.name, _text(org.repository_id, "organization")),
            }
        ] + [self.party(p) for p in sorted(mentioned)]
        return {
            "title": title,
            "last-modified": self.exported,
            "version": f"snapshot-{self.inp.snapshot_version}",
            "oscal-version": OSCAL_VERSION,
            "roles": [{"id": rid, "title": rtitle} for rid, rtitle in roles],
            "parties": parties,
        }


def _reviewed_controls(scoped: list[str]) -> dict[str, Any]:
    return {
        "control-selections": [
            {"include-controls": [{"control-id": _token(cid)} for cid in scoped]}
            if scoped
            else {"include-all": {}}
        ]
    }


def _assessment_plan(
    inp: OscalInput, meta: _Metadata, scoped: list[str], reviewed: dict[str, Any]
) -> dict[str, Any]:
    """assessment-plan.json: each contract in scope as a control objective."""
    return {
        "assessment-plan": {
            "uuid": meta.ids("assessment-plan", inp.snapshot_version),
            "metadata": meta(
                f"{inp.settings.org.name}: handshake contracts assessment plan",
                [("assessor", "Assessor"), ("exporter", "Bundle exporter")],
                set(),
            ),
            "import-ssp": {"href": bl.SETTINGS},
            "local-definitions": {
                "objectives-and-methods": [
                    {
                        "control-id": _token(cid),
                        "description": f"Contract {cid} is approved by every required signer "
                        "and its terms hold on the registered evidence.",
                        "parts": [
                            {
                                "name": "objective",
                                "ns": NAMESPACE,
                                "prose": f"contracts/{cid}.toml: signed statement chain and term "
                                "checks.",
                            }
                        ],
                    }
                    for cid in scoped
                ]
            }
            if scoped
            else {"remarks": "no contracts in scope"},
            "reviewed-controls": reviewed,
        }
    }


def _assessment_results(
    inp: OscalInput, meta: _Metadata, scoped: list[str], reviewed: dict[str, Any]
) -> dict[str, Any]:
    """assessment-results.json: one result for the export period."""
    ids = meta.ids
    mentioned: set[str] = set()
    attestations = _attestations(scoped, _verdicts(inp), ids, mentioned)
    observations = _observations(inp, ids, mentioned)
    findings, risks = _violations(inp, ids, mentioned)
    log_entries = _log(inp, ids, mentioned)
    period_start = _ts(inp.options.since) if inp.options.since else None
    period_end = _ts(inp.options.until) if inp.options.until else meta.exported
    result: dict[str, Any] = {
        "uuid": ids("result", inp.snapshot_version),
        "title": f"Handshake contracts, snapshot v{inp.snapshot_version}",
        "description": "Co-signature verdicts, term checks and violations as exported in this "
        "audit bundle. Verify the bundle (VERIFY.sh) before relying on this summary.",
        "start": period_start or (_ts(inp.runs[0]["time"]) if inp.runs else meta.exported),
        "end": period_end,
        "reviewed-controls": reviewed,
    }
    if attestations:
        result["attestations"] = attestations
    if log_entries:
        result["assessment-log"] = {"entries": log_entries}
    if observations:
        result["observations"] = observations
    if risks:
        result["risks"] = risks
    if findings:
        result["findings"] = findings
    return {
        "assessment-results": {
            "uuid": ids("assessment-results", inp.snapshot_version),
            "metadata": meta(
                f"{inp.settings.org.name}: handshake contracts assessment results",
                [("signer", "Contract co-signer"), ("owner", "Term owner")],
                mentioned,
            ),
            "import-ap": {"href": bl.OSCAL_AP},
            "results": [result],
        }
    }


def _attestations(
    scoped: list[str], verdicts: dict[str, Any], ids: _Ids, mentioned: set[str]
) -> list[dict[str, Any]]:
    """Per signed contract: who signed its head version (``signer``), and the verdict."""
    attestations = []
    for cid in scoped:
        v = verdicts.get(cid)
        if v is None or v.version is None:
            continue
        signers = sorted(v.signed)
        mentioned.update(signers)
        att: dict[str, Any] = {
            "parts": [
                {
                    "name": "attestation",
                    "ns": NAMESPACE,
                    "title": f"{cid} v{v.version}: {v.state}",
                    "prose": f"{v.reason}. Statement sha256 {v.statement_sha256}; contract "
                    f"sha256 {v.subject_sha256}. Files: contracts/{cid}/v{v.version}/.",
                }
            ]
        }
        if signers:
            att["responsible-parties"] = [
                {"role-id": "signer", "party-uuids": [ids("party", p) for p in signers]}
            ]
        attestations.append(att)
    return attestations


def _observations(inp: OscalInput, ids: _Ids, mentioned: set[str]) -> list[dict[str, Any]]:
    """One per term check of the latest run in the period (its owner as the origin)."""
    latest = inp.runs[-1] if inp.runs else None
    observations: list[dict[str, Any]] = []
    if latest is None:
        return observations
    for f in latest["findings"]:
        if f["contract"] not in inp.scoped:
            continue
        owner = (f.get("owner") or {}).get("id")
        obs: dict[str, Any] = {
            "uuid": ids("observation", latest["run"], f["contract"], f["term"]),
            "title": f"{f['contract']} / {f['term']}: {f['status']}",
            "description": f"{f.get('title') or f['term']}: {f.get('reason', '')}",
            "methods": ["TEST"],
            "types": ["control-objective"],
            "subjects": [
                {
                    "subject-uuid": ids("subject", f["contract"]),
                    "type": "component",
                    "title": f["contract"],
                }
            ],
            "relevant-evidence": [
                {
                    "href": f"findings/{latest['run']}.json",
                    "description": f"findings run {latest['run']}: observed "
                    f"{f.get('observed_text') or f.get('observed')}, limit {f.get('limit')}",
                }
            ]
            + [
                {
                    "href": f"evidence/manifest.toml#{s['id']}",
                    "description": f"evidence snapshot {s['id']} sha256 {s['sha256']}",
                }
                for s in f.get("snapshots", [])
            ],
            "collected": _ts(latest["time"]),
            "expires": _ts(inp.expires),
        }
        if owner:
            mentioned.add(owner)
            obs["origins"] = [{"actors": [{"type": "party", "actor-uuid": ids("party", owner)}]}]
        observations.append(obs)
    return observations


def _poam(inp: OscalInput, meta: _Metadata) -> dict[str, Any]:
    """poam.json: one item per post-mortem action item, its owner as the origin."""
    ids = meta.ids
    mentioned: set[str] = set()
    items = []
    for path in sorted(inp.bundle_files):
        if not (path.startswith("actions/") and path.endswith(".toml")):
            continue
        try:
            doc = tomllib.loads(inp.bundle_files[path].decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        aid = path.removeprefix("actions/").removesuffix(".toml")
        owner = str(doc.get("owner", ""))
        item: dict[str, Any] = {
            "uuid": ids("poam-item", aid),
            "title": str(doc.get("title", aid)),
            "description": f"Action item {aid} on seam {doc.get('seam', '?')}"
            + (f" after {doc['incident']}" if doc.get("incident") else "")
            + f"; status {doc.get('status', 'open')}"
            + (f", due {doc['due']}" if doc.get("due") else "")
            + (f". Outcome: {doc['outcome']}" if doc.get("outcome") else "")
            + ".",
            "props": [
                {"name": "status", "ns": NAMESPACE, "value": _token(str(doc.get("status", "open")))}
            ],
        }
        if owner:
            mentioned.add(owner)
            item["origins"] = [{"actors": [{"type": "party", "actor-uuid": ids("party", owner)}]}]
        items.append(item)
    items += _clock_items(inp, ids, mentioned)
    return {
        "plan-of-action-and-milestones": {
            "uuid": ids("poam", inp.snapshot_version),
            "metadata": meta(
                f"{inp.settings.org.name}: plan of action and milestones (post-mortem action "
                "items and regulatory clocks)",
                [("owner", "Action item or clock owner")],
                mentioned,
            ),
            "system-id": {
                "identifier-type": "https://ietf.org/rfc/rfc4122",
                "id": inp.settings.org.repository_id,
            },
            "poam-items": items
            or [
                {
                    "uuid": ids("poam-item", "none"),
                    "title": "No action items",
                    "description": "The repository has no post-mortem action items and no "
                    "regulatory clock.",
                }
            ],
        }
    }


def _clock_items(inp: OscalInput, ids: Any, mentioned: set[str]) -> list[dict[str, Any]]:
    """Regulatory clocks: each one a milestone with its deadline, owned by the person who
    must stop it (bundle.json "clocks", which both verifiers recompute from the records)."""
    items: list[dict[str, Any]] = []
    for clock in inp.index.get("clocks") or []:
        if not isinstance(clock, dict):
            continue
        cid, owner = str(clock.get("id", "")), clock.get("owner")
        item: dict[str, Any] = {
            "uuid": ids("poam-item", "clock", cid),
            "title": f"Clock {clock.get('kind')} on seam {clock.get('seam')}",
            "description": f"Regulatory clock {cid} ({clock.get('kind')}) on seam "
            f"{clock.get('seam')}: deadline {clock.get('deadline')}, {clock.get('state')} at "
            f"export. Started by record {clock.get('start')}"
            + (f"; stopped by record {clock.get('stop')}" if clock.get("stop") else "")
            + ".",
            "props": [
                {"name": "status", "ns": NAMESPACE, "value": _token(str(clock.get("state")))},
                {"name": "clock-kind", "ns": NAMESPACE, "value": _token(str(clock.get("kind")))},
                {"name": "deadline", "ns": NAMESPACE, "value": str(clock.get("deadline"))},
            ],
        }
        if isinstance(owner, str) and owner:
            mentioned.add(owner)
            item["origins"] = [{"actors": [{"type": "party", "actor-uuid": ids("party", owner)}]}]
        items.append(item)
    return items


def _violations(
    inp: OscalInput, ids: _Ids, mentioned: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from workbench.evidence.closures import fold_violations

    # The one rule of what is open, resolved or exempt (signed closures with authority and
    # time, contract exemptions their approver signed), as the gate and the app judge it: an
    # unsigned legacy closures file or an unsigned [[exemptions]] entry is no deviation.
    inputs = inp.wb.closure_inputs()
    history, _verdicts = fold_violations(inp.runs, inputs, inp.exported_at.date())
    findings, risks = [], []
    status_map = {
        "open": "open",
        "recovered": "closed",
        "resolved": "closed",
        "exempt": "deviation-approved",
    }
    for v in history:
        if v.contract not in inp.scoped:
            continue
        risk_uuid = ids("risk", v.id)
        risk: dict[str, Any] = {
            "uuid": risk_uuid,
            "title": f"{v.contract} / {v.term}: {v.title or v.kind}",
            "description": f"Violation {v.id} opened {_ts(v.opened_at)} in run {v.opened_run}; "
            f"latest status {v.status}: {v.last.get('reason', '')}",
            "statement": f"Term {v.term} of contract {v.contract} does not hold "
            f"(observed {v.last.get('observed_text') or v.last.get('observed')}, limit "
            f"{v.last.get('limit')}).",
            "status": status_map.get(v.state, "open"),
        }
        if v.exemption and v.state == "exempt":
            risk["remediations"] = [
                {
                    "uuid": ids("remediation", v.id),
                    "lifecycle": "recommendation",
                    "title": "Approved exemption",
                    "description": f"Exempt until {v.exemption.get('expires')}, approved by "
                    f"{v.exemption.get('approver')}: {v.exemption.get('reason')}",
                }
            ]
        if v.closure is not None:
            risk["risk-log"] = {
                "entries": [
                    {
                        "uuid": ids("risk-log", v.id),
                        "title": f"{v.closure.action} by {v.closure.closed_by}",
                        "description": v.closure.note or v.closure.reason or v.closure.action,
                        "start": _ts(v.closure.closed_at),
                        "status-change": status_map.get(v.state, "open"),
                    }
                ]
            }
        risks.append(risk)
        findings.append(
            {
                "uuid": ids("finding", v.id),
                "title": f"Violation of {v.contract} / {v.term}",
                "description": f"{v.state}: {v.last.get('reason', '')} (runs "
                + ", ".join(p.run for p in v.points)
                + ")",
                "target": {
                    "type": "objective-id",
                    "target-id": _token(v.contract),
                    "status": {"state": "not-satisfied", "reason": _token(v.state)},
                },
                "related-risks": [{"risk-uuid": risk_uuid}],
            }
        )
    return findings, risks


def _log(inp: OscalInput, ids: _Ids, mentioned: set[str]) -> list[dict[str, Any]]:
    entries = []
    for path in sorted(inp.bundle_files):
        if not path.endswith(".toml") or not path.startswith(("reviews/", "acks/")):
            continue
        try:
            doc = tomllib.loads(inp.bundle_files[path].decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        is_review = path.startswith("reviews/")
        person = str(doc.get("reviewer" if is_review else "person", ""))
        when = doc.get("completed" if is_review else "acknowledged")
        if not person or not isinstance(when, datetime):
            continue
        mentioned.add(person)
        signed = path.removesuffix(".toml") + ".sig" in inp.bundle_files
        entries.append(
            {
                "uuid": ids("log", path),
                "title": f"{'Review' if is_review else 'Acknowledgement'} of "
                f"{doc.get('contract', '?')} by {person}",
                "description": f"{path} ({'signed' if signed else 'UNSIGNED'})"
                + (f": {doc.get('outcome')}" if is_review else f" of commit {doc.get('commit')}"),
                "start": _ts(when),
                "logged-by": [{"party-uuid": ids("party", person)}],
            }
        )
    return entries
