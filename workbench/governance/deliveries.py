"""Delivery records as facts (pure: bytes, signature statuses and times in; the records
that count out): the one reading of ``notify/deliveries/`` used by `workbench notify`, the
page test, the gate and both bundle verifiers.

    notify/deliveries/<key16>/<stamp>.<person>.toml

`<key16>` names the delivery (the first 16 hex digits of the sha256 of its key), each
attempt is its own file. A record counts (``counting_deliveries``) when it is signed by its
sender (where signatures are required), the sender is a person of ``keys/people.toml`` who
had not left, it was not sent after it was recorded, and its time holds against its commit
(``governance.record_time``). The retry rule lives with the channels (``notify.records``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from workbench.governance.pages import OpenedViolation, PageSent
from workbench.governance.record_time import SKEW, Placement, time_problem
from workbench.governance.records import SigStatus, read_record_folder, text_field
from workbench.governance.timing import iso
from workbench.model.record_folders import DELIVERIES_DIR

Outcome = Literal["delivered", "failed"]

_NAME = re.compile(
    r"(?P<key>[0-9a-f]{16})/(?P<stamp>\d{8}T\d{6}Z)\.(?P<person>[a-z0-9][a-z0-9._-]*)\.toml"
)


def key_sha256(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def delivery_path(key: str, when: datetime, person: str) -> str:
    return f"{DELIVERIES_DIR}{key_sha256(key)[:16]}/{stamp(when)}.{person}.toml"


def delivery_person(path: str) -> str | None:
    m = _NAME.fullmatch(path.removeprefix(DELIVERIES_DIR))
    return m.group("person") if m else None


@dataclass(frozen=True)
class DeliveryRecord:
    path: str
    key: str  # sha256 of `what`
    what: str  # the delivery key
    kind: str
    channel: str
    target: str
    recipient: str
    contract: str
    violation: str
    person: str  # the sender, who signs
    recorded: datetime
    sent: datetime
    attempt: int
    outcome: str
    answer: str
    retry_after: datetime | None = None
    dedup_key: str = ""
    role: str = ""  # primary | backup, for pages
    # For pages: the violation's term and when it opened, as the notifier saw them, so the
    # page test judges a page from the records alone (never folding the run history).
    term: str = ""
    opened: datetime | None = None


def parse_deliveries(files: Mapping[str, bytes]) -> tuple[list[DeliveryRecord], list[str]]:
    """Every delivery record under notify/deliveries/, and why each other file there is not
    one (the shared record-folder reader: name, fields, the name's key, person and time)."""
    return read_record_folder(
        files,
        DELIVERIES_DIR,
        _NAME,
        "delivery record",
        _delivery,
        lambda rec: {"key": rec.key[:16], "person": rec.person},
    )


def _delivery(path: str, _raw: bytes, data: dict[str, Any]) -> DeliveryRecord:
    rec = DeliveryRecord(
        path=path,
        key=text_field(data, "key"),
        what=text_field(data, "what"),
        kind=text_field(data, "kind"),
        channel=text_field(data, "channel"),
        target=str(data.get("target", "")),
        recipient=str(data.get("recipient", "")),
        contract=str(data.get("contract", "")),
        violation=str(data.get("violation", "")),
        person=text_field(data, "person"),
        recorded=_time(data.get("recorded"), "recorded"),
        sent=_time(data.get("sent"), "sent"),
        attempt=_int(data.get("attempt")),
        outcome=text_field(data, "outcome"),
        answer=str(data.get("answer", "")),
        retry_after=_time(data["retry_after"], "retry_after") if "retry_after" in data else None,
        dedup_key=str(data.get("dedup_key", "")),
        role=str(data.get("role", "")),
        term=str(data.get("term", "")),
        opened=_time(data["opened"], "opened") if "opened" in data else None,
    )
    if rec.outcome not in ("delivered", "failed"):
        raise ValueError(f"outcome must be 'delivered' or 'failed', got {rec.outcome!r}")
    if rec.key != key_sha256(rec.what):
        raise ValueError("key is not the sha256 of what")
    return rec


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"attempt must be a positive integer, got {value!r}")


def _time(value: Any, key: str) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    raise ValueError(f"{key} must be a UTC date-time such as 2026-11-27T09:00:00Z, got {value!r}")


# --------------------------------------------------------------------------- which count


@dataclass(frozen=True)
class DeliveryInputs:
    records: list[DeliveryRecord]
    signatures: Mapping[str, SigStatus]
    placements: Mapping[str, Placement]
    signatures_required: bool
    known_people: frozenset[str]
    people_left: Callable[[str, date], bool]
    now: datetime
    now_is_real: bool = True


@dataclass
class CountingDeliveries:
    by_key: dict[str, list[DeliveryRecord]]  # the attempts that count, by key (sha256)
    flags: list[tuple[str, str]]  # (contract, message): records claiming what they cannot


def counting_deliveries(inp: DeliveryInputs) -> CountingDeliveries:
    """The delivery attempts that count at ``inp.now``, and why the others do not."""
    out = CountingDeliveries({}, [])
    for r in inp.records:
        sig = inp.signatures.get(r.path, "unsigned")
        placed = inp.placements.get(r.path)
        problem: str | None = None
        if sig == "invalid":
            problem = f"{r.path}: the signature does not verify as {r.person}"
        elif sig == "unsigned" and inp.signatures_required:
            problem = f"{r.path}: not signed by {r.person}"
        elif r.person not in inp.known_people:
            problem = f"{r.path}: {r.person} is not a person in keys/people.toml"
        elif inp.people_left(r.person, r.recorded.date()):
            problem = f"{r.path}: {r.person} had left when this was recorded"
        elif r.sent > r.recorded + SKEW:
            problem = f"{r.path}: sent {iso(r.sent)}, after it was recorded"
        else:
            # At a chosen `now`, a well-placed record made after it is not made yet.
            if (
                not inp.now_is_real
                and r.recorded > inp.now
                and (placed is None or time_problem(r.recorded, r.recorded, placed) is None)
            ):
                continue
            why = time_problem(r.recorded, inp.now, placed)
            if why is not None:
                problem = f"{r.path}: {why}"
        if problem is not None:
            out.flags.append((r.contract, problem))
            continue
        out.by_key.setdefault(r.key, []).append(r)
    return out


PAGE_KINDS = ("page", "escalation")


def pages_sent(by_key: Mapping[str, list[DeliveryRecord]]) -> list[PageSent]:
    """The pages that left the machine: delivered page and escalation attempts."""
    return [
        PageSent(
            r.violation, r.contract, r.recipient, r.role or "primary", r.sent, r.channel, r.path
        )
        for attempts in by_key.values()
        for r in attempts
        if r.outcome == "delivered" and r.kind in PAGE_KINDS and r.violation
    ]


def paged_violations(by_key: Mapping[str, list[DeliveryRecord]]) -> dict[str, OpenedViolation]:
    """Each paged violation's term and opening time, as the page records name them (the
    page test judges a page from the records alone, never folding the run history)."""
    opened: dict[str, OpenedViolation] = {}
    for attempts in by_key.values():
        for r in attempts:
            if r.kind in PAGE_KINDS and r.violation and r.opened is not None:
                opened.setdefault(
                    r.violation, OpenedViolation(r.violation, r.contract, r.term, r.opened, "", "")
                )
    return opened
