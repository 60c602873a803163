"""The deployment gate: may this change ship? Pure: inputs in, checks out.

For every contract in scope, each rule of the policy in force is checked and reported,
passing or not (auditors want positive evidence). The policy in force is ``workbench.toml
[gate]`` tightened by the signed floor (``keys/policy.toml [gate]`` of the verified
registry head, ``workbench.model.policy_floor``): a rule the floor denies is denied and a
contract a floor glob matches is in scope, whatever the unsigned file says; what it asked
for beyond the floor is reported (``IGNORED`` lines) and changes nothing.

* ``valid``                 the contract file parses and validates (always denied, whatever
                            the policy lists: an invalid contract is never shippable);
* ``approved``              the contract is approved (co-signed) at its current version;
* ``review_overdue``        neither its review nor its contact check is overdue;
* ``notice_unacknowledged`` no change notice is unacknowledged past its window;
* ``violation_open``        no fail-level violation is open, and every term's latest finding
                            is current at now (``governance.currency``);
* ``page_test``             one current named person is paged, within the page SLA (a warning
                            when only the backup is current);
* ``action_overdue``        no post-mortem action item on the seam is overdue;
* ``diagnostic_mismatch``   the two leads' diagnostic answers do not disagree.
* ``records_valid``         every signed record about the contract (review, acknowledgement,
                            closure, exemption) verifies: signature, signer's authority and
                            a time that holds (see ``governance.record_time``).
                            Always a deny rule, whatever workbench.toml says.

Scope: every file under ``contracts/`` whose id (file name without ``.toml``) matches the
policy's globs, whether or not it parses; with ``changed``, only those changed (a deleted
or stray file included). A retired contract leaves the scope only when it validates. For a
file with no valid contract in it, every rule but ``valid`` fails closed.

A rule whose input is not available (e.g. no signing or evidence in this build) fails
closed with a message saying so; it never passes silently. The gate passes (exit 0) only
when no ``deny`` rule fails. Each failure says who can fix it and how.

Above the contracts stands the **trust root** (``TrustInfo``): whether registry v1 is
pinned out of band, and the key registry's own problems (rolled back, forked, not the
pinned root). A registry problem fails the gate whatever the policy; an unpinned root is a
loud warning in every format, and a failure with ``strict``.

Above that, the **merge state** of the clone it runs in (``merge_check``): a merge, rebase
or other git operation half-way through, or an unresolved conflict, fails the gate.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal
from xml.etree import ElementTree as ET

from workbench.governance.actions import ActionView
from workbench.governance.diagnostic import SeamDiagnostic
from workbench.governance.merge_check import MERGE_RULE, MERGE_TEXT, PASSED_JSON, UnfinishedMerge
from workbench.governance.notices import Notice
from workbench.governance.paging import page_test
from workbench.governance.reviews import ReviewStatus
from workbench.governance.timing import iso
from workbench.model import safe_text
from workbench.model.policy_floor import EffectivePolicy, SignedFloor, effective_gate
from workbench.model.problems import Problem
from workbench.model.settings import Gate
from workbench.model.state import (
    CONTRACTS_DIR,
    ContractDoc,
    Document,
    GovernanceState,
    contract_file_id,
)

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
    "page_test": "One current, named person is paged for the seam, and acknowledges within the page SLA (warning: only the backup is current).",
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


@dataclass(frozen=True)
class TrustInfo:
    """The key registry's trust root, as the signing room reports it."""

    pinned: bool
    source: str | None  # where the pinned root came from (--root, the environment, ...)
    root_sha256: str | None
    problems: tuple[str, ...] = ()  # the registry's own problems: the gate fails on any
    warning: str | None = None  # the loud line when not pinned
    summary: str = ""


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
    deny: list[str]
    warn: list[str]
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
            "strict": self.strict,
            "problems": list(t.problems) if t else [],
            "warning": (t.warning if t else self.trust_message)
            if self.trust_outcome != "pass"
            else None,
            "message": self.trust_message,
            "fix": self.trust_fix,
        }


