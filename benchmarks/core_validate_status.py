"""Time `workbench validate` and `workbench status` on generated repos (issue: foundation).

    python -m benchmarks.core_validate_status [--sizes 250,500,1000] [--commits 2000] [--runs 5]

Each figure is the wall time of a fresh `workbench` process (interpreter start included),
min and median over the runs. Load cost should grow linearly with the contract count.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.generate import generate


def time_command(repo: Path, args: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "workbench", *args], cwd=repo, capture_output=True, check=False
        )
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="250,500,1000")
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            repo = generate(Path(tmp) / f"org-{size}", contracts=size, commits=args.commits)
            for command in (["validate"], ["status"], ["log", "seam-00001"]):
                times = time_command(repo, command, args.runs)
                print(
                    f"{size:>5} contracts, {args.commits} commits  {' '.join(command):<16}"
                    f" min {min(times):.2f}s  median {statistics.median(times):.2f}s"
                )


if __name__ == "__main__":
    main()
