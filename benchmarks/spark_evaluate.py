"""Benchmark: `evaluate --engine spark` (local mode) vs the embedded DuckDB, same data.

Usage: .venv/bin/python benchmarks/spark_evaluate.py [--contracts 10] [--rows 2000000]
       [--master local[2]] [--keep DIR]

Builds the evidence benchmark's org (benchmarks/evidence_evaluate.py: per contract a
freshness p95, an operating range and a distribution-shift term over Parquet: 40% lags, 40%
live scores, 20% reference scores), then times, each in a fresh process as a user runs it:

* `workbench evaluate --engine duckdb --readonly` (the default engine);
* `workbench evaluate --engine spark --readonly` in local mode: the whole process, JVM start
  included (what a CI job pays), and the time to verdict after the session is up (what a
  long-lived cluster session pays), from the engine's own timestamps;

and checks that both give the same findings (the differential test's rule). Rows scanned:
the rows of every evidence file the checks read (a reference file is read by its shift term
once per term). Figures: docs/performance.md, "Spark engine".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from benchmarks.evidence_evaluate import NOW
from workbench.service.core import Workbench
from workbench.service.evidence import EvidenceService
engine = sys.argv[2]
started = None
if engine == "spark":
    from workbench.evidence.engines.spark import SparkTarget, spark_session
    spark_session(SparkTarget(sys.argv[3]))
    started = time.perf_counter()
wb = Workbench(Path(sys.argv[1]), now=NOW, readonly=True, actor="data.lead")
run = EvidenceService(wb).evaluate(write=False, engine=None if engine == "duckdb" else engine).run
end = time.perf_counter()
print(json.dumps({"total_s": end - t0, "session_s": (started - t0) if started else 0.0,
                  "verdict_s": end - (started or t0), "run": run}))
"""


def rows_scanned(root: Path) -> int:
    import duckdb

    from workbench.evidence.manifest import parse_manifest

    manifest = parse_manifest((root / "evidence/manifest.toml").read_text())
    con = duckdb.connect()
    total = 0
    for s in manifest.snapshots:
        n = con.execute(f"SELECT count(*) FROM read_parquet('{s.path}')").fetchone()[0]
        # live score samples are read by the range and the shift term; lags and reference once
        total += n * (2 if s.kind == "score_samples" and not s.name else 1)
    return int(total)


def run_child(root: Path, engine: str, master: str) -> dict:
    env = dict(os.environ, WORKBENCH_EVIDENCE_ROOTS=str(root.parent / "data"))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), engine, master],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contracts", type=int, default=10)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    from benchmarks.evidence_evaluate import build

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-spark-"))
    base.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    build(base, args.contracts, args.rows)
    print(f"built {args.contracts} contracts, {args.rows:,} rows in {time.perf_counter() - t:.1f}s")
    root = base / "repo"
    scanned = rows_scanned(root)
    duck = run_child(root, "duckdb", args.master)
    spark = run_child(root, "spark", args.master)
    same = [
        {k: v for k, v in f.items() if k != "engine"} for f in spark["run"]["findings"]
    ] == duck["run"]["findings"]
    terms = sum(1 for f in duck["run"]["findings"] if f["kind"] != "page_test")
    print(f"rows scanned per run: {scanned:,} ({terms} term checks)")
    print(f"duckdb  whole process {duck['total_s']:.2f}s")
    print(
        f"spark   whole process {spark['total_s']:.2f}s (session start {spark['session_s']:.2f}s,"
        f" time to verdict {spark['verdict_s']:.2f}s = {spark['verdict_s'] / terms:.2f}s per term,"
        f" {scanned / spark['verdict_s'] / 1e6:.2f}M rows/s)"
    )
    print(
        f"ratio spark/duckdb: whole process {spark['total_s'] / duck['total_s']:.1f}x, "
        f"time to verdict {spark['verdict_s'] / duck['total_s']:.1f}x; same findings: {same}"
    )
    if not same:
        sys.exit("Spark and DuckDB findings differ")


if __name__ == "__main__":
    main()
