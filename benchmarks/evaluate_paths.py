"""Benchmark: the `evaluate` paths of issue 18, each against its floor in the same run.

    python -m benchmarks.evaluate_paths org  [--rows 20000000 60000000] [--spread 60]
    python -m benchmarks.evaluate_paths one  [--rows 20000000]
    python -m benchmarks.evaluate_paths rss  [--contracts 5000] [--rows 5000000]
        [--rounds 3] [--keep DIR]

Every figure is a whole process from a fresh start, as a user runs it: `python -m workbench
--now T evaluate` in the governance repo (interpreter start, reading git and the manifest,
sha256 of every snapshot, the checks in the evaluation worker, the findings file, the
violation ledger and the commit; each round is a new run at a new `--now`, so it writes and
commits, on a repo that already holds the earlier runs). Its floor is a fresh Python
process that imports DuckDB and runs hand-written queries computing the same aggregates:

* `org`: 1,000 contracts (`benchmarks.evidence_evaluate.build`: freshness p95 per source,
  operating range, PSI shift; 3,000 Parquet files). Floor: one query per check kind over
  all its files (p95 lag per file and source; count outside the range per file; reference
  deciles per file and both histograms per pair) - "a few hand-written DuckDB queries".
  `--spread S` captures contract i's evidence i*S seconds earlier (evidence uploaded at
  different times, which used to split the freshness batch into one query per contract).
  Two sizes show growth: cost per million rows, and the ratio at each size.
* `one`: one contract, a freshness term and a range (`bounds`) term over one Parquet file
  of N rows. Floor: one bare DuckDB query computing both aggregates.
* `rss`: the peak resident set of a new evaluate run (the larger of the command and its
  evaluation worker) at 5,000 contracts; target at most 1 GiB.

The stderr of every evaluate is scanned for batch fallback notices (`evaluate: batch ...`)
and they are printed with the figures: a fallback is never silent. Phases alternate within
a round (floor, evaluate) so a change in the machine's load hits both; the ratio reported is
the median of the same-round ratios, with the minima beside it, and the ratio of CPU time
(user + sys of the process and all it waited for: the worker), which a busy machine
inflates far less than wall time. The load average is printed.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The workbench code under test (`--src DIR`: another checkout, e.g. `git archive` of main).
SRC = ROOT

from benchmarks.evidence_evaluate import build  # noqa: E402

# `evaluate` runs at the real time (it records): evidence is captured an hour before the
# build, and a build older than a day is made again (evidence_max_age is 2 days).
FRESH = timedelta(days=1)

# Runs a command, prints its wall time and the peak RSS of its largest descendant (the
# evaluation worker is reaped by the command, so RUSAGE_CHILDREN covers it too).
_WRAP = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "e = time.perf_counter() - t; "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(repr((e, u.ru_maxrss, p.returncode, p.stderr[-4000:], u.ru_utime + u.ru_stime)))"
)

FLOOR_ORG = r"""
import json, sys, duckdb
spec = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET threads=2")
lags, lives, refs, pairs = spec["lags"], spec["lives"], spec["refs"], spec["pairs"]
con.execute(
    "SELECT filename, source, count(*), max(lag), quantile_cont(lag, 0.95), "
    "max(epoch(updated_at)) FROM (SELECT filename, source, updated_at, "
    "epoch(available_at) - epoch(updated_at) AS lag FROM read_parquet(?, filename=true)) "
    "GROUP BY ALL", [lags]).fetchall()
con.execute(
    "SELECT filename, count(*), count(*) FILTER (WHERE score < 0.01 OR score > 0.6), "
    "min(score), max(score) FROM read_parquet(?, filename=true) GROUP BY ALL", [lives]).fetchall()
probs = [i / 10 for i in range(1, 10)]
con.execute(
    "CREATE TEMP TABLE edges AS SELECT filename AS f, "
    f"list_sort(list_distinct(quantile_cont(score, {probs}))) AS e "
    "FROM read_parquet(?, filename=true) GROUP BY ALL", [refs])
con.execute("CREATE TEMP TABLE pairs AS SELECT unnest(?) AS rf, unnest(?) AS lf",
            [[p[0] for p in pairs], [p[1] for p in pairs]])
