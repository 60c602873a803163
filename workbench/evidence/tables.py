"""Evidence that is a table, not a file: a Delta or Iceberg table pinned by version.

A lakehouse table changes under everyone's feet; a finding must name exactly which data it
judged. So a table snapshot is registered **by version** (a Delta version number, an Iceberg
snapshot id) and pinned by its **data files**: `pin` resolves that version with the table's
own library (``deltalake`` reads the ``_delta_log``, ``pyiceberg`` the metadata file), lists
the Parquet files that make it up and hashes each. The listing is committed beside the
manifest (``evidence/tables/<id>.json``); the snapshot's sha256 is the sha256 of that
listing, its id derives from it, as for a file.

Every evaluation re-resolves the version and re-hashes the files (`verify`): a rewritten
file, a vacuumed one, or a version that now resolves to other files is ``tampered`` /
``missing``, never read. A newer version of the table changes nothing for a snapshot of an
older one: data files are immutable in both formats, so the old version still lists the same
files (tested: `tests/evidence/test_tables.py`).

**How the engines read it.** Both read exactly those Parquet files: DuckDB as one view over
the list (its sandbox allows exactly those files), Spark with ``spark.read.parquet(files)``.
Decision (docs/engines.md): reading the files of the pinned version, instead of DuckDB's
``delta_scan`` or Spark's Delta/Iceberg connectors, keeps the sandbox's file allow-list,
needs no extension or JAR download (the sandbox allows no install; Spark's connectors are
not in pyspark and would be fetched from a network), and gives both engines the same bytes.
Its price: features that change rows *outside* the data files are refused at registration
with the reason — Delta deletion vectors, column mapping and partition columns (their values
live in the log, not the files), Iceberg delete files — rather than read wrongly.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from workbench.evidence.errors import EvidenceError, UnsafePath

TABLES_DIR = "evidence/tables"
TableFormat = Literal["delta", "iceberg"]
TABLE_FORMATS: tuple[str, ...] = ("delta", "iceberg")


class TableError(EvidenceError):
    """A table version that cannot be pinned or read as registered."""


@dataclass(frozen=True)
class DataFile:
    path: Path  # absolute, resolved
    size: int
    sha256: str


@dataclass(frozen=True)
class TableVersion:
    """A table at one version: the data files that make it up."""

    format: str
    location: Path  # Delta: the table folder; Iceberg: the metadata JSON file
    version: int
    files: tuple[DataFile, ...]

    def listing(self, legacy: bool = False) -> bytes:
        """The committed listing: what the snapshot's sha256 covers, in its one pretty form
        (sorted keys, indent 1, ASCII: ``jq -a --indent 1``), the only form both bundle
        verifiers accept (``signing.canonical.written_form``, pretty). `legacy`: as
        registered before a version past 2^53 was written as digits (still verified)."""
        base = self.location if self.format == "delta" else self.location.parent.parent
        data = {
            "format": self.format,
            "version": self.version if legacy else version_json(self.version),
            "files": [
                {"path": _relative(f.path, base), "size": f.size, "sha256": f.sha256}
                for f in self.files
            ],
        }
        return (json.dumps(data, sort_keys=True, indent=1) + "\n").encode("utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.listing()).hexdigest()

    @property
    def legacy_sha256(self) -> str:
        return hashlib.sha256(self.listing(legacy=True)).hexdigest()

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


MAX_EXACT_VERSION = 2**53 - 1


def version_json(version: int) -> int | str:
    """A version as every JSON file of the workbench writes it: a number, or past 2^53 (an
    Iceberg snapshot id is a random 63-bit number) its decimal digits, which signed JSON
    (I-JSON) and jq 1.6 could not carry exactly. One form per value: "0" is not version 0."""
    return version if 0 <= version <= MAX_EXACT_VERSION else str(version)


def listing_path(snapshot_id: str) -> str:
    return f"{TABLES_DIR}/{snapshot_id}.json"


def detect_table(location: Path) -> str | None:
    """'delta' for a folder with a ``_delta_log``, 'iceberg' for a ``*.metadata.json``."""
    if location.is_dir() and (location / "_delta_log").is_dir():
        return "delta"
    if location.is_file() and location.name.endswith(".metadata.json"):
        return "iceberg"
    return None


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _local(uri: str, encoded: bool) -> Path:
    """The local path of a data file. `encoded`: Delta's file URIs are percent-encoded
    (`dir%20with%20space/…`); Iceberg's are the path as written, where a partition folder's
    name itself holds `%2F` and `+` (`segment=north%2Feast+%26+co/`): decoding that would
    name another file, so only the scheme is taken off (as pyiceberg reads it)."""
    path = uri
    if uri.startswith("file://"):
        host, slash, rest = uri[len("file://") :].partition("/")
        if host not in ("", "localhost"):
            raise TableError(f"data file {uri!r} is on host {host!r}; only local tables are read")
        path = slash + rest
    elif uri.startswith("file:"):
        path = uri[len("file:") :]
    elif "://" in uri:
        raise TableError(f"data file {uri!r} is not on a local path; only local tables are read")
    return Path(unquote(path) if encoded else path)


def data_files(fmt: str, location: Path, version: int | None) -> tuple[int, list[Path]]:
    """(the version, its data files) as the table's own library resolves them."""
    if fmt == "delta":
        return _delta_files(location, version)
    if fmt == "iceberg":
        return _iceberg_files(location, version)
    raise TableError(f"unknown table format {fmt!r} (known: {', '.join(TABLE_FORMATS)})")