def contract_doc(state: GovernanceState, cid: str) -> ContractDoc | None:
    """The valid-enough contract in ``contracts/<cid>.toml``, or None (does not parse, fails
    the schema, or another file claims its id)."""
    doc = state.contracts.get(cid)
    return doc if doc is not None and doc.path == f"{CONTRACTS_DIR}{cid}.toml" else None


def contract_files(state: GovernanceState) -> dict[str, str]:
    """{gate id: path} of every file under contracts/ the state was read from."""
    return {
        contract_file_id(path): path for path in state.documents if path.startswith(CONTRACTS_DIR)
    }


def in_scope(state: GovernanceState, policy: Gate, changed: set[str] | None = None) -> list[str]:
    """Files under contracts/ matching the policy globs (the policy in force: the signed
    floor's globs included), limited to `changed` (ids), whether they parse or not; a
    retired contract is left out only when it validates."""
    ids = set(contract_files(state)) if changed is None else set(changed)
    out = []
    for cid in sorted(ids):
        if not any(fnmatch.fnmatchcase(cid, pattern) for pattern in policy.contracts):
            continue
        doc = contract_doc(state, cid)
        retired = doc is not None and doc.contract.status.value == "retired"
        if retired and not state.file_errors(f"{CONTRACTS_DIR}{cid}.toml"):
            continue
        out.append(cid)
    return out


def _leads(state: GovernanceState, cid: str) -> list[str]:
    c = state.contracts[cid].contract
    return list(dict.fromkeys([c.parties.provider_lead, c.parties.consumer_lead]))


def _rule_approved(
    cid: str, inputs: GateInputs, state: GovernanceState
) -> tuple[Outcome, str, list[str], str]:
    if inputs.verdicts is None:
        return (
            "fail",
            "cannot evaluate: signature verdicts are not available in this build",
            _leads(state, cid),
            "install the signing room",
        )
    v = inputs.verdicts.get(cid)
    if v is None:
        return (
            "fail",
            "no signature verdict for this contract",
            _leads(state, cid),
            f"`workbench sign {cid}`",
        )
    if v.state == "approved":
        return "pass", v.reason or "approved at its current version", [], ""
    fixers = list(v.missing) or _leads(state, cid)
    fix = v.fix or f"each of them: `workbench sign {cid}`"
    return "fail", f"{v.state}: {v.reason}", fixers, fix


def _rule_reviews(
    cid: str, inputs: GateInputs, state: GovernanceState
) -> tuple[Outcome, str, list[str], str]:
    mine = inputs.by_contract("reviews").get(cid, [])
    overdue = [r for r in mine if r.state == "overdue"]
    if not overdue:
        parts = [f"{r.kind} {r.state}" + (f" (due {iso(r.due)})" if r.due else "") for r in mine]
        return "pass", "; ".join(parts) or "no review scheduled", [], ""
    msgs = [f"{r.kind} overdue since {iso(r.due)} ({r.basis})" for r in overdue]
    fixers = list(dict.fromkeys(p for r in overdue for p in r.reviewers))
    fix = "; ".join(r.action for r in overdue)
    return "fail", "; ".join(msgs), fixers, fix


def _rule_notices(
    cid: str, inputs: GateInputs, state: GovernanceState
) -> tuple[Outcome, str, list[str], str]:
    mine = inputs.by_contract("notices").get(cid, [])
    overdue = [n for n in mine if any(r.state == "overdue" for r in n.requirements)]
    if not overdue:
        pending = [n for n in mine if n.state == "pending"]
        text = f"{len(mine)} notice(s), none unacknowledged past its window"
        if pending:
            text += f"; {len(pending)} still within the window"
        return "pass", text, [], ""
    fixers = list(
        dict.fromkeys(r.person for n in overdue for r in n.requirements if r.state == "overdue")
    )
    msgs = [n.finding() or n.id for n in overdue]
    return "fail", "; ".join(msgs), fixers, "; ".join(n.action for n in overdue)


