"""The signing room's verdicts in the gate's terms (``wb.obligations.signatures``): per
contract the co-signature state and who can fix it, and how far the registry's root is
trusted. The verdicts themselves are ``wb.signing``'s (one implementation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.governance import gate as gate_mod
from workbench.service.errors import SettingsInvalid

if TYPE_CHECKING:
    from workbench.service.obligations import Obligations

HEAD = "HEAD"
REGISTRY_FIX = (
    "the key registry has problems (see the trust_root line): its admins restore every "
    "complete registry version; nobody can sign until then"
)


class Signatures:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb
        self._found: tuple[dict[str, gate_mod.VerdictInfo], gate_mod.TrustInfo] | None = None

    def forget(self) -> None:
        self._found = None

    def _lookup(self) -> tuple[dict[str, gate_mod.VerdictInfo], gate_mod.TrustInfo]:
        if self._found is None:
            try:
                found = self.wb.signing.verdict_set(HEAD)
            except SettingsInvalid as exc:
                value = {
                    cid: gate_mod.VerdictInfo("invalid", str(exc))
                    for cid in self._o.state().contracts
                }
                trust = gate_mod.TrustInfo(False, None, None, (str(exc),), None, str(exc))
            else:
                value = {
                    v.contract_id: gate_mod.VerdictInfo(
                        v.state, v.reason, tuple(v.missing), signed=tuple(v.signed)
                    )
                    for v in found.verdicts
                }
                if found.registry.problems:
                    # Nobody can sign on a broken registry: its admins restore it first.
                    head = found.registry.head
                    admins = tuple(head.admins) if head is not None else ()
                    value = {
                        cid: gate_mod.VerdictInfo(v.state, v.reason, admins, REGISTRY_FIX)
                        for cid, v in value.items()
                    }
                t = found.trust
                trust = gate_mod.TrustInfo(
                    t.is_pinned,
                    t.source,
                    t.root_sha256,
                    t.problems,
                    t.warning,
                    t.describe(),
                    None if t.seen is None else str(t.seen),
                )
            self._found = (value, trust)
        return self._found

    def verdicts(self) -> dict[str, gate_mod.VerdictInfo]:
        """Per-contract co-signature verdicts at HEAD."""
        return self._lookup()[0]

    def trust_root(self) -> gate_mod.TrustInfo:
        """Whether the registry's root is pinned out of band, and its problems."""
        return self._lookup()[1]

    def approved(self) -> dict[str, bool | None]:
        return {cid: v.state == "approved" for cid, v in self.verdicts().items()}