con.execute(
    "SELECT f, histogram(score, e) FROM read_parquet(?, filename=true) r "
    "JOIN edges ON r.filename = edges.f GROUP BY ALL", [refs]).fetchall()
con.execute(
    "SELECT lf, histogram(score, e) FROM read_parquet(?, filename=true) l "
    "JOIN pairs ON l.filename = pairs.lf JOIN edges ON edges.f = pairs.rf GROUP BY ALL",
    [lives]).fetchall()
"""

FLOOR_ONE = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads=2")
con.execute(
    "SELECT source, count(*), max(lag), quantile_cont(lag, 0.95), max(epoch(updated_at)), "
    "sum(n_out), sum(n), min(score), max(score) FROM ("
    "  SELECT source, updated_at, epoch(available_at) - epoch(updated_at) AS lag, score, 1 AS n,"
    "  (score IS NULL OR score < 0.01 OR score > 0.6)::INT AS n_out FROM read_parquet(?)"
    ") GROUP BY ALL", [sys.argv[1]]).fetchall()
"""

ONE_CONTRACT = """\
id = "one"
title = "One seam"
status = "active"
owner = "data.lead"

[seam]
provider = "data"
consumer = "model"
kind = "data-model"

[parties]
provider_lead = "data.lead"
consumer_lead = "model.lead"

[escalation]
primary = "data.lead"
backup = "model.lead"
channel = "pagerduty:data"
ack_sla = "PT30M"

[[terms]]
id = "fresh"
title = "Source data is fresh"
kind = "freshness"
owner = "data.lead"
fail_after = "PT24H"
warn_after = "PT12H"
percentile = 95

[[terms]]
id = "range"
title = "Scores stay in the operating range"
kind = "bounds"
owner = "model.lead"
view = "freshness_lags"
column = "score"
min = 0.01
max = 0.6
fail_share_outside = 0.03
"""


def _stale(target: Path) -> bool:
    """True (and `target` emptied) when it must be built: missing, or its evidence too old
    for evaluate at the real time."""
    import shutil

    stamp = target / "built"
    if stamp.exists():
        built = datetime.fromtimestamp(stamp.stat().st_mtime, UTC)
        if datetime.now(UTC) - built < FRESH:
            return False
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    return True


def _env(data: Path) -> dict[str, str]:
    env = dict(os.environ)
    # As an installed package runs (wheels ship bytecode): see docs/performance.md.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["WORKBENCH_EVIDENCE_ROOTS"] = str(data)
    env["PYTHONPATH"] = str(SRC)
    return env


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, str, float]:
    """(seconds, peak RSS MiB of the largest descendant, exit code, stderr tail, CPU
    seconds of the command and everything it waited for)."""
    # In the checkout under test: `python -m workbench` puts the working directory first on
    # sys.path, so run from this checkout it would time this code whatever `--src` says.
    out = subprocess.run(
        [sys.executable, "-c", _WRAP, *cmd],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=SRC,
    )
    seconds, rss_kib, code, err, cpu = eval(out.stdout.strip().splitlines()[-1])  # our repr
    return seconds, rss_kib / 1024, code, err, cpu


def evaluate_cmd(repo: Path, contract: str | None = None) -> list[str]:
    # At the real time (`evaluate` records, so it refuses --now): each round is a new run.
    cmd = [sys.executable, "-m", "workbench", "--repo", str(repo), "--as", "data.lead"]
    return [*cmd, "evaluate"] + (["--contract", contract] if contract else [])


def fallbacks(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("evaluate: batch")]


