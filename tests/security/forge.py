"""An attacker's bundle kit: edit a real bundle, then re-sign what the exporter signs.

Whoever holds a registered key can rebuild ``bundle.json``'s file list, the snapshot and
SHA256SUMS after any edit, and sign the snapshot: that is all an exporter does. These
helpers do exactly that with the demo's real keys, so every crafted bundle is as
consistent as an honest one except for the attack itself.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tests.bundle.conftest import members, signer
from workbench.bundle import layout as bl
from workbench.bundle.archive import write_archive
from workbench.signing.canonical import canonical_json
from workbench.signing.snapshot import write_snapshot
from workbench.signing.statement import SNAPSHOT_PREDICATE, parse_statement, sha256_hex

Files = dict[str, bytes]
DOMAIN = "meridian.example"


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sign(
    files: Files,
    root: Path,
    person: str,
    version: int,
    previous: bytes | None,
    exported_at: str,
    expires: str,
    index_bytes: Callable[[bytes], bytes] | None = None,
) -> Files:
    out = {
        p: d
        for p, d in files.items()
        if not bl.SNAPSHOT_SIG_RE.fullmatch(p) and p not in (bl.SUMS, bl.SNAPSHOT)
    }
    index = json.loads(out[bl.INDEX])
    index["exporter"] = {"person": person, "principal": f"{person}@{DOMAIN}", "name": person}
    body = {p: d for p, d in out.items() if not bl.is_unindexed(p)}
    index["files"] = {p: sha256_hex(body[p]) for p in sorted(body)}
    index_raw = canonical_json(index) + b"\n"
    if index_bytes is not None:
        index_raw = index_bytes(index_raw)  # bytes no honest exporter writes, signed all the same
    head_path = bl.registry_dir(index["registry"]["head"]) + "statement.json"
    subjects = {head_path: out[head_path], bl.INDEX: index_raw}
    if bl.HEADS in out:
        subjects[bl.HEADS] = out[bl.HEADS]
    snapshot = write_snapshot(
        subjects, index["repository"], version, previous, _when(exported_at), _when(expires)
    )
    out[bl.INDEX] = index_raw
    out[bl.SNAPSHOT] = snapshot
    principal = f"{person}@{DOMAIN}"
    out[bl.snapshot_sig(principal)] = signer(root, person).sign(
        snapshot, f"handshake-snapshot-v1@{DOMAIN}"
    )
    out[bl.SUMS] = bl.render_sums(out)
    return out


def snapshot_of(files: Files):  # type: ignore[no-untyped-def]
    return parse_statement(files[bl.SNAPSHOT], SNAPSHOT_PREDICATE, subjects=None).predicate


def resign(
    files: Files,
    root: Path,
    person: str,
    index_bytes: Callable[[bytes], bytes] | None = None,
) -> Files:
    """Re-sign the bundle as ``person`` after edits: same snapshot version, times, previous.
    ``index_bytes`` rewrites bundle.json's bytes after its file list is rebuilt (duplicate
    keys, odd numbers, a byte-order mark: what a hand-written index could hold)."""
    pred = snapshot_of(files)
    previous = files.get(bl.export_statement(pred.snapshotVersion - 1))
    return _sign(
        files,
        root,
        person,
        pred.snapshotVersion,
        previous,
        pred.exportedAt,
        pred.expires,
        index_bytes,
    )


def extend(files: Files, root: Path, person: str) -> Files:
    """The next snapshot on top of this bundle, as the next export would make it: the current
    snapshot, its signature and head map move to exports/, the new one names it previous."""
    pred = snapshot_of(files)
    out = dict(files)
    version = pred.snapshotVersion
    snapshot = out[bl.SNAPSHOT]
    for path in [p for p in out if bl.SNAPSHOT_SIG_RE.fullmatch(p)]:
        principal = bl.SNAPSHOT_SIG_RE.fullmatch(path).group(1)  # type: ignore[union-attr]
        out[bl.export_sig(version, principal.split("@")[0])] = out.pop(path)
    out[bl.export_statement(version)] = snapshot
    if bl.HEADS in out:
        out[bl.export_heads(version)] = out[bl.HEADS]
    return _sign(out, root, person, version + 1, snapshot, pred.exportedAt, pred.expires)


def set_head(files: Files, contract: str, version: int) -> None:
    """Roll ``contract`` back to ``version`` everywhere the bundle names its head (the
    later versions' files go; the contract bytes at HEAD stay, as current.toml)."""
    index = json.loads(files[bl.INDEX])
    entry = index["contracts"][contract]
    latest = files[bl.contract_dir(contract, entry["head"]) + "contract.toml"]
    for path in [p for p in files if p.startswith(f"contracts/{contract}/v")]:
        if int(path.split("/")[2][1:]) > version:
            del files[path]
    kept_sha = sha256_hex(files[bl.contract_dir(contract, version) + "statement.json"])
    entry["head"] = version
    entry["head_statement_sha256"] = kept_sha
    entry["versions"] = [v for v in entry["versions"] if v["version"] <= version]
    entry["current"] = bl.current_path(contract)
    entry["current_sha256"] = sha256_hex(latest)
    files[bl.current_path(contract)] = latest
    files[bl.INDEX] = canonical_json(index) + b"\n"
    if bl.HEADS in files:
        heads = json.loads(files[bl.HEADS])
        heads["contracts"][contract] = {"version": version, "statementSha256": kept_sha}
        files[bl.HEADS] = canonical_json(heads) + b"\n"


def pack(files: Files) -> bytes:
    return write_archive(files, 0)


def tar_gz(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A hand-made .tar.gz, members in the given order (links and directories allowed)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in entries:
            if data is None:
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def regular(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = 0o644
    return info


def with_members(bundle: bytes, extra: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """Every member of ``bundle`` (sorted, as exported), then ``extra`` at the end."""
    files = members(bundle)
    return tar_gz([(regular(p), files[p]) for p in sorted(files)] + extra)


__all__ = [
    "Files",
    "extend",
    "members",
    "pack",
    "regular",
    "resign",
    "set_head",
    "snapshot_of",
    "tar_gz",
    "with_members",
]
