from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.evidence.hostile_sql import FILE_ACCESS, NON_SELECT
from workbench.evidence.errors import (
    QueryCancelled,
    QueryFailed,
    QueryTimeout,
    SandboxError,
    SqlRefused,
)
from workbench.evidence.sandbox import Sandbox, SnapshotFile, guard_read_only

RUNAWAY = "SELECT count(*) FROM range(100000000) a, range(100000) b"


@pytest.fixture
def sandbox(evidence_dir: Path):
    files = {
        "scores": SnapshotFile(evidence_dir / "scores.csv", "csv"),
        "groups": SnapshotFile(evidence_dir / "groups.parquet", "parquet"),
        "assertions": SnapshotFile(evidence_dir / "assertions.jsonl", "jsonl"),
    }
    with Sandbox(files, timeout_s=5.0) as sb:
        yield sb


def raw(sb: Sandbox, sql: str):
    """Run SQL directly on the connection, bypassing the guard."""
    return sb.connection.execute(sql).fetchall()


# ---------------------------------------------------------------- views work


def test_csv_parquet_jsonl_views_give_correct_aggregates(sandbox: Sandbox) -> None:
    r = sandbox.query("SELECT round(avg(score), 6), count(*), max(scored_at)::VARCHAR FROM scores")
    assert r.rows == [(0.5, 3, "2026-03-02 09:30:00")]
    r = sandbox.query(
        'SELECT "group", count * 1.0 / sum(count) OVER () AS share FROM groups '
        "WHERE attribute = 'sex' ORDER BY 1"
    )
    assert [(g, round(s, 3)) for g, s in r.rows] == [("f", 0.4), ("m", 0.6)]
    r = sandbox.query("SELECT assertion_id, avg(passed::INT) FROM assertions GROUP BY 1 ORDER BY 1")
    assert r.rows == [("a1", 0.5), ("a2", 1.0)]
    assert r.columns == ["assertion_id", "avg(CAST(passed AS INTEGER))"]
    assert r.types == ["VARCHAR", "DOUBLE"]


def test_json_array_view(tmp_path: Path) -> None:
    f = tmp_path / "t.json"
    f.write_text('[{"source":"crm","n":2},{"source":"erp","n":5}]', encoding="utf-8")
    with Sandbox({"t": SnapshotFile(f, "json")}) as sb:
        assert sb.query("SELECT sum(n), string_agg(source, ',' ORDER BY source) FROM t").rows == [
            (7, "crm,erp")
        ]


def test_params_max_rows_and_paging(sandbox: Sandbox) -> None:
    r = sandbox.query("SELECT score FROM scores WHERE segment = ? ORDER BY score", ["a"])
    assert r.rows == [(0.25,), (0.5,)] and not r.truncated
    r = sandbox.query("SELECT * FROM range(10)", max_rows=4)
    assert r.truncated and len(r.rows) == 4
    assert sandbox.count_rows("SELECT * FROM range(100000) t(x) WHERE x % 2 = 0") == 50000
    page = sandbox.fetch_page("SELECT x FROM range(100000) t(x) ORDER BY x DESC", 99990, 20)
    assert page.rows == [(x,) for x in range(9, -1, -1)]
    page = sandbox.fetch_page("SELECT score FROM scores WHERE segment = ?", 1, 1, ["a"])
    assert len(page.rows) == 1


# ---------------------------------------------------------------- cannot read


