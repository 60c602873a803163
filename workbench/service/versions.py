"""Parsed contract versions and the comparisons between them, by content, kept across runs.

The history of 1,000 contracts holds thousands of versions. Change notices need each one
parsed and validated, and each consecutive pair compared term by term: over a second of
work on every command that shows notices, for results that depend only on the bytes. They
are kept in the clone's cache (`workbench.repo.cache_store`) under the git blob id of the
bytes (which the history index already knows, so a cached version is never even read):
an entry can be missing but never stale.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from workbench.model.compare import ContractComparison, compare_contracts
from workbench.model.contract import Contract
from workbench.model.state import parse_contract
from workbench.repo import cache_store

_STORE = "contract-versions"
_MAX_ENTRIES = 50_000

Load = Callable[[], bytes | None]


def blob_id(raw: bytes) -> str:
    """The id git gives a blob of these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw, usedforsecurity=False).hexdigest()


class VersionCache:
    """Shared by every thread of one Workbench; values are shared too: do not mutate them."""

    def __init__(self, root: Path, *, writable: bool) -> None:
        self.root = root
        self.writable = writable
        self._lock = threading.Lock()
        self._contracts: dict[str, Contract | None] | None = None
        self._comparisons: dict[str, ContractComparison] = {}
        self._dirty = False

    def _load(self) -> dict[str, Contract | None]:
        # Called with the lock held.
        if self._contracts is None:
            stored = cache_store.read(self.root, _STORE)
            contracts, comparisons = {}, {}
            if isinstance(stored, tuple) and len(stored) == 2:
                contracts = {
                    k: v for k, v in stored[0].items() if v is None or isinstance(v, Contract)
                }
                comparisons = {
                    k: v for k, v in stored[1].items() if isinstance(v, ContractComparison)
                }
            self._contracts, self._comparisons = contracts, comparisons
        return self._contracts

    def contract(self, path: str, raw: bytes | None) -> Contract | None:
        """`parse_contract(path, raw)`, or None for no bytes."""
        if raw is None:
            return None
        return self.contract_of_blob(path, blob_id(raw), lambda: raw)

    def contract_of_blob(self, path: str, blob: str, load: Load) -> Contract | None:
        """The parsed version with git blob id `blob`; `load()` reads its bytes if needed."""
        with self._lock:
            known = self._load()
            if blob in known:
                return known[blob]
        contract = parse_contract(path, load())
        with self._lock:
            known[blob] = contract
            self._dirty = True
        return contract

    def compare(self, path: str, old: bytes | None, new: bytes | None) -> ContractComparison:
        """`compare_contracts` of the two versions' models (None: no such version)."""
        return self.compare_blobs(
            path,
            None if old is None else blob_id(old),
            None if new is None else blob_id(new),
            lambda: old,
            lambda: new,
        )

    def compare_blobs(
        self, path: str, old: str | None, new: str | None, load_old: Load, load_new: Load
    ) -> ContractComparison:
        key = f"{old or '-'}:{new or '-'}"
        with self._lock:
            self._load()
            hit = self._comparisons.get(key)
        if hit is not None:
            return hit
        before = None if old is None else self.contract_of_blob(path, old, load_old)
        after = None if new is None else self.contract_of_blob(path, new, load_new)
        result = compare_contracts(before, after)
        with self._lock:
            self._comparisons[key] = result
            self._dirty = True
        return result

    def save(self) -> None:
        """Persist what was added since the last save (nothing in a read-only session)."""
        with self._lock:
            if not self._dirty or not self.writable or self._contracts is None:
                return
            if len(self._contracts) + len(self._comparisons) > _MAX_ENTRIES:
                self._contracts, self._comparisons = {}, {}
            snapshot = (dict(self._contracts), dict(self._comparisons))
            self._dirty = False
        cache_store.write(self.root, _STORE, snapshot)
