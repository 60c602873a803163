"""The newcomer path: the README's "Your own repo in ten minutes" block, run as written.

The commands are read from README.md between `<!-- newcomer:begin -->` and
`<!-- newcomer:end -->`, so the README, the test (`tests/e2e/test_newcomer_path.py`) and
this measurement are one path. Each command runs in one bash session (so `cd` and
variables carry over) in a fresh HOME with no git identity, and is timed. The starting
point is a `pip install`-ed workbench: the `workbench` command on PATH and nothing else
(no git identity, no keys, no config).

Besides the machine's seconds it counts what a person does: the commands entered (the
steps) and the keystrokes of typing them as the README shows them (each line as printed,
comments left out, one Enter per line), and from those a typing time at a stated speed.
That is a model of the person's share, not a measurement of one; the machine's share is
measured.

    python -m benchmarks.newcomer_path [--runs 3] [--keys-per-minute 200]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- newcomer:begin -->", "<!-- newcomer:end -->"


def readme_block(readme: Path = ROOT / "README.md") -> str:
    """The shell block between the newcomer markers, as printed."""
    text = readme.read_text(encoding="utf-8")
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    body = re.search(r"```sh\n(.*?)```", block, re.S)
    if body is None:
        raise ValueError("README: no ```sh block inside the newcomer markers")
    return body.group(1)


def readme_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """The block's commands: continuation lines joined, comments and blank lines dropped."""
    return shell_commands(readme_block(readme))


@dataclass
class Effort:
    """What a person does to follow the block: lines entered and keys pressed."""

    commands: int  # commands run (continuation lines joined)
    lines: int  # lines entered (a continued command is several)
    keystrokes: int  # characters typed, comments left out, plus one Enter per line

    def typing_seconds(self, keys_per_minute: float) -> float:
        return self.keystrokes / keys_per_minute * 60


def typed_line(line: str) -> str:
    """A line as a person types it: without a trailing comment (two spaces or more, then
    `#`, outside quotes) and trailing blanks."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and line[max(0, i - 2) : i] == "  ":
            return line[:i].rstrip()
    return line.rstrip()


GATE = "workbench gate --strict"  # the measure's end: a co-signed contract, a green gate


def until_gate(block: str) -> str:
    """The block up to and including the first gate: the issue's measure ends there (the
    bundle and the shared remote follow)."""
    lines = block.splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip().startswith(GATE))
    return "\n".join(lines[: end + 1]) + "\n"


def effort(block: str) -> Effort:
    lines = [
        typed_line(raw)
        for raw in block.splitlines()
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
    return Effort(
        commands=len(shell_commands(block)),
        lines=len(lines),
        keystrokes=sum(len(line) + 1 for line in lines),
    )


def shell_commands(block: str) -> list[str]:
    """Commands of a shell block: continuation lines joined, comments and blanks dropped."""
    commands: list[str] = []
    pending = ""
    for raw in block.splitlines():
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        commands.append(pending + raw)
        pending = ""
    return commands


@dataclass
class Step:
    command: str
    seconds: float
    status: int


def clean_env(home: Path, bin_dir: Path) -> dict[str, str]:
    """A newcomer's shell: their own HOME, no git identity, no workbench settings. A
    PYTHONPATH set by the caller is kept, so a checkout measures its own code rather than
    the one the environment installed."""
    env = {
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def run_path(
    workdir: Path, bin_dir: Path, commands: list[str] | None = None
) -> tuple[list[Step], str]:
    """Run every command in one bash session; stop at the first that fails."""
    commands = commands or readme_commands()
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    timings = workdir / "timings"
    lines = ["set -u -o pipefail", "exec 3>" + shlex_quote(str(timings))]
    for i, command in enumerate(commands):
        lines.append(f"__t=$EPOCHREALTIME; {command}")
        lines.append(
            f'__s=$?; echo "{i} $__t $EPOCHREALTIME $__s" >&3; [ $__s -eq 0 ] || exit $__s'
        )
    script = workdir / "newcomer.sh"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run(
        ["bash", str(script)],
        cwd=workdir,
        env=clean_env(home, bin_dir),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    steps = []
    for row in timings.read_text(encoding="utf-8").splitlines() if timings.exists() else []:
        index, start, end, status = row.split()
        steps.append(Step(commands[int(index)], float(end) - float(start), int(status)))
    return steps, proc.stdout + proc.stderr


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--keys-per-minute",
        type=float,
        default=200.0,
        help="typing speed of the person model (200: about 40 words a minute)",
    )
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    runs: list[list[Step]] = []
    for _ in range(args.runs):
        workdir = Path(tempfile.mkdtemp(prefix="newcomer-"))
        try:
            steps, output = run_path(workdir, bin_dir)
            if len(steps) != len(readme_commands()) or any(s.status for s in steps):
                print(output, file=sys.stderr)
                return 1
            runs.append(steps)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("| # | command | median s | min s |")
    print("|---:|---|---:|---:|")
    for i, step in enumerate(runs[0]):
        times = [r[i].seconds for r in runs]
        shown = step.command if len(step.command) < 90 else step.command[:87] + "…"
        shown = shown.replace("|", "\\|")
        print(f"| {i + 1} | `{shown}` | {statistics.median(times):.2f} | {min(times):.2f} |")
    totals = [sum(s.seconds for s in r) for r in runs]
    machine = statistics.median(totals)
    print(f"| | **total** | **{machine:.1f}** | {min(totals):.1f} |")
    block = readme_block()
    gate_at = len(shell_commands(until_gate(block)))
    to_gate = statistics.median(sum(s.seconds for s in r[:gate_at]) for r in runs)
    print()
    print(f"| stretch | commands | lines | keystrokes | machine s | typing min at "
          f"{args.keys_per_minute:.0f}/min | machine + typing min |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, text, seconds in (
        (f"init → `{GATE}` passes (the measure)", until_gate(block), to_gate),
        ("the whole block (bundle, VERIFY.sh, remote, CI clone)", block, machine),
    ):
        work = effort(text)
        typing = work.typing_seconds(args.keys_per_minute)
        print(
            f"| {name} | {work.commands} | {work.lines} | {work.keystrokes} | {seconds:.1f} "
            f"| {typing / 60:.1f} | {(typing + seconds) / 60:.1f} |"
        )
    print()
    print("Keystrokes: each line as printed, comments left out, one Enter per line. Reading")
    print("the README and thinking are in no column: the typing time is a model, the machine")
    print("time is measured.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
