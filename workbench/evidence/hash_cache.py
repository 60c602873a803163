"""The sha256 of evidence files, remembered by file identity on the evaluating machine.

`evaluate` checks that every snapshot's file still has the registered sha256 before any
check reads it. Hashing 20M rows of Parquet (418 MB) costs ≈ 0.3 s of CPU on every run, for
a file that has not changed since the last one. Like git's index, this cache remembers a
file's digest with its identity: device, inode, size, modification time and **change time
(ctime)**, and skips the hash while all five are unchanged. The decision
(docs/evidence.md, "The hash cache") rests on ctime:

* any write to a file, or setting its mtime back (`touch -d`, `os.utime`), sets its ctime
  to the current time, and no unprivileged process can set ctime: a file rewritten with
  the same size and its mtime restored still has a new ctime, so it is hashed again;
* replacing the file (rename over it, delete and recreate) gives it a new inode and ctime;
* a digest is remembered only when the file was last changed at least `RACY_S` before
  hashing began and had the same identity before and after (a write in the same clock tick
  as the hash could otherwise keep every field; git calls these entries "racy");
* only on local file systems whose kernel keeps ctime itself (`LOCAL_FS`, read from
  /proc/self/mountinfo): on a network or FUSE mount (NFS, SMB, s3fs, gcsfuse) the times
  come from a server or from object metadata a writer can set, so those files are always
  hashed, as is everything on a system without /proc;
* the cache lives in the clone's `.git/handshake-workbench/cache/` (never pushed), read as
  untrusted input (`workbench.repo.cache_store`: plain data only), and each entry counts
  only with an HMAC-SHA256 tag under this user's secret outside the repository (the one
  the signature cache uses, `workbench.signing.verified.user_secret`): an entry planted in
  `.git/` (a restored CI cache, a copied clone) is ignored and the file hashed;
* a digest is remembered only for a file its check accepted (`hash_many`'s `accepted`):
  a refused file is never vouched for, and entries of files a run did not verify are kept
  (a run that refused every snapshot must not empty the cache);
* `WORKBENCH_NO_CACHE=1` or `WORKBENCH_NO_HASH_CACHE=1` hashes every file, every run.

What it does not stop: someone with root on the evaluating machine (who can set the clock
or write the block device); such a person can also change a file between its hash and the
query that reads it, with or without this cache.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from workbench.evidence.manifest import open_regular
from workbench.repo import cache_store
from workbench.signing.verified import user_secret

STORE = "evidence-hashes"
DISABLE_ENV = "WORKBENCH_NO_HASH_CACHE"
# A file changed less than this before its hash began is hashed again next time.
RACY_S = 2.0
# File systems whose inode times the local kernel maintains (ctime cannot be set by a
# writer without root).
LOCAL_FS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "zfs", "f2fs", "jfs"})
_CHUNK = 1 << 20

Identity = tuple[int, int, int, int, int]  # dev, inode, size, mtime_ns, ctime_ns
Hasher = Callable[[Path], tuple[str, int]]
T = TypeVar("T")
R = TypeVar("R")


def _identity(st: os.stat_result) -> Identity:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def local_devices(mountinfo: str | None = None) -> frozenset[int]:
    """Device numbers of the mounted file systems in `LOCAL_FS` (none without /proc)."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
        except OSError:
            return frozenset()
    devices = set()
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 3:
            continue
        fstype = line.split(" - ", 1)[1].split()[0]
        major, _, minor = fields[2].partition(":")
        if fstype in LOCAL_FS and major.isdigit() and minor.isdigit():
            devices.add(os.makedev(int(major), int(minor)))
    return frozenset(devices)


