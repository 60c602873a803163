"""What `workbench notify` sends: one event per delivery, with a stable key.

The key names the delivery, not the attempt (``page:v-f88454b602:primary``,
``weekly:2026-W48:helen.brooks``), so every attempt of a delivery carries the same key and
a receiver can drop a duplicate (docs/notify.md, "At least once"). Pages of one violation
share one PagerDuty ``dedup_key`` per role (``handshake-v-f88454b602``, and
``...-backup`` for the escalation): triggering twice is one incident, and acknowledge and
resolve reach the same incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.governance.timing import iso
from workbench.notify.records import key_sha256

EVENT_FORMAT = "handshake-workbench/event@1"
# kind -> what it is, for people reading a delivery list
KINDS = {
    "page": "page the escalation primary about a newly opened violation",
    "escalation": "page the backup: the primary did not acknowledge within ack_sla",
    "pd-acknowledge": "tell PagerDuty the page was acknowledged in the workbench",
    "pd-resolve": "tell PagerDuty the violation is no longer open",
    "notice": "a change notice to a recipient who must acknowledge it",
    "notice-post": "a change notice posted to the contract's change channel",
    "remind-ack": "a reminder before an acknowledgement is due",
    "remind-review": "a reminder before a review is due",
    "weekly": "the weekly living-attestation summary to the named reviewer",
    "remind-clock": "a reminder to a clock's owner before its deadline",
    "clock-expired": "a clock's deadline passed without it being stopped",
}


def dedup_key(violation: str, role: str = "") -> str:
    """One PagerDuty incident per violation and role: the backup's page is an incident of
    its own (PagerDuty would fold a second trigger with the same key into the first)."""
    base = f"handshake-{violation}"
    return base if role in ("", "primary") else f"{base}-{role}"


@dataclass(frozen=True)
class Event:
    key: str  # the delivery key: stable across attempts
    kind: str
    channel: str  # the channel's name in workbench.toml
    target: str  # the part after ':' (a PagerDuty service, a Slack channel) or an address
    subject: str  # one line
    text: str  # the body (plain text)
    recipient: str = ""  # a person id, when the event is for one person
    recipient_name: str = ""
    recipient_email: str = ""
    contract: str = ""
    violation: str = ""
    role: str = ""  # primary | backup (pages)
    action: str = "trigger"  # PagerDuty event_action
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key_sha256(self) -> str:
        return key_sha256(self.key)

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.violation, self.role) if self.violation else self.key_sha256[:32]

    @property
    def route(self) -> str:
        return f"{self.channel}:{self.target}" if self.target else self.channel

    def to_json(self, org: str, created: datetime) -> dict[str, Any]:
        """The event as a webhook, a command's stdin and the record see it."""
        return {
            "format": EVENT_FORMAT,
            "key": self.key,
            "key_sha256": self.key_sha256,
            "dedup_key": self.dedup_key,
            "kind": self.kind,
            "org": org,
            "created": iso(created),
            "subject": self.subject,
            "text": self.text,
            "channel": self.channel,
            "target": self.target,
            "recipient": {
                "id": self.recipient,
                "name": self.recipient_name,
                "email": self.recipient_email,
            }
            if self.recipient
            else None,
            "contract": self.contract or None,
            "violation": self.violation or None,
            "role": self.role or None,
            "details": self.details,
        }
