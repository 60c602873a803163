"""Helpers shared by the notify and clock tests."""

from __future__ import annotations

import contextlib
import io
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import FIXED_NOW
from workbench.cli.main import main
from workbench.service.core import Workbench
from workbench.service.notify import NotifyService

# Explicit record clocks (as the demo builder and tests may give the service): after the
# demo's last commit (FIXED_NOW) and before the real clock, so that every time rule holds.
T0 = FIXED_NOW + timedelta(hours=1)
NOTIFIER = "ci.pipeline"
THRESHOLD_CONTRACT = "credit-model-to-loan-decisioning"


def cli(repo: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--repo", str(repo), *args])
    return code, out.getvalue(), err.getvalue()


def notify_at(repo: Path, at: datetime, env: dict[str, str], **kw: Any):  # type: ignore[no-untyped-def]
    """One `workbench notify` run by the notifier with an explicit record clock."""
    # As the CLI does: one read of the working tree for the run (its commits refresh it).
    wb = Workbench(repo, now=at, actor=kw.pop("actor", NOTIFIER), hold_worktree=True)
    return NotifyService(wb, env=env, config={}).run(**kw)


def service(repo: Path, at: datetime | None = None, actor: str | None = None) -> NotifyService:
    return NotifyService(Workbench(repo, now=at, actor=actor), env={}, config={})


def committed_text(repo: Path) -> str:
    """Every byte git holds for the repository (all commits, messages and files)."""
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--all", "-p", "--format=%H %an %ae%n%B"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return log


def threshold_violation(repo: Path) -> str:
    return Workbench(repo).evidence.violations.get(f"{THRESHOLD_CONTRACT}/approval-threshold").id


def git_commit(repo: Path, message: str, when: datetime, who: str = "Erin Walsh") -> None:
    """A plain `git commit -a` by a registered person at `when` (a hand edit of the repo)."""
    import os

    email = who.lower().replace(" ", ".") + "@meridian.example"
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": who,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": who,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", message], env=env, check=True)
