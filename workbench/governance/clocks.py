"""Regulatory clocks on seams: the one rule deciding when a clock expires, who owns it, who
may stop it, and which clock records count (pure: file bytes, signature statuses, times and
the governance state in; clock states out).

A clock is started by a named person from an event (an incident, a material change) and
runs from the event's time (``at``), not from when it was recorded: Article 73's 15 days
run from the moment the provider became aware. Each act is its own signed file, named by
clock, moment, person and act, so two clones never write the same file:

    clocks/<clock>/<stamp>.<person>.start.toml   kind, seam, at, duration, deadline, note
    clocks/<clock>/<stamp>.<person>.stop.toml    met or withdrawn, with a note

each with ``.statement.json`` and ``.sig`` once the repository has a key registry
(predicate ``clock/v1``, review namespace). ``clock_states`` is used by ``workbench
clocks``, the gate's ``clock_expired`` rule, ``workbench notify``'s reminders, the seam map,
the Due list, the bundle export and ``verify-bundle``.

Rules (docs/notify.md, "Regulatory clocks"):

* the deadline is ``at`` plus the shorter of the duration recorded at the start and the
  kind's duration now (library, workbench.toml or the contract): redefining a kind later
  can bring a deadline forward, never push it back;
* a clock is *expired* from its deadline on (``now >= deadline``) until a stop counts;
  *due soon* within the kind's ``remind_before``; a stop after the deadline settles it as
  ``met-late`` (the gate passes again; the lateness stays on the record);
* anyone in the registry may start a clock (whoever learns of an incident must be able to);
  ``at`` may not be later than the record itself (a clock cannot start from a future event);
* a clock is met by its owner, the contract owner, a party lead or the compliance lead; it
  is withdrawn (started in error) by the person who started it or the compliance lead (the
  contract owner where the organisation names no compliance team);
* every record: signed by its person (unsigned only without a key registry), by a person
  in the registry who had not left, at a time that holds (``governance.record_time``);
  one that does not is flagged (the gate's ``records_valid``) and does not count.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from workbench.governance.record_time import SKEW as SKEW
from workbench.governance.record_time import Placement, time_problem
from workbench.governance.records import (
    SigStatus,
    read_record_folder,
    stamp,
    text_field,
    time_field,
)
from workbench.governance.timing import iso, relative
from workbench.model.clocks import (
    _NAME,
    LIBRARY,
    ClockDefinition,
)
from workbench.model.contract import Contract
from workbench.model.duration import Duration
from workbench.model.record_folders import CLOCKS_DIR

ClockAct = Literal["start", "stop"]
ClockState = Literal["running", "due-soon", "expired", "met", "met-late", "withdrawn"]
RUNNING_STATES = ("running", "due-soon", "expired")


def clock_id(seam: str, kind: str, at: datetime, person: str, recorded: datetime) -> str:
    """A short, stable id: the same start never gets two ids, two starts never one."""
    text = "\0".join((seam, kind, iso(at) or "", person, iso(recorded) or ""))
    return "c-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def clock_record_path(clock: str, when: datetime, person: str, act: str) -> str:
    return f"{CLOCKS_DIR}{clock}/{stamp(when)}.{person}.{act}.toml"


def is_clock_record(path: str) -> bool:
    return path.startswith(CLOCKS_DIR) and path.endswith(".toml")


@dataclass(frozen=True)
class ClockRecord:
    path: str
    sha256: str
    clock: str
    act: str
    seam: str
    person: str
    recorded: datetime
    note: str = ""
    # start
    kind: str = ""
    at: datetime | None = None
    duration: Duration | None = None
    deadline: datetime | None = None
    title: str = ""
    stops: str = ""
    source: str = ""
    # stop
    outcome: str = ""  # met | withdrawn
    start: str = ""  # the start record's path
    start_sha256: str = ""


def parse_clock_records(files: Mapping[str, bytes]) -> tuple[list[ClockRecord], list[str]]:
    """Every clock record under clocks/, and why others are unreadable."""
    return read_record_folder(files, CLOCKS_DIR, _NAME, "clock record", _clock_record, _named)


def _clock_record(path: str, raw: bytes, data: dict[str, Any]) -> ClockRecord:
    act = text_field(data, "act")
    rec = ClockRecord(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        clock=text_field(data, "clock"),
        act=act,
        seam=text_field(data, "seam"),
        person=text_field(data, "person"),
        recorded=time_field(data, "recorded"),
        note=str(data.get("note", "")),
    )
    if act == "start":
        duration_text = text_field(data, "duration")
        return dataclasses.replace(
            rec,
            kind=text_field(data, "kind"),
            at=time_field(data, "at"),
            duration=Duration.parse(duration_text),
            deadline=time_field(data, "deadline"),
            title=str(data.get("title", "")),
            stops=str(data.get("stops", "")),
            source=str(data.get("source", "")),
        )
    if act == "stop":
        outcome = text_field(data, "outcome")
        if outcome not in ("met", "withdrawn"):
            raise ValueError(f"outcome must be 'met' or 'withdrawn', got {outcome!r}")
        return dataclasses.replace(
            rec,
            outcome=outcome,
            start=text_field(data, "start"),
            start_sha256=text_field(data, "start_sha256"),
        )
    raise ValueError(f"act must be 'start' or 'stop', got {act!r}")


def _named(rec: ClockRecord) -> dict[str, str]:
    return {"clock": rec.clock, "person": rec.person, "act": rec.act}


# --------------------------------------------------------------------------- definitions


def definitions(
    settings_clocks: list[ClockDefinition], contract: Contract | None
) -> dict[str, ClockDefinition]:
    """The clock kinds a seam knows: the library, workbench.toml's, the contract's. A kind
    that tries to redefine an earlier one is left out (and reported by `validate`)."""
    out = dict(LIBRARY)
    for d in settings_clocks:
        out.setdefault(d.id, d)
    for d in contract.clocks if contract is not None else []:
        out.setdefault(d.id, d)
    return out


def deadline_of(at: datetime, recorded: Duration, now_defined: Duration | None) -> datetime:
    """``at`` plus the shorter of the recorded duration and the kind's duration now."""
    duration = recorded
    if now_defined is not None and now_defined < recorded:
        duration = now_defined
    return duration.add_to(at)


