"""Real writers for the write-safety suite: `workbench` processes run in parallel, killed
with SIGKILL at an exact moment, or held mid-write; plain git to set up odd repo states."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import FIXED_NOW

WORKBENCH = Path(sys.executable).with_name("workbench")
NOW = FIXED_NOW.isoformat().replace("+00:00", "Z")

# Runs the real CLI with `os.fsync` wrapped: at the N-th fsync of a file whose path matches
# a pattern (by default a temp file `*.tmp`, i.e. inside an atomic write, after the bytes
# are on disk and before the rename; a folder's path: just after a rename into it) the
# process either SIGKILLs itself ("kill"), says "holding" and sleeps until it is killed
# ("hold"), or waits at a barrier until every racer got there, at most a few seconds
# ("barrier"): a kill -9, a stalled writer, or writers that reach the same instant of
# their commit together, at a chosen moment, with no hook in the product.
_FSYNC_TRAP = r"""
import os, re, signal, sys, time
from workbench.cli.main import main

action, at = os.environ["WB_TRAP_ACTION"], int(os.environ["WB_TRAP_AT"])
match = re.compile(os.environ["WB_TRAP_MATCH"])
seen = 0
real = os.fsync

def fsync(fd):
    global seen
    real(fd)
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return
    if not match.search(target):
        return
    seen += 1
    if seen < at:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "barrier":
        folder = os.environ["WB_TRAP_BARRIER"]
        open(os.path.join(folder, str(os.getpid())), "w").close()
        deadline = time.monotonic() + float(os.environ["WB_TRAP_WAIT"])
        while len(os.listdir(folder)) < int(os.environ["WB_TRAP_PARTIES"]):
            if time.monotonic() > deadline:
                break  # the others cannot get here now (e.g. they wait for our lock)
            time.sleep(0.0005)
        return
    print(f"holding {target}", flush=True)
    while True:
        time.sleep(60)

os.fsync = fsync
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\nstdout: {self.out}\nstderr: {self.err}"


def wb_args(repo: Path, *args: str, now: str | None = None) -> list[str]:
    """Commands that record run at the real clock (`--now` is a read-only what-if)."""
    at = ["--now", now] if now else []
    return [str(WORKBENCH), "--repo", str(repo), *at, *args]


def run_wb(
    repo: Path, *args: str, env: dict[str, str] | None = None, now: str | None = None
) -> Result:
    done = subprocess.run(
        wb_args(repo, *args, now=now), capture_output=True, text=True, env=env, check=False
    )
    return Result(done.returncode, done.stdout, done.stderr)


def trapped(
    repo: Path | None,
    args: Sequence[str],
    *,
    action: str,
    at: int = 1,
    match: str = r"\.tmp$",
    now: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """The real CLI, killed (or held) at the `at`-th fsync of a path matching `match`
    (see _FSYNC_TRAP)."""
    if not Path("/proc/self/fd").is_dir():  # pragma: no cover - Linux only
        import pytest

        pytest.skip("needs /proc/self/fd to see which file is fsynced")
    env = dict(env or os.environ, WB_TRAP_ACTION=action, WB_TRAP_AT=str(at), WB_TRAP_MATCH=match)
    where = ["--repo", str(repo)] if repo is not None else []
    at = ["--now", now] if now else []
    return subprocess.Popen(
        [sys.executable, "-c", _FSYNC_TRAP, *where, *at, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def barrier_race(
    repo: Path,
    racers: Sequence[tuple[Sequence[str], str, int]],
    *,
    env: dict[str, str] | None = None,
    wait: float = 0.6,
) -> list[Result]:
    """Run each `(args, match, at)` as its own process, all meeting at a barrier at the
    `at`-th fsync of a path matching `match` (their last write before committing) and
    released together: the most dangerous instant of a race, every round."""
    barrier = Path(tempfile.mkdtemp(prefix="wb-barrier-"))
    extra = dict(
        env or os.environ,
        WB_TRAP_BARRIER=str(barrier),
        WB_TRAP_PARTIES=str(len(racers)),
        WB_TRAP_WAIT=str(wait),
    )
    try:
        procs = [
            trapped(repo, args, action="barrier", match=match, at=at, env=extra)
            for args, match, at in racers
        ]
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            results.append(Result(p.returncode, out, err))
        return results
    finally:
        shutil.rmtree(barrier, ignore_errors=True)


def wait_holding(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    """Block until a held writer says where it stopped."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("holding "):
            return line.removeprefix("holding ").strip()
        if not line and proc.poll() is not None:
            raise AssertionError(f"writer exited {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]
    raise AssertionError("writer never reached the trap")


def kill9(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def git(repo: Path, *args: str, check: bool = True) -> str:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="Plain Git",
        GIT_AUTHOR_EMAIL="plain@example.org",
        GIT_COMMITTER_NAME="Plain Git",
        GIT_COMMITTER_EMAIL="plain@example.org",
        GIT_EDITOR="true",
    )
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout.strip()


def head_files(repo: Path, folder: str) -> set[str]:
    out = git(repo, "ls-tree", "-r", "--name-only", "HEAD", "--", folder)
    return set(out.splitlines())


def assert_fsck_clean(repo: Path) -> None:
    done = subprocess.run(
        ["git", "-C", str(repo), "fsck", "--full", "--no-dangling"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stderr.lower() and "missing" not in done.stdout.lower()


def status_paths(repo: Path) -> list[str]:
    """Everything `git status` reports, untracked and ignored files included."""
    out = git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all")
    return [line[3:] for line in out.splitlines()]


@contextmanager
def ssh_agent() -> Iterator[dict[str, str]]:
    """A private ssh-agent (foreground, `-D`), stopped by its pid afterwards."""
    # Unix socket paths are limited to ~108 bytes; pytest's tmp paths can exceed that.
    folder = tempfile.mkdtemp(prefix="wb-agent-", dir="/tmp")
    sock = os.path.join(folder, "agent.sock")
    proc = subprocess.Popen(
        ["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"ssh-agent did not start: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.02)
        yield dict(os.environ, SSH_AUTH_SOCK=sock)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        Path(sock).unlink(missing_ok=True)
        os.rmdir(folder)
