"""The signed floor in force, from a verified registry state (pure).

Only a **complete** registry version counts: a pending one (not yet signed by enough
admins) has no effect, and the live `keys/policy.toml` is never read for it. When the
registry has problems (rolled back, forked, not the pinned root), nothing it says can be
trusted to loosen anything: the floor is then the built-in one and the head's together,
whichever is stricter at each point (and the gate fails on the registry anyway).
"""

from __future__ import annotations

from workbench.model.policy_floor import DEFAULT_FLOOR, SignedFloor, strictest
from workbench.signing.registry import POLICY, RegistryState, parse_policy
from workbench.signing.statement import sha256_hex


def floor_of(rs: RegistryState | None) -> SignedFloor:
    if rs is None or rs.head is None:
        return DEFAULT_FLOOR
    head = rs.head
    signed = SignedFloor(
        head.policy.gate,
        head.policy.limits,
        f"registry v{head.version}",
        head.version,
        sha256_hex(head.files[POLICY]),
    )
    if rs.problems:
        return strictest(
            DEFAULT_FLOOR,
            signed,
            f"the built-in floor and registry v{head.version} together, whichever is "
            "stricter (the key registry has problems)",
        )
    return signed


def floor_in(policy_toml: bytes, source: str) -> SignedFloor:
    """The floor a signed keys/policy.toml sets (a bundle carries each registry version's
    file; its signatures are verified apart)."""
    policy = parse_policy(policy_toml)
    return SignedFloor(policy.gate, policy.limits, source, None, sha256_hex(policy_toml))
