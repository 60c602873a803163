"""The page test: if this seam's behaviour changed tonight, who would be paged, and how fast?

The article's test of whether governance is real: one named person, a sub-hour SLA. Pure,
and the only implementation: the gate's ``page_test`` rule, the evaluation's ``page-test``
finding, the seam map's ``page`` mark, ``workbench show`` and the app all call it.

* ``fail``: the escalation's ``ack_sla`` is longer than ``[defaults] page_ack_sla_max``
  (PT1H), or neither the primary nor the backup is a current person;
* ``warn``: the primary is not a current person (unknown, or has left) but the backup is:
  someone answers, later than promised, and the contract must name a new primary;
* ``pass``: the primary is a current person and the SLA is within the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from workbench.model.contract import Contract
from workbench.model.state import GovernanceState

PageStatus = Literal["pass", "warn", "fail"]


@dataclass
class PageTest:
    contract: str
    status: PageStatus
    reason: str
    reachable: str | None  # the person who would acknowledge
    ack_sla: str
    limit: str


def page_test(state: GovernanceState, contract: Contract, today: date) -> PageTest:
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
    if current(e.primary):
        return result("pass", f"{e.primary} is paged via {e.channel}", e.primary)
    if current(e.backup):
        return result(
            "warn",
            f"primary {e.primary} is not a current person; backup {e.backup} would be paged",
            e.backup,
        )
    return result(
        "fail", f"neither primary {e.primary} nor backup {e.backup} is a current person", None
    )
