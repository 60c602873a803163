"""Contract SQL on Spark calling a function the cluster or the session added, not Spark's own.

The Spark guard (`evidence/sql_guard.py`) used to refuse a short deny-list of functions
(``reflect``, ``java_method``, ``input_file_name`` …) and let every other name through. But a
cluster's metastore holds persistent functions (Hive UDFs, ``CREATE FUNCTION db.f AS
'com.x.Y' USING JAR …``, SQL functions whose body reads any table) and a session may carry
registered UDFs (``spark.udf.register``, extensions): any of them runs code of someone else's
choosing, reads files or tables, or calls out, and contract SQL is written by a hostile
insider who can push commits. So is any Spark built-in that reaches outside the query's own
rows the deny-list did not know (``current_path``, ``version``, ``from_protobuf`` with a
descriptor file path, a bare ``user`` that Spark resolves to the user running it …).

Now a function call is accepted only if it is unqualified and on the reviewed allow-list of
Spark built-ins that compute over their arguments only (`evidence/spark_functions.py`), on
the DuckDB tree and on the transpiled Spark tree; and on classic (py4j) sessions the
analyzed plan is walked before any action: no user function, no relation but the term's
declared views. Spark tests share one JVM (`spark` fixture, xdist group "spark")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.evidence.test_spark_engine import evaluate
from workbench.evidence.errors import SqlRefused
from workbench.evidence.sql_guard import guard_for_spark

pytestmark = pytest.mark.xdist_group("spark")

VIEWS = {"freshness_lags"}


def refused(sql: str) -> str:
    with pytest.raises(SqlRefused) as info:
        guard_for_spark(sql, VIEWS)
    return info.value.reason


# --------------------------------------------------------------------------- the guard


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT max(leak(source)) AS value FROM freshness_lags", "leak()"),
        ('SELECT max("leak"(source)) AS value FROM freshness_lags', "leak()"),
        (
            "SELECT max(length(source)) + max(hive_ascii(source)) AS value FROM freshness_lags",
            "hive_ascii()",
        ),
        ("SELECT list_transform([1], x -> leak(x))[1] AS value", "leak()"),
        ("SELECT count(*) AS value FROM freshness_lags WHERE leak(source) IS NULL", "leak()"),
        # Spark's IDENTIFIER clause names a column (or a function, a table) by a string
        ("SELECT max(identifier('source')) AS value FROM freshness_lags", "identifier()"),
    ],
)
def test_a_function_that_is_not_a_spark_builtin_is_refused(sql: str, named: str) -> None:
    reason = refused(sql)
    assert named in reason and "built-in" in reason, reason


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT somedb.f(1) AS value", "somedb.f"),
        ("SELECT spark_catalog.somedb.f(1) AS value", "spark_catalog.somedb.f"),
        (
            "SELECT max(source) AS value FROM freshness_lags WHERE system.builtin.upper(source) = 'A'",
            "system.builtin.upper",
        ),
        ("SELECT session.leak(1) AS value", "session.leak"),
    ],
)
def test_a_qualified_function_is_refused(sql: str, named: str) -> None:
    reason = refused(sql)
    assert named in reason and "qualified" in reason, reason


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT version() AS value", "version()"),
        ("SELECT length(current_path()) AS value", "current_path()"),
        ("SELECT length(current_timezone()) AS value", "current_timezone()"),
        (
            "SELECT count(*) AS value FROM freshness_lags WHERE spark_partition_id() = 0",
            "spark_partition_id()",
        ),
        (
            "SELECT max(monotonically_increasing_id()) AS value FROM freshness_lags",
            "monotonically_increasing_id()",
        ),
        ("SELECT length(uuid()) AS value", "uuid()"),
        ("SELECT rand() AS value", "rand()"),
        (
            "SELECT length(from_protobuf(x, 'M', '/etc/desc.pb')) AS value FROM freshness_lags",
            "from_protobuf()",
        ),
        ("SELECT length(xpath_string('<a/>', 'a')) AS value", "xpath_string()"),
        ("SELECT raise_error('looks fine') AS value", "raise_error()"),
        ("SELECT count(*) AS value FROM python_worker_logs()", "python_worker_logs()"),
        # Spark resolves these bare names to who runs the query when no column has the name
        ("SELECT length(user) AS value FROM freshness_lags", "user"),
        ("SELECT length(session_user) AS value", "session_user"),
        ("SELECT length(current_path) AS value", "current_path"),
    ],
)
def test_a_builtin_that_reaches_outside_the_rows_is_refused(sql: str, named: str) -> None:
    reason = refused(sql)
    assert named in reason, reason


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) AS value FROM freshness_lags WHERE upper(source) = 'APP'",
        "SELECT max(epoch(now()) - epoch(CAST(available_at AS TIMESTAMPTZ))) AS value FROM freshness_lags",
        "SELECT count(*) AS value FROM freshness_lags WHERE regexp_matches(source, '^a')",
        "SELECT max(length(md5(source))) + max(abs(-1)) AS value FROM freshness_lags",
        "SELECT max(freshness_lags.user) AS value FROM (SELECT source AS user FROM freshness_lags) AS freshness_lags",
        "SELECT count(DISTINCT source) AS value FROM freshness_lags WHERE source IN ('a', 'b')",
        "SELECT CASE WHEN count(*) > 0 THEN 1 ELSE 0 END AS value FROM freshness_lags",
    ],
)
def test_spark_builtins_over_the_rows_are_still_accepted(sql: str) -> None:
    assert guard_for_spark(sql, VIEWS)


# --------------------------------------------------------------------------- on Spark


def _leaky_udf_in_every_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every session the engine makes for a term holds a Python UDF `leak`, which writes the
    returned marker file when it runs (as a cluster extension or a shared session would
    have it)."""
    from workbench.evidence.engines import spark as engine

    marker = tmp_path / "udf-ran"

    def leak(x: Any) -> str:
        marker.write_text(str(x), encoding="utf-8")
        return "x"

    fresh = engine._fresh

    def with_udf(base: Any) -> Any:
        session = fresh(base)
        session.udf.register("leak", leak, "string")
        return session

    monkeypatch.setattr(engine, "_fresh", with_udf)
    return marker