def test_cannot_read_etc_passwd(sandbox: Sandbox) -> None:
    with pytest.raises(SqlRefused, match=r"read_csv\(\)"):
        sandbox.query("SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(Exception, match="Permission Error"):
        raw(sandbox, "SELECT * FROM read_csv('/etc/passwd')")


def test_cannot_read_file_via_replacement_scan(sandbox: Sandbox) -> None:
    with pytest.raises(SqlRefused, match="/etc/hostname"):
        sandbox.query("SELECT * FROM '/etc/hostname'")
    # The lockdown alone disables replacement scans: the string is just an unknown table.
    with pytest.raises(Exception, match="does not exist"):
        raw(sandbox, "SELECT * FROM '/etc/hostname'")


def test_cannot_read_unregistered_sibling_file(sandbox: Sandbox, evidence_dir: Path) -> None:
    secret = evidence_dir / "secret.csv"
    for sql in (
        f"SELECT * FROM read_csv('{secret}')",
        f"SELECT * FROM '{secret}'",
        f"SELECT * FROM read_text('{secret}')",
        f"SELECT * FROM glob('{evidence_dir}/*')",
        f"SELECT (SELECT count(*) FROM read_blob('{secret}')) AS n",
        f"WITH s AS (SELECT * FROM sniff_csv('{secret}')) SELECT * FROM s",
        f"SELECT * FROM query('SELECT * FROM read_csv(''{secret}'')')",
    ):
        with pytest.raises(SqlRefused):
            sandbox.query(sql)
    for sql in (
        f"SELECT * FROM read_csv('{secret}')",
        f"SELECT * FROM '{secret}'",
        f"SELECT * FROM read_text('{secret}')",
        f"SELECT * FROM glob('{evidence_dir}/*')",
    ):
        with pytest.raises(Exception, match="Permission Error") as info:
            raw(sandbox, sql)
        assert "secret-value-42" not in str(info.value)


def test_registered_file_by_path_is_refused_by_guard(sandbox: Sandbox, evidence_dir: Path) -> None:
    # Even the registered file must be queried through its view.
    with pytest.raises(SqlRefused, match="file path"):
        sandbox.query(f"SELECT * FROM '{evidence_dir / 'scores.csv'}'")


# ---------------------------------------------------------------- cannot write / escape


def test_cannot_write_a_file(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    with pytest.raises(SqlRefused, match="COPY"):
        sandbox.query(f"COPY (SELECT 1) TO '{target}'")
    with pytest.raises(Exception, match="Permission Error"):
        raw(sandbox, f"COPY (SELECT 1) TO '{target}'")
    with pytest.raises(Exception, match="Permission Error"):
        raw(sandbox, "COPY (SELECT 1) TO 'x.csv'")
    with pytest.raises(Exception, match="Permission Error"):
        raw(sandbox, f"EXPORT DATABASE '{tmp_path / 'dump'}'")
    assert not target.exists()
    assert not Path("x.csv").exists()
    assert not (tmp_path / "dump").exists()


def test_guard_protects_registered_file_from_overwrite(
    sandbox: Sandbox, evidence_dir: Path
) -> None:
    # allowed_paths grants write access to the registered files; only the guard
    # stops an overwrite (documented gap in Sandbox._lock_down).
    scores = evidence_dir / "scores.csv"
    before = scores.read_bytes()
    with pytest.raises(SqlRefused):
        sandbox.query(f"COPY (SELECT 1 AS x) TO '{scores}' (USE_TMP_FILE false)")
    assert scores.read_bytes() == before


def test_cannot_attach(sandbox: Sandbox, tmp_path: Path) -> None:
    db = tmp_path / "other.duckdb"
    with pytest.raises(SqlRefused, match="ATTACH"):
        sandbox.query(f"ATTACH '{db}' AS other")
    with pytest.raises(Exception, match="Permission Error"):
        raw(sandbox, f"ATTACH '{db}' AS other")
    assert not db.exists()


def test_cannot_install_or_load_extensions(sandbox: Sandbox) -> None:
    with pytest.raises(SqlRefused, match="INSTALL"):
        sandbox.query("INSTALL httpfs")
    with pytest.raises(SqlRefused, match="LOAD"):
        sandbox.query("LOAD httpfs")
    with pytest.raises(Exception, match="Permission Error"):
        raw(sandbox, "INSTALL httpfs")
    with pytest.raises(Exception, match="Permission Error"):
        raw(sandbox, "LOAD httpfs")
    with pytest.raises(SqlRefused, match=r"read_json\(\)"):
        sandbox.query("SELECT * FROM read_json('https://example.com/x.json')")


def test_cannot_set_anything(sandbox: Sandbox) -> None:
    for sql in (
        "SET threads=8",
        "RESET memory_limit",
        "SET enable_external_access=true",
        "SET lock_configuration=false",
        "PRAGMA memory_limit='10GB'",
    ):
        with pytest.raises(SqlRefused):
            sandbox.query(sql)
    for sql in (
        "SET threads=8",
        "SET memory_limit='10GB'",
        "SET enable_external_access=true",
        "SET lock_configuration=false",
        "RESET allowed_paths",
    ):
        with pytest.raises(Exception, match="locked"):
            raw(sandbox, sql)
    settings = sandbox.query(
        "SELECT current_setting('threads'), current_setting('enable_external_access'), "
        "current_setting('lock_configuration')"
    )
    assert settings.rows == [(2, False, True)]


@pytest.mark.parametrize("sql", NON_SELECT)
def test_guard_refuses_non_select(sql: str) -> None:
    with pytest.raises(SqlRefused):
        guard_read_only(sql)


def test_multiple_statements_message_names_them() -> None:
    with pytest.raises(SqlRefused, match="2 statements given \\(SELECT, DROP\\)"):
        guard_read_only("SELECT 1; DROP VIEW scores")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM scores",
        "  select 1 ;  ",
        "WITH s AS (SELECT * FROM scores) SELECT count(*) FROM s",
        "SELECT * FROM range(5) UNION ALL SELECT * FROM generate_series(1, 3)",
        "FROM scores",
        "DESCRIBE scores",
        "SUMMARIZE scores",
        "SELECT 'SELECT * FROM read_csv(''/etc/passwd'')' AS harmless_text",
    ],
)
def test_guard_accepts_read_only_selects(sql: str) -> None:
    assert guard_read_only(sql).rstrip().endswith(";") is False


