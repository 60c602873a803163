"""A one-shot command (the CLI's Workbench) judges at one moment and does shared work once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from workbench.repo import atomic
from workbench.repo.git import GitRepo
from workbench.service.core import Workbench
from workbench.service.signing import SigningService

CONTRACT = "contracts/credit-model-to-loan-decisioning.toml"


def test_a_command_reads_the_clock_once(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, hold_worktree=True)
    first = wb.now
    time.sleep(0.01)
    assert wb.now == first
    # A long-lived app reads it on every call.
    app = Workbench(demo_repo)
    before = app.now
    time.sleep(0.01)
    assert app.now > before


def test_verdicts_at_head_are_computed_once_per_command_and_again_after_a_commit(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = SigningService._verdict_set

    def counting(self, rev, contract_id):  # type: ignore[no-untyped-def]
        calls.append(rev)
        return real(self, rev, contract_id)

    monkeypatch.setattr(SigningService, "_verdict_set", counting)
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor", hold_worktree=True)
    first = [v.state for v in wb.signing.verdicts("HEAD")]
    again = [v.state for v in wb.signing.verdicts("HEAD")]
    assert first == again and len(calls) == 1
    wb.save_contract(
        "credit-model-to-loan-decisioning",
        (demo_repo / CONTRACT).read_text() + "# a later note\n",
        "Note on the threshold",
    )
    wb.signing.verdicts("HEAD")
    assert len(calls) == 2  # a new HEAD is a new key
    # The app (not one-shot) never reuses a verdict: its clock moves.
    app = Workbench(demo_repo, now=FIXED_NOW)
    app.signing.verdicts("HEAD")
    app.signing.verdicts("HEAD")
    assert len(calls) == 4


def test_a_commits_files_are_read_once(demo_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[str] = []
    real = GitRepo._walk_tree

    def counting(self, tree, prefix, include, out):  # type: ignore[no-untyped-def]
        if not prefix:
            walks.append(str(tree.id))
        return real(self, tree, prefix, include, out)

    monkeypatch.setattr(GitRepo, "_walk_tree", counting)
    repo = GitRepo(demo_repo)
    first = repo.read_files("HEAD")
    first["workbench.toml"] = b"changed by a caller"
    second = repo.read_files("HEAD")
    assert len(walks) == 1
    assert second["workbench.toml"] != b"changed by a caller"  # callers get their own dict
    assert second == GitRepo(demo_repo).read_files("HEAD")


def test_the_acting_person_named_by_as_needs_no_git(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor")
    state = wb.state()
    monkeypatch.setattr(Workbench, "git", property(lambda self: pytest.fail("git was opened")))
    assert wb.actor(state).id == "dana.okafor"


def test_cache_writes_skip_fsync_and_contract_writes_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = atomic.os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: synced.append(fd) or real(fd))
    atomic.atomic_write(tmp_path / "cache.bin", b"x", durable=False)
    assert synced == [] and (tmp_path / "cache.bin").read_bytes() == b"x"
    atomic.atomic_write(tmp_path / "contract.toml", b"y")
    assert len(synced) == 2  # the file, then its directory


def test_an_action_of_the_app_verifies_the_registry_once_for_clocks_and_notify(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app makes its capabilities fresh at each use (its files and clock move), but one
    action holds them: the Due list's clocks and pages are signed under the registry its
    obligations verified, not verified again by each; the next action verifies afresh."""
    from workbench.service.obligations.records import SignedRecords

    made: list[int] = []
    real = SignedRecords.registry

    def counting(self: SignedRecords):  # type: ignore[no-untyped-def]
        if self._head is None:
            made.append(id(self))
        return real(self)

    monkeypatch.setattr(SignedRecords, "registry", counting)
    app = Workbench(demo_repo, now=FIXED_NOW)
    obl = app.obligations
    first = obl.due()
    assert len(made) == 1  # obligations, clocks and notify: one verified registry
    assert [(d.kind, d.contract) for d in obl.due()] == [(d.kind, d.contract) for d in first]
    assert len(made) == 1  # the same obligations keeps what it verified
    app.obligations.due()
    assert len(made) == 2  # a new action, a new capability: verified again
    # Outside an action each use is fresh, as before.
    assert app.clocks is not app.clocks
    with app.action():
        assert app.clocks is app.clocks and app.notify.records.obligations is app.obligations
    assert app.clocks is not app.clocks