def test_a_udf_registered_in_the_session_is_refused_and_never_runs(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python UDF registered in the very session that runs the term (as a cluster's
    extension or a shared notebook session would have it) writes a marker file when it runs;
    the custom term calls it by its plain name. Refused, named, and the marker never appears."""
    from tests.evidence.test_evaluate import repo_with_custom_query
    from workbench.evidence.engines import spark as engine

    marker = _leaky_udf_in_every_session(tmp_path, monkeypatch)
    # The attack is real: in such a session the UDF runs and leaves its marker.
    probe = engine._fresh(spark)
    assert probe.sql("SELECT leak('probe') AS v").collect()[0]["v"] == "x"
    assert marker.read_text(encoding="utf-8") == "probe"
    marker.unlink()

    root = repo_with_custom_query(
        tmp_path, "SELECT count(*) AS value FROM freshness_lags WHERE leak(source) = 'x'"
    )
    run = evaluate(root, "spark")
    f = next(f for f in run["findings"] if f["term"] == "custom")
    assert f["status"] == "error", f
    assert f["reason"].startswith("SQL refused") and "leak()" in f["reason"], f["reason"]
    assert not marker.exists()


@pytest.fixture
def catalog_functions(spark: Any) -> Any:
    """A catalog table `payroll` and two persistent SQL functions that read it: `somedb.pay`
    and `default.pay2` (found by its plain name, `pay2`)."""
    spark.sql("DROP TABLE IF EXISTS payroll")
    spark.createDataFrame([(74231,)], ["salary"]).write.saveAsTable("payroll")
    spark.sql("CREATE DATABASE IF NOT EXISTS somedb")
    body = "RETURNS INT RETURN SELECT max(salary) FROM default.payroll"
    spark.sql(f"CREATE OR REPLACE FUNCTION somedb.pay(x INT) {body}")
    spark.sql(f"CREATE OR REPLACE FUNCTION default.pay2(x INT) {body}")
    yield spark
    spark.sql("DROP FUNCTION IF EXISTS somedb.pay")
    spark.sql("DROP FUNCTION IF EXISTS default.pay2")
    spark.sql("DROP DATABASE IF EXISTS somedb")
    spark.sql("DROP TABLE IF EXISTS payroll")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT somedb.pay(1) AS value",
        "SELECT max(pay2(1)) AS value FROM freshness_lags",
    ],
)
def test_a_persistent_catalog_function_is_refused_on_spark(
    catalog_functions: Any, tmp_path: Path, query: str
) -> None:
    from tests.evidence.test_evaluate import repo_with_custom_query

    # The attack is real: the function reads the catalog table when called.
    assert catalog_functions.sql("SELECT somedb.pay(1) AS v").collect()[0]["v"] == 74231
    root = repo_with_custom_query(tmp_path, query)
    run = evaluate(root, "spark")
    f = next(f for f in run["findings"] if f["term"] == "custom")
    assert "74231" not in json.dumps(run), f
    assert f["status"] == "error", f
    assert f["reason"].startswith("SQL refused") and "pay" in f["reason"], f["reason"]


# --------------------------------------------------------------------------- the plan


@pytest.fixture
def plan_session(spark: Any, tmp_path: Path) -> Any:
    """A fresh session holding the declared view `freshness_lags` (a Parquet file), a Python
    UDF `leak` and a temporary SQL function `sqlf`, beside the catalog's `payroll`."""
    from workbench.evidence.engines import spark as engine

    session = engine._fresh(spark)
    session.range(3).toDF("n").write.parquet(str(tmp_path / "lags"))
    session.read.parquet(str(tmp_path / "lags")).createOrReplaceTempView("freshness_lags")
    session.udf.register("leak", lambda x: x, "string")
    session.sql("CREATE TEMPORARY FUNCTION sqlf(x INT) RETURNS INT RETURN x + 1")
    spark.sql("DROP TABLE IF EXISTS payroll")
    spark.createDataFrame([(74231,)], ["salary"]).write.saveAsTable("payroll")
    spark.sql("CREATE OR REPLACE VIEW payroll_view AS SELECT * FROM payroll")
    yield session
    spark.sql("DROP VIEW IF EXISTS payroll_view")
    spark.sql("DROP TABLE IF EXISTS payroll")


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT max(leak(n)) AS value FROM freshness_lags", "PythonUDF"),
        ("SELECT sqlf(1) AS value", "SQLScalarFunction"),
        (
            "SELECT reflect('java.lang.System', 'getProperty', 'user.home') AS value",
            "CallMethodViaReflection",
        ),
        ("SELECT input_file_name() AS value FROM freshness_lags", "InputFileName"),
        ("SELECT user AS value", "CurrentUser"),
        ("SELECT max(salary) AS value FROM payroll", "payroll"),
        (
            "SELECT (SELECT max(salary) FROM payroll) + count(*) AS value FROM freshness_lags",
            "payroll",
        ),
        (
            "SELECT count(*) AS value FROM freshness_lags WHERE n IN (SELECT salary FROM payroll)",
            "payroll",
        ),
        ("SELECT max(salary) AS value FROM payroll_view", "payroll_view"),
    ],
)
def test_the_analyzed_plan_refuses_user_functions_and_undeclared_relations(
    plan_session: Any, sql: str, named: str
) -> None:
    """Defence in depth, independent of the SQL text: what Spark resolved the names to."""
    from workbench.evidence.engines.spark_plan import refuse_foreign_plan

    with pytest.raises(SqlRefused) as info:
        refuse_foreign_plan(plan_session.sql(sql), VIEWS)
    assert named in info.value.reason, info.value.reason


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) AS value FROM freshness_lags",
        "WITH s AS (SELECT n FROM freshness_lags) SELECT max(n) + (SELECT count(*) FROM s) AS value FROM s",
        "SELECT count(*) AS value FROM range(3) CROSS JOIN (VALUES (1), (2)) AS t(x)",
        "SELECT max(x) AS value FROM freshness_lags LATERAL VIEW explode(array(n, 1)) t AS x",
        "SELECT percentile(n, 0.5) + unix_micros(now()) * 0 AS value FROM freshness_lags",
    ],
)
def test_the_analyzed_plan_accepts_builtins_over_declared_views(
    plan_session: Any, sql: str
) -> None:
    from workbench.evidence.engines.spark_plan import refuse_foreign_plan

    refuse_foreign_plan(plan_session.sql(sql), VIEWS)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("SELECT count(*) AS value FROM freshness_lags WHERE leak(source) = 'x'", "PythonUDF"),
        ("SELECT max(salary) AS value FROM payroll", "payroll"),
    ],
)
def test_if_the_text_guard_missed_a_udf_the_plan_walk_still_stops_it(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str, named: str
) -> None:
    """Defence in depth through `evaluate`: with the SQL text guard disabled (as if it had a
    hole), the analyzed plan is refused before any action: the UDF never runs, the catalog
    table's value never reaches the findings."""
    from tests.evidence.test_evaluate import repo_with_custom_query
    from workbench.evidence import sql_guard
    from workbench.evidence.engines.spark_sql import to_spark

    marker = _leaky_udf_in_every_session(tmp_path, monkeypatch)
    monkeypatch.setattr(sql_guard, "guard_for_spark", lambda sql, views: to_spark(sql))
    spark.sql("DROP TABLE IF EXISTS payroll")
    spark.createDataFrame([(74231,)], ["salary"]).write.saveAsTable("payroll")
    try:
        root = repo_with_custom_query(tmp_path, query)
        run = evaluate(root, "spark")
    finally:
        spark.sql("DROP TABLE IF EXISTS payroll")
    f = next(f for f in run["findings"] if f["term"] == "custom")
    assert f["status"] == "error", f
    assert f["reason"].startswith("SQL refused") and named in f["reason"], f["reason"]
    assert "74231" not in json.dumps(run)
    assert not marker.exists()


