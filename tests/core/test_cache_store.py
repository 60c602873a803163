"""The clone's cache (checked state, history index, parsed versions) saves time and nothing else:
a warm run gives exactly what a cold one gives, a change of bytes or history is seen at
once, and a planted cache file cannot run code."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import weakref
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from workbench.repo import cache_store
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench

CONTRACT = "contracts/credit-model-to-loan-decisioning.toml"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def notices_json(wb: Workbench) -> list[dict[str, object]]:
    return [n.to_json() for n in wb.obligations.notices.statuses()]


def cold(root: Path) -> Workbench:
    """A Workbench that neither reads nor writes the clone's cache."""
    wb = Workbench(root, now=FIXED_NOW, readonly=True)
    wb.git.cache_reads = False
    return wb


def plant(path: Path, payload: object, key: object = None) -> None:
    """A cache file whose header is right, so that the payload reaches the unpickler."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"code": cache_store.code_fingerprint(), "key": key}
    path.write_bytes(pickle.dumps(header) + pickle.dumps(payload))


def stored_data(path: Path) -> object:
    import io

    stream = io.BytesIO(path.read_bytes())
    pickle.load(stream)
    return pickle.load(stream)


class _Boom:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("touch /tmp/handshake-pwned-state",))


def test_a_warm_run_loads_the_checked_state_without_checking(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Workbench(demo_repo, now=FIXED_NOW).state()
    assert cache_store.store_path(demo_repo, "state-worktree").is_file()

    import workbench.model.state as core

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the state was checked again")

    monkeypatch.setattr(core, "load_declared_state", refuse)
    again = Workbench(demo_repo, now=FIXED_NOW).state()
    assert sorted(again.contracts) == sorted(first.contracts)
    # The signed floor is applied on top of the stored state, never stored in it.
    assert again.policy.floor.source == first.policy.floor.source == "registry v1"
    assert [p.render() for p in again.problems] == [p.render() for p in first.problems]
    assert again.contracts["credit-model-to-loan-decisioning"].contract == (
        first.contracts["credit-model-to-loan-decisioning"].contract
    )


def test_a_changed_byte_or_another_day_is_checked_again(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.model.state as core

    Workbench(demo_repo, now=FIXED_NOW).state()
    checked: list[object] = []
    real = core.load_declared_state
    monkeypatch.setattr(
        core, "load_declared_state", lambda *a, **k: checked.append(a) or real(*a, **k)
    )

    path = demo_repo / CONTRACT
    path.write_text(path.read_text().replace('owner = "', 'owner = "nobody-', 1))
    state = Workbench(demo_repo, now=FIXED_NOW).state()
    assert any(p.file == CONTRACT and "nobody-" in p.message for p in state.errors)
    assert len(checked) == 1

    # The day is part of the key: someone's `left` date passes at midnight.
    from datetime import timedelta

    Workbench(demo_repo, now=FIXED_NOW + timedelta(days=1)).state()
    assert len(checked) == 2
    Workbench(demo_repo, now=FIXED_NOW + timedelta(days=1, hours=3)).state()
    assert len(checked) == 2


def test_a_planted_state_file_cannot_run_code(demo_repo: Path) -> None:
    marker = Path("/tmp/handshake-pwned-state")
    marker.unlink(missing_ok=True)
    wb = Workbench(demo_repo, now=FIXED_NOW)
    wb.state()
    key = cache_store._ModelUnpickler(
        __import__("io").BytesIO(cache_store.store_path(demo_repo, "state-worktree").read_bytes())
    ).load()["key"]
    plant(cache_store.store_path(demo_repo, "state-worktree"), _Boom(), key)
    for name in ("history", "contract-versions"):
        plant(cache_store.store_path(demo_repo, name), _Boom())
    wb = Workbench(demo_repo, now=FIXED_NOW)
    assert wb.state().contracts
    assert notices_json(wb) == notices_json(cold(demo_repo))
    assert not marker.exists()


def test_only_model_classes_are_rebuilt(demo_repo: Path) -> None:
    path = cache_store.store_path(demo_repo, "probe")
    for payload in (subprocess.Popen, pickle.Unpickler, Path("/etc/passwd")):
        plant(path, payload)
        assert cache_store.read(demo_repo, "probe") is None
    from workbench.model.contract import Seam

    seam = Seam(provider="a", consumer="b", kind="data-model")
    cache_store.write(demo_repo, "probe", {"seam": seam})
    assert cache_store.read(demo_repo, "probe") == {"seam": seam}
    assert path.stat().st_mode & 0o777 == 0o600


def test_another_version_of_the_code_ignores_the_cache(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_store.write(demo_repo, "probe", [1, 2, 3])
    assert cache_store.read(demo_repo, "probe") == [1, 2, 3]
    assert cache_store.read(demo_repo, "probe", key="another key") is None
    assert stored_data(cache_store.store_path(demo_repo, "probe")) == [1, 2, 3]
    monkeypatch.setattr(cache_store, "code_fingerprint", lambda: "another version")
    assert cache_store.read(demo_repo, "probe") is None


def test_warm_notices_and_reviews_equal_cold_ones_and_read_no_blob(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = notices_json(cold(demo_repo))
    assert expected, "the demo has change notices"
    assert notices_json(Workbench(demo_repo, now=FIXED_NOW)) == expected  # fills the cache

    from workbench.repo import git as git_mod

    def no_blob_reads(self: GitRepo, rev: str, path: str) -> bytes | None:
        if path.startswith("contracts/") and rev != "WORKTREE":
            raise AssertionError(f"read {path} at {rev}")
        return original(self, rev, path)

    original = git_mod.GitRepo.blob_at
    monkeypatch.setattr(git_mod.GitRepo, "blob_at", no_blob_reads)
    warm = Workbench(demo_repo, now=FIXED_NOW)
    assert notices_json(warm) == expected
    reviews = [r.to_json() for r in warm.obligations.reviews.statuses()]
    monkeypatch.setattr(git_mod.GitRepo, "blob_at", original)
    assert reviews == [r.to_json() for r in cold(demo_repo).obligations.reviews.statuses()]


def test_history_index_follows_new_commits_and_rewritten_history(demo_repo: Path) -> None:
    Workbench(demo_repo, now=FIXED_NOW).git.histories("contracts/")  # stored
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor")
    wb.save_contract(
        "credit-model-to-loan-decisioning",
        (demo_repo / CONTRACT).read_text() + "# reviewed wording\n",
        "Comment on the threshold",
    )

    def parity(root: Path) -> None:
        repo = GitRepo(root)
        for path in sorted((root / "contracts").glob("*.toml")):
            rel = f"contracts/{path.name}"
            ours = [c.id for c in repo.history(rel)]
            assert ours == git(root, "log", "--format=%H", "--", rel).split(), rel
            fresh = GitRepo(root)
            fresh.cache_reads = False
            assert fresh.history(rel) == repo.history(rel)

    parity(demo_repo)
    # Rewrite history: drop the last two commits and commit something else instead.
    git(demo_repo, "reset", "-q", "--hard", "HEAD~2")
    GitRepo(demo_repo).commit_files(
        {CONTRACT: (demo_repo / CONTRACT).read_bytes() + b"# another line\n"},
        "Another change",
        Author("Dana Okafor", "dana.okafor@meridian-credit.example"),
        when=FIXED_NOW,
    )
    parity(demo_repo)
    assert subprocess.run(["git", "-C", str(demo_repo), "fsck", "--strict"]).returncode == 0


def test_readonly_reads_but_never_writes_the_cache(demo_repo: Path) -> None:
    import shutil

    cache = cache_store.cache_dir(demo_repo)
    shutil.rmtree(cache, ignore_errors=True)
    wb = Workbench(demo_repo, now=FIXED_NOW, readonly=True)
    notices_json(wb)
    assert not cache.exists() or not any(cache.iterdir())


def test_workbench_no_cache_neither_reads_nor_writes(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    shutil.rmtree(cache_store.cache_dir(demo_repo), ignore_errors=True)
    monkeypatch.setenv("WORKBENCH_NO_CACHE", "1")
    wb = Workbench(demo_repo, now=FIXED_NOW)
    expected = notices_json(cold(demo_repo))
    assert notices_json(wb) == expected
    cache = cache_store.cache_dir(demo_repo)
    assert not cache.exists() or not any(cache.iterdir())
    monkeypatch.delenv("WORKBENCH_NO_CACHE")
    notices_json(Workbench(demo_repo, now=FIXED_NOW))  # fills it
    monkeypatch.setenv("WORKBENCH_NO_CACHE", "1")
    assert cache_store.read(demo_repo, "history") is None


def test_the_signed_floor_is_kept_per_commit_and_trust_root(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The floor is a pure function of the commit and the trust root: verified once, then
    read back (the registry is not walked again) until either changes."""
    first = Workbench(demo_repo, now=FIXED_NOW).policy_floor()
    assert first.source == "registry v1" and first.version == 1

    import workbench.service.signing as signing

    real = signing.signed_floor
    verified: list[str] = []

    def counting(wb: Workbench, commit: str):  # type: ignore[no-untyped-def]
        verified.append(commit)
        return real(wb, commit)

    monkeypatch.setattr(signing, "signed_floor", counting)
    assert Workbench(demo_repo, now=FIXED_NOW).policy_floor() == first
    assert verified == []
    # Another trust root is another key: verified again. v1 is not that root, so nothing
    # the registry signed counts: the built-in floor applies.
    other = Workbench(demo_repo, now=FIXED_NOW, trust_root="0" * 64).policy_floor()
    assert len(verified) == 1 and other.version is None and "built-in" in other.source
    # A commit that changes neither keys/ nor workbench.toml keeps its parent's floor...
    wb = Workbench(demo_repo, now=FIXED_NOW)
    assert wb.policy_floor() == first and len(verified) == 2  # the cache held the other root
    git_commit(demo_repo, "notes.txt", "x\n")
    assert wb.policy_floor() == first and len(verified) == 2
    # ...one that changes keys/ is verified anew (the same floor: nothing signed changed).
    git_commit(demo_repo, "keys/people.toml", (demo_repo / "keys/people.toml").read_text() + "\n")
    assert wb.policy_floor() == first and len(verified) == 3
    # Without the cache, always verified.
    monkeypatch.setenv(cache_store.DISABLE_ENV, "1")
    Workbench(demo_repo, now=FIXED_NOW).policy_floor()
    assert len(verified) == 4


