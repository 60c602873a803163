"""Review and contact-check due dates on both sides of every boundary."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.governance.conftest import CREDIT1, NOW, sample_files, state_of
from workbench.governance.records import parse_records, render, review_path
from workbench.governance.reviews import review_statuses
from workbench.governance.timing import cadence_state, end_of_day
from workbench.model.duration import Duration

SECOND = timedelta(seconds=1)
# applicant-data-to-credit-model was adopted 2026-06-01: first review due through 2026-07-01.
FIRST_DUE = end_of_day(datetime(2026, 7, 1).date())


def status(now: datetime, files: dict[str, bytes] | None = None, kind: str = "review", **kw):  # type: ignore[no-untyped-def]
    files = files or sample_files()
    st = state_of(files, now)
    out = review_statuses(st, {}, parse_records(files, kw.pop("sigs", None)), now, **kw)
    return next(r for r in out if r.contract == CREDIT1 and r.kind == kind)


def test_first_review_is_due_30_days_after_adoption_through_the_end_of_that_day() -> None:
    assert FIRST_DUE.isoformat() == "2026-07-02T00:00:00+00:00"
    assert status(FIRST_DUE - SECOND).state == "due-soon"
    assert status(FIRST_DUE).state == "overdue"


def test_due_soon_starts_exactly_seven_days_before() -> None:
    assert status(FIRST_DUE - timedelta(days=7)).state == "due-soon"
    assert status(FIRST_DUE - timedelta(days=7) - SECOND).state == "ok"


def test_cadence_state_boundaries() -> None:
    soon = Duration.parse("P7D")
    due = NOW
    assert cadence_state(due, due, soon) == "overdue"
    assert cadence_state(due, due - SECOND, soon) == "due-soon"
    assert cadence_state(due, due - timedelta(days=7), soon) == "due-soon"
    assert cadence_state(due, due - timedelta(days=7, seconds=1), soon) == "ok"


def _review(
    when: datetime, person: str = "dana.okafor", contacts: bool = False
) -> dict[str, bytes]:
    path = review_path(CREDIT1, when, person)
    data = render(
        {
            "contract": CREDIT1,
            "reviewer": person,
            "completed": when,
            "contract_sha256": "0" * 64,
            "contacts_confirmed": contacts,
            "outcome": "no-change",
        }
    )
    return {path: data}


def test_next_review_is_one_cadence_after_the_last_completed_review() -> None:
    done = datetime(2026, 8, 31, 10, 0, tzinfo=NOW.tzinfo)
    files = sample_files(**_review(done))
    due = datetime(2026, 11, 30, 10, 0, tzinfo=NOW.tzinfo)  # P3M, calendar months (day kept)
    assert status(due - SECOND, files).state == "due-soon"
    assert status(due, files).due == due
    assert status(due, files).state == "overdue"
    assert status(due - timedelta(days=8), files).state == "ok"


def test_month_end_review_clamps_the_day() -> None:
    done = datetime(2026, 11, 30, 12, 0, tzinfo=NOW.tzinfo)
    files = sample_files(**_review(done))
    assert status(done, files).due == datetime(2027, 2, 28, 12, 0, tzinfo=NOW.tzinfo)


def test_contact_check_follows_its_own_cadence_and_only_confirmed_reviews() -> None:
    done = datetime(2026, 9, 15, 9, 0, tzinfo=NOW.tzinfo)
    files = sample_files(**_review(done, contacts=False))
    check = status(NOW, files, kind="contact-check")
    assert check.state == "overdue" and check.due == end_of_day(datetime(2026, 9, 1).date())
    files = sample_files(**_review(done, contacts=True))
    check = status(NOW, files, kind="contact-check")
    assert check.state == "ok" and check.due == datetime(2026, 12, 15, 9, 0, tzinfo=NOW.tzinfo)


def test_a_review_by_someone_who_may_not_review_does_not_count() -> None:
    files = sample_files(**_review(NOW - timedelta(days=1), person="helen.brooks"))
    s = status(NOW, files)
    assert s.state == "overdue"
    assert "may not review" in s.ignored[0]


@pytest.mark.parametrize(
    ("sig", "required", "counts"),
    [
        ("unsigned", False, True),
        ("unsigned", True, False),
        ("valid", True, True),
        ("invalid", True, False),
        ("invalid", False, False),
    ],
)
def test_signature_rules(sig: str, required: bool, counts: bool) -> None:
    review = _review(NOW - timedelta(days=1))
    files = sample_files(**review)
    path = next(iter(review))
    s = status(NOW, files, sigs={path: sig}, signatures_required=required)
    assert (s.state == "ok") is counts


def test_departed_escalation_contact_makes_the_contact_check_overdue_and_names_the_successor() -> (
    None
):
    text = (sample_files()[f"contracts/{CREDIT1}.toml"]).decode()
    text = text.replace('primary = "sam.ortiz"', 'primary = "marcus.webb"')
    files = sample_files(**{f"contracts/{CREDIT1}.toml": text.encode()})
    files.update(_review(NOW - timedelta(days=1), contacts=True))
    check = status(NOW, files, kind="contact-check")
    assert check.state == "overdue"
    assert "replaced by yuki.tanaka" in check.basis
    assert [d.person for d in check.departed] == ["marcus.webb"]


def test_draft_contracts_are_not_scheduled() -> None:
    text = (
        sample_files()[f"contracts/{CREDIT1}.toml"]
        .decode()
        .replace('status = "active"', 'status = "draft"')
    )
    files = sample_files(**{f"contracts/{CREDIT1}.toml": text.encode()})
    assert status(NOW, files).state == "not-scheduled"
