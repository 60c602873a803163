"""Evidence kinds: the documented schema each kind of evidence snapshot must have.

`KINDS` is the single source of truth; the schema reference in the docs is
generated from it. `check_schema` reads a file in a locked-down sandbox limited
to that one file and reports every problem (missing column, wrong type, NULLs in
a non-nullable column, unparsable file, non-UTF-8 text).

Type families and the decision on text formats
----------------------------------------------
A column's type is checked against a *family*, not an exact DuckDB type:

* ``TIMESTAMP``: TIMESTAMP, TIMESTAMP WITH TIME ZONE, TIMESTAMP_S/_MS/_NS, DATE.
* ``DOUBLE``: any numeric type (integers, FLOAT, DOUBLE, DECIMAL).
* ``BIGINT``: any integer type (signed or unsigned).
* ``BOOLEAN``: BOOLEAN.
* ``VARCHAR``: VARCHAR, UUID, ENUM and integer types (group labels such as
  ``18`` are sniffed as integers); nested types (LIST, STRUCT, MAP) and BLOB are
  refused.

Parquet carries real types, so a Parquet column must already be in the family.
CSV and JSON are text: DuckDB's auto-detection usually finds the type, but a
single odd value (``03/01/2026`` next to ISO dates, ``true`` next to ``0``)
leaves the column VARCHAR. For CSV/JSON/JSONL a VARCHAR column is therefore
accepted for a non-VARCHAR family **only if every non-NULL value TRY_CASTs** to
the family's type; otherwise the problem names how many values fail and shows
one. SQL over such a column must cast explicitly (``col::TIMESTAMP``).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Literal

from workbench.evidence.errors import (
    EvidenceError,
    QueryFailed,
    SandboxError,
    UnknownFormat,
    UnknownKind,
)

if TYPE_CHECKING:
    from workbench.evidence.sandbox import Sandbox, SnapshotFile

Family = Literal["VARCHAR", "TIMESTAMP", "DOUBLE", "BIGINT", "BOOLEAN"]


@dataclass(frozen=True)
class Column:
    name: str
    family: Family
    required: bool = True
    nullable: bool = False
    description: str = ""


@dataclass(frozen=True)
class EvidenceKind:
    name: str
    description: str
    columns: list[Column] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _kind(name: str, description: str, *columns: Column) -> EvidenceKind:
    return EvidenceKind(name=name, description=description, columns=list(columns))


KINDS: dict[str, EvidenceKind] = {
    k.name: k
    for k in (
        _kind(
            "freshness_lags",
            "When each upstream source changed and when that change became accessible "
            "to the model; freshness and latency terms are computed from it.",
            Column("source", "VARCHAR", description="Source name, e.g. an OpenLineage dataset."),
            Column("updated_at", "TIMESTAMP", description="When the source changed."),
            Column(
                "available_at",
                "TIMESTAMP",
                nullable=True,
                description="When the change became model-accessible; NULL = not yet.",
            ),
        ),
        _kind(
            "score_samples",
            "Model scores sampled over time, for drift and operating-range terms.",
            Column("scored_at", "TIMESTAMP", description="When the score was produced."),
            Column("score", "DOUBLE", description="The model's score."),
            Column(
                "segment",
                "VARCHAR",
                required=False,
                nullable=True,
                description="Optional segment for per-segment drift.",
            ),
        ),
        _kind(
            "group_counts",
            "Row counts per demographic group, for representation-bound terms.",
            Column("attribute", "VARCHAR", description="Attribute, e.g. 'sex' or 'age_band'."),
            Column("group", "VARCHAR", description="Group within the attribute."),
            Column("count", "BIGINT", description="Number of rows in the group."),
            Column(
                "observed_at",
                "TIMESTAMP",
                required=False,
                nullable=True,
                description="When the counts were taken.",
            ),
        ),
        _kind(
            "assertion_results",
            "Individual runs of data assertions, for pass-rate terms over a window.",
            Column("assertion_id", "VARCHAR", description="Stable id of the assertion."),
            Column("run_at", "TIMESTAMP", description="When the assertion ran."),
            Column("passed", "BOOLEAN", description="Whether the run passed."),
            Column(
                "test",
                "VARCHAR",
                required=False,
                nullable=True,
                description="Name of the test or tool that ran it.",
            ),
        ),
        _kind(
            "threshold_config",
            "History of decision-threshold changes, for change-control terms.",
            Column("name", "VARCHAR", description="Threshold name."),
            Column("value", "DOUBLE", description="New value."),
            Column("changed_at", "TIMESTAMP", description="When it changed."),
            Column("changed_by", "VARCHAR", description="Person id of who changed it."),
            Column(
                "cosigned_by",
                "VARCHAR",
                nullable=True,
                description="Person id of the co-signer; NULL = not co-signed.",
            ),
        ),
        _kind(
            "lineage_manifest",
            "Sources feeding the model and when each was last refreshed, for lineage terms.",
            Column("source", "VARCHAR", description="Source name."),
            Column("refreshed_at", "TIMESTAMP", description="Last refresh."),
        ),
        _kind(
            "custom",
            "Any table; terms over it use contract SQL only. No required columns.",
        ),
    )
}

_INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
_TIMESTAMP_TYPES = frozenset(
    {
        "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMPTZ",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "DATE",
    }
)
_TEXT_FORMATS = frozenset({"csv", "json", "jsonl"})

# What a VARCHAR value must TRY_CAST to for a text-format column to pass.
_CAST_TEST: dict[str, str] = {
    "TIMESTAMP": "TRY_CAST({c} AS TIMESTAMP) IS NULL AND TRY_CAST({c} AS TIMESTAMPTZ) IS NULL",
    "DOUBLE": "TRY_CAST({c} AS DOUBLE) IS NULL",
    "BIGINT": "TRY_CAST({c} AS BIGINT) IS NULL",
    "BOOLEAN": "TRY_CAST({c} AS BOOLEAN) IS NULL",
}

_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


@dataclass(frozen=True)
class SchemaProblem:
    file: str
    column: str | None
    message: str
    expected: str | None = None
    found: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: column {self.column!r}" if self.column else self.file
        return f"{where}: {self.message}"


def detect_format(path: PurePath | str) -> str:
    """Evidence format from the file suffix (case-insensitive)."""
    suffix = PurePath(path).suffix.lower()
    try:
        return _SUFFIX_FORMATS[suffix]
    except KeyError:
        known = ", ".join(sorted(_SUFFIX_FORMATS))
        raise UnknownFormat(
            f"{path}: unsupported evidence file suffix {suffix or '(none)'!r} (expected {known})"
        ) from None


def family_accepts(family: Family, duckdb_type: str) -> bool:
    """Whether a DuckDB column type (as printed by DESCRIBE) belongs to `family`."""
    t = duckdb_type.upper().strip()
    if family == "TIMESTAMP":
        return t in _TIMESTAMP_TYPES
    if family == "BIGINT":
        return t in _INTEGER_TYPES
    if family == "DOUBLE":
        return t in _INTEGER_TYPES or t in {"FLOAT", "DOUBLE", "REAL"} or t.startswith("DECIMAL")
    if family == "BOOLEAN":
        return t == "BOOLEAN"
    if family == "VARCHAR":
        return t in {"VARCHAR", "UUID"} or t.startswith("ENUM") or t in _INTEGER_TYPES
    return False


def get_kind(name: str) -> EvidenceKind:
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(
            f"unknown evidence kind {name!r} (known: {', '.join(sorted(KINDS))})"
        ) from None


def snapshot_file(path: Path, kind: str, fmt: str | None = None) -> SnapshotFile:
    """A `SnapshotFile` for `path` that reads the kind's VARCHAR columns as text in CSVs.

    Use this (rather than a bare `SnapshotFile`) when building the sandbox that
    evaluates a contract, so checks see the same types `check_schema` validated.
    """
    from workbench.evidence.sandbox import SnapshotFile

    spec = get_kind(kind)
    text = tuple(c.name for c in spec.columns if c.family == "VARCHAR")
    return SnapshotFile(Path(path), fmt or detect_format(path), text_columns=text)  # type: ignore[arg-type]  # fmt: a validated Format


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _utf8_problem(path: Path) -> str | None:
    """Stream-decode a text file; DuckDB only notices bad bytes inside its sniff sample."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return (
                    f"file is not UTF-8 encoded (invalid byte 0x{chunk[exc.start]:02x} at "
                    f"offset {offset + exc.start}); re-export it as UTF-8"
                )
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "file is not UTF-8 encoded (truncated multi-byte sequence at end of file)"
    return None