def git_commit(repo: Path, path: str, text: str) -> None:
    (repo / path).write_text(text)
    git = ["git", "-C", str(repo), "-c", "user.name=x", "-c", "user.email=x@x"]
    subprocess.run([*git, "add", path], check=True)
    subprocess.run([*git, "commit", "-qm", f"change {path}"], check=True)


def _reload(root: Path) -> weakref.ref[Workbench]:
    """One reload as a long process (the app) does it: a new session reads the state and
    the history through the clone's cache, then is dropped."""
    wb = Workbench(root, now=FIXED_NOW, readonly=True)
    wb.state()
    wb.obligations.notices.statuses()
    return weakref.ref(wb)


def test_reloads_in_one_process_leave_nothing_frozen_and_free_each_dropped_session(
    demo_repo: Path,
) -> None:
    """Reading the cache froze the collector's generations (`gc.freeze`) after every read,
    so a long process (the app reloads state many times) kept each dropped session's cyclic
    garbage for good. Outside a one-shot command a read freezes nothing."""
    _reload(demo_repo)  # the cache is written
    # Whatever an earlier test in this worker froze goes back to the collector first: a
    # frozen object that reference counting frees while the reloads run lowers the count,
    # which made a comparison with the count before flaky (CI: 308467 == 308469).
    gc.unfreeze()
    gc.collect()
    assert gc.get_freeze_count() == 0
    dropped = [_reload(demo_repo) for _ in range(4)]
    gc.collect()
    assert [ref for ref in dropped if ref() is not None] == []
    assert gc.get_freeze_count() == 0


