"""What a write says when git (or the disk) fails under it.

libgit2 raises one error class for everything, from a locked index to a corrupt object
store. Unmapped, it reached the CLI as a bare ``git: ...`` line and the app as an
"Unexpected error" crash report, and neither said which write failed nor whether the
user's change was kept. Every commit goes through `GitRepo.commit_files`, so the mapping
lives at that one door: the write's summary, git's reason (made one visible line: a path
or a message can carry control characters) and where the change is now.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pygit2

from workbench.model.safe_text import line
from workbench.repo.errors import GitWriteFailed


@dataclass
class WriteProgress:
    """How far a write got: decides what the message says about the user's change."""

    files_written: bool = False


def reason(exc: BaseException) -> str:
    """git's (or the system's) reason, one visible line."""
    if isinstance(exc, OSError) and not isinstance(exc, pygit2.GitError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return f"git: {exc}"


@contextmanager
def git_write_errors(summary: str, progress: WriteProgress) -> Iterator[None]:
    """Turn a git or file-system failure inside a write into `GitWriteFailed`."""
    try:
        yield
    except (pygit2.GitError, OSError) as exc:
        where = (
            "your files are in the working tree, uncommitted (commit them again when git "
            "works, or `git status` shows them)"
            if progress.files_written
            else "nothing was written"
        )
        raise GitWriteFailed(
            f"could not commit '{line(summary)}': {line(reason(exc))}; {where}"
        ) from exc
