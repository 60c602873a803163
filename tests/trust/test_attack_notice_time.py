"""A change notice whose window never starts: the change's commit dated in the future.

A tightening change must be acknowledged by its recipients within the ack window, counted
from when the change was made. That time was the commit's *author* date, which is whatever
the author typed (`git commit --date`), while every bound the repository can prove about
time is in committer dates (a record is placed by the committer times of its commit and
its parent). So a lead commits a tightening with `--date` a year ahead and an honest
committer date: the notice's deadline is a year away, the gate's `notice_unacknowledged`
passes although nobody acknowledged within the window, and every acknowledgement made
meanwhile is "before the change it acknowledges". A commit's time for the rules is now
never later than when it was committed (`repo/git.py`, the time of a commit)."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import FIXED_NOW
from workbench.service.core import Workbench

CLAIMS = "claims-agent-to-claims-product"  # aisha.rahman (provider lead) / ben.carter
PATH = f"contracts/{CLAIMS}.toml"
LEAD = "aisha.rahman"


def commit_dated(repo: Path, author_date: datetime, committer_date: datetime) -> str:
    """The tightening, committed with plain git as the lead, with the dates she chose."""
    text = (repo / PATH).read_text(encoding="utf-8")
    assert 'ack_sla = "PT30M"' in text
    (repo / PATH).write_text(text.replace('ack_sla = "PT30M"', 'ack_sla = "PT15M"', 1))
    env = dict(os.environ)
    env |= {
        "GIT_AUTHOR_NAME": "Aisha Rahman",
        "GIT_AUTHOR_EMAIL": f"{LEAD}@meridian.example",
        "GIT_COMMITTER_NAME": "Aisha Rahman",
        "GIT_COMMITTER_EMAIL": f"{LEAD}@meridian.example",
        "GIT_AUTHOR_DATE": author_date.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "GIT_COMMITTER_DATE": committer_date.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
    }
    git = ["git", "-C", str(repo), "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "add", PATH], check=True, env=env)
    subprocess.run([*git, "commit", "-q", "-m", "Page within 15 minutes"], check=True, env=env)
    out = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, env=env)
    return out.stdout.strip()


def notices_check(repo: Path, now: datetime) -> tuple[str, str]:
    gate = Workbench(repo, now=now).obligations.gate.evaluate()
    [check] = [c for c in gate.checks if (c.contract, c.rule) == (CLAIMS, "notice_unacknowledged")]
    return check.outcome, check.message


def test_a_change_dated_a_year_ahead_is_still_overdue_after_its_window(demo_repo: Path) -> None:
    made = FIXED_NOW + timedelta(minutes=10)
    commit_dated(demo_repo, author_date=made + timedelta(days=365), committer_date=made)
    # Nobody acknowledged; the window (48 h in the demo) ran out long ago.
    outcome, message = notices_check(demo_repo, FIXED_NOW + timedelta(days=4))
    assert outcome == "fail", message
    [notice] = Workbench(demo_repo, now=FIXED_NOW + timedelta(days=4)).obligations.notices.statuses(
        contract=CLAIMS
    )
    assert notice.time == made, notice.time


def test_an_honestly_dated_change_is_judged_as_before(demo_repo: Path) -> None:
    """The control: the same change with its real date fails after its window, and passes
    within it; an author date older than the commit (a rebase) keeps its own time."""
    made = FIXED_NOW + timedelta(minutes=10)
    commit_dated(demo_repo, author_date=made - timedelta(hours=1), committer_date=made)
    assert notices_check(demo_repo, FIXED_NOW + timedelta(hours=2))[0] == "pass"
    assert notices_check(demo_repo, FIXED_NOW + timedelta(days=4))[0] == "fail"
    [notice] = Workbench(demo_repo, now=FIXED_NOW + timedelta(days=4)).obligations.notices.statuses(
        contract=CLAIMS
    )
    assert notice.time == made - timedelta(hours=1)


def test_an_acknowledgement_naming_no_commit_does_not_acknowledge_every_later_change(
    demo_repo: Path,
) -> None:
    """An acknowledgement names the change it acknowledges by commit id. One naming an
    empty (or short) id matched every change whose id starts with it, and, as no commit
    resolved from it, it had no "not before the change" bound: signed once, it
    acknowledged every later change on time, changes that did not exist yet included."""
    recipient = "ben.carter"  # the consumer lead: a recipient of the claims seam's notices
    early = FIXED_NOW + timedelta(minutes=1)
    wb = Workbench(demo_repo, now=early, actor=recipient)
    wb.obligations.records.write(
        f"acks/{CLAIMS}/0123456789ab-20261127T090100Z.{recipient}.toml",
        {"contract": CLAIMS, "commit": "", "person": recipient, "acknowledged": early},
        CLAIMS,
        recipient,
        "acknowledge",
        "Acknowledge\n",
        None,
    )
    made = FIXED_NOW + timedelta(minutes=10)
    commit_dated(demo_repo, author_date=made, committer_date=made)
    later = FIXED_NOW + timedelta(days=4)
    [notice] = Workbench(demo_repo, now=later).obligations.notices.statuses(contract=CLAIMS)
    [req] = [r for r in notice.requirements if r.person == recipient]
    assert req.state == "overdue", req
    assert notices_check(demo_repo, later)[0] == "fail"
