"""Reading the working tree: plain files only, no git needed (so the first screen of the
app does not wait for pygit2 to load)."""

from __future__ import annotations

import os
import stat
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


def read_worktree_file(root: Path, path: str) -> bytes | None:
    """The bytes of one regular file of the working tree, or None.

    `path` must stay inside the repo (`layout.checked_relative`, else UnsafePath), and as
    in `read_worktree` no symlink is followed, in any component: each folder is opened
    relative to the last with O_NOFOLLOW, so neither ``contracts/x.toml -> /etc/passwd``
    nor a symlinked ``contracts/`` folder reads outside the repository. A FIFO or device
    is not read (and cannot block the reader).
    """
    from workbench.repo.layout import checked_relative

    parts = checked_relative(path).split("/")
    if parts[0] == ".git":
        return None
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | nofollow, dir_fd=folder)
            except OSError:  # missing, not a folder, or a symlink (ELOOP)
                return None
            os.close(folder)
            folder = inner
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NONBLOCK | nofollow, dir_fd=folder)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            return handle.read()
    finally:
        os.close(folder)
