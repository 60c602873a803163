"""The distribution-shift batch (one query over many reference / live pairs, files told
apart by DuckDB's `file_index`) gives exactly the findings of each term's own SQL, on the
cases its rewrite could get wrong: NULL, NaN and infinite scores, an empty side, a
reference shared by several live files, one file on both sides, and a hostile file that
names its rows after another file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evidence.conftest import copy_to
from tests.evidence.test_generated_sql import CLOCK, Counting, T, _per_term, _same
from workbench.evidence import batch
from workbench.evidence.errors import QueryFailed
from workbench.evidence.sandbox import Sandbox, SnapshotFile

SCORES = "CASE WHEN r % 13 = 0 THEN NULL WHEN r % 17 = 0 THEN 'nan'::DOUBLE"
SCORES += " WHEN r % 19 = 0 THEN 'inf'::DOUBLE WHEN r % 23 = 0 THEN '-inf'::DOUBLE"


def _scores(path: Path, n: int, salt: int) -> Path:
    return copy_to(
        path,
        f"SELECT {SCORES} ELSE ((r * 37 + {salt}) % 101) / 100.0 END::DOUBLE AS score"
        f" FROM range({n}) t(r)",
    ).resolve()


def _files(tmp_path: Path) -> dict[str, Path]:
    return {
        "ref_a": _scores(tmp_path / "ref_a.parquet", 400, 1),
        "ref_b": _scores(tmp_path / "ref_b.parquet", 250, 7),
        "ref_none": copy_to(  # only NULL and NaN: no reference scores at all
            tmp_path / "ref_none.parquet",
            "SELECT CASE WHEN r % 2 = 0 THEN NULL ELSE 'nan'::DOUBLE END AS score"
            " FROM range(20) t(r)",
        ).resolve(),
        "live_a": _scores(tmp_path / "live_a.parquet", 600, 3),
        "live_b": _scores(tmp_path / "live_b.parquet", 90, 5),
        "live_empty": copy_to(
            tmp_path / "live_empty.parquet", "SELECT 0.5::DOUBLE AS score WHERE false"
        ).resolve(),
    }


# (reference, live): shared references and live files, a file on both sides, empty sides.
PAIRS = [
    ("ref_a", "live_a"),
    ("ref_a", "live_b"),
    ("ref_b", "live_a"),
    ("ref_b", "ref_b"),
    ("live_b", "ref_a"),
    ("ref_none", "live_a"),
    ("ref_a", "live_empty"),
]


@pytest.mark.parametrize("binning", ["quantile", "equal_width"])
def test_shift_batch_matches_per_term_on_nulls_nans_and_empty_sides(
    tmp_path: Path, binning: str
) -> None:
    files = _files(tmp_path)
    term = T(kind="distribution_shift", reference="ref", bins=6, binning=binning)
    items = [
        batch.BatchItem(k, term, {"reference": files[r], "score_samples": files[v]}, CLOCK)
        for k, (r, v) in enumerate(PAIRS)
    ]
    readable = [SnapshotFile(p, "parquet") for p in files.values()]
    notes: list[str] = []
    with Sandbox({}, readable=readable, timeout_s=10) as sb:
        counting = Counting(sb)
        rows = batch.run_batches(sb, items, notes)
    assert len([q for q in counting.queries if "histogram" in q]) == 1 and notes == []
    # The pairs with scores on both sides are batched; an empty side is left to the
    # term's own SQL (error: no reference scores / no-data: no live scores).
    assert sorted(rows) == [0, 1, 2, 3, 4]
    for key in rows:
        _same(term, rows[key], _per_term(term, items[key].files, CLOCK), CLOCK)
    # What the terms left out get from their own SQL (unchanged by batching).
    if binning == "quantile":  # no quantiles of nothing: the query fails (an error finding)
        with pytest.raises(QueryFailed, match="bin list cannot be NULL"):
            _per_term(term, items[5].files, CLOCK)
    else:
        assert _per_term(term, items[5].files, CLOCK).status == "error"
    assert _per_term(term, items[6].files, CLOCK).status == "no-data"


def test_a_file_with_a_file_index_column_is_never_batched(tmp_path: Path) -> None:
    # DuckDB's `file_index` tells the shift batch's files apart; a file's own column of that
    # name shadows it. A live file claiming index 0 would lend its scores to another pair.
    files = _files(tmp_path)
    evil = copy_to(
        tmp_path / "evil.parquet",
        "SELECT 0::BIGINT AS FILE_INDEX, 0.99::DOUBLE AS score FROM range(500) t(r)",
    ).resolve()
    term = T(kind="distribution_shift", reference="ref", bins=6)
    items = [
        batch.BatchItem(
            0, term, {"reference": files["ref_a"], "score_samples": files["live_a"]}, CLOCK
        ),
        batch.BatchItem(1, term, {"reference": files["ref_a"], "score_samples": evil}, CLOCK),
        batch.BatchItem(
            2, term, {"reference": files["ref_b"], "score_samples": files["live_b"]}, CLOCK
        ),
    ]
    readable = [SnapshotFile(p, "parquet") for p in [*files.values(), evil]]
    notes: list[str] = []
    with Sandbox({}, readable=readable, timeout_s=10) as sb:
        rows = batch.run_batches(sb, items, notes)
    assert sorted(rows) == [0, 2]
    assert any("'t' runs its own query" in n and batch.FILE_INDEX in n for n in notes)
    for key in (0, 2):
        _same(term, rows[key], _per_term(term, items[key].files, CLOCK), CLOCK)
