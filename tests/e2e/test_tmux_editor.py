"""End to end in a real terminal (tmux): open a contract, break it, fix it, commit it, quit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
WORKBENCH = Path(sys.executable).with_name("workbench")


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), *args], capture_output=True, text=True, check=check
        )

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "wb").stdout

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {text!r}; screen:\n{screen}")
            time.sleep(0.05)

    def key_and_wait(self, key: str, timeout: float = 10.0) -> None:
        """Send one key and wait until the screen changes (assert-and-wait, one key at a time)."""
        before = self.screen()
        self.keys(key)
        deadline = time.monotonic() + timeout
        while self.screen() == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"{key} changed nothing on screen:\n{before}")
            time.sleep(0.05)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "wb", *keys)

    def type(self, text: str) -> None:
        self("send-keys", "-t", "wb", "-l", text)


def test_edit_break_fix_commit_quit(demo_repo: Path, tmp_path: Path) -> None:
    tmux = Tmux(tmp_path / "tmux.sock")
    env = {
        "HOME": os.environ["HOME"],
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "TEXTUAL_ANIMATIONS": "none",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "PATH": os.environ.get("PATH", ""),
    }
    command = (
        f"{WORKBENCH} --repo {demo_repo} --as dana.okafor; echo EXITED $? > {tmp_path / 'exit'}"
    )
    args = ["new-session", "-d", "-s", "wb", "-x", "120", "-y", "36"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    tmux(*args, command)
    try:
        tmux.wait_for("Meridian Financial Group")
        tmux.keys("2")
        tmux.wait_for("5 of 5 contracts")
        tmux.keys("e")  # the first contract: applicant data → credit-risk model
        tmux.wait_for('id = "applicant-data-to-credit-model"')
        tmux.wait_for("✓ valid")
        # Break line 1 (the cursor starts there) and see the error reported with its line.
        tmux.type("xx")
        tmux.wait_for("line 1:3")
        tmux.wait_for("1 error")
        # Fix it (one key at a time, waiting for each), then make a real, valid change.
        tmux.key_and_wait("BSpace")
        tmux.key_and_wait("BSpace")
        tmux.wait_for("✓ valid")
        tmux.type("# confirmed at the quarterly review")
        tmux.keys("Enter")
        tmux.wait_for("✓ valid  · unsaved")
        tmux.keys("C-s")
        tmux.wait_for("Commit applicant-data-to-credit-model")
        tmux.type("Confirm the owner at the quarterly review")
        tmux.keys("Enter")
        tmux.wait_for("Committed")
        tmux.keys("Escape")
        tmux.wait_for("5 of 5 contracts")
        # Arrow keys arrive as escape sequences: right after a lone Escape (recognised
        # sooner than Textual's own driver does) they must still be arrows.
        tmux.keys("Down")
        tmux.keys("Enter")
        tmux.wait_for("[claims-agent-to-claims-product]")
        tmux.keys("Escape")
        tmux.wait_for("5 of 5 contracts")
        tmux.keys("q")
        deadline = time.monotonic() + 10
        while not (tmp_path / "exit").exists():
            assert time.monotonic() < deadline, tmux.screen()
            time.sleep(0.05)
        assert (tmp_path / "exit").read_text().strip() == "EXITED 0"
    finally:
        tmux("kill-server", check=False)

    log = subprocess.run(
        [
            "git",
            "log",
            "-1",
            "--format=%an <%ae>|%s",
            "--",
            "contracts/applicant-data-to-credit-model.toml",
        ],
        cwd=demo_repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert (
        log
        == "Dana Okafor <dana.okafor@meridian.example>|Confirm the owner at the quarterly review"
    )
    text = (demo_repo / "contracts" / "applicant-data-to-credit-model.toml").read_text()
    assert text.startswith("# confirmed at the quarterly review\n#:schema")