def _rule_violations(
    cid: str, inputs: GateInputs, state: GovernanceState
) -> tuple[Outcome, str, list[str], str]:
    if inputs.violations is None:
        owner = state.contracts[cid].contract.owner
        return (
            "fail",
            "cannot evaluate: evidence and violations are not available in this build",
            [owner],
            "install the evidence room",
        )
    open_ = inputs.violations.get(cid, [])
    if not open_:
        return "pass", "no open fail-level violation; every term has a current finding", [], ""
    fixers = list(dict.fromkeys(_current(state, p) for v in open_ for p in v.fixers))
    msgs = [
        f"{v.term} {v.status} ({v.id}): {v.reason}" if v.id else f"{v.term} {v.status}: {v.reason}"
        for v in open_
    ]
    fixes = []
    if any(v.id for v in open_):
        fixes.append(
            "fix the term's evidence, or close the violation consciously (`workbench violations`)"
        )
    if any(not v.current for v in open_):
        fixes.append(
            "register current evidence, then `workbench evaluate` (CI: evaluate, then gate)"
        )
    return "fail", "; ".join(msgs), fixers, "; ".join(fixes)


def _rule_records(
    cid: str, inputs: GateInputs, state: GovernanceState
) -> tuple[Outcome, str, list[str], str]:
    owner = state.contracts[cid].contract.owner
    if inputs.record_flags is None:
        return "fail", "cannot evaluate: the records were not checked", [owner], ""
    flags = inputs.record_flags.get(cid, [])
    if not flags:
        return "pass", "every signed record verifies (signer, authority, time)", [], ""
    return (
        "fail",
        f"{len(flags)} record(s) do not count: " + "; ".join(flags[:10]),
        [_current(state, owner)],
        "remove or redo the records named (each must be signed by its person, with a time "
        "not before its parent commit nor in the future)",
    )


def _current(state: GovernanceState, pid: str) -> str:
    """Someone who has left cannot fix anything: name their recorded successor."""
    person = state.people.get(pid)
    if person is not None and person.left is not None and person.replaced_by:
        return person.replaced_by
    return pid


def _rule_page(
    cid: str, inputs: GateInputs, state: GovernanceState, now: datetime
) -> tuple[Outcome, str, list[str], str]:
    c = state.contracts[cid].contract
    info = page_test(state, c, now.date())
    if info.status == "pass":
        return "pass", info.reason, [], ""
    return (
        info.status,
        info.reason,
        [_current(state, c.owner)],
        f"{c.owner}: name one current person in [escalation] with ack_sla within the page SLA",
    )


def _accountable(state: GovernanceState, path: str) -> list[str]:
    """Named, current people who can fix a contract file (never a team or a placeholder):
    its owner and party leads, and the leads of its two teams, read from whatever of the
    file parses (a file that fails the schema still names them)."""
    document = state.documents.get(path)
    data = document.data if document is not None and isinstance(document.data, dict) else {}
    parties = data.get("parties") if isinstance(data.get("parties"), dict) else {}
    seam = data.get("seam") if isinstance(data.get("seam"), dict) else {}
    named = [data.get("owner"), parties.get("provider_lead"), parties.get("consumer_lead")]
    for side in (seam.get("provider"), seam.get("consumer")):
        team = state.teams.get(side) if isinstance(side, str) else None
        named.append(team.lead if team is not None else None)
    out = [_current(state, p) for p in named if isinstance(p, str) and p in state.people]
    return list(dict.fromkeys(p for p in out if p in state.people))


def _rule_valid(
    cid: str, path: str, state: GovernanceState, changed_since: str | None
) -> tuple[Outcome, str, list[str], str, Problem | None]:
    if path not in state.documents:
        since = f" since {changed_since}" if changed_since else ""
        return (
            "fail",
            f'{path} was deleted{since}: a contract is retired (status = "retired"), never '
            "deleted, so that its history, signatures and obligations stay auditable",
            [],
            f'restore {path} and set status = "retired"',
            None,
        )
    problems = state.file_errors(path)
    if not problems:
        return "pass", f"{path} validates", [], "", None
    message = f"{path} does not validate ({len(problems)} error(s)): " + "; ".join(
        p.render() for p in problems
    )
    return (
        "fail",
        message,
        _accountable(state, path),
        "fix each problem at its file:line:column (`workbench validate` lists them), commit",
        problems[0],
    )


