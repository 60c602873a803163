"""The clone's changed paths come from `git status` in its own process (libgit2's status
holds the interpreter lock for its whole scan and froze the app): they must be exactly the
paths libgit2's status lists (issue 18)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygit2

from workbench.repo.merge_state import changed_paths


def _libgit2(root: Path) -> set[str]:
    repo = pygit2.Repository(str(root))
    current = pygit2.enums.FileStatus.CURRENT
    return {p for p, f in repo.status(untracked_files="all").items() if f != current}


def test_changed_paths_are_libgit2s(demo_repo: Path) -> None:
    contracts = sorted((demo_repo / "contracts").glob("*.toml"))
    contracts[0].write_text(contracts[0].read_text(encoding="utf-8") + "\n# edited\n")
    contracts[1].unlink()
    (demo_repo / "notes" / "deep").mkdir(parents=True)
    (demo_repo / "notes" / "deep" / "ünïcode name.toml").write_text("x = 1\n")
    (demo_repo / ".gitignore").write_text("*.tmp\n")
    (demo_repo / "scratch.tmp").write_text("ignored\n")
    staged = contracts[2]
    staged.write_text(staged.read_text(encoding="utf-8") + "\n# staged\n")
    subprocess.run(["git", "-C", str(demo_repo), "add", str(staged)], check=True)
    found = changed_paths(pygit2.Repository(str(demo_repo)), demo_repo)
    assert found == _libgit2(demo_repo)
    assert "notes/deep/ünïcode name.toml" in found
    assert f"contracts/{contracts[1].name}" in found
    assert "scratch.tmp" not in found


def test_a_clean_clone_has_no_changed_paths(demo_repo: Path) -> None:
    assert changed_paths(pygit2.Repository(str(demo_repo)), demo_repo) == _libgit2(demo_repo)
