"""The events `workbench notify` plans (pages, escalations, notices, reviews, the weekly
summary, clocks), each built from the repository's state: the planning half of
``NotifyService``, kept apart so each module holds one job."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from workbench.evidence.checks import VIOLATING
from workbench.governance import pages as pg
from workbench.governance.timing import iso
from workbench.model.channels import split_ref
from workbench.notify.events import Event

if TYPE_CHECKING:
    from workbench.evidence.findings import Violation
    from workbench.model.contract import Contract
    from workbench.model.state import GovernanceState

NOTIFY_DIR = "notify/"


class NotifyEvents:
    """Builds the events to deliver; mixed into ``NotifyService`` (which supplies wb,
    records, config and the page verdicts)."""

    wb: Any

    if TYPE_CHECKING:  # supplied by NotifyService

        @property
        def obligations(self) -> Any: ...

        def violations(self) -> list[Violation]: ...

        def page_verdicts(self, *, history: bool = False) -> pg.PageVerdicts: ...

    def _person_route(self, state: GovernanceState, person_id: str) -> tuple[str, str]:
        """(channel, target) for a message to one person, or ("", why)."""
        settings = state.settings
        assert settings is not None
        name = settings.notify.people
        if not name:
            return "", "no [notify] people channel in workbench.toml for messages to one person"
        channel = settings.channels.get(name)
        person = state.people.get(person_id)
        if channel is None or person is None:
            return "", f"cannot reach {person_id}"
        return name, person.email if channel.kind == "email" else person_id

    def _person_event(
        self,
        state: GovernanceState,
        person_id: str,
        key: str,
        kind: str,
        subject: str,
        text: str,
        **extra: Any,
    ) -> Event | None:
        person = state.people.get(person_id)
        if person is None or person.has_left(self.wb.now.date()):
            return None
        name, target = self._person_route(state, person_id)
        return Event(
            key,
            kind,
            name,
            target,
            subject,
            text,
            recipient=person_id,
            recipient_name=person.name,
            recipient_email=person.email,
            **extra,
        )

    def _events(self, state: GovernanceState) -> list[Event]:
        out: list[Event] = []
        out += self._page_events(state)
        out += self._notice_events(state)
        out += self._review_events(state)
        out += self._weekly_events(state)
        out += self._clock_events(state)
        return out

    def _page_event(
        self, state: GovernanceState, v: Violation, c: Contract, role: str, person: str, kind: str
    ) -> Event:
        name, target = split_ref(c.escalation.channel)
        p = state.people[person]
        channel = state.settings.channels.get(name) if state.settings else None
        if channel is not None and channel.kind == "email":
            target = p.email
        reason = str(v.last.get("reason", ""))
        subject = (
            f"[{v.worst_status.upper()}] {c.id} / {v.term}: {reason}"
            if kind == "page"
            else f"[ESCALATED] {c.id} / {v.term}: {c.escalation.primary} did not acknowledge "
            f"within {c.escalation.ack_sla.text}"
        )
        text = (
            f"Violation {v.id} of term {v.term} on seam {c.id} opened {iso(v.opened_at)} "
            f"({v.worst_status}): {reason}\n"
            f"You ({p.name}) are the escalation {role}; acknowledge within "
            f"{c.escalation.ack_sla.text}: workbench page ack {v.id}\n"
            f"Contract owner: {c.owner}."
        )
        return Event(
            f"page:{v.id}:{role}",
            kind,
            name,
            target,
            subject,
            text,
            recipient=person,
            recipient_name=p.name,
            recipient_email=p.email,
            contract=c.id,
            violation=v.id,
            role=role,
            details={
                "term": v.term,
                "status": v.worst_status,
                "ack_sla": c.escalation.ack_sla.text,
                "opened": iso(v.opened_at),
            },
        )

    def _page_events(self, state: GovernanceState) -> list[Event]:
        out: list[Event] = []
        today = self.wb.now.date()
        verdicts = self.page_verdicts(history=True)
        views = {p.violation: p for p in verdicts.pages}

        def current(pid: str) -> bool:
            p = state.people.get(pid)
            return p is not None and not p.has_left(today)

        for v in self.violations():
            doc = state.contracts.get(v.contract)
            if doc is None:
                continue
            c = doc.contract
            view = views.get(v.id)
            if v.is_open and v.worst_status in VIOLATING and v.id not in verdicts.acks:
                e = c.escalation
                if current(e.primary):
                    out.append(self._page_event(state, v, c, "primary", e.primary, "page"))
                    if (
                        view is not None
                        and view.state == "missed"
                        and current(e.backup)
                        and e.backup != e.primary
                    ):
                        out.append(self._page_event(state, v, c, "backup", e.backup, "escalation"))
                elif current(e.backup):
                    out.append(self._page_event(state, v, c, "backup", e.backup, "page"))
            if view is None:
                continue
            # PagerDuty's side of the incident follows the workbench's.
            for sent in view.paged:
                channel = state.settings.channels.get(sent.channel) if state.settings else None
                if channel is None or channel.kind != "pagerduty":
                    continue
                _name, target = split_ref(c.escalation.channel)
                ack = verdicts.acks.get(v.id)
                if not v.is_open:
                    out.append(self._pd_event(v, c, sent, target, "resolve"))
                elif ack is not None and ack.source == "workbench":
                    out.append(self._pd_event(v, c, sent, target, "acknowledge"))
        return out

    def _pd_event(
        self, v: Violation, c: Contract, sent: pg.PageSent, target: str, action: str
    ) -> Event:
        return Event(
            f"pd-{action}:{v.id}:{sent.role}",
            f"pd-{action}",
            sent.channel,
            target,
            f"{action} {c.id} / {v.term} ({v.id})",
            f"The workbench records violation {v.id} as "
            + ("acknowledged." if action == "acknowledge" else f"{v.state}."),
            recipient=sent.recipient,
            contract=c.id,
            violation=v.id,
            role=sent.role,
            action=action,
        )

    def _notice_events(self, state: GovernanceState) -> list[Event]:
        settings = state.settings
        assert settings is not None
        out: list[Event] = []
        now = self.wb.now
        lead = settings.notify.remind_ack_before.approx()
        for n in self.obligations.notices.statuses(pending_only=True):
            doc = state.contracts.get(n.contract)
            if doc is None:
                continue
            c = doc.contract
            commit = n.commit[:12]
            if c.change_protocol.channel:
                name, target = split_ref(c.change_protocol.channel)
                out.append(
                    Event(
                        f"notice-post:{n.contract}:{commit}",
                        "notice-post",
                        name,
                        target,
                        f"Change notice {n.id} ({n.classification}): {n.summary}",
                        f"{n.author_name} changed {n.contract} at {iso(n.time)} ({n.short}). "
                        f"{n.classification}. {n.action}",
                        contract=n.contract,
                        details={"notice": n.id, "commit": n.commit},
                    )
                )
            for req in n.open_requirements():
                people = (
                    [c.parties.provider_lead, c.parties.consumer_lead]
                    if req.kind == "cosign"
                    else [req.person]
                )
                for person in dict.fromkeys(people):
                    base = f"{n.contract}:{commit}:{req.kind}:{person}"
                    text = (
                        f"{n.author_name} changed {n.contract} at {iso(n.time)} (commit "
                        f"{n.short}, {n.classification}): {n.summary}\n"
                        f"You: {req.describe()}"
                        + (f", by {iso(req.deadline)}" if req.deadline else "")
                        + f".\n{n.action}"
                    )
                    event = self._person_event(
                        state,
                        person,
                        f"notice:{base}",
                        "notice",
                        f"Change notice {n.id}: {req.describe()}",
                        text,
                        contract=n.contract,
                        details={"notice": n.id, "commit": n.commit},
                    )
                    if event is not None:
                        out.append(event)
                    if (
                        req.state == "pending"
                        and req.deadline is not None
                        and now < req.deadline <= now + lead
                    ):
                        reminder = self._person_event(
                            state,
                            person,
                            f"remind-ack:{base}:{iso(req.deadline)}",
                            "remind-ack",
                            f"Reminder: {n.id} is due {iso(req.deadline)}",
                            text,
                            contract=n.contract,
                            details={"notice": n.id, "deadline": iso(req.deadline)},
                        )
                        if reminder is not None:
                            out.append(reminder)
        return out

    def _review_events(self, state: GovernanceState) -> list[Event]:
        settings = state.settings
        assert settings is not None
        out: list[Event] = []
        now = self.wb.now
        lead = settings.notify.remind_review_before.approx()
        for r in self.obligations.reviews.statuses():
            if r.due is None or r.state == "overdue" or not now < r.due <= now + lead:
                continue
            for person in r.reviewers:
                event = self._person_event(
                    state,
                    person,
                    f"remind-review:{r.contract}:{r.kind}:{r.term or ''}:{iso(r.due)}:{person}",
                    "remind-review",
                    f"Reminder: {r.kind} of {r.contract} is due {iso(r.due)}",
                    f"{r.title}: {r.kind} due {iso(r.due)} ({r.basis}).\n{r.action}",
                    contract=r.contract,
                    details={"review": r.kind, "due": iso(r.due)},
                )
                if event is not None:
                    out.append(event)
        return out

    def _weekly_events(self, state: GovernanceState) -> list[Event]:
        from workbench.governance.reports import render_weekly_md, week_of
        from workbench.model.terms import LivingAttestationTerm

        reviewers = sorted(
            {
                t.reviewer
                for d in state.contracts.values()
                for t in d.contract.terms
                if isinstance(t, LivingAttestationTerm)
            }
        )
        if not reviewers:
            return []
        week = week_of(self.wb.now - timedelta(days=7))  # the last completed week
        out: list[Event] = []
        for reviewer in reviewers:
            report = self.obligations.reports.weekly(week, reviewer)
            if not report.sections:
                continue
            event = self._person_event(
                state,
                reviewer,
                f"weekly:{week}:{reviewer}",
                "weekly",
                f"Weekly living-attestation summary {week}",
                render_weekly_md(report)
                + f"\nSign it as received: workbench report weekly --week {week} --receive\n",
                details={"week": week},
            )
            if event is not None:
                out.append(event)
        return out

    def _clock_events(self, state: GovernanceState) -> list[Event]:
        out: list[Event] = []
        for c in self.wb.clocks.clocks():
            if c.state == "running" or not c.owner:
                continue
            kind = "clock-expired" if c.state == "expired" else "remind-clock"
            subject = (
                f"EXPIRED: {c.title} on {c.seam} was due {iso(c.deadline)}"
                if kind == "clock-expired"
                else f"Reminder: {c.title} on {c.seam} is due {iso(c.deadline)}"
            )
            text = (
                f"Clock {c.id} ({c.kind}) started {iso(c.at)} by {c.started_by}: {c.note}\n"
                f"It stops when {c.stops}. Source: {c.source or 'declared in the repository'}.\n"
                f"Stop it: workbench clocks stop {c.id} --note ..."
            )
            event = self._person_event(
                state,
                c.owner,
                f"{kind}:{c.id}:{c.owner}",
                kind,
                subject,
                text,
                contract=c.seam,
                details={"clock": c.id, "deadline": iso(c.deadline)},
            )
            if event is not None:
                out.append(event)
        return out

    # -- delivering --------------------------------------------------------------------
