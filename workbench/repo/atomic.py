"""Atomic file writes: a crash mid-write never leaves a half-written contract behind."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# A temp file older than this is stale even if a process with its pid is running (pids
# are reused); a write holds its temp file for milliseconds.
STALE_AFTER_S = 3600.0


def atomic_write(
    path: Path,
    data: bytes,
    mode: int = 0o644,
    *,
    durable: bool = True,
    tmp_dir: Path | None = None,
) -> None:
    """Write to a temp file, fsync it, then rename over `path`.

    The temp file is made in `tmp_dir` when given (the clone's `.git/handshake-workbench/tmp`
    for files in the work tree, so that a writer killed mid-write leaves nothing that
    `git status` shows; `sweep_temp` removes it later), else next to `path`. Should
    `tmp_dir` be on another file system (no atomic rename there), the write falls back to
    a temp file next to `path`.

    `durable=False` skips the fsyncs, for files that may be lost but never half-read (the
    clone's cache: the rename still replaces the file whole, and a file damaged by a crash
    is dismissed when read).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The owner's pid leads the name: `sweep_temp` tells a dead writer's file by it.
        prefix, suffix = f"{os.getpid()}.", f".{path.name[:100]}.tmp"
    else:
        prefix, suffix = f".{path.name}.", ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=tmp_dir or path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if exc.errno == errno.EXDEV and tmp_dir is not None:
            atomic_write(path, data, mode, durable=durable)
            return
        raise
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if not durable:
        return
    # The rename is durable only once the directory entry is on disk.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def atomic_stream(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A file to write ``path`` through, as it is produced: a temp file beside ``path``,
    fsynced and renamed over it when the block ends, removed when the block raises. So
    ``path`` is never half-written, and an earlier file there stays whole until the new
    one is complete (an audit bundle of hundreds of megabytes, streamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # The rename is durable only once the directory entry is on disk.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def sweep_temp(folder: Path, *, stale_after: float = STALE_AFTER_S) -> list[str]:
    """Remove the temp files in `folder` whose writer is gone (its pid is not running) or
    that are older than `stale_after` seconds. Returns the names removed."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.endswith(".tmp") or not entry.is_file(follow_symlinks=False):
            continue
        owner = entry.name.partition(".")[0]
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if owner.isdigit() and _running(int(owner)) and age < stale_after:
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(entry.name)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
