"""Record a write's files in git's index, so `git status` shows them as committed."""

from __future__ import annotations

import time

import pygit2

from workbench.repo.errors import WriteRefused

# git holds the index lock a moment while it works; a write waits this long for it.
_INDEX_LOCK_WAIT = 5.0


def stage_files(
    repo: pygit2.Repository, blobs: dict[str, pygit2.Oid | None], *, committed: bool
) -> None:
    """Put `blobs` (None: removed) in the index. A write stages before it moves the branch
    (`committed` False: git's error goes on to the write's own message, which says the
    files are in the working tree, uncommitted) and again after (`committed` True: the
    commit is made, so the message says how to fix the index by hand)."""
    index = repo.index
    deadline = time.monotonic() + _INDEX_LOCK_WAIT
    while True:
        try:
            index.read()
            for path, blob in blobs.items():
                if blob is None:
                    if path in index:
                        index.remove(path)
                else:
                    index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
            index.write()
            return
        except pygit2.GitError as exc:
            if time.monotonic() <= deadline:
                time.sleep(0.05)
                continue
            if not committed:
                raise
            paths = " ".join(sorted(blobs))
            raise WriteRefused(
                f"committed, but the index could not be updated ({exc}); "
                f"run `git reset -q -- {paths}` so that `git status` agrees"
            ) from exc
