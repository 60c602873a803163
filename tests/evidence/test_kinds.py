from __future__ import annotations

from pathlib import Path

import pytest

from tests.evidence.conftest import copy_to
from workbench.evidence.errors import UnknownFormat, UnknownKind
from workbench.evidence.kinds import (
    KINDS,
    check_schema,
    detect_format,
    family_accepts,
    snapshot_file,
)
from workbench.evidence.sandbox import Sandbox


def problems_by_column(problems) -> dict[str | None, str]:
    return {p.column: p.message for p in problems}


def test_kind_names_and_required_columns() -> None:
    assert set(KINDS) == {
        "freshness_lags",
        "score_samples",
        "group_counts",
        "assertion_results",
        "threshold_config",
        "lineage_manifest",
        "custom",
    }
    fresh = KINDS["freshness_lags"]
    assert [(c.name, c.family, c.required, c.nullable) for c in fresh.columns] == [
        ("source", "VARCHAR", True, False),
        ("updated_at", "TIMESTAMP", True, False),
        ("available_at", "TIMESTAMP", True, True),
    ]
    assert KINDS["custom"].columns == []
    assert KINDS["threshold_config"].column("cosigned_by").nullable
    assert not KINDS["score_samples"].column("segment").required
    for kind in KINDS.values():
        assert kind.description
        assert all(c.description for c in kind.columns)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("A.CSV", "csv"),
        ("x.parquet", "parquet"),
        ("x.json", "json"),
        ("x.jsonl", "jsonl"),
        ("x.ndjson", "jsonl"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(Path(name)) == fmt


@pytest.mark.parametrize("name", ["x.txt", "x", "x.csv.gz", "x.xlsx"])
def test_detect_format_rejects_unknown_suffix(name: str) -> None:
    with pytest.raises(UnknownFormat, match="unsupported evidence file suffix"):
        detect_format(name)


def test_family_accepts() -> None:
    assert family_accepts("TIMESTAMP", "TIMESTAMP WITH TIME ZONE")
    assert family_accepts("TIMESTAMP", "DATE")
    assert family_accepts("TIMESTAMP", "TIMESTAMP_NS")
    assert not family_accepts("TIMESTAMP", "VARCHAR")
    assert family_accepts("DOUBLE", "DECIMAL(10,2)")
    assert family_accepts("DOUBLE", "UTINYINT")
    assert family_accepts("BIGINT", "HUGEINT")
    assert not family_accepts("BIGINT", "DOUBLE")
    assert family_accepts("BOOLEAN", "BOOLEAN")
    assert not family_accepts("BOOLEAN", "INTEGER")
    assert family_accepts("VARCHAR", "UUID")
    assert not family_accepts("VARCHAR", "INTEGER[]")
    assert not family_accepts("VARCHAR", "STRUCT(a INTEGER)")


def test_conforming_csv_has_no_problems(tmp_path: Path) -> None:
    f = tmp_path / "fresh.csv"
    f.write_text(
        "source,updated_at,available_at\n"
        "crm,2026-03-01 10:00:00,2026-03-01 11:00:00\n"
        "erp,2026-03-01 09:00:00,\n",  # empty = not yet available (nullable)
        encoding="utf-8",
    )
    assert check_schema(f, "freshness_lags") == []


def test_conforming_parquet_and_jsonl(tmp_path: Path) -> None:
    pq = copy_to(
        tmp_path / "scores.parquet",
        "SELECT TIMESTAMP '2026-03-01 10:00:00' + INTERVAL (i) HOUR AS scored_at, "
        "i / 10.0 AS score, 'seg' || (i % 2) AS segment FROM range(10) t(i)",
    )
    assert check_schema(pq, "score_samples") == []
    jl = tmp_path / "runs.jsonl"
    jl.write_text(
        '{"assertion_id":"a1","run_at":"2026-03-01T00:00:00Z","passed":true}\n'
        '{"assertion_id":"a2","run_at":"2026-03-02T00:00:00Z","passed":false}\n',
        encoding="utf-8",
    )
    assert check_schema(jl, "assertion_results") == []


def test_missing_and_mistyped_columns_are_named(tmp_path: Path) -> None:
    pq = copy_to(
        tmp_path / "thresholds.parquet",
        "SELECT 'cutoff' AS name, '0.7' AS value, 'yesterday' AS changed_at, 'p-ann' AS changed_by",
    )
    problems = check_schema(pq, "threshold_config")
    by_col = problems_by_column(problems)
    assert by_col == {
        "value": "expected DOUBLE, found VARCHAR",
        "changed_at": "expected TIMESTAMP, found VARCHAR",
        "cosigned_by": "missing column",
    }
    value = next(p for p in problems if p.column == "value")
    assert (value.expected, value.found) == ("DOUBLE", "VARCHAR")
    assert str(value) == f"{pq}: column 'value': expected DOUBLE, found VARCHAR"
    # Parquet has real types: a VARCHAR that would cast is still refused.
    assert all(p.file == str(pq) for p in problems)


def test_csv_varchar_accepted_only_if_every_value_casts(tmp_path: Path) -> None:
    ok = tmp_path / "ok.csv"
    # Dates mixed with timestamps: the sniffer gives up (VARCHAR) but all values cast.
    ok.write_text(
        "source,refreshed_at\ncrm,2026-03-01\nerp,2026-03-01 10:00:00\n",
        encoding="utf-8",
    )
    with Sandbox({"t": snapshot_file(ok, "lineage_manifest")}) as sb:
        assert sb.query("SELECT typeof(refreshed_at) FROM t LIMIT 1").rows == [("VARCHAR",)]
    assert check_schema(ok, "lineage_manifest") == []

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "source,refreshed_at\ncrm,2026-03-01 10:00:00\nerp,last tuesday\nx,soon\n",
        encoding="utf-8",
    )
    [problem] = check_schema(bad, "lineage_manifest")
    assert problem.column == "refreshed_at"
    assert "2 value(s) that do not convert" in problem.message
    assert "'last tuesday'" in problem.message or "'soon'" in problem.message


