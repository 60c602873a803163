"""Check 7 of ``verify-bundle`` (see ``workbench.bundle.verify``): the signed records
(reviews, acknowledgements, receipts, closures) against their statements and signers, each
record's time by ``governance.record_time``'s rule with the placements bundle.json states,
and which closures and exemptions count by the repository's own rule
(``evidence.closures.fold_violations``). The findings runs are ``bundle.runs``."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.bundle.report import BundleReport
from workbench.bundle.verify_contracts import Registries, signature_report
from workbench.evidence.errors import EvidenceError
from workbench.signing import registry as reg

if TYPE_CHECKING:
    from workbench.governance.records import SigStatus


def verify_records(
    files: Mapping[str, bytes],
    head: reg.Registry,
    registries: Registries,
    repository: str,
    domain: str,
    ns: reg.Namespaces,
    report: BundleReport,
) -> dict[str, SigStatus]:
    """Check every record's statement and signature; returns each record's status."""
    from workbench.signing.record_statement import check_record_statement, closure_fields, is_ack

    problems: list[str] = []
    statuses: dict[str, SigStatus] = {}
    signed = unsigned = 0
    for path in sorted(files):
        if not path.endswith(".toml") or not path.startswith(_RECORD_DIRS):
            continue
        stem = path.removesuffix(".toml")
        raw = files.get(stem + ".statement.json")
        sig = files.get(stem + ".sig")
        statuses[path] = "invalid"
        if raw is None and sig is None:
            unsigned += 1
            statuses[path] = "unsigned"
            continue
        if raw is None or sig is None:
            problems.append(f"{path}: statement or signature missing")
            continue
        closure = closure_fields(path)
        namespace = ns.ack if is_ack(path) else ns.review
        st, problem = check_record_statement(path, files[path], raw, repository)
        if st is None:
            problems.append(f"{path}: {problem}")
            continue
        if closure is not None and f".{st.predicate.person}.{closure[1]}.toml" not in path:
            problems.append(f"{path}: the statement is for another violation, act or person")
            continue
        principal = reg.principal_of(st.predicate.person, domain)
        sr = signature_report(
            stem + ".sig",
            principal,
            sig,
            raw,
            namespace,
            head,
            registries,
            st.predicate.registry.version,
        )
        if sr.status == "invalid":
            problems.append(f"{path}: {sr.message}")
        else:
            signed += 1
            statuses[path] = "valid"
    for path in sorted(files):
        if path.endswith((".statement.json", ".sig")) and path.startswith(_RECORD_DIRS):
            stem = path.removesuffix(".statement.json").removesuffix(".sig")
            if stem + ".toml" not in files:
                problems.append(f"{path}: no record file")
    if problems:
        report.add("records", "fail", "; ".join(problems[:20]))
    else:
        report.add(
            "records",
            "ok" if not unsigned else "warn",
            f"{signed} signed review/acknowledgement/receipt/closure/clock/page/delivery record(s) "
            "verified"
            + (f"; {unsigned} UNSIGNED (made before the key registry)" if unsigned else ""),
        )
    return statuses


_RECORD_DIRS = (
    "reviews/",
    "acks/",
    "reports/receipts/",
    "findings/closures/",
    "clocks/",
    "evidence/registrations/",
    "notify/page-acks/",
    "notify/deliveries/",
)
_TIME_KEYS = ("completed", "acknowledged", "received", "recorded")


def parse_when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _stated_time(path: str, data: bytes) -> datetime | None:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    # A page acknowledgement read back from PagerDuty was acknowledged before it was
    # recorded: a notify record's own time is when it was recorded.
    for key in ("recorded",) if path.startswith("notify/") else _TIME_KEYS:
        value = doc.get(key)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
    return None


def verify_record_times(
    files: Mapping[str, bytes], index: dict[str, Any], exported: datetime, report: BundleReport
) -> None:
    """The time rule of ``governance.record_time`` for every record the bundle carries, with
    the placements bundle.json states (signed by the exporter) and the export time as now."""
    from workbench.governance.record_time import Placement, time_problem

    listed = {e.get("path"): e for e in index.get("records") or [] if isinstance(e, dict)}
    problems: list[str] = []
    checked = 0
    for path in sorted(files):
        if not path.endswith(".toml") or not path.startswith(_RECORD_DIRS):
            continue
        entry = listed.get(path)
        if entry is None:
            problems.append(f"{path}: not listed in bundle.json's records")
            continue
        when = _stated_time(path, files[path])
        if when is None:
            problems.append(f"{path}: states no readable time")
            continue
        placement = Placement(
            parse_when(entry.get("commit_time")), parse_when(entry.get("parent_time"))
        )
        if placement.commit_time is None:
            problems.append(f"{path}: bundle.json gives no commit time for it")
            continue
        what = "the change it acknowledges" if path.startswith("acks/") else "what it answers"
        problem = time_problem(
            when, exported, placement, parse_when(entry.get("answers_time")), what
        )
        if problem is not None:
            problems.append(f"{path}: {problem}")
        checked += 1
    if problems:
        report.add("record-times", "fail", "; ".join(problems[:20]))
    else:
        report.add(
            "record-times",
            "ok",
            f"{checked} record time(s) hold: not before the parent commit or what they "
            "answer, not after their commit or the export (5 minutes' skew)",
        )


def verify_closures(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    head: reg.Registry,
    statuses: dict[str, SigStatus],
    exported: datetime,
    report: BundleReport,
) -> None:
    """Which closures and exemptions count, by the same rule as the repository
    (``evidence.closures.fold_violations``), from the bundle's bytes alone."""
    from workbench.evidence.closures import (
        Authority,
        ClosureInputs,
        fold_violations,
        parse_closure_records,
        resolve_approvers,
    )
    from workbench.evidence.findings import CLOSURES_PATH, parse_closures, parse_run
    from workbench.governance.record_time import Placement
    from workbench.signing.verdict import parse_people

    records, unreadable = parse_closure_records(files)
    legacy_raw = files.get(CLOSURES_PATH)
    if not records and legacy_raw is None:
        return
    runs = []
    for path in sorted(files):
        if path.startswith("findings/") and path.endswith(".json") and path.count("/") == 1:
            try:
                runs.append(parse_run(files[path], path))
            except (ValueError, EvidenceError):
                continue
    people = parse_people(head.files[reg.PEOPLE])
    leads = {t.id: t.lead for t in people.teams}
    policy = head.policy.exemptions
    authority = Authority(
        resolve_approvers(policy.approvers, head.policy.approval.compliance_team, leads),
        policy.max_days,
        tuple(policy.approvers),
    )
    listed = {
        e["path"]: e
        for e in index.get("records") or []
        if isinstance(e, dict) and isinstance(e.get("path"), str)
    }
    placements = {
        p: Placement(parse_when(e.get("commit_time")), parse_when(e.get("parent_time")))
        for p, e in listed.items()
    }
    members = {p.id: p for p in people.people}
    try:
        legacy = parse_closures(legacy_raw.decode("utf-8")) if legacy_raw else []
    except (UnicodeDecodeError, ValueError, EvidenceError) as exc:
        unreadable.append(str(exc))
        legacy = []
    inputs = ClosureInputs(
        records=records,
        signatures={r.path: statuses.get(r.path, "invalid") for r in records},
        placements=placements,
        authority=authority,
        signatures_required=True,
        people_left=lambda pid, day: (m := members.get(pid)) is not None and m.has_left(day),
        known_people=frozenset(members),
        now=exported,
        legacy=legacy,
    )
    history, verdicts = fold_violations(runs, inputs, exported.date())
    exempt = sum(v.state == "exempt" for v in history)
    resolved = sum(v.state == "resolved" for v in history)
    flags = [message for _contract, message in verdicts.flags] + unreadable
    if flags:
        report.add("closures", "fail", "; ".join(flags[:20]))
        return
    ignored = sum(1 for v in history for n in v.notes if n.startswith("ignored"))
    report.add(
        "closures",
        "ok",
        f"{resolved} resolution(s) and {exempt} exemption(s) count, each signed by its person "
        f"with the authority the signed policy names"
        + (f"; {ignored} closure claim(s) do not count" if ignored else ""),
    )
