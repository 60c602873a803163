"""Benchmark: `evaluate` over 1,000 contracts' Parquet evidence vs hand-written DuckDB.

Usage: .venv/bin/python benchmarks/evidence_evaluate.py [--rows 5000000 10000000 20000000]
       [--contracts 1000] [--rounds 3] [--keep DIR]

For each size it builds a governance repo with N contracts (three titled terms each:
freshness p95, operating range, distribution shift against a per-contract reference;
untitled terms would add 3,000 "term.undocumented" warnings, located in the TOML, to
loading the contracts), writes the
evidence as Parquet with DuckDB (rows split: 40% freshness lags, 40% live scores, 20%
reference scores), registers it as external snapshots (pinned by path + sha256, one
manifest commit), then times:

* `EvidenceService.evaluate()` (load the contracts, plan, sha256 verification of every
  snapshot, batched checks in a locked-down sandbox, findings file, commit on the first
  run; later rounds find the same findings bytes already committed);
* the baseline: one plain DuckDB connection running, per contract, hand-written queries
  computing the same aggregates in one pass each (p95 lag per source; share outside
  the range; quantile edges + both histograms).

Peak memory is the peak RSS (VmHWM) of a fresh subprocess per phase, or of the evaluation
worker it starts (`workbench.evidence.worker`) when that is larger.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

CONTRACT = """\
id = "c{i:04d}"
title = "Synthetic seam {i}"
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
kind = "calibration"
owner = "model.lead"
calibration_reference = "card"
range_min = 0.01
range_max = 0.6
fail_share_outside = 0.03

