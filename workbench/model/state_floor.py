"""The signed floor applied to a checked state: workbench.toml's gate and defaults
tightened by ``keys/policy.toml`` of the verified registry, and a warning at its position
for everything the files ask for beyond it (``apply_floor``, ``effective_policy``)."""

from __future__ import annotations

import dataclasses
import fnmatch

from workbench.model.documents import (
    CONTRACTS_DIR,
    SETTINGS_PATH,
    ContractDoc,
    Document,
    GovernanceState,
    contract_file_id,
)
from workbench.model.policy_floor import (
    BUILT_IN_DENY,
    LIMIT_NAMES,
    EffectivePolicy,
    SignedFloor,
    effective_defaults,
    effective_gate,
)
from workbench.model.problems import Problem, field_path
from workbench.model.settings import Defaults, Gate, Settings

# Where a contract sets its own window, by the limit that caps it.
_CONTRACT_WINDOWS: dict[str, tuple[str, str]] = {
    "review_cadence": ("review", "cadence"),
    "first_review_after": ("review", "first_after"),
    "contact_check": ("review", "contact_check"),
    "ack_window": ("change_protocol", "ack_window"),
}


def apply_floor(declared: GovernanceState, floor: SignedFloor) -> GovernanceState:
    """The state with workbench.toml tightened by the signed floor (a new object; the
    declared one is shared and left as it is).

    `settings.gate` and `settings.defaults` become the policy in force, so every reader of
    the settings gets it; what workbench.toml asked for beyond the floor, and every
    contract window beyond its limit, is a warning at its position.
    """
    ids = sorted(contract_file_id(p) for p in declared.documents if p.startswith(CONTRACTS_DIR))
    policy, problems = effective_policy(
        declared.settings, floor, declared.documents.get(SETTINGS_PATH), ids
    )
    for cdoc in declared.contracts.values():
        problems += _contract_beyond_limits(cdoc, policy)
    settings = declared.settings
    if settings is not None:
        settings = settings.model_copy(update={"gate": policy.gate, "defaults": policy.defaults})
    merged = [*declared.problems, *problems]
    merged.sort(key=lambda p: (p.file, p.line, p.column, p.code))
    return dataclasses.replace(declared, settings=settings, policy_in_force=policy, problems=merged)


def effective_policy(
    settings: Settings | None,
    floor: SignedFloor,
    doc: Document | None,
    contract_ids: list[str] | None = None,
) -> tuple[EffectivePolicy, list[Problem]]:
    """The policy in force, and what workbench.toml (`doc`) asked for that the floor
    refused, one warning per ignored loosening."""
    own_gate = settings.gate if settings is not None else Gate()
    own_defaults = settings.defaults if settings is not None else Defaults()
    ignored: list[Problem] = []
    if settings is not None and doc is not None:
        ignored = _settings_beyond_floor(own_gate, own_defaults, floor, doc, contract_ids or [])
    policy = EffectivePolicy(
        floor=floor,
        gate=effective_gate(own_gate, floor.gate),
        defaults=effective_defaults(own_defaults, floor.limits),
        declared_gate=own_gate,
        declared_defaults=own_defaults,
        ignored=tuple(ignored),
    )
    return policy, ignored


def _settings_beyond_floor(
    gate: Gate, defaults: Defaults, floor: SignedFloor, doc: Document, contract_ids: list[str]
) -> list[Problem]:
    source = floor.describe
    out: list[Problem] = []
    always = [r for r in floor.gate.deny if r not in BUILT_IN_DENY]
    for i, rule in enumerate(gate.warn):
        if rule in BUILT_IN_DENY or rule in floor.gate.deny:
            out.append(
                doc.problem(
                    ("gate", "warn", i),
                    "policy.floor-deny",
                    f"{rule} cannot be a warning: {source} always denies it; it stays a deny rule",
                    "warning",
                )
            )
    for rule in always:
        if rule not in gate.deny and rule not in gate.warn:
            out.append(
                doc.problem(
                    ("gate", "deny"),
                    "policy.floor-rule-dropped",
                    f"[gate] deny leaves out {rule}: {source} always denies it; it is "
                    "still checked and blocks",
                    "warning",
                )
            )
    for rule in floor.gate.warn:
        if rule not in gate.deny and rule not in gate.warn and rule not in floor.gate.deny:
            out.append(
                doc.problem(
                    ("gate", "warn"),
                    "policy.floor-rule-dropped",
                    f"[gate] warn leaves out {rule}: {source} always checks it; it is "
                    "still reported as a warning",
                    "warning",
                )
            )
    kept = [
        cid
        for cid in contract_ids
        if any(fnmatch.fnmatchcase(cid, g) for g in floor.gate.contracts)
        and not any(fnmatch.fnmatchcase(cid, g) for g in gate.contracts)
    ]
    if kept:
        shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        out.append(
            doc.problem(
                ("gate", "contracts"),
                "policy.floor-scope",
                f"[gate] contracts leaves out {len(kept)} contract(s) that {source} "
                f"keeps in scope: {shown}; they are still judged",
                "warning",
            )
        )
    for name in LIMIT_NAMES:
        own, limit = getattr(defaults, name), getattr(floor.limits, name)
        if own > limit:
            out.append(
                doc.problem(
                    ("defaults", name),
                    "policy.beyond-limit",
                    f"[defaults] {name} = {own} is looser than the limit {limit} of "
                    f"{source} (keys/policy.toml [limits]): {limit} applies",
                    "warning",
                )
            )
    return out


def _contract_beyond_limits(cdoc: ContractDoc, policy: EffectivePolicy) -> list[Problem]:
    """A contract's own windows are co-signed, yet never looser than the signed limit: the
    limit applies (`EffectivePolicy.window`), and the value is flagged where it is written."""
    contract, doc = cdoc.contract, cdoc.document
    limits, source = policy.floor.limits, policy.floor.describe
    out: list[Problem] = []

    def beyond(where: tuple[str | int, ...], name: str, own: object) -> None:
        limit = getattr(limits, name)
        if own is not None and own > limit:  # type: ignore[operator]
            out.append(
                doc.problem(
                    where,
                    "contract.beyond-limit",
                    f"{field_path(where)} {own} is longer than the limit {limit} of {source} "
                    f"(keys/policy.toml [limits] {name}): {limit} applies",
                    "warning",
                )
            )

    for name, (table, key) in _CONTRACT_WINDOWS.items():
        beyond((table, key), name, getattr(getattr(contract, table), key))
    for i, term in enumerate(contract.terms):
        beyond(("terms", i, "evidence_max_age"), "evidence_max_age", term.evidence_max_age)
    sla_max = policy.defaults.page_ack_sla_max
    if contract.escalation.ack_sla > sla_max:
        out.append(
            doc.problem(
                ("escalation", "ack_sla"),
                "escalation.slow",
                f"acknowledgement SLA {contract.escalation.ack_sla} is slower than the page "
                f"test allows ({sla_max})",
                "warning",
            )
        )
    return out