def test_a_one_shot_command_still_keeps_what_a_read_loads_out_of_collections(
    demo_repo: Path,
) -> None:
    """A one-shot command ends with its process, so freezing after a read costs nothing
    and spares its later collections a walk over the loaded state; only while it runs."""
    _reload(demo_repo)
    gc.collect()
    frozen = gc.get_freeze_count()
    try:
        with cache_store.one_shot_process():
            _reload(demo_repo)
            assert gc.get_freeze_count() > frozen
        gc.unfreeze()
        _reload(demo_repo)
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_the_cli_runs_a_command_as_a_one_shot_and_the_app_as_a_long_process(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.cli.main import main
    from workbench.tui import launch

    seen: list[bool] = []

    def app(args: object) -> int:
        seen.append(cache_store._freeze_reads)
        return 0

    monkeypatch.setattr(launch, "run", app)
    try:
        # The demo has a contract with an error on purpose: exit 1, not a usage error.
        assert main(["--repo", str(demo_repo), "validate"]) == 1  # writes the cache
        gc.unfreeze()
        assert main(["--repo", str(demo_repo), "validate"]) == 1  # reads it: frozen
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        assert main(["--repo", str(demo_repo)]) == 0  # the app
        assert seen == [False]
        assert not cache_store._freeze_reads
    finally:
        gc.unfreeze()
