"""Benchmark: `workbench sync` between two clones of a large organisation (issue 15).

    python -m benchmarks.sync_org [--contracts 1000] [--commits 2000] [--repeat 3]

Builds the organisation (`benchmarks.generate`, then `benchmarks.sign_org`: a signed
registry and every contract co-signed), a bare origin and, per repetition, two fresh
clones. Clone A commits a change to one contract and pushes; clone B commits a change to
another and then runs `workbench sync` as a whole process (interpreter start included):
fetch, the in-memory merge, verification of the merged history in a scratch view (no
cache there: the whole verdict set, notices and violations computed cold) and of HEAD,
the merge commit, the push. Then A syncs (a fast-forward). Prints the median of each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    out = subprocess.run(
        ["git", "-C", str(cwd), "-c", "user.name=Bench", "-c", "user.email=b@bench.example", *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return out.stdout


def _edit(clone: Path, index: int, note: str) -> None:
    contract = sorted((clone / "contracts").glob("*.toml"))[index]
    contract.write_text(contract.read_text() + f"# {note}\n")
    _git(clone, "commit", "-qam", note)


def _sync(clone: Path, person: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "--repo", str(clone), "--as", person, "sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"sync failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from benchmarks.generate import generate
    from benchmarks.sign_org import sign_org

    base = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        org = base / "org"
        generate(org, contracts=args.contracts, commits=args.commits)
        sign_org(org)
        origin = base / "origin.git"
        _git(base, "clone", "-q", "--bare", str(org), str(origin))
        merges, forwards = [], []
        for n in range(args.repeat):
            a, b = base / f"a{n}", base / f"b{n}"
            _git(base, "clone", "-q", str(origin), str(a))
            _git(base, "clone", "-q", str(origin), str(b))
            _edit(a, 2 * n, f"note a{n}")
            _git(a, "push", "-q", "origin", "main")
            _edit(b, 2 * n + 1, f"note b{n}")
            merges.append(_sync(b, "p000-0"))
            forwards.append(_sync(a, "p000-0"))
        print(
            f"{args.contracts} contracts, {args.commits} commits: sync with a merge "
            f"{statistics.median(merges):.2f} s (min {min(merges):.2f}), fast-forward "
            f"{statistics.median(forwards):.2f} s (min {min(forwards):.2f})"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
