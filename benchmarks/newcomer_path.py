"""The newcomer path: the README's "Your own repo in ten minutes" block, run as written.

The commands are read from README.md between `<!-- newcomer:begin -->` and
`<!-- newcomer:end -->`, so the README, the test (`tests/e2e/test_newcomer_path.py`) and
this measurement are one path. Each command runs in one bash session (so `cd` and
variables carry over) in a fresh HOME with no git identity, and is timed.

    python -m benchmarks.newcomer_path [--runs 3]
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


def readme_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """The block's commands: continuation lines joined, comments and blank lines dropped."""
    text = readme.read_text(encoding="utf-8")
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    body = re.search(r"```sh\n(.*?)```", block, re.S)
    if body is None:
        raise ValueError("README: no ```sh block inside the newcomer markers")
    return shell_commands(body.group(1))


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
    """A newcomer's shell: their own HOME, no git identity, no workbench settings."""
    return {
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
    }


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
    print(f"| | **total** | **{statistics.median(totals):.1f}** | {min(totals):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
