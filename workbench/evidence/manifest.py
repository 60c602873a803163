"""`evidence/manifest.toml`: the register of evidence snapshots (pure: text in, text out).

Format (one ``[[snapshot]]`` table per registered file, sorted by id)::

    # Evidence snapshots registered in this repository.
    # Written by workbench: one [[snapshot]] per file, sorted by id.
    version = 1

    [[snapshot]]
    id = "ev-0123456789ab"          # "ev-" + first 12 hex digits of sha256
    name = "ev-score-reference"     # optional stable alias (unique), e.g. a drift reference
    kind = "freshness_lags"         # a key of workbench.evidence.kinds.KINDS
    path = "evidence/snapshots/ev-0123456789ab.csv"
    sha256 = "0123456789ab…"        # 64 lowercase hex digits of the file bytes
    size = 1234                     # bytes
    format = "csv"                  # csv | parquet | json | jsonl
    captured_at = 2026-03-01T10:00:00Z
    source = "prometheus export"
    contract = "ranking-features"   # optional
    term = "freshness-p95"          # optional
    registered_by = "p-ann"         # optional person id
    registered_at = 2026-03-01T10:05:00Z  # optional

`path` is repo-relative POSIX (no ``..``), or absolute / ``file:///…`` for large
files kept outside git; either way it must lie under an evidence root (the repository's
``evidence/``, plus the roots this machine configures), also after following symlinks
(`resolve_snapshot_path`). Rendering is deterministic: same data → same bytes, so the file
diffs cleanly and can be signed. No git access here; callers stage the file.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from workbench.evidence.errors import ManifestError, NotRegularFile, UnsafePath

MANIFEST_PATH = "evidence/manifest.toml"
SNAPSHOT_DIR = "evidence/snapshots"
MANIFEST_VERSION = 1

SNAPSHOT_ID_RE = re.compile(r"^ev-[0-9a-f]{12}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# A stable alias a contract can reference (e.g. a distribution-shift reference) while the
# id still changes with the bytes. It must not look like a generated id.
SNAPSHOT_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*$")

_FIELD_ORDER = (
    "id",
    "name",
    "kind",
    "path",
    "sha256",
    "size",
    "format",
    "table_version",
    "captured_at",
    "source",
    "contract",
    "term",
    "registered_by",
    "registered_at",
)
_HEADER = (
    "# Evidence snapshots registered in this repository.\n"
    "# Written by workbench: one [[snapshot]] per file, sorted by id.\n"
)


def snapshot_id(sha256_hex: str) -> str:
    """The snapshot id derived from the file's sha256."""
    return "ev-" + sha256_hex[:12]


def snapshot_relpath(snap_id: str, fmt: str) -> str:
    """Where a snapshot kept in git lives, e.g. ``evidence/snapshots/ev-….parquet``."""
    return f"{SNAPSHOT_DIR}/{snap_id}.{fmt}"


def sha256_file(path: Path, *, chunk_size: int = 1 << 20) -> tuple[str, int]:
    """(hex digest, size in bytes), streaming so large exports never sit in memory."""
    digest = hashlib.sha256()
    size = 0
    with open_regular(path)[0] as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def file_type(mode: int) -> str:
    """What a non-regular file is, for a refusal ("a named pipe (FIFO)")."""
    for test, what in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a symlink"),
    ):
        if test(mode):
            return what
    return "not a regular file"


def open_regular(path: Path | str) -> tuple[BinaryIO, os.stat_result]:
    """`path` opened for reading, with the stat of what was opened, only if that is a
    regular file (else `NotRegularFile`). Opened without blocking and checked on the
    descriptor: a file swapped for a FIFO after its stat would otherwise block the read
    until a writer came. (O_NONBLOCK has no effect on a regular file's reads: left set.)"""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(str(path), file_type(st.st_mode))
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


# --------------------------------------------------------------------------- paths


def check_path_syntax(path: str) -> str:
    """Validate a manifest `path` value; return it unchanged or raise ValueError."""
    if not path or path != path.strip():
        raise ValueError("must be a non-empty path without surrounding spaces")
    if "\\" in path or "\x00" in path:
        raise ValueError("must use '/' separators (POSIX) and no NUL bytes")
    if path.startswith("file:"):
        parts = urlsplit(path)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("file: URLs must be absolute local paths (file:///…)")
        local = unquote(parts.path)
    else:
        local = path
    segments = local.split("/")
    if ".." in segments:
        raise ValueError("must not contain '..'")
    if not local.startswith("/"):
        if any(s in ("", ".") for s in segments):
            raise ValueError("relative paths must not contain empty or '.' segments")
        if re.match(r"^[A-Za-z]:", local):
            raise ValueError("must be a repo-relative POSIX path or an absolute path")
    return path


