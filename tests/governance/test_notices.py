"""Change notices: classification, recipients, the 48 h window at ± 1 s, late acks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.governance.conftest import (
    CREDIT1,
    FAIR,
    NOW,
    contract_text,
    history,
    parse,
    state_of,
    version,
)
from workbench.governance.classify import classify
from workbench.governance.notices import change_notices
from workbench.governance.records import ack_path, parse_records, render
from workbench.model.compare import compare_contracts
from workbench.model.settings import Defaults

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=NOW.tzinfo)
DANA = "dana.okafor@meridian.example"
SECOND = timedelta(seconds=1)
WINDOW = timedelta(hours=48)


def classify_edit(cid: str, old: str, new: str) -> tuple[str, list[str]]:
    base = contract_text(cid)
    assert old in base, old
    a, b = parse(cid, base), parse(cid, base.replace(old, new, 1))
    cls, items = classify(compare_contracts(a, b), Defaults())
    return cls, [i.where for i in items]


@pytest.mark.parametrize(
    ("cid", "old", "new", "expected"),
    [
        (CREDIT1, 'fail_after = "PT24H"', 'fail_after = "PT36H"', "loosening"),
        (CREDIT1, 'fail_after = "PT24H"', 'fail_after = "PT12H"', "tightening"),
        (CREDIT1, "percentile = 95", "percentile = 90", "loosening"),
        (
            CREDIT1,
            '"18-25" = { min = 0.08, max = 0.25 }',
            '"18-25" = { min = 0.05, max = 0.25 }',
            "loosening",
        ),
        (
            CREDIT1,
            '"18-25" = { min = 0.08, max = 0.25 }',
            '"18-25" = { min = 0.10, max = 0.25 }',
            "tightening",
        ),
        (CREDIT1, 'ack_sla = "PT30M"', 'ack_sla = "PT45M"', "loosening"),
        (CREDIT1, 'ack_window = "PT48H"', 'ack_window = "PT72H"', "loosening"),
        (CREDIT1, 'primary = "sam.ortiz"', 'primary = "dana.okafor"', "tightening"),
        (CREDIT1, 'title = "Data freshness SLA"', 'title = "Feature freshness SLA"', "editorial"),
        (CREDIT1, "# Seam 1 of the credit chain", "# Seam one of the credit chain", "editorial"),
        (CREDIT1, 'cosigners = ["grace.whitfield"]', "cosigners = []", "loosening"),
        (FAIR, "min_pass_rate = 0.99", "min_pass_rate = 0.95", "loosening"),
        (FAIR, "min_pass_rate = 0.99", "min_pass_rate = 0.995", "tightening"),
        (FAIR, "warn = 0.001\nfail = 0.01", "warn = 0.001\nfail = 0.02", "loosening"),
    ],
)
def test_classification(cid: str, old: str, new: str, expected: str) -> None:
    if old not in contract_text(cid):
        pytest.skip(f"sample content no longer has {old!r}")
    assert classify_edit(cid, old, new)[0] == expected


def test_threshold_and_range_changes_loosen() -> None:
    cid = "credit-model-to-loan-decisioning"
    text = contract_text(cid)
    assert classify_edit(cid, "value = 0.18", "value = 0.17")[0] == "loosening"
    assert classify_edit(cid, "range_max = 0.60", "range_max = 0.70")[0] == "loosening"
    assert classify_edit(cid, "range_max = 0.60", "range_max = 0.50")[0] == "tightening"
    assert "fail = 0.25" in text
    assert classify_edit(cid, "fail = 0.25", "fail = 0.30")[0] == "loosening"


def test_assertion_changes_are_flagged_for_coverage() -> None:
    base = contract_text(FAIR)
    edited = base.replace(
        "The model must not use protected characteristics as features.",
        "The model must not use protected characteristics or their proxies as features.",
    )
    cls, items = classify(compare_contracts(parse(FAIR, base), parse(FAIR, edited)), Defaults())
    assert cls == "tightening"
    assert [i.assertion for i in items] == [True]
    assert "no-protected-features" in items[0].where
    removed = base.replace(
        '[[terms.assertions]]\nid = "four-fifths-rule"',
        '[[terms.assertions]]\nid = "four-fifths-rule-x"',
    )
    cls, items = classify(compare_contracts(parse(FAIR, base), parse(FAIR, removed)), Defaults())
    assert cls == "loosening" and any(i.reason == "assertion removed" for i in items)


def _tightening(now: datetime, acks: dict[str, bytes] | None = None):  # type: ignore[no-untyped-def]
    base = contract_text(CREDIT1)
    tighter = base.replace('fail_after = "PT24H"', 'fail_after = "PT12H"')
    hist = history(
        CREDIT1,
        version(CREDIT1, base, T0 - timedelta(days=30), DANA, "aaaaaaaa"),
        version(CREDIT1, tighter, T0, DANA, "bbbbbbbb", "Tighten"),
    )
    records = parse_records(acks or {})
    return change_notices(state_of(), hist, records, now)


def _ack(
    person: str,
    when: datetime,
    commit: str = "bbbbbbbb" * 5,
    coverage: bool = False,
    cid: str = CREDIT1,
) -> dict[str, bytes]:
    return {
        ack_path(cid, commit, person): render(
            {
                "contract": cid,
                "commit": commit,
                "person": person,
                "acknowledged": when,
                "coverage_confirmed": coverage,
            }
        )
    }


def test_notice_goes_to_the_other_side_lead_and_the_notify_list_never_the_author() -> None:
    [notice] = _tightening(T0)
    assert notice.author == "dana.okafor"
    assert notice.recipients == ["ravi.iyer"]
    assert notice.classification == "tightening"
    assert notice.id == f"{CREDIT1}#1"


def test_ack_window_is_48_hours_to_the_second() -> None:
    assert _tightening(T0 + WINDOW - SECOND)[0].state == "pending"
    overdue = _tightening(T0 + WINDOW)[0]
    assert overdue.state == "overdue"
    finding = overdue.finding()
    assert finding is not None and "escalate to sam.ortiz" in finding and "ravi.iyer" in finding


def test_an_ack_inside_the_window_is_on_time_and_one_second_late_is_late() -> None:
    on_time = _tightening(NOW, _ack("ravi.iyer", T0 + WINDOW - SECOND))[0]
    assert on_time.state == "acknowledged"
    late = _tightening(NOW, _ack("ravi.iyer", T0 + WINDOW + SECOND))[0]
    assert late.state == "acknowledged-late"
    assert late.late[0].person == "ravi.iyer"


def test_an_ack_by_someone_else_does_not_count() -> None:
    assert _tightening(NOW, _ack("lena.fischer", T0))[0].state == "overdue"


def test_an_ack_commit_prefix_matches_the_notice() -> None:
    assert _tightening(NOW, _ack("ravi.iyer", T0, commit="bbbbbbbbbbbb"))[0].state == "acknowledged"


def test_loosening_needs_co_signatures_not_an_ack() -> None:
    base = contract_text(CREDIT1)
    looser = base.replace('fail_after = "PT24H"', 'fail_after = "PT36H"')
    hist = history(
        CREDIT1,
        version(CREDIT1, base, T0 - timedelta(days=1), DANA, "aaaaaaaa"),
        version(CREDIT1, looser, T0, DANA, "cccccccc"),
    )
    for approved, state in ((None, "re-sign"), (False, "re-sign"), (True, "re-signed")):
        [n] = change_notices(state_of(), hist, parse_records({}), NOW, approved={CREDIT1: approved})
        assert n.classification == "loosening"
        assert n.state == state
        assert all(r.kind == "cosign" for r in n.requirements)


def test_editorial_change_needs_nothing() -> None:
    base = contract_text(CREDIT1)
    hist = history(
        CREDIT1,
        version(CREDIT1, base, T0 - timedelta(days=1), DANA, "aaaaaaaa"),
        version(CREDIT1, base + "\n# a comment\n", T0, DANA, "dddddddd"),
    )
    [n] = change_notices(state_of(), hist, parse_records({}), NOW)
    assert n.state == "no-action" and n.requirements == [] and n.recipients == []


def test_assertion_change_needs_the_engineering_lead_to_confirm_coverage() -> None:
    base = contract_text(FAIR)
    edited = base.replace(
        "at least one specific adverse-action reason code",
        "at least two adverse-action reason codes",
    )
    sofia = "sofia.marquez@meridian.example"
    commit = "eeeeeeee" * 5
    hist = history(
        FAIR,
        version(FAIR, base, T0 - timedelta(days=1), sofia, "ffffffff"),
        version(FAIR, edited, T0, sofia, "eeeeeeee"),
    )
    [n] = change_notices(state_of(), hist, parse_records({}), T0 + WINDOW - SECOND)
    kinds = {(r.kind, r.person) for r in n.requirements}
    assert ("coverage", "priya.nair") in kinds and ("ack", "grace.whitfield") in kinds
    assert n.assertion_change and n.state == "pending"
    acks = {
        **_ack("grace.whitfield", T0 + timedelta(hours=1), commit, cid=FAIR),
        **_ack("priya.nair", T0 + timedelta(hours=2), commit, coverage=False, cid=FAIR),
    }
    [n] = change_notices(state_of(), hist, parse_records(acks), T0 + WINDOW)
    assert n.state == "overdue"  # an ack without the coverage confirmation is not enough
    acks.update(_ack("priya.nair", T0 + timedelta(hours=2), commit, coverage=True, cid=FAIR))
    [n] = change_notices(state_of(), hist, parse_records(acks), T0 + WINDOW)
    assert n.state == "acknowledged"
