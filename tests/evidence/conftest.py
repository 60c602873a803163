from __future__ import annotations

from pathlib import Path

import pytest


def copy_to(path: Path, sql: str, fmt: str = "parquet") -> Path:
    """Write a real file with DuckDB (no pyarrow): COPY (<sql>) TO path."""
    import duckdb

    con = duckdb.connect()
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"COPY ({sql}) TO '{quoted}' (FORMAT {fmt})")
    finally:
        con.close()
    return path


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    """A directory with a registered CSV/Parquet/JSONL trio and an unregistered secret CSV."""
    d = tmp_path / "snapshots"
    d.mkdir()
    (d / "scores.csv").write_text(
        "scored_at,score,segment\n"
        "2026-03-01 10:00:00,0.25,a\n"
        "2026-03-01 11:00:00,0.75,b\n"
        "2026-03-02 09:30:00,0.5,a\n",
        encoding="utf-8",
    )
    copy_to(
        d / "groups.parquet",
        "SELECT * FROM (VALUES ('sex','f',40::BIGINT),('sex','m',60::BIGINT),('age','18-30',25::BIGINT))"
        ' AS t(attribute, "group", count)',
    )
    (d / "assertions.jsonl").write_text(
        '{"assertion_id":"a1","run_at":"2026-03-01T00:00:00","passed":true}\n'
        '{"assertion_id":"a1","run_at":"2026-03-02T00:00:00","passed":false}\n'
        '{"assertion_id":"a2","run_at":"2026-03-02T00:00:00","passed":true}\n',
        encoding="utf-8",
    )
    (d / "secret.csv").write_text("token\nsecret-value-42\n", encoding="utf-8")
    return d
