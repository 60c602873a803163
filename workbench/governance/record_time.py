"""Whether a record's stated time holds (pure: times in, a reason or None out).

A signed record (review, acknowledgement, receipt, closure, exemption request or approval)
states when it was made. That time is the signer's own clock, so on its own it proves
nothing; what the repository can prove are bounds around it:

* not before its parent commit: the record's commit builds on that commit, so the record
  cannot have been made before it existed (committer time of the parent);
* not before the thing it answers: an acknowledgement not before the notice's commit, a
  review not before the commit of the contract version it reviewed, an exemption approval
  not before the request it approves, a closure not before the violation opened;
* not after its own commit (the record was written, then committed);
* not after now: a record from the future is forged, or - under a what-if ``--now`` in the
  past - not made yet at that moment.

Every bound allows ``SKEW`` (five minutes) for clocks that disagree a little between
machines. A record that breaks a bound does not count anywhere (reviews, notices,
violations, the gate, both bundle verifiers), and is flagged with the reason returned here.
See docs/obligations.md, "What a signed local time can and cannot prove".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from workbench.governance.timing import iso

SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Placement:
    """Where git puts a record: the committer times of the commit that last wrote its bytes
    and of that commit's first parent (None: not committed yet, or a root commit)."""

    commit_time: datetime | None = None
    parent_time: datetime | None = None


def time_problem(
    recorded: datetime,
    now: datetime,
    placement: Placement | None = None,
    answers: datetime | None = None,
    answers_what: str = "the thing it answers",
) -> str | None:
    """Why the record's time ``recorded`` does not hold, or None when it does."""
    placement = placement or Placement()
    if placement.parent_time is not None and recorded < placement.parent_time - SKEW:
        return (
            f"dated {iso(recorded)}, before its parent commit ({iso(placement.parent_time)}): "
            "backdated"
        )
    if answers is not None and recorded < answers - SKEW:
        return f"dated {iso(recorded)}, before {answers_what} ({iso(answers)}): backdated"
    if placement.commit_time is not None and recorded > placement.commit_time + SKEW:
        return (
            f"dated {iso(recorded)}, after its own commit ({iso(placement.commit_time)}): "
            "the time was written after the fact"
        )
    if recorded > now + SKEW:
        return (
            f"dated {iso(recorded)}, after now ({iso(now)}): future-dated, or not yet made "
            "at the moment asked about"
        )
    return None
