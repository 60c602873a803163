"""Fetch from and push to a clone's remote, through the `git` program.

Why `git` and not pygit2 for the network: a team's remotes are reached the way each person
set git up, and libgit2 honours little of it. It does not read `~/.ssh/config` (host
aliases, `IdentityFile`, `ProxyJump`), `known_hosts` checking needs a callback of our own,
and it has no credential helpers (the macOS keychain, libsecret, Git Credential Manager,
`gh auth`), no `insteadOf` rewriting and no `http.*` settings. Running `git fetch` and
`git push` uses exactly the transports, keys, agents, helpers and proxies the person's own
`git pull` uses. Everything else (the merge, verification, the commit) stays in-process
with pygit2, so what is accepted is decided by the workbench, never by the transport.

Rules kept here:

* only a remote configured in the clone is used (its name is checked against
  `git remote`), and every refspec is built here, so nothing typed becomes an option;
* the fetch goes into a private ref (`refs/handshake-workbench/incoming/...`), never into
  the branch or `refs/remotes/`: what came in is verified before anything points at it;
* a push is never forced: the remote takes it only as a fast-forward;
* in the app (`interactive=False`) git runs in its own session with no terminal, so a
  prompt for a password or passphrase fails at once (with git's message) instead of
  writing over the screen; use ssh-agent or a credential helper there;
* progress lines (`Receiving objects:  45% (9/20)`) are passed on; a cancel stops git (its
  whole process group) and raises `TransportCancelled`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from workbench.model.errors import WorkbenchError

Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]

INCOMING_PREFIX = "refs/handshake-workbench/incoming/"
_PROGRESS = re.compile(r"^(?:remote: )?([A-Za-z][A-Za-z ]+?):\s+(\d+)% \((\d+)/(\d+)\)")
# What git accepts as a branch name is wider, but nothing a workbench sync needs is
# outside this; anything else is refused rather than passed on to a command line.
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,200}")


class TransportError(WorkbenchError):
    """git could not fetch or push; the message carries git's own words."""


class TransportCancelled(TransportError):
    """The person stopped it."""


class PushRejected(TransportError):
    """The remote moved since the fetch: the push was not a fast-forward."""


def git_program() -> str:
    found = shutil.which("git")
    if found is None:
        raise TransportError(
            "`workbench sync` runs `git fetch` and `git push` (so that your ssh keys, agent, "
            "credential helpers and proxies apply), but no `git` program is on PATH; "
            "install git"
        )
    return found


def display_url(url: str) -> str:
    """The remote's address without any user name or password written into it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme in ("http", "https") and "@" in parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def checked_branch(name: str) -> str:
    if not _BRANCH.fullmatch(name) or ".." in name or name.endswith((".lock", "/", ".")):
        raise TransportError(f"branch name {name!r} is not one the workbench syncs")
    return name


def incoming_ref(remote: str, branch: str) -> str:
    return f"{INCOMING_PREFIX}{remote}/{checked_branch(branch)}"


@dataclass(frozen=True)
class GitRun:
    code: int
    stdout: str
    stderr: str

    def error(self) -> str:
        """git's error lines (progress lines left out)."""
        lines = [
            ln.strip()
            for ln in self.stderr.replace("\r", "\n").splitlines()
            if ln.strip() and not _PROGRESS.match(ln.strip())
        ]
        return "; ".join(lines[-6:]) or f"git exited with {self.code}"


