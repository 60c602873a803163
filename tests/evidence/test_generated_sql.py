"""Generated check SQL runs without the untrusted-SQL guard (`Sandbox.query_generated`), so
contract text must never reach it unescaped: hostile term fields stay one literal or one
identifier, the SQL stays one SELECT over the registered views, and nothing is read or
written outside them. Batched checks give the same findings as per-term checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from pydantic import TypeAdapter

from tests.evidence.conftest import copy_to
from workbench.evidence import batch
from workbench.evidence.checks import bind_views, generated_sql, lit, run_check
from workbench.evidence.sandbox import Sandbox, SnapshotFile, guard_read_only
from workbench.model.terms import Term

CLOCK = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TERM = TypeAdapter(Term)


def T(**fields):  # type: ignore[no-untyped-def]
    return TERM.validate_python({"id": "t", "owner": "someone", **fields})


def hostile(secret: Path, out: Path) -> list[str]:
    """Strings that would read `secret` or write `out` if pasted into SQL unescaped."""
    return [
        f"x') UNION ALL SELECT * FROM read_csv('{secret}') --",
        f"x'; COPY (SELECT 1) TO '{out}'; --",
        f"x\" FROM read_csv('{secret}') --",
        f"score\" , (SELECT * FROM '{secret}') AS \"y",
        "x\\'); ATTACH 'evil.duckdb' AS e; --",
        "x'||(SELECT token FROM read_csv('" + str(secret) + "'))||'",
    ]


def hostile_terms(value: str) -> list:  # type: ignore[type-arg]
    return [
        T(kind="freshness", fail_after="PT24H", sources=[value, "app"]),
        T(kind="calibration", calibration_reference="card", range_min=0, range_max=1, score=value),
        T(kind="distribution_shift", reference="ref", column=value),
        T(kind="representation", attribute=value, groups={value: {"min": 0, "max": 1}}),
        T(kind="decision_threshold", name=value, value=0.5, change_cosigner="someone"),
        # (living_attestation assertion ids are pattern-checked by the model: no quotes)
    ]


def _leaves(obj: object):  # type: ignore[no-untyped-def]
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            yield item


def test_hostile_term_fields_stay_literals_in_generated_sql(tmp_path: Path) -> None:
    secret, out = tmp_path / "secret.csv", tmp_path / "written.csv"
    con = duckdb.connect()
    for value in hostile(secret, out):
        for term in hostile_terms(value):
            sql = bind_views(generated_sql(term, CLOCK, {"observed_at"}), {"reference": "ev_x"})
            # The full untrusted-SQL guard accepts it: exactly one SELECT, no table
            # function, no file path as a table, i.e. the value did not become SQL.
            assert guard_read_only(sql)
            statements = duckdb.extract_statements(sql)
            assert [s.type for s in statements] == [duckdb.StatementType.SELECT]
            tree = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
            # ...and the hostile text is one whole string or name in the parse tree.
            assert value in set(_leaves(json.loads(tree))), (term.kind, value)
        # The batched forms too (file names are generated, values hostile).
        for term in hostile_terms(value)[:3]:
            item = batch.BatchItem(0, term, {}, CLOCK)
            assert batch.group_key(item) is not None
        for sql in (
            batch.freshness_batch_sql(hostile_terms(value)[0], CLOCK, [str(secret)]),
            batch.calibration_batch_sql(hostile_terms(value)[1], [str(secret)]),
            batch.shift_batch_sql(
                hostile_terms(value)[2], [(str(secret), str(secret))], [str(secret)], [str(secret)]
            ),
        ):
            statements = duckdb.extract_statements(sql)
            assert [s.type for s in statements] == [duckdb.StatementType.SELECT]
    con.close()


def test_hostile_term_fields_cannot_read_or_write_through_run_check(tmp_path: Path) -> None:
    secret, out = tmp_path / "secret.csv", tmp_path / "written.csv"
    secret.write_text("token\nhunter2\n", encoding="utf-8")
    lags = tmp_path / "lags.csv"
    lags.write_text("source,updated_at,available_at\napp,2026-11-27 07:00:00,2026-11-27 08:00:00\n")
    scores = copy_to(tmp_path / "scores.parquet", "SELECT 0.5::DOUBLE AS score")
    files = {
        "freshness_lags": SnapshotFile(lags, "csv"),
        "score_samples": SnapshotFile(scores, "parquet"),
        "reference": SnapshotFile(scores, "parquet"),
    }
    with Sandbox(files, timeout_s=10) as sb:
        for value in hostile(secret, out):
            for term in hostile_terms(value)[:3]:
                try:
                    result = run_check(sb, term, CLOCK)
                except Exception as exc:  # noqa: BLE001 - a failed query is fine; a leak is not
                    text = str(exc)
                else:
                    text = json.dumps(result.__dict__, default=str)
                assert "hunter2" not in text
    assert not out.exists() and not (tmp_path / "evil.duckdb").exists()
    assert secret.read_text() == "token\nhunter2\n"


def test_batched_checks_match_per_term_checks(tmp_path: Path) -> None:
    # Three files per kind, with nulls, pending rows and an empty live file.
    paths = {}
    for i in range(3):
        paths[("lags", i)] = copy_to(
            tmp_path / f"lags{i}.parquet",
            f"SELECT CASE WHEN r % 3 = 0 THEN 'crm' ELSE 'web' END AS source,"
            f" TIMESTAMPTZ '2026-11-26 00:00:00+00' + to_seconds(r * 97 + {i}) AS updated_at,"
            f" CASE WHEN r % 11 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-11-26 00:00:00+00'"
            f" + to_seconds(r * 97 + {i} + (r * 7919) % 40000) END AS available_at"
            f" FROM range({200 + i * 50}) t(r)",
        )
        n = 0 if i == 2 else 300
        paths[("live", i)] = copy_to(
            tmp_path / f"live{i}.parquet",
            f"SELECT CASE WHEN r % 17 = 0 THEN NULL ELSE ((r * 37 + {i}) % 101) / 100.0 END"
            f"::DOUBLE AS score FROM range({n}) t(r)",
        )
        paths[("ref", i)] = copy_to(
            tmp_path / f"ref{i}.parquet",
            f"SELECT ((r * 53 + {i * 3}) % 97) / 97.0::DOUBLE AS score FROM range(250) t(r)",
        )
    terms = {
        "fresh": T(kind="freshness", fail_after="PT2H", warn_after="PT1H", percentile=90),
        "range": T(kind="calibration", calibration_reference="c", range_min=0.05, range_max=0.9),
        "shift": T(kind="distribution_shift", reference="ref", bins=7),
        "shift_w": T(kind="distribution_shift", reference="ref", binning="equal_width", bins=5),
    }
    views = {
        "fresh": {"freshness_lags": "lags"},
        "range": {"score_samples": "live"},
        "shift": {"score_samples": "live", "reference": "ref"},
        "shift_w": {"score_samples": "live", "reference": "ref"},
    }
    items, expected = [], {}
    for name, term in terms.items():
        for i in range(3):
            files = {v: paths[(kind, i)].resolve() for v, kind in views[name].items()}
            key = len(items)
            items.append(batch.BatchItem(key, term, files, CLOCK))
            snaps = {v: SnapshotFile(p, "parquet") for v, p in files.items()}
            with Sandbox(snaps, timeout_s=10) as sb:
                expected[key] = run_check(sb, term, CLOCK)
    readable = [SnapshotFile(p.resolve(), "parquet") for p in paths.values()]
    with Sandbox({}, readable=readable, timeout_s=10) as sb:
        rows = batch.run_batches(sb, items)
    from workbench.evidence.checks import judge_rows

    assert len(rows) >= 9  # the empty live file's terms fall back to their own SQL
    for key, got in rows.items():
        result = judge_rows(items[key].term, got, CLOCK)
        want = expected[key]
        assert (result.status, result.observed, result.reason, result.details) == (
            want.status,
            want.observed,
            want.reason,
            want.details,
        )


def test_file_with_the_batch_file_column_is_never_batched(tmp_path: Path) -> None:
    # An untrusted file naming another file in a column called like the batch's file-name
    # column must not lend its rows to that file's term: it runs on its own SQL instead.
    good = copy_to(tmp_path / "good.parquet", "SELECT 0.5::DOUBLE AS score")
    evil = copy_to(
        tmp_path / "evil.parquet",
        f"SELECT 5.0::DOUBLE AS score, {lit(str(good.resolve()))} AS {batch.FILE_COL.upper()}",
    )
    term = T(kind="calibration", calibration_reference="c", range_min=0, range_max=1)
    items = [
        batch.BatchItem(0, term, {"score_samples": good.resolve()}, CLOCK),
        batch.BatchItem(1, term, {"score_samples": evil.resolve()}, CLOCK),
        batch.BatchItem(2, term, {"score_samples": good.resolve()}, CLOCK),
    ]
    readable = [SnapshotFile(p.resolve(), "parquet") for p in (good, evil)]
    with Sandbox({}, readable=readable, timeout_s=10) as sb:
        rows = batch.run_batches(sb, items)
    assert 1 not in rows
    assert [r["outside"] for r in rows[0]] == [0] and rows[0] == rows[2]


def test_query_generated_is_still_locked_down(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n", encoding="utf-8")
    scores = copy_to(tmp_path / "scores.parquet", "SELECT 0.5::DOUBLE AS score")
    with Sandbox({}, readable=[SnapshotFile(scores, "parquet")], timeout_s=10) as sb:
        assert sb.query_generated(f"SELECT count(*) FROM read_parquet('{scores}')").rows == [(1,)]
        with pytest.raises(Exception, match="(?i)permission|not allowed|disabled"):
            sb.query_generated(f"SELECT * FROM read_csv('{secret}')")
        with pytest.raises(Exception, match="(?i)permission|not allowed|disabled|lock"):
            sb.query_generated(f"COPY (SELECT 1) TO '{tmp_path / 'w.csv'}'")
    assert not (tmp_path / "w.csv").exists()


def _lags(path: Path, i: int) -> Path:
    return copy_to(
        path,
        f"SELECT CASE WHEN r % 3 = 0 THEN 'crm' ELSE 'web' END AS source,"
        f" TIMESTAMPTZ '2026-11-26 00:00:00+00' + to_seconds(r * 97 + {i}) AS updated_at,"
        f" CASE WHEN r % 11 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-11-26 00:00:00+00'"
        f" + to_seconds(r * 97 + {i} + (r * 7919) % 40000) END AS available_at"
        f" FROM range({600 + i * 50}) t(r)",
    )


class Counting:
    """A sandbox's `query_generated`, counted (how many batch queries ran)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb, self.queries = sb, []  # type: ignore[var-annotated]
        self.inner = sb.query_generated
        sb.query_generated = self  # type: ignore[method-assign]

    def __call__(self, sql: str):  # type: ignore[no-untyped-def]
        self.queries.append(sql)
        return self.inner(sql)


