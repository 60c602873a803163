"""Benchmark: `workbench gate` after 1 / 30 / 60 / 365 daily `evaluate` runs (issue 18).

    python -m benchmarks.gate_history [--contracts 1000] [--commits 2000]
        [--runs 1,30,60,365] [--repeat 3] [--keep DIR]

Builds one organisation (`benchmarks.generate`: N contracts with three terms each and a
history of commits; `benchmarks.sign_org`: a signed key registry, every contract co-signed,
and a CI identity `ci.bench` whose key the registry lists and whom the signed policy names
as the evaluation runner). Then it records daily runs, one a day after the registry, through
the workbench's own writer (`RunBook.record`: findings, violation ledger, statement, the
runner's SSHSIG, one commit each) - the same files `workbench evaluate` writes, with
findings made up instead of computed (running DuckDB 365 times over 1,000 contracts' evidence
would measure evaluate, not the gate). Each run has a finding for every term and the page
test (4,000 at 1,000 contracts, ~10 MB of JSON as evaluate writes them: SQL, detail rows,
owner, paged); each day a few passing terms start failing and failing ones recover (about
3% failing at any time, episodes of ~10 days), so violations open, recover and stay open
for weeks while the state the gate judges keeps its size, as in a real organisation.

At each run count it fetches a fresh clone (`git init` + `git fetch`: one pack, no cache,
no pin - what a CI job has) and times whole `workbench --now T gate` processes (interpreter
start included; T is one hour after the last run, a what-if so the runs need not be in the
past) and their peak RSS (the children's maxrss, read by a wrapper process). The floor is
the same gate on a fresh clone of the same organisation at its first run, measured in the
same invocation, alternating with the later count (so both see the machine's load at that
moment): the figure is the ratio of the medians (and of the minima).
Target (issue 18): at most 1.1x the floor after 365 runs, RSS flat.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import workbench
from benchmarks.generate import NOW, generate
from benchmarks.sign_org import RUNNER_KEYS, sign_org
from workbench.repo.git import Author, GitRepo
from workbench.signing import sshsig

RUNNER = "ci.bench"
# Each day a passing term starts failing with FAILS, a failing one recovers with RECOVERS:
# a stationary ~3% of terms failing, an episode lasting ~10 days on average (the state the
# gate judges stays the same size; only the history grows).
FAILS = 0.003
RECOVERS = 0.1
_WRAP = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


class KeySigner:
    def __init__(self, key: Any, person: str) -> None:
        self.key = key
        self.person = person
        self.public_key = key.public_key().public_bytes_raw()

    def sign(self, message: bytes, namespace: str) -> bytes:
        return sshsig.sign(self.key, message, namespace)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("WORKBENCH_TRUST_ROOT", None)
    return env


def build(root: Path, contracts: int, commits: int, exporter: str | None = None) -> None:
    """`exporter`: also a person the signed policy lets export audit bundles (its key:
    `sign_org.EXPORTER_KEYS`)."""
    generate(root, contracts=contracts, commits=commits)
    people = (root / "keys/people.toml").read_text(encoding="utf-8")
    people += (
        f'\n[[people]]\nid = "{RUNNER}"\nname = "CI"\nemail = "{RUNNER}@bench.example"\n'
        'team = "team-000"\nrole = "CI identity: records evaluation runs"\n'
    )
    if exporter is not None:
        people += (
            f'\n[[people]]\nid = "{exporter}"\nname = "Audit"\n'
            f'email = "{exporter}@bench.example"\nteam = "team-000"\n'
            'role = "exports the audit bundles"\n'
        )
    GitRepo(root).commit_files(
        {"keys/people.toml": people.encode()},
        "Add the CI identity\n",
        Author("Bench Admin", "admin@bench.example"),
        when=NOW - timedelta(hours=1),
    )
    sign_org(root, runner=RUNNER, exporter=exporter)


def _finding(cid: str, sha: str, term: str, status: str, day: int, rng: random.Random) -> dict:
    owner = {"departed": False, "id": f"{cid}-owner", "name": f"Owner of {cid}"}
    hours = rng.randrange(1, 40)
    finding: dict[str, Any] = {
        "clock": None,
        "contract": cid,
        "contract_sha256": sha,
        "details": [
            {
                "age_s": float(hours * 3600 + s),
                "heartbeat_s": float(hours * 3600 + s),
                "lag_s": float(hours * 3000 + s),
                "max_lag_s": float(hours * 3100 + s),
                "pending": 0,
                "rows": 40 + s,
                "source": f"{cid}-source-{s}",
                "status": status,
            }
            for s in range(3)
        ],
        "kind": term if term != "page-test" else "page_test",
        "limit": "p95 lag and heartbeat per source fail > 1d, warn > 12h",
        "observed": float(hours * 3600),
        "observed_text": f"{hours}h 0m ({cid}-source-0)",
        "owner": owner,
        "reason": f"{cid}-source-0: max lag {hours}h 0m (day {day})",
        "snapshots": [],
        "sql": (
            'WITH "freshness_lags" AS (SELECT * FROM "ev_0123456789ab"),\nlags AS (\n'
            "  SELECT CAST(source AS VARCHAR) AS source,\n"
            '         epoch(coalesce(CAST("available_at" AS TIMESTAMPTZ), TIMESTAMPTZ '
            "'2026-12-03 11:25:00.000000+00')) - epoch(CAST(\"updated_at\" AS TIMESTAMPTZ)) "
            "AS lag_s,\n         available_at IS NULL AS pending,\n"
            '         epoch(CAST("updated_at" AS TIMESTAMPTZ)) AS updated_s\n'
            '  FROM freshness_lags\n  WHERE CAST("updated_at" AS TIMESTAMPTZ) <= TIMESTAMPTZ '
            "'2026-12-03 11:25:00.000000+00'\n)\nSELECT source, count(*) AS rows, count(*) "
            "FILTER (WHERE pending) AS pending,\n       max(lag_s) AS max_lag_s, "
            "quantile_cont(lag_s, 0.95) AS p_lag_s,\n       epoch(TIMESTAMPTZ "
            "'2026-12-03 11:25:00.000000+00') - max(updated_s) AS heartbeat_s\n"
            "FROM lags GROUP BY source ORDER BY source"
        ),
        "status": status,
        "term": term,
        "title": f"{term.title()} of {cid}",
    }
    if status == "fail":
        finding["paged"] = {
            "ack_sla": "PT30M",
            "backup": owner,
            "channel": f"pagerduty:{cid}",
            "primary": owner,
        }
    return finding


class Runs:
    """Daily runs with a Markov chain of statuses per term."""

    def __init__(self, root: Path, seed: int = 11) -> None:
        self.root = root
        self.rng = random.Random(seed)
        files = GitRepo(root).read_files("HEAD")
        self.contracts = {
            p[10:-5]: hashlib.sha256(d).hexdigest()
            for p, d in files.items()
            if p.startswith("contracts/") and p.endswith(".toml")
        }
        self.status = {
            (cid, term): "fail" if self.rng.random() < 0.03 else "pass"
            for cid in self.contracts
            for term in ("freshness", "page-test", "range", "threshold")
        }
        self.day = 0

    def next(self) -> None:
        from workbench.evidence.findings import FORMAT, make_run_id, render_run
        from workbench.service.core import Workbench
        from workbench.service.evidence import EvaluateResult

        when = NOW + timedelta(days=1 + self.day, hours=1)
        for key, status in self.status.items():
            if self.rng.random() < (RECOVERS if status == "fail" else FAILS):
                self.status[key] = "pass" if status == "fail" else "fail"
        findings = [
            _finding(cid, self.contracts[cid], term, self.status[(cid, term)], self.day, self.rng)
            for (cid, term) in sorted(self.status)
        ]
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        inputs = {"engine": "bench", "time": stamp, "contracts": self.contracts}
        summary: dict[str, int] = {}
        for f in findings:
            summary[f["status"]] = summary.get(f["status"], 0) + 1
        run_id = make_run_id(when, inputs)
        run = {
            "format": FORMAT,
            "run": run_id,
            "time": stamp,
            "scope": None,
            "inputs": {**inputs, "contracts": {}},
            "summary": summary,
            "findings": findings,
        }
        data = render_run(run)
        svc = Workbench(self.root, now=when, actor=RUNNER).evidence
        svc.book.record(
            EvaluateResult(run, f"findings/{run_id}.json", written=False),
            data,
            f"Evaluate: day {self.day}\n",
            KeySigner(RUNNER_KEYS[RUNNER], RUNNER),
        )
        self.day += 1
        self.last = when


def gate_once(repo: Path, at: str) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of one `workbench gate` process in `repo`."""
    cmd = [sys.executable, "-m", "workbench", "--now", at, "gate"]
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _WRAP, *cmd],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    return time.perf_counter() - t0, int(out.stdout.strip()) / 1024


