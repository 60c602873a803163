"""Table evidence by version (issue 18): a Delta table (deltalake) or an Iceberg table
(pyiceberg, local SQLite catalog) registered by version / snapshot id. A finding names the
version it judged; newer versions of the table never change the finding of an older one; a
rewritten data file is refused; DuckDB and Spark judge the same version identically."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from workbench.cli.main import main
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.errors import WorkbenchError
from workbench.service.evidence import EvidenceService
from workbench.service.init import init_repo

NOW = FIXED_NOW

CONTRACT = """\
id = "scores"
title = "Scores"
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
id = "range"
kind = "calibration"
owner = "model.lead"
calibration_reference = "card"
range_min = 0.0
range_max = 1.0
fail_share_outside = 0.1

[[terms]]
id = "rows"
kind = "sql"
owner = "data.lead"
views = ["score_samples"]
query = "SELECT count(*) AS value FROM score_samples"
direction = "at_least"
fail = 1
"""


def scores(values: list[float]) -> Any:
    import pyarrow as pa

    stamps = [NOW - timedelta(hours=2, seconds=i) for i in range(len(values))]
    return pa.table(
        {
            "scored_at": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "score": pa.array(values, pa.float64()),
        }
    )


def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = init_repo(tmp_path / "repo", now=NOW - timedelta(days=10))
    GitRepo(root).commit_files(
        {"contracts/scores.toml": CONTRACT.encode(), "contracts/data-to-model.toml": None},
        "contract",
        Author("Data Lead", "data.lead@example.org"),
        when=NOW - timedelta(days=5),
    )
    (tmp_path / "lake").mkdir()
    monkeypatch.setenv("WORKBENCH_EVIDENCE_ROOTS", str(tmp_path / "lake"))
    return root


def svc(root: Path, readonly: bool = False) -> EvidenceService:
    return EvidenceService(
        Workbench(root, now=NOW - timedelta(minutes=30), actor="data.lead", readonly=readonly)
    )


def evaluate(root: Path, engine: str | None = None) -> dict[str, Any]:
    wb = Workbench(root, now=NOW, readonly=True, actor="data.lead")
    return EvidenceService(wb).evaluate(write=False, engine=engine).run


def finding(run: dict[str, Any], term: str) -> dict[str, Any]:
    return next(f for f in run["findings"] if f["term"] == term)


def delta_table(path: Path) -> None:
    """Version 0: 100 scores in range; 1: 100 more, half outside; 2: overwritten, all outside."""
    from deltalake import write_deltalake

    write_deltalake(str(path), scores([i / 100 for i in range(100)]))
    write_deltalake(str(path), scores([1.5 if i % 2 else 0.5 for i in range(100)]), mode="append")
    write_deltalake(str(path), scores([2.0] * 10), mode="overwrite")


def test_delta_table_by_version_round_trips_and_newer_versions_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path, monkeypatch)
    table = tmp_path / "lake" / "scores"
    delta_table(table)
    snap = svc(root).add(
        table,
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(hours=1),
        table_version=0,
    )
    assert (snap.format, snap.table_version) == ("delta", 0)
    listing = json.loads((root / "evidence/tables" / f"{snap.id}.json").read_text())
    assert listing["version"] == 0 and len(listing["files"]) == 1
    first = evaluate(root)
    f = finding(first, "range")
    assert f["status"] == "pass" and f["details"][0]["rows"] == 100
    assert f["snapshots"][0]["table"] == {"format": "delta", "version": 0}
    assert finding(first, "rows")["observed"] == 100
    # A newer version (appended, then overwritten) does not change the finding of v0.
    from deltalake import write_deltalake

    write_deltalake(str(table), scores([3.0] * 5), mode="append")
    again = evaluate(root)
    assert again == first
    # Version 1 is another snapshot: 200 rows, 50 outside the range.
    v1 = svc(root).add(
        table,
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(minutes=50),
        table_version=1,
    )
    assert v1.id != snap.id and v1.table_version == 1
    f1 = finding(evaluate(root), "range")
    assert (f1["status"], f1["details"][0]["rows"], f1["details"][0]["outside"]) == (
        "fail",
        200,
        50,
    )
    assert f1["snapshots"][0]["table"] == {"format": "delta", "version": 1}


def test_a_rewritten_data_file_of_a_pinned_version_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path, monkeypatch)
    table = tmp_path / "lake" / "scores"
    delta_table(table)
    snap = svc(root).add(
        table,
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(hours=1),
        table_version=0,
    )
    from deltalake import DeltaTable

    data = Path(DeltaTable(str(table), version=0).file_uris()[0].removeprefix("file://"))
    import pyarrow.parquet as pq

    pq.write_table(scores([0.5] * 100), data)  # same version number, other bytes
    f = finding(evaluate(root), "range")
    assert f["status"] == "error" and "tampered" in f["reason"], f["reason"]
    assert evaluate(root)["inputs"]["snapshots"][snap.id] == "tampered"
    assert (
        main(["--repo", str(root), "--now", NOW.isoformat(), "evidence", "list", "--verify"]) == 1
    )


def test_tables_outside_the_roots_or_with_rows_outside_their_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deltalake import write_deltalake

    root = repo(tmp_path, monkeypatch)
    outside = tmp_path / "elsewhere"
    write_deltalake(str(outside), scores([0.5]))
    with pytest.raises(WorkbenchError, match="outside the evidence roots"):
        svc(root).add(outside, "score_samples", captured_at=NOW - timedelta(hours=1))
    parted = tmp_path / "lake" / "parted"
    import pyarrow as pa

    write_deltalake(
        str(parted),
        scores([0.5, 0.6]).append_column("segment", pa.array(["a", "b"])),
        partition_by=["segment"],
    )
    with pytest.raises(WorkbenchError, match="partitioned Delta table"):
        svc(root).add(parted, "score_samples", captured_at=NOW - timedelta(hours=1))
    with pytest.raises(WorkbenchError, match="table-version needs"):
        svc(root).add(tmp_path / "lake", "score_samples", table_version=1)
    code = main(
        [
            "--repo",
            str(root),
            "evidence",
            "add",
            str(tmp_path / "lake" / "scores"),
            "--kind",
            "score_samples",
            "--table-version",
            "7",
        ]
    )
    assert code == 2


def iceberg_table(base: Path) -> tuple[Any, int, int]:
    """An Iceberg table in a local SQLite catalog: snapshot 1 in range, 2 appends outside."""
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(
        "local", uri=f"sqlite:///{base / 'catalog.db'}", warehouse=f"file://{base / 'warehouse'}"
    )
    catalog.create_namespace("ml")
    table = catalog.create_table("ml.scores", schema=scores([0.1]).schema)
    table.append(scores([i / 50 for i in range(50)]))
    first = table.current_snapshot().snapshot_id
    table.append(scores([5.0] * 50))
    second = table.current_snapshot().snapshot_id
    return table, first, second


def test_iceberg_snapshot_by_id_round_trips_through_a_sqlite_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path, monkeypatch)
    table, first, second = iceberg_table(tmp_path / "lake")
    metadata = Path(table.metadata_location.removeprefix("file://"))
    snap = svc(root).add(
        metadata,
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(hours=1),
        table_version=first,
    )
    assert (snap.format, snap.table_version) == ("iceberg", first)
    run = evaluate(root)
    f = finding(run, "range")
    assert f["status"] == "pass" and f["details"][0]["rows"] == 50
    assert f["snapshots"][0]["table"] == {"format": "iceberg", "version": first}
    table.append(scores([9.0] * 10))  # a newer snapshot: the pinned one is unchanged
    assert evaluate(root) == run
    latest = svc(root).add(
        metadata,
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(minutes=50),
        table_version=second,
    )
    f2 = finding(evaluate(root), "range")
    assert (f2["status"], f2["details"][0]["rows"], f2["details"][0]["outside"]) == (
        "fail",
        100,
        50,
    )
    assert latest.table_version == second


@pytest.mark.xdist_group("spark")
def test_spark_and_duckdb_judge_the_same_table_versions_identically(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.evidence.test_spark_engine import same_findings

    root = repo(tmp_path, monkeypatch)
    delta = tmp_path / "lake" / "scores"
    delta_table(delta)
    svc(root).add(
        delta,
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(hours=1),
        table_version=1,
    )
    duck, on_spark = evaluate(root), evaluate(root, "spark")
    assert same_findings(duck, on_spark) == []
    assert finding(on_spark, "range")["status"] == "fail"
    assert finding(on_spark, "range")["snapshots"][0]["table"]["version"] == 1
    assert finding(on_spark, "range")["engine"]["name"] == "spark"