def is_external(path: str) -> bool:
    """True for absolute / file: paths (files kept outside git)."""
    return path.startswith(("/", "file:"))


class OutsideRoots(UnsafePath):
    """A snapshot path outside every evidence root: refused before anything touches it."""


def default_roots(root: Path) -> tuple[Path, ...]:
    """The evidence roots of a repository without further configuration: its `evidence/`."""
    return (Path(root) / "evidence",)


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def _under_text(path: str, roots: tuple[str, ...]) -> bool:
    """`_under` on normalised absolute path strings: `evaluate` resolves thousands of paths
    a run and pathlib's parsing was most of their cost. A path kept with a leading ``//``
    (POSIX leaves its meaning to the system; pathlib treats it as its own root) is judged
    by `_under` itself, so both always agree."""
    if path.startswith("//") or any(r.startswith("//") for r in roots):
        return _under(Path(path), tuple(Path(r) for r in roots))
    return any(path == r or path.startswith(r if r.endswith("/") else r + "/") for r in roots)


def _real(path: str) -> tuple[str, os.stat_result | None, int | None]:
    """`Path(path).resolve()` as a string, with the stat it makes of the result (None when
    the target cannot be stat'ed, with the errno why: ELOOP for a symlink loop)."""
    real = os.path.realpath(path)
    try:
        return real, os.stat(real), None
    except OSError as exc:
        return real, None, exc.errno


def resolve_snapshot_path(path: str, root: Path, roots: tuple[Path, ...] | None = None) -> Path:
    """The file a manifest `path` designates, refusing anything outside the evidence roots.

    `roots` (absolute directories; default: the repository's `evidence/`): a snapshot
    must lie under one of them. The check is made twice: first on the path as written
    (made absolute and normalised without touching the file system, so a path such as
    ``/etc/shadow`` is refused before any stat, read or hash), then on the path with
    every symlink followed (so a link inside a root cannot point out of it).
    """
    return Path(_resolve_snapshot(path, root, roots)[0])


def _resolve_snapshot(
    path: str, root: Path, roots: tuple[Path, ...] | None
) -> tuple[str, os.stat_result | None]:
    """`resolve_snapshot_path` as a string, with the stat of the file it names (None if
    it cannot be stat'ed). Strings and os.path rather than pathlib: the same checks in
    a third of the CPU (a run verifies every snapshot's path)."""
    try:
        check_path_syntax(path)
    except ValueError as exc:
        raise UnsafePath(f"{path!r}: {exc}") from None
    roots = default_roots(root) if roots is None else roots
    base = os.path.normpath(Path(root).absolute())
    if path.startswith("file:"):
        written = unquote(urlsplit(path).path)
    elif path.startswith("/"):
        written = path
    else:
        written = os.path.join(base, str(PurePosixPath(path)))
    written = os.path.normpath(written)
    lexical_roots = tuple(os.path.normpath(Path(r).absolute()) for r in roots)

    def shown() -> str:  # only for a refusal: a run resolves thousands of paths
        # Roots inside the repository are shown relative to it: reasons land in committed
        # findings, which must not depend on where the clone sits.
        return (
            ", ".join(
                f"{Path(r).relative_to(base).as_posix()}/"
                if Path(r).is_relative_to(base)
                else str(Path(r))
                for r in lexical_roots
            )
            or "none"
        )

    if not _under_text(written, lexical_roots):
        raise OutsideRoots(f"{path!r} is outside the evidence roots ({shown()}); not read")
    target, st, err = _real(written)
    real_roots = tuple(_real(r)[0] for r in lexical_roots)
    if not _under_text(target, real_roots):
        raise OutsideRoots(
            f"{path!r} is outside the evidence roots ({shown()}): it leads out of them "
            "through a symlink; not read"
        )
    if err == errno.ELOOP:
        # A loop (a -> b -> a, a link to itself, a directory link cycle) names no file: the
        # same refusal as any other unsafe path, for this snapshot only.
        raise UnsafePath(f"{path!r} is a symlink loop: it names no file; not read")
    if err not in (None, errno.ENOENT, errno.ENOTDIR):
        raise UnsafePath(f"{path!r} cannot be read ({os.strerror(err)}); not read")
    return target, st


