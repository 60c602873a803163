"""The persistent side of the TOML parse cache, kept inside `.git/` of each clone.

The file is written and read only by the workbench on this machine, but it is still read
with an unpickler that accepts nothing beyond the plain types TOML produces, so a planted
file cannot run code.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import pickle
from pathlib import Path
from typing import Any

from workbench.model import toml_cache
from workbench.repo.atomic import atomic_write

_ALLOWED = {
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
}
FORMAT = 1


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return getattr(datetime, name)
        raise pickle.UnpicklingError(f"refusing {module}.{name} in the parse cache")


def store_path(root: Path) -> Path:
    return root / ".git" / "handshake-workbench" / "cache" / f"toml-v{FORMAT}.pickle"


def load(root: Path) -> None:
    path = store_path(root)
    if not path.is_file():
        return
    # A damaged or foreign cache is ignored: it only ever saves time.
    with contextlib.suppress(Exception):
        data = _PlainUnpickler(io.BytesIO(path.read_bytes())).load()
        if isinstance(data, dict):
            toml_cache.preload({k: v for k, v in data.items() if isinstance(v, dict)})


def save(root: Path) -> None:
    new = toml_cache.export_new()
    if not new or not (root / ".git").is_dir():
        return
    path = store_path(root)
    entries: dict[str, Any] = {}
    if path.is_file():
        with contextlib.suppress(Exception):
            loaded = _PlainUnpickler(io.BytesIO(path.read_bytes())).load()
            if isinstance(loaded, dict):
                entries = loaded
    if len(entries) > toml_cache.MAX_ENTRIES:
        entries = {}
    entries.update(new)
    with contextlib.suppress(OSError):
        atomic_write(path, pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL), mode=0o600)
