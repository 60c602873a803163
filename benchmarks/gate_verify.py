"""Benchmark: `gate`, `gate --format junit` and `verify` as CI runs them, each against its
floor measured in the same run (issue 18).

    python -m benchmarks.gate_verify --contracts 1000 --repeat 5 --keep DIR
    python -m benchmarks.gate_verify --again DIR --repeat 5        # re-measure a kept org
    python -m benchmarks.gate_verify --again DIR5 --only "gate junit,floor gate" --repeat 1
    python -m benchmarks.gate_verify --again DIR --code BASE   # BASE/workbench: older code

The organisation (`build`): `benchmarks.generate` (N contracts, 2,000 commits),
`gate_history.build` (a signed key registry, every contract co-signed by both leads, a CI
identity named as the evaluation runner), three signed daily findings runs
(`gate_history.Runs`: 4 findings per contract, the violation ledger), then per contract a
signed regulatory clock start and two signed delivery records (`benchmarks.org_records`):
≈ 5 signatures per contract, findings, ledger and history, what a real CI gate reads.

Each round takes a fresh clone (`git init` + `git fetch`: one pack, no cache, no pin) per
command and times whole processes, interpreter start included: `workbench --now T gate`,
the same with `--format junit`, `workbench --now T verify`, a second `gate` in the same
clone (warm: the clone's cache now filled), and the floors of `benchmarks.floor` (a fresh
process reading the same bytes from git, parsing them, and verifying every signature with a
bare Ed25519 loop). Commands alternate within a round, so each ratio compares runs made
under the same load; the figures are medians (and minima) over the rounds, the ratio is of
the medians, with the 1-minute load average. Peak RSS is the child's maxrss; CPU seconds
(user + system) are reported beside the wall time, since on a machine shared with other
jobs they move less (`cpu_ratio`).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import workbench
from benchmarks.gate_history import RUNNER, Runs, _env, fresh_clone
from benchmarks.gate_history import build as build_signed
from benchmarks.sign_org import RUNNER_KEYS
from workbench.repo.git import GitRepo

DAYS = 3


def build(root: Path, contracts: int, commits: int = 2000, exporter: str | None = None) -> str:
    """Build the organisation; returns the `--now` to judge it at. `exporter`: also a person
    the signed policy lets export audit bundles (`benchmarks.bundle_export`)."""
    from benchmarks.org_records import add_records

    build_signed(root, contracts, commits, exporter)
    runs = Runs(root)
    for _ in range(DAYS):
        runs.next()
    at = runs.last + timedelta(hours=1)
    add_records(root, at, RUNNER, RUNNER_KEYS[RUNNER])
    now = (at + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (root / ".git" / "bench-now").write_text(now)
    subprocess.run(["git", "-C", str(root), "config", "pack.window", "0"], check=True)
    return now


# Runs the command and prints the child's peak RSS (KiB) and CPU seconds (user + system):
# on a shared machine the CPU time is the steadier figure, the wall time what a user waits.
_WRAP = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(u.ru_maxrss, u.ru_utime + u.ru_stime)"
)

# Where `workbench` is imported from: this checkout, or `--code DIR` (e.g. `git archive
# BASE workbench | tar -x -C DIR`, to measure the code before a change in the same run).
CODE: list[str] = []


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall time, peak RSS (MiB) and CPU seconds of one process."""
    path = [*CODE, str(Path(__file__).resolve().parent.parent)]
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _WRAP + "\n", *cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**_env(), "PYTHONPATH": os.pathsep.join(path)},
    )
    elapsed = time.perf_counter() - t0
    rss, cpu = out.stdout.split()
    return elapsed, int(rss) / 1024, float(cpu)


