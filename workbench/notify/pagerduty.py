"""Reading a page's acknowledgement back from PagerDuty (REST API v2), when the user's config
allows it (``read_acks`` and an ``api_token`` on the user's side, docs/notify.md).

The incident is found by the page's ``dedup_key`` (PagerDuty's ``incident_key``); its first
acknowledgement gives the time and the PagerDuty user, whose e-mail is matched to a person
in keys/people.toml by the caller. Never raises: a failure is reported, and the page simply
stays unacknowledged until a later run or `workbench page ack`.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime

from workbench.notify.config import Resolved
from workbench.notify.send import get_json


@dataclass(frozen=True)
class RemoteAck:
    acknowledged: datetime
    user_id: str
    user_name: str
    user_email: str
    incident: str


def read_ack(ch: Resolved, dedup_key: str, now: datetime) -> tuple[RemoteAck | None, str]:
    """The incident's first acknowledgement (None if none yet), and what happened."""
    if not ch.read_acks or ch.api_token is None:
        return None, "reading acknowledgements back is not enabled in your config"
    headers = {
        "Authorization": f"Token token={ch.api_token}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }
    query = urllib.parse.urlencode({"incident_key": dedup_key})
    answer = get_json(f"{ch.api_url}/incidents?{query}", headers, ch.redact, now)
    if not answer.ok or not isinstance(answer.body, dict):
        return None, f"PagerDuty: {answer.detail}"
    incidents = answer.body.get("incidents")
    if not isinstance(incidents, list) or not incidents:
        return None, "PagerDuty has no incident for this page yet"
    acks: list[tuple[datetime, dict[str, object], str]] = []
    for incident in incidents:
        if not isinstance(incident, dict):
            continue
        for a in incident.get("acknowledgements") or []:
            if not isinstance(a, dict) or not isinstance(a.get("acknowledger"), dict):
                continue
            try:
                at = datetime.fromisoformat(str(a.get("at")).replace("Z", "+00:00"))
            except ValueError:
                continue
            if at.tzinfo is None:
                continue
            acks.append((at.astimezone(UTC), a["acknowledger"], str(incident.get("id", ""))))
    if not acks:
        return None, "not acknowledged in PagerDuty yet"
    at, who, incident_id = min(acks, key=lambda x: x[0])
    user_id = str(who.get("id", ""))
    name = str(who.get("summary", ""))
    email = str(who.get("email", ""))
    if not email and user_id:
        user = get_json(
            f"{ch.api_url}/users/{urllib.parse.quote(user_id, safe='')}", headers, ch.redact, now
        )
        body = user.body if isinstance(user.body, dict) else {}
        found = body.get("user")
        record = found if isinstance(found, dict) else {}
        email = str(record.get("email", ""))
    return RemoteAck(at, user_id, name, email, incident_id), "acknowledged in PagerDuty"
