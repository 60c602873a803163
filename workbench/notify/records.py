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

Reading the records and which of them count is the pure layer's
(``governance.deliveries``, also used by both bundle verifiers); re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from workbench.governance.deliveries import (
    DeliveryRecord,
    Outcome,
    delivery_path,
    delivery_person,
    key_sha256,
    parse_deliveries,
    stamp,
)
from workbench.model.record_folders import DELIVERIES_DIR

__all__ = [
    "DELIVERIES_DIR",
    "FIRST_BACKOFF",
    "MAX_BACKOFF",
    "DeliveryRecord",
    "Outcome",
    "Progress",
    "delivery_path",
    "delivery_person",
    "key_sha256",
    "next_attempt",
    "parse_deliveries",
    "progress",
    "stamp",
]

FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)


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
    at: datetime = last.sent + wait
    if last.retry_after is not None:
        # A remote cannot put a delivery off for longer than the longest backoff.
        at = max(at, min(last.retry_after, last.sent + MAX_BACKOFF))
    return at