def _rule_actions(
    cid: str, inputs: GateInputs, state: GovernanceState
) -> tuple[Outcome, str, list[str], str]:
    mine = [a for a in inputs.actions if a.seam == cid]
    overdue = [a for a in mine if a.overdue]
    if not overdue:
        return "pass", f"{len(mine)} action item(s), none overdue", [], ""
    fixers = list(dict.fromkeys(a.owner for a in overdue))
    msgs = [f"{a.id} ({a.owner}) overdue since {iso(a.due)}: {a.title}" for a in overdue]
    return (
        "fail",
        "; ".join(msgs),
        fixers,
        'finish it (status = "done" with evidence) or close it as not-doing with a reason and approver',
    )


def _rule_diagnostic(
    cid: str, inputs: GateInputs, state: GovernanceState
) -> tuple[Outcome, str, list[str], str]:
    diag = inputs.diagnostics.get(cid)
    if diag is None or diag.state != "mismatch":
        what = diag.state if diag else "not-started"
        return "pass", f"diagnostic {what}", [], ""
    fixers = _leads(state, cid)
    return (
        "fail",
        "; ".join(f.message for f in diag.flags),
        fixers,
        f"both leads: talk, then `workbench diagnose {cid}` again",
    )


def _position(document: Document, key: tuple[str, ...]) -> tuple[int, int]:
    return document.locations.find(key) or (1, 1)


def evaluate_gate(
    state: GovernanceState,
    inputs: GateInputs,
    now: datetime,
    *,
    policy: Gate | None = None,
    floor: SignedFloor | None = None,
    changed: set[str] | None = None,
    changed_since: str | None = None,
    trust: TrustInfo | None = None,
    strict: bool = False,
    merge: UnfinishedMerge | None = None,
) -> GateResult:
    """Judge every contract in scope. The policy is the state's policy in force
    (workbench.toml tightened by the signed floor); `policy` replaces workbench.toml's
    own [gate] and `floor` the signed one (a what-if), the one tightening the other alike."""
    applied = state.policy
    if policy is not None or floor is not None:
        floor = floor or applied.floor
        declared = policy or applied.declared_gate
        applied = dataclasses.replace(
            applied,
            floor=floor,
            gate=effective_gate(declared, floor.gate),
            declared_gate=declared,
            ignored=(),
        )
    gate_policy = applied.gate
    scope = in_scope(state, gate_policy, changed)
    deny = gate_policy.deny_rules
    warn = [r for r in gate_policy.warn if r not in deny]
    # A forged record (bad signature, signer without authority, impossible time) always
    # fails the gate: not even a signed floor switches this off.
    if "records_valid" not in deny:
        deny.append("records_valid")
        warn = [r for r in warn if r != "records_valid"]
    files = contract_files(state)
    checks: list[Check] = []
    for cid in scope:
        path = files.get(cid, f"{CONTRACTS_DIR}{cid}.toml")
        doc = contract_doc(state, cid)
        outcome, msg, fixers, fix, first = _rule_valid(cid, path, state, changed_since)
        for rule in [r for r in RULES if r in deny or r in warn]:
            severity: Severity = "deny" if rule in deny else "warn"
            position: Callable[[], tuple[int, int]] | None
            where = path
            if rule == "valid":
                if first is not None:
                    where = first.file
                    position = partial(lambda p: (p.line, p.column), first)
                elif doc is not None:
                    position = partial(_position, doc.document, RULE_KEYS[rule])
                else:
                    position = None
                checks.append(
                    Check(cid, rule, severity, outcome, msg, fixers, fix, where, position)
                )
                continue
            if doc is None:
                reason = "was deleted" if path not in state.documents else "does not validate"
                checks.append(
                    Check(
                        cid,
                        rule,
                        severity,
                        "fail",
                        f"cannot evaluate: {path} {reason} (see the `valid` check)",
                        fixers,
                        "fix the `valid` problems first" if fix else "",
                        path,
                        None,
                    )
                )
                continue
            if rule == "approved":
                outcome_r, msg_r, fixers_r, fix_r = _rule_approved(cid, inputs, state)
            elif rule == "review_overdue":
                outcome_r, msg_r, fixers_r, fix_r = _rule_reviews(cid, inputs, state)
            elif rule == "notice_unacknowledged":
                outcome_r, msg_r, fixers_r, fix_r = _rule_notices(cid, inputs, state)
            elif rule == "violation_open":
                outcome_r, msg_r, fixers_r, fix_r = _rule_violations(cid, inputs, state)
            elif rule == "page_test":
                outcome_r, msg_r, fixers_r, fix_r = _rule_page(cid, inputs, state, now)
            elif rule == "action_overdue":
                outcome_r, msg_r, fixers_r, fix_r = _rule_actions(cid, inputs, state)
            elif rule == "records_valid":
                outcome_r, msg_r, fixers_r, fix_r = _rule_records(cid, inputs, state)
            else:
                outcome_r, msg_r, fixers_r, fix_r = _rule_diagnostic(cid, inputs, state)
            checks.append(
                Check(
                    cid,
                    rule,
                    severity,
                    outcome_r,
                    msg_r,
                    fixers_r,
                    fix_r,
                    doc.path,
                    partial(_position, doc.document, RULE_KEYS[rule]),
                )
            )
    return GateResult(now, scope, checks, deny, warn, changed_since, trust, strict, applied, merge)


