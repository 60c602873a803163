"""A throw-away view of one commit, for verifying it before anything points at it.

`workbench sync` must judge the history it is about to accept exactly as `verify` judges
HEAD. Every check reads "HEAD" and walks the history behind it, so the simplest faithful
way is a scratch repository whose HEAD is that commit: a fresh git dir in a temporary
folder that borrows the clone's objects (`objects/info/alternates`, nothing is copied),
with a detached HEAD at the commit, and `workbench.toml` written beside it so the service
recognises it. The service reads it as a committed view (HEAD wherever it would read the
working tree), read-only, without the clone's cache. Deleted afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pygit2

from workbench.repo.objects import blob_bytes


def common_dir(repo: pygit2.Repository) -> Path:
    """The git dir that holds the objects (a linked worktree's points at it)."""
    gitdir = Path(repo.path)
    pointer = gitdir / "commondir"
    if pointer.is_file():
        return (gitdir / pointer.read_text(encoding="utf-8").strip()).resolve()
    return gitdir


@contextmanager
def scratch_view(repo: pygit2.Repository, commit: str, settings: str) -> Iterator[Path]:
    """A folder whose git HEAD is `commit` (detached), with the file `settings` of that
    commit written at its root; removed on exit."""
    folder = Path(tempfile.mkdtemp(prefix="workbench-verify-"))
    try:
        pygit2.init_repository(str(folder))
        info = folder / ".git" / "objects" / "info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "alternates").write_text(str(common_dir(repo) / "objects") + "\n")
        scratch = pygit2.Repository(str(folder))
        scratch.set_head(pygit2.Oid(hex=commit))
        tree = scratch[pygit2.Oid(hex=commit)].peel(pygit2.Commit).tree
        try:
            data = blob_bytes(scratch, tree[settings].id)
        except KeyError:
            data = b""
        (folder / settings).write_bytes(data)
        del scratch
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
