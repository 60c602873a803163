"""Batched term checks: one query per check kind over every Parquet snapshot it reads.

`evaluate` over many contracts would otherwise run one query per term. For the kinds
whose aggregates are per snapshot (freshness, calibration range, distribution shift),
the terms that share every SQL parameter except their snapshots run as one query over
all those files (``read_parquet([...], filename=...)``), grouped by file. Each group's
rows are exactly the rows the term's own SQL (`checks.*_sql`, stored in the finding)
returns on its snapshot: the same expressions, only partitioned by file. Anything this
module does not handle returns None and the caller runs the term's own SQL instead.

All SQL here is generated (no contract text except through `lit`/`ident`/`num`) and
runs through `Sandbox.query_generated` in a sandbox whose allowed paths are exactly the
files read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.evidence.checks import (
    SHIFT_MEASURES_SQL,
    SHIFT_SMOOTHED_CTE,
    freshness_heartbeat_columns,
    freshness_heartbeat_sql,
    ident,
    lit,
    num,
    records,
    shift_edges_sql,
    ts,
    ts_lit,
)
from workbench.evidence.errors import EvidenceError
from workbench.model.terms import CalibrationTerm, DistributionShiftTerm, FreshnessTerm, TermBase

if TYPE_CHECKING:
    from workbench.evidence.sandbox import Sandbox

BATCH_TERMS = (FreshnessTerm, CalibrationTerm, DistributionShiftTerm)
FILE_COL = "__workbench_file"
# Columns the batch queries add are named with this prefix; a file with such a column
# is never batched (its values could stand in for the batch's own).
RESERVED = "__workbench"
# DuckDB's virtual column numbering the files of one read_parquet (the shift batch's file
# key). A file's own column of that name would shadow it: such a file is never batched.
FILE_INDEX = "file_index"
# Files per query: bounds the statement size.
CHUNK = 500
# Bytes of Parquet per query: bounds a query's memory. A shift batch keeps every reference
# score of its files for the quantile edges; at 60 M rows over 1,000 contracts, 500 pairs
# per query (≈ 250 MB of Parquet) exceeded the sandbox's DuckDB memory limit. The file
# size is known without opening the file (its footer costs ≈ 0.3 ms to read); a file that
# compresses far better than these still fails safely: the query is split and said.
CHUNK_BYTES = {"freshness": 96 * 2**20, "calibration": 192 * 2**20, "shift": 48 * 2**20}


@dataclass
class BatchItem:
    """One term to check: its files by logical view (resolved paths) and its clock."""

    key: int
    term: TermBase
    files: dict[str, Path]
    clock: datetime


def _files_sql(paths: Sequence[str]) -> str:
    return "[" + ", ".join(lit(p) for p in paths) + "]"


def _reader(paths: Sequence[str]) -> str:
    # hive_partitioning off: only the files' own columns (see `_hive_clash`).
    return f"read_parquet({_files_sql(paths)}, filename={lit(FILE_COL)}, hive_partitioning=false)"


def group_key(item: BatchItem) -> tuple[Any, ...] | None:
    """Terms with equal keys differ only in their snapshots and clocks (so batch together:
    a freshness batch carries each file's clock, `freshness_clocks_batch_sql`)."""
    t = item.term
    if isinstance(t, FreshnessTerm):
        return ("freshness", t.percentile, tuple(t.sources))
    if isinstance(t, CalibrationTerm):
        return ("calibration", t.score, t.range_min, t.range_max)
    if isinstance(t, DistributionShiftTerm):
        return ("shift", t.column, t.bins, t.binning)
    return None


def freshness_batch_sql(term: FreshnessTerm, clock: datetime, paths: Sequence[str]) -> str:
    # = checks.freshness_sql, partitioned by file
    p = term.percentile / 100.0
    where = [f"{ts('updated_at')} <= {ts_lit(clock)}"]
    if term.sources:
        where.append(f"CAST(source AS VARCHAR) IN ({', '.join(lit(s) for s in term.sources)})")
    f = ident(FILE_COL)
    return (
        "WITH lags AS (\n"
        f"  SELECT {f} AS f, CAST(source AS VARCHAR) AS source,\n"
        f"         epoch(coalesce({ts('available_at')}, {ts_lit(clock)}))"
        f" - epoch({ts('updated_at')}) AS lag_s,\n"
        "         available_at IS NULL AS pending,\n"
        + freshness_heartbeat_columns(clock)
        + f"  FROM {_reader(paths)}\n"
        f"  WHERE {' AND '.join(where)}\n"
        ")\n"
        "SELECT f, source, count(*) AS rows, count(*) FILTER (WHERE pending) AS pending,\n"
        f"       max(lag_s) AS max_lag_s, quantile_cont(lag_s, {num(p)}) AS p_lag_s,\n"
        + freshness_heartbeat_sql(clock)
        + "FROM lags GROUP BY f, source ORDER BY f, source"
    )


def freshness_clocks_batch_sql(
    term: FreshnessTerm, pairs: Sequence[tuple[str, datetime]], paths: Sequence[str]
) -> str:
    # = checks.freshness_sql, partitioned by (file, clock): evidence captured at different
    # times judged in one query, each file at its own clock (row k of `pairs` is group k).
    p = term.percentile / 100.0
    k, cf, ck = (ident(f"{RESERVED}_{n}") for n in ("k", "cf", "clock"))
    where = [f"{ts('updated_at')} <= {ck}"]
    if term.sources:
        where.append(f"CAST(source AS VARCHAR) IN ({', '.join(lit(s) for s in term.sources)})")
    values = ", ".join(f"({i}, {lit(f)}, {ts_lit(c)})" for i, (f, c) in enumerate(pairs))
    return (
        f"WITH clocks AS (SELECT * FROM (VALUES {values}) AS t({k}, {cf}, {ck})),\n"
        "lags AS (\n"
        f"  SELECT {k} AS k, {ck} AS clock, CAST(source AS VARCHAR) AS source,\n"
        f"         epoch(coalesce({ts('available_at')}, {ck}))"
        f" - epoch({ts('updated_at')}) AS lag_s,\n"
        "         available_at IS NULL AS pending,\n"
        + freshness_heartbeat_columns(pairs[0][1])
        + f"  FROM {_reader(paths)} JOIN clocks ON {ident(FILE_COL)} = {cf}\n"
        f"  WHERE {' AND '.join(where)}\n"
        ")\n"
        "SELECT k, source, count(*) AS rows, count(*) FILTER (WHERE pending) AS pending,\n"
        f"       max(lag_s) AS max_lag_s, quantile_cont(lag_s, {num(p)}) AS p_lag_s,\n"
        # = freshness_heartbeat_sql with the group's clock
        "       epoch(any_value(clock)) - max(updated_s) AS heartbeat_s\n"
        "FROM lags GROUP BY k, source ORDER BY k, source"
    )


def calibration_batch_sql(term: CalibrationTerm, paths: Sequence[str]) -> str:
    # = checks.calibration_sql, partitioned by file
    col = f"CAST({ident(term.score)} AS DOUBLE)"
    return (
        f"SELECT {ident(FILE_COL)} AS f, count(*) AS n,\n"
        f"       count(*) FILTER (WHERE {col} < {num(term.range_min)}"
        f" OR {col} > {num(term.range_max)}) AS outside,\n"
        f"       min({col}) AS min_score, max({col}) AS max_score\n"
        f"FROM {_reader(paths)} WHERE {ident(term.score)} IS NOT NULL\n"
        "GROUP BY f"
    )


def shift_batch_sql(
    term: DistributionShiftTerm, pairs: Sequence[tuple[str, str]], refs: list[str], lives: list[str]
) -> str:
    # = checks.shift_sql, partitioned by (reference file, live file). Files are told apart
    # by DuckDB's `file_index` (their position in `refs` / `lives`), joined as integers: a
    # join on the file-name column compared a long string per score (≈ 25 % of the query).
    # A file with a column of that name is never batched (`_has_file_column`). The
    # reference scores are read from Parquet twice (edges, then their histogram) rather
    # than kept in a CTE: DuckDB's materialised CTE and its join cost ≈ 5 times a re-read.
    edges = shift_edges_sql(term)
    col = ident(term.column)
    index = {"r": {p: i for i, p in enumerate(refs)}, "l": {p: i for i, p in enumerate(lives)}}

    def scores(paths: list[str]) -> str:
        return (
            f"(SELECT * FROM (SELECT {FILE_INDEX} AS f, CAST({col} AS DOUBLE) AS x"
            f" FROM read_parquet({_files_sql(paths)}, hive_partitioning=false))"
            " WHERE x IS NOT NULL AND isfinite(x))"
        )

    values = ", ".join(
        f"({index['r'][r]}::BIGINT, {index['l'][v]}::BIGINT, {lit(r)}, {lit(v)})" for r, v in pairs
    )
    return (
        f"WITH pairs AS (SELECT * FROM (VALUES {values}) AS t(ri, li, rf, lf)),\n"
        f"edges AS MATERIALIZED (SELECT f, {edges} AS e FROM {scores(refs)} GROUP BY f),\n"
        f"ref AS (SELECT rx.f AS ri, histogram(rx.x, edges.e) AS h FROM {scores(refs)} rx"
        " JOIN edges USING (f) GROUP BY rx.f),\n"
        "live AS (SELECT p.ri, p.li, histogram(lx.x, edges.e) AS h FROM pairs p"
        f" JOIN edges ON edges.f = p.ri JOIN {scores(lives)} lx ON lx.f = p.li"
        " GROUP BY p.ri, p.li),\n"
        "rb AS (SELECT p.ri, p.li, unnest(map_keys(h)) AS k, unnest(map_values(h)) AS n"
        " FROM pairs p JOIN ref USING (ri)),\n"
        "lb AS (SELECT ri, li, unnest(map_keys(h)) AS k, unnest(map_values(h)) AS n FROM live),\n"
        "bins AS (\n"
        "  SELECT coalesce(r.ri, l.ri) AS ri, coalesce(r.li, l.li) AS li,"
        " coalesce(r.k, l.k) AS upper_edge,\n"
        "         coalesce(r.n, 0) AS ref_n, coalesce(l.n, 0) AS live_n\n"
        "  FROM rb r FULL JOIN lb l ON r.ri = l.ri AND r.li = l.li AND r.k = l.k\n"
        "),\n"
        "shares AS (\n"
        "  SELECT ri, li, upper_edge, ref_n, live_n,\n"
        "         ref_n / sum(ref_n) OVER (PARTITION BY ri, li) AS p,"
        " live_n / sum(live_n) OVER (PARTITION BY ri, li) AS q\n"
        "  FROM bins\n"
        "),\n"
        + SHIFT_SMOOTHED_CTE
        + "SELECT any_value(pairs.rf) AS rf, any_value(pairs.lf) AS lf, "
        + SHIFT_MEASURES_SQL
        + "FROM t JOIN pairs USING (ri, li) GROUP BY ri, li"
    )


def _strip(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def run_batches(
    sb: Sandbox, items: Sequence[BatchItem], notes: list[str] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """Rows per item key, as the item's own check SQL would return them. Items whose rows
    cannot be told apart from "no rows" in a batch (empty files, empty groups) are left
    out: the caller runs their own SQL. Every batch query that fails, and so leaves its
    terms to their own queries, is said in `notes` (with why), never silently."""
    out: dict[int, list[dict[str, Any]]] = {}
    notes = [] if notes is None else notes
    try:
        paths = sorted({str(p) for i in items for p in i.files.values()})
        schemas = file_schemas(sb, paths)
        sizes = {p: _size(p) for p in paths}
    except EvidenceError as exc:
        notes.append(
            f"batch: reading the Parquet footers of {len(items)} terms' files failed "
            f"({_why(exc)}); each term runs its own query"
        )
        return out
    groups: dict[tuple[Any, ...], list[BatchItem]] = {}
    for item in items:
        key = group_key(item)
        if key is None:
            continue
        if _hive_clash(item):
            notes.append(
                f"batch: term {item.term.id!r} runs its own query: a folder of its file is "
                "named like a column it reads (`column=value`, hive partitioning)"
            )
            continue
        # One read_parquet over files of different schemas would cast them to one; so
        # only files with identical schemas (per logical view) share a query.
        shape = tuple((v, schemas.get(str(p))) for v, p in sorted(item.files.items()))
        if any(sig is None or _has_file_column(sig) for _v, sig in shape):
            # A column of the batch's file-name column's name in the (untrusted) file
            # could otherwise attribute its rows to another file: never batch it.
            notes.append(
                f"batch: term {item.term.id!r} runs its own query: its file has no Parquet "
                f"schema, or a column named {FILE_INDEX!r} or starting with {RESERVED!r}"
            )
            continue
        groups.setdefault((key, shape), []).append(item)
    for (key, _shape), members in groups.items():
        for chunk in _chunks(members, key[0], sizes):
            _run_chunk(sb, chunk, out, notes)
    return out


def _chunks(members: list[BatchItem], kind: str, sizes: dict[str, int]) -> list[list[BatchItem]]:
    """Consecutive runs of at most CHUNK terms and CHUNK_BYTES[kind] bytes of files (a
    term with more than that gets a query of its own)."""
    limit = CHUNK_BYTES[kind]
    chunks: list[list[BatchItem]] = []
    current: list[BatchItem] = []
    rows = 0
    seen: set[str] = set()
    for item in members:
        new = [str(p) for p in item.files.values() if str(p) not in seen]
        size = sum(sizes.get(p, 0) for p in new)
        if current and (len(current) >= CHUNK or rows + size > limit):
            chunks.append(current)
            current, rows, seen = [], 0, set()
            size = sum(sizes.get(str(p), 0) for p in item.files.values())
        current.append(item)
        rows += size
        seen.update(str(p) for p in item.files.values())
    if current:
        chunks.append(current)
    return chunks


def _run_chunk(
    sb: Sandbox,
    chunk: list[BatchItem],
    out: dict[int, list[dict[str, Any]]],
    notes: list[str],
) -> None:
    """One batch query; if it fails, its two halves (a failure that is not about one
    term's data, e.g. memory, may pass in smaller parts), down to single terms, which
    are left to their own SQL. Each fallback is noted."""
    term = chunk[0].term
    try:
        if isinstance(term, FreshnessTerm):
            _freshness(sb, term, chunk, out)
        elif isinstance(term, CalibrationTerm):
            _calibration(sb, term, chunk, out)
        else:
            assert isinstance(term, DistributionShiftTerm)
            _shift(sb, term, chunk, out)
        return
    except EvidenceError as exc:
        why = _why(exc)
        kind = str(getattr(term, "kind", "batch"))
    if len(chunk) == 1:
        notes.append(
            f"batch: the {kind} batch query of term {chunk[0].term.id!r} failed ({why}); "
            "it runs its own query"
        )
        return
    half = len(chunk) // 2
    notes.append(
        f"batch: the {kind} batch query of {len(chunk)} terms failed ({why}); "
        f"retried as two queries of {half} and {len(chunk) - half}"
    )
    _run_chunk(sb, chunk[:half], out, notes)
    _run_chunk(sb, chunk[half:], out, notes)


def _why(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # the query itself reports an unreadable file


def file_schemas(sb: Sandbox, paths: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Each Parquet file's schema (every element, in order), read from the footers."""
    out: dict[str, list[Any]] = {}
    for start in range(0, len(paths), CHUNK * 4):
        part = paths[start : start + CHUNK * 4]
        result = sb.query_generated(
            "SELECT file_name, name, type, type_length, repetition_type, num_children,"
            " converted_type, scale, precision, field_id, logical_type"
            f" FROM parquet_schema({_files_sql(part)})"
        )
        for row in result.rows:  # a file's elements come in schema order
            out.setdefault(row[0], []).append(row[1:])
    return {k: tuple(v) for k, v in out.items()}


def _has_file_column(schema: tuple[Any, ...]) -> bool:
    return any(
        str(element[0]).lower().startswith(RESERVED) or str(element[0]).lower() == FILE_INDEX
        for element in schema
    )


def _hive_clash(item: BatchItem) -> bool:
    """A directory named ``<column>=…`` makes DuckDB's single-file view read that column
    from the path (hive partitioning); the batch reads files without it, so such terms
    run on their own."""
    t = item.term
    if isinstance(t, FreshnessTerm):
        cols = {"source", "updated_at", "available_at"}
    elif isinstance(t, CalibrationTerm):
        cols = {t.score}
    else:
        assert isinstance(t, DistributionShiftTerm)
        cols = {t.column}
    cols = {c.lower() for c in cols} | {FILE_COL}
    for path in item.files.values():
        for part in path.parent.parts:
            name, eq, _value = part.partition("=")
            if eq and name.lower() in cols:
                return True
    return False


def _freshness(
    sb: Sandbox, term: FreshnessTerm, chunk: list[BatchItem], out: dict[int, list[dict[str, Any]]]
) -> None:
    paths = sorted({str(i.files["freshness_lags"]) for i in chunk})
    clocks = {i.clock for i in chunk}
    if len(clocks) > 1:
        _freshness_clocks(sb, term, chunk, paths, out)
        return
    rows = records(sb.query_generated(freshness_batch_sql(term, chunk[0].clock, paths)))
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:  # ordered by file, then source: each file's rows in the term's order
        by.setdefault(r["f"], []).append(_strip(r, "f"))
    for item in chunk:
        got = by.get(str(item.files["freshness_lags"]))
        if got is not None:
            out[item.key] = got


def _freshness_clocks(
    sb: Sandbox,
    term: FreshnessTerm,
    chunk: list[BatchItem],
    paths: list[str],
    out: dict[int, list[dict[str, Any]]],
) -> None:
    pairs = sorted({(str(i.files["freshness_lags"]), i.clock) for i in chunk})
    rows = records(sb.query_generated(freshness_clocks_batch_sql(term, pairs, paths)))
    by: dict[int, list[dict[str, Any]]] = {}
    for r in rows:  # ordered by group, then source: each group's rows in the term's order
        by.setdefault(int(r["k"]), []).append(_strip(r, "k"))
    index = {pair: k for k, pair in enumerate(pairs)}
    for item in chunk:
        got = by.get(index[(str(item.files["freshness_lags"]), item.clock)])
        if got is not None:
            out[item.key] = got


def _calibration(
    sb: Sandbox, term: CalibrationTerm, chunk: list[BatchItem], out: dict[int, list[dict[str, Any]]]
) -> None:
    paths = sorted({str(i.files["score_samples"]) for i in chunk})
    rows = records(sb.query_generated(calibration_batch_sql(term, paths)))
    by = {r["f"]: _strip(r, "f") for r in rows}
    for item in chunk:
        got = by.get(str(item.files["score_samples"]))
        if got is not None:
            out[item.key] = [got]


def _shift(
    sb: Sandbox,
    term: DistributionShiftTerm,
    chunk: list[BatchItem],
    out: dict[int, list[dict[str, Any]]],
) -> None:
    pairs = sorted({(str(i.files["reference"]), str(i.files["score_samples"])) for i in chunk})
    refs = sorted({r for r, _ in pairs})
    lives = sorted({lv for _, lv in pairs})
    rows = records(sb.query_generated(shift_batch_sql(term, pairs, refs, lives)))
    by = {(r["rf"], r["lf"]): _strip(r, "rf", "lf") for r in rows}
    for item in chunk:
        got = by.get((str(item.files["reference"]), str(item.files["score_samples"])))
        # A pair with no reference or no live scores is missing or partial here; the
        # term's own SQL decides those (error / no-data) exactly as before.
        if got is not None and got["reference_rows"] and got["live_rows"]:
            out[item.key] = [got]