# -- output formats ------------------------------------------------------------------------


def _names(state: GovernanceState | None, people: list[str]) -> str:
    if state is None:
        return ", ".join(people)
    out = []
    for pid in people:
        p = state.people.get(pid)
        out.append(f"{p.name} ({pid})" if p else pid)
    return ", ".join(out)


def _trust_text(result: GateResult) -> list[str]:
    if not result.shows_trust:
        return []
    outcome = result.trust_outcome
    line = safe_text.line
    if outcome == "pass":
        return [line(result.trust_message), ""]
    mark = "FAIL" if outcome == "fail" else "WARN"
    return [
        f"{mark}  {TRUST_RULE:<22} {line(result.trust_message)}",
        f"        how: {line(result.trust_fix)}",
        "",
    ]


def _merge_text(result: GateResult) -> list[str]:
    if result.merge is None:
        return []
    line = safe_text.line
    return [
        f"FAIL  {MERGE_RULE:<22} {line(result.merge.message)}",
        f"        how: {line(result.merge.how)}",
        "",
    ]


def _policy_text(result: GateResult) -> list[str]:
    """Which policy was applied, and one loud line per loosening workbench.toml asked for
    that the signed floor refused (it changed nothing)."""
    if result.policy is None:
        return []
    line = safe_text.line
    floor = result.policy.floor
    scope = ", ".join(result.policy.gate.contracts) or "none"
    out = [
        f"policy: workbench.toml tightened by {line(floor.describe)}; "
        f"deny {', '.join(result.deny)}; warn {', '.join(result.warn) or 'none'}; "
        f"scope {line(scope)}"
    ]
    out += [f"IGNORED  {line(text)}" for text in result.ignored]
    return [*out, ""]


# Every output format below is made safe for its medium here, in the renderer: messages
# carry contract titles, names and evidence values (see workbench/model/safe_text.py).
def render_text(result: GateResult, state: GovernanceState | None = None) -> str:
    """The text report; each contract id, message, name list and fix is one line."""
    line = safe_text.line
    lines = _merge_text(result) + _trust_text(result) + _policy_text(result)
    per_contract: dict[str, list[Check]] = {}
    for check in result.checks:
        per_contract.setdefault(check.contract, []).append(check)
    for cid in result.scope:
        lines.append(line(cid))
        for c in per_contract.get(cid, []):
            mark = {
                "pass": "PASS",
                "warn": "WARN",
                "fail": "FAIL" if c.severity == "deny" else "WARN",
            }[c.outcome]
            lines.append(f"  {mark:<4}  {c.rule:<22} {line(c.message)}")
            if c.outcome != "pass":
                if c.fixers:
                    lines.append(f"        who can fix it: {line(_names(state, c.fixers))}")
                if c.fix:
                    lines.append(f"        how: {line(c.fix)}")
    if not result.scope:
        lines.append("no contracts in scope")
    passed = sum(c.outcome == "pass" for c in result.checks)
    verdict = "PASSED" if result.passed else "FAILED"
    lines.append("")
    trust = ""
    if result.merge is not None:
        trust += "; a MERGE IS NOT FINISHED (see the top)"
    if result.shows_trust and result.trust_outcome != "pass":
        if result.trust is not None and result.trust.problems:
            trust += "; the KEY REGISTRY HAS PROBLEMS (see the top)"
        else:
            trust += "; trust root NOT pinned" + (" (--strict)" if result.strict else "")
    lines.append(
        f"gate {verdict}: {len(result.scope)} contract(s), {passed} check(s) passed, "
        f"{len(result.failures)} failed, {len(result.warnings)} warning(s){trust}"
    )
    return "\n".join(lines) + "\n"


