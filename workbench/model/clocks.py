"""Regulatory clocks: deadlines that start on an event on a seam (an incident, a material
change, an adverse decision) and run whatever the contract says.

The workbench ships a small library (``LIBRARY``), each definition with its source; the
citations are explained in docs/notify.md ("The clock library"). ``workbench.toml`` and a
contract may declare their own kinds with ``[[clocks]]``; a library kind cannot be
redefined (a commit could otherwise turn Article 73's 15 days into 150).

The rules (deadline, state at now, reminders, who may stop one) are in
``workbench.governance.clocks``. Pure: models and data, no I/O.
"""

from __future__ import annotations

import re

from pydantic import Field

from workbench.model.base import Slug, Strict
from workbench.model.duration import Duration, DurationField
from workbench.model.record_folders import CLOCKS_DIR

# Who owns a running clock: the person a role names on the seam, or a person id.
OWNER_ROLES = ("contract-owner", "compliance-lead", "escalation-primary", "provider-lead")


class ClockDefinition(Strict):
    """A kind of clock: how long it runs from the event that starts it, and what stops it."""

    id: Slug = Field(description="the kind, e.g. eu-ai-act-art73 (used with `clocks start`)")
    title: str = Field(min_length=1, max_length=200)
    duration: DurationField = Field(description="time from the event to the deadline")
    stops: str = Field(
        min_length=1, max_length=300, description="what stops the clock, e.g. the report filed"
    )
    source: str = Field(
        default="", max_length=300, description="where the obligation comes from (citation)"
    )
    owner: str = Field(
        default="contract-owner",
        max_length=120,
        description="who must stop it: contract-owner, compliance-lead, escalation-primary, "
        "provider-lead, or a person id",
    )
    remind_before: DurationField | None = Field(
        default=None,
        description="remind the owner this long before the deadline (default: a quarter of "
        "the duration, at most P2D)",
    )

    def reminder_lead(self) -> Duration:
        if self.remind_before is not None:
            return self.remind_before
        quarter = self.duration.approx() / 4
        hours = max(1, min(48, int(quarter.total_seconds() // 3600)))
        return Duration.parse(f"PT{hours}H")


def _def(**fields: object) -> ClockDefinition:
    return ClockDefinition.model_validate(fields)


# The shipped library. Each `source` is explained, with the text it rests on, in
# docs/notify.md; a duration the source does not fix is marked as the house default.
LIBRARY: dict[str, ClockDefinition] = {
    d.id: d
    for d in (
        _def(
            id="eu-ai-act-art73",
            title="EU AI Act serious-incident report",
            duration="P15D",
            stops="the serious-incident report is submitted to the market surveillance authority",
            source="Regulation (EU) 2024/1689 (AI Act), Art. 73(2): not later than 15 days after "
            "becoming aware of the serious incident",
            owner="compliance-lead",
            remind_before="P3D",
        ),
        _def(
            id="eu-ai-act-art73-death",
            title="EU AI Act serious-incident report (death of a person)",
            duration="P10D",
            stops="the serious-incident report is submitted to the market surveillance authority",
            source="Regulation (EU) 2024/1689 (AI Act), Art. 73(4): not later than 10 days after "
            "becoming aware, where the incident may have caused the death of a person",
            owner="compliance-lead",
            remind_before="P2D",
        ),
        _def(
            id="eu-ai-act-art73-widespread",
            title="EU AI Act serious-incident report (widespread infringement or critical "
            "infrastructure)",
            duration="P2D",
            stops="the serious-incident report is submitted to the market surveillance authority",
            source="Regulation (EU) 2024/1689 (AI Act), Art. 73(3): not later than 2 days after "
            "becoming aware of a widespread infringement or a serious and irreversible "
            "disruption of critical infrastructure (Art. 3(49)(b))",
            owner="compliance-lead",
            remind_before="PT12H",
        ),
        _def(
            id="ecoa-adverse-action",
            title="ECOA / Regulation B adverse-action notice",
            duration="P30D",
            stops="the adverse-action notices (with specific principal reasons) are sent",
            source="Equal Credit Opportunity Act, 12 CFR 1002.9(a)(1)(i) (Regulation B): notify "
            "the applicant within 30 days after receiving a completed application",
            owner="contract-owner",
            remind_before="P5D",
        ),
        _def(
            id="model-revalidation",
            title="Model-risk re-validation after a material change",
            duration="P90D",
            stops="the independent re-validation of the changed model is completed",
            source="Federal Reserve SR 11-7 / OCC 2011-12, section V (validation of material "
            "changes); the 90 days are the house default, not the guidance's: declare your "
            "own kind for another period",
            owner="contract-owner",
            remind_before="P14D",
        ),
        _def(
            id="change-ack-48h",
            title="Acknowledgement of a change by the other side",
            duration="PT48H",
            stops="the receiving lead acknowledges the change",
            source="the handshake article: the model team lead has explicit acknowledgment "
            "responsibility within 48 hours",
            owner="provider-lead",
            remind_before="PT12H",
        ),
        _def(
            id="first-review-30d",
            title="First review of a new handshake contract",
            duration="P30D",
            stops="the first review of the contract is completed",
            source="the handshake article: schedule a 30-day review",
            owner="contract-owner",
            remind_before="P5D",
        ),
    )
}


def definition_problems(
    defs: list[ClockDefinition], declared_before: frozenset[str] = frozenset()
) -> list[tuple[int, str, str]]:
    """(index, code, message) for each `[[clocks]]` entry that may not be declared: one that
    redefines a library kind (or one `declared_before`, i.e. workbench.toml's for a
    contract), or one declared twice."""
    out: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    for i, d in enumerate(defs):
        if d.id in LIBRARY:
            out.append(
                (
                    i,
                    "clock.redefined",
                    f"clock kind {d.id!r} is in the shipped library and cannot be redefined "
                    "(declare a kind of your own with another id)",
                )
            )
        elif d.id in declared_before:
            out.append(
                (
                    i,
                    "clock.redefined",
                    f"clock kind {d.id!r} is declared in workbench.toml; a contract cannot "
                    "redefine it",
                )
            )
        elif d.id in seen:
            out.append((i, "clock.duplicate", f"clock kind {d.id!r} is declared twice"))
        seen.add(d.id)
    return out


# Where clock records live and what a record's file name says: read by the clock rule
# (``governance.clocks``) and by the statement check (``signing.record_statement``).
_NAME = re.compile(
    r"(?P<clock>c-[0-9a-f]{10})/(?P<stamp>\d{8}T\d{6}Z)\.(?P<person>[a-z0-9][a-z0-9._-]*)"
    r"\.(?P<act>start|stop)\.toml"
)


def clock_record_person(path: str) -> str | None:
    m = _NAME.fullmatch(path.removeprefix(CLOCKS_DIR))
    return m.group("person") if m else None


def clock_record_act(path: str) -> tuple[str, str] | None:
    """(clock, act) a clock record's name gives, which its statement must repeat."""
    m = _NAME.fullmatch(path.removeprefix(CLOCKS_DIR))
    return (m.group("clock"), m.group("act")) if m else None
