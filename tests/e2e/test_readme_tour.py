"""Every command of the README's CLI tour pastes and runs on the demo as written.

The demo's clone acts as Dana Okafor (git's user.email in its local config), so commands
without `--as` know who is acting; the tour's failures are the demo's deliberate ones (exit 1),
never a usage error (exit 2).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.newcomer_path import ROOT, shell_commands

BIN = Path(sys.executable).parent


def tour_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## A short tour of the CLI")
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block is not None
    return shell_commands(block.group(1))


def test_readme_tour_runs_on_the_demo(demo_repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("WORKBENCH_PERSON", None)
    ran = 0
    for command in tour_commands():
        words = command.split()
        if words[:2] == ["workbench", "demo"]:
            continue  # the fixture is that demo, built once for the whole suite
        if command.split("#")[0].strip() == "workbench":
            continue  # opens the terminal app (tests/e2e drives it in tmux)
        if words[0] == "cd":
            continue
        command = command.replace("/tmp/", f"{tmp_path}/").replace("~/", f"{home}/")
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=demo_repo,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        output = proc.stdout + proc.stderr
        assert "who is acting" not in output, command
        assert proc.returncode in (0, 1), f"{command}: exit {proc.returncode}\n{output}"
        ran += 1
    assert ran >= 15