# What each command runs (after `python`); `{now}` is the organisation's judging time.
COMMANDS: dict[str, list[str]] = {
    "gate": ["-m", "workbench", "--now", "{now}", "gate"],
    "gate junit": ["-m", "workbench", "--now", "{now}", "gate", "--format", "junit"],
    "verify": ["-m", "workbench", "--now", "{now}", "verify"],
    "floor gate": ["-m", "benchmarks.floor", "gate", "."],
    "floor verify": ["-m", "benchmarks.floor", "verify", "."],
}
FLOORS = {"gate": "floor gate", "gate junit": "floor gate", "verify": "floor verify"}


def measure(root: Path, repeat: int, work: Path) -> dict[str, dict[str, float]]:
    now = (root / ".git" / "bench-now").read_text().strip()
    head = GitRepo(root).head_id() or ""
    times: dict[str, list[float]] = {name: [] for name in [*COMMANDS, "gate warm"]}
    rss: dict[str, list[float]] = {name: [] for name in times}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    loads: list[float] = []

    def run(name: str, cmd: list[str], clone: Path) -> None:
        t, r, c = timed(cmd, clone)
        times[name].append(t)
        rss[name].append(r)
        cpu[name].append(c)

    for i in range(repeat):
        # One fetch per round, copied per command (a fetch costs more than the commands
        # under load). The copy's index no longer matches its files' inode and change time;
        # refreshed (untimed) so git's status is as cheap as right after a real checkout,
        # which writes the index from the files it has just written.
        master = fresh_clone(root, head, work / f"fetched-{i}")
        for name, args in COMMANDS.items():
            clone = work / f"clone-{i}"
            shutil.rmtree(clone, ignore_errors=True)
            subprocess.run(["cp", "-a", str(master), str(clone)], check=True)
            subprocess.run(["git", "-C", str(clone), "update-index", "-q", "--refresh"])
            cmd = [sys.executable, *(a.replace("{now}", now) for a in args)]
            run(name, cmd, clone)
            if name == "gate":  # the same clone again: what a developer's second run costs
                run("gate warm", cmd, clone)
            shutil.rmtree(clone, ignore_errors=True)
        shutil.rmtree(master, ignore_errors=True)
        loads.append(os.getloadavg()[0])
    out: dict[str, dict[str, float]] = {}
    for name, ts in times.items():
        if not ts:
            continue
        floor = FLOORS.get(name.removesuffix(" warm"))
        floor = floor if floor in COMMANDS else None
        row = {
            "median_s": round(statistics.median(ts), 3),
            "min_s": round(min(ts), 3),
            "cpu_median_s": round(statistics.median(cpu[name]), 3),
            "peak_rss_mib": round(max(rss[name])),
        }
        if floor:
            row["ratio"] = round(statistics.median(ts) / statistics.median(times[floor]), 2)
            row["ratio_of_mins"] = round(min(ts) / min(times[floor]), 2)
            row["cpu_ratio"] = round(
                statistics.median(cpu[name]) / statistics.median(cpu[floor]), 2
            )
        out[name] = row
    out["load"] = {"min": round(min(loads), 1), "max": round(max(loads), 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the organisation here and keep it")
    parser.add_argument("--again", type=Path, metavar="DIR", help="measure a kept organisation")
    parser.add_argument("--code", type=Path, help="import workbench from DIR/workbench")
    parser.add_argument("--only", help="comma-separated commands to time (default: all)")
    args = parser.parse_args()
    if args.code:
        CODE.append(str(args.code.resolve()))
        compileall.compile_dir(args.code / "workbench", quiet=1)
    if args.only:
        keep = set(args.only.split(","))
        for name in [n for n in COMMANDS if n not in keep]:
            del COMMANDS[name]
    compileall.compile_dir(Path(workbench.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.again or args.keep or Path(tmp) / "org"
        if not args.again:
            t0 = time.perf_counter()
            build(root, args.contracts, args.commits)
            print(
                f"built {args.contracts} contracts in {time.perf_counter() - t0:.0f} s", flush=True
            )
        print(json.dumps(measure(root, args.repeat, Path(tmp)), indent=1), flush=True)


if __name__ == "__main__":
    main()
