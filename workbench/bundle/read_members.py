"""A bundle's members as `verify-bundle` keeps them: hashed as they are read from the
archive, large ones kept compressed.

At 5,000 contracts a bundle inflates to 228 MB in 70,037 members, most of it in a few
large JSON files (the findings runs, OSCAL, bundle.json, SHA256SUMS) that the checks read
once or twice, or only hash. Each member's sha256 is taken as it leaves the archive
reader, so SHA256SUMS and the signed index are compared with digests, not by hashing the
members again; a member of ``COMPACT_FROM`` bytes or more is kept zlib-compressed (JSON
and TOML shrink tenfold or more) and inflated again only when a check reads it.

Evidence files kept in git (``evidence/snapshots/``: Parquet and CSV, often the largest
members and incompressible) are only compared with their registered sha256, so without
``--recompute`` only their digest is kept (``hash_only``).

A `Mapping` of path -> bytes in archive order, so every check reads members as before and
gives the same verdicts from the same bytes.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from workbench.bundle.archive import DEFAULT_LIMITS, Limits, iter_archive

# Smaller members (statements, signatures, records, contracts: tens of thousands of
# files of a few hundred bytes) stay as they are: compressing them would gain little.
COMPACT_FROM = 256 << 10
# Fast rather than small: a findings run of 41 MB compresses to ~2 MB at level 1 in ~0.1 s.
_LEVEL = 1


class ReadMembers(Mapping[str, bytes]):
    """Members by path, in archive order, with each one's sha256 (hex)."""

    def __init__(self, hash_only: Callable[[str], bool] | None = None) -> None:
        self.digests: dict[str, str] = {}
        self._plain: dict[str, bytes] = {}
        self._packed: dict[str, bytes] = {}
        self._hash_only = hash_only

    def add(self, path: str, data: bytes) -> None:
        self.digests[path] = hashlib.sha256(data).hexdigest()
        if self._hash_only is not None and self._hash_only(path):
            return
        if len(data) >= COMPACT_FROM:
            self._packed[path] = zlib.compress(data, _LEVEL)
        else:
            self._plain[path] = data

    def __getitem__(self, path: str) -> bytes:
        data = self._plain.get(path)
        if data is not None:
            return data
        packed = self._packed.get(path)
        if packed is not None:
            return zlib.decompress(packed)
        if path in self.digests:
            # A check that needs these bytes must say so (`hash_only`): never a silent None.
            raise RuntimeError(f"{path}: kept by its sha256 only")
        raise KeyError(path)

    def __contains__(self, path: object) -> bool:
        return path in self.digests

    def __iter__(self) -> Iterator[str]:
        return iter(self.digests)

    def __len__(self) -> int:
        return len(self.digests)


def evidence_file(path: str) -> bool:
    """An evidence file kept in git, which a verifier only hashes (unless it recomputes)."""
    return path.startswith(EVIDENCE_FILES)


EVIDENCE_FILES = "evidence/snapshots/"


def read_members(
    source: Path | bytes,
    limits: Limits = DEFAULT_LIMITS,
    cancel: Callable[[], bool] | None = None,
    hash_only: Callable[[str], bool] | None = None,
) -> ReadMembers:
    """Every member of a bundle under ``limits`` (the hardened reader: ``archive``), kept
    as above. Raises the reader's refusal, whatever was read before it."""
    members = ReadMembers(hash_only)
    for path, data in iter_archive(source, limits, cancel):
        members.add(path, data)
    return members


def digest_of(files: Mapping[str, bytes], path: str) -> str:
    """The sha256 of a member: the one taken as it was read, or computed now."""
    if isinstance(files, ReadMembers):
        return files.digests[path]
    return hashlib.sha256(files[path]).hexdigest()