def run_git(
    root: Path,
    args: list[str],
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    interactive: bool = True,
    stage: str = "",
) -> GitRun:
    """Run `git -C root ARGS`; stream its progress; stop it when `cancel()` says so."""
    env = dict(os.environ)
    env["LC_ALL"] = "C"  # git's messages are parsed (rejections, a missing branch)
    if not interactive:
        # git asks nothing; ssh, with no terminal in its new session, cannot ask either
        # (a GIT_SSH_COMMAND here would override the person's core.sshCommand).
        env["GIT_TERMINAL_PROMPT"] = "0"
    proc = subprocess.Popen(
        [git_program(), "-C", str(root), *args],
        stdin=None if interactive else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        # Its own process group, so a cancel stops ssh and the helpers too; without a
        # terminal when nobody can answer a prompt.
        start_new_session=not interactive,
    )
    err_chunks: list[str] = []
    out_chunks: list[bytes] = []

    def read_err() -> None:
        assert proc.stderr is not None
        pending = ""
        while chunk := proc.stderr.read1(4096):  # type: ignore[attr-defined]
            text = chunk.decode("utf-8", errors="replace")
            err_chunks.append(text)
            pending += text
            *lines, pending = re.split(r"[\r\n]", pending)
            for ln in lines:
                found = _PROGRESS.match(ln.strip())
                if found and progress is not None:
                    what = f"{stage}: {found.group(1).lower()}" if stage else found.group(1)
                    progress(what, int(found.group(3)), int(found.group(4)))

    def read_out() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(4096):  # type: ignore[attr-defined]
            out_chunks.append(chunk)

    readers = [
        threading.Thread(target=read_err, daemon=True),
        threading.Thread(target=read_out, daemon=True),
    ]
    for r in readers:
        r.start()
    while True:
        try:
            code = proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel():
                _stop(proc, own_group=not interactive)
                for r in readers:
                    r.join(timeout=2)
                raise TransportCancelled(f"cancelled: `git {args[0]}` was stopped") from None
    for r in readers:
        r.join(timeout=5)
    return GitRun(code, b"".join(out_chunks).decode("utf-8", errors="replace"), "".join(err_chunks))


def _stop(proc: subprocess.Popen[bytes], *, own_group: bool) -> None:
    try:
        if own_group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 3
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            if own_group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        proc.wait()


def fetch(
    root: Path,
    remote: str,
    branch: str,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    interactive: bool = True,
) -> str | None:
    """Fetch `remote`'s `branch` into the private incoming ref; its commit id, or None when
    the remote has no such branch (yet: the first push creates it)."""
    into = incoming_ref(remote, branch)
    run = run_git(
        root,
        [
            "fetch",
            "--no-tags",
            "--no-write-fetch-head",
            # No opportunistic update of refs/remotes/: nothing points at what came in
            # until it is verified.
            "--refmap=",
            "--progress",
            remote,
            f"+refs/heads/{checked_branch(branch)}:{into}",
        ],
        progress=progress,
        cancel=cancel,
        interactive=interactive,
        stage="fetching",
    )
    if run.code != 0:
        if "couldn't find remote ref" in run.stderr:
            return None
        raise TransportError(f"git fetch {remote} failed: {run.error()}")
    listed = run_git(root, ["rev-parse", "--verify", "--quiet", f"{into}^{{commit}}"])
    if listed.code != 0:
        raise TransportError(f"git fetch {remote}: {into} is not a commit after the fetch")
    return listed.stdout.strip()


def push(
    root: Path,
    remote: str,
    commit: str,
    branch: str,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    interactive: bool = True,
) -> None:
    """Push `commit` to `remote`'s `branch`, as a fast-forward only. PushRejected when the
    remote moved since the fetch; TransportError for anything else."""
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        raise TransportError(f"not a commit id: {commit!r}")
    run = run_git(
        root,
        [
            "push",
            "--porcelain",
            "--progress",
            remote,
            f"{commit}:refs/heads/{checked_branch(branch)}",
        ],
        progress=progress,
        cancel=cancel,
        interactive=interactive,
        stage="pushing",
    )
    if run.code == 0:
        return
    rejected = [ln for ln in run.stdout.splitlines() if ln.startswith("!")]
    if rejected and any(w in run.stdout for w in ("fetch first", "non-fast-forward", "stale info")):
        raise PushRejected(
            f"{remote}/{branch} moved while syncing (someone pushed meanwhile): "
            + "; ".join(ln.split("\t")[-1] for ln in rejected)
        )
    detail = "; ".join(ln.split("\t")[-1] for ln in rejected) or run.error()
    raise TransportError(f"git push {remote} failed: {detail}")
