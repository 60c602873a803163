"""Time `workbench validate` and `workbench status` on generated repos (issue: foundation).

    python -m benchmarks.core_validate_status [--sizes 250,500,1000] [--commits 2000] [--runs 5]

Each figure is the wall time of a fresh `workbench` process (interpreter start included):

- first run: a fresh clone, nothing in `.git/handshake-workbench/cache/` yet;
- warm: min and median of the following runs (what a lead sees day to day);
- after a commit: one run right after a new commit touching one contract (the history
  index is extended, one new version parsed).

Bytecode is compiled first and children run without PYTHONDONTWRITEBYTECODE, as an
installed package would (a machine that forbids .pyc files pays ~0.3 s more per start).
Load cost should grow linearly with the contract count.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import workbench
from benchmarks.generate import generate

CACHE = Path(".git/handshake-workbench/cache")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(repo: Path, args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=repo,
        capture_output=True,
        check=False,
        env=_env(),
    )
    return time.perf_counter() - t0


def commit_one_change(repo: Path, n: int) -> None:
    path = sorted((repo / "contracts").glob("*.toml"))[n]
    path.write_text(path.read_text() + f"# benchmark note {n}\n")
    git = ["git", "-C", str(repo), "-c", "user.name=Bench", "-c", "user.email=b@bench.example"]
    subprocess.run([*git, "commit", "-qam", f"benchmark change {n}"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="250,500,1000")
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compileall.compile_dir(Path(workbench.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            repo = generate(Path(tmp) / f"org-{size}", contracts=size, commits=args.commits)
            for n, command in enumerate((["validate"], ["status"], ["log", "seam-00001"])):
                shutil.rmtree(repo / CACHE, ignore_errors=True)
                first = run_once(repo, command)
                warm = [run_once(repo, command) for _ in range(args.runs)]
                commit_one_change(repo, n)
                after = run_once(repo, command)
                print(
                    f"{size:>5} contracts, {args.commits} commits  {' '.join(command):<16}"
                    f" first {first:.2f}s  warm min {min(warm):.2f}s"
                    f" median {statistics.median(warm):.2f}s  after a commit {after:.2f}s"
                )


if __name__ == "__main__":
    main()