def resolve_owner(role: str, contract: Contract | None, compliance_lead: str | None) -> str | None:
    """The person a definition's ``owner`` names on a seam (None: the role names nobody)."""
    if contract is None:
        return role if role not in _ROLES else None
    if role == "contract-owner":
        return contract.owner
    if role == "compliance-lead":
        return compliance_lead or contract.owner
    if role == "escalation-primary":
        return contract.escalation.primary
    if role == "provider-lead":
        return contract.parties.provider_lead
    return role


_ROLES = ("contract-owner", "compliance-lead", "escalation-primary", "provider-lead")


# --------------------------------------------------------------------------- the decision


@dataclass(frozen=True)
class ClockInputs:
    records: list[ClockRecord]
    signatures: Mapping[str, SigStatus]
    placements: Mapping[str, Placement]
    signatures_required: bool
    contracts: Mapping[str, Contract]
    settings_clocks: list[ClockDefinition]
    compliance_lead: str | None
    people_left: Callable[[str, date], bool]  # (person, day) -> had left by that day
    known_people: frozenset[str]
    now: datetime
    now_is_real: bool = True


@dataclass
class ClockView:
    """One clock at `now`, for every front end and the gate."""

    id: str
    kind: str
    title: str
    seam: str
    owner: str | None
    started_by: str
    at: datetime
    recorded: datetime
    duration: str
    deadline: datetime
    state: ClockState
    stops: str
    source: str
    note: str
    remind_at: datetime
    start_path: str
    stopped_by: str | None = None
    stopped_at: datetime | None = None
    stop_note: str = ""
    stop_path: str | None = None
    notes: list[str] = field(default_factory=list)  # ignored records, for people

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    def time_left(self, now: datetime) -> str:
        if not self.running:
            return "stopped"
        return relative(self.deadline, now)

    def describe(self, now: datetime) -> str:
        """One line: what, where, due when, who, what stops it."""
        when = (
            f"expired {relative(self.deadline, now)}"
            if self.state == "expired"
            else f"due {iso(self.deadline)} ({self.time_left(now)})"
            if self.running
            else f"{self.state} ({iso(self.stopped_at)})"
        )
        return (
            f"{self.id} {self.kind} on {self.seam}: {when}; owner {self.owner or 'nobody'}; "
            f"stops when {self.stops}"
        )

    def to_json(self, now: datetime) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "seam": self.seam,
            "owner": self.owner,
            "started_by": self.started_by,
            "at": iso(self.at),
            "recorded": iso(self.recorded),
            "duration": self.duration,
            "deadline": iso(self.deadline),
            "state": self.state,
            "time_left": self.time_left(now),
            "seconds_left": int((self.deadline - now).total_seconds()) if self.running else None,
            "stops": self.stops,
            "source": self.source,
            "note": self.note,
            "remind_at": iso(self.remind_at),
            "stopped_by": self.stopped_by,
            "stopped_at": iso(self.stopped_at),
            "stop_note": self.stop_note,
            "start": self.start_path,
            "stop": self.stop_path,
            "notes": self.notes,
        }


