"""A channel as it is used on this machine: the repository's declaration completed from the
user's side (the environment and ``$XDG_CONFIG_HOME/handshake-workbench/config.toml``).

Decisions (docs/notify.md, "Secrets"):

* **Secrets come from the user's side only**: PagerDuty routing keys, the Slack webhook
  URL (which is itself the secret), a webhook's bearer token, SMTP credentials, the
  PagerDuty REST token for reading acknowledgements back. The environment variable names
  are fixed by the channel's name (``WORKBENCH_CHANNEL_<NAME>_<FIELD>``, per target
  ``..._<FIELD>__<TARGET>``), never by the repository.
* **A secret goes only where the user's side says.** A value set on the user's side wins
  over the repository's; a secret is sent only to a URL or host the user's side names, or
  to PagerDuty's own endpoint. A commit that points ``url`` or ``host`` elsewhere gets the
  message without the secret, or nothing (refused, with the reason), never the secret.
* **What a ``command`` channel runs is the user's choice**: the program comes from the
  user's side; the repository only names the channel. A commit never decides what runs on
  the machine that notifies.
* Every secret value is redacted from answers, errors and records (``Redactor``).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.model.channels import (
    PAGERDUTY_API_URL,
    PAGERDUTY_EVENTS_URL,
    EmailChannel,
    WebhookChannel,
    env_name,
)

REDACTED = "[secret]"
SECRET_FIELDS = ("token", "routing_key", "password", "api_token")


class Redactor:
    """Replaces every secret value in a text; secrets shorter than 4 characters are not
    secrets worth the name and are refused at resolution instead."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets: list[str] = []
        for s in secrets or []:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)
            self.secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, REDACTED)
        return text


