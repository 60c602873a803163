"""Parsed TOML by content: the same bytes are parsed once per process (and, through the
service, once per repository clone).

tomllib is pure Python: 1,000 contracts cost about a second to parse, and several rooms
read the same blobs (the state, every version in the history, bundles). Entries are keyed
by the sha256 of the text, so a cached entry can never be stale. Callers must treat the
returned data as read-only. A document in the plain one-key-per-line form the workbench
writes is read by `toml_lines` (3-4x faster, the same result); anything else, and every
error, comes from tomllib.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import tomllib
from typing import Any

from workbench.model import toml_lines

_lock = threading.Lock()
_entries: dict[str, dict[str, Any]] = {}
# Order in which this process parsed each entry, and per persistent store how far it has
# been given them: one process can serve several clones (tests, a bundle check), and each
# clone's store must get what was parsed before it asked, not only since another store did.
_parsed: dict[str, int] = {}
_exported: dict[str, int] = {}
_count = 0
MAX_ENTRIES = 50_000


def key_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def loads(text: str) -> dict[str, Any]:
    """tomllib.loads with a content-addressed cache (errors are never cached)."""
    key = key_of(text)
    with _lock:
        hit = _entries.get(key)
    if hit is not None:
        return hit
    data = toml_lines.loads(text)
    if data is None:
        data = tomllib.loads(text)
    global _count
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
            _parsed.clear()
        _count += 1
        _entries[key] = data
        _parsed[key] = _count
    return data


def export_new(store: str = "") -> dict[str, dict[str, Any]]:
    """Entries this process parsed that ``store`` has not been given yet."""
    with _lock:
        since = _exported.get(store, 0)
        out = {k: _entries[k] for k, n in _parsed.items() if n > since and k in _entries}
        _exported[store] = _count
    return out


def preload(entries: dict[str, dict[str, Any]]) -> None:
    with _lock:
        for key, data in entries.items():
            _entries.setdefault(key, data)


@functools.lru_cache(maxsize=1 << 16)
def record_table(data: bytes) -> dict[str, Any]:
    """``tomllib.loads(data.decode("utf-8"))`` of a signed record, kept for this process by
    its bytes (never persisted; errors are raised every time, never kept): the record's
    reader and its statement check both read its fields, and parsing the same 2,000 delivery
    records twice was a tenth of a fresh clone's gate. Records are written one key per line,
    so `toml_lines` reads them (3,000 clock and delivery records: 0.16 s of CPU in tomllib,
    0.07 s here), with tomllib's result and, for anything else, tomllib itself. Read-only,
    like ``loads``."""
    text = data.decode("utf-8")
    fast = toml_lines.loads(text)
    return fast if fast is not None else tomllib.loads(text)
