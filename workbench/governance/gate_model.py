"""The gate's vocabulary: its rules (``RULES``, with the contract key each one points at),
what it is given (``GateInputs``: verdicts, violations, records, reviews, notices, actions,
diagnostics; ``TrustInfo``) and what it returns (a ``Check`` per contract and rule, in a
``GateResult``). The judging is ``workbench.governance.gate``, the output formats
``workbench.governance.gate_render``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from workbench.governance.actions import ActionView
from workbench.governance.clocks import ClockView
from workbench.governance.diagnostic import SeamDiagnostic
from workbench.governance.merge_check import MERGE_RULE, PASSED_JSON, UnfinishedMerge
from workbench.governance.notices import Notice
from workbench.governance.pages import PageView
from workbench.governance.reviews import ReviewStatus
from workbench.governance.timing import iso
from workbench.model.policy_floor import EffectivePolicy
from workbench.model.settings import GateRule

# warn: the rule's own verdict is a warning (the page test with only a backup); it never blocks.
Outcome = Literal["pass", "warn", "fail"]
Severity = Literal["deny", "warn"]

RULES: dict[str, str] = {
    "valid": "The contract file parses and validates: named, current people in every accountable field.",
    "approved": "The contract is co-signed by every required lead at its current version.",
    "review_overdue": "The contract's scheduled review, escalation-contact check and any review a failing term triggered are not overdue.",
    "notice_unacknowledged": "No change notice is unacknowledged past its acknowledgement window.",
    "violation_open": (
        "No fail-level violation of a term is open, and every term has a current finding at now."
    ),
    "page_test": "One current, named person is paged for the seam, and acknowledges within the page SLA (warning: only the backup is current); no page that left the machine went unacknowledged past its SLA.",
    "clock_expired": "No regulatory clock on the seam is past its deadline without being stopped.",
    "action_overdue": "No post-mortem action item on the seam is past its due date.",
    "diagnostic_mismatch": "The two leads' answers to the seam diagnostic agree.",
    "records_valid": "Every signed record about the contract verifies: signer, authority, time.",
}
RULE_KEYS: dict[str, tuple[str, ...]] = {
    "valid": ("id",),
    "approved": ("id",),
    "review_overdue": ("adopted",),
    "notice_unacknowledged": ("change_protocol",),
    "violation_open": ("terms",),
    "page_test": ("escalation",),
    "clock_expired": ("id",),
    "action_overdue": ("seam",),
    "diagnostic_mismatch": ("parties",),
    "records_valid": ("id",),
}
INFO_URI = "https://handshake-workbench.dev/docs/obligations#the-gate"


@dataclass(frozen=True)
class VerdictInfo:
    state: str  # draft | pending | approved | stale | invalid
    reason: str
    missing: tuple[str, ...] = ()
    fix: str = ""  # how, when signing again is not it (e.g. the key registry is broken)
    signed: tuple[str, ...] = ()  # whose signatures over the head version count


@dataclass(frozen=True)
class TrustInfo:
    """The key registry's trust root, as the signing room reports it."""

    pinned: bool
    source: str | None  # where the pinned root came from (--root, the environment, ...)
    root_sha256: str | None
    problems: tuple[str, ...] = ()  # the registry's own problems: the gate fails on any
    warning: str | None = None  # the loud line when not pinned
    summary: str = ""
    registry_seen: str | None = None  # "vN:SHA256" given out of band, if any


TRUST_RULE = "trust_root"
TRUST_FILE = "keys/registry/v1.statement.json"
TRUST_TEXT = "The key registry is intact and its root (registry v1) is pinned out of band."
TRUST_FIX = (
    "pin the root from a source outside the repository: `workbench gate --root SHA256` or "
    "$WORKBENCH_TRUST_ROOT in CI (the value of `workbench registry root` on a clone you trust)"
)


@dataclass(frozen=True)
class ViolationInfo:
    id: str
    term: str
    status: str
    reason: str
    fixers: tuple[str, ...] = ()
    # False: no violation was recorded, but the term's latest finding is not its current
    # finding at now (`governance.currency`): stale, superseded or never evaluated.
    current: bool = True


