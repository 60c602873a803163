"""`workbench.toml`: organisation, signing domain, default cadences and gate policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from workbench.model.base import Slug, Strict
from workbench.model.channels import CHANNEL_NAME, Channel, NotifySettings
from workbench.model.clocks import ClockDefinition
from workbench.model.duration import DurationField

GateRule = Literal[
    "valid",
    "approved",
    "review_overdue",
    "notice_unacknowledged",
    "violation_open",
    "page_test",
    "action_overdue",
    "diagnostic_mismatch",
    "records_valid",
    "clock_expired",
]


class Org(Strict):
    name: str = Field(min_length=1)
    domain: str = Field(
        pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$",
        description="signing namespace domain, e.g. handshake-contract-v1@<domain>",
    )
    repository_id: str = Field(
        pattern=r"^[0-9a-f-]{36}$", description="uuid fixed at init; bound into every statement"
    )


_AT_MOST = "; at most the signed limit (keys/policy.toml [limits])"


class Defaults(Strict):
    """Windows for contracts that set none; each verdict window at most its signed limit."""

    review_cadence: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P3M", description="time between two reviews" + _AT_MOST
    )
    first_review_after: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P30D", description="time from adoption to the first review" + _AT_MOST
    )
    contact_check: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P3M", description="time between two escalation-contact checks" + _AT_MOST
    )
    ack_window: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="PT48H", description="window to acknowledge a change notice" + _AT_MOST
    )
    due_soon: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P7D", description="how early a due date shows as due soon (never a verdict)"
    )
    page_ack_sla_max: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="PT1H", description="slowest acknowledgement SLA the page test accepts" + _AT_MOST
    )
    evidence_max_age: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P2D", description="oldest live evidence that counts as current" + _AT_MOST
    )


SPARK_MASTER_PATTERN = r"^(local(\[([1-9][0-9]{0,3}|\*)\])?|spark://[A-Za-z0-9.:,_-]+|yarn|k8s://https://[A-Za-z0-9.:_/-]+)$"
SPARK_REMOTE_PATTERN = r"^sc://[A-Za-z0-9._-]+(:[0-9]{1,5})?(/;[A-Za-z0-9_=;.-]*)?$"


class SparkEngineSettings(Strict):
    """Where `workbench evaluate --engine spark` runs its checks (docs/engines.md).

    A cluster named here is used only when the machine running `evaluate` names the same
    one: whoever runs the checks chooses who computes the verdicts."""

    master: str | None = Field(
        default=None,
        pattern=SPARK_MASTER_PATTERN,
        description="a Spark master: 'local[2]' (this machine), 'spark://host:7077', 'yarn'",
    )
    remote: str | None = Field(
        default=None,
        pattern=SPARK_REMOTE_PATTERN,
        description="a Spark Connect endpoint, 'sc://host:15002'",
    )

    @field_validator("remote")
    @classmethod
    def _one_endpoint(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and info.data.get("master") is not None:
            raise ValueError("name either master or remote, not both")
        return v


class EvidenceEngines(Strict):
    """Engines other than the embedded DuckDB, chosen with `evaluate --engine`."""

    spark: SparkEngineSettings | None = None


class EvidenceLimits(Strict):
    """What one `workbench evaluate` may cost; a term beyond a limit is `error`, named."""

    memory_cap: str = Field(
        default="2GiB",
        pattern=r"^[1-9][0-9]{0,5}(MiB|GiB)$",
        description="hard cap on the evaluation worker's memory (address space), "
        "e.g. '2GiB'; between 512MiB and 64GiB",
    )
    run_budget: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="PT15M", description="wall-clock budget for all checks of one run"
    )
    query_timeout: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="PT60S", description="time limit of one check's query"
    )
    engines: EvidenceEngines = Field(
        default_factory=EvidenceEngines,
        description="other engines for `evaluate --engine` ([evidence.engines.spark])",
    )

    @field_validator("memory_cap")
    @classmethod
    def _cap_range(cls, v: str) -> str:
        if not 512 * 2**20 <= memory_bytes(v) <= 64 * 2**30:
            raise ValueError("must be between 512MiB and 64GiB")
        return v


def memory_bytes(text: str) -> int:
    """'512MiB' / '2GiB' as bytes."""
    unit = 2**30 if text.endswith("GiB") else 2**20
    return int(text[:-3]) * unit


class Policy(Strict):
    """Approval policy: lives in keys/policy.toml [approval], signed with the key registry."""

    no_self_approval: bool = True
    compliance_team: Slug | None = Field(
        default=None, description="its lead co-signs contracts with representation terms"
    )
    compliance_term_kinds: list[str] = Field(default_factory=lambda: ["representation"])


class ExemptionPolicy(Strict):
    """Who may accept a violation and for how long: keys/policy.toml [exemptions], signed
    with the key registry (a plain commit cannot widen it)."""

    approvers: list[str] = Field(
        default_factory=lambda: ["compliance-lead"],
        max_length=64,
        description=(
            "who may approve an exemption: a person id, 'compliance-lead' (the lead of "
            "[approval] compliance_team) or 'lead:<team>'"
        ),
    )
    max_days: int = Field(
        default=90,
        ge=1,
        le=366,
        description="an exemption ends at most this many days after it is approved",
    )


class EvaluationPolicy(Strict):
    """Who may record evaluation runs (findings) that count: keys/policy.toml [evaluation],
    signed with the key registry. Empty by default: in a repository with a key registry no
    run counts until the admins name its runners (the safe default)."""

    runners: list[str] = Field(
        default_factory=list,
        max_length=64,
        description=(
            "who may sign evaluation runs: a person id (e.g. a CI identity such as "
            "'ci.pipeline') or 'team:<team>' (every current member of that team)"
        ),
    )


# Who may sign an audit snapshot when keys/policy.toml has no [export] section.
DEFAULT_EXPORTERS = ("admins", "compliance-lead")
RoleEntry = Annotated[
    str,
    StringConstraints(
        pattern=r"^(admins|compliance-lead|lead:[a-z0-9][a-z0-9._-]*|[a-z0-9][a-z0-9._-]*)$",
        max_length=90,
    ),
]


class ExportPolicy(Strict):
    """Who may sign an audit bundle's snapshot: keys/policy.toml [export], signed with the
    key registry. The exporter's signature covers every file of a bundle, so it is a
    named, signed authority and not any registered key."""

    exporters: list[RoleEntry] = Field(
        default_factory=lambda: list(DEFAULT_EXPORTERS),
        min_length=1,
        max_length=64,
        description=(
            "who may sign an audit snapshot: a person id, 'admins' (the registry admins), "
            "'compliance-lead' (the lead of [approval] compliance_team) or 'lead:<team>'"
        ),
    )


def resolve_role_entries(
    entries: Iterable[str],
    compliance_team: str | None,
    team_leads: Mapping[str, str],
    admins: Iterable[str] = (),
) -> frozenset[str]:
    """Person ids for a policy list of ids, `compliance-lead`, `lead:<team>` and (where the
    caller passes them) `admins`. A role nobody holds resolves to nobody."""
    admin_ids = frozenset(admins)
    out: set[str] = set()
    for entry in entries:
        if entry == "compliance-lead":
            lead = team_leads.get(compliance_team or "")
            if lead:
                out.add(lead)
        elif entry.startswith("lead:"):
            lead = team_leads.get(entry.removeprefix("lead:"))
            if lead:
                out.add(lead)
        elif entry == "admins" and admin_ids:
            out |= admin_ids
        else:
            out.add(entry)
    return frozenset(out)


# An invalid contract is never shippable: the gate checks `valid` and denies on it whatever
# the repo's policy lists (a repo that could demote it could ship "owner = 'the team'").
ALWAYS_DENY: tuple[GateRule, ...] = ("valid",)
# The rules a fresh repo denies and warns on; the signed floor's defaults are the same.
DEFAULT_DENY: tuple[GateRule, ...] = (
    "valid",
    "approved",
    "review_overdue",
    "notice_unacknowledged",
    "violation_open",
    "page_test",
    "records_valid",
    "clock_expired",
)
DEFAULT_WARN: tuple[GateRule, ...] = ("action_overdue", "diagnostic_mismatch")


class Gate(Strict):
    """The gate's policy; the signed floor (keys/policy.toml [gate]) is added to it."""

    contracts: list[str] = Field(
        default_factory=lambda: ["*"],
        description="glob patterns of contract ids in scope; the signed floor's globs are "
        "in scope too",
    )
    deny: list[GateRule] = Field(
        default_factory=lambda: list(DEFAULT_DENY),
        description="rules that block; the signed floor's deny rules block too",
    )
    warn: list[GateRule] = Field(
        default_factory=lambda: list(DEFAULT_WARN),
        description='rules reported, never blocking; never "valid", and a rule the signed '
        "floor denies stays a deny rule",
    )

    @field_validator("warn")
    @classmethod
    def _valid_is_never_a_warning(cls, value: list[str]) -> list[str]:
        demoted = [rule for rule in value if rule in ALWAYS_DENY]
        if demoted:
            raise ValueError(
                f"{', '.join(demoted)} cannot be a warning: an invalid contract always fails "
                "the gate (it is denied whether or not `deny` lists it)"
            )
        return value

    @property
    def deny_rules(self) -> list[GateRule]:
        """The rules that block: `deny`, with the ones that always block first."""
        return [*ALWAYS_DENY, *(r for r in self.deny if r not in ALWAYS_DENY)]


