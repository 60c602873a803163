"""Derived data kept between runs, inside `.git/handshake-workbench/cache/` of each clone.

Everything here is a pure function of committed or working-tree bytes (parsed TOML, the
checked state, the history index, parsed contract versions), so an entry is either keyed
by content or tagged with the commit it describes: it can be missing, never stale. Each
file also carries a fingerprint of the workbench's own code, so a new version of the rules
never reads what an older one derived.

The files are written and read only by the workbench on this machine, but they are still
read as untrusted input: the unpickler builds nothing beyond plain data, datetimes and the
workbench's own model classes (pydantic models, dataclasses, enums). A planted file cannot
run code; a damaged or foreign one is ignored, because the cache only ever saves time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import functools
import gc
import hashlib
import importlib
import io
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.repo.atomic import atomic_write

FORMAT = 2
# Set (to anything) to neither read nor write the cache, e.g. for an audit run.
DISABLE_ENV = "WORKBENCH_NO_CACHE"
_DATETIME = {"date", "datetime", "time", "timedelta", "timezone"}
# Modules whose classes may be rebuilt: the pure model, the seam map's plain views, the
# history's commit records and the evidence manifest (validated, by content).
_MODEL_PACKAGE = "workbench.model."
_MODEL_MODULES = {"workbench.governance.seam_view"}
_EXTRA_CLASSES = {
    ("workbench.repo.git", "CommitInfo"),
    ("workbench.evidence.manifest", "Manifest"),
    ("workbench.evidence.manifest", "Snapshot"),
}


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name in _DATETIME:
            return getattr(datetime, name)
        if (
            module.startswith(_MODEL_PACKAGE)
            or module in _MODEL_MODULES
            or (module, name) in _EXTRA_CLASSES
        ):
            cls = getattr(importlib.import_module(module), name, None)
            if isinstance(cls, type) and _is_model_class(cls):
                return cls
        raise pickle.UnpicklingError(f"refusing {module}.{name} in the workbench cache")


def _is_model_class(cls: type) -> bool:
    if dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum):
        return True
    from pydantic import BaseModel  # only once a model is met: the first screen needs none

    return issubclass(cls, BaseModel)


def cache_dir(root: Path) -> Path:
    return Path(root) / ".git" / "handshake-workbench" / "cache"


def store_path(root: Path, name: str) -> Path:
    return cache_dir(root) / f"{name}-v{FORMAT}.pickle"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Changes whenever a source file of the workbench changes (name, size or mtime)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(package):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                rel = os.path.relpath(os.path.join(folder, name), package)
                digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def read(root: Path, name: str, key: object = None) -> Any | None:
    """The data last written under `name` (and `key`) by this version of the workbench.

    A file is a small header (code fingerprint, key) followed by the data, so a file made
    for another key is dismissed without loading what it holds.
    """
    if os.environ.get(DISABLE_ENV):
        return None
    path = store_path(root, name)
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    with contextlib.suppress(Exception):
        stream = io.BytesIO(raw)
        header = _ModelUnpickler(stream).load()
        if header != {"code": code_fingerprint(), "key": key}:
            return None
        with _no_gc():
            return _ModelUnpickler(stream).load()
    return None


# Whether a read also freezes the collector's generations (see `_no_gc`): only while a
# one-shot command runs (`one_shot_process`), never in a long process such as the app.
_freeze_reads = False


@contextlib.contextmanager
def one_shot_process() -> Iterator[None]:
    """Run a one-shot command: what a cache read loads is kept out of later cyclic
    collections (`gc.freeze`), since it lives as long as the process. A long process (the
    terminal app, which reloads the state many times) must never freeze after a read:
    frozen cyclic garbage (a dropped session, a closed screen) is never collected, so each
    reload would keep the last one's for good. What was frozen stays so on leaving:
    unfreezing would hand it all to the collection the interpreter makes as it exits
    (≈ 0.1 s per million objects)."""
    with _reads_freeze(True):
        yield


@contextlib.contextmanager
def long_process() -> Iterator[None]:
    """Run a long process (the terminal app) inside a command: reads freeze nothing; the
    app decides itself when to freeze, after a full collection (`tui.app`)."""
    with _reads_freeze(False):
        yield


@contextlib.contextmanager
def _reads_freeze(on: bool) -> Iterator[None]:
    global _freeze_reads
    previous = _freeze_reads
    _freeze_reads = on
    try:
        yield
    finally:
        _freeze_reads = previous


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Unpickling creates objects by the hundred thousand, each allocation counting towards
    a cyclic collection that finds nothing: loading the history index took 18 times longer
    with the collector on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # In a one-shot command what was just loaded is long-lived; leaving it out of later
        # collections keeps each of them from walking a few hundred thousand objects.
        # Frozen objects are still freed by reference counting when dropped; cyclic garbage
        # that happened to exist at this moment is kept until the command ends.
        if _freeze_reads:
            gc.freeze()
        if was_enabled:
            gc.enable()


def write(root: Path, name: str, data: Any, key: object = None) -> None:
    """Replace the data under `name` (atomically; failures are ignored: it is only a cache)."""
    if not (Path(root) / ".git").is_dir() or os.environ.get(DISABLE_ENV):
        return
    header = {"code": code_fingerprint(), "key": key}
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
        blob = pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL) + pickle.dumps(
            data, protocol=pickle.HIGHEST_PROTOCOL
        )
        atomic_write(store_path(root, name), blob, mode=0o600, durable=False)


def remove(root: Path, name: str) -> None:
    with contextlib.suppress(OSError):
        store_path(root, name).unlink()
