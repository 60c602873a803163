"""`workbench notify`: deliver everything due and not yet delivered, and record each attempt.

What is due (docs/notify.md, "What notify sends"):

* a **page** for each open fail-level violation (fail, no-data, error) nobody has
  acknowledged, to the escalation's primary through the escalation's channel (to the
  backup when the primary has left);
* the **escalation** to the backup when the primary's page was delivered and not
  acknowledged within ``ack_sla``;
* PagerDuty **acknowledge** once the page is acknowledged in the workbench, and **resolve**
  once the violation is no longer open (the same ``dedup_key``);
* each open **change notice** to each recipient who must act (and posted to the contract's
  change channel), a **reminder** before an acknowledgement or a review is due, the
  **weekly summary** of the last completed week to each named reviewer, and a reminder to
  a **clock**'s owner before its deadline (and once when it passes).

Each delivery has a stable key; one that a counting record says was delivered is never
sent again; a failed one is retried on a later run after a backoff
(``workbench.notify.records``). Each attempt is one record, signed by the notifier (the
acting person) and committed right after the send: killed in between, the next run sends
again with the same key (at least once). The rules that judge records and pages are
``governance.pages`` and ``notify.records``; channels are resolved by ``notify.config``
and sent through by ``notify.send``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from workbench.governance import deliveries as dv
from workbench.governance import pages as pg
from workbench.governance.record_time import Placement
from workbench.governance.records import render
from workbench.governance.timing import iso
from workbench.model.channels import split_ref
from workbench.notify import records as dr
from workbench.notify.events import Event, dedup_key
from workbench.service.errors import WorkbenchError
from workbench.service.notify_events import NotifyEvents
from workbench.service.signed_records import SignedRecords, Written

if TYPE_CHECKING:
    from workbench.evidence.findings import Violation
    from workbench.governance.due import DueItem
    from workbench.governance.seams import SeamView
    from workbench.notify.config import Resolved
    from workbench.notify.send import Answer
    from workbench.service.core import Workbench

NOTIFY_DIR = "notify/"


def _in_notify(path: str) -> bool:
    # One function, not a lambda per call: the git layer keeps a commit's files per
    # (tree, filter), so the deliveries and the pages share one read of notify/.
    return path.startswith(NOTIFY_DIR) or NOTIFY_DIR.startswith(path)


class NotifyError(WorkbenchError):
    """Notify cannot run (no channels declared, a person who may not act): exit 2."""


@dataclass
class Due:
    event: Event
    status: str  # new | retry | waiting | done | unroutable
    attempts: int = 0
    next_at: datetime | None = None
    last_answer: str = ""
    reason: str = ""  # unroutable: why

    def to_json(self) -> dict[str, object]:
        e = self.event
        return {
            "key": e.key,
            "kind": e.kind,
            "status": self.status,
            "channel": e.channel,
            "target": e.target,
            "recipient": e.recipient or None,
            "contract": e.contract or None,
            "violation": e.violation or None,
            "subject": e.subject,
            "attempts": self.attempts,
            "next_attempt": iso(self.next_at),
            "last_answer": self.last_answer or None,
            "reason": self.reason or None,
        }


@dataclass
class Sent:
    event: Event
    answer: Answer
    attempt: int
    path: str | None  # the record (None: dry run)

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.event.key,
            "kind": self.event.kind,
            "channel": self.event.channel,
            "target": self.event.target,
            "recipient": self.event.recipient or None,
            "delivered": self.answer.ok,
            "answer": self.answer.detail,
            "attempt": self.attempt,
            "record": self.path,
        }


@dataclass
class NotifyReport:
    now: datetime
    dry_run: bool
    due: list[Due] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    read_back: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Sent]:
        return [s for s in self.sent if not s.answer.ok]

    @property
    def waiting(self) -> list[Due]:
        return [d for d in self.due if d.status == "waiting"]

    @property
    def unroutable(self) -> list[Due]:
        return [d for d in self.due if d.status == "unroutable"]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.waiting and not self.unroutable

    def to_json(self) -> dict[str, object]:
        return {
            "now": iso(self.now),
            "dry_run": self.dry_run,
            "ok": self.ok,
            "due": [d.to_json() for d in self.due if d.status != "done"],
            "sent": [s.to_json() for s in self.sent],
            "read_back": self.read_back,
            "notes": self.notes,
        }


class NotifyService(NotifyEvents):
    def __init__(
        self,
        wb: Workbench,
        *,
        env: Mapping[str, str] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.wb = wb
        self.env = os.environ if env is None else env
        self._config = config
        self._records: SignedRecords | None = None
        self._cache: dict[str, Any] = {}

    @property
    def records(self) -> SignedRecords:
        if self._records is None:
            self._records = SignedRecords(self.wb)
        return self._records

    @property
    def obligations(self) -> Any:
        """One obligations session for the whole plan (its history and registry are read
        once)."""
        return self.records.obligations

    def user_config(self) -> Mapping[str, Any]:
        if self._config is None:
            from workbench.repo.user_config import user_config

            self._config = user_config(dict(self.env))
        return self._config

    # -- reading the records -----------------------------------------------------------
    def files(self) -> dict[str, bytes]:
        if self.wb.git.is_empty:
            return {}
        files: dict[str, bytes] = self.wb.git.read_files("WORKTREE", _in_notify)
        return files

    def _placements(self) -> dict[str, Placement]:
        placed = self.wb.git.placements((NOTIFY_DIR,)) if not self.wb.git.is_empty else {}
        return {p: Placement(c, parent) for p, (c, parent) in placed.items()}

    def deliveries(self) -> dict[str, list[dr.DeliveryRecord]]:
        """The delivery attempts that count, by key (sha256); sets the flags."""
        if "deliveries" in self._cache:
            kept: dict[str, list[dr.DeliveryRecord]] = self._cache["deliveries"]
            return kept
        files = self.files()
        records, problems = dr.parse_deliveries(files)
        state = self.wb.state()
        counting = dv.counting_deliveries(
            dv.DeliveryInputs(
                records=records,
                signatures={
                    r.path: self.records.status(files, r.path, r.person, {"key": r.key})
                    for r in records
                },
                placements=self._placements(),
                signatures_required=self.records.signatures_required(),
                known_people=frozenset(state.people),
                people_left=lambda pid, day: (
                    (p := state.people.get(pid)) is not None and p.has_left(day)
                ),
                now=self.wb.now,
                now_is_real=self.wb.clock_is_real,
            )
        )
        out, flags = counting.by_key, counting.flags
        self._cache["deliveries"] = out
        self._cache["delivery_flags"] = flags
        self._cache["delivery_problems"] = problems
        return out

    def violations(self) -> list[Violation]:
        if "violations" not in self._cache:
            try:
                self._cache["violations"] = self.wb.evidence.violations.find()
            except WorkbenchError:
                self._cache["violations"] = []
        found: list[Violation] = self._cache["violations"]
        return found

    def runners(self) -> frozenset[str] | None:
        """Who the signed policy lets record what was read back (None: no registry)."""
        signing = self.wb.evidence.book.signing()
        return signing["runners"] if signing["head"] is not None else None

    def page_verdicts(self, *, history: bool = False) -> pg.PageVerdicts:
        """Pages and their acknowledgements at now. From the records alone (the gate, the
        page test, `workbench page`): a page record names its violation's term and opening
        time, so the run history is never folded for it. `history`: also every violation of
        the history (notify's plan, `page ack`), for acknowledgements of pages never sent."""
        key = "pages-history" if history else "pages"
        if key in self._cache:
            kept: pg.PageVerdicts = self._cache[key]
            return kept
        files = self.files()
        acks, problems = pg.parse_page_acks(files)
        state = self.wb.state()
        signatures = {
            a.path: self.records.status(
                files, a.path, a.person, {"violation": a.violation, "contract": a.contract}
            )
            for a in acks
        }
        sent = dv.pages_sent(self.deliveries())
        opened = dv.paged_violations(self.deliveries())
        if history and (sent or acks):
            for v in self.violations():
                opened[v.id] = pg.OpenedViolation(
                    v.id, v.contract, v.term, v.opened_at, v.state, v.worst_status
                )
        verdicts = pg.page_states(
            pg.PageInputs(
                violations=opened,
                contracts={cid: d.contract for cid, d in state.contracts.items()},
                sent=sent,
                acks=acks,
                signatures=signatures,
                placements=self._placements() if acks else {},
                signatures_required=self.records.signatures_required(),
                runners=self.runners() if acks else None,
                known_people=frozenset(state.people),
                people_left=lambda pid, day: (
                    (p := state.people.get(pid)) is not None and p.has_left(day)
                ),
                now=self.wb.now,
                now_is_real=self.wb.clock_is_real,
            )
        )
        verdicts.flags += [(c, m) for c, m in problems_by_contract(problems, files)]
        self._cache[key] = verdicts
        return verdicts

    def pages(self) -> dict[str, list[pg.PageView]]:
        """Pages per contract (the gate's and the page test's input)."""
        return self.page_verdicts().by_contract()

    def flags(self) -> dict[str, list[str]]:
        """Per contract: delivery and page records that claim what they cannot."""
        self.deliveries()
        out: dict[str, list[str]] = {}
        for contract, message in [*self._cache["delivery_flags"], *self.page_verdicts().flags]:
            if contract:
                out.setdefault(contract, []).append(message)
        return out

    # -- what is due -------------------------------------------------------------------
    def plan(self) -> list[Due]:
        state = self.wb.state()
        settings = state.settings
        if settings is None:
            raise NotifyError("workbench.toml is missing or invalid; run `workbench validate`")
        if not settings.channels:
            raise NotifyError(
                "workbench.toml declares no [channels]: nothing can be sent. Declare where pages "
                'and notices go (docs/notify.md), e.g. [channels.pagerduty] kind = "pagerduty"'
            )
        events = self._events(state)
        deliveries = self.deliveries()
        out: list[Due] = []
        now = self.wb.now
        seen: set[str] = set()
        for e in events:
            if e.key in seen:
                continue
            seen.add(e.key)
            progress = dr.progress(deliveries.get(e.key_sha256, []))
            last = progress.last.answer if progress.last else ""
            if progress.done:
                status = "done"
            elif progress.next_at is not None and progress.next_at > now:
                status = "waiting"
            else:
                status = "retry" if progress.failures else "new"
            why = self._route_problem(e, settings.channels)
            if why and status != "done":
                out.append(Due(e, "unroutable", progress.failures, None, last, why))
                continue
            out.append(Due(e, status, progress.failures, progress.next_at, last))
        return out

    def _route_problem(self, e: Event, channels: Mapping[str, Any]) -> str:
        if not e.channel:
            return e.target  # the reason an event has no channel is in its target
        if e.channel not in channels:
            return f"channel {e.channel!r} is not declared in workbench.toml [channels]"
        return ""

    def resolve(self, event: Event) -> Resolved:
        from workbench.notify.config import resolve

        key = f"resolved:{event.channel}:{event.target}"
        if key not in self._cache:
            settings = self.wb.state().settings
            assert settings is not None
            declared = settings.channels[event.channel]
            target = (
                event.target
                if declared.kind in ("pagerduty", "slack", "webhook", "command")
                else ""
            )
            self._cache[key] = resolve(
                event.channel, declared, target, self.env, self.user_config()
            )
        resolved: Resolved = self._cache[key]
        return resolved

    def run(self, *, dry_run: bool = False, signer: Any = None) -> NotifyReport:
        """Read acknowledgements back (where allowed), then send every due delivery and
        record each attempt. `dry_run`: only say what would be sent."""
        wb = self.wb
        if not dry_run:
            wb.require_writable("record deliveries")
        state = wb.state()
        report = NotifyReport(wb.now, dry_run)
        actor = None
        if not dry_run:
            actor = wb.actor(state)
            if actor.has_left(wb.now.date()):
                raise NotifyError(f"{actor.id} left on {actor.left}")
            problems = self.records.registry_problems()
            if problems:
                raise NotifyError("the key registry is not usable: " + "; ".join(problems))
            if self.records.registry() is not None and signer is None:
                signer = wb.signing.keys.make_signer(actor.id)
            self._read_back(report, actor.id, signer)
        report.due = self.plan()
        settings = state.settings
        assert settings is not None
        for due in report.due:
            if due.status in ("done", "waiting", "unroutable") or dry_run:
                continue
            assert actor is not None
            event = due.event
            channel = self.resolve(event)
            sent_at = wb.record_time().astimezone(UTC).replace(microsecond=0)
            from workbench.notify.send import send

            answer = send(event, channel, settings.org.name, settings.org.domain, sent_at)
            attempt = due.attempts + 1
            path = self._record(event, channel, answer, attempt, sent_at, actor.id, signer)
            report.sent.append(Sent(event, answer, attempt, path))
            due.status = "delivered" if answer.ok else "failed"
            due.attempts = attempt
            due.last_answer = answer.detail
            report.notes += [n for n in channel.notes if n not in report.notes]
        return report

    def _record(
        self,
        event: Event,
        channel: Resolved,
        answer: Answer,
        attempt: int,
        sent_at: datetime,
        person: str,
        signer: Any,
    ) -> str:
        wb = self.wb
        when = wb.record_time().astimezone(UTC).replace(microsecond=0)
        is_page = event.kind in ("page", "escalation")
        path = dr.delivery_path(event.key, when, person)
        while (wb.root / path).exists():
            # Two attempts in one second by one person: the next second is still true.
            when += timedelta(seconds=1)
            path = dr.delivery_path(event.key, when, person)
        fields = {
            "key": event.key_sha256,
            "what": event.key,
            "kind": event.kind,
            "channel": event.channel,
            "target": event.target or None,
            "recipient": event.recipient or None,
            "role": event.role or None,
            "contract": event.contract or None,
            "violation": event.violation or None,
            "term": event.details.get("term") if is_page else None,
            "opened": _when(event.details.get("opened")) if is_page else None,
            "person": person,
            "recorded": when,
            "sent": sent_at,
            "attempt": attempt,
            "outcome": "delivered" if answer.ok else "failed",
            "answer": channel.redact(answer.detail),
            "retry_after": answer.retry_after.astimezone(UTC).replace(microsecond=0)
            if answer.retry_after and not answer.ok
            else None,
            "dedup_key": event.dedup_key if channel.kind == "pagerduty" else None,
        }
        verb = "Delivered" if answer.ok else f"Delivery attempt {attempt} failed:"
        message = (
            f"Notify: {verb} {event.kind} to {event.recipient or event.route} via {event.route}\n\n"
            f"{event.key}\n{channel.redact(answer.detail)}\n"
        )
        self.records.write(path, render(fields), person, {"key": event.key_sha256}, message, signer)
        for key in ("deliveries", "pages", "pages-history"):
            self._cache.pop(key, None)
        return path

    # -- acknowledgements --------------------------------------------------------------
    def _read_back(self, report: NotifyReport, notifier: str, signer: Any) -> None:
        """Record PagerDuty acknowledgements of pages still awaiting one, where the user's
        config allows reading them back."""
        from workbench.notify.pagerduty import read_ack

        state = self.wb.state()
        verdicts = self.page_verdicts(history=True)
        for view in verdicts.pages:
            if view.ack is not None or view.violation in verdicts.acks:
                continue
            for sent in view.paged:
                declared = state.settings.channels.get(sent.channel) if state.settings else None
                if declared is None or declared.kind != "pagerduty":
                    continue
                doc = state.contracts.get(view.contract)
                if doc is None:
                    continue
                _name, target = split_ref(doc.contract.escalation.channel)
                probe = Event("probe", "page", sent.channel, target, "", "")
                channel = self.resolve(probe)
                if not channel.read_acks:
                    continue
                key = dedup_key(view.violation, sent.role)
                remote, detail = read_ack(channel, key, self.wb.now)
                if remote is None:
                    report.read_back.append(f"{view.violation}: {detail}")
                    continue
                who = state.people_with_email(remote.user_email) if remote.user_email else []
                if len(who) != 1:
                    report.read_back.append(
                        f"{view.violation}: acknowledged in PagerDuty by {remote.user_name!r}, who "
                        "is not one person in keys/people.toml; ask them to run `workbench page "
                        f"ack {view.violation}`"
                    )
                    continue
                written = self._write_ack(
                    view.violation,
                    view.contract,
                    notifier,
                    "pagerduty",
                    acknowledged_by=who[0],
                    acknowledged=min(remote.acknowledged, self.wb.record_time()),
                    note="",
                    remote=channel.redact(
                        f"PagerDuty incident {remote.incident} acknowledged by {remote.user_name} "
                        f"at {iso(remote.acknowledged)}"
                    ),
                    signer=signer,
                )
                report.read_back.append(
                    f"{view.violation}: acknowledged by {who[0]} at {iso(remote.acknowledged)} "
                    f"(read back from PagerDuty; {written.path})"
                )
                break

    def acknowledge(
        self, ref: str, note: str = "", *, signer: Any = None
    ) -> tuple[pg.PageAck, Written]:
        """`workbench page ack VIOLATION`: the paged person acknowledges, signed."""
        wb = self.wb
        wb.require_writable("acknowledge a page")
        v = wb.evidence.violations.get(ref)
        state = wb.state()
        actor = wb.actor(state)
        doc = state.contracts.get(v.contract)
        if doc is None:
            raise NotifyError(f"no contract {v.contract!r}")
        e = doc.contract.escalation
        verdicts = self.page_verdicts(history=True)
        if v.id in verdicts.acks:
            a = verdicts.acks[v.id]
            raise NotifyError(
                f"{v.id} is already acknowledged by {a.acknowledged_by} at {iso(a.acknowledged)}"
            )
        view = next((p for p in verdicts.pages if p.violation == v.id), None)
        paged = {p.recipient for p in view.paged} if view is not None else set()
        may = {e.primary, e.backup} | paged
        if actor.id not in may:
            raise NotifyError(
                f"{actor.id} was not paged for {v.id}: its escalation primary or backup, or "
                f"whoever a page went to, acknowledges ({', '.join(sorted(may))})"
            )
        if actor.has_left(wb.now.date()):
            raise NotifyError(f"{actor.id} left on {actor.left}")
        when = wb.record_time().astimezone(UTC).replace(microsecond=0)
        written = self._write_ack(
            v.id,
            v.contract,
            actor.id,
            "workbench",
            acknowledged_by=actor.id,
            acknowledged=when,
            note=note,
            remote="",
            signer=signer,
            when=when,
        )
        self._cache.clear()
        ack = self.page_verdicts(history=True).acks.get(v.id)
        assert ack is not None, "the acknowledgement just written does not count"
        return ack, written

    def _write_ack(
        self,
        violation: str,
        contract: str,
        person: str,
        source: str,
        *,
        acknowledged_by: str,
        acknowledged: datetime,
        note: str,
        remote: str,
        signer: Any,
        when: datetime | None = None,
    ) -> Written:
        wb = self.wb
        when = when or wb.record_time().astimezone(UTC).replace(microsecond=0)
        path = pg.page_ack_path(violation, when, person)
        if (wb.root / path).exists():
            raise NotifyError(f"{path} exists already; try again in a second")
        fields = {
            "violation": violation,
            "contract": contract,
            "person": person,
            "recorded": when,
            "acknowledged": acknowledged.astimezone(UTC).replace(microsecond=0),
            "acknowledged_by": acknowledged_by,
            "source": source,
            "note": note.strip() or None,
            "remote": remote or None,
        }
        what = "read back from PagerDuty" if source == "pagerduty" else "acknowledged"
        message = f"Page for {violation} ({contract}) {what}: {acknowledged_by}\n"
        if note.strip():
            message += f"\n{note.strip()}\n"
        written = self.records.write(
            path,
            render(fields),
            person,
            {"violation": violation, "contract": contract},
            message,
            signer,
        )
        self._cache.pop("pages", None)
        self._cache.pop("pages-history", None)
        return written

    # -- the Due list and the seam map ---------------------------------------------------
    def due_items(self) -> list[DueItem]:
        """Pages awaiting or missing an acknowledgement, for the Due list."""
        from workbench.governance.due import DueItem

        out: list[DueItem] = []
        try:
            pages = self.page_verdicts().pages
        except (WorkbenchError, ValueError):
            return out
        for p in pages:
            if p.state not in ("missed", "awaiting"):
                continue
            who = list(dict.fromkeys(s.recipient for s in p.paged))
            out.append(
                DueItem(
                    "page",
                    "overdue" if p.state == "missed" else "pending",
                    p.contract,
                    p.violation,
                    who,
                    p.due,
                    p.describe(self.wb.now),
                    f"{' or '.join(who)}: `workbench page ack {p.violation}`",
                )
            )
        return out

    def mark_seams(self, views: list[SeamView]) -> None:
        """``marks["paged"]``: the seam's pages awaiting or missing an acknowledgement."""
        try:
            by_contract = self.pages()
        except (WorkbenchError, ValueError):
            return
        for view in views:
            mine = by_contract.get(view.id, [])
            missed = sum(p.state == "missed" for p in mine)
            awaiting = sum(p.state == "awaiting" for p in mine)
            if missed:
                view.marks["paged"] = f"{missed} page(s) NOT acknowledged"
            elif awaiting:
                view.marks["paged"] = f"{awaiting} page(s) awaiting ack"


def _when(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def problems_by_contract(problems: list[str], files: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """Unreadable page acknowledgements, by the contract they name (when they name one)."""
    import tomllib

    out: list[tuple[str, str]] = []
    for message in problems:
        path = message.split(":", 1)[0]
        try:
            contract = tomllib.loads(files[path].decode("utf-8")).get("contract")
        except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            contract = None
        if isinstance(contract, str) and contract:
            out.append((contract, message))
    return out


def page_index(wb: Workbench, seams: set[str]) -> dict[str, object]:
    """The pages of `seams` as committed (HEAD) at the session's now (the export time): what
    a bundle states (``governance.pages.page_entry``) and verify-bundle recomputes from the
    bundle's bytes."""
    from workbench.service.core import Workbench as Session

    now = wb.now
    view = Session(
        wb.root,
        now=now,
        readonly=True,
        committed=True,
        trust_root=wb.trust_root,
        registry_seen=wb.registry_seen,
    )
    by_contract = view.notify.pages()
    return {
        "pages": [
            pg.page_entry(p, now)
            for cid in sorted(by_contract)
            if cid in seams
            for p in by_contract[cid]
        ]
    }
