"""The page test: if this seam's behaviour changed tonight, who would be paged, and how fast?

The article's test of whether governance is real: one named person, a sub-hour SLA. Pure,
and the only implementation: the gate's ``page_test`` rule, the evaluation's ``page-test``
finding, the seam map's ``page`` mark, ``workbench show`` and the app all call it.

* ``fail``: the escalation's ``ack_sla`` is longer than ``[defaults] page_ack_sla_max``
  (PT1H), or neither the primary nor the backup is a current person;
* ``warn``: the primary is not a current person (unknown, or has left) but the backup is:
  someone answers, later than promised, and the contract must name a new primary;
* ``warn`` too: the repository declares no ``[channels]`` at all (a fresh ``workbench
  init``), so nothing could send the page;
* ``pass``: the primary is a current person, the SLA is within the limit and channels are
  declared (a contract naming an undeclared one is a validation error, ``channel.unknown``).

Where pages really left the machine (``workbench notify``), the test also answers "how
fast?" from what happened: given the seam's page states (``governance.pages``), a page
nobody acknowledged within ``ack_sla`` is a finding on the seam and fails the test until
someone acknowledges it (late); the last acknowledged page's time-to-acknowledge is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from workbench.model.contract import Contract
from workbench.model.state import GovernanceState

if TYPE_CHECKING:
    from workbench.governance.pages import PageView

PageStatus = Literal["pass", "warn", "fail"]


@dataclass
class PageTest:
    contract: str
    status: PageStatus
    reason: str
    reachable: str | None  # the person who would acknowledge
    ack_sla: str
    limit: str
    missed: list[str] = field(default_factory=list)  # pages nobody acknowledged in time
    last: str = ""  # the latest page and its time-to-acknowledge


def page_test(
    state: GovernanceState,
    contract: Contract,
    today: date,
    pages: Sequence[PageView] | None = None,
    now: datetime | None = None,
) -> PageTest:
    """The configuration test, and (with the seam's `pages` at `now`) what happened."""
    result = _configured(state, contract, today)
    if not pages or now is None:
        return result
    mine = sorted((p for p in pages if p.contract == contract.id), key=lambda p: p.paged_at)
    result.missed = [p.describe(now) for p in mine if p.missed]
    answered = [p for p in mine if p.ack is not None]
    if answered:
        result.last = answered[-1].describe(now)
    if result.missed:
        result.status = "fail"
        result.reason = "; ".join([*result.missed, result.reason])
    elif result.last:
        result.reason = f"{result.reason}; last {result.last}"
    return result


def _configured(state: GovernanceState, contract: Contract, today: date) -> PageTest:
    e = contract.escalation
    # workbench.toml's maximum, never beyond the signed limit.
    max_sla = state.policy.window("page_ack_sla_max")
    limit = f"one current named person acknowledges within ≤ {max_sla.human()}"

    def current(pid: str) -> bool:
        p = state.people.get(pid)
        return p is not None and not p.has_left(today)

    def result(status: PageStatus, reason: str, reachable: str | None) -> PageTest:
        return PageTest(contract.id, status, reason, reachable, e.ack_sla.text, limit)

    if e.ack_sla > max_sla:
        return result(
            "fail",
            f"acknowledgement SLA {e.ack_sla.human()} is longer than {max_sla.human()}",
            None,
        )
    # Who would be paged is half the answer; "through what" is the other: with no channel
    # declared at all, `workbench notify` has nowhere to send (docs/notify.md, Channels).
    nowhere = ""
    if state.settings is not None and not state.settings.channels:
        nowhere = (
            "workbench.toml declares no [channels], so nothing can send this page: "
            f"declare the channel {e.channel.partition(':')[0]!r} (docs/notify.md)"
        )
    if current(e.primary):
        if nowhere:
            return result(
                "warn", f"{e.primary} would be paged via {e.channel}, but {nowhere}", e.primary
            )
        return result("pass", f"{e.primary} is paged via {e.channel}", e.primary)
    if current(e.backup):
        return result(
            "warn",
            f"primary {e.primary} is not a current person; backup {e.backup} would be paged"
            + (f"; {nowhere}" if nowhere else ""),
            e.backup,
        )
    return result(
        "fail", f"neither primary {e.primary} nor backup {e.backup} is a current person", None
    )
