"""Contract SQL on Spark reading a table it never declared, through a CTE's name.

The Spark guard (`evidence/sql_guard.py`) lets a custom `sql` term read only its declared
evidence views "or a CTE it defines itself". It used to collect every CTE name anywhere in
the query and accept any table of that name, wherever it appeared. But a CTE is visible only
in its own scope: in the query body of its WITH, and in the WITH's *later* CTEs. A reference
inside the CTE's own definition, in an earlier CTE of the same WITH, or outside the subquery
that defines it, is resolved by Spark against the catalog: a table of the cluster the term
never declared (payroll, customers, another team's data), whose values the finding records.

    WITH payroll AS (SELECT * FROM payroll) SELECT max(salary) AS value FROM payroll

The guard now resolves each table reference through the WITH clauses that enclose it, as
SQL scopes them. Spark tests share one JVM (`spark` fixture, xdist group "spark")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.evidence.test_spark_engine import evaluate
from workbench.evidence.errors import SqlRefused
from workbench.evidence.sql_guard import guard_for_spark

pytestmark = pytest.mark.xdist_group("spark")

OUT_OF_SCOPE = [
    # the CTE's own definition: not yet defined there (non-recursive)
    "WITH payroll AS (SELECT * FROM payroll) SELECT max(salary) AS value FROM payroll",
    # an earlier CTE of the same WITH: the later one is not yet defined
    "WITH a AS (SELECT * FROM payroll), payroll AS (SELECT 1 AS salary) "
    "SELECT max(salary) AS value FROM a",
    # a CTE defined inside a subquery is not visible outside it
    "SELECT (SELECT count(*) FROM (WITH payroll AS (SELECT 1 AS x) SELECT x FROM payroll)) "
    "+ (SELECT max(salary) FROM payroll) AS value FROM freshness_lags",
    "SELECT count(*) AS value FROM freshness_lags WHERE EXISTS "
    "(WITH payroll AS (SELECT 1) SELECT 1) UNION ALL SELECT max(salary) FROM payroll",
    # WITH RECURSIVE lets a CTE name itself, never a later one
    "WITH RECURSIVE a AS (SELECT * FROM payroll), payroll AS (SELECT 1 AS salary) "
    "SELECT max(salary) AS value FROM a",
]

IN_SCOPE = [
    "WITH s AS (SELECT * FROM freshness_lags) SELECT count(*) AS value FROM s",
    "WITH a AS (SELECT * FROM freshness_lags), b AS (SELECT * FROM a) "
    "SELECT count(*) AS value FROM b",
    "WITH a AS (SELECT 1 AS x) SELECT (SELECT count(*) FROM a) AS value FROM freshness_lags",
    "SELECT count(*) AS value FROM (WITH a AS (SELECT * FROM freshness_lags) SELECT * FROM a)",
    "WITH a AS (SELECT 1 AS x) SELECT count(*) AS value FROM "
    "(WITH b AS (SELECT * FROM a) SELECT * FROM b)",
]


@pytest.mark.parametrize("sql", OUT_OF_SCOPE)
def test_a_cte_name_out_of_its_scope_is_not_a_declared_view(sql: str) -> None:
    with pytest.raises(SqlRefused) as info:
        guard_for_spark(sql, {"freshness_lags"})
    assert "payroll" in info.value.reason, info.value.reason


@pytest.mark.parametrize("sql", IN_SCOPE)
def test_ctes_in_scope_are_still_accepted(sql: str) -> None:
    assert guard_for_spark(sql, {"freshness_lags"})


def test_a_self_referencing_cte_cannot_read_a_catalog_table_on_spark(
    spark: Any, tmp_path: Path
) -> None:
    """End to end on a real Spark session: a table in the cluster's catalog, a contract whose
    custom term shadows its name with a CTE; the value never reaches the findings."""
    from tests.evidence.test_evaluate import repo_with_custom_query

    spark.sql("DROP TABLE IF EXISTS payroll")
    spark.createDataFrame([(74231,)], ["salary"]).write.saveAsTable("payroll")
    try:
        root = repo_with_custom_query(tmp_path, OUT_OF_SCOPE[0])
        run = evaluate(root, "spark")
    finally:
        spark.sql("DROP TABLE IF EXISTS payroll")
    f = next(f for f in run["findings"] if f["term"] == "custom")
    assert "74231" not in json.dumps(run), f
    assert f["status"] == "error", f
    assert f["reason"].startswith("SQL refused") and "payroll" in f["reason"], f["reason"]
