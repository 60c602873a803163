"""Bundle archives: a deterministic writer and a hardened, in-memory reader.

Writer: a gzip'd tar with sorted entries, regular files only (no directory entries), fixed
mtime, uid/gid 0, no user or group names, mode 0644 (0755 for ``VERIFY.sh``), gzip header
mtime 0 and no file name. The same files give the same bytes.

Reader (never extracts to disk): the compressed size is capped first; the archive is then
read as a stream, inflated only as far as the tar reader has got, stopping as soon as the
total or the ratio of inflated to compressed bytes consumed passes its cap (decompression
bombs: refused after at most ``ratio_floor`` inflated bytes, whatever the file's size);
after the tar end marker only zero padding may follow; several gzip members are read one
after the other (as ``gzip -d`` and ``tar -z`` do); after the last, only zero bytes.
Every tar member must be a regular file with a safe relative name (no absolute path, no
``..``, no empty or ``.`` component, no backslash or control characters), whose declared
size is under the per-file cap (checked before its bytes are read), with no duplicates,
and at most ``max_members`` of them. Links, devices, FIFOs and directories are refused,
not skipped.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from workbench.model.errors import WorkbenchError
from workbench.repo.guard import contains_private_key_material


class BundleFormatError(WorkbenchError, ValueError):
    """The file is not a bundle this reader accepts (unsafe, oversized or malformed)."""


class PrivateKeyInBundle(BundleFormatError):
    """A file about to go into a bundle looks like private key material."""


@dataclass(frozen=True)
class Limits:
    max_compressed: int = 1 << 30  # 1 GiB on disk
    max_total: int = 4 << 30  # 4 GiB inflated
    max_file: int = 1 << 30  # 1 GiB per member
    max_members: int = 200_000
    max_ratio: int = 200  # inflated / compressed, checked once past ratio_floor
    ratio_floor: int = 8 << 20  # small archives may compress well (tar padding)
    max_name: int = 400


DEFAULT_LIMITS = Limits()
EXECUTABLE = frozenset({"VERIFY.sh"})
# No component starts with "-" (or "."): every tool the auditor runs on the files
# (sha256sum -c, awk, jq) would take "-" for stdin or "-x" for an option.
_SAFE_COMPONENT = re.compile(r"[A-Za-z0-9@+_=][A-Za-z0-9@+_.=-]*")


def check_name(name: str, max_len: int = DEFAULT_LIMITS.max_name) -> str:
    """A safe relative member name, or BundleFormatError."""
    if not name or len(name) > max_len:
        raise BundleFormatError(f"unsafe member name {name[:80]!r}: empty or too long")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise BundleFormatError(f"unsafe member name {name!r}: absolute path")
    parts = name.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise BundleFormatError(f"unsafe member name {name!r}: '..', '.' or empty component")
        if not _SAFE_COMPONENT.fullmatch(part):
            raise BundleFormatError(
                f"unsafe member name {name!r}: only letters, digits and @+_.=- are allowed, "
                "and no part starts with '-' or '.'"
            )
    return name


def scan_private(files: Mapping[str, bytes]) -> None:
    """Refuse to write a bundle holding anything that looks like a private key."""
    for path in sorted(files):
        if contains_private_key_material(files[path]):
            raise PrivateKeyInBundle(
                f"{path}: looks like private key material; refusing to write the bundle"
            )


def tar_info(path: str, size: int, mtime: int) -> tarfile.TarInfo:
    """A member's header: a regular file, fixed mtime, owner 0, no names, 0644 (0755 for
    VERIFY.sh). The one header both writers use."""
    info = tarfile.TarInfo(path)
    info.size = size
    info.mtime = mtime
    info.mode = 0o755 if path in EXECUTABLE else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


# zlib's default level: at 5,000 contracts (279 MB of tar) level 9 took 4.4 s of CPU for an
# archive 3.6 % smaller than level 6's 1.8 s. The bytes stay deterministic either way.
COMPRESSLEVEL = 6


def write_archive(files: Mapping[str, bytes], mtime: int) -> bytes:
    """Deterministic .tar.gz bytes of ``files`` (path -> bytes), built in memory. An export
    streams through ``writer.BundleMembers.write`` instead, which writes the same bytes."""
    scan_private(files)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(files):
            check_name(path)
            data = files[path]
            tar.addfile(tar_info(path, len(data), mtime), io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=out, mtime=0, compresslevel=COMPRESSLEVEL
    ) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


_STEP = 1 << 16  # compressed bytes fed to the inflater at a time
_OUT = 1 << 20  # most inflated bytes produced per call
_TRAILER_CAP = 1 << 20  # zero padding after the tar end marker (a record is 10 KiB)


class _Inflater(io.RawIOBase):
    """The gzip stream as a file, inflated as it is read under the caps: more than
    ``max_total`` inflated bytes, or more than ``max_ratio`` times the compressed bytes
    consumed so far (once past ``ratio_floor``), stops it at once. Nothing is inflated
    ahead of the reader, so a bomb is refused after at most ``ratio_floor`` bytes.
    Several gzip members follow each other as ``gzip -d`` does; after the last one only
    zero padding may follow."""

    def __init__(self, source: BinaryIO, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.fed = 0
        self.total = 0
        self.pending = b""
        self.buffer = b""
        self.offset = 0
        self.ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while self.offset >= len(self.buffer):
            if self.ended:
                return 0
            self.buffer, self.offset = self._inflate_more(), 0
        n = min(len(target), len(self.buffer) - self.offset)
        target[:n] = self.buffer[self.offset : self.offset + n]
        self.offset += n
        return n

    def _read_source(self) -> bytes:
        data = self.source.read(_STEP)
        self.fed += len(data)
        return data

    def _next_member(self) -> bool:
        """At the end of a gzip member: start the next one (True), or end the stream."""
        rest = self.inflater.unused_data
        while len(rest) < 2:
            more = self._read_source()
            if not more:
                break
            rest += more
        if rest.startswith(b"\x1f\x8b"):
            self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self.pending = rest
            return True
        padding = len(rest)
        while not rest.strip(b"\0") and padding <= _TRAILER_CAP:
            rest = self._read_source()
            if not rest:
                self.ended = True
                return False
            padding += len(rest)
        raise BundleFormatError("data after the end of the gzip stream")

    def _inflate_more(self) -> bytes:
        if self.inflater.eof and not self._next_member():
            return b""
        if self.pending:
            chunk = self.inflater.decompress(self.pending, _OUT)
        else:
            data = self._read_source()
            if not data:
                raise BundleFormatError("the gzip stream is truncated")
            chunk = self.inflater.decompress(data, _OUT)
        self.pending = self.inflater.unconsumed_tail
        self.total += len(chunk)
        consumed = self.fed - len(self.pending)
        if self.total > self.limits.max_total:
            raise BundleFormatError(f"inflates to more than {self.limits.max_total} bytes")
        if self.total > self.limits.ratio_floor and self.total > self.limits.max_ratio * consumed:
            raise BundleFormatError(
                f"inflates more than {self.limits.max_ratio}x its compressed size "
                "(a decompression bomb?)"
            )
        return chunk

    def finish(self) -> None:
        """After the tar end marker: only zero padding may follow (a tar record is 10 KiB)."""
        padding = 0
        while True:
            chunk = self.read(_OUT)
            if not chunk:
                return
            padding += len(chunk)
            if padding > _TRAILER_CAP or chunk.strip(b"\0"):
                raise BundleFormatError("data after the end of the tar archive")


def read_archive(
    source: Path | bytes,
    limits: Limits = DEFAULT_LIMITS,
    cancel: Callable[[], bool] | None = None,
) -> dict[str, bytes]:
    """Every member of a bundle, by name, read into memory under ``limits`` (see
    ``iter_archive``; ``verify-bundle`` keeps members more compactly, ``read_members``)."""
    return dict(iter_archive(source, limits, cancel))


def iter_archive(
    source: Path | bytes,
    limits: Limits = DEFAULT_LIMITS,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Each member of a bundle, (name, bytes), in archive order, as it is read.

    The archive is read as a stream: each member's declared size is checked against the
    per-file and total caps before its bytes are read, and the inflater stops as soon as
    the ratio or total cap is passed, so a decompression bomb costs at most
    ``ratio_floor`` bytes of memory before it is refused. A refusal is raised when the
    reader gets there: a caller must not trust what it was given before the iteration
    ended."""
    if isinstance(source, bytes):
        if len(source) > limits.max_compressed:
            raise BundleFormatError(f"{len(source)} bytes, over the {limits.max_compressed} cap")
        yield from _read(io.BytesIO(source), limits, cancel)
        return
    size = Path(source).stat().st_size
    if size > limits.max_compressed:
        raise BundleFormatError(f"{source}: {size} bytes, over the {limits.max_compressed} cap")
    with Path(source).open("rb") as handle:
        yield from _read(handle, limits, cancel)


