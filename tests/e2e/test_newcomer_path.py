"""The newcomer path from the README, run exactly as written in a fresh HOME.

init → people → teams → new contract → keys → registry → both leads sign → evidence →
evaluate → gate passes → bundle verified by VERIFY.sh. The commands come from README.md
(`benchmarks.newcomer_path.readme_commands`), so the README cannot drift from what works.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.newcomer_path import (
    effort,
    readme_block,
    readme_commands,
    run_path,
    typed_line,
    until_gate,
)

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen is the oracle for the keys"
)
BIN = Path(sys.executable).parent


def test_readme_block_is_the_whole_newcomer_path() -> None:
    commands = readme_commands()
    joined = "\n".join(commands)
    # Every stage of the path is in the block, in order.
    stages = [
        "workbench init ",
        "workbench person add ",
        "workbench team add ",
        "workbench contract new ",
        "workbench keygen ",
        "workbench registry add-key ",
        "workbench sign ",
        "workbench --as alan sign ",
        "workbench evidence add ",
        "workbench evaluate",
        "workbench gate --strict",
        "workbench export-bundle ",
        "sh ../VERIFY.sh ",
        "git remote add origin ",
        "workbench sync",
        "git clone ",
        "workbench gate --strict --root ",
    ]
    positions = [joined.index(stage) for stage in stages]
    assert positions == sorted(positions)
    # Only documented commands: every `workbench X` is a command of the CLI.
    from workbench.cli.main import build_parser

    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    for command in commands:
        words = command.split()
        if words[0] == "workbench":
            rest = [w for w in words[1:] if not w.startswith("-")]
            if words[1] == "--as":
                rest = rest[1:]
            assert rest[0] in choices, command


def test_newcomer_path_runs_as_written(tmp_path: Path) -> None:
    steps, output = run_path(tmp_path, BIN)
    commands = readme_commands()
    failed = [s for s in steps if s.status]
    assert not failed, f"{failed[0].command} failed:\n{output}"
    assert len(steps) == len(commands), output
    assert output.count("gate PASSED") == 2  # in the clone, then in CI's clone of the remote
    assert "RESULT: OK" in output
    assert "pushed: origin/main is now" in output
    repo = tmp_path / "acme-governance"
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    env.pop("XDG_CONFIG_HOME", None)
    # The keys init made are OpenSSH files stock ssh-keygen reads.
    keys = home / ".config" / "handshake-workbench" / "keys"
    for person in ("ada", "alan", "grace.hopper"):
        public = subprocess.run(
            ["ssh-keygen", "-y", "-f", str(keys / f"{person}_ed25519")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[:2]
        assert public == (keys / f"{person}_ed25519.pub").read_text().split()[:2]
    # Every commit is well formed, and the last is SSH-signed by a registered key.
    subprocess.run(["git", "fsck", "--strict"], cwd=repo, check=True, capture_output=True)
    verified = subprocess.run(
        ["git", "verify-commit", "HEAD"], cwd=repo, capture_output=True, text=True, env=env
    )
    assert verified.returncode == 0, verified.stderr
    # The people and team changes were made as ada (the clone acts as the first lead).
    authors = subprocess.run(
        ["git", "log", "--format=%ae %s"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert "ada@acme.example Add team product (Loan Product), led by joan.clarke" in authors
    assert "ada@acme.example Add grace.hopper (Grace Hopper) to team data" in authors
    assert "alan@acme.example Co-sign data-to-model v1" in authors
    # The bundle went beside the repo, not into it.
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert status == ""


def test_the_measure_counts_what_a_person_types() -> None:
    """The benchmark's count of a person's work: lines as printed, comments (whole-line and
    trailing) left out, `#` inside quotes kept, one Enter per line; the measure ends at the
    first gate."""
    block = (
        "# a comment nobody types\n"
        "workbench init x \\\n"
        "  --team data\n"
        "\n"
        "printf 'a # b' > f   # trailing\n"
        "workbench gate --strict\n"
        "workbench export-bundle --out ../a.tar.gz\n"
    )
    assert typed_line("printf 'a # b' > f   # trailing") == "printf 'a # b' > f"
    assert typed_line("echo a#b") == "echo a#b"
    work = effort(block)
    assert (work.commands, work.lines) == (4, 5)
    typed = ["workbench init x \\", "  --team data", "printf 'a # b' > f",
             "workbench gate --strict", "workbench export-bundle --out ../a.tar.gz"]  # fmt: skip
    assert work.keystrokes == sum(len(line) + 1 for line in typed)
    assert effort(until_gate(block)).commands == 3
    assert work.typing_seconds(200) == pytest.approx(work.keystrokes * 0.3)
    # The README's measure ends at its first gate, after both co-signatures.
    measured = until_gate(readme_block())
    assert measured.rstrip().endswith("workbench gate --strict")
    assert "workbench --as alan sign data-to-model" in measured
