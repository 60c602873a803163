"""Pages that really left the machine and their acknowledgements: time-to-acknowledge
against the escalation's ``ack_sla``, escalation to the backup, and the missed
acknowledgement that is a finding on the seam (pure: records, times and contracts in;
page states out).

A page is a delivery `workbench notify` recorded (``notify/deliveries/``) to the
escalation's primary, or, once the primary has not acknowledged within ``ack_sla``, to the
backup. It is acknowledged by a signed record under ``notify/page-acks/<violation>/``:

* ``source = "workbench"``: `workbench page ack VIOLATION`, signed by the person
  acknowledging, who must be the seam's escalation primary or backup, or someone a page of
  this violation was delivered to;
* ``source = "pagerduty"``: the incident's acknowledgement read back from PagerDuty by the
  notifier (only where the user's config allows it), signed by the notifier, which must be
  a runner the signed policy names (``[evaluation] runners``): a member's key cannot make a
  missed page look answered.

States of a page: ``awaiting`` (not acknowledged, within the SLA), ``acknowledged``,
``acknowledged-late`` (after the SLA), ``missed`` (not acknowledged and past the SLA). A
missed page is a finding on the seam: the page test fails (``governance.paging``, so the
gate's ``page_test`` rule) until someone acknowledges it, which settles it as
acknowledged-late; the history keeps the lateness. Used by `workbench page`, the page
test, the gate, the violation history and `workbench notify` (escalation).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from workbench.governance.record_time import Placement, time_problem
from workbench.governance.records import (
    SigStatus,
    read_record_folder,
    stamp,
    text_field,
    time_field,
)
from workbench.governance.timing import human_delta, iso
from workbench.model.contract import Contract
from workbench.model.record_folders import PAGE_ACKS_DIR

PageState = Literal["awaiting", "acknowledged", "acknowledged-late", "missed"]

_NAME = re.compile(
    r"(?P<violation>v-[0-9a-f]{10})/(?P<stamp>\d{8}T\d{6}Z)\.(?P<person>[a-z0-9][a-z0-9._-]*)"
    r"\.toml"
)


def page_ack_path(violation: str, when: datetime, person: str) -> str:
    return f"{PAGE_ACKS_DIR}{violation}/{stamp(when)}.{person}.toml"


def page_ack_person(path: str) -> str | None:
    m = _NAME.fullmatch(path.removeprefix(PAGE_ACKS_DIR))
    return m.group("person") if m else None


@dataclass(frozen=True)
class PageAck:
    path: str
    violation: str
    contract: str
    person: str  # who signed the record
    recorded: datetime
    acknowledged: datetime  # when the page was acknowledged
    acknowledged_by: str  # the person who acknowledged it
    source: str  # workbench | pagerduty
    note: str = ""
    remote: str = ""  # what PagerDuty said (read-back only)


def parse_page_acks(files: Mapping[str, bytes]) -> tuple[list[PageAck], list[str]]:
    return read_record_folder(
        files, PAGE_ACKS_DIR, _NAME, "page acknowledgement", _page_ack, _page_ack_named
    )


def _page_ack(path: str, raw: bytes, data: dict[str, Any]) -> PageAck:
    ack = PageAck(
        path=path,
        violation=text_field(data, "violation"),
        contract=text_field(data, "contract"),
        person=text_field(data, "person"),
        recorded=time_field(data, "recorded"),
        acknowledged=time_field(data, "acknowledged"),
        acknowledged_by=text_field(data, "acknowledged_by"),
        source=text_field(data, "source"),
        note=str(data.get("note", "")),
        remote=str(data.get("remote", "")),
    )
    if ack.source not in ("workbench", "pagerduty"):
        raise ValueError(f"source must be 'workbench' or 'pagerduty', got {ack.source!r}")
    return ack


def _page_ack_named(ack: PageAck) -> dict[str, str]:
    return {"violation": ack.violation, "person": ack.person}


# --------------------------------------------------------------------------- page states


@dataclass(frozen=True)
class PageSent:
    """A page that left the machine: a counting delivery record (``notify.records``)."""

    violation: str
    contract: str
    recipient: str
    role: str  # primary | backup
    sent: datetime
    channel: str
    path: str


@dataclass(frozen=True)
class OpenedViolation:
    id: str
    contract: str
    term: str
    opened_at: datetime
    state: str  # open | recovered | resolved | exempt
    worst_status: str


@dataclass
class PageView:
    """One violation's page: when it left, who answered, how fast, against which SLA."""

    violation: str
    contract: str
    term: str
    primary: str
    backup: str
    sla: timedelta
    sla_text: str
    paged_at: datetime
    paged: list[PageSent]
    due: datetime
    state: PageState
    ack: PageAck | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def time_to_ack(self) -> timedelta | None:
        if self.ack is None:
            return None
        return max(timedelta(0), self.ack.acknowledged - self.paged_at)

    @property
    def missed(self) -> bool:
        return self.state == "missed"

    @property
    def backup_paged(self) -> bool:
        return any(p.role == "backup" for p in self.paged)

    def describe(self, now: datetime) -> str:
        who = ", ".join(dict.fromkeys(p.recipient for p in self.paged))
        head = f"page for {self.violation} ({self.term}) to {who} at {iso(self.paged_at)}"
        if self.ack is not None and self.time_to_ack is not None:
            late = " LATE" if self.state == "acknowledged-late" else ""
            return (
                f"{head}: acknowledged by {self.ack.acknowledged_by} in "
                f"{human_delta(self.time_to_ack)}{late} (SLA {self.sla_text})"
            )
        if self.state == "missed":
            return (
                f"{head}: NOT acknowledged within {self.sla_text} (missed by "
                f"{human_delta(now - self.due)})"
            )
        return f"{head}: awaiting acknowledgement (SLA {self.sla_text}, due {iso(self.due)})"

    def to_json(self, now: datetime) -> dict[str, object]:
        tta = self.time_to_ack
        return {
            "violation": self.violation,
            "contract": self.contract,
            "term": self.term,
            "state": self.state,
            "paged_at": iso(self.paged_at),
            "due": iso(self.due),
            "ack_sla": self.sla_text,
            "paged": [
                {
                    "recipient": p.recipient,
                    "role": p.role,
                    "sent": iso(p.sent),
                    "channel": p.channel,
                }
                for p in self.paged
            ],
            "acknowledged": iso(self.ack.acknowledged) if self.ack else None,
            "acknowledged_by": self.ack.acknowledged_by if self.ack else None,
            "source": self.ack.source if self.ack else None,
            "time_to_ack_seconds": int(tta.total_seconds()) if tta is not None else None,
            "within_sla": None if tta is None else tta <= self.sla,
            "summary": self.describe(now),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class PageInputs:
    violations: Mapping[str, OpenedViolation]
    contracts: Mapping[str, Contract]
    sent: list[PageSent]
    acks: list[PageAck]
    signatures: Mapping[str, SigStatus]
    placements: Mapping[str, Placement]
    signatures_required: bool
    runners: frozenset[str] | None  # None: no registry (anyone may read back)
    known_people: frozenset[str]
    people_left: Callable[[str, date], bool]
    now: datetime
    now_is_real: bool = True


@dataclass
class PageVerdicts:
    pages: list[PageView] = field(default_factory=list)
    flags: list[tuple[str, str]] = field(default_factory=list)  # (contract, message)
    # Acknowledgements that count, by violation (also of violations never paged).
    acks: dict[str, PageAck] = field(default_factory=dict)

    def by_contract(self) -> dict[str, list[PageView]]:
        out: dict[str, list[PageView]] = {}
        for p in self.pages:
            out.setdefault(p.contract, []).append(p)
        return out


def _ack_problem(
    ack: PageAck, inp: PageInputs, v: OpenedViolation, paged_to: set[str]
) -> tuple[str | None, bool]:
    sig = inp.signatures.get(ack.path, "unsigned")
    placed = inp.placements.get(ack.path)
    # At a chosen `now`, a well-placed record made after it is simply not made yet.
    if (
        not inp.now_is_real
        and ack.recorded > inp.now
        and (placed is None or time_problem(ack.recorded, ack.recorded, placed) is None)
    ):
        return "", False
    if ack.contract != v.contract:
        return f"{ack.path}: names {ack.contract}, not {v.contract}", True
    if sig == "invalid":
        return f"{ack.path}: the signature does not verify as {ack.person}", True
    if sig == "unsigned" and inp.signatures_required:
        return f"{ack.path}: not signed by {ack.person}", True
    for who in (ack.person, ack.acknowledged_by):
        if who not in inp.known_people:
            return f"{ack.path}: {who} is not a person in keys/people.toml", True
    if inp.people_left(ack.person, ack.recorded.date()):
        return f"{ack.path}: {ack.person} had left when this was recorded", True
    contract = inp.contracts.get(v.contract)
    may = set(paged_to)
    if contract is not None:
        may |= {contract.escalation.primary, contract.escalation.backup}
    if ack.source == "workbench":
        if ack.acknowledged_by != ack.person:
            return f"{ack.path}: {ack.person} cannot acknowledge a page for someone else", True
        if ack.person not in may:
            return (
                f"{ack.path}: {ack.person} was not paged for {v.id} (the escalation primary or "
                f"backup, or whoever a page went to, acknowledges: {', '.join(sorted(may))})",
                True,
            )
        if ack.acknowledged != ack.recorded:
            return f"{ack.path}: an acknowledgement is made when it is recorded", True
    else:
        if inp.runners is not None and ack.person not in inp.runners:
            return (
                f"{ack.path}: {ack.person} is not an authorised runner (keys/policy.toml "
                "[evaluation] runners): only the notifier reads acknowledgements back",
                True,
            )
        if ack.acknowledged > ack.recorded:
            return f"{ack.path}: acknowledged after it was read back", True
    problem = time_problem(ack.recorded, inp.now, placed, v.opened_at, "the violation")
    if problem is None and ack.acknowledged < v.opened_at - timedelta(minutes=5):
        problem = f"acknowledged {iso(ack.acknowledged)}, before the violation opened"
    if problem is not None:
        return f"{ack.path}: {problem}", True
    return None, False


def page_states(inp: PageInputs) -> PageVerdicts:
    """Every paged violation with its acknowledgement and state at ``inp.now``."""
    out = PageVerdicts()
    sent_by: dict[str, list[PageSent]] = {}
    for s in inp.sent:
        if s.sent <= inp.now:
            sent_by.setdefault(s.violation, []).append(s)
    acks_by: dict[str, list[PageAck]] = {}
    for a in inp.acks:
        acks_by.setdefault(a.violation, []).append(a)
    for vid, acks in sorted(acks_by.items()):
        v = inp.violations.get(vid)
        if v is None:
            continue
        paged_to = {s.recipient for s in sent_by.get(vid, [])}
        counting: list[PageAck] = []
        for a in acks:
            problem, flag = _ack_problem(a, inp, v, paged_to)
            if problem == "":
                continue
            if problem is not None:
                if flag:
                    out.flags.append((v.contract, problem))
                continue
            counting.append(a)
        if counting:
            out.acks[vid] = min(counting, key=lambda a: (a.acknowledged, a.path))
    for vid, sent in sorted(sent_by.items()):
        v = inp.violations.get(vid)
        contract = inp.contracts.get(v.contract) if v is not None else None
        if v is None or contract is None:
            continue
        sent.sort(key=lambda s: (s.sent, s.path))
        e = contract.escalation
        sla = e.ack_sla.approx()
        first = sent[0].sent
        due = first + sla
        ack = out.acks.get(vid)
        if ack is not None and ack.acknowledged <= inp.now:
            state: PageState = "acknowledged" if ack.acknowledged <= due else "acknowledged-late"
        else:
            ack = None
            state = "missed" if inp.now >= due else "awaiting"
        out.pages.append(
            PageView(
                vid,
                v.contract,
                v.term,
                e.primary,
                e.backup,
                sla,
                e.ack_sla.text,
                first,
                sent,
                due,
                state,
                ack,
            )
        )
    return out


# What a bundle states about each page (bundle.json "pages"), and what verify-bundle
# recomputes from the bundle's records: the same fields, by the same rule.
PAGE_INDEX_FIELDS = (
    "violation",
    "contract",
    "term",
    "state",
    "paged_at",
    "due",
    "ack_sla",
    "paged",
    "acknowledged",
    "acknowledged_by",
    "source",
)


def page_entry(view: PageView, now: datetime) -> dict[str, object]:
    data = view.to_json(now)
    return {k: data[k] for k in PAGE_INDEX_FIELDS}