def _read(
    handle: BinaryIO, limits: Limits, cancel: Callable[[], bool] | None
) -> Iterator[tuple[str, bytes]]:
    if handle.read(2) != b"\x1f\x8b":
        raise BundleFormatError("not a gzip file (a bundle is a .tar.gz)")
    handle.seek(0)
    stream = _Inflater(handle, limits)
    seen: set[str] = set()
    declared = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for count, member in enumerate(tar, 1):
                if count > limits.max_members:
                    raise BundleFormatError(f"more than {limits.max_members} members")
                if cancel is not None and count % 256 == 0 and cancel():
                    raise BundleCancelled("reading the bundle was cancelled")
                name = check_name(member.name, limits.max_name)
                if member.issym() or member.islnk():
                    raise BundleFormatError(f"{name}: links are not allowed in a bundle")
                if member.isdev() or member.isfifo():
                    raise BundleFormatError(f"{name}: devices and FIFOs are not allowed")
                if not member.isreg():
                    raise BundleFormatError(f"{name}: only regular files are allowed")
                if member.size > limits.max_file:
                    raise BundleFormatError(f"{name}: {member.size} bytes, over the per-file cap")
                declared += member.size
                if declared > limits.max_total:
                    raise BundleFormatError(f"members add up to more than {limits.max_total} bytes")
                if name in seen:
                    raise BundleFormatError(f"{name}: appears twice in the archive")
                seen.add(name)
                yield name, _member_bytes(tar, member, name)
        stream.finish()
    except tarfile.TarError as exc:
        raise BundleFormatError(f"not a valid tar archive: {exc}") from None
    except (EOFError, zlib.error) as exc:
        raise BundleFormatError(f"not a valid gzip stream: {exc}") from None


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> bytes:
    handle = tar.extractfile(member)
    assert handle is not None
    content = bytearray()
    while len(content) < member.size:
        piece = handle.read(min(_OUT, member.size - len(content)))
        if not piece:
            break
        content += piece
    if len(content) != member.size:
        raise BundleFormatError(f"{name}: truncated member")
    return bytes(content)


class BundleCancelled(WorkbenchError):  # noqa: N818 - the user's own choice, shown as a message
    """The caller's cancel() returned True."""
