"""Sending one event through one resolved channel, and what the remote answered.

Standard library only: ``urllib`` for HTTP (webhook, Slack, PagerDuty), ``smtplib`` and
``email`` for SMTP, ``subprocess`` for a command. Never follows an HTTP redirect (a redirect
would carry a bearer token to another host); never raises: every failure is an ``Answer``
with the reason, secrets redacted. Nothing here decides what is due or records anything.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any

from workbench.model import safe_text
from workbench.notify.config import Resolved
from workbench.notify.events import Event

TIMEOUT = 20.0
ANSWER_MAX = 300


@dataclass(frozen=True)
class Answer:
    ok: bool
    detail: str  # what the remote said, one line, secrets redacted
    status: int | None = None
    retry_after: datetime | None = None
    body: Any = None  # the parsed JSON answer, when there was one

    @property
    def retryable(self) -> bool:
        return not self.ok


def _one_line(text: str, redact: Any) -> str:
    text = redact(text)
    text = " ".join(text.split())
    return text[:ANSWER_MAX] + ("…" if len(text) > ANSWER_MAX else "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # urllib then raises HTTPError with the 3xx: not followed


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect())


def _retry_after(value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=min(int(value), 6 * 3600))
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def post_json(
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    redact: Any,
    now: datetime,
    ok_statuses: range = range(200, 300),
) -> Answer:
    # Repository text is data here, but no raw bidi, C1 or invisible character leaves the
    # machine in it: the same JSON escapes as `--json` (docs/architecture.md).
    body = safe_text.json_dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", "handshake-workbench")
    for k, v in headers.items():
        request.add_header(k, v)
    return _exchange(request, redact, now, ok_statuses)


def get_json(url: str, headers: dict[str, str], redact: Any, now: datetime) -> Answer:
    request = urllib.request.Request(url, method="GET")
    request.add_header("Accept", "application/json")
    request.add_header("User-Agent", "handshake-workbench")
    for k, v in headers.items():
        request.add_header(k, v)
    return _exchange(request, redact, now, range(200, 300))


def _exchange(
    request: urllib.request.Request, redact: Any, now: datetime, ok_statuses: range
) -> Answer:
    try:
        with _opener().open(request, timeout=TIMEOUT) as response:
            status = response.status
            raw = response.read(64 * 1024)
            retry = _retry_after(response.headers.get("Retry-After"), now)
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            raw = exc.read(64 * 1024)
        except OSError:
            raw = b""
        retry = _retry_after(exc.headers.get("Retry-After") if exc.headers else None, now)
        if 300 <= status < 400:
            return Answer(False, f"{status}: redirected; not followed", status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Answer(False, _one_line(f"cannot reach the remote: {reason}", redact))
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        parsed = None
    return Answer(
        status in ok_statuses, _one_line(f"{status} {text}", redact), status, retry, parsed
    )


# --------------------------------------------------------------------------- per kind


def send(event: Event, ch: Resolved, org: str, domain: str, now: datetime) -> Answer:
    """Deliver `event` through `ch`; never raises."""
    if ch.problem is not None:
        return Answer(False, ch.problem)
    try:
        if ch.kind == "webhook":
            return _webhook(event, ch, org, now)
        if ch.kind == "slack":
            return _slack(event, ch, now)
        if ch.kind == "pagerduty":
            return _pagerduty(event, ch, org, now)
        if ch.kind == "email":
            return _email(event, ch, org, domain, now)
        if ch.kind == "command":
            return _command(event, ch, org, now)
    except Exception as exc:  # noqa: BLE001 - a delivery failure is an answer, not a crash
        return Answer(False, _one_line(f"{type(exc).__name__}: {exc}", ch.redact))
    return Answer(False, f"unknown channel kind {ch.kind!r}")


def _webhook(event: Event, ch: Resolved, org: str, now: datetime) -> Answer:
    assert ch.url is not None
    headers = {**ch.headers, "Idempotency-Key": event.key_sha256}
    return post_json(ch.url, event.to_json(org, now), headers, ch.redact, now)


def slack_text(text: str) -> str:
    """Repository text for Slack's mrkdwn: controls visible, and `&`, `<`, `>` escaped as
    Slack asks, so a title cannot write `<!channel>` (a mention) or a link."""
    text = safe_text.terminal(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack(event: Event, ch: Resolved, now: datetime) -> Answer:
    assert ch.url is not None
    subject = slack_text(safe_text.line(event.subject))
    payload: dict[str, Any] = {"text": f"*{subject}*\n{slack_text(event.text)}"}
    if ch.target:
        payload["channel"] = ch.target  # honoured by legacy webhooks; ignored by app ones
    return post_json(ch.url, payload, {}, ch.redact, now)


def pagerduty_payload(event: Event, ch: Resolved, org: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": ch.routing_key,
        "event_action": event.action,
        "dedup_key": event.dedup_key,
    }
    if event.action == "trigger":
        body["payload"] = {
            "summary": safe_text.line(event.subject)[:1024],
            "source": f"handshake-workbench/{org}"[:255],
            "severity": ch.severity,
            "component": event.contract or None,
            "group": ch.target or None,
            "class": event.kind,
            "custom_details": {
                "text": event.text,
                "violation": event.violation,
                "recipient": event.recipient,
                "role": event.role,
                **event.details,
            },
        }
    return body


def _pagerduty(event: Event, ch: Resolved, org: str, now: datetime) -> Answer:
    assert ch.url is not None
    answer = post_json(ch.url, pagerduty_payload(event, ch, org), {}, ch.redact, now)
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.ok and body.get("status") not in (None, "success"):
        return Answer(False, answer.detail, answer.status, answer.retry_after, body)
    return answer


def _email(event: Event, ch: Resolved, org: str, domain: str, now: datetime) -> Answer:
    assert ch.host is not None
    address = event.recipient_email or event.target
    if not address or "@" not in address:
        return Answer(False, f"no e-mail address for {event.recipient or event.target!r}")
    msg = EmailMessage()
    msg["From"] = ch.sender
    msg["To"] = address
    msg["Subject"] = safe_text.line(" ".join(event.subject.split()))[:200]
    msg["Date"] = format_datetime(now)
    # Stable per delivery: a receiver drops the second copy of an at-least-once resend.
    msg["Message-ID"] = f"<{event.key_sha256[:40]}@{domain}>"
    msg["X-Workbench-Delivery"] = event.key_sha256
    # Quoted-printable: a report's table rows are longer than SMTP's 998-octet line limit.
    msg.set_content(
        safe_text.terminal(
            f"{event.text}\n\n-- \nHandshake Workbench, {org}\nDelivery {event.key}\n"
        ),
        cte="quoted-printable",
    )
    context = ssl.create_default_context(cafile=ch.ca_file) if ch.starttls else None
    try:
        with smtplib.SMTP(ch.host, ch.port, timeout=TIMEOUT) as smtp:
            smtp.ehlo()
            if context is not None:
                smtp.starttls(context=context)
                smtp.ehlo()
            if ch.username:
                smtp.login(ch.username, ch.password or "")
            code, text = smtp.mail(ch.sender)
            if code != 250:
                return Answer(False, _one_line(f"MAIL FROM: {code} {text!r}", ch.redact), code)
            code, text = smtp.rcpt(address)
            if code not in (250, 251):
                return Answer(False, _one_line(f"RCPT TO: {code} {text!r}", ch.redact), code)
            # CRLF line ends: smtplib sends bytes as they are.
            code, text = smtp.data(msg.as_bytes(policy=SMTP_POLICY))
            reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            return Answer(code == 250, _one_line(f"{code} {reply}", ch.redact), code)
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return Answer(False, _one_line(f"{exc.smtp_code} {reply}", ch.redact), exc.smtp_code)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return Answer(False, _one_line(f"SMTP {ch.host}:{ch.port}: {exc}", ch.redact))


def _command(event: Event, ch: Resolved, org: str, now: datetime) -> Answer:
    assert ch.command is not None
    data = safe_text.json_dumps(event.to_json(org, now)).encode("utf-8")
    try:
        done = subprocess.run(  # noqa: S603 - the user's own program (docs/notify.md)
            ch.command, input=data, capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return Answer(False, _one_line(f"cannot run {ch.command[0]}: {exc}", ch.redact))
    out = (done.stdout or done.stderr or b"").decode("utf-8", "replace")
    return Answer(done.returncode == 0, _one_line(f"exit {done.returncode}: {out}", ch.redact))