@dataclass
class UserSide:
    """What the user's side says about one channel (and one target of it)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # field -> where it came from

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")


FIELDS = (
    "url",
    "token",
    "routing_key",
    "host",
    "port",
    "username",
    "password",
    "ca_file",
    "command",
    "api_token",
    "api_url",
    "read_acks",
)


def user_side(
    channel: str, target: str, env: Mapping[str, str], config: Mapping[str, Any]
) -> UserSide:
    """The user's values for `channel` (and `target`): the environment over the config
    file, a target's own value over the channel's."""
    out = UserSide()
    table = config.get("channels") if isinstance(config.get("channels"), dict) else {}
    mine = table.get(channel) if isinstance(table, dict) else None
    mine = mine if isinstance(mine, dict) else {}
    targets = mine.get("targets") if isinstance(mine.get("targets"), dict) else {}
    per_target = targets.get(target) if target and isinstance(targets, dict) else None
    per_target = per_target if isinstance(per_target, dict) else {}
    for name in FIELDS:
        candidates = [
            (env.get(env_name(channel, name, target)) if target else None, "environment"),
            (per_target.get(name), "your config"),
            (env.get(env_name(channel, name)), "environment"),
            (mine.get(name), "your config"),
        ]
        for value, source in candidates:
            if value not in (None, ""):
                out.values[name] = value
                out.sources[name] = source
                break
    return out


@dataclass
class Resolved:
    """A channel ready to send through, or why it cannot (`problem`)."""

    name: str
    kind: str
    target: str
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    routing_key: str | None = None
    host: str | None = None
    port: int = 587
    starttls: bool = True
    sender: str = ""
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    command: list[str] | None = None
    severity: str = "critical"
    api_url: str = PAGERDUTY_API_URL
    api_token: str | None = None
    read_acks: bool = False
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    redact: Redactor = field(default_factory=Redactor)

    @property
    def route(self) -> str:
        return f"{self.name}:{self.target}" if self.target else self.name


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def resolve(
    name: str,
    declared: Any,
    target: str,
    env: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
) -> Resolved:
    """The channel `name` (its repository declaration `declared`) for `target`."""
    env = os.environ if env is None else env
    config = {} if config is None else config
    kind = declared.kind
    user = user_side(name, target, env, config)
    out = Resolved(name, kind, target)
    for secret in SECRET_FIELDS:
        out.redact.add(str(user.get(secret)) if user.has(secret) else None)
        # Every target's value too: an answer about one target may quote another's.
        prefix = env_name(name, secret)
        for var, value in env.items():
            if var == prefix or var.startswith(prefix + "__"):
                out.redact.add(value)
    if kind == "slack":
        # The incoming-webhook URL is the secret.
        out.redact.add(str(user.get("url")) if user.has("url") else None)
    short = [
        f
        for f in ("token", "routing_key", "password", "api_token")
        if user.has(f) and len(str(user.get(f))) < 4
    ]
    if short:
        out.problem = f"{', '.join(short)} is too short to be a real secret"
        return out
    if kind == "webhook":
        assert isinstance(declared, WebhookChannel)
        out.url = str(user.get("url") or declared.url)
        if user.has("token"):
            if not user.has("url"):
                out.problem = (
                    f"refusing to send the token to {declared.url}, a URL the repository names: "
                    f"a secret goes only where your side says (set {env_name(name, 'url')} or "
                    f"[channels.{name}] url in your config)"
                )
                return out
            out.headers["Authorization"] = f"Bearer {user.get('token')}"
        if user.has("url") and str(user.get("url")) != declared.url:
            out.notes.append(f"{name}: your url is used, not the repository's")
    elif kind == "slack":
        if not user.has("url"):
            out.problem = (
                f"no Slack webhook URL for channel {name}: it is a secret, set "
                f"{env_name(name, 'url')} (or [channels.{name}] url in your config)"
            )
            return out
        out.url = str(user.get("url"))
    elif kind == "pagerduty":
        out.severity = getattr(declared, "severity", "critical")
        if not user.has("routing_key"):
            where = (
                env_name(name, "routing_key", target) if target else env_name(name, "routing_key")
            )
            out.problem = (
                f"no PagerDuty routing key for {out.route}: set {where} or "
                f"{env_name(name, 'routing_key')} (or routing_key in [channels.{name}] of your "
                "config)"
            )
            return out
        out.routing_key = str(user.get("routing_key"))
        out.url = str(user.get("url") or PAGERDUTY_EVENTS_URL)
        out.api_url = str(user.get("api_url") or PAGERDUTY_API_URL).rstrip("/")
        out.api_token = str(user.get("api_token")) if user.has("api_token") else None
        out.read_acks = _flag(user.get("read_acks")) and out.api_token is not None
    elif kind == "email":
        assert isinstance(declared, EmailChannel)
        out.host = str(user.get("host") or declared.host)
        out.port = int(user.get("port") or declared.port)
        out.starttls = declared.starttls
        out.sender = declared.from_
        out.ca_file = str(user.get("ca_file")) if user.has("ca_file") else None
        if user.has("username") or user.has("password"):
            if not user.has("host"):
                out.problem = (
                    f"refusing to send SMTP credentials to {declared.host}, a host the "
                    f"repository names: set {env_name(name, 'host')} (or [channels.{name}] host "
                    "in your config) to the server you trust"
                )
                return out
            if not out.starttls:
                out.problem = (
                    f"channel {name} has starttls = false: credentials are never sent over a "
                    "connection without TLS"
                )
                return out
            out.username = str(user.get("username") or "")
            out.password = str(user.get("password") or "")
    elif kind == "command":
        raw = user.get("command")
        if raw in (None, ""):
            out.problem = (
                f"channel {name} runs a program of your choice: set {env_name(name, 'command')} "
                f"(or [channels.{name}] command = [...] in your config); the repository never "
                "decides what runs here"
            )
            return out
        argv = shlex.split(raw) if isinstance(raw, str) else [str(a) for a in raw]
        if not argv:
            out.problem = f"channel {name}: the command is empty"
            return out
        out.command = argv
    return out
