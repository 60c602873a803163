"""Regulatory clocks: the service the CLI, the app, the gate and `workbench notify` call.

The rules are ``workbench.governance.clocks`` (one implementation); this module gathers
their inputs from the repository (clock records with their signatures and git placements,
the contracts, the compliance lead from the signed approval policy) and writes start and
stop records through the one write door, signed by the acting person.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from workbench.governance import clocks as ck
from workbench.governance.records import render
from workbench.governance.timing import iso
from workbench.model.clocks import ClockDefinition
from workbench.model.record_folders import CLOCKS_DIR
from workbench.service.errors import UnknownContract, WorkbenchError
from workbench.service.signed_records import SignedRecords, Written

if TYPE_CHECKING:
    from workbench.governance.due import DueItem
    from workbench.governance.seams import SeamView
    from workbench.service.core import Workbench


class ClockError(WorkbenchError):
    """A clock act the workbench refuses (shown as a message, exit 2)."""


class ClocksService:
    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self._records: SignedRecords | None = None

    @property
    def records(self) -> SignedRecords:
        if self._records is None:
            self._records = SignedRecords(self.wb)
        return self._records

    # -- inputs ------------------------------------------------------------------------
    def files(self) -> dict[str, bytes]:
        # Through git: a committed view (the gate) reads HEAD's, never an uncommitted one.
        if self.wb.git.is_empty:
            return {}
        return self.wb.git.read_files(
            "WORKTREE",
            lambda p: p.startswith(CLOCKS_DIR) or CLOCKS_DIR.startswith(p),
        )

    def compliance_lead(self) -> str | None:
        from workbench.service.signing import approval_policy

        team = approval_policy(self.wb).compliance_team
        lead = self.wb.state().team_lead(team) if team else None
        return lead.id if lead is not None else None

    def inputs(self) -> ck.ClockInputs:
        from workbench.governance.record_time import Placement

        wb = self.wb
        files = self.files()
        records, problems = ck.parse_clock_records(files)
        self._problems = problems
        signatures = {}
        for r in records:
            expect = {"clock": r.clock, "act": r.act, "seam": r.seam}
            signatures[r.path] = self.records.status(files, r.path, r.person, expect)
        placed = wb.git.placements((CLOCKS_DIR,)) if records else {}
        state = wb.state()
        settings = state.settings
        return ck.ClockInputs(
            records=records,
            signatures=signatures,
            placements={p: Placement(c, parent) for p, (c, parent) in placed.items()},
            signatures_required=self.records.signatures_required(),
            contracts={cid: d.contract for cid, d in state.contracts.items()},
            settings_clocks=list(settings.clocks) if settings is not None else [],
            compliance_lead=self.compliance_lead(),
            people_left=lambda pid, day: (
                (person := state.people.get(pid)) is not None and person.has_left(day)
            ),
            known_people=frozenset(state.people),
            now=wb.now,
            now_is_real=wb.clock_is_real,
        )

    def verdicts(self) -> ck.ClockVerdicts:
        head = self.wb.git.head_id() if not self.wb.git.is_empty else None
        return self.wb.remember(("clocks", head), lambda: ck.clock_states(self.inputs()))

    def clocks(
        self, *, include_stopped: bool = False, seam: str | None = None
    ) -> list[ck.ClockView]:
        out = self.verdicts().clocks
        if not include_stopped:
            out = [c for c in out if c.running]
        if seam is not None:
            out = [c for c in out if c.seam == seam]
        return sorted(out, key=lambda c: (not c.running, c.deadline, c.id))

    def flags(self) -> dict[str, list[str]]:
        """Per seam: clock records that claim what they cannot (records_valid fails)."""
        out: dict[str, list[str]] = {}
        for seam, message in self.verdicts().flags:
            out.setdefault(seam, []).append(message)
        return out

    def kinds(self, seam: str | None = None) -> dict[str, ClockDefinition]:
        state = self.wb.state()
        settings = state.settings
        doc = state.contracts.get(seam) if seam else None
        return ck.definitions(
            list(settings.clocks) if settings is not None else [],
            doc.contract if doc is not None else None,
        )

    def clock(self, ref: str) -> ck.ClockView:
        hits = [c for c in self.verdicts().clocks if c.id.startswith(ref)]
        if not hits:
            raise ClockError(f"no clock {ref!r}; list them with `workbench clocks --all`")
        if len(hits) > 1:
            raise ClockError(f"clock id {ref!r} is ambiguous: " + ", ".join(c.id for c in hits))
        return hits[0]

    # -- acts --------------------------------------------------------------------------
    def start(
        self, kind: str, seam: str, at: datetime, note: str, *, signer: Any = None
    ) -> tuple[ck.ClockView, Written]:
        """Start a clock of `kind` on `seam` from the event at `at`, as the acting person."""
        wb = self.wb
        wb.require_writable("start a clock")
        state = wb.state("HEAD")
        if seam not in state.contracts:
            raise UnknownContract(f"no contract {seam!r} at HEAD: a clock runs on a seam")
        actor = wb.actor(state)
        when = wb.record_time().astimezone(UTC).replace(microsecond=0)
        if actor.has_left(when.date()):
            raise ClockError(f"{actor.id} left on {actor.left}")
        defs = self.kinds(seam)
        defn = defs.get(kind)
        if defn is None:
            raise ClockError(
                f"no clock kind {kind!r}; known kinds: {', '.join(sorted(defs))} "
                "(declare your own with [[clocks]] in workbench.toml or the contract)"
            )
        if not note.strip():
            raise ClockError("--note TEXT is required: say what happened (e.g. the incident id)")
        at = at.astimezone(UTC).replace(microsecond=0)
        if at > when + ck.SKEW:
            raise ClockError(
                f"--at {iso(at)} is in the future (now {iso(when)}): a clock starts from an "
                "event that has happened"
            )
        cid = ck.clock_id(seam, kind, at, actor.id, when)
        deadline = ck.deadline_of(at, defn.duration, None)
        path = ck.clock_record_path(cid, when, actor.id, "start")
        fields = {
            "clock": cid,
            "act": "start",
            "kind": kind,
            "seam": seam,
            "person": actor.id,
            "recorded": when,
            "at": at,
            "duration": defn.duration.text,
            "deadline": deadline,
            "title": defn.title,
            "stops": defn.stops,
            "source": defn.source or None,
            "note": note.strip(),
        }
        message = (
            f"Start clock {cid}: {defn.title} on {seam}\n\n"
            f"From {iso(at)}, {defn.duration.text}: due {iso(deadline)}. Stops when "
            f"{defn.stops}.\n\n{note.strip()}\n"
        )
        written = self._write(path, fields, actor.id, message, signer)
        return self.clock(cid), written

    def stop(
        self, ref: str, note: str, *, withdrawn: bool = False, signer: Any = None
    ) -> tuple[ck.ClockView, Written]:
        """Stop a running clock as met (or withdrawn: started in error), as the actor."""
        wb = self.wb
        wb.require_writable("stop a clock")
        clock = self.clock(ref)
        if not clock.running:
            raise ClockError(f"clock {clock.id} is already {clock.state}")
        if not note.strip():
            raise ClockError("--note TEXT is required: what was done (e.g. the report's reference)")
        state = wb.state()
        actor = wb.actor(state)
        outcome = "withdrawn" if withdrawn else "met"
        inp = self.inputs()
        start = next(r for r in inp.records if r.path == clock.start_path)
        why = ck.may_stop(actor.id, outcome, start, clock.owner, inp)
        if why is not None:
            raise ClockError(why)
        when = wb.record_time().astimezone(UTC).replace(microsecond=0)
        path = ck.clock_record_path(clock.id, when, actor.id, "stop")
        fields = {
            "clock": clock.id,
            "act": "stop",
            "seam": clock.seam,
            "person": actor.id,
            "recorded": when,
            "outcome": outcome,
            "start": start.path,
            "start_sha256": start.sha256,
            "note": note.strip(),
        }
        late = "" if when < clock.deadline else " (LATE: after the deadline)"
        verb = "Withdraw" if withdrawn else "Stop"
        message = f"{verb} clock {clock.id} on {clock.seam}{late}\n\n{note.strip()}\n"
        written = self._write(path, fields, actor.id, message, signer)
        return self.clock(clock.id), written

    def _write(
        self, path: str, fields: dict[str, Any], person: str, message: str, signer: Any
    ) -> Written:
        if (self.wb.root / path).exists():
            raise ClockError(f"{path} exists already; try again in a second")
        data = render(fields)
        predicate = {"seam": str(fields["seam"]), "clock": str(fields["clock"])}
        predicate["act"] = str(fields["act"])
        written = self.records.write(path, data, person, predicate, message, signer)
        return written

    # -- the seam map ------------------------------------------------------------------
    def mark_seams(self, views: list[SeamView]) -> None:
        """``marks["clock"]``: the most urgent running clock of the seam ("expired", "due in
        3d")."""
        from workbench.governance.timing import human_delta

        try:
            running = self.clocks()
        except (WorkbenchError, ValueError):
            return
        urgent: dict[str, ck.ClockView] = {}
        for c in running:
            if c.seam not in urgent or c.deadline < urgent[c.seam].deadline:
                urgent[c.seam] = c
        now = self.wb.now
        for view in views:
            first = urgent.get(view.id)
            if first is None:
                continue
            if first.state == "expired":
                view.marks["clock"] = f"{first.kind} EXPIRED"
            else:
                view.marks["clock"] = f"{first.kind} due in {human_delta(first.deadline - now)}"

    # -- the Due list ------------------------------------------------------------------
    def due_items(self) -> list[DueItem]:
        from workbench.governance.due import DueItem

        out = []
        for c in self.clocks():
            if c.state == "running":
                continue
            state = "overdue" if c.state == "expired" else "due-soon"
            out.append(
                DueItem(
                    "clock",
                    state,
                    c.seam,
                    c.id,
                    [c.owner] if c.owner else [],
                    c.deadline,
                    f"{c.title}: stops when {c.stops}",
                    f"{c.owner or 'the owner'}: `workbench clocks stop {c.id} --note ...`",
                )
            )
        return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clock_index(wb: Workbench, seams: set[str]) -> list[dict[str, object]]:
    """The clocks of `seams` as committed (HEAD), at the session's now (the export time)."""
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
    return [
        ck.clock_entry(c, now) for c in view.clocks.clocks(include_stopped=True) if c.seam in seams
    ]
