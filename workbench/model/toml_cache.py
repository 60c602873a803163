"""Parsed TOML by content: the same bytes are parsed once per process (and, through the
service, once per repository clone).

tomllib is pure Python: 1,000 contracts cost about a second to parse, and several rooms
read the same blobs (the state, every version in the history, bundles). Entries are keyed
by the sha256 of the text, so a cached entry can never be stale. Callers must treat the
returned data as read-only.
"""

from __future__ import annotations

import hashlib
import threading
import tomllib
from typing import Any

_lock = threading.Lock()
_entries: dict[str, dict[str, Any]] = {}
_added: set[str] = set()
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
    data = tomllib.loads(text)
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key] = data
        _added.add(key)
    return data


def export_new() -> dict[str, dict[str, Any]]:
    """Entries parsed in this process since the last call (for a persistent store)."""
    with _lock:
        out = {k: _entries[k] for k in _added if k in _entries}
        _added.clear()
    return out


def preload(entries: dict[str, dict[str, Any]]) -> None:
    with _lock:
        for key, data in entries.items():
            _entries.setdefault(key, data)