# --------------------------------------------------------------------------- the list


def test_the_allow_list_is_reviewed_against_the_running_spark(spark: Any) -> None:
    """Every built-in of this Spark is either allowed or refused with a reason (a Spark
    upgrade that adds functions fails here until they are reviewed), and every allowed name
    is a built-in of this Spark (no typo, no vendor name, nothing the session added)."""
    from workbench.evidence.spark_functions import REFUSED_FUNCTIONS, SPARK_FUNCTIONS

    builtins = {
        str(r[0]).lower()
        for r in spark.sql("SHOW SYSTEM FUNCTIONS").collect()
        if str(r[0])[:1].isalpha()  # operators (+, <=>, …) are syntax, not calls
    }
    assert builtins, "SHOW SYSTEM FUNCTIONS listed nothing"
    unreviewed = builtins - SPARK_FUNCTIONS - set(REFUSED_FUNCTIONS)
    assert not unreviewed, f"built-ins of this Spark not yet reviewed: {sorted(unreviewed)}"
    assert not SPARK_FUNCTIONS - builtins, sorted(SPARK_FUNCTIONS - builtins)
    assert not SPARK_FUNCTIONS & set(REFUSED_FUNCTIONS)
    for name in sorted(REFUSED_FUNCTIONS):
        reasons = []
        for args in ("", "'a'", "'a', 'b'", "'a', 'b', 'c'"):  # an arity sqlglot accepts
            with pytest.raises(SqlRefused) as info:
                guard_for_spark(f"SELECT {name}({args}) AS value", VIEWS)
            reasons.append(info.value.reason)
        # named, or refused for its reason under the name sqlglot writes (random → rand)
        assert any(f"{name}()" in r or REFUSED_FUNCTIONS[name] in r for r in reasons), reasons
