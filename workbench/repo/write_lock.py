"""The clone's write lock: one workbench write at a time per repository.

Held from reading the branch head to moving it (see `GitRepo.commit_files`). It is an
`flock` on a file under the git dir: the kernel releases it when its process ends,
however it ends, so a `kill -9` never leaves it stuck and there is no stale lock to clean.
Plain git does not know it; the compare-and-swap on the branch covers plain git.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from workbench.repo.errors import WriteRefused

LOCK_FILE = "write.lock"
TIMEOUT_ENV = "WORKBENCH_WRITE_LOCK_TIMEOUT"
# Long enough for a commit signed through an ssh-agent that asks to confirm each use.
DEFAULT_TIMEOUT = 60.0


class WriteBusy(WriteRefused):
    """Another workbench write held the lock for longer than we wait."""


def lock_timeout() -> float:
    try:
        return max(0.0, float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


@contextmanager
def write_lock(folder: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the write lock in `folder` (created if needed), waiting up to `timeout` s."""
    timeout = lock_timeout() if timeout is None else timeout
    folder.mkdir(parents=True, exist_ok=True)
    # O_NOFOLLOW: a link planted in the git dir must not make us create files elsewhere.
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        _acquire(fd, timeout)
        # Who holds it, for the message of a writer that gives up waiting.
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {stamp}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise WriteBusy(_busy_message(fd, timeout)) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


def _busy_message(fd: int, timeout: float) -> str:
    try:
        pid, _, since = os.pread(fd, 200, 0).decode("ascii").strip().partition(" ")
    except (OSError, UnicodeDecodeError):
        pid, since = "", ""
    holder = f" (pid {pid}, since {since})" if pid.isdigit() else ""
    return (
        f"another workbench write is in progress in this repository{holder}; waited "
        f"{timeout:g} s. Try again when it is done. Nothing can stay stuck: the lock ends "
        f"with its process (wait longer with {TIMEOUT_ENV}=SECONDS)"
    )
