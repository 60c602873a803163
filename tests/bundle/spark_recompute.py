"""`verify-bundle --recompute` on findings the Spark engine made (`evaluate --engine spark`):
the auditor has no Spark, so each finding is judged again by the DuckDB engine from the
bundle's own bytes. A Spark finding records the DuckDB SQL it was transpiled from (`sql`)
and the Spark SQL it ran (`engine.sql`); the recomputation runs the former and must agree
on status, observed value, limit, SQL and detail rows (docs/audit.md, "Recomputing
findings").

Called by tests/evidence/test_spark_engine.py on the demo run it already records on the shared
Spark session (a second Spark evaluation of the demo would add a minute to the suite)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bundle.conftest import EXPORTER, signer, verify
from tests.security.forge import members
from workbench.bundle.recompute import recompute_findings
from workbench.demo.evidence_steps import EVALUATOR
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench


def record_on_spark(demo_repo: Path, at: datetime) -> dict[str, Any]:
    """The demo evaluated on Spark and recorded, signed by its CI runner."""
    result = Workbench(demo_repo, now=at, actor=EVALUATOR).evidence.evaluate(
        engine="spark", signer=signer(demo_repo, EVALUATOR)
    )
    return result.run


def assert_recomputed_by_duckdb(demo_repo: Path, run: dict[str, Any], tmp_path: Path) -> None:
    """Export the repo holding the recorded Spark `run`; verify-bundle --recompute agrees."""
    assert run["inputs"]["sql_engine"]["name"] == "spark"
    at = datetime.fromisoformat(run["time"].replace("Z", "+00:00"))
    spark_run = f"findings/{run['run']}.json"
    wb = Workbench(demo_repo, now=at + timedelta(minutes=30), actor=EXPORTER)
    out = tmp_path / "bundle.tar.gz"
    wb.bundles.export(out, ExportOptions(), signer=signer(demo_repo, EXPORTER))
    trust = wb.signing.registry_state().root_sha256
    assert trust

    report = verify(out.read_bytes(), trust, recompute=True)
    assert report.ok, report.failures
    assert {c.name: c.severity for c in report.checks}["recompute"] == "ok"
    mine = [f for f in report.recomputed or [] if f.run == spark_run]
    ran = [f for f in run["findings"] if f.get("sql")]
    assert len(ran) >= 10 and len(mine) == len(run["findings"])
    assert {f.outcome for f in mine} <= {"same", "no-query"}, [
        (f.contract, f.term, f.message) for f in mine if f.outcome not in ("same", "no-query")
    ]
    assert sum(f.outcome == "same" for f in mine) >= len(ran)
    # Each line says which engine made the finding and which one judged it again.
    on_spark = {(f["contract"], f["term"]) for f in run["findings"] if "engine" in f}
    same = [f.message for f in mine if f.outcome == "same" and (f.contract, f.term) in on_spark]
    assert len(same) >= len(ran)
    assert all("with DuckDB (the run used the spark engine at local" in m for m in same), same

    # Agreement is not vacuous: a Spark finding whose observed value is changed is
    # recomputed by DuckDB as different (the recomputation alone, over this run only: the
    # run's signature check, which refuses the edit first, is tests/security's business).
    files = members(out.read_bytes())
    files = {p: b for p, b in files.items() if not p.startswith("findings/") or p == spark_run}
    doc = json.loads(files[spark_run])
    target = next(f for f in doc["findings"] if f.get("sql") and f.get("observed") is not None)
    target["observed"] = "9" * 6
    files[spark_run] = (json.dumps(doc, sort_keys=True, indent=1) + "\n").encode()
    bad = [f for f in recompute_findings(files).findings if f.outcome == "different"]
    assert [(f.run, f.contract, f.term) for f in bad] == [
        (spark_run, target["contract"], target["term"])
    ]
    assert "observed: recorded" in bad[0].message
    assert "the run used the spark engine at local" in bad[0].message
    assert "recomputed with DuckDB" in bad[0].message
