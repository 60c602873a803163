"""Parsed contract versions and the comparisons between them, by content, kept across runs.

The history of 1,000 contracts holds thousands of versions. Change notices need each one
parsed and validated, and each consecutive pair compared term by term: over a second of
work on every command that shows notices, for results that depend only on the bytes. They
are kept in the clone's cache (`workbench.repo.cache_store`) under the git blob id of the
bytes (which the history index already knows, so a cached version is never even read):
an entry can be missing but never stale.

A version is kept as the parsed TOML it was validated from, not as the model, and
validated again when the store is read: pickling 2,000 contract models cost 0.11 s each
way, validating their parsed data 0.04 s (the first gate of a fresh clone writes the
store; every later command reads it). Read from the store, data that no longer validates
is dropped (its bytes are parsed again when asked for), so nothing the cache holds is
taken on trust.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workbench.model.compare import ContractComparison, compare_contracts
from workbench.model.contract import Contract
from workbench.model.documents import contract_from_source, parse_contract_source
from workbench.repo import cache_store

_STORE = "contract-versions"
_ADDED = "contract-versions-added"
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
        # What each valid version was validated from (what the store keeps, see above).
        self._sources: dict[str, dict[str, Any]] = {}
        self._comparisons: dict[str, ContractComparison] = {}
        self._digests: dict[str, str] = {}  # git blob id -> sha256 of the bytes
        self._dirty = False
        self._main: set[str] = set()  # keys in the main file
        self._added = 0  # entries in the small file, or parsed since the load
        self._held = 0  # > 0: `save` waits for the outermost `held` block to end

    def _load(self) -> dict[str, Contract | None]:
        # Called with the lock held. The store is a large main file plus a small file of
        # what later runs added, so that a run after one commit writes kilobytes, not the
        # whole history again (see `save`).
        if self._contracts is None:
            self._contracts, self._comparisons, self._digests = {}, {}, {}
            self._sources = {}
            self._main = self._merge(cache_store.read(self.root, _STORE))
            self._added = len(self._merge(cache_store.read(self.root, _ADDED)))
        return self._contracts

    def _merge(self, stored: object) -> set[str]:
        """Take in a stored (contracts, comparisons, digests) triple; the keys it held."""
        if not (isinstance(stored, tuple) and len(stored) == 3):
            return set()
        contracts, comparisons, digests = stored
        if not all(isinstance(d, dict) for d in stored):
            return set()
        for k, v in digests.items():
            if isinstance(k, str) and isinstance(v, str):
                self._digests[k] = v
        assert self._contracts is not None
        for k, v in contracts.items():
            if v is None:
                self._contracts[k] = None
            elif isinstance(v, dict) and (contract := contract_from_source(v)) is not None:
                self._contracts[k] = contract
                self._sources[k] = v
        for k, v in comparisons.items():
            if isinstance(v, ContractComparison):
                self._comparisons[k] = v
        return set(contracts) | set(comparisons) | {f"sha256:{k}" for k in digests}

    def contract(self, path: str, raw: bytes | None) -> Contract | None:
        """`parse_contract(path, raw)`, or None for no bytes."""
        if raw is None:
            return None
        return self.contract_of_blob(path, blob_id(raw), lambda: raw)

    def known(self, raw: bytes) -> Contract | None:
        """The model these bytes validated to before, without parsing them (None: unknown
        or invalid)."""
        with self._lock:
            return self._load().get(blob_id(raw))

    def remember_valid(
        self, validated: Iterable[tuple[bytes, Contract, dict[str, Any] | None]]
    ) -> None:
        """Take in versions the caller has already validated: (bytes, the model
        `parse_contract` gives for them, the parsed TOML it was validated from). The checked
        state has validated every contract at HEAD; its history would otherwise validate
        the same bytes again (a thousand models on a fresh clone). Keyed by the bytes' blob
        id, so an entry can only ever answer for exactly these bytes."""
        with self._lock:
            known = self._load()
            for raw, contract, source in validated:
                blob = blob_id(raw)
                if blob not in known and source is not None:
                    known[blob] = contract
                    self._sources[blob] = source
                    self._dirty = True
                    self._added += 1

    def contract_of_blob(self, path: str, blob: str, load: Load) -> Contract | None:
        """The parsed version with git blob id `blob`; `load()` reads its bytes if needed."""
        with self._lock:
            known = self._load()
            if blob in known:
                return known[blob]
        contract, source = parse_contract_source(path, load())
        with self._lock:
            known[blob] = contract
            if source is not None:
                self._sources[blob] = source
            self._dirty = True
            self._added += 1
        return contract

    def sha256_of_blob(self, blob: str, load: Load) -> str | None:
        """The sha256 of the bytes with git blob id `blob` (what a statement names);
        `load()` reads them if this clone never hashed them."""
        with self._lock:
            self._load()
            known = self._digests.get(blob)
        if known is not None:
            return known
        raw = load()
        if raw is None:
            return None
        digest = hashlib.sha256(raw).hexdigest()
        with self._lock:
            self._digests[blob] = digest
            self._dirty = True
            self._added += 1
        return digest

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
            self._added += 1
        return result

    @contextmanager
    def held(self) -> Iterator[None]:
        """Saves inside the block wait for its end: one command that asks for the
        verdicts, the history and the notices writes the store once, not three times (the
        store holds every parsed version: rewriting it is a pickle of thousands of models)."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
                last = self._held == 0
            if last:
                self.save()

    def save(self) -> None:
        """Persist what was added since the last save (nothing in a read-only session, and
        nothing yet inside a `held` block).

        New entries go to the small file until they are a fifth of the main one; then
        everything is folded into the main file again.
        """
        with self._lock:
            if self._held or not self._dirty or not self.writable or self._contracts is None:
                return
            if len(self._contracts) + len(self._comparisons) > _MAX_ENTRIES:
                self._contracts, self._comparisons, self._main = {}, {}, set()
                self._digests, self._sources = {}, {}
            # None stands for an invalid version: a valid one without its source (none
            # should be) is left out of the store, never written as invalid.
            sources = self._sources
            snapshot = (
                {
                    k: None if v is None else sources[k]
                    for k, v in self._contracts.items()
                    if v is None or k in sources
                },
                dict(self._comparisons),
                dict(self._digests),
            )
            fold = self._added * 5 >= len(self._main)
            main = self._main
            self._dirty = False
        if fold:
            cache_store.write(self.root, _STORE, snapshot)
            cache_store.remove(self.root, _ADDED)
            with self._lock:
                self._main = (
                    set(snapshot[0]) | set(snapshot[1]) | {f"sha256:{k}" for k in snapshot[2]}
                )
                self._added = 0
            return
        added = (
            {k: v for k, v in snapshot[0].items() if k not in main},
            {k: v for k, v in snapshot[1].items() if k not in main},
            {k: v for k, v in snapshot[2].items() if f"sha256:{k}" not in main},
        )
        cache_store.write(self.root, _ADDED, added)
