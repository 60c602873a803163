"""Delivery records: one signed, committed file per delivery attempt, and the rules that
make `workbench notify` idempotent and patient (pure: bytes and times in, decisions out).

    notify/deliveries/<key16>/<stamp>.<person>.toml

`<key16>` names the delivery (the first 16 hex digits of the sha256 of its key, e.g.
``page:v-f88454b602:primary``), so every attempt at one delivery sits in one folder and
each attempt is its own file (unique per sender and moment: two clones never write the
same file). A record says what was sent, to which channel and target, when, the attempt
number, the outcome and what the remote answered (secrets redacted before it is written).

* a delivery is **done** once a record that counts says ``delivered``; it is never sent
  again (``done``);
* a failed attempt is retried on a later run, not before ``next_attempt``: 1 minute after
  the first failure, doubling to at most 6 hours, and never before a ``Retry-After`` the
  remote gave (a 429);
* the send happens before the record is committed, so a notifier killed in between sends
  once more on the next run: **at least once**. Every event carries its key (PagerDuty's
  ``dedup_key``, an ``Idempotency-Key`` header, the e-mail's ``Message-ID``) so that the
  receiver can drop the duplicate.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from workbench.governance.records import (
    optional_time_field,
    read_record_folder,
    stamp,
    text_field,
    time_field,
)
from workbench.model.record_folders import DELIVERIES_DIR

Outcome = Literal["delivered", "failed"]
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)

_NAME = re.compile(
    r"(?P<key>[0-9a-f]{16})/(?P<stamp>\d{8}T\d{6}Z)\.(?P<person>[a-z0-9][a-z0-9._-]*)\.toml"
)


def key_sha256(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


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
    return read_record_folder(
        files, DELIVERIES_DIR, _NAME, "delivery record", _delivery, _delivery_named
    )


def _delivery(path: str, raw: bytes, data: dict[str, Any]) -> DeliveryRecord:
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
        recorded=time_field(data, "recorded"),
        sent=time_field(data, "sent"),
        attempt=_int(data.get("attempt")),
        outcome=text_field(data, "outcome"),
        answer=str(data.get("answer", "")),
        retry_after=optional_time_field(data, "retry_after"),
        dedup_key=str(data.get("dedup_key", "")),
        role=str(data.get("role", "")),
        term=str(data.get("term", "")),
        opened=optional_time_field(data, "opened"),
    )
    if rec.outcome not in ("delivered", "failed"):
        raise ValueError(f"outcome must be 'delivered' or 'failed', got {rec.outcome!r}")
    if rec.key != key_sha256(rec.what):
        raise ValueError("key is not the sha256 of what")
    return rec


def _delivery_named(rec: DeliveryRecord) -> dict[str, str]:
    return {"key": rec.key[:16], "person": rec.person}


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"attempt must be a positive integer, got {value!r}")


# --------------------------------------------------------------------------- what is due


@dataclass(frozen=True)
class Progress:
    """Where one delivery stands, from the records that count."""

    delivered: DeliveryRecord | None
    failures: int  # attempts since the last delivery (all of them, when never delivered)
    last: DeliveryRecord | None  # the latest attempt
    next_at: datetime | None  # not before this (None: now)

    @property
    def done(self) -> bool:
        return self.delivered is not None


def progress(attempts: list[DeliveryRecord]) -> Progress:
    """The state of one delivery from its attempts that count (any order)."""
    ordered = sorted(attempts, key=lambda r: (r.sent, r.recorded, r.path))
    delivered = next((r for r in ordered if r.outcome == "delivered"), None)
    if delivered is not None:
        return Progress(delivered, 0, ordered[-1], None)
    if not ordered:
        return Progress(None, 0, None, None)
    last = ordered[-1]
    return Progress(None, len(ordered), last, next_attempt(len(ordered), last))


def next_attempt(failures: int, last: DeliveryRecord) -> datetime:
    """After `failures` failed attempts, the last being `last`: 1 minute, doubling, at most
    6 hours after it, and not before the remote's Retry-After (itself at most 6 hours)."""
    wait = min(FIRST_BACKOFF * (2 ** max(0, failures - 1)), MAX_BACKOFF)
    at = last.sent + wait
    if last.retry_after is not None:
        # A remote cannot put a delivery off for longer than the longest backoff.
        at = max(at, min(last.retry_after, last.sent + MAX_BACKOFF))
    return at