@dataclass
class GateInputs:
    reviews: list[ReviewStatus] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    actions: list[ActionView] = field(default_factory=list)
    diagnostics: Mapping[str, SeamDiagnostic] = field(default_factory=dict)
    verdicts: Mapping[str, VerdictInfo] | None = None  # None: signing not available
    violations: Mapping[str, list[ViolationInfo]] | None = None  # None: evidence not available
    # Records that do not count because their signature, signer or time does not hold,
    # per contract (None: not checked in this build).
    record_flags: Mapping[str, list[str]] | None = None
    # Running and stopped clocks per seam (governance.clocks), and the pages that left the
    # machine per contract (governance.pages): empty where nothing was started or sent.
    clocks: Mapping[str, list[ClockView]] = field(default_factory=dict)
    pages: Mapping[str, list[PageView]] = field(default_factory=dict)
    _grouped: dict[str, dict[str, list[Any]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def by_contract(self, what: str) -> dict[str, list[Any]]:
        """`reviews` or `notices` grouped by contract, once (a scan per contract is
        quadratic: seconds at 1,000 contracts)."""
        if what not in self._grouped:
            grouped: dict[str, list[Any]] = {}
            for item in getattr(self, what):
                grouped.setdefault(item.contract, []).append(item)
            self._grouped[what] = grouped
        return self._grouped[what]


@dataclass
class Check:
    contract: str
    rule: str
    severity: Severity
    outcome: Outcome
    message: str
    fixers: list[str] = field(default_factory=list)
    fix: str = ""
    path: str = ""
    # Where the rule's key sits in the contract, found only when an output asks: finding
    # key positions means scanning the TOML text, and the text report never needs them.
    position: Callable[[], tuple[int, int]] | None = field(default=None, repr=False, compare=False)

    @property
    def line(self) -> int:
        return self._where()[0]

    @property
    def column(self) -> int:
        return self._where()[1]

    def _where(self) -> tuple[int, int]:
        return self.position() if self.position is not None else (1, 1)

    @property
    def blocking(self) -> bool:
        return self.outcome == "fail" and self.severity == "deny"

    def to_json(self) -> dict[str, object]:
        return {
            "contract": self.contract,
            "rule": self.rule,
            "severity": self.severity,
            "outcome": self.outcome,
            "message": self.message,
            "fixers": self.fixers,
            "fix": self.fix,
            "location": {"path": self.path, "line": self.line, "column": self.column},
        }


@dataclass
class GateResult:
    now: datetime
    scope: list[str]
    checks: list[Check]
    deny: list[GateRule]
    warn: list[GateRule]
    changed_since: str | None = None
    trust: TrustInfo | None = None  # None: no signing room in this build
    strict: bool = False
    policy: EffectivePolicy | None = None  # what was applied, and where each part came from
    # The clone is mid-merge (or has unresolved conflicts): fails whatever the policy.
    merge: UnfinishedMerge | None = None

    @property
    def shows_trust(self) -> bool:
        """The trust root is reported when the signing room reported it, or --strict asks."""
        return self.trust is not None or self.strict

    @property
    def trust_outcome(self) -> Literal["pass", "warn", "fail"]:
        """fail: the registry has problems, or strict and not pinned; warn: not pinned."""
        if self.trust is None:
            return "fail" if self.strict else "pass"
        if self.trust.problems or (self.strict and not self.trust.pinned):
            return "fail"
        return "pass" if self.trust.pinned else "warn"

    @property
    def trust_message(self) -> str:
        if self.trust is None:
            return "cannot evaluate: signature verification is not available in this build"
        if self.trust.problems:
            return "key registry: " + "; ".join(self.trust.problems)
        text = self.trust.summary or ("pinned" if self.trust.pinned else "NOT pinned")
        if self.strict and not self.trust.pinned:
            text += " (--strict: failing)"
        return text

    @property
    def trust_fix(self) -> str:
        if self.trust_outcome == "pass":
            return ""
        if self.trust is not None and self.trust.problems:
            return (
                "find the commit that changed keys/registry/ (`git log --stat -- keys/registry`) "
                "and restore every complete registry version; a fork or another root means this "
                "is not the repository you trust: treat it as compromised"
            )
        return TRUST_FIX

    @property
    def passed(self) -> bool:
        return (
            not any(c.blocking for c in self.checks)
            and self.trust_outcome != "fail"
            and self.merge is None
        )

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.blocking]

    @property
    def warnings(self) -> list[Check]:
        return [
            c
            for c in self.checks
            if c.outcome == "warn" or (c.outcome == "fail" and c.severity == "warn")
        ]

    def to_json(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "now": iso(self.now),
            "changed_since": self.changed_since,
            "trust_root": self._trust_json(),
            MERGE_RULE: self.merge.to_json() if self.merge else PASSED_JSON,
            "scope": self.scope,
            "policy": self._policy_json(),
            "summary": {
                "checks": len(self.checks),
                "passed": sum(c.outcome == "pass" for c in self.checks),
                "failed": len(self.failures),
                "warnings": len(self.warnings),
            },
            "checks": [c.to_json() for c in self.checks],
        }

    def _policy_json(self) -> dict[str, object]:
        out: dict[str, object] = (
            self.policy.to_json() if self.policy is not None else {"ignored": []}
        )
        # The rules this run applied (a built-in rule the policy does not list included).
        out.update(deny=self.deny, warn=self.warn)
        return out

    @property
    def ignored(self) -> list[str]:
        """One line per loosening workbench.toml asked for that the signed floor refused."""
        if self.policy is None:
            return []
        return [f"{p.file}:{p.line}:{p.column}: {p.message}" for p in self.policy.ignored]

    def _trust_json(self) -> dict[str, object]:
        t = self.trust
        return {
            "outcome": self.trust_outcome,
            "pinned": bool(t and t.pinned),
            "source": t.source if t else None,
            "root_sha256": t.root_sha256 if t else None,
            "registry_seen": t.registry_seen if t else None,
            "strict": self.strict,
            "problems": list(t.problems) if t else [],
            "warning": (t.warning if t else self.trust_message)
            if self.trust_outcome != "pass"
            else None,
            "message": self.trust_message,
            "fix": self.trust_fix,
        }