@dataclass
class ClockVerdicts:
    clocks: list[ClockView] = field(default_factory=list)
    # (seam, message) of records that claim what they cannot: records_valid fails on them.
    flags: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # unreadable, or about no known seam

    def by_seam(self) -> dict[str, list[ClockView]]:
        out: dict[str, list[ClockView]] = {}
        for c in self.clocks:
            out.setdefault(c.seam, []).append(c)
        return out


# At a chosen `now` (a what-if), a well-placed record made after it is simply not made yet.
NOT_YET = ""


def _record_problem(
    rec: ClockRecord, inp: ClockInputs, answers: datetime | None, what: str
) -> tuple[str | None, bool]:
    """Why a record does not count (None: it may), and whether that is a flag."""
    sig = inp.signatures.get(rec.path, "unsigned")
    placed = inp.placements.get(rec.path)
    if not inp.now_is_real and rec.recorded > inp.now:
        wrong = placed is not None and time_problem(rec.recorded, rec.recorded, placed) is not None
        if not wrong:
            return NOT_YET, False
    if sig == "invalid":
        return f"{rec.path}: the signature does not verify as {rec.person}", True
    if sig == "unsigned" and inp.signatures_required:
        return f"{rec.path}: not signed by {rec.person}", True
    if rec.person not in inp.known_people:
        return f"{rec.path}: {rec.person} is not a person in keys/people.toml", True
    if inp.people_left(rec.person, rec.recorded.date()):
        return f"{rec.path}: {rec.person} had left when this was recorded", True
    problem = time_problem(rec.recorded, inp.now, placed, answers, what)
    if problem is not None:
        return f"{rec.path}: {problem}", True
    return None, False


def may_stop(
    person: str, outcome: str, start: ClockRecord, owner: str | None, inp: ClockInputs
) -> str | None:
    """Why `person` may not stop the clock `start` with `outcome` (None: they may)."""
    contract = inp.contracts.get(start.seam)
    if outcome == "withdrawn":
        allowed = {start.person}
        if inp.compliance_lead:
            allowed.add(inp.compliance_lead)
        elif contract is not None:
            allowed.add(contract.owner)
        if person in allowed:
            return None
        return (
            f"{person} may not withdraw clock {start.clock}: only {', '.join(sorted(allowed))} "
            "(who started it, or the compliance lead) may say it was started in error"
        )
    allowed = {p for p in (owner, inp.compliance_lead) if p}
    if contract is not None:
        allowed |= {contract.owner, contract.parties.provider_lead, contract.parties.consumer_lead}
    if person in allowed:
        return None
    return (
        f"{person} may not stop clock {start.clock}: its owner, the contract owner, a party "
        f"lead or the compliance lead does ({', '.join(sorted(allowed))})"
    )


def clock_states(inp: ClockInputs) -> ClockVerdicts:
    """Every clock started by a record that counts, at ``inp.now``, with the stop that
    counts, and the records that do not."""
    out = ClockVerdicts()
    starts: dict[str, ClockRecord] = {}
    for rec in inp.records:
        if rec.act != "start":
            continue
        if rec.seam not in inp.contracts:
            out.ignored.append(f"{rec.path}: no contract {rec.seam!r}")
            continue
        problem, flag = _record_problem(rec, inp, None, "")
        if problem is None and rec.at is not None and rec.at > rec.recorded + SKEW:
            problem, flag = (
                f"{rec.path}: starts from {iso(rec.at)}, after it was recorded "
                f"({iso(rec.recorded)}): a clock cannot start from a future event",
                True,
            )
        if problem == NOT_YET:
            continue
        if problem is not None:
            if flag:
                out.flags.append((rec.seam, problem))
            continue
        if rec.clock != clock_id(rec.seam, rec.kind, rec.at, rec.person, rec.recorded):  # type: ignore[arg-type]
            out.flags.append((rec.seam, f"{rec.path}: the clock id does not match its start"))
            continue
        starts[rec.clock] = rec
    for _cid, start in sorted(starts.items(), key=lambda kv: (kv[1].at, kv[0])):
        out.clocks.append(_view(start, inp, out))
    for rec in inp.records:
        if rec.act == "stop" and rec.clock not in starts:
            seam = rec.seam if rec.seam in inp.contracts else None
            message = f"{rec.path}: stops no clock that counts ({rec.clock})"
            if seam is not None and not (not inp.now_is_real and rec.recorded > inp.now):
                out.flags.append((seam, message))
            else:
                out.ignored.append(message)
    return out