def _per_term(term, files, clock):  # type: ignore[no-untyped-def]
    snaps = {v: SnapshotFile(p, "parquet") for v, p in files.items()}
    with Sandbox(snaps, timeout_s=10) as sb:
        return run_check(sb, term, clock)


def _same(term, rows, want, clock) -> None:  # type: ignore[no-untyped-def]
    from workbench.evidence.checks import judge_rows

    got = judge_rows(term, rows, clock)
    assert (got.status, got.observed, got.reason, got.details) == (
        want.status,
        want.observed,
        want.reason,
        want.details,
    )


def test_freshness_captured_at_different_times_is_one_batch_query(tmp_path: Path) -> None:
    # Evidence uploaded at different moments used to split the freshness batch into one
    # query per clock (per contract). Each file is now judged at its own clock in one
    # query, with the same findings as the per-term SQL; one file at two clocks too.
    files = [_lags(tmp_path / f"lags{i}.parquet", i).resolve() for i in range(4)]
    term = T(kind="freshness", fail_after="PT2H", warn_after="PT1H", percentile=90)
    clocks = [CLOCK - timedelta(hours=h) for h in (0, 20, 25, 30)]
    items = [
        batch.BatchItem(k, term, {"freshness_lags": f}, c)
        for k, (f, c) in enumerate(zip(files, clocks, strict=True))
    ]
    items.append(batch.BatchItem(4, term, {"freshness_lags": files[0]}, clocks[2]))
    readable = [SnapshotFile(p, "parquet") for p in files]
    notes: list[str] = []
    with Sandbox({}, readable=readable, timeout_s=10) as sb:
        counting = Counting(sb)
        rows = batch.run_batches(sb, items, notes)
    checks = [q for q in counting.queries if "quantile_cont" in q]
    assert len(checks) == 1 and notes == []
    assert sorted(rows) == [0, 1, 2, 3, 4]
    observed = []
    for item in items:
        want = _per_term(term, item.files, item.clock)
        _same(term, rows[item.key], want, item.clock)
        observed.append(want.observed)
    assert observed[0] != observed[4]  # the same file at another clock is judged anew