def test_sandbox_rejects_bad_view_names_and_missing_files(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(SandboxError, match="invalid view name"):
        Sandbox({"Bad-Name": SnapshotFile(f, "csv")})
    with pytest.raises(SandboxError, match="invalid view name"):
        Sandbox({'x"; DROP': SnapshotFile(f, "csv")})
    with pytest.raises(SandboxError, match="not found"):
        Sandbox({"a": SnapshotFile(tmp_path / "missing.csv", "csv")})
    g = tmp_path / "glob[1].csv"
    g.write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(SandboxError, match="may not contain"):
        Sandbox({"a": SnapshotFile(g, "csv")})


def test_symlinked_evidence_is_resolved(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("x\n1\n2\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with Sandbox({"a": SnapshotFile(link, "csv")}) as sb:
        assert sb.query("SELECT sum(x) FROM a").rows == [(3,)]
        assert sb.files["a"].path == real.resolve()


def test_a_directory_a_dangling_link_or_a_link_loop_is_never_read(tmp_path: Path) -> None:
    # The files a batch may read are resolved on strings (many at once): a directory, a
    # link to nothing and a loop of links are refused as pathlib refused them.
    (tmp_path / "dir.parquet").mkdir()
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    (tmp_path / "l1.csv").symlink_to(tmp_path / "l2.csv")
    (tmp_path / "l2.csv").symlink_to(tmp_path / "l1.csv")
    with pytest.raises(SandboxError, match="not a regular file"):
        Sandbox({}, readable=[SnapshotFile(tmp_path / "dir.parquet", "parquet")])
    for name in ("dangling.csv", "l1.csv"):
        with pytest.raises(SandboxError, match="not found"):
            Sandbox({}, readable=[SnapshotFile(tmp_path / name, "csv")])


def test_path_with_quote_is_safe(tmp_path: Path) -> None:
    d = tmp_path / "it's"
    d.mkdir()
    f = d / "a.csv"
    f.write_text("x\n5\n", encoding="utf-8")
    with Sandbox({"a": SnapshotFile(f, "csv")}) as sb:
        assert sb.query("SELECT x FROM a").rows == [(5,)]


# ---------------------------------------------------------------- limits


def test_runaway_query_is_interrupted_by_time_limit(evidence_dir: Path) -> None:
    files = {"scores": SnapshotFile(evidence_dir / "scores.csv", "csv")}
    with Sandbox(files, timeout_s=0.5) as sb:
        start = time.perf_counter()
        with pytest.raises(QueryTimeout) as info:
            sb.query(RUNAWAY)
        wall = time.perf_counter() - start
        assert info.value.kind == "timeout"
        # Measured: ~2-5 ms after the deadline; allow generous slack on CI.
        assert 0.5 <= wall < 1.5
        # The connection is still usable afterwards.
        assert sb.query("SELECT count(*) FROM scores").rows == [(3,)]


def test_cancel_from_another_thread(evidence_dir: Path) -> None:
    files = {"scores": SnapshotFile(evidence_dir / "scores.csv", "csv")}
    with Sandbox(files, timeout_s=10.0) as sb:
        timer = threading.Timer(0.2, sb.cancel)
        timer.start()
        start = time.perf_counter()
        with pytest.raises(QueryCancelled):
            sb.query(RUNAWAY)
        assert time.perf_counter() - start < 2.0
        assert sb.query("SELECT 42").rows == [(42,)]


def test_memory_limit_is_enforced(evidence_dir: Path) -> None:
    files = {"scores": SnapshotFile(evidence_dir / "scores.csv", "csv")}
    # ~80 MB of list data: over a 64 MB limit, well under 512 MB.
    sql = "SELECT len(list(x)) FROM range(10000000) t(x)"
    with Sandbox(files, memory_limit="64MB", timeout_s=10.0) as sb:
        with pytest.raises(QueryFailed) as info:
            sb.query(sql)
        assert info.value.kind == "out_of_memory"
        assert "Out of Memory" in str(info.value)
        assert "Traceback" not in str(info.value)
        # Nothing spilled to disk: spilling is disabled.
        assert sb.query("SELECT current_setting('temp_directory')").rows == [("",)]
    with Sandbox(files, memory_limit="512MB", timeout_s=10.0) as sb:
        assert sb.query(sql).rows == [(10000000,)]


def test_duckdb_errors_become_query_failed(sandbox: Sandbox) -> None:
    with pytest.raises(QueryFailed) as info:
        sandbox.query("SELECT no_such_column FROM scores")
    assert info.value.kind == "error"
    assert "no_such_column" in info.value.message
    with pytest.raises(QueryFailed):
        sandbox.query("SELECT 1 / 0::INT, 'x'::INT")


def test_closed_sandbox_refuses_queries(evidence_dir: Path) -> None:
    sb = Sandbox({"scores": SnapshotFile(evidence_dir / "scores.csv", "csv")})
    sb.close()
    sb.close()
    with pytest.raises(SandboxError, match="closed"):
        sb.query("SELECT 1")


@pytest.mark.parametrize(("sql", "named"), FILE_ACCESS)
def test_guard_names_what_it_refuses(sql: str, named: str) -> None:
    with pytest.raises(SqlRefused) as info:
        guard_read_only(sql)
    assert named in info.value.reason


def test_importing_does_not_load_duckdb() -> None:
    import subprocess
    import sys

    code = (
        "import sys, workbench.evidence.sandbox, workbench.evidence.kinds, "
        "workbench.evidence.manifest; print('duckdb' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