def check_schema(
    path: Path, kind: str, *, timeout_s: float = 30.0, memory_limit: str = "512MB"
) -> list[SchemaProblem]:
    """Check that `path` has the columns and type families `kind` requires.

    Returns an empty list when the file conforms. Raises `UnknownKind` for a kind
    name that does not exist (a caller error, not a file problem).
    """
    spec = get_kind(kind)
    path = Path(path)
    file = str(path)
    try:
        fmt = detect_format(path)
    except UnknownFormat as exc:
        return [SchemaProblem(file, None, str(exc).split(": ", 1)[1])]
    if not path.is_file():
        return [SchemaProblem(file, None, "file not found")]
    if path.stat().st_size == 0:
        return [SchemaProblem(file, None, "file is empty")]
    if fmt in _TEXT_FORMATS and (message := _utf8_problem(path)):
        return [SchemaProblem(file, None, message)]
    return _check_in_sandbox(path, fmt, spec, timeout_s, memory_limit)


def _check_in_sandbox(
    path: Path, fmt: str, spec: EvidenceKind, timeout_s: float, memory_limit: str
) -> list[SchemaProblem]:
    from workbench.evidence.sandbox import Sandbox

    file = str(path)
    try:
        with Sandbox(
            {"evidence": snapshot_file(path, spec.name, fmt)},
            timeout_s=timeout_s,
            memory_limit=memory_limit,
        ) as sb:
            described = sb.query("DESCRIBE SELECT * FROM evidence")
            found = {str(r[0]).lower(): (str(r[0]), str(r[1])) for r in described.rows}
            problems, checks = _type_problems(file, fmt, spec, found)
            # One full scan: it also surfaces parse errors past the sniffing sample.
            problems += _value_problems(sb, file, checks)
            order = {c.name: i for i, c in enumerate(spec.columns)}
            return sorted(problems, key=lambda p: order.get(p.column or "", -1))
    except SandboxError as exc:
        # The sandbox message starts with the (resolved) path; SchemaProblem names the file.
        text = str(exc)
        marker = f"cannot read as {fmt}: "
        cause = text.split(marker, 1)[1] if marker in text else text
        return [SchemaProblem(file, None, f"cannot read as {fmt}: {cause}")]
    except QueryFailed as exc:
        return [SchemaProblem(file, None, f"cannot read as {fmt}: {exc.message}")]
    except EvidenceError as exc:
        return [SchemaProblem(file, None, str(exc))]


