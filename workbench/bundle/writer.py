"""The bundle's members as the export produces them, and the archive written from them.

An export at 5,000 contracts produces hundreds of megabytes of members (statements,
signatures, findings runs, evidence files, OSCAL). Holding them in memory and then the
whole tar and its gzip besides cost more than 1.5 GiB; here each member goes to a spool
file as its stage produces it, hashed on the way, and only its place, size and sha256
stay in memory. The signed index and SHA256SUMS are made from those digests.

The archive is written at the end, in sorted order, with the same headers as
``archive.write_archive`` (which stays the in-memory reference): the same members give the
same bytes. Why not stream the tar itself in stage order: SHA256SUMS (the second member in
sorted order) and ``bundle.json`` need every other member's digest, and changing the order
would change every bundle's bytes and what an auditor's earlier copy compares against.
The spool costs disk (the uncompressed members once, beside the bundle), not memory.
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import tempfile
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from workbench.bundle.archive import COMPRESSLEVEL, PrivateKeyInBundle, check_name, tar_info
from workbench.repo.guard import contains_private_key_material

# Below this the spool stays in memory (the demo's bundles, the app's small exports).
SPOOL_IN_MEMORY = 8 << 20


@dataclass(frozen=True)
class _Member:
    offset: int
    size: int
    sha256: str


@dataclass(frozen=True)
class Written:
    """The archive as written: its sha256 and size."""

    sha256: str
    size: int


class BundleMembers(MutableMapping[str, bytes]):
    """path -> bytes, kept in a spool file: setting a member checks its name, refuses private
    key material, hashes it and appends it to the spool; reading one reads it back."""

    def __init__(self, spool_dir: Path | None = None) -> None:
        self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=SPOOL_IN_MEMORY, dir=str(spool_dir) if spool_dir is not None else None
        )
        self._members: dict[str, _Member] = {}
        self._end = 0

    def __setitem__(self, path: str, data: bytes) -> None:
        check_name(path)
        if contains_private_key_material(data):
            raise PrivateKeyInBundle(
                f"{path}: looks like private key material; refusing to write the bundle"
            )
        if self._end + len(data) > SPOOL_IN_MEMORY:
            # To disk before a large member is appended (after, it would sit in memory
            # beside the spool so far and be copied once more on the way out).
            self._spool.rollover()
        self._spool.seek(self._end)
        self._spool.write(data)
        self._members[path] = _Member(self._end, len(data), hashlib.sha256(data).hexdigest())
        self._end += len(data)

    def __getitem__(self, path: str) -> bytes:
        member = self._members[path]
        self._spool.seek(member.offset)
        return self._spool.read(member.size)

    def __delitem__(self, path: str) -> None:
        del self._members[path]  # its bytes stay in the spool, unreferenced

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, path: object) -> bool:
        return path in self._members

    def sha256(self, path: str) -> str:
        return self._members[path].sha256

    def size(self, path: str) -> int:
        return self._members[path].size

    def sums(self, leave_out: str) -> bytes:
        """SHA256SUMS over every member but ``leave_out`` (the sums file itself), from the
        digests taken as the members were added (layout.render_sums, from kept bytes)."""
        lines = [
            f"{self._members[p].sha256}  {p}\n" for p in sorted(self._members) if p != leave_out
        ]
        return "".join(lines).encode("ascii")

    def write(self, target: BinaryIO, mtime: int) -> Written:
        """The deterministic .tar.gz of every member into ``target``, member by member."""
        out = _Hashing(target)
        with (
            gzip.GzipFile(
                filename="", mode="wb", fileobj=out, mtime=0, compresslevel=COMPRESSLEVEL
            ) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
        ):
            for path in sorted(self._members):
                member = self._members[path]
                self._spool.seek(member.offset)
                # tarfile copies exactly info.size bytes from the spool's position.
                tar.addfile(tar_info(path, member.size, mtime), self._spool)
        return Written(out.hash.hexdigest(), out.size)

    def close(self) -> None:
        self._spool.close()


class _Hashing:
    """A write-only file that hashes and counts what passes through to ``target``."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()