def _delta_files(location: Path, version: int | None) -> tuple[int, list[Path]]:
    try:
        from deltalake import DeltaTable
    except ImportError:
        raise TableError(
            "Delta tables need the deltalake package: pip install 'handshake-workbench[spark]'"
        ) from None
    if version is not None and version < 0:
        raise TableError(f"{location}: Delta version {version}: a version is a number from 0")
    try:
        table = DeltaTable(str(location), version=version)
    except Exception as exc:
        raise TableError(_delta_version_problem(location, version, exc)) from None
    protocol = table.protocol()
    features = set(protocol.reader_features or ())
    refused = features & {"deletionVectors", "columnMapping", "v2Checkpoint", "timestampNtz"}
    if refused - {"timestampNtz", "v2Checkpoint"}:
        raise TableError(
            f"{location}: Delta reader feature(s) {', '.join(sorted(refused))} change rows or "
            "columns outside the data files; not supported as evidence (docs/engines.md)"
        )
    if table.metadata().partition_columns:
        raise TableError(
            f"{location}: partitioned Delta table (partition values live in the log, not the "
            "files); register an unpartitioned table (docs/engines.md)"
        )
    return int(table.version()), [_local(u, encoded=True) for u in table.file_uris()]


def _delta_version_problem(location: Path, version: int | None, exc: Exception) -> str:
    """Why a Delta version cannot be read, in the table's terms: the versions its log can
    still give (a version past the latest is not written yet; one before the oldest was
    removed by log clean-up), not the kernel's message alone."""
    log = location / "_delta_log"
    try:
        names = [p.name for p in log.iterdir()]
    except OSError:
        names = []
    commits = sorted(int(n[:20]) for n in names if n[:20].isdigit() and n.endswith(".json"))
    checkpoints = sorted(int(n[:20]) for n in names if n[:20].isdigit() and ".checkpoint." in n)
    if version is None or not commits:
        return f"{location}: cannot read the Delta table: {_first_line(exc)}"
    latest = commits[-1]
    oldest = 0 if commits[0] == 0 else min([c for c in checkpoints] or [commits[0]])
    if version > latest:
        return f"{location}: Delta table has no version {version} yet (its latest is {latest})"
    if version < oldest:
        return (
            f"{location}: Delta version {version} can no longer be read: its log was cleaned "
            f"up (delta.logRetentionDuration); the oldest version it can give is {oldest} "
            f"(latest {latest})"
        )
    return f"{location}: cannot read Delta version {version}: {_first_line(exc)}"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def location_path(text: str) -> Path:
    """A table location as a user gives it: a path, or the ``file://`` URI a catalog
    returns (`catalog.load_table(…).metadata_location`), taken as written."""
    if text.startswith("file:"):
        return _local(text, encoded=False)
    return Path(text)


