"""The README's two commands work from a fresh clone with only Python, git and make.

A CI step of its own (`ci_step`: .ci/run runs `pytest -m ci_step` after `make test`): the
clone's install is a minute of the suite's five on an idle 2-core machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.mark.ci_step
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_fresh_clone_sets_itself_up_and_builds_the_demo(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(PROJECT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    readme = (clone / "README.md").read_text()
    assert readme.index("make demo") < readme.index("make test") < readme.index("## ")

    # The setup step shared by both commands: a fresh .venv with the project installed.
    setup = subprocess.run(
        ["make", ".venv/.installed"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert (clone / ".venv/bin/workbench").is_file()

    # What `make demo` runs, minus the interactive app (the tmux test drives that).
    plan = subprocess.run(
        ["make", "-n", "demo"], cwd=clone, env=env, capture_output=True, text=True
    )
    assert ".venv/bin/workbench demo" in plan.stdout
    demo = subprocess.run(
        [str(clone / ".venv/bin/workbench"), "demo", str(tmp_path / "demo"), "--no-tui"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "credit-model-to-loan-decisioning" in demo.stdout, demo.stderr
    assert "demo governance repo built" in demo.stderr

    # What `make test` runs: the tools check and the whole suite from the clone's venv.
    plan = subprocess.run(
        ["make", "-n", "test"], cwd=clone, env=env, capture_output=True, text=True
    )
    assert "scripts/ensure-tools.sh" in plan.stdout
    assert ".venv/bin/python -m pytest" in plan.stdout
    tools = subprocess.run(
        ["bash", "scripts/ensure-tools.sh"], cwd=clone, env=env, capture_output=True, text=True
    )
    assert tools.returncode == 0, tools.stderr
