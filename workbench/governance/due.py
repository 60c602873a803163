"""The Due list (`workbench due`, the app's Due screen; pure): what somebody must do, from
the reviews, notices, action items and diagnostics at now, most urgent first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from workbench.governance.timing import iso

if TYPE_CHECKING:
    from workbench.governance.actions import ActionView
    from workbench.governance.diagnostic import SeamDiagnostic
    from workbench.governance.notices import Notice
    from workbench.governance.reviews import ReviewStatus
    from workbench.model.state import GovernanceState


@dataclass
class DueItem:
    """One thing somebody must do, for the TUI's Due screen and `workbench due`."""

    kind: str  # review | contact-check | ack | coverage | re-sign | action | diagnostic
    state: str  # overdue | due-soon | pending | lint
    contract: str
    ref: str  # review kind, notice id, action id, seam id
    people: list[str]
    due: datetime | None
    what: str
    command: str

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "state": self.state,
            "contract": self.contract,
            "ref": self.ref,
            "people": self.people,
            "due": iso(self.due),
            "what": self.what,
            "command": self.command,
        }


_STATE_ORDER = {"overdue": 0, "pending": 1, "due-soon": 2, "lint": 3}


def due_items(
    state: GovernanceState,
    reviews: list[ReviewStatus],
    pending_notices: list[Notice],
    actions: list[ActionView],
    diagnostics: dict[str, SeamDiagnostic],
    now: datetime,
) -> list[DueItem]:
    """Everything due, most urgent first: overdue, pending, due soon, then lint."""
    out = _reviews(reviews) + _notices(state, pending_notices) + _actions(actions)
    out += _diagnostics(diagnostics)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    out.sort(key=lambda i: (_STATE_ORDER.get(i.state, 9), i.due or far, i.contract, i.ref))
    return out


def _reviews(reviews: list[ReviewStatus]) -> list[DueItem]:
    return [
        DueItem(
            r.kind, r.state, r.contract, r.term or r.kind, r.reviewers, r.due, r.basis, r.action
        )
        for r in reviews
        if r.state in ("overdue", "due-soon")
    ]


def _notices(state: GovernanceState, pending: list[Notice]) -> list[DueItem]:
    out: list[DueItem] = []
    for n in pending:
        doc = state.contracts.get(n.contract)
        leads = (
            [doc.contract.parties.provider_lead, doc.contract.parties.consumer_lead] if doc else []
        )
        for req in n.open_requirements():
            kind = "re-sign" if req.kind == "cosign" else req.kind
            people = leads if req.kind == "cosign" else [req.person]
            st = "overdue" if req.state == "overdue" else "pending"
            out.append(
                DueItem(
                    kind,
                    st,
                    n.contract,
                    n.id,
                    people,
                    req.deadline,
                    f"{req.describe()}: {n.summary}",
                    n.action,
                )
            )
    return out


def _actions(actions: list[ActionView]) -> list[DueItem]:
    out: list[DueItem] = []
    for a in actions:
        if a.state in ("overdue", "due-soon"):
            out.append(
                DueItem(
                    "action",
                    a.state,
                    a.seam,
                    a.id,
                    [a.owner],
                    a.due,
                    a.title,
                    f"{a.owner}: edit {a.path}",
                )
            )
        if a.problems and any(p.severity == "error" for p in a.problems):
            out.append(
                DueItem(
                    "action",
                    "lint",
                    a.seam,
                    a.id,
                    [a.owner] if a.owner else [],
                    a.due,
                    "; ".join(p.message for p in a.problems if p.severity == "error"),
                    f"fix {a.path} (`workbench actions lint`)",
                )
            )
    return out


def _diagnostics(diagnostics: dict[str, SeamDiagnostic]) -> list[DueItem]:
    return [
        DueItem(
            "diagnostic",
            "pending",
            sid,
            sid,
            [p for p in (d.provider_lead, d.consumer_lead) if p],
            None,
            "; ".join(f.message for f in d.flags),
            f"both leads: `workbench diagnose {sid}`",
        )
        for sid, d in diagnostics.items()
        if d.state == "mismatch"
    ]