def load() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def _rounds(
    label: str,
    rounds: int,
    floor: list[str],
    repo: Path,
    env: dict[str, str],
    contract: str | None = None,
) -> dict[str, object]:
    evs, fls, rss, notes, loads = [], [], 0.0, set(), []
    ecpu, fcpu = [], []
    # One untimed run first: it warms the page cache and leaves a run in the
    # history (the timed runs then find a ledger to extend, as every later day does).
    first = timed(evaluate_cmd(repo, contract), env)
    if first[2] not in (0, 1):
        raise SystemExit(f"evaluate failed ({first[2]}): {first[3]}")
    for _ in range(rounds):
        loads.append(load())
        f = timed(floor, env)
        e = timed(evaluate_cmd(repo, contract), env)
        if e[2] not in (0, 1):
            raise SystemExit(f"evaluate failed ({e[2]}): {e[3]}")
        fls.append(f[0])
        evs.append(e[0])
        fcpu.append(f[4])
        ecpu.append(e[4])
        rss = max(rss, e[1])
        notes.update(fallbacks(e[3]))
    print(f"  first (untimed) run: {first[0]:.2f} s, {first[4]:.2f} s CPU, {first[1]:.0f} MiB peak")
    ratio = statistics.median(e / f for e, f in zip(evs, fls, strict=True))
    row = {
        "case": label,
        "evaluate_min": min(evs),
        "evaluate_median": statistics.median(evs),
        "floor_min": min(fls),
        "floor_median": statistics.median(fls),
        "ratio_median_same_round": ratio,
        "ratio_of_mins": min(evs) / min(fls),
        "evaluate_cpu_median": statistics.median(ecpu),
        "floor_cpu_median": statistics.median(fcpu),
        "cpu_ratio": statistics.median(ecpu) / statistics.median(fcpu),
        "evaluate_peak_rss_mib": rss,
        "load": loads,
        "first_run": {"seconds": first[0], "cpu": first[4], "peak_rss_mib": first[1]},
        "fallbacks": sorted(notes),
    }
    print(
        f"| {label} | {min(evs):.2f} / {statistics.median(evs):.2f} | "
        f"{min(fls):.2f} / {statistics.median(fls):.2f} | {ratio:.2f}× | "
        f"{min(evs) / min(fls):.2f}× | {statistics.median(ecpu):.2f} / "
        f"{statistics.median(fcpu):.2f} = {statistics.median(ecpu) / statistics.median(fcpu):.2f}×"
        f" | {rss:.0f} | {loads[0]} |",
        flush=True,
    )
    for note in sorted(notes):
        print(f"  fallback: {note}")
    return row


def _org_spec(repo: Path, out: Path) -> None:
    from workbench.evidence.manifest import parse_manifest

    manifest = parse_manifest((repo / "evidence/manifest.toml").read_text())
    by = {(s.contract, "ref" if s.name else s.kind): s.path for s in manifest.snapshots}
    contracts = sorted({s.contract for s in manifest.snapshots})
    spec = {
        "lags": [by[(c, "freshness_lags")] for c in contracts],
        "lives": [by[(c, "score_samples")] for c in contracts],
        "refs": [by[(c, "ref")] for c in contracts],
        "pairs": [[by[(c, "ref")], by[(c, "score_samples")]] for c in contracts],
    }
    out.write_text(json.dumps(spec))


def case_org(base: Path, args: argparse.Namespace) -> list[dict[str, object]]:
    rows = []
    for n_rows in args.rows:
        target = base / f"org-{args.contracts}-{n_rows}-s{args.spread}"
        if _stale(target):
            build(target, args.contracts, n_rows, spread_s=args.spread, now=datetime.now(UTC))
            (target / "built").touch()
        spec = target / "floor.json"
        _org_spec(target / "repo", spec)
        script = target / "floor.py"
        script.write_text(FLOOR_ORG)
        env = _env(target / "data")
        label = f"org {args.contracts:,} contracts, {n_rows / 1e6:g}M rows" + (
            f", captured {args.spread} s apart" if args.spread else ""
        )
        row = _rounds(
            label, args.rounds, [sys.executable, str(script), str(spec)], target / "repo", env
        )
        row["rows"] = n_rows
        rows.append(row)
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        per_a = float(a["evaluate_min"]) / (int(a["rows"]) / 1e6)  # type: ignore[call-overload]
        per_b = float(b["evaluate_min"]) / (int(b["rows"]) / 1e6)  # type: ignore[call-overload]
        slope = (float(b["evaluate_min"]) - float(a["evaluate_min"])) / (  # type: ignore[arg-type]
            (int(b["rows"]) - int(a["rows"])) / 1e6  # type: ignore[call-overload]
        )
        print(
            f"  growth: {per_a:.3f} → {per_b:.3f} s per million rows (whole run); "
            f"marginal {slope:.3f} s per million rows between the sizes"
        )
    return rows