def render_json(result: GateResult) -> str:
    return safe_text.json_dumps(result.to_json(), indent=2) + "\n"


def render_junit(result: GateResult) -> str:
    """JUnit XML: one testsuite per contract, one testcase per rule.

    Deny failures are <failure>; warnings pass with the warning in <system-out> (JUnit has
    no warning state and a warning must not fail a CI test report).
    """
    trust_fails = int(result.shows_trust and result.trust_outcome == "fail")
    merge_fails = int(result.merge is not None)
    root = ET.Element(
        "testsuites",
        name="workbench gate",
        tests=str(len(result.checks) + int(result.shows_trust) + merge_fails),
        failures=str(len(result.failures) + trust_fails + merge_fails),
        errors="0",
        skipped="0",
        timestamp=iso(result.now) or "",
    )
    if result.merge is not None:
        _merge_junit(root, result, result.merge)
    if result.shows_trust:
        _trust_junit(root, result, trust_fails)
    for cid in result.scope:
        mine = [c for c in result.checks if c.contract == cid]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=cid,
            tests=str(len(mine)),
            failures=str(sum(c.blocking for c in mine)),
            errors="0",
            skipped="0",
            timestamp=iso(result.now) or "",
        )
        for c in mine:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"gate.{cid}",
                name=c.rule,
                file=c.path,
                line=str(c.line),
            )
            text = safe_text.line(c.message)
            if c.fixers:
                text += f"\nwho can fix it: {safe_text.line(', '.join(c.fixers))}"
            if c.fix:
                text += f"\nhow: {safe_text.line(c.fix)}"
            if c.blocking:
                failure = ET.SubElement(case, "failure", message=c.message, type=c.rule)
                failure.text = text
            elif c.outcome != "pass":
                ET.SubElement(case, "system-out").text = f"WARNING: {text}"
            else:
                ET.SubElement(case, "system-out").text = f"PASS: {text}"
    # ElementTree escapes <>&" but writes control characters as they are, which no XML
    # parser accepts and a CI log would replay: every text and attribute is made safe
    # here, attributes on one line (a parser folds their newlines into spaces anyway).
    for element in root.iter():
        if element.text:
            element.text = safe_text.xml(element.text)
        for name, value in element.attrib.items():
            element.set(name, safe_text.line(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _sarif_text(text: str) -> str:
    """A SARIF plain-text message: one line, visible controls, and square brackets escaped
    (SARIF 3.11.6), so a name cannot become an embedded link in the viewer."""
    return safe_text.line(text).replace("[", "\\[").replace("]", "\\]")


def _merge_junit(root: ET.Element, result: GateResult, merge: UnfinishedMerge) -> None:
    suite = ET.SubElement(
        root,
        "testsuite",
        name="merge state",
        tests="1",
        failures="1",
        errors="0",
        skipped="0",
        timestamp=iso(result.now) or "",
    )
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"gate.{MERGE_RULE}",
        name=MERGE_RULE,
        file=merge.location,
        line="1",
    )
    failure = ET.SubElement(case, "failure", message=merge.message, type=MERGE_RULE)
    failure.text = f"{merge.message}\nhow: {merge.how}"


def _trust_junit(root: ET.Element, result: GateResult, fails: int) -> None:
    suite = ET.SubElement(
        root,
        "testsuite",
        name="trust root",
        tests="1",
        failures=str(fails),
        errors="0",
        skipped="0",
        timestamp=iso(result.now) or "",
    )
    case = ET.SubElement(
        suite, "testcase", classname="gate.trust_root", name=TRUST_RULE, file=TRUST_FILE, line="1"
    )
    text = result.trust_message + (f"\nhow: {result.trust_fix}" if result.trust_fix else "")
    if result.trust_outcome == "fail":
        ET.SubElement(case, "failure", message=result.trust_message, type=TRUST_RULE).text = text
    elif result.trust_outcome == "warn":
        ET.SubElement(case, "system-out").text = f"WARNING: {text}"
    else:
        ET.SubElement(case, "system-out").text = f"PASS: {text}"


def _trust_sarif(result: GateResult, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    rule = {
        "id": TRUST_RULE,
        "name": "TrustRoot",
        "shortDescription": {"text": TRUST_TEXT},
        "fullDescription": {"text": TRUST_TEXT},
        "helpUri": INFO_URI,
        "defaultConfiguration": {"level": "error" if result.strict else "warning"},
    }
    outcome = result.trust_outcome
    text = result.trust_message + (f" How: {result.trust_fix}" if result.trust_fix else "")
    found = {
        "ruleId": TRUST_RULE,
        "ruleIndex": index,
        "kind": "pass" if outcome == "pass" else "fail",
        "level": {"pass": "none", "warn": "warning", "fail": "error"}[outcome],
        "message": {"text": _sarif_text(text)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": TRUST_FILE, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 1, "startColumn": 1},
                }
            }
        ],
        "properties": {"pinned": bool(result.trust and result.trust.pinned)},
    }
    return rule, found


