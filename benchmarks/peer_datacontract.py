"""Benchmark: `evaluate` of one contract beside a peer tool, datacontract-cli, on the same checks.

    python -m benchmarks.peer_datacontract --datacontract PATH [--rows 20000000] [--rounds 3] [--keep DIR]

Issue 18's row "`evaluate` of one contract" asks for ≤ 1.3× a bare DuckDB query "and so
≤ 0.2× the peer". The peer is `datacontract test` (datacontract-cli, which also checks with
DuckDB) on an ODCS v3 contract holding the same two checks as the workbench's contract:
the largest per-source p95 lag under 24 hours, and the share of scores outside
[0.01, 0.6] (NULL counted outside) under 3%, over the same Parquet file
(`benchmarks.evaluate_paths`'s `one` case). The peer is not a dependency of the project:
install it anywhere and pass its executable, e.g.

    python3 -m venv /tmp/dcvenv && /tmp/dcvenv/bin/pip install 'datacontract-cli[duckdb,parquet]==1.2.8'
    python -m benchmarks.peer_datacontract --datacontract /tmp/dcvenv/bin/datacontract --keep /tmp/perfeval

Each round times, as whole processes from a fresh start, the floor (one DuckDB query), the
peer and `workbench evaluate --contract one` (a new recorded run each round), alternating so
the machine's load of the moment hits all three. Printed: wall and CPU seconds (user + sys of
the process and everything it waited for), peak RSS of the largest process, and each exit
code. Before timing, one untimed run of each tool is read back: the peer's JSON report and
the workbench's table must agree with DuckDB on the share outside the range and on which
check fails (this data fails the range check only), or the comparison is void and the
benchmark stops. (The `physicalType: double` matters: with only `logicalType: number` the
peer reads the scores as a decimal rounded to three places and reports 5.44% outside where
the data holds 5.60%; 32,000 scores just past a bound are rounded back inside.)
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import evaluate_paths as paths

PEER_CONTRACT = """\
apiVersion: v3.0.2
kind: DataContract
id: one
name: one
version: 1.0.0
status: active
servers:
  - server: local
    type: local
    path: {parquet}
    format: parquet
schema:
  - name: lags
    physicalName: lags
    logicalType: object
    properties:
      - name: source
        logicalType: string
        physicalType: varchar
      - name: updated_at
        logicalType: timestamp
        physicalType: timestamp
      - name: available_at
        logicalType: timestamp
        physicalType: timestamp
      - name: score
        logicalType: number
        physicalType: double
    quality:
      - name: fresh_p95
        type: sql
        query: >-
          SELECT max(p) FROM (SELECT source,
          quantile_cont(epoch(available_at) - epoch(updated_at), 0.95) AS p
          FROM lags GROUP BY source)
        mustBeLessThan: 86400
      - name: range_share
        type: sql
        query: >-
          SELECT avg(CASE WHEN score IS NULL OR score < 0.01 OR score > 0.6
          THEN 1.0 ELSE 0.0 END) FROM lags
        mustBeLessThan: 0.03
"""


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _share_outside(parquet: Path) -> float:
    import duckdb

    query = (
        "SELECT avg(CASE WHEN score IS NULL OR score < 0.01 OR score > 0.6 THEN 1.0 ELSE 0.0 "
        "END) FROM read_parquet(?)"
    )
    row = duckdb.connect().execute(query, [str(parquet)]).fetchone()
    assert row is not None
    return float(row[0])


def same_verdicts(peer: Path, target: Path, evaluate: list[str], env: dict[str, str]) -> str:
    """Both tools judged the same data the same way: the problem, or "" when they agree."""
    expected = _share_outside(target / "data" / "lags.parquet")
    report = target / "peer-report.json"
    subprocess.run(
        [str(peer), "test", str(target / "peer.yaml"), "--output", str(report)]
        + ["--output-format", "json"],
        capture_output=True,
        check=False,
    )
    checks = json.loads(report.read_text())["checks"]
    quality = [c for c in checks if c.get("name") == "Quality Check"]
    if [c.get("result") for c in quality] != ["passed", "failed"]:
        return f"the peer's quality checks: {[(c.get('result'), c.get('reason')) for c in quality]}"
    if f"was {expected:.8g}," not in (quality[1].get("reason") or ""):
        return f"the peer's share outside is not {expected:.8g}: {quality[1].get('reason')}"
    out = subprocess.run(
        [*evaluate, "--readonly"], capture_output=True, text=True, env=env, cwd=paths.SRC
    ).stdout
    rows = {tuple(line.split()[:3]) for line in out.splitlines()}
    if not {("one", "fresh", "pass"), ("one", "range", "fail")} <= rows:
        return f"the workbench's verdicts:\n{out}"
    if f"{expected:.2%} outside" not in out:
        return f"the workbench's share outside is not {expected:.2%}:\n{out}"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datacontract", type=Path, required=True, help="the peer's executable")
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    paths.SRC = paths.ROOT.resolve()
    base = args.keep or Path(tempfile.mkdtemp(prefix="peer-datacontract-"))
    target = base / f"one-{args.rows}"
    if paths._stale(target):
        paths.build_one(target, args.rows)
        (target / "built").touch()
    compileall.compile_dir(paths.SRC / "workbench", quiet=1)
    parquet = target / "data" / "lags.parquet"
    (target / "floor.py").write_text(paths.FLOOR_ONE)
    (target / "peer.yaml").write_text(PEER_CONTRACT.format(parquet=parquet))
    env = paths._env(target / "data")
    commands = {
        "floor": [sys.executable, str(target / "floor.py"), str(parquet)],
        "peer": [str(args.datacontract), "test", str(target / "peer.yaml")],
        "evaluate": paths.evaluate_cmd(target / "repo", "one"),
    }
    problem = same_verdicts(args.datacontract, target, commands["evaluate"], env)
    if problem:
        raise SystemExit(f"the two tools do not agree, so the comparison is void: {problem}")
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {paths.load()}, {args.rows:,} rows")
    paths.timed(commands["evaluate"], env)  # untimed: warms the page cache and the hash cache
    seen: dict[str, dict[str, list[float]]] = {
        name: {"wall": [], "cpu": [], "rss": [], "code": []} for name in commands
    }
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            seconds, rss, code, err, cpu = paths.timed(cmd, env)
            if name != "floor" and code not in (0, 1):
                raise SystemExit(f"{name} failed ({code}): {err}")
            for key, value in (("wall", seconds), ("cpu", cpu), ("rss", rss), ("code", code)):
                seen[name][key].append(value)
    print("| command | wall s (median) | CPU s (median) | peak RSS MiB | exit codes |")
    print("|---|---:|---:|---:|---|")
    for name, got in seen.items():
        codes = sorted({int(c) for c in got["code"]})
        print(
            f"| {name} | {_median(got['wall']):.2f} | {_median(got['cpu']):.2f} | "
            f"{max(got['rss']):.0f} | {codes} |"
        )
    ev, fl, peer = seen["evaluate"], seen["floor"], seen["peer"]
    print(
        f"evaluate / floor: wall {_median(ev['wall']) / _median(fl['wall']):.2f}×, "
        f"CPU {_median(ev['cpu']) / _median(fl['cpu']):.2f}×"
    )
    print(
        f"evaluate / peer: wall {_median(ev['wall']) / _median(peer['wall']):.2f}×, "
        f"CPU {_median(ev['cpu']) / _median(peer['cpu']):.2f}× (target ≤ 0.2×)"
    )
    if set(ev["code"]) != set(peer["code"]):
        raise SystemExit("the two tools exited differently: the comparison is void")


if __name__ == "__main__":
    main()
