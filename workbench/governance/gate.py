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
* ``clock_expired``         no regulatory clock on the seam (``governance.clocks``) is past
                            its deadline without being stopped;
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

Each rule is one function (``RULE_CHECKS``: rule -> its check). The rules' table, the inputs
and the result types are ``gate_model``; the output formats (text, JSON, JUnit, SARIF) are
``gate_render``; every name is importable from here.

Above that, the **merge state** of the clone it runs in (``merge_check``): a merge, rebase
or other git operation half-way through, or an unresolved conflict, fails the gate.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from workbench.governance.gate_model import (
    INFO_URI,
    RULE_KEYS,
    RULES,
    TRUST_FILE,
    TRUST_FIX,
    TRUST_RULE,
    TRUST_TEXT,
    Check,
    GateInputs,
    GateResult,
    Outcome,
    Severity,
    TrustInfo,
    VerdictInfo,
    ViolationInfo,
)
from workbench.governance.gate_render import (
    render_json,
    render_junit,
    render_sarif,
    render_text,
)
from workbench.governance.merge_check import UnfinishedMerge
from workbench.governance.paging import page_test
from workbench.governance.timing import iso
from workbench.model.policy_floor import SignedFloor, effective_gate
from workbench.model.problems import Problem
from workbench.model.settings import Gate
from workbench.model.state import (
    CONTRACTS_DIR,
    ContractDoc,
    Document,
    GovernanceState,
    contract_file_id,
)


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
    info = page_test(state, c, now.date(), inputs.pages.get(cid), now)
    if info.status == "pass":
        return "pass", info.reason, [], ""
    if info.missed:
        e = c.escalation
        return (
            "fail",
            info.reason,
            [_current(state, p) for p in dict.fromkeys([e.primary, e.backup])],
            f"the person paged: `workbench page ack VIOLATION` (late; the lateness stays on "
            f"the record); then {c.owner}: make sure {e.ack_sla.human()} is kept",
        )
    return (
        info.status,
        info.reason,
        [_current(state, c.owner)],
        f"{c.owner}: name one current person in [escalation] with ack_sla within the page SLA",
    )


def _table(value: object) -> dict[str, Any]:
    """A TOML table as parsed, or empty when the file put something else there."""
    return value if isinstance(value, dict) else {}


def _accountable(state: GovernanceState, path: str) -> list[str]:
    """Named, current people who can fix a contract file (never a team or a placeholder):
    its owner and party leads, and the leads of its two teams, read from whatever of the
    file parses (a file that fails the schema still names them)."""
    document = state.documents.get(path)
    data = _table(document.data if document is not None else None)
    parties, seam = _table(data.get("parties")), _table(data.get("seam"))
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
    return document.position(key)


# What each rule says about one valid contract: outcome, message, who can fix it, how.
RuleOutcome = tuple[Outcome, str, list[str], str]


def _rule_clocks(
    cid: str, inputs: GateInputs, state: GovernanceState, now: datetime
) -> RuleOutcome:
    mine = inputs.clocks.get(cid, [])
    expired = [c for c in mine if c.state == "expired"]
    running = [c for c in mine if c.running]
    if not expired:
        if not running:
            return "pass", "no regulatory clock running", [], ""
        soonest = min(running, key=lambda c: c.deadline)
        return "pass", f"{len(running)} clock(s) running; next: {soonest.describe(now)}", [], ""
    fixers = list(dict.fromkeys(_current(state, c.owner) for c in expired if c.owner))
    return (
        "fail",
        "; ".join(f"EXPIRED {c.describe(now)}" for c in expired),
        fixers or [_current(state, state.contracts[cid].contract.owner)],
        "; ".join(
            f"do what stops it ({c.stops}), then `workbench clocks stop {c.id} --note ...` "
            "(it is recorded as met late)"
            for c in expired
        ),
    )


RULE_CHECKS: dict[str, Callable[[str, GateInputs, GovernanceState, datetime], RuleOutcome]] = {
    "approved": lambda cid, inputs, state, now: _rule_approved(cid, inputs, state),
    "review_overdue": lambda cid, inputs, state, now: _rule_reviews(cid, inputs, state),
    "notice_unacknowledged": lambda cid, inputs, state, now: _rule_notices(cid, inputs, state),
    "violation_open": lambda cid, inputs, state, now: _rule_violations(cid, inputs, state),
    "page_test": _rule_page,
    "clock_expired": _rule_clocks,
    "action_overdue": lambda cid, inputs, state, now: _rule_actions(cid, inputs, state),
    "diagnostic_mismatch": lambda cid, inputs, state, now: _rule_diagnostic(cid, inputs, state),
    "records_valid": lambda cid, inputs, state, now: _rule_records(cid, inputs, state),
}


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
    rules: dict[str, Severity] = {
        r: ("deny" if r in deny else "warn") for r in RULES if r in deny or r in warn
    }
    checks: list[Check] = []
    for cid in scope:
        path = files.get(cid, f"{CONTRACTS_DIR}{cid}.toml")
        checks += _contract_checks(cid, path, rules, state, inputs, now, changed_since)
    return GateResult(now, scope, checks, deny, warn, changed_since, trust, strict, applied, merge)


def _contract_checks(
    cid: str,
    path: str,
    rules: dict[str, Severity],
    state: GovernanceState,
    inputs: GateInputs,
    now: datetime,
    changed_since: str | None,
) -> list[Check]:
    """One check per rule in force for one contract file, in the order of ``RULES``. Every
    rule but ``valid`` fails closed on a file with no valid contract in it."""
    doc = contract_doc(state, cid)
    outcome, msg, fixers, fix, first = _rule_valid(cid, path, state, changed_since)
    checks: list[Check] = []
    for rule, severity in rules.items():
        if rule == "valid":
            position: Callable[[], tuple[int, int]] | None = None
            where = path
            if first is not None:
                where = first.file
                position = partial(lambda p: (p.line, p.column), first)
            elif doc is not None:
                position = partial(_position, doc.document, RULE_KEYS[rule])
            checks.append(Check(cid, rule, severity, outcome, msg, fixers, fix, where, position))
        elif doc is None:
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
        else:
            outcome_r, msg_r, fixers_r, fix_r = RULE_CHECKS[rule](cid, inputs, state, now)
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
    return checks


__all__ = [
    "Check",
    "GateInputs",
    "GateResult",
    "INFO_URI",
    "Outcome",
    "RULES",
    "RULE_CHECKS",
    "RULE_KEYS",
    "Severity",
    "TRUST_FILE",
    "TRUST_FIX",
    "TRUST_RULE",
    "TRUST_TEXT",
    "TrustInfo",
    "VerdictInfo",
    "ViolationInfo",
    "contract_doc",
    "contract_files",
    "evaluate_gate",
    "in_scope",
    "render_json",
    "render_junit",
    "render_sarif",
    "render_text",
]
