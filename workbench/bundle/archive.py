"""Bundle archives: a deterministic writer and a hardened, in-memory reader.

Writer: a gzip'd tar with sorted entries, regular files only (no directory entries), fixed
mtime, uid/gid 0, no user or group names, mode 0644 (0755 for ``VERIFY.sh``), gzip header
mtime 0 and no file name. The same files give the same bytes.

Reader (never extracts to disk): the compressed size is capped first; the gzip stream is
inflated in bounded chunks, stopping as soon as the total or the inflated/compressed ratio
passes its cap (decompression bombs); trailing data after the gzip member is refused. Then
every tar member must be a regular file with a safe relative name (no absolute path, no
``..``, no empty or ``.`` component, no backslash or control characters), under the
per-file cap, with no duplicates, and at most ``max_members`` of them. Links, devices,
FIFOs and directories are refused, not skipped.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.repo.guard import contains_private_key_material


class BundleFormatError(ValueError):
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
_SAFE_COMPONENT = re.compile(r"[A-Za-z0-9@+_=-][A-Za-z0-9@+_.=-]*")


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
                f"unsafe member name {name!r}: only letters, digits and @+_.=- are allowed"
            )
    return name


def scan_private(files: Mapping[str, bytes]) -> None:
    """Refuse to write a bundle holding anything that looks like a private key."""
    for path in sorted(files):
        if contains_private_key_material(files[path]):
            raise PrivateKeyInBundle(
                f"{path}: looks like private key material; refusing to write the bundle"
            )


def write_archive(files: Mapping[str, bytes], mtime: int) -> bytes:
    """Deterministic .tar.gz bytes of ``files`` (path -> bytes)."""
    scan_private(files)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(files):
            check_name(path)
            data = files[path]
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o755 if path in EXECUTABLE else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _inflate(data: bytes, limits: Limits) -> bytes:
    if data[:2] != b"\x1f\x8b":
        raise BundleFormatError("not a gzip file (a bundle is a .tar.gz)")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    chunks: list[bytes] = []
    total = 0
    view = memoryview(data)
    step = 1 << 20
    pos = 0
    pending = b""
    while True:
        if pending:
            chunk = inflater.decompress(pending, step)
        elif pos < len(view):
            chunk = inflater.decompress(view[pos : pos + step], step)
            pos += step
        else:
            chunk = inflater.flush()
            if not chunk:
                break
        pending = inflater.unconsumed_tail
        total += len(chunk)
        if total > limits.max_total:
            raise BundleFormatError(f"inflates to more than {limits.max_total} bytes")
        if total > limits.ratio_floor and total > limits.max_ratio * len(data):
            raise BundleFormatError(
                f"inflates more than {limits.max_ratio}x its compressed size "
                "(a decompression bomb?)"
            )
        chunks.append(chunk)
        if inflater.eof:
            break
    if not inflater.eof:
        raise BundleFormatError("the gzip stream is truncated")
    if inflater.unused_data or pos < len(view) and bytes(view[pos:]).strip(b"\0"):
        raise BundleFormatError("data after the end of the gzip stream")
    return b"".join(chunks)


def read_archive(
    source: Path | bytes,
    limits: Limits = DEFAULT_LIMITS,
    cancel: Callable[[], bool] | None = None,
) -> dict[str, bytes]:
    """Every member of a bundle, by name, read into memory under ``limits``."""
    if isinstance(source, bytes):
        data = source
    else:
        size = Path(source).stat().st_size
        if size > limits.max_compressed:
            raise BundleFormatError(f"{source}: {size} bytes, over the {limits.max_compressed} cap")
        data = Path(source).read_bytes()
    if len(data) > limits.max_compressed:
        raise BundleFormatError(f"{len(data)} bytes, over the {limits.max_compressed} cap")
    inflated = _inflate(data, limits)
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(inflated), mode="r:") as tar:
            count = 0
            while True:
                member = tar.next()
                if member is None:
                    break
                count += 1
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
                if name in out:
                    raise BundleFormatError(f"{name}: appears twice in the archive")
                handle = tar.extractfile(member)
                assert handle is not None
                content = handle.read(limits.max_file + 1)
                if len(content) != member.size:
                    raise BundleFormatError(f"{name}: truncated member")
                out[name] = content
    except tarfile.TarError as exc:
        raise BundleFormatError(f"not a valid tar archive: {exc}") from None
    return out


class BundleCancelled(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The caller's cancel() returned True."""