[[terms]]
id = "shift"
title = "Live scores match the reference"
kind = "distribution_shift"
owner = "model.lead"
reference = "ref-{i:04d}"
"""


def build(target: Path, contracts: int, rows: int, spread_s: int = 0, now: datetime = NOW) -> None:
    """`now`: the evidence is captured an hour before it. `spread_s`: contract i's evidence is captured `i * spread_s` seconds earlier (evidence
    captured at different times, as teams upload it; 0: all at one moment)."""
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

    root = init_repo(target / "repo", now=now - timedelta(days=3))
    data = target / "data"
    data.mkdir()
    per = rows // contracts
    n_lag, n_live = int(per * 0.4), int(per * 0.4)
    n_ref = per - n_lag - n_live
    con = duckdb.connect()
    con.execute("SET threads=2")
    clock = now - timedelta(hours=1)
    epoch = int(clock.timestamp())
    # one Parquet file per (kind, contract), written in a few large COPY statements
    con.execute(
        f"""CREATE TABLE lags AS SELECT (i // {n_lag})::INT AS c,
            CASE WHEN i % 3 = 0 THEN 'crm' WHEN i % 3 = 1 THEN 'erp' ELSE 'web' END AS source,
            to_timestamp({epoch} - 86400 * 3 + (hash(i) % 200000)::BIGINT) AS updated_at,
            to_timestamp({epoch} - 86400 * 3 + (hash(i) % 200000)::BIGINT + (hash(i * 7) % 30000)::BIGINT) AS available_at
            FROM range({n_lag * contracts}) t(i)"""
    )
    for name, n, shift in (("live", n_live, 0.002), ("ref", n_ref, 0.0)):
        con.execute(
            f"""CREATE TABLE {name} AS SELECT (i // {n})::INT AS c,
                to_timestamp({epoch} - (i % 86400)) AS scored_at,
                least(0.99, exp(ln(0.08 + {shift}) + 0.7 * sqrt(-2 * ln((hash(i * 13) % 1000000 + 1) / 1000001.0))
                      * cos(2 * pi() * (hash(i * 17) % 1000000) / 1000000.0))) AS score
                FROM range({n * contracts}) t(i)"""
        )
    for table in ("lags", "live", "ref"):
        out = data / table
        con.execute(
            f"COPY {table} TO '{out}' (FORMAT parquet, PARTITION_BY (c), OVERWRITE_OR_IGNORE)"
        )
    con.close()
    snaps = []
    changes: dict[str, bytes | None] = {}
    for i in range(contracts):
        cid = f"c{i:04d}"
        changes[f"contracts/{cid}.toml"] = CONTRACT.format(i=i).encode()
        for table, kind, name, captured in (
            ("lags", "freshness_lags", None, clock - timedelta(seconds=i * spread_s)),
            ("live", "score_samples", None, clock - timedelta(seconds=i * spread_s)),
            ("ref", "score_samples", f"ref-{i:04d}", now - timedelta(days=90)),
        ):
            files = sorted((data / table / f"c={i}").glob("*.parquet"))
            path = files[0]
            digest, size = sha256_file(path)
            snaps.append(
                Snapshot(
                    id=snapshot_id(digest),
                    name=name,
                    kind=kind,
                    path=str(path),
                    sha256=digest,
                    size=size,
                    format="parquet",
                    captured_at=captured,
                    source="benchmark",
                    contract=cid,
                    term="shift" if name else None,
                )
            )
    changes["contracts/data-to-model.toml"] = None
    changes[MANIFEST_PATH] = render_manifest(Manifest(snapshots=tuple(snaps))).encode()
    GitRepo(root).commit_files(
        changes, "benchmark content", Author("Data Lead", "data.lead@example.org"), when=clock
    )


def run_evaluate(root: Path) -> dict[str, float]:
    import os

    from workbench.service.core import Workbench
    from workbench.service.evidence import ROOTS_ENV

    # The Parquet files are external snapshots: their folder is this machine's evidence root.
    os.environ[ROOTS_ENV] = str(root.parent / "data")
    t = time.perf_counter()
    result = Workbench(root, now=NOW, actor="data.lead").evidence.evaluate()
    elapsed = time.perf_counter() - t
    # A re-run on the same inputs finds its findings file already written (same bytes).
    return {"seconds": elapsed, "findings": len(result.findings), "summary": result.run["summary"]}  # type: ignore[dict-item]


def run_baseline(root: Path) -> dict[str, float]:
    """Hand-written: per contract, one query per aggregate, plain DuckDB, no guard/hash/git."""
    import duckdb

    from workbench.evidence.manifest import parse_manifest

    manifest = parse_manifest((root / "evidence/manifest.toml").read_text())
    by = {}
    for s in manifest.snapshots:
        key = (s.contract, "ref" if s.name else s.kind)
        by[key] = s.path
    contracts = sorted({s.contract for s in manifest.snapshots})
    t = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET threads=2")
    probs = [i / 10 for i in range(1, 10)]
    results = 0
    for c in contracts:
        lags, live, ref = by[(c, "freshness_lags")], by[(c, "score_samples")], by[(c, "ref")]
        con.execute(
            f"SELECT source, quantile_cont(epoch(available_at) - epoch(updated_at), 0.95) "
            f"FROM read_parquet('{lags}') GROUP BY source"
        ).fetchall()
        con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE score < 0.01 OR score > 0.6) "
            f"FROM read_parquet('{live}')"
        ).fetchall()
        edges = con.execute(
            f"SELECT list_sort(list_distinct(quantile_cont(score, {probs}))) FROM read_parquet('{ref}')"
        ).fetchone()[0]
        con.execute(
            f"SELECT (SELECT histogram(score, {edges}) FROM read_parquet('{ref}')),"
            f" (SELECT histogram(score, {edges}) FROM read_parquet('{live}'))"
        ).fetchall()
        results += 1
    return {"seconds": time.perf_counter() - t, "contracts": results}


def peak_rss_mib() -> float:
    """Peak RSS of this process. VmHWM is reset by execve; ru_maxrss is not (on Linux it
    keeps the forking parent's peak), so prefer /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(phase: str, root: str) -> None:
    out = run_evaluate(Path(root)) if phase == "evaluate" else run_baseline(Path(root))
    # evaluate's checks run in a worker process: its peak counts too (the larger of both).
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["max_rss_mib"] = max(peak_rss_mib(), worker)
    out["worker_rss_mib"] = worker
    print(json.dumps(out))


def measure(phase: str, root: Path) -> dict[str, float]:
    for attempt in range(2):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", phase, str(root)],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            break
        # Shared checkout: another engineer's half-saved file can break one import.
        print(f"<!-- {phase} attempt {attempt + 1} failed: {proc.stderr[-800:]} -->", flush=True)
    proc.check_returncode()
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[5_000_000, 10_000_000, 20_000_000])
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("PHASE", "ROOT"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    base = args.keep or Path(tempfile.mkdtemp(prefix="evidence-bench-"))
    print(
        f"| rows | contracts | evidence MB | evaluate s (min / median of {args.rounds}) | "
        "baseline s (min / median) | ratio of mins | median same-round ratio | "
        "evaluate peak RSS MiB | baseline peak RSS MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows in args.rows:
        target = base / f"r{rows}"
        if not (target / "repo").exists():
            target.mkdir(parents=True, exist_ok=True)
            build(target, args.contracts, rows)
        size = sum(p.stat().st_size for p in (target / "data").rglob("*.parquet")) / 2**20
        evs, bas, rss_e, rss_b, summary = [], [], 0.0, 0.0, None
        for _ in range(args.rounds):  # interleaved: a load change hits both phases
            base_r = measure("baseline", target / "repo")
            eval_r = measure("evaluate", target / "repo")
            bas.append(base_r["seconds"])
            evs.append(eval_r["seconds"])
            rss_e = max(rss_e, eval_r["max_rss_mib"])
            rss_b = max(rss_b, base_r["max_rss_mib"])
            summary = eval_r.get("summary")
        same_round = statistics.median(e / b for e, b in zip(evs, bas, strict=True))
        print(
            f"| {rows:,} | {args.contracts:,} | {size:.0f} | {min(evs):.2f} / "
            f"{statistics.median(evs):.2f} | {min(bas):.2f} / {statistics.median(bas):.2f} | "
            f"{min(evs) / min(bas):.2f}× | {same_round:.2f}× | {rss_e:.0f} | {rss_b:.0f} |",
            flush=True,
        )
        print(f"<!-- findings summary: {summary} -->")


if __name__ == "__main__":
    main()