class Exchange(Strict):
    """Two teams that exchange something; without a contract this is an ungoverned seam."""

    provider: Slug
    consumer: Slug
    what: str = Field(min_length=1)


def org_of(data: bytes | None) -> Org | None:
    """workbench.toml's [org] alone (None if missing or invalid): what the key registry is
    verified with, whatever the rest of the file says."""
    import tomllib

    if data is None:
        return None
    try:
        table = tomllib.loads(data.decode("utf-8")).get("org")
        return Org.model_validate(table) if isinstance(table, dict) else None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError):
        return None


class Settings(Strict):
    org: Org
    defaults: Defaults = Field(default_factory=Defaults)
    gate: Gate = Field(default_factory=Gate)
    evidence: EvidenceLimits = Field(default_factory=EvidenceLimits)
    exchanges: list[Exchange] = Field(default_factory=list)
    channels: dict[Annotated[str, StringConstraints(pattern=CHANNEL_NAME)], Channel] = Field(
        default_factory=dict,
        description="where pages, notices and reminders are sent: [channels.NAME] with a kind "
        "(webhook, slack, pagerduty, email, command); secrets never go here",
    )
    notify: NotifySettings = Field(default_factory=NotifySettings)
    clocks: list[ClockDefinition] = Field(
        default_factory=list,
        max_length=64,
        description="clock kinds of this organisation, beside the shipped library",
    )