def manifest_position(text: str, snap_id: str, field_name: str = "path") -> tuple[int, int]:
    """Line and column of `field_name` of the [[snapshot]] with `snap_id` in manifest text."""
    return _positions(text, field_name).get(snap_id, (1, 1))


@functools.lru_cache(maxsize=4)
def manifest_positions(data: bytes, field_name: str = "path") -> dict[str, tuple[int, int]]:
    """`manifest_position` of every [[snapshot]] by id, from one parse and one scan of the
    manifest's bytes (kept for the last few manifests): a run that refuses thousands of
    snapshots (evidence roots not set on this machine) names each one's line, and parsing
    the manifest again per snapshot took minutes at 3,000 snapshots."""
    return _positions(data.decode("utf-8", "replace"), field_name)


def _positions(text: str, field_name: str) -> dict[str, tuple[int, int]]:
    from workbench.model.locate import locate

    try:
        tables = tomllib.loads(text).get("snapshot", [])
    except tomllib.TOMLDecodeError:
        return {}
    found = locate(text)
    out: dict[str, tuple[int, int]] = {}
    for index, table in enumerate(tables if isinstance(tables, list) else []):
        if isinstance(table, dict) and isinstance(table.get("id"), str):
            # The first entry of an id is the one named.
            out.setdefault(table["id"], found.find(("snapshot", index, field_name)) or (1, 1))
    return out


# --------------------------------------------------------------------------- models


