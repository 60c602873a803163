"""The signed floor in force, from a verified registry state (pure).

Only a **complete** registry version counts: a pending one (not yet signed by enough
admins) has no effect, and the live `keys/policy.toml` is never read for it. When the
registry has problems (rolled back, forked, not the pinned root), nothing it says can be
trusted to loosen anything: the floor is then the built-in one and the head's together,
whichever is stricter at each point (and the gate fails on the registry anyway).
"""

from __future__ import annotations

from workbench.model.policy_floor import DEFAULT_FLOOR, SignedFloor, strictest
from workbench.signing.registry import RegistryState


def floor_of(rs: RegistryState | None) -> SignedFloor:
    if rs is None or rs.head is None:
        return DEFAULT_FLOOR
    head = rs.head
    signed = SignedFloor(
        head.policy.gate, head.policy.limits, f"registry v{head.version}", head.version
    )
    if rs.problems:
        return strictest(
            DEFAULT_FLOOR,
            signed,
            f"the built-in floor and registry v{head.version} together, whichever is "
            "stricter (the key registry has problems)",
        )
    return signed
