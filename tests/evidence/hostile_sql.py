"""Hostile contract SQL, shared by every engine's guard tests: the DuckDB sandbox's
(`test_sandbox.py`, `test_evaluate.py`) and the Spark engine's (`test_spark_engine.py`), so
that both refuse exactly the same cases."""

from __future__ import annotations

# Anything but one read-only SELECT.
NON_SELECT: list[str] = [
    "SELECT 1; SELECT 2",
    "SELECT 1; DROP VIEW scores",
    "INSERT INTO scores VALUES (now(), 1, 'x')",
    "UPDATE scores SET score = 1",
    "DELETE FROM scores",
    "CREATE TABLE t AS SELECT 1",
    "DROP VIEW scores",
    "ALTER VIEW scores RENAME TO s",
    "DETACH memory",
    "CALL pragma_version()",
    "USE memory",
    "CHECKPOINT",
    "VACUUM",
    "BEGIN TRANSACTION",
    "EXPLAIN ANALYZE SELECT 1",
    "SET VARIABLE x = 1",
    "PREPARE p AS SELECT 1",
    "CREATE MACRO m() AS 1",
    "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
    "",
    "SELECT FROM WHERE",
]

# Reads of files, the network or the catalog, with the name the refusal must give.
FILE_ACCESS: list[tuple[str, str]] = [
    ("SELECT * FROM scores, LATERAL read_csv('/etc/passwd')", "read_csv()"),
    ("SELECT * FROM scores WHERE segment IN (SELECT * FROM read_text('/x'))", "read_text()"),
    ("SELECT * FROM scores UNION ALL SELECT * FROM parquet_scan('x')", "parquet_scan()"),
    ("SELECT * FROM iceberg_scan('x')", "iceberg_scan()"),
    ("SELECT * FROM delta_scan('x')", "delta_scan()"),
    ("SELECT * FROM sqlite_scan('x', 't')", "sqlite_scan()"),
    ("SELECT * FROM parquet_metadata('x')", "parquet_metadata()"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings()"),
    ("SELECT * FROM 's3://bucket/x.parquet'", "s3://bucket/x.parquet"),
    ('SELECT * FROM "scores.csv"', "scores.csv"),
    ("SHOW '/etc/passwd'", "/etc/passwd"),
]

# Through `evaluate`: `{secret}` is an unregistered file holding "hunter2", `{dir}` a
# directory nothing may be written to. Every one must end as `error`, nothing leaked.
THROUGH_EVALUATE: list[str] = [
    "SELECT count(*) AS value FROM read_csv('{secret}')",
    "SELECT count(*) AS value FROM '{secret}'",
    "SELECT count(*) AS value FROM read_text('{secret}')",
    "SELECT count(*) AS value FROM (SELECT 1) CROSS JOIN glob('{dir}/*')",
    "COPY (SELECT 1 AS value) TO '{dir}/written.csv'",
    "ATTACH '{dir}/x.duckdb' AS x",
    "INSTALL httpfs",
    "SELECT count(*) AS value FROM threshold_config",
]