def test_a_failing_batch_is_split_and_said_never_silent(tmp_path: Path) -> None:
    # One file holds a score that is not a number: its batch query fails. The batch is
    # retried in halves, the good files stay batched, the bad term is left to its own SQL
    # (which reports it), and every fallback is named with why.
    term = T(kind="calibration", calibration_reference="c", range_min=0.05, range_max=0.9)
    files = []
    for i in range(6):
        bad = "'not a number'" if i == 4 else f"CAST(((r * 37 + {i}) % 101) / 100.0 AS VARCHAR)"
        files.append(
            copy_to(
                tmp_path / f"live{i}.parquet",
                f"SELECT CASE WHEN r = 3 THEN {bad} ELSE"
                f" CAST(((r * 37 + {i}) % 101) / 100.0 AS VARCHAR) END AS score"
                " FROM range(50) t(r)",
            ).resolve()
        )
    items = [batch.BatchItem(k, term, {"score_samples": f}, CLOCK) for k, f in enumerate(files)]
    notes: list[str] = []
    with Sandbox({}, readable=[SnapshotFile(p, "parquet") for p in files], timeout_s=10) as sb:
        rows = batch.run_batches(sb, items, notes)
    assert sorted(rows) == [0, 1, 2, 3, 5]
    assert "the calibration batch query of 6 terms failed" in notes[0]
    assert "retried as two queries of 3 and 3" in notes[0]
    assert "not a number" in notes[0]  # why: DuckDB's own message
    assert any("of term 't' failed" in n and "runs its own query" in n for n in notes)
    for key, got in rows.items():
        _same(term, got, _per_term(term, items[key].files, CLOCK), CLOCK)