def _view(start: ClockRecord, inp: ClockInputs, out: ClockVerdicts) -> ClockView:
    contract = inp.contracts.get(start.seam)
    defs = definitions(inp.settings_clocks, contract)
    defn = defs.get(start.kind)
    assert start.at is not None and start.duration is not None
    deadline = deadline_of(start.at, start.duration, defn.duration if defn else None)
    role = defn.owner if defn is not None else "contract-owner"
    owner = resolve_owner(role, contract, inp.compliance_lead)
    lead = defn.reminder_lead() if defn is not None else Duration.parse("PT24H")
    view = ClockView(
        id=start.clock,
        kind=start.kind,
        title=start.title or (defn.title if defn else start.kind),
        seam=start.seam,
        owner=owner,
        started_by=start.person,
        at=start.at,
        recorded=start.recorded,
        duration=start.duration.text,
        deadline=deadline,
        state="running",
        stops=start.stops or (defn.stops if defn else ""),
        source=start.source or (defn.source if defn else ""),
        note=start.note,
        remind_at=deadline - lead.approx(),
        start_path=start.path,
    )
    if start.deadline is not None and abs((start.deadline - deadline).total_seconds()) > 1:
        if start.deadline < deadline:
            view.deadline = start.deadline  # the stricter one, as the starter stated it
        else:
            view.notes.append(
                f"{start.path} states deadline {iso(start.deadline)}; the rule gives "
                f"{iso(deadline)}, which applies"
            )
    stop: ClockRecord | None = None
    for rec in inp.records:
        if rec.act != "stop" or rec.clock != start.clock:
            continue
        problem, flag = _record_problem(rec, inp, start.recorded, "the clock it stops")
        if problem == NOT_YET:
            continue
        if problem is None and (rec.start != start.path or rec.start_sha256 != start.sha256):
            problem, flag = f"{rec.path}: stops other bytes than {start.path}", True
        if problem is None and rec.seam != start.seam:
            problem, flag = f"{rec.path}: names seam {rec.seam}, not {start.seam}", True
        if problem is None and not rec.note.strip():
            problem, flag = f"{rec.path}: a stop needs a note saying what was done", True
        if problem is None:
            why = may_stop(rec.person, rec.outcome, start, owner, inp)
            if why is not None:
                problem, flag = f"{rec.path}: {why}", True
        if problem is not None:
            view.notes.append(f"ignored {problem}")
            if flag:
                out.flags.append((start.seam, problem))
            continue
        if stop is None or rec.recorded < stop.recorded:
            stop = rec
    if stop is not None:
        view.stopped_by, view.stopped_at = stop.person, stop.recorded
        view.stop_note, view.stop_path = stop.note, stop.path
        if stop.outcome == "withdrawn":
            view.state = "withdrawn"
        else:
            view.state = "met" if stop.recorded < view.deadline else "met-late"
        return view
    view.state = running_state(view.deadline, view.remind_at, inp.now)
    return view


def running_state(deadline: datetime, remind_at: datetime, now: datetime) -> ClockState:
    """Expired from the deadline on (``now >= deadline``); due soon from the reminder on."""
    if now >= deadline:
        return "expired"
    if now >= remind_at:
        return "due-soon"
    return "running"


def expired_clocks(clocks: list[ClockView]) -> list[ClockView]:
    return [c for c in clocks if c.state == "expired"]


# What a bundle states about each clock (bundle.json "clocks"), and what both verifiers
# recompute from the bundle's records: the same fields, by the same rule.
CLOCK_INDEX_FIELDS = ("id", "kind", "seam", "state", "deadline", "owner", "start", "stop")


def clock_entry(view: ClockView, now: datetime) -> dict[str, object]:
    data = view.to_json(now)
    return {k: data[k] for k in CLOCK_INDEX_FIELDS}