@dataclass(frozen=True)
class _ValueCheck:
    column: Column
    actual_name: str
    cast_test: str | None  # SQL predicate true for a value that does not cast
    found_type: str


def _type_problems(
    file: str, fmt: str, spec: EvidenceKind, found: dict[str, tuple[str, str]]
) -> tuple[list[SchemaProblem], list[_ValueCheck]]:
    problems: list[SchemaProblem] = []
    checks: list[_ValueCheck] = []
    for col in spec.columns:
        hit = found.get(col.name.lower())
        if hit is None:
            if col.required:
                problems.append(
                    SchemaProblem(file, col.name, "missing column", expected=col.family)
                )
            continue
        actual, dtype = hit
        if family_accepts(col.family, dtype):
            checks.append(_ValueCheck(col, actual, None, dtype))
        elif fmt in _TEXT_FORMATS and dtype == "VARCHAR" and col.family in _CAST_TEST:
            test = _CAST_TEST[col.family].format(c=_quote_ident(actual))
            checks.append(_ValueCheck(col, actual, test, dtype))
        else:
            problems.append(
                SchemaProblem(
                    file,
                    col.name,
                    f"expected {col.family}, found {dtype}",
                    expected=col.family,
                    found=dtype,
                )
            )
    return problems, checks


def _value_problems(sb: Sandbox, file: str, checks: list[_ValueCheck]) -> list[SchemaProblem]:
    select = ["count(*)"]
    for chk in checks:
        ident = _quote_ident(chk.actual_name)
        select.append(f"count(*) FILTER (WHERE {ident} IS NULL)")
        if chk.cast_test:
            bad = f"{ident} IS NOT NULL AND {chk.cast_test}"
            select.append(f"count(*) FILTER (WHERE {bad})")
            select.append(f"any_value({ident}) FILTER (WHERE {bad})")
    row = sb.query(f"SELECT {', '.join(select)} FROM evidence").rows[0]
    problems: list[SchemaProblem] = []
    values = iter(row[1:])
    for chk in checks:
        nulls = next(values)
        col = chk.column
        if chk.cast_test:
            bad_count, example = next(values), next(values)
            if bad_count:
                problems.append(
                    SchemaProblem(
                        file,
                        col.name,
                        f"expected {col.family}, found VARCHAR with {bad_count} value(s) "
                        f"that do not convert (e.g. {_example(example)})",
                        expected=col.family,
                        found="VARCHAR",
                    )
                )
        if nulls and not col.nullable:
            problems.append(
                SchemaProblem(
                    file,
                    col.name,
                    f"{nulls} NULL or empty value(s), but the column is not nullable",
                    expected=f"{col.family} NOT NULL",
                    found=chk.found_type,
                )
            )
    return problems


def _example(value: object) -> str:
    text = str(value)
    text = re.sub(r"[\x00-\x1f\x7f]", "?", text)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def kinds_markdown() -> str:
    """The evidence-kind reference table of docs/evidence.md (kept in sync by a test)."""
    lines = [
        "| kind | column | type | required | NULL allowed | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for kind in KINDS.values():
        if not kind.columns:
            lines.append(f"| `{kind.name}` | (any) | | | | {kind.description} |")
            continue
        for i, col in enumerate(kind.columns):
            name = f"`{kind.name}`" if i == 0 else ""
            lines.append(
                f"| {name} | `{col.name}` | {col.family} | {'yes' if col.required else 'no'} | "
                f"{'yes' if col.nullable else 'no'} | {col.description} |"
            )
    return "\n".join(lines) + "\n"
