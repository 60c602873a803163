"""Pages and deliveries in a bundle: which ``notify/`` records an export carries, and
verify-bundle's ``pages`` check, which judges them from the bundle's bytes alone by the
repository's rules: which delivery records count (``governance.deliveries``), each page's
state, who may acknowledge it and a missed acknowledgement (``governance.pages``), and the
page test with what happened (``governance.paging``).

The signatures of the records are checked with every other record (``verify_records``),
their times against their commits too (``verify_record_times``); this check uses those
statuses and placements, never a second copy of either rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.bundle import layout as bl
from workbench.bundle.report import BundleReport
from workbench.bundle.verify_records import parse_when
from workbench.model.record_folders import DELIVERIES_DIR, NOTIFY_RECORD_DIRS
from workbench.signing import registry as reg

if TYPE_CHECKING:
    from workbench.governance.pages import PageView
    from workbench.governance.records import SigStatus
    from workbench.model.contract import Contract


def notify_records(files: Mapping[str, bytes], scoped: set[str]) -> list[tuple[str, str]]:
    """(path, kind) of every page acknowledgement and delivery record of the seams in
    scope, whatever the period: a page answered after the period still judges the seam.
    A delivery that names no contract (the weekly summary) is the organisation's and goes
    with every bundle."""
    out: list[tuple[str, str]] = []
    for path in sorted(files):
        if not path.startswith(NOTIFY_RECORD_DIRS) or not path.endswith(".toml"):
            continue
        try:
            contract = tomllib.loads(files[path].decode("utf-8")).get("contract", "")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            contract = None  # unreadable: shipped with its seam's records only if scoped
        delivery = path.startswith(DELIVERIES_DIR)
        if contract in scoped or (delivery and contract == ""):
            out.append((path, "delivery" if delivery else "page-ack"))
    return out


def verify_pages(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    head: reg.Registry,
    statuses: Mapping[str, SigStatus],
    exported: datetime,
    report: BundleReport,
) -> None:
    """The pages the bundle carries, by the same rules as the repository, against what
    bundle.json states; a missed acknowledgement (or a page test that fails) is a warning,
    a failure with --strict: the bundle reports it truthfully."""
    from workbench.evidence.run_chain import resolve_runners
    from workbench.governance.deliveries import (
        DeliveryInputs,
        counting_deliveries,
        paged_violations,
        pages_sent,
        parse_deliveries,
    )
    from workbench.governance.pages import PageInputs, page_states, parse_page_acks
    from workbench.governance.record_time import Placement
    from workbench.signing.verdict import parse_people

    deliveries, unreadable = parse_deliveries(files)
    acks, bad_acks = parse_page_acks(files)
    stated = index.get("pages")
    if not deliveries and not acks and not unreadable and not bad_acks and not stated:
        return
    people = parse_people(head.files[reg.PEOPLE])
    members = {p.id: p for p in people.people}
    day = exported.date()

    def people_left(pid: str, when: Any) -> bool:
        return (m := members.get(pid)) is not None and m.has_left(when)

    placements = {
        p: Placement(parse_when(e.get("commit_time")), parse_when(e.get("parent_time")))
        for e in index.get("records") or []
        if isinstance(e, dict) and isinstance(p := e.get("path"), str)
    }
    counting = counting_deliveries(
        DeliveryInputs(
            records=deliveries,
            signatures={r.path: statuses.get(r.path, "invalid") for r in deliveries},
            placements=placements,
            signatures_required=True,
            known_people=frozenset(members),
            people_left=people_left,
            now=exported,
        )
    )
    contracts = _bundle_contracts(files)
    verdicts = page_states(
        PageInputs(
            violations=paged_violations(counting.by_key),
            contracts=contracts,
            sent=pages_sent(counting.by_key),
            acks=acks,
            signatures={a.path: statuses.get(a.path, "invalid") for a in acks},
            placements=placements,
            signatures_required=True,
            runners=resolve_runners(
                list(head.policy.evaluation.runners),
                {p.id: p.team for p in people.people},
                lambda pid: people_left(pid, day),
            ),
            known_people=frozenset(members),
            people_left=people_left,
            now=exported,
        )
    )
    problems = [m for _c, m in counting.flags + verdicts.flags] + unreadable + bad_acks
    problems += _stated_problems(verdicts.pages, stated, exported)
    if problems:
        report.add("pages", "fail", "; ".join(problems[:20]))
        return
    _report_pages(files, head, contracts, verdicts.pages, len(deliveries), exported, report)


def _stated_problems(pages: list[PageView], stated: Any, exported: datetime) -> list[str]:
    """bundle.json's "pages" against the pages the records give."""
    from workbench.governance.pages import page_entry

    mine = sorted((page_entry(p, exported) for p in pages), key=lambda e: str(e["violation"]))
    theirs = sorted(
        (e for e in stated or [] if isinstance(e, dict)), key=lambda e: str(e.get("violation"))
    )
    if mine == theirs:
        return []
    ids = {str(e.get("violation")) for e in theirs} ^ {str(e["violation"]) for e in mine}
    changed = [
        str(a["violation"])
        for a in mine
        for b in theirs
        if a["violation"] == b.get("violation") and a != b
    ]
    return [
        "bundle.json states other pages than its records give"
        + (f" (only on one side: {', '.join(sorted(ids))})" if ids else "")
        + (f" (another state or time: {', '.join(changed)})" if changed else "")
    ]