def fresh_clone(src: Path, commit: str, dst: Path) -> Path:
    """What a CI job gets: a new clone of `commit` with its history, objects in one pack,
    nothing in `.git/handshake-workbench/` (no cache, no pin)."""
    shutil.rmtree(dst, ignore_errors=True)
    subprocess.run(["git", "init", "-q", str(dst)], check=True)
    subprocess.run(["git", "-C", str(dst), "fetch", "-q", str(src), commit], check=True)
    subprocess.run(["git", "-C", str(dst), "reset", "-q", "--hard", "FETCH_HEAD"], check=True)
    # Let the kernel write the checkout out first (gigabytes of findings at 365 runs), so the
    # gate is timed, not the page cache's write-back; in CI, evaluate runs in between.
    os.sync()
    return dst


def measure(
    src: Path, work: Path, points: dict[str, tuple[str, str]], repeat: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Alternate gates on fresh clones of each point (name -> (commit, --now)), so a floor
    and a later count share the machine's load: the ratio is what is reported."""
    out: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in points}
    for i in range(repeat):
        for name, (commit, at) in points.items():
            clone = fresh_clone(src, commit, work / f"clone-{name}-{i}")
            t, r = gate_once(clone, at)
            out[name][0].append(t)
            out[name][1].append(r)
            shutil.rmtree(clone, ignore_errors=True)
    return out