class HashCache:
    """Digests by resolved path for one run; `save` writes what was learnt (thread-safe)."""

    def __init__(self, root: Path, *, writable: bool) -> None:
        self.root = Path(root)
        self.enabled = not (os.environ.get(DISABLE_ENV) or os.environ.get(cache_store.DISABLE_ENV))
        self.writable = writable and self.enabled
        self._lock = threading.Lock()
        self._secret = user_secret(create=writable) if self.enabled else None
        if self._secret is None:  # no secret: no entry can be trusted, none is kept
            self.enabled = self.writable = False
        self._devices = local_devices() if self.enabled else frozenset()
        stored = cache_store.read(self.root, STORE) if self.enabled else None
        self._entries: dict[str, tuple[Identity, str]] = _valid(stored, self._secret)
        # Digests learnt this run: remembered only once the check that hashed the file
        # accepted it (`settle`), never for a refused file.
        self._learnt: dict[str, tuple[Identity, str]] = {}
        self._changed = False
        self.hashed = 0  # files read and hashed this run (the rest came from the cache)

    def sha256(self, path: Path, *, only_cached: bool = False) -> tuple[str, int]:
        """(hex digest, size) of the file at `path`, from the cache when its identity is
        unchanged, else read and hashed (and learnt when that is sound, remembered only
        once `settle` says its check accepted it); with `only_cached`, `_Miss` instead of
        reading it. Not a regular file (a FIFO swapped in): `NotRegularFile`, unread."""
        key = str(path)
        # One descriptor: stat what is read; never a FIFO or device (`open_regular`).
        fh, before = open_regular(path)
        with fh:
            ident = _identity(before)
            with self._lock:
                hit = self._entries.get(key)
            if hit is not None and hit[0] == ident and before.st_dev in self._devices:
                return hit[1], before.st_size
            if only_cached:
                raise _Miss(key)
            began = time.time_ns()
            digest = hashlib.sha256()
            size = 0
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            after = os.fstat(fh.fileno())
        self.hashed += 1
        hexdigest = digest.hexdigest()
        settled = max(after.st_mtime_ns, after.st_ctime_ns) < began - int(RACY_S * 1e9)
        if _identity(after) == ident and settled and after.st_dev in self._devices:
            with self._lock:
                self._learnt[key] = (ident, hexdigest)
        return hexdigest, size

    def settle(self, keys: Sequence[str], accepted: bool) -> None:
        """After the check of the files at `keys`: remember what was learnt of them if it
        accepted them; if it refused them, forget them (learnt now or remembered before)."""
        if accepted and not self._learnt:  # a cached file, accepted: nothing to do, no lock
            return
        with self._lock:
            for key in keys:
                learnt = self._learnt.pop(key, None)
                if accepted and learnt is not None:
                    self._entries[key] = learnt
                    self._changed = True
                elif not accepted and self._entries.pop(key, None) is not None:
                    self._changed = True

    def cached(self, path: Path) -> tuple[str, int]:
        """`sha256` when the cache vouches for the file at `path`; raises `_Miss` when the
        file would have to be read and hashed (nothing of it is read)."""
        return self.sha256(path, only_cached=True)

    def save(self) -> None:
        """Write what this run changed. Entries of files the run did not look at are kept
        (a run that refused every snapshot, or one scoped to a contract, verified nothing
        of them); when something changed, entries of files that no longer exist drop out,
        so the cache does not grow without end."""
        with self._lock:
            changed = self._changed
            entries = dict(self._entries)
        if not (self.writable and changed and self._secret is not None):
            return
        entries = {k: v for k, v in entries.items() if os.path.lexists(k)}
        tagged = {k: (i, d, _tag(self._secret, k, i, d)) for k, (i, d) in entries.items()}
        cache_store.write(self.root, STORE, tagged)


class _Miss(Exception):
    """A file the cache cannot vouch for (raised by `HashCache.cached`)."""


def hash_many(
    root: Path,
    writable: bool,
    check: Callable[[T, Hasher], R],
    items: Sequence[T],
    cacheable: Callable[[T], bool] = lambda _item: True,
    accepted: Callable[[R], bool] = lambda _result: True,
) -> list[R]:
    """`check(item, hasher)` for every item, sharing one run's `HashCache` of the clone at
    `root`, saved afterwards. Items whose files the cache vouches for are checked in this
    thread; the rest (files to read and hash) on four threads (hashlib releases the GIL).
    A cached check is pure Python: spread over four threads it cost twice the CPU of one
    on a loaded machine (the threads fight over the GIL), for no gain. Items that are not
    `cacheable` (a table version hashes its data files itself) go to the threads directly.
    A file's digest is remembered only when `accepted(result)` holds for its item: a
    refused file (tampered, say) is never vouched for by the cache."""
    hashes = HashCache(root, writable=writable)

    def judged(item: T, hasher: Callable[[Path], tuple[str, int]]) -> R:
        keys: list[str] = []  # the files this item's check hashed (one thread per item)

        def tracking(path: Path) -> tuple[str, int]:
            keys.append(str(path))
            return hasher(path)

        try:
            result = check(item, tracking)
        except _Miss:
            raise
        except BaseException:
            hashes.settle(keys, accepted=False)
            raise
        hashes.settle(keys, accepted=accepted(result))
        return result

    out: dict[int, R] = {}
    todo: list[int] = []
    for i, item in enumerate(items):
        if not cacheable(item):
            todo.append(i)
            continue
        try:
            out[i] = judged(item, hashes.cached)
        except _Miss:
            todo.append(i)
    # One task per thread, every fourth file each (not a future per file).
    lanes = max(1, min(4, len(todo)))
    if todo:
        with ThreadPoolExecutor(max_workers=lanes) as pool:
            parts = list(
                pool.map(
                    lambda lane: [(i, judged(items[i], hashes.sha256)) for i in todo[lane::lanes]],
                    range(lanes),
                )
            )
        out.update(pair for part in parts for pair in part)
    hashes.save()
    return [out[i] for i in range(len(items))]


def _tag(secret: bytes, path: str, ident: Identity, digest: str) -> bytes:
    message = "\0".join([path, *map(str, ident), digest]).encode("utf-8", "surrogateescape")
    return hmac.new(secret, message, hashlib.sha256).digest()


def _valid(stored: object, secret: bytes | None) -> dict[str, tuple[Identity, str]]:
    """Only well-formed entries of a stored cache (untrusted input) whose tag is valid
    under this user's secret."""
    out: dict[str, tuple[Identity, str]] = {}
    if not isinstance(stored, dict) or secret is None:
        return out
    for key, value in stored.items():
        if not (
            isinstance(key, str)
            and isinstance(value, tuple)
            and len(value) == 3
            and isinstance(value[0], tuple)
            and len(value[0]) == 5
            and all(isinstance(v, int) for v in value[0])
            and isinstance(value[1], str)
            and len(value[1]) == 64
            and isinstance(value[2], bytes)
        ):
            continue
        dev, ino, size, mtime, ctime = value[0]
        ident = (dev, ino, size, mtime, ctime)
        if hmac.compare_digest(_tag(secret, key, ident, value[1]), value[2]):
            out[key] = (ident, value[1])
    return out
