"""Where the workbench sends pages, notices, summaries and reminders: `[channels.NAME]` in
workbench.toml, and `[notify]` for what goes where.

A channel names a mechanism and the non-secret half of its address. Secrets (a PagerDuty
routing key, a Slack webhook URL, SMTP credentials, a bearer token) and the program a
`command` channel runs are never read from the repository: they come from the environment
or the user's own config (``workbench.notify.config``), because anyone who can push a
commit could otherwise point them anywhere (docs/notify.md, "Secrets").

An escalation's ``channel = "NAME:target"`` and a change protocol's ``channel`` name one of
these channels; ``check_channel_refs`` reports one that does not exist at its position.

Pure: models and checks, no I/O.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field

from workbench.model.base import Strict
from workbench.model.duration import DurationField

# Words that name a secret: a table holding one is refused with a message saying where
# the secret belongs (a commit is forever, and every clone has it).
SECRET_KEYS = frozenset(
    {
        "routing_key",
        "integration_key",
        "api_key",
        "api_token",
        "token",
        "password",
        "secret",
        "username",
        "webhook_url",
        "authorization",
    }
)
SECRET_MESSAGE = (
    "{key}: secrets never go in the repository (every clone and every commit would keep "
    "them); set it in the environment ({env}) or in your own config, see docs/notify.md#secrets"
)
CHANNEL_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_API_URL = "https://api.pagerduty.com"
_URL = r"^https?://[^\s/?#]+(?:/[^\s]*)?$"


def env_name(channel: str, field: str, target: str | None = None) -> str:
    """The environment variable that holds `field` of a channel (for one `target`):
    ``WORKBENCH_CHANNEL_PAGERDUTY_ROUTING_KEY`` or ``..._ROUTING_KEY__LOAN_DECISIONING``.
    Fixed by the channel's name, never by the repository, so a commit cannot make the
    workbench read (and send) another variable."""
    base = f"WORKBENCH_CHANNEL_{_env_part(channel)}_{_env_part(field)}"
    return f"{base}__{_env_part(target)}" if target else base


def _env_part(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", text.upper())


class _Channel(Strict):
    # A secret written here (routing_key, password, ...) is an unknown field, reported at
    # its line with `SECRET_MESSAGE` (model.state): a commit is forever, in every clone.
    description: str = Field(default="", max_length=200)


class WebhookChannel(_Channel):
    """A JSON POST of the event to `url` (a bearer token, if any, from the environment)."""

    kind: Literal["webhook"]
    url: str = Field(pattern=_URL, max_length=500, description="where the event is POSTed")


class SlackChannel(_Channel):
    """A Slack incoming webhook. Its URL is a secret: it comes from the environment or the
    user's config, never from the repository."""

    kind: Literal["slack"]


class PagerDutyChannel(_Channel):
    """PagerDuty Events API v2: trigger, acknowledge and resolve with a stable dedup_key
    per violation. The routing key comes from the environment or the user's config."""

    kind: Literal["pagerduty"]
    severity: Literal["critical", "error", "warning", "info"] = "critical"


class EmailChannel(_Channel):
    """SMTP with STARTTLS; credentials (if the server needs them) from the environment."""

    kind: Literal["email"]
    host: str = Field(pattern=r"^[A-Za-z0-9.-]+$", max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(
        default=True, description="upgrade with STARTTLS; credentials are never sent without it"
    )
    from_: str = Field(
        alias="from",
        pattern=r"^[^@\s<>\x00-\x1f\x7f]+@[^@\s<>\x00-\x1f\x7f]+\.[^@\s<>\x00-\x1f\x7f]+$",
        max_length=200,
    )


class CommandChannel(_Channel):
    """A local program that gets the event as JSON on stdin. The repository only names the
    channel: the program is the one your own config or environment names (a commit never
    decides what runs on the machine that notifies)."""

    kind: Literal["command"]


Channel = Annotated[
    WebhookChannel | SlackChannel | PagerDutyChannel | EmailChannel | CommandChannel,
    Field(discriminator="kind"),
]
CHANNEL_KINDS = ("webhook", "slack", "pagerduty", "email", "command")


class NotifySettings(Strict):
    """What `workbench notify` sends where, and how early it reminds."""

    people: str | None = Field(
        default=None,
        pattern=CHANNEL_NAME,
        description="the channel for messages to one person (change notices, reminders, the "
        "weekly summary); the target is the person's email",
    )
    remind_review_before: DurationField = Field(  # type: ignore[assignment]
        default="P3D", description="remind the reviewers this long before a review is due"
    )
    remind_ack_before: DurationField = Field(  # type: ignore[assignment]
        default="PT12H", description="remind a recipient this long before an ack is due"
    )


def split_ref(ref: str) -> tuple[str, str]:
    """``"pagerduty:loan-decisioning"`` -> ("pagerduty", "loan-decisioning"); no colon:
    the whole text is the channel's name and the target is empty."""
    name, _, target = ref.strip().partition(":")
    return name.strip(), target.strip()


def channel_problem(ref: str, channels: dict[str, Any]) -> str | None:
    """Why a ``NAME:target`` reference does not resolve to a declared channel (None: it
    does). Only asked when workbench.toml declares channels at all."""
    name, target = split_ref(ref)
    if not name:
        return f"{ref!r} names no channel; write NAME:target with NAME from [channels]"
    if name not in channels:
        known = ", ".join(sorted(channels)) or "none"
        return (
            f"channel {name!r} is not declared in workbench.toml [channels] (declared: {known}); "
            "nobody would be reached through it"
        )
    kind = getattr(channels[name], "kind", "")
    if kind == "pagerduty" and not target:
        return f"{ref!r}: a PagerDuty channel needs a target (the service), e.g. {name}:my-service"
    return None
