"""The evidence hash cache (docs/evidence.md, "The hash cache"): a file's digest is reused
only while its device, inode, size, mtime and ctime are unchanged, on a local file system,
for a file that had settled before it was hashed. The attack it must stop: evidence
rewritten with the same size and its mtime set back."""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.evidence.test_evaluate import (
    NOW,
    config_file,
    lags_file,
    repo_template,  # noqa: F401 - a fixture
    svc,
)
from workbench.evidence import hash_cache
from workbench.evidence.hash_cache import HashCache, local_devices
from workbench.evidence.manifest import sha256_file
from workbench.repo import cache_store


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(cache_store.DISABLE_ENV, raising=False)
    monkeypatch.delenv(hash_cache.DISABLE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # this user's secret
    # Files written by a test are seconds old at most: let them count as settled.
    monkeypatch.setattr(hash_cache, "RACY_S", 0.0)
    (tmp_path / "clone" / ".git").mkdir(parents=True)
    return tmp_path / "clone"


def _evidence(tmp_path: Path, data: bytes = b"score\n0.25\n0.75\n") -> Path:
    path = tmp_path / "scores.csv"
    path.write_bytes(data)
    return path


def _run(clone: Path, path: Path) -> tuple[str, int]:
    """One evaluate's worth: a new cache from the clone, one file, saved."""
    cache = HashCache(clone, writable=True)
    digest, _size = cache.sha256(path)
    cache.settle([str(path)], accepted=True)  # as `hash_many` does for an accepted file
    cache.save()
    return digest, cache.hashed


def test_an_unchanged_file_is_hashed_once(clone: Path, tmp_path: Path) -> None:
    path = _evidence(tmp_path)
    time.sleep(0.01)
    first = _run(clone, path)
    assert first == (sha256_file(path)[0], 1)
    assert _run(clone, path) == (first[0], 0)  # from the cache: not read


def test_rewritten_with_the_same_size_and_mtime_is_hashed_again(
    clone: Path, tmp_path: Path
) -> None:
    # The attack: new bytes of the same length, the old mtime restored. The kernel sets
    # ctime on the write and on the utime call; nobody without root can set it back.
    path = _evidence(tmp_path)
    time.sleep(0.01)
    digest, _ = _run(clone, path)
    before = path.stat()
    time.sleep(0.01)  # a ctime tick later
    path.write_bytes(b"score\n0.99\n0.99\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    got, hashed = _run(clone, path)
    assert hashed == 1 and got != digest and got == sha256_file(path)[0]


def test_a_file_replaced_by_another_is_hashed_again(clone: Path, tmp_path: Path) -> None:
    path = _evidence(tmp_path)
    digest, _ = _run(clone, path)
    other = tmp_path / "other.csv"
    other.write_bytes(b"score\n0.11\n0.11\n")
    st = path.stat()
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    other.replace(path)  # a new inode under the old name, same size and mtime
    got, hashed = _run(clone, path)
    assert hashed == 1 and got != digest


def test_a_file_changed_just_before_its_hash_is_not_remembered(
    clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A write in the same clock tick as the hash could keep every field ("racy").
    monkeypatch.setattr(hash_cache, "RACY_S", 2.0)
    path = _evidence(tmp_path)
    assert _run(clone, path)[1] == 1
    assert _run(clone, path)[1] == 1


def test_off_a_local_file_system_every_file_is_hashed(
    clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hash_cache, "local_devices", lambda: frozenset())
    path = _evidence(tmp_path)
    assert [_run(clone, path)[1] for _ in range(2)] == [1, 1]


@pytest.mark.parametrize("env", [hash_cache.DISABLE_ENV, cache_store.DISABLE_ENV])
def test_the_cache_can_be_turned_off(
    clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    path = _evidence(tmp_path)
    _run(clone, path)
    monkeypatch.setenv(env, "1")
    assert [_run(clone, path)[1] for _ in range(2)] == [1, 1]


def test_only_kernel_kept_file_systems_count_as_local() -> None:
    mountinfo = (
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw\n"
        "40 27 0:50 / /mnt/nfs rw - nfs4 server:/export rw\n"
        "41 27 0:51 / /mnt/bucket rw - fuse.s3fs s3fs rw\n"
        "42 27 0:52 / /mnt/gcs rw - fuse.gcsfuse bucket rw\n"
        "garbage line\n"
    )
    assert local_devices(mountinfo) == {os.makedev(254, 0), os.makedev(0, 27)}


def test_an_entry_planted_in_the_clone_is_ignored(clone: Path, tmp_path: Path) -> None:
    # Someone who can write the clone's .git (a restored CI cache, a copied clone) plants
    # the registered digest for the file's current identity: without this user's tag it
    # does not count, and the file is read and hashed.
    path = _evidence(tmp_path)
    ident = hash_cache._identity(path.stat())
    forged = "ab" * 32
    cache_store.write(clone, hash_cache.STORE, {str(path): (ident, forged, b"\0" * 32)})
    got, hashed = _run(clone, path)
    assert hashed == 1 and got == sha256_file(path)[0] != forged


def test_a_cache_copied_from_another_user_is_ignored(
    clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _evidence(tmp_path)
    assert _run(clone, path)[1] == 1
    assert _run(clone, path)[1] == 0
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "someone-else"))
    assert _run(clone, path)[1] == 1  # their secret, not this one: hashed again


def test_a_damaged_cache_is_ignored(clone: Path, tmp_path: Path) -> None:
    path = _evidence(tmp_path)
    cache_store.write(clone, hash_cache.STORE, {str(path): ("not", "an entry"), 5: None})
    assert _run(clone, path) == (sha256_file(path)[0], 1)


@pytest.fixture
def repo(repo_template: Path, tmp_path: Path) -> Path:  # noqa: F811 - test_evaluate's repo
    root = tmp_path / "repo"
    shutil.copytree(repo_template, root, symlinks=True)
    lags_file(tmp_path / "lags.csv", 2, NOW - timedelta(hours=2))
    config_file(tmp_path / "cfg.csv")
    return root


def test_evaluate_finds_evidence_rewritten_with_its_mtime_restored(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(cache_store.DISABLE_ENV, raising=False)
    monkeypatch.delenv(hash_cache.DISABLE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(repo.parent / "config"))
    monkeypatch.setattr(hash_cache, "RACY_S", 0.0)
    s = svc(repo)
    snap = next(i.snapshot for i in s.snapshots() if i.snapshot.kind == "freshness_lags")
    path = repo / snap.path
    assert _status(s.evaluate(write=False).run) != "error"
    stored = cache_store.read(repo, hash_cache.STORE)
    assert stored[str(path.resolve())][1] == snap.sha256  # remembered (and tagged)
    st = path.stat()
    time.sleep(0.01)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("app,", "ap2,"), encoding="utf-8")  # the same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    run = svc(repo).evaluate(write=False).run
    assert _status(run) == "error" and run["inputs"]["snapshots"][snap.id] == "tampered"


def _status(run: dict) -> str:  # type: ignore[type-arg]
    return str(next(f for f in run["findings"] if f["term"] == "freshness")["status"])


def test_hash_many_checks_cached_files_in_order_and_hashes_only_the_changed(
    clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cached files are checked in the calling thread, files to hash on the pool: the
    # results come back in the items' order either way, and a file changed since the last
    # run is read again (its new digest), never taken from the cache.
    paths = []
    for i in range(9):
        path = tmp_path / f"s{i}.csv"
        path.write_bytes(f"score\n0.{i}\n".encode())
        paths.append(path)
    time.sleep(0.01)

    def check(p: Path, hasher: hash_cache.Hasher) -> tuple[Path, str]:
        return p, hasher(p)[0]

    first = hash_cache.hash_many(clone, True, check, paths)
    assert first == [(p, sha256_file(p)[0]) for p in paths]
    changed = paths[4]
    changed.write_bytes(b"score\n0.99\n")
    reads: list[Path] = []
    real = HashCache.sha256

    def counting(self: HashCache, path: Path, *, only_cached: bool = False) -> tuple[str, int]:
        if not only_cached:
            reads.append(path)
        return real(self, path, only_cached=only_cached)

    monkeypatch.setattr(HashCache, "sha256", counting)
    again = hash_cache.hash_many(clone, True, check, paths)
    assert again == [(p, sha256_file(p)[0]) for p in paths]
    assert again[4][1] != first[4][1]
    assert reads == [changed]


def test_hash_many_sends_items_that_are_not_cacheable_to_the_threads(
    clone: Path, tmp_path: Path
) -> None:
    # A table version hashes its own data files: it must not hold up the calling thread
    # while the other tables hash on the pool (wall time on more than one core).
    import threading

    caller = threading.get_ident()
    seen: dict[int, int] = {}

    def check(i: int, hasher: hash_cache.Hasher) -> int:
        seen[i] = threading.get_ident()
        return i * 10

    got = hash_cache.hash_many(clone, True, check, [0, 1, 2, 3], lambda i: i % 2 == 0)
    assert got == [0, 10, 20, 30]
    assert seen[1] != caller and seen[3] != caller


# --------------------------------------------------------------------------- refused runs


def _stored_paths(root: Path) -> set[str]:
    stored = cache_store.read(root, hash_cache.STORE)
    return set(stored) if isinstance(stored, dict) else set()


def test_a_run_that_refuses_every_snapshot_keeps_the_cache(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run on a machine where every snapshot is refused before its hash (here: the
    # snapshot folder moved away for a moment) verified nothing: it must not empty the
    # cache, so the next run does not re-hash files that did not change.
    monkeypatch.delenv(cache_store.DISABLE_ENV, raising=False)
    monkeypatch.delenv(hash_cache.DISABLE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(repo.parent / "config"))
    monkeypatch.setattr(hash_cache, "RACY_S", 0.0)
    svc(repo).evaluate(write=False)
    remembered = _stored_paths(repo)
    assert remembered  # the first run learnt every file
    snapshots = repo / "evidence" / "snapshots"
    snapshots.rename(repo / "evidence" / "away")
    refused = svc(repo).evaluate(write=False).run
    assert set(refused["inputs"]["snapshots"].values()) == {"missing"}
    assert _stored_paths(repo) == remembered
    (repo / "evidence" / "away").rename(snapshots)
    hashed: list[int] = []
    real = HashCache.save

    def counting(self: HashCache) -> None:
        hashed.append(self.hashed)
        real(self)

    monkeypatch.setattr(HashCache, "save", counting)
    svc(repo).evaluate(write=False)
    assert hashed == [0]  # every file from the cache again


def test_a_refused_file_is_never_remembered(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file that no longer has its registered sha256 is refused; its (new) digest must not
    # enter the cache, and the entry of its old bytes goes.
    monkeypatch.delenv(cache_store.DISABLE_ENV, raising=False)
    monkeypatch.delenv(hash_cache.DISABLE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(repo.parent / "config"))
    monkeypatch.setattr(hash_cache, "RACY_S", 0.0)
    s = svc(repo)
    snap = next(i.snapshot for i in s.snapshots() if i.snapshot.kind == "freshness_lags")
    path = str((repo / snap.path).resolve())
    s.evaluate(write=False)
    assert path in _stored_paths(repo)
    text = (repo / snap.path).read_text(encoding="utf-8")
    (repo / snap.path).write_text(text.replace("app,", "ap2,"), encoding="utf-8")
    run = svc(repo).evaluate(write=False).run
    assert run["inputs"]["snapshots"][snap.id] == "tampered"
    stored = _stored_paths(repo)
    assert path not in stored and stored  # the other files' entries stay


def test_hash_many_remembers_only_accepted_items(clone: Path, tmp_path: Path) -> None:
    good, bad = _evidence(tmp_path), tmp_path / "bad.csv"
    bad.write_bytes(b"score\n0.5\n")

    def check(p: Path, hasher: hash_cache.Hasher) -> tuple[Path, bool]:
        return p, hasher(p)[0] == sha256_file(good)[0]

    got = hash_cache.hash_many(clone, True, check, [good, bad], accepted=lambda r: r[1])
    assert got == [(good, True), (bad, False)]
    assert _stored_paths(clone) == {str(good)}
    # A later run that looks at nothing keeps what it did not look at.
    assert hash_cache.hash_many(clone, True, check, []) == []
    assert _stored_paths(clone) == {str(good)}


def test_an_entry_of_a_file_that_is_gone_drops_out(clone: Path, tmp_path: Path) -> None:
    # Entries are kept across runs that do not look at them; one whose file no longer
    # exists drops out at the next save, so the cache does not grow without end.
    kept, gone = _evidence(tmp_path), tmp_path / "gone.csv"
    gone.write_bytes(b"score\n0.5\n")

    def check(p: Path, hasher: hash_cache.Hasher) -> str:
        return hasher(p)[0]

    hash_cache.hash_many(clone, True, check, [kept, gone])
    assert _stored_paths(clone) == {str(kept), str(gone)}
    gone.unlink()
    other = tmp_path / "new.csv"
    other.write_bytes(b"score\n0.6\n")
    hash_cache.hash_many(clone, True, check, [other])
    assert _stored_paths(clone) == {str(kept), str(other)}