def again(root: Path, repeat: int) -> None:
    """The floor (the first run's commit) against HEAD, `repeat` alternating pairs."""
    git = ["git", "-C", str(root), "log", "--format=%H %s"]
    commits = subprocess.run(git, capture_output=True, text=True, check=True).stdout.splitlines()
    runs = [line.split(" ", 1)[0] for line in commits if " Evaluate: day " in f" {line}"]
    first, head = runs[-1], runs[0]
    times = sorted(p.stem for p in (root / "findings").glob("*.json"))

    def at(run: str) -> str:
        when = datetime.strptime(run[:16], "%Y%m%dT%H%M%SZ") + timedelta(hours=1)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    with tempfile.TemporaryDirectory() as tmp:
        found = measure(
            root, Path(tmp), {"floor": (first, at(times[0])), "n": (head, at(times[-1]))}, repeat
        )
    (t, r), (ft, fr) = found["n"], found["floor"]
    print(
        f"{len(times)} runs: gate median {statistics.median(t):.2f} s (min {min(t):.2f} s), "
        f"floor median {statistics.median(ft):.2f} s (min {min(ft):.2f} s); ratio "
        f"{statistics.median(t) / statistics.median(ft):.2f}x (of mins {min(t) / min(ft):.2f}x); "
        f"peak RSS {max(r):.0f} MiB (floor {max(fr):.0f} MiB); load "
        f"{os.getloadavg()[0]:.1f}; samples {[round(x, 2) for x in t]} vs "
        f"{[round(x, 2) for x in ft]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--runs", default="1,30,60,365")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    parser.add_argument(
        "--again",
        type=Path,
        metavar="DIR",
        help="only measure again a repository kept with --keep: its first run vs its last",
    )
    args = parser.parse_args()
    if args.again:
        again(args.again, args.repeat)
        return
    counts = sorted(int(n) for n in args.runs.split(","))
    compileall.compile_dir(Path(workbench.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "org"
        t0 = time.perf_counter()
        build(root, args.contracts, args.commits)
        print(f"organisation: {args.contracts} contracts, built in {time.perf_counter() - t0:.0f}s")
        runs = Runs(root)
        # Fetches pack without a delta search: a CI clone gets one pack either way, and
        # delta-compressing gigabytes of JSON would time git, not the gate.
        subprocess.run(["git", "-C", str(root), "config", "pack.window", "0"], check=True)
        rows = []
        floor_point: tuple[str, str] | None = None
        t0 = time.perf_counter()
        for n in counts:
            while runs.day < n:
                runs.next()
            at = (runs.last + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            head = GitRepo(root).head_id() or ""
            floor_point = floor_point or (head, at)
            size = sum(p.stat().st_size for p in (root / "findings").rglob("*") if p.is_file())
            found = measure(root, Path(tmp), {"floor": floor_point, "n": (head, at)}, args.repeat)
            times, rss = found["n"]
            floor_times, floor_rss = found["floor"]
            median, floor = statistics.median(times), statistics.median(floor_times)
            row = {
                "runs": n,
                "gate_median_s": round(median, 2),
                "gate_min_s": round(min(times), 2),
                "floor_median_s": round(floor, 2),
                "ratio": round(median / floor, 2),
                "ratio_of_mins": round(min(times) / min(floor_times), 2),
                "peak_rss_mib": round(max(rss)),
                "floor_rss_mib": round(max(floor_rss)),
                "findings_mib": round(size / 2**20),
                "recorded_after_s": round(time.perf_counter() - t0),
                "load": round(os.getloadavg()[0], 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
        print(
            "runs  gate median (min)   floor (1 run)  ratio (of mins)  peak RSS (floor)"
            "  findings/\n"
            + "\n".join(
                f"{r['runs']:>4}  {r['gate_median_s']:.2f} s ({r['gate_min_s']:.2f} s)"
                f"   {r['floor_median_s']:.2f} s      {r['ratio']:.2f}x ({r['ratio_of_mins']:.2f}x)"
                f"    {r['peak_rss_mib']} MiB ({r['floor_rss_mib']} MiB)  {r['findings_mib']} MiB"
                for r in rows
            )
        )


if __name__ == "__main__":
    main()