def _report_pages(
    files: Mapping[str, bytes],
    head: reg.Registry,
    contracts: Mapping[str, Contract],
    pages: list[PageView],
    deliveries: int,
    exported: datetime,
    report: BundleReport,
) -> None:
    """The page test of each paged seam, from the signed people and floor and the
    workbench.toml at export (``governance.paging.page_test``), with the pages at export."""
    from workbench.governance.paging import page_test

    by_contract: dict[str, list[PageView]] = {}
    for p in pages:
        by_contract.setdefault(p.contract, []).append(p)
    state = _state_at_export(files, head, contracts, exported)
    failing = []
    for cid, mine in sorted(by_contract.items()):
        doc = state.contracts.get(cid) if state is not None else None
        if doc is None:
            continue
        test = page_test(state, doc.contract, exported.date(), mine, exported)
        if test.status == "fail":
            failing.append(f"{cid}: {test.reason}")
    missed = sum(p.missed for p in pages)
    late = sum(p.state == "acknowledged-late" for p in pages)
    text = (
        f"{len(pages)} page(s) from {deliveries} delivery record(s), each signed by its "
        "sender, each acknowledgement by someone the rule lets acknowledge"
        + (f"; {late} acknowledged late" if late else "")
    )
    if failing or missed:
        report.add(
            "pages",
            "fail" if report.strict else "warn",
            text + f"; {missed} MISSED at export; page test FAILS: " + "; ".join(failing[:10]),
        )
    else:
        report.add("pages", "ok", text)


def _state_at_export(
    files: Mapping[str, bytes],
    head: reg.Registry,
    contracts: Mapping[str, Contract],
    exported: datetime,
) -> Any:
    """The state the page test reads: workbench.toml, the registry head's signed
    people.toml and floor, the contracts at export."""
    from workbench.model.state import load_state
    from workbench.signing.floor import floor_in

    try:
        floor = floor_in(head.files[reg.POLICY], "the registry head's policy.toml")
    except (KeyError, reg.RegistryError):
        return None
    raw = {
        bl.SETTINGS: files.get(bl.SETTINGS, b""),
        reg.PEOPLE: head.files[reg.PEOPLE],
    }
    for cid in contracts:
        path = bl.current_path(cid)
        if path not in files:
            versions = [
                p
                for p in files
                if p.startswith(f"contracts/{cid}/v") and p.endswith("contract.toml")
            ]
            path = max(versions, key=lambda p: int(p.split("/")[2][1:]))
        raw[f"contracts/{cid}.toml"] = files[path]
    return load_state(raw, exported.date(), floor=floor)


def _bundle_contracts(files: Mapping[str, bytes]) -> dict[str, Contract]:
    from workbench.bundle.verify_clocks import contracts_at_export

    return contracts_at_export(files)
