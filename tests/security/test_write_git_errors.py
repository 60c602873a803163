"""git failing under a write: the user gets what failed, git's reason and where their
change is, never an "unexpected error" (CLI exit 2, the app's refusal dialog).

Each failure is provoked for real in a copy of the demo repo: an object store git cannot
write to, an index another process holds locked. git is the oracle for what moved.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.writers import git, run_wb

PERSON = ("--as", "dana.okafor", "person", "add", "foo.bar", "--name", "Foo Bar")
PERSON_ARGS = (*PERSON, "--email", "foo.bar@meridian.example", "--team", "applicant-data")


def _unwritable_object_store(repo: Path) -> None:
    """Every object packed, and each loose-object folder (00..ff) a plain file: reads work,
    writing any new object fails inside libgit2 with an error the workbench does not know
    ("failed to make directory"), as a full or broken disk would."""
    git(repo, "repack", "-adq")
    git(repo, "prune-packed")
    objects = repo / ".git" / "objects"
    for i in range(256):
        folder = objects / f"{i:02x}"
        if folder.is_dir():
            folder.rmdir()  # empty after prune-packed
        folder.touch()


def test_unknown_git_error_in_a_write_names_the_write_and_gits_reason(demo_repo: Path) -> None:
    # Failed before the fix: "workbench: git: failed to make directory ..." (no word of
    # what was being done or whether anything was written), and the app showed
    # "Unexpected error" with a traceback for the same pygit2.GitError.
    head = git(demo_repo, "rev-parse", "HEAD")
    people = (demo_repo / "keys/people.toml").read_bytes()
    _unwritable_object_store(demo_repo)
    done = run_wb(demo_repo, *PERSON_ARGS)
    assert done.code == 2, done.err
    assert "Traceback" not in done.err and "unexpected" not in done.err
    message = done.err
    assert (
        "could not commit" in message
        and "'Add foo.bar (Foo Bar) to team applicant-data'" in message
    ), message
    assert "git: failed to make directory" in message, message
    assert "nothing was written" in message, message
    assert git(demo_repo, "rev-parse", "HEAD") == head
    assert (demo_repo / "keys/people.toml").read_bytes() == people


def test_unknown_git_error_reaches_the_service_as_a_workbench_error(demo_repo: Path) -> None:
    """The app maps errors by class: a git failure under `Workbench.commit` must be a
    WorkbenchError (a dialog saying why), not a pygit2 error (a crash report)."""
    from workbench.model.errors import WorkbenchError
    from workbench.service.core import Workbench

    _unwritable_object_store(demo_repo)
    wb = Workbench(demo_repo, actor="dana.okafor")
    with pytest.raises(WorkbenchError) as caught:
        wb.commit({"contracts/notes.txt": b"hello\n"}, "Add a note\n")
    assert "could not commit 'Add a note'" in str(caught.value)
    assert caught.value.exit_code == 2


def test_index_locked_before_the_commit_is_not_reported_as_committed(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Failed before the fix: the index is staged before the branch moves, and a lock there
    # said "committed, but the index could not be updated" although no commit was made.
    from workbench.model.errors import WorkbenchError
    from workbench.repo import index_stage
    from workbench.service.core import Workbench

    monkeypatch.setattr(index_stage, "_INDEX_LOCK_WAIT", 0.2)  # git's own lock: seconds
    head = git(demo_repo, "rev-parse", "HEAD")
    (demo_repo / ".git" / "index.lock").touch()
    wb = Workbench(demo_repo, actor="dana.okafor")
    with pytest.raises(WorkbenchError) as caught:
        wb.commit({"contracts/notes.txt": b"hello\n"}, "Add a note\n")
    message = str(caught.value)
    assert "committed, but" not in message, message
    assert "could not commit 'Add a note'" in message and "index" in message, message
    assert "in the working tree, uncommitted" in message, message
    assert git(demo_repo, "rev-parse", "HEAD") == head
    # Nothing the user asked to write is lost: it is in the working tree.
    assert (demo_repo / "contracts/notes.txt").read_bytes() == b"hello\n"
