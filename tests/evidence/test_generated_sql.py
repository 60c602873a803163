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


def test_clock_is_part_of_the_freshness_batch_key() -> None:
    term = T(kind="freshness", fail_after="PT2H")
    a = batch.BatchItem(0, term, {}, CLOCK)
    b = batch.BatchItem(1, term, {}, CLOCK - timedelta(hours=1))
    assert batch.group_key(a) != batch.group_key(b)