def _utc(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an RFC 3339 date-time such as 2026-03-01T10:00:00Z") from None
    if not isinstance(value, datetime):
        raise ValueError("must be an RFC 3339 date-time such as 2026-03-01T10:00:00Z")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset; write it in UTC with 'Z'")
    return value.astimezone(UTC)


class Snapshot(BaseModel):
    """One registered evidence file."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    name: str | None = None
    kind: str
    path: str
    sha256: str
    size: StrictInt
    format: Literal["csv", "parquet", "json", "jsonl", "delta", "iceberg"]
    # A table (format delta / iceberg): the Delta version or Iceberg snapshot id it pins;
    # sha256 and size are those of the data-file listing (workbench.evidence.tables).
    table_version: StrictInt | None = None
    captured_at: datetime
    source: str
    contract: str | None = None
    term: str | None = None
    registered_by: str | None = None
    registered_at: datetime | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not SNAPSHOT_ID_RE.match(v):
            raise ValueError("must be 'ev-' followed by 12 lowercase hex digits")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not SNAPSHOT_NAME_RE.match(v) or len(v) > 64:
            raise ValueError(
                "must be a lowercase name of letters, digits and '-', '_' or '.' (max 64 chars)"
            )
        if SNAPSHOT_ID_RE.match(v):
            raise ValueError("must not look like a snapshot id (ev- + 12 hex digits)")
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        from workbench.evidence.kinds import KINDS

        if v not in KINDS:
            raise ValueError(f"unknown evidence kind {v!r} (known: {', '.join(sorted(KINDS))})")
        return v

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return check_path_syntax(v)

    @field_validator("sha256")
    @classmethod
    def _sha(cls, v: str) -> str:
        if not SHA256_RE.match(v):
            raise ValueError("must be 64 lowercase hex digits")
        return v

    @field_validator("size")
    @classmethod
    def _size(cls, v: int) -> int:
        if v < 0:
            raise ValueError("must be a non-negative number of bytes")
        return v

    @field_validator("captured_at", "registered_at", mode="before")
    @classmethod
    def _dt(cls, v: Any) -> Any:
        return None if v is None else _utc(v)

    @field_validator("source", "contract", "term", "registered_by")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be empty")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Snapshot:
        if self.id != snapshot_id(self.sha256):
            raise ValueError(
                f"id {self.id!r} does not match sha256 (expected {snapshot_id(self.sha256)!r})"
            )
        if self.format in ("delta", "iceberg"):
            if self.table_version is None or self.table_version < 0:
                raise ValueError(f"a {self.format} table needs table_version (>= 0)")
            return self
        if self.table_version is not None:
            raise ValueError("table_version is only for delta and iceberg tables")
        from workbench.evidence.errors import UnknownFormat
        from workbench.evidence.kinds import detect_format

        try:
            by_suffix = detect_format(PurePosixPath(self.path))
        except UnknownFormat:
            by_suffix = None  # external files may be named freely
        if by_suffix is not None and by_suffix != self.format:
            raise ValueError(
                f"format {self.format!r} does not match the path suffix ({by_suffix!r})"
            )
        return self


class Manifest(BaseModel):
    """All registered snapshots, kept sorted by id; ids and paths are unique."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    version: StrictInt = MANIFEST_VERSION
    snapshots: tuple[Snapshot, ...] = ()

    @field_validator("version")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != MANIFEST_VERSION:
            raise ValueError(
                f"unsupported manifest version {v} (this workbench reads {MANIFEST_VERSION})"
            )
        return v

    @field_validator("snapshots")
    @classmethod
    def _sorted(cls, v: tuple[Snapshot, ...]) -> tuple[Snapshot, ...]:
        # Canonical order, so equal manifests compare equal and render identically.
        return tuple(sorted(v, key=lambda s: s.id))

    @model_validator(mode="after")
    def _unique(self) -> Manifest:
        for field_name in ("id", "path", "name"):
            seen: set[str] = set()
            for snap in self.snapshots:
                value = getattr(snap, field_name)
                if value is None:
                    continue
                if field_name == "path" and snap.table_version is not None:
                    # One table, several pinned versions: unique per (path, version).
                    value = f"{value} @ version {snap.table_version}"
                if value in seen:
                    raise ValueError(f"duplicate snapshot {field_name} {value!r}")
                seen.add(value)
        return self

    def get(self, snap_id: str) -> Snapshot | None:
        return next((s for s in self.snapshots if s.id == snap_id), None)

    def resolve(self, ref: str) -> Snapshot | None:
        """The snapshot a contract names: by id, or by its stable `name` alias."""
        return next((s for s in self.snapshots if ref in (s.id, s.name)), None)

    def with_snapshot(self, snapshot: Snapshot) -> Manifest:
        """A new manifest with `snapshot` added (or replacing the one with its id)."""
        others = tuple(s for s in self.snapshots if s.id != snapshot.id)
        return Manifest(version=self.version, snapshots=(*others, snapshot))

    def without(self, snap_id: str) -> Manifest:
        return Manifest(
            version=self.version, snapshots=tuple(s for s in self.snapshots if s.id != snap_id)
        )


# --------------------------------------------------------------------------- parse


def _describe(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(snapshot)"


def _message(error: ErrorDetails) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "missing (required)"
    if kind == "extra_forbidden":
        return "unknown field"
    msg = str(error.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


def parse_manifest(text: str, filename: str = MANIFEST_PATH) -> Manifest:
    """Parse and validate manifest text; `ManifestError` lists every problem found."""
    from workbench.model import toml_cache

    try:
        # Parsed once per content (and kept in the clone's cache by the service): a manifest
        # of 3,000 snapshots is ≈ 0.4 s of pure-Python TOML. The data is only read here.
        data = toml_cache.loads(text)
    except tomllib.TOMLDecodeError as exc:
        from workbench.model.conflict import conflict_hunks

        hunks = conflict_hunks(text)
        if hunks:  # a merge left it half-done: say so, with both sides (docs/sync.md)
            raise ManifestError(
                filename, [f"merge conflict, {h.describe()}" for h in hunks]
            ) from None
        raise ManifestError(filename, [f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    for key in sorted(set(data) - {"version", "snapshot"}):
        problems.append(f"top-level key {key!r}: unknown (expected 'version' and [[snapshot]])")
    raw = data.get("snapshot", [])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        problems.append("'snapshot' must be an array of tables ([[snapshot]])")
        raw = []
    snapshots: list[Snapshot] = []
    for index, table in enumerate(raw):
        label = f"snapshot[{index}]" + (
            f" ({table['id']})" if isinstance(table.get("id"), str) else ""
        )
        try:
            snapshots.append(Snapshot.model_validate(table))
        except ValidationError as exc:
            for err in exc.errors():
                loc = _describe(err["loc"])
                where = f"field '{loc}'" if err["loc"] else "snapshot"
                problems.append(f"{label} {where}: {_message(err)}")
    if problems:
        raise ManifestError(filename, problems)
    try:
        return Manifest(version=data.get("version", MANIFEST_VERSION), snapshots=tuple(snapshots))
    except ValidationError as exc:
        raise ManifestError(
            filename, [f"{_describe(e['loc']) or 'manifest'}: {_message(e)}" for e in exc.errors()]
        ) from None


# --------------------------------------------------------------------------- render


def _toml_string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_datetime(value: datetime) -> str:
    value = value.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(fmt)


def _toml_value(value: Any) -> str:
    if isinstance(value, datetime):
        return _toml_datetime(value)
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _toml_string(str(value))


def render_manifest(manifest: Manifest) -> str:
    """Deterministic TOML: fixed header and field order, snapshots sorted by id."""
    lines = [_HEADER + f"version = {manifest.version}"]
    for snap in sorted(manifest.snapshots, key=lambda s: s.id):
        lines.append(render_snapshot(snap))
    return "\n\n".join(lines) + "\n"


def render_snapshot(snap: Snapshot) -> str:
    """One ``[[snapshot]]`` table, as the manifest writes it (no trailing newline)."""
    body = ["[[snapshot]]"]
    for name in _FIELD_ORDER:
        value = getattr(snap, name)
        if value is not None:
            body.append(f"{name} = {_toml_value(value)}")
    return "\n".join(body)


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class SnapshotIntegrity:
    ok: bool
    reason: str
    # "ok" | "missing" | "tampered" | "unsafe_path" | "outside_roots"
    status: str = "ok"
    path: Path | None = None
    files: tuple[Path, ...] = ()  # a table version's data files (verified)


def verify_snapshot(
    snapshot: Snapshot,
    root: Path,
    roots: tuple[Path, ...] | None = None,
    hasher: Callable[[Path], tuple[str, int]] | None = None,
) -> SnapshotIntegrity:
    """Check that the file the manifest names lies under an evidence root, exists and has
    the registered size and sha256. Outside the roots nothing is stat'ed, read or hashed.
    `hasher`: `sha256_file`, or `evidence.hash_cache.HashCache.sha256` (evaluate)."""
    try:
        # The stat made while resolving answers "exists", "regular file" and "size"
        # (pathlib's exists/is_file/stat were three more per snapshot).
        resolved, st = _resolve_snapshot(snapshot.path, root, roots)
    except OutsideRoots as exc:
        return SnapshotIntegrity(False, str(exc), "outside_roots")
    except UnsafePath as exc:
        return SnapshotIntegrity(False, str(exc), "unsafe_path")
    path = Path(resolved)
    if snapshot.format in ("delta", "iceberg"):
        return _verify_table(snapshot, path, root, roots)
    if st is None:
        return SnapshotIntegrity(False, f"missing: {snapshot.path} does not exist", "missing", path)
    if not stat.S_ISREG(st.st_mode):
        # Never opened: a FIFO would block the run, a device would never end the read.
        return SnapshotIntegrity(
            False, str(NotRegularFile(snapshot.path, file_type(st.st_mode))), "unsafe_path", path
        )
    size = st.st_size
    if size != snapshot.size:
        return SnapshotIntegrity(
            False,
            f"tampered: {snapshot.path} is {size} bytes, the manifest registered {snapshot.size}",
            "tampered",
            path,
        )
    try:
        digest, _ = (hasher or sha256_file)(path)
    except NotRegularFile as exc:  # swapped for a FIFO or a directory after the stat
        return SnapshotIntegrity(
            False, str(NotRegularFile(snapshot.path, exc.what)), "unsafe_path", path
        )
    except FileNotFoundError:
        return SnapshotIntegrity(
            False, f"missing: {snapshot.path} vanished while it was verified", "missing", path
        )
    except OSError as exc:  # unreadable (permissions, I/O error): refused, not a crash
        return SnapshotIntegrity(
            False, f"{snapshot.path} cannot be read ({exc.strerror}); not read", "unsafe_path", path
        )
    if digest != snapshot.sha256:
        return SnapshotIntegrity(
            False,
            f"tampered: sha256 of {snapshot.path} is {digest}, the manifest registered {snapshot.sha256}",
            "tampered",
            path,
        )
    return SnapshotIntegrity(True, "", "ok", path)


def _verify_table(
    snapshot: Snapshot, location: Path, root: Path, roots: tuple[Path, ...] | None
) -> SnapshotIntegrity:
    """A table version: re-resolved and every data file re-hashed (workbench.evidence.tables);
    each data file must lie under the evidence roots too."""
    from workbench.evidence import tables

    assert snapshot.table_version is not None
    if not location.exists():
        # A table that moved: the pinned version is read nowhere else (its listing names
        # these paths); registering it again at its new path is a new snapshot.
        return SnapshotIntegrity(
            False,
            f"missing: {snapshot.format} table {snapshot.path} (version "
            f"{snapshot.table_version}) does not exist: moved or deleted? Register it again "
            "at its new path (docs/engines.md)",
            "missing",
            location,
        )
    status, reason, files = tables.verify(
        snapshot.format,
        location,
        snapshot.table_version,
        snapshot.sha256,
        lambda p: resolve_snapshot_path(p, root, roots),
    )
    return SnapshotIntegrity(status == "ok", reason, status, location, files)