def _merge_sarif(merge: UnfinishedMerge, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    rule = {
        "id": MERGE_RULE,
        "name": "MergeState",
        "shortDescription": {"text": MERGE_TEXT},
        "fullDescription": {"text": MERGE_TEXT},
        "helpUri": INFO_URI,
        "defaultConfiguration": {"level": "error"},
    }
    found = {
        "ruleId": MERGE_RULE,
        "ruleIndex": index,
        "kind": "fail",
        "level": "error",
        "message": {"text": _sarif_text(f"{merge.message} How: {merge.how}")},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": merge.location, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 1, "startColumn": 1},
                }
            }
        ],
        "properties": {"conflicts": list(merge.conflicts)},
    }
    return rule, found


def render_sarif(result: GateResult, version: str = "0") -> str:
    """SARIF 2.1.0: one result per check; passing checks are ``kind: pass``."""
    rule_ids = [r for r in RULES if r in result.deny or r in result.warn]
    rules = [
        {
            "id": r,
            "name": "".join(p.capitalize() for p in r.split("_")),
            "shortDescription": {"text": RULES[r]},
            "fullDescription": {"text": RULES[r]},
            "helpUri": INFO_URI,
            "defaultConfiguration": {"level": "error" if r in result.deny else "warning"},
        }
        for r in rule_ids
    ]
    results = []
    if result.merge is not None:
        merge_rule, merge_result = _merge_sarif(result.merge, len(rules))
        rules.append(merge_rule)
        results.append(merge_result)
    if result.shows_trust:
        trust_rule, trust_result = _trust_sarif(result, len(rules))
        rules.append(trust_rule)
        results.append(trust_result)
    for c in result.checks:
        text = c.message
        if c.outcome != "pass" and c.fixers:
            text += f" Who can fix it: {', '.join(c.fixers)}."
        if c.outcome != "pass" and c.fix:
            text += f" How: {c.fix}"
        level = "none"
        if c.blocking:
            level = "error"
        elif c.outcome != "pass":
            level = "warning"
        results.append(
            {
                "ruleId": c.rule,
                "ruleIndex": rule_ids.index(c.rule),
                "kind": "pass" if c.outcome == "pass" else "fail",
                "level": level,
                "message": {"text": _sarif_text(f"{c.contract}: {text}")},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": c.path, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": c.line, "startColumn": c.column},
                        }
                    }
                ],
                "properties": {"contract": c.contract, "fixers": c.fixers},
            }
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "workbench gate",
                        "informationUri": INFO_URI,
                        "version": version,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "endTimeUtc": iso(result.now),
                        "properties": {"gatePassed": result.passed},
                    }
                ],
                "results": results,
            }
        ],
    }
    return safe_text.json_dumps(doc, indent=2) + "\n"
