"""The head map: the registry head and every contract's head, signed with each snapshot.

``heads.json`` is a subject of the snapshot (its sha256 is in the signed statement) and is
committed next to it as ``exports/v<N>.heads.json``, so every later bundle carries the
head maps of all earlier snapshots. An auditor who kept only the sha256 of snapshot vK
can then check, from the new bundle alone, that no head went back since vK: the bundle's
``exports/vK.snapshot.json`` must have that sha256, and the ``exports/vK.heads.json`` it
names (by digest) is the map the auditor saw.

It lists every signed contract of the repository, not only those in the bundle's scope, so
a bundle scoped to other contracts still shows a rollback. The rule for comparing two maps
is ``rollback_problems``; VERIFY.sh does the same comparison with jq.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.bundle import layout as bl
from workbench.model.errors import WorkbenchError
from workbench.signing.canonical import CanonicalError, canonical_json, strict_loads
from workbench.signing.statement import sha256_hex

HEADS_FORMAT = "handshake-workbench/heads@1"
MAX_HEADS_BYTES = 16 << 20
_SHA = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")


class HeadsError(WorkbenchError, ValueError):
    """A head map is malformed."""


@dataclass(frozen=True)
class Head:
    version: int
    statement_sha256: str


@dataclass
class Heads:
    registry: Head
    contracts: dict[str, Head] = field(default_factory=dict)


def render_heads(registry: Head, contracts: Mapping[str, Head]) -> bytes:
    doc: dict[str, Any] = {
        "format": HEADS_FORMAT,
        "registry": {"version": registry.version, "statementSha256": registry.statement_sha256},
        "contracts": {
            cid: {"version": h.version, "statementSha256": h.statement_sha256}
            for cid, h in sorted(contracts.items())
        },
    }
    return canonical_json(doc) + b"\n"


def _head(value: Any, what: str) -> Head:
    if (
        not isinstance(value, dict)
        or set(value) != {"version", "statementSha256"}
        or type(value["version"]) is not int
        or value["version"] < 1
        or not isinstance(value["statementSha256"], str)
        or not _SHA.fullmatch(value["statementSha256"])
    ):
        raise HeadsError(f"{what}: expected {{version, statementSha256}}")
    return Head(value["version"], value["statementSha256"])


def parse_heads(data: bytes, name: str = "heads.json") -> Heads:
    try:
        doc = strict_loads(data, MAX_HEADS_BYTES)
    except CanonicalError as exc:
        raise HeadsError(f"{name}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != HEADS_FORMAT:
        raise HeadsError(f"{name}: not a {HEADS_FORMAT} head map")
    if set(doc) != {"format", "registry", "contracts"} or not isinstance(doc["contracts"], dict):
        raise HeadsError(f"{name}: expected format, registry and contracts")
    contracts = {}
    for cid, value in doc["contracts"].items():
        if not _ID.fullmatch(cid):
            raise HeadsError(f"{name}: bad contract id {cid[:80]!r}")
        contracts[cid] = _head(value, f"{name}: {cid}")
    return Heads(_head(doc["registry"], f"{name}: registry"), contracts)


def rollback_problems(
    kept: Heads, current: Heads, kept_name: str, files: Mapping[str, bytes]
) -> list[str]:
    """What went back (or forked) since the head map ``kept`` the auditor saw. A head that
    moved on must still pass through the kept statement where the bundle ships it."""
    out = []
    k, c = kept.registry, current.registry
    shipped = files.get(bl.registry_dir(k.version) + "statement.json")
    if c.version > k.version and (shipped is None or sha256_hex(shipped) != k.statement_sha256):
        out.append(f"registry v{k.version} is another statement than in {kept_name} (fork)")
    if c.version < k.version:
        out.append(
            f"registry head v{c.version} is OLDER than the v{k.version} in {kept_name} (rollback)"
        )
    elif c.version == k.version and c.statement_sha256 != k.statement_sha256:
        out.append(f"registry v{c.version} is another statement than in {kept_name} (fork)")
    for cid, old in sorted(kept.contracts.items()):
        new = current.contracts.get(cid)
        if new is None:
            out.append(f"{cid}: signed at v{old.version} in {kept_name}, now no signed version")
        elif new.version < old.version:
            out.append(
                f"{cid}: head v{new.version} is OLDER than the v{old.version} in {kept_name} "
                "(rollback)"
            )
        elif new.version == old.version and new.statement_sha256 != old.statement_sha256:
            out.append(f"{cid} v{new.version}: another statement than in {kept_name} (fork)")
        else:
            shipped = files.get(bl.contract_dir(cid, old.version) + "statement.json")
            if shipped is not None and sha256_hex(shipped) != old.statement_sha256:
                out.append(f"{cid} v{old.version}: another statement than in {kept_name} (fork)")
    return out
