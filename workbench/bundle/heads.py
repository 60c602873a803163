"""The head map: the registry head and every contract's head, signed with each snapshot.

``heads.json`` is a subject of the snapshot (its sha256 is in the signed statement) and is
committed next to it as ``exports/v<N>.heads.json``, so every later bundle carries the
head maps of all earlier snapshots. An auditor who kept only the sha256 of snapshot vK
can then check, from the new bundle alone, that no head went back since vK: the bundle's
``exports/vK.snapshot.json`` must have that sha256, and the ``exports/vK.heads.json`` it
names (by digest) is the map the auditor saw.

It lists every signed contract of the repository, not only those in the bundle's scope, so
a bundle scoped to other contracts still shows a rollback. Since format @2 it also lists the
**head runs** of the findings (each signed head of the run chain, by its statement's
sha256): the runs whose ledger the verdicts stand on. A map of format @1 (no runs) still
reads. The rule for comparing two maps is ``rollback_problems``; VERIFY.sh does the same
comparison with jq.
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

HEADS_FORMAT = "handshake-workbench/heads@2"
HEADS_FORMAT_V1 = "handshake-workbench/heads@1"  # before runs (still read)
MAX_HEADS_BYTES = 16 << 20
_SHA = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
_RUN = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{10}")


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
    runs: dict[str, str] = field(default_factory=dict)  # head run -> its statement's sha256
    lists_runs: bool = True  # False for a map of format @1 (made before runs were listed)


def render_heads(registry: Head, contracts: Mapping[str, Head], runs: Mapping[str, str]) -> bytes:
    doc: dict[str, Any] = {
        "format": HEADS_FORMAT,
        "registry": {"version": registry.version, "statementSha256": registry.statement_sha256},
        "contracts": {
            cid: {"version": h.version, "statementSha256": h.statement_sha256}
            for cid, h in sorted(contracts.items())
        },
        "runs": {run: {"statementSha256": sha} for run, sha in sorted(runs.items())},
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
    if not isinstance(doc, dict) or doc.get("format") not in (HEADS_FORMAT, HEADS_FORMAT_V1):
        raise HeadsError(f"{name}: not a {HEADS_FORMAT} head map")
    keys = {"format", "registry", "contracts"}
    if doc["format"] == HEADS_FORMAT:
        keys.add("runs")
    if set(doc) != keys or not isinstance(doc["contracts"], dict):
        raise HeadsError(f"{name}: expected {', '.join(sorted(keys))}")
    contracts = {}
    for cid, value in doc["contracts"].items():
        if not _ID.fullmatch(cid):
            raise HeadsError(f"{name}: bad contract id {cid[:80]!r}")
        contracts[cid] = _head(value, f"{name}: {cid}")
    raw_runs = doc.get("runs", {})
    if not isinstance(raw_runs, dict):
        raise HeadsError(f"{name}: runs must be an object")
    runs: dict[str, str] = {}
    for run, value in raw_runs.items():
        if (
            not _RUN.fullmatch(run)
            or not isinstance(value, dict)
            or set(value) != {"statementSha256"}
            or not isinstance(value["statementSha256"], str)
            or not _SHA.fullmatch(value["statementSha256"])
        ):
            raise HeadsError(f"{name}: runs: {run[:80]!r}: expected {{statementSha256}}")
        runs[run] = value["statementSha256"]
    return Heads(_head(doc["registry"], f"{name}: registry"), contracts, runs, "runs" in doc)


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
    out += _runs_went_back(kept, current, kept_name, files)
    return out


def _runs_went_back(
    kept: Heads, current: Heads, kept_name: str, files: Mapping[str, bytes]
) -> list[str]:
    """A head run the kept map saw must still be a head with the same statement, or be
    followed by a later head run (run ids begin with their time); where the bundle ships
    its statement, that statement must be the one the kept map names."""
    out: list[str] = []
    if not current.lists_runs:
        return out
    newest = max(current.runs, default="")
    for run, sha in sorted(kept.runs.items()):
        now = current.runs.get(run)
        if now is not None and now != sha:
            out.append(f"findings run {run}: another statement than in {kept_name} (fork)")
        elif now is None and newest[:16] <= run[:16]:
            out.append(
                f"findings run {run} was a head in {kept_name}; no later head run now "
                "(rollback of the findings)"
            )
        shipped = files.get(f"findings/runs/{run}.statement.json")
        if now is None and shipped is not None and sha256_hex(shipped) != sha:
            out.append(f"findings run {run}: another statement than in {kept_name} (fork)")
    return out