def _iceberg_files(location: Path, snapshot: int | None) -> tuple[int, list[Path]]:
    try:
        from pyiceberg.table import StaticTable
    except ImportError:
        raise TableError(
            "Iceberg tables need the pyiceberg package: pip install 'handshake-workbench[spark]'"
        ) from None
    try:
        table = StaticTable.from_metadata(str(location))
        snap = table.current_snapshot() if snapshot is None else table.snapshot_by_id(snapshot)
        if snap is None:
            known = [str(s.snapshot_id) for s in table.metadata.snapshots]
            listed = ", ".join(known[-10:]) if known else "none"
            raise TableError(
                f"{location}: Iceberg table has no snapshot {snapshot} in this metadata file "
                f"(its snapshots, latest last: {listed}); an expired snapshot is no longer "
                "listed, and a newer one is in a newer metadata file"
            )
        tasks = list(table.scan(snapshot_id=snap.snapshot_id).plan_files())
    except TableError:
        raise
    except Exception as exc:
        raise TableError(f"{location}: cannot read Iceberg snapshot {snapshot}: {exc}") from None
    if any(t.delete_files for t in tasks):
        raise TableError(
            f"{location}: Iceberg snapshot {snap.snapshot_id} has delete files (rows removed "
            "outside the data files); not supported as evidence (docs/engines.md)"
        )
    files = []
    for t in tasks:
        if str(t.file.file_format).upper().split(".")[-1] != "PARQUET":
            raise TableError(f"{location}: data file {t.file.file_path} is not Parquet")
        files.append(_local(t.file.file_path, encoded=False))
    return int(snap.snapshot_id), sorted(files)


def pin(
    fmt: str,
    location: Path,
    version: int | None,
    under_roots: Any = None,
) -> TableVersion:
    """Resolve `version` (None: the latest / current) and hash every data file.

    `under_roots(path) -> Path` checks a path against the evidence roots (and resolves it);
    every data file must pass it, not only the table's location."""
    resolved, paths = data_files(fmt, location, version)
    if not paths:
        raise TableError(f"{location}: version {resolved} has no data files")
    from workbench.evidence.manifest import sha256_file

    files = []
    for p in sorted(paths):
        real = under_roots(str(p)) if under_roots is not None else p.resolve()
        if not real.is_file():
            raise TableError(
                f"missing: {fmt} table {location} version {resolved}: its data file {p.name} "
                f"does not exist (vacuumed, expired or moved: {p})"
            )
        try:
            digest, size = sha256_file(real)
        except FileNotFoundError:
            raise TableError(
                f"missing: {fmt} table {location} version {resolved}: its data file {p} vanished"
            ) from None
        except OSError as exc:  # unreadable: this table's refusal, not the run's end
            raise UnsafePath(f"data file {p} cannot be read ({exc.strerror}); not read") from None
        files.append(DataFile(real, size, digest))
    return TableVersion(fmt, location, resolved, tuple(files))


def verify(
    fmt: str, location: Path, version: int, listing_sha256: str, under_roots: Any = None
) -> tuple[str, str, tuple[Path, ...]]:
    """(status, reason, data files) of a registered table version: ``ok`` when it still
    resolves to the same files with the same bytes."""
    from workbench.evidence.manifest import OutsideRoots

    try:
        now = pin(fmt, location, version, under_roots)
    except TableError as exc:
        text = str(exc)
        return ("missing" if text.startswith("missing") else "tampered", text, ())
    except OutsideRoots as exc:
        return ("outside_roots", str(exc), ())
    except EvidenceError as exc:  # a loop, a FIFO, an unreadable data file
        return ("unsafe_path", str(exc), ())
    if listing_sha256 not in (now.sha256, now.legacy_sha256):
        return (
            "tampered",
            f"tampered: {fmt} version {version} of {location} now lists other files or bytes "
            f"(sha256 of its listing {now.sha256}, registered {listing_sha256})",
            (),
        )
    return "ok", "", tuple(f.path for f in now.files)


def table_location(path: str) -> Path:
    return Path(os.path.normpath(path))