def test_group_labels_stay_text_and_nulls_are_reported(tmp_path: Path) -> None:
    f = tmp_path / "groups.csv"
    # 'f' alone would be sniffed as BOOLEAN false; kinds read VARCHAR columns as text.
    f.write_text("attribute,group,count\nsex,f,40\nsex,,60\n", encoding="utf-8")
    problems = check_schema(f, "group_counts")
    assert problems_by_column(problems) == {
        "group": "1 NULL or empty value(s), but the column is not nullable"
    }
    with Sandbox({"g": snapshot_file(f, "group_counts")}) as sb:
        assert sb.query('SELECT "group", count FROM g ORDER BY count').rows == [
            ("f", 40),
            (None, 60),
        ]


def test_count_with_fractions_is_mistyped(tmp_path: Path) -> None:
    f = tmp_path / "groups.csv"
    f.write_text("attribute,group,count\nsex,f,40.5\n", encoding="utf-8")
    assert problems_by_column(check_schema(f, "group_counts")) == {
        "count": "expected BIGINT, found DOUBLE"
    }


def test_column_names_match_case_insensitively(tmp_path: Path) -> None:
    f = tmp_path / "l.csv"
    f.write_text("Source,Refreshed_At\ncrm,2026-03-01\n", encoding="utf-8")
    assert check_schema(f, "lineage_manifest") == []


def test_unparsable_file_gives_one_problem(tmp_path: Path) -> None:
    j = tmp_path / "broken.json"
    j.write_text("{not json", encoding="utf-8")
    [problem] = check_schema(j, "custom")
    assert problem.column is None
    assert problem.message.startswith("cannot read as json:")
    assert "Malformed JSON" in problem.message
    fake = tmp_path / "fake.parquet"
    fake.write_text("a,b\n1,2\n", encoding="utf-8")
    [problem] = check_schema(fake, "custom")
    assert "cannot read as parquet" in problem.message


def test_non_utf8_csv_is_a_clear_problem(tmp_path: Path) -> None:
    f = tmp_path / "latin1.csv"
    # The bad byte is far past DuckDB's sniffing sample.
    rows = "".join(f"src{i},2026-03-01 10:00:00\n" for i in range(30000))
    f.write_bytes(
        ("source,refreshed_at\n" + rows).encode() + "caf\xe9,2026-03-01\n".encode("latin-1")
    )
    [problem] = check_schema(f, "lineage_manifest")
    assert "not UTF-8 encoded" in problem.message
    assert "0xe9" in problem.message


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    assert [p.message for p in check_schema(empty, "custom")] == ["file is empty"]
    assert [p.message for p in check_schema(tmp_path / "nope.csv", "custom")] == ["file not found"]
    assert "unsupported" in check_schema(tmp_path / "x.txt", "custom")[0].message


def test_unknown_kind_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(UnknownKind, match="unknown evidence kind 'latency'"):
        check_schema(f, "latency")


def test_schema_check_is_confined_to_the_file(tmp_path: Path) -> None:
    # A CSV whose content looks like SQL is just data.
    f = tmp_path / "evil.csv"
    f.write_text(
        "source,refreshed_at\n\"'); COPY x TO '/tmp/y'; --\",2026-03-01\n", encoding="utf-8"
    )
    assert check_schema(f, "lineage_manifest") == []