def test_batches_are_bounded_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A query's memory grows with its data: files are grouped up to CHUNK_BYTES per query,
    # with the same results as one query.
    files = [_lags(tmp_path / f"lags{i}.parquet", i).resolve() for i in range(5)]
    sizes = [f.stat().st_size for f in files]
    term = T(kind="freshness", fail_after="PT2H")
    items = [batch.BatchItem(k, term, {"freshness_lags": f}, CLOCK) for k, f in enumerate(files)]
    readable = [SnapshotFile(p, "parquet") for p in files]
    monkeypatch.setitem(batch.CHUNK_BYTES, "freshness", sizes[0] + sizes[1])
    with Sandbox({}, readable=readable, timeout_s=10) as sb:
        counting = Counting(sb)
        rows = batch.run_batches(sb, items)
    queries = len([q for q in counting.queries if "quantile_cont" in q])
    assert 3 <= queries <= 4  # two files fit a query; the larger ones get their own
    for item in items:
        _same(term, rows[item.key], _per_term(term, item.files, CLOCK), CLOCK)


def test_a_file_with_a_reserved_column_is_never_batched(tmp_path: Path) -> None:
    # The clocks of a freshness batch are joined on reserved column names: a file that
    # has one (untrusted) could stand in for them, so it runs on its own, and says so.
    good = _lags(tmp_path / "good.parquet", 0).resolve()
    evil = copy_to(
        tmp_path / "evil.parquet",
        f"SELECT *, TIMESTAMPTZ '2030-01-01 00:00:00+00' AS {batch.RESERVED}_clock"
        f" FROM read_parquet('{good}')",
    ).resolve()
    term = T(kind="freshness", fail_after="PT2H")
    items = [
        batch.BatchItem(0, term, {"freshness_lags": good}, CLOCK),
        batch.BatchItem(1, term, {"freshness_lags": evil}, CLOCK - timedelta(hours=3)),
        batch.BatchItem(2, term, {"freshness_lags": good}, CLOCK - timedelta(hours=1)),
    ]
    notes: list[str] = []
    readable = [SnapshotFile(p, "parquet") for p in (good, evil)]
    with Sandbox({}, readable=readable, timeout_s=10) as sb:
        rows = batch.run_batches(sb, items, notes)
    assert sorted(rows) == [0, 2]
    assert any("runs its own query" in n and batch.RESERVED in n for n in notes)
