"""Reading the working tree: plain files only, no git needed (so the first screen of the
app does not wait for pygit2 to load)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def read_worktree(root: Path, include: Callable[[str], bool]) -> dict[str, bytes]:
    """{repo-relative path: bytes} of the files `include` accepts, sorted, outside `.git`.

    Symlinks are never followed, to files or to folders: a governance repo is untrusted
    input, and a link could point anywhere on the reader's machine.
    """
    out: dict[str, bytes] = {}

    def walk(folder: str, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            path = prefix + entry.name
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name != ".git" and include(path + "/"):
                    walk(entry.path, path + "/")
            elif entry.is_file() and include(path):
                with open(entry.path, "rb") as handle:
                    out[path] = handle.read()

    walk(str(root), "")
    return out
