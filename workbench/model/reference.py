"""Generate the contract reference (docs/contracts.md) from the models so it cannot drift.

Run `python -m workbench.model.reference` to print the generated section; a test checks
that docs/contracts.md contains exactly this text between the markers.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from workbench.model.channels import (
    CommandChannel,
    EmailChannel,
    NotifySettings,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
)
from workbench.model.clocks import ClockDefinition
from workbench.model.contract import (
    ChangeProtocol,
    Contract,
    Escalation,
    Exemption,
    Parties,
    Review,
    Seam,
)
from workbench.model.duration import Duration
from workbench.model.people import PeopleFile, Person, Team
from workbench.model.policy_floor import GateFloor, Limits
from workbench.model.settings import (
    Defaults,
    EvidenceLimits,
    Exchange,
    Gate,
    Org,
    Policy,
    Settings,
)
from workbench.model.terms import (
    TERM_KINDS,
    Assertion,
    ExcludedSource,
    GroupBounds,
    IncludedSource,
    TermBase,
)

BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m workbench.model.reference) -->"
END = "<!-- END GENERATED REFERENCE -->"


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(annotation))
    if origin is list:
        return f"list of {_type_name(get_args(annotation)[0])}"
    if origin is dict:
        k, v = get_args(annotation)
        return f"table of {_type_name(k)} → {_type_name(v)}"
    if origin is typing.Literal:
        return ", ".join(f'`"{a}"`' for a in get_args(annotation))
    if annotation is type(None):
        return "none"
    if annotation is Duration:
        return "duration"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        if issubclass(annotation, enum.Enum):
            return ", ".join(f'`"{m.value}"`' for m in annotation)
        return {
            "str": "string",
            "int": "integer",
            "float": "number",
            "bool": "boolean",
            "date": "date",
        }.get(annotation.__name__, annotation.__name__)
    return str(annotation)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        # pydantic types the factory as maybe taking the validated data; ours never do.
        value = info.default_factory()  # type: ignore[call-arg]  # factories here take no data
        if isinstance(value, BaseModel):
            return "(table)"
        return f"`{value!r}`".replace("'", '"') if value else "empty"
    if info.default is None or info.default is PydanticUndefined:
        return "—"
    value = info.default
    if hasattr(value, "value"):
        value = value.value
    return f"`{value!r}`".replace("'", '"')


def model_table(model: type[BaseModel], skip: tuple[str, ...] = ()) -> str:
    lines = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        meaning = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {_type_name(info.annotation)} | {_default(info)} | {meaning} |")
    return "\n".join(lines)


def section(model: type[BaseModel], title: str | None = None, skip: tuple[str, ...] = ()) -> str:
    doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
    heading = f"### {title or model.__name__}"
    anchor = f'<a id="{model.__name__.lower()}"></a>'
    body = [anchor, heading, ""] + ([doc, ""] if doc else []) + [model_table(model, skip), ""]
    return "\n".join(body)


def generate() -> str:
    parts = [BEGIN, "", "## Contract files (`contracts/<id>.toml`)", ""]
    model: type[BaseModel]
    for model in (Contract, Seam, Parties, Review, Escalation, ChangeProtocol, Exemption):
        parts.append(section(model))
    parts.append(section(ClockDefinition))
    parts += ["## Terms", "", "Every term has `id`, `kind`, `owner` and these common fields:", ""]
    parts.append(section(TermBase, "Common term fields"))
    for kind, term_model in TERM_KINDS.items():
        parts.append(section(term_model, f'kind = "{kind}"', skip=tuple(TermBase.model_fields)))
    for model in (GroupBounds, IncludedSource, ExcludedSource, Assertion):
        parts.append(section(model))
    parts += ["## People (`keys/people.toml`)", ""]
    for model in (PeopleFile, Team, Person):
        parts.append(section(model))
    parts += ["## Settings (`workbench.toml`)", ""]
    for model in (Settings, Org, Defaults, Gate, EvidenceLimits, Exchange, NotifySettings):
        parts.append(section(model))
    parts += [
        "### Channels (`[channels.NAME]`)",
        "",
        "Secrets (routing keys, the Slack webhook URL, tokens, SMTP credentials) and the "
        "program a `command` channel runs never go here: see docs/notify.md.",
        "",
    ]
    for model in (WebhookChannel, SlackChannel, PagerDutyChannel, EmailChannel, CommandChannel):
        parts.append(
            section(model, f'kind = "{get_args(model.model_fields["kind"].annotation)[0]}"')
        )
    parts += [
        "## Approval policy (`keys/policy.toml`, table `[approval]`)",
        "",
        "Signed with the key registry: a change needs the registry admins' signatures.",
        "",
        section(Policy, "Approval policy"),
        "## Signed floor (`keys/policy.toml`, tables `[gate]` and `[limits]`)",
        "",
        "Signed with the key registry: what workbench.toml can only tighten. Absent tables "
        "mean these defaults.",
        "",
        section(GateFloor, "Gate floor (`[gate]`)"),
        section(Limits, "Limits (`[limits]`)"),
    ]
    parts.append(END)
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(generate(), end="")
