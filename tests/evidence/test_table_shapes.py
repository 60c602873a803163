"""Table versions whose files are not all alike (issue 18, walked as a user): a Delta
version whose data files were written before and after a column was added (schema
evolution), and an Iceberg snapshot whose data files live in `k=v` partition folders. DuckDB
and Spark must see the same columns and rows: the table's, nothing from a folder name, and
never depend on which file sorts first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.evidence.test_spark_engine import same_findings
from tests.evidence.test_tables import CONTRACT, NOW, evaluate, finding, repo, scores, svc
from workbench.repo.git import Author, GitRepo

pytestmark = pytest.mark.xdist_group("spark")

EXTRA_TERMS = """
[[terms]]
id = "regions"
kind = "sql"
owner = "data.lead"
views = ["score_samples"]
query = "SELECT count(region) AS value FROM score_samples"
direction = "at_least"
fail = 1

[[terms]]
id = "segment-rows"
kind = "sql"
owner = "data.lead"
views = ["score_samples"]
query = "SELECT count(*) AS value FROM score_samples WHERE segment = 'north/east & co'"
direction = "at_least"
fail = 1
"""
SEGMENT = "north/east & co"


def differences(duck: dict[str, Any], spark: dict[str, Any], absent: str) -> list[str]:
    """Every difference but the term over the column this table does not have: an error on
    both engines, in each engine's own words."""
    for run in (duck, spark):
        assert finding(run, absent)["status"] == "error", finding(run, absent)
    return [p for p in same_findings(duck, spark) if not p.startswith(f"scores/{absent} reason")]


def shaped_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = repo(tmp_path, monkeypatch)
    GitRepo(root).commit_files(
        {"contracts/scores.toml": (CONTRACT + EXTRA_TERMS).encode()},
        "terms over the table's columns",
        Author("Data Lead", "data.lead@example.org"),
        when=NOW - timedelta(days=4),
    )
    return root


def test_a_delta_version_across_a_schema_change_reads_the_same_on_both_engines(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version 1 = version 0's file (no `region`) + a file written after `region` was added
    (schema_mode="merge"). DuckDB read the files with whichever file sorted first's columns
    (random file names): `schema mismatch` or no `region` at all; Spark saw `region`."""
    import pyarrow as pa
    from deltalake import write_deltalake

    root = shaped_repo(tmp_path, monkeypatch)
    table = tmp_path / "lake" / "scores"
    write_deltalake(str(table), scores([0.1] * 30))
    later = scores([0.2] * 20).append_column("region", pa.array(["eu"] * 20, pa.string()))
    write_deltalake(str(table), later, mode="append", schema_mode="merge")
    svc(root).add(
        table,
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(hours=1),
        table_version=1,
    )
    duck, on_spark = evaluate(root), evaluate(root, "spark")
    assert finding(duck, "regions")["status"] == "pass", finding(duck, "regions")["reason"]
    assert finding(duck, "regions")["observed"] == 20  # NULL for the older file's rows
    assert finding(duck, "range")["details"][0]["rows"] == 50
    assert differences(duck, on_spark, "segment-rows") == []


def test_a_partition_folder_name_is_never_read_as_the_column_on_either_engine(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Iceberg table partitioned by `segment` (identity) writes its data file under
    `segment=north%2Feast+%26+co/`. With one data file DuckDB read that folder name as the
    column (hive partitioning): every row's segment became 'north/east+&+co', a term over it
    failed on DuckDB and passed on Spark, which reads the file's own values."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog

    root = shaped_repo(tmp_path, monkeypatch)
    base = tmp_path / "lake"
    catalog = SqlCatalog(
        "local", uri=f"sqlite:///{base / 'catalog.db'}", warehouse=f"file://{base / 'wh'}"
    )
    catalog.create_namespace("ml")
    rows = scores([0.3] * 10).append_column("segment", pa.array([SEGMENT] * 10, pa.string()))
    table = catalog.create_table("ml.scores", schema=rows.schema)
    with table.update_spec() as spec:
        spec.add_identity("segment")
    table = catalog.load_table("ml.scores")
    table.append(rows)  # one partition value: one data file, in segment=…/
    snap = svc(root).add(
        Path(table.metadata_location.removeprefix("file://")),
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(hours=1),
    )
    listing = (root / "evidence/tables" / f"{snap.id}.json").read_text()
    assert "segment=north" in listing  # the layout this test is about
    duck, on_spark = evaluate(root), evaluate(root, "spark")
    assert finding(duck, "segment-rows")["observed"] == 10, finding(duck, "segment-rows")
    assert differences(duck, on_spark, "regions") == []


def test_a_delta_table_in_a_folder_with_a_space_registers_and_evaluates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deltalake names data files by percent-encoded URI (`risk%20scores/part-…`); the
    encoded text was taken as the path: `missing: data file … does not exist`."""
    from deltalake import write_deltalake

    root = shaped_repo(tmp_path, monkeypatch)
    table = tmp_path / "lake" / "risk scores"
    write_deltalake(str(table), scores([0.1] * 7))
    snap = svc(root).add(
        table, "score_samples", contract="scores", captured_at=NOW - timedelta(hours=1)
    )
    assert snap.table_version == 0
    assert finding(evaluate(root), "range")["details"][0]["rows"] == 7


def test_a_failing_contract_query_on_spark_is_a_finding_not_a_java_stack_on_stderr(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A term over a column the table lacks: the finding is `error` with Spark's message;
    pyspark also logged the whole Java stack trace as JSON on stderr (~9 KB per term, in
    the user's terminal between the findings table and the summary)."""
    from deltalake import write_deltalake

    root = shaped_repo(tmp_path, monkeypatch)
    table = tmp_path / "lake" / "scores"
    write_deltalake(str(table), scores([0.1] * 5))
    svc(root).add(table, "score_samples", contract="scores", captured_at=NOW - timedelta(hours=1))
    capfd.readouterr()
    failed = finding(evaluate(root, "spark"), "regions")
    assert failed["status"] == "error" and "`region` cannot be resolved" in failed["reason"]
    err = capfd.readouterr().err
    assert "SQLQueryContextLogger" not in err and "at org.apache.spark" not in err, err[:2000]
