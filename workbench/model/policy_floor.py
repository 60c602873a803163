"""The signed floor: what the gate always checks and the loosest windows a verdict may use.

`workbench.toml` is a plain file any member can commit, so it cannot be what decides how
strict the gate and the verdicts are. That floor lives in `keys/policy.toml`, tables
`[gate]` and `[limits]`, signed by the registry admins with every registry version; the
service reads it from the **verified** registry head, never from the live file. The policy
in force is workbench.toml *tightened* by the floor:

* a rule the floor denies is denied, whatever workbench.toml lists (`deny` = floor ∪ own);
* a rule the floor warns about is checked at least as a warning;
* a contract a floor glob matches is in scope, whatever workbench.toml's globs say;
* each verdict window (a default, or a contract's own value) is at most the signed limit.

workbench.toml may only tighten: deny more, scope more, shorter windows. What it asks for
beyond the floor is reported at its position (a warning) and changes nothing.

Pure: models and comparisons, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Annotated, Literal, TypeVar, get_args

from pydantic import Field, StringConstraints, model_validator

from workbench.model.base import Strict
from workbench.model.duration import Duration, DurationField
from workbench.model.problems import Problem
from workbench.model.settings import DEFAULT_DENY, DEFAULT_WARN, Defaults, Gate, GateRule

# Built in: not even a signed floor switches these off. An invalid contract is never
# shippable, and a forged record (bad signature, no authority, impossible time) never counts.
BUILT_IN_DENY: tuple[GateRule, ...] = ("valid", "records_valid")
GATE_RULES: tuple[GateRule, ...] = get_args(GateRule)

LimitName = Literal[
    "review_cadence",
    "first_review_after",
    "contact_check",
    "ack_window",
    "page_ack_sla_max",
    "evidence_max_age",
]
LIMIT_NAMES: tuple[LimitName, ...] = get_args(LimitName)
_T = TypeVar("_T")

# A contract-id glob: what ids are made of (slugs) and fnmatch's * ? [ ] !; nothing else,
# so it is never a path and is written into the signed file as is.
Glob = Annotated[
    str, StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._*?\[\]!-]+$")
]

SIGNED = "signed floor"
OWN = "workbench.toml"
BUILT_IN = "built in"


class GateFloor(Strict):
    """What the gate always checks: keys/policy.toml [gate], signed with the key registry."""

    deny: list[GateRule] = Field(
        default_factory=lambda: list(DEFAULT_DENY),
        max_length=len(GATE_RULES),
        description="rules that always block, whatever workbench.toml lists "
        "(valid and records_valid always do)",
    )
    warn: list[GateRule] = Field(
        default_factory=lambda: list(DEFAULT_WARN),
        max_length=len(GATE_RULES),
        description="rules always checked, at least as warnings",
    )
    contracts: list[Glob] = Field(
        default_factory=lambda: ["*"],
        max_length=64,
        description="glob patterns of contract ids always in scope",
    )

    @model_validator(mode="after")
    def _one_severity(self) -> GateFloor:
        both = [r for r in self.warn if r in self.deny]
        if both:
            raise ValueError(f"{', '.join(both)} cannot be both deny and warn")
        return self


class Limits(Strict):
    """The loosest window a verdict may use; a longer default or contract value: this applies.

    keys/policy.toml [limits], signed with the key registry. A default in workbench.toml or
    a contract's own value beyond a limit is flagged at its position and the limit applies.
    """

    review_cadence: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P3M", description="longest time between two reviews"
    )
    first_review_after: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P30D", description="longest time from adoption to the first review"
    )
    contact_check: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P3M", description="longest time between two escalation-contact checks"
    )
    ack_window: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="PT48H", description="longest window to acknowledge a change notice"
    )
    page_ack_sla_max: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="PT1H", description="slowest acknowledgement SLA the page test accepts"
    )
    evidence_max_age: DurationField = Field(  # type: ignore[assignment]  # the default is ISO text the field parses
        default="P2D", description="oldest live evidence that still counts as current"
    )


@dataclass(frozen=True)
class SignedFloor:
    """The floor in force and where it came from."""

    gate: GateFloor = field(default_factory=GateFloor)
    limits: Limits = field(default_factory=Limits)
    # "registry v3", or why the built-in floor applies.
    source: str = "the built-in floor (no verified key registry)"
    version: int | None = None
    # sha256 of the signed keys/policy.toml it was read from (None: built in), so that a
    # verdict recorded under it (an evaluation run) can be judged again from a bundle.
    policy_sha256: str | None = None

    @property
    def describe(self) -> str:
        """For messages: "the signed floor of registry v2" or the built-in floor and why."""
        if self.version is not None and self.source == f"registry v{self.version}":
            return f"the signed floor of {self.source}"
        return self.source

    @property
    def digest(self) -> str:
        """Names this floor in cache keys: two floors with one digest judge alike."""
        data = {
            "gate": self.gate.model_dump(mode="json"),
            "limits": self.limits.model_dump(mode="json"),
            "source": self.source,
            "policy": self.policy_sha256,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "registry_version": self.version,
            "policy_sha256": self.policy_sha256,
            "gate": self.gate.model_dump(mode="json"),
            "limits": self.limits.model_dump(mode="json"),
        }


DEFAULT_FLOOR = SignedFloor()


def shorter(a: Duration, b: Duration) -> Duration:
    """The stricter of two windows (a month counts as 30 days when parts are mixed)."""
    return b if b < a else a


def strictest(a: SignedFloor, b: SignedFloor, source: str) -> SignedFloor:
    """Both floors at once: every rule and glob of either, the shorter of each limit."""
    deny = _union(a.gate.deny, b.gate.deny)
    gate = GateFloor.model_construct(
        deny=deny,
        warn=[r for r in _union(a.gate.warn, b.gate.warn) if r not in deny],
        contracts=_union(a.gate.contracts, b.gate.contracts),
    )
    windows: dict[str, Duration] = {
        n: shorter(getattr(a.limits, n), getattr(b.limits, n)) for n in LIMIT_NAMES
    }
    limits = Limits.model_construct(None, **windows)
    return SignedFloor(gate, limits, source, a.version or b.version)


def _union(a: list[_T], b: list[_T]) -> list[_T]:
    return list(dict.fromkeys([*a, *b]))


@dataclass(frozen=True)
class EffectivePolicy:
    """workbench.toml tightened by the signed floor: what the gate and every verdict use."""

    floor: SignedFloor
    gate: Gate  # deny, warn, contracts in force
    defaults: Defaults  # each verdict default, at most its limit
    declared_gate: Gate  # as workbench.toml says
    declared_defaults: Defaults
    # What workbench.toml asked for beyond the floor (warnings at their position): ignored.
    ignored: tuple[Problem, ...] = ()
    # window() answers, by (name, own): asked ~10 times per contract version by notices.
    _windows: dict[tuple[str, Duration | None], Duration] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def window(self, name: LimitName, own: Duration | None = None) -> Duration:
        """The window a verdict uses: a contract's own value, else the default, never
        beyond the signed limit (the one rule for defaults and contracts alike)."""
        key = (name, own)
        found = self._windows.get(key)
        if found is None:
            value = own if own is not None else getattr(self.defaults, name)
            found = self._windows[key] = shorter(value, getattr(self.floor.limits, name))
        return found

    def rule_sources(self, rule: str) -> list[str]:
        """Who gives the rule the severity it has: for a deny rule, who denies it; for a
        warning, who asks for it."""
        if rule in self.gate.deny_rules:
            return [
                who
                for who, rules in (
                    (BUILT_IN, BUILT_IN_DENY),
                    (SIGNED, self.floor.gate.deny),
                    (OWN, self.declared_gate.deny),
                )
                if rule in rules
            ]
        return [
            who
            for who, rules in ((SIGNED, self.floor.gate.warn), (OWN, self.declared_gate.warn))
            if rule in rules
        ]

    def glob_sources(self, glob: str) -> list[str]:
        out = []
        if glob in self.floor.gate.contracts:
            out.append(SIGNED)
        if glob in self.declared_gate.contracts:
            out.append(OWN)
        return out

    def to_json(self) -> dict[str, object]:
        """Which policy the gate applied, and where each part came from."""
        deny = self.gate.deny_rules
        rules = {
            r: {"severity": "deny" if r in deny else "warn", "from": self.rule_sources(r)}
            for r in GATE_RULES
            if r in deny or r in self.gate.warn
        }
        defaults: dict[str, object] = {}
        for name in LIMIT_NAMES:
            own = getattr(self.declared_defaults, name)
            value = getattr(self.defaults, name)
            defaults[name] = {
                "value": value.text,
                "workbench_toml": own.text,
                "limit": getattr(self.floor.limits, name).text,
                "from": OWN if value == own else SIGNED,
            }
        return {
            "deny": deny,
            "warn": [r for r in self.gate.warn if r not in deny],
            "contracts": list(self.gate.contracts),
            "floor": self.floor.to_json(),
            "rules": rules,
            "scope": [{"glob": g, "from": self.glob_sources(g)} for g in self.gate.contracts],
            "defaults": defaults,
            "ignored": [
                {"file": p.file, "line": p.line, "column": p.column, "message": p.message}
                for p in self.ignored
            ],
        }


def effective_gate(declared: Gate, floor: GateFloor) -> Gate:
    """deny = built in ∪ floor ∪ workbench.toml; warn = (floor ∪ workbench.toml) − deny;
    scope = floor globs ∪ workbench.toml globs. Rules in the order the gate checks them."""
    deny = set(BUILT_IN_DENY) | set(floor.deny) | set(declared.deny)
    warn = (set(floor.warn) | set(declared.warn)) - deny
    return Gate.model_construct(
        contracts=_union(floor.contracts, declared.contracts),
        deny=[r for r in GATE_RULES if r in deny],
        warn=[r for r in GATE_RULES if r in warn],
    )


def effective_defaults(declared: Defaults, limits: Limits) -> Defaults:
    """Each verdict default at most its signed limit; `due_soon` only decides when to
    remind, never a verdict, so it is workbench.toml's own."""
    return declared.model_copy(
        update={n: shorter(getattr(declared, n), getattr(limits, n)) for n in LIMIT_NAMES}
    )