def build_one(target: Path, n_rows: int) -> None:
    import duckdb

    from workbench.evidence.manifest import (
        MANIFEST_PATH,
        Manifest,
        Snapshot,
        render_manifest,
        sha256_file,
        snapshot_id,
    )
    from workbench.repo.git import Author, GitRepo
    from workbench.service.init import init_repo

    now = datetime.now(UTC)
    root = init_repo(target / "repo", now=now - timedelta(days=3))
    data = target / "data"
    data.mkdir()
    path = data / "lags.parquet"
    clock = now - timedelta(hours=1)
    epoch = int(clock.timestamp())
    con = duckdb.connect()
    con.execute("SET threads=2")
    con.execute(
        f"""COPY (SELECT
            CASE WHEN i % 3 = 0 THEN 'crm' WHEN i % 3 = 1 THEN 'erp' ELSE 'web' END AS source,
            to_timestamp({epoch} - 86400 + (hash(i) % 80000)::BIGINT) AS updated_at,
            to_timestamp({epoch} - 86400 + (hash(i) % 80000)::BIGINT
                         + (hash(i * 7) % 30000)::BIGINT) AS available_at,
            (hash(i * 13) % 1000000) / 1600000.0 AS score
            FROM range({n_rows}) t(i)) TO '{path}' (FORMAT parquet)"""
    )
    con.close()
    digest, size = sha256_file(path)
    snap = Snapshot(
        id=snapshot_id(digest),
        name=None,
        kind="freshness_lags",
        path=str(path),
        sha256=digest,
        size=size,
        format="parquet",
        captured_at=clock,
        source="benchmark",
        contract="one",
        term=None,
    )
    GitRepo(root).commit_files(
        {
            "contracts/one.toml": ONE_CONTRACT.encode(),
            "contracts/data-to-model.toml": None,
            MANIFEST_PATH: render_manifest(Manifest(snapshots=(snap,))).encode(),
        },
        "benchmark content",
        Author("Data Lead", "data.lead@example.org"),
        when=clock,
    )


def case_one(base: Path, args: argparse.Namespace) -> list[dict[str, object]]:
    rows = []
    for n_rows in args.rows:
        target = base / f"one-{n_rows}"
        if _stale(target):
            build_one(target, n_rows)
            (target / "built").touch()
        script = target / "floor.py"
        script.write_text(FLOOR_ONE)
        floor = [sys.executable, str(script), str(target / "data" / "lags.parquet")]
        env = _env(target / "data")
        label = f"one contract, freshness + range, {n_rows / 1e6:g}M rows"
        rows.append(_rounds(label, args.rounds, floor, target / "repo", env, "one"))
    return rows


def case_rss(base: Path, args: argparse.Namespace) -> list[dict[str, object]]:
    args.rows = args.rows[:1]
    return case_org(base, args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=("org", "one", "rss"))
    parser.add_argument("--rows", type=int, nargs="+")
    parser.add_argument("--contracts", type=int)
    parser.add_argument("--spread", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--src", type=Path, help="the workbench checkout to time (default: this)")
    args = parser.parse_args()
    global SRC
    SRC = (args.src or ROOT).resolve()
    defaults = {
        "org": ([20_000_000], 1000),
        "one": ([20_000_000], 1),
        "rss": ([5_000_000], 5000),
    }[args.case]
    args.rows = args.rows or defaults[0]
    args.contracts = args.contracts or defaults[1]
    base = args.keep or Path(tempfile.mkdtemp(prefix="evaluate-paths-"))
    compileall.compile_dir(SRC / "workbench", quiet=1)
    print(f"code under test: {SRC}")
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load {load()}")
    print(
        "| case | evaluate s (min / median) | floor s (min / median) | same-round ratio "
        "(median) | ratio of mins | CPU s evaluate / floor (medians) | "
        "evaluate peak RSS MiB | load at start |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    rows = {"org": case_org, "one": case_one, "rss": case_rss}[args.case](base, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
