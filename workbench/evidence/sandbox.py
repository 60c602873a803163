"""A locked-down DuckDB for running untrusted contract SQL over evidence snapshots.

Evidence files and the SQL written in contracts are untrusted input. A `Sandbox`
is an in-memory DuckDB with one read-only VIEW per registered evidence file and
nothing else reachable:

* `guard_read_only` refuses, before execution, anything but exactly one SELECT,
  and table functions / replacement scans that would touch files (good messages);
* the DuckDB lockdown (`allowed_paths` + `enable_external_access=false` +
  `lock_configuration`) is the real boundary: it holds even if the guard is
  bypassed, except for one thing noted in `_lock_down` (writes to the registered
  files themselves), which only the guard stops;
* a time limit (interrupt), a memory limit and a thread cap bound the cost.

Views are named by the caller (`^[a-z_][a-z0-9_]*$`), typically after the
evidence kind or the snapshot id.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workbench.evidence.errors import (
    BudgetExhausted,
    QueryCancelled,
    QueryFailed,
    QueryTimeout,
    SandboxError,
    SqlRefused,
)

if TYPE_CHECKING:
    import duckdb

Format = Literal["csv", "parquet", "json", "jsonl"]
FORMATS: tuple[str, ...] = ("csv", "parquet", "json", "jsonl")

VIEW_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")

# Table functions contract SQL may call. Default-deny: everything else (read_csv*,
# read_parquet, read_json*, read_text, read_blob, glob, parquet_*, sniff_csv,
# iceberg_*, delta_scan, *_scan, query/query_table, duckdb_* catalog functions...)
# is refused. Evidence SQL only needs the registered views plus generators.
ALLOWED_TABLE_FUNCTIONS: frozenset[str] = frozenset(
    {"range", "generate_series", "unnest", "json_each", "json_tree"}
)

# Names that certainly reach files or the network: used for a sharper message.
_FILE_FUNCTION_PREFIXES = (
    "read_",
    "glob",
    "parquet_",
    "sniff_csv",
    "iceberg",
    "delta",
    "http",
    "s3",
    "sqlite",
    "postgres",
    "mysql",
    "query",
)

# A table name containing one of these is a path or URL that DuckDB would turn
# into a file read through a replacement scan ('/etc/hostname', 'x.csv', 's3://…').
_PATH_CHARS = re.compile(r"[/\\.:*?\[\]~]")

# Characters DuckDB treats as glob syntax in a file path.
_GLOB_CHARS = re.compile(r"[*?\[\]{}]")

# After interrupt() DuckDB stops at the next vector boundary; measured well under
# 50 ms for scans, joins and aggregates. The grace period only matters if a query
# is stuck outside DuckDB's interrupt checks.
_INTERRUPT_GRACE_S = 2.0


class Watchdog:
    """One thread that interrupts a query running past its deadline.

    `Sandbox` normally runs each query on a worker thread and waits for it with a timeout:
    a thread per query. Checks run one after another in the evaluation worker, so there a
    single long-lived watchdog serves every query and the query runs on the calling thread
    (no thread start, no join per query)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: tuple[Any, float] | None = None
        self._fired = False
        self._thread: threading.Thread | None = None

    def arm(self, cursor: Any, timeout_s: float) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="evidence-watchdog")
                self._thread.daemon = True
                self._thread.start()
            self._armed = (cursor, time.monotonic() + timeout_s)
            self._fired = False
            self._cond.notify()

    def disarm(self) -> bool:
        """Stop watching; True if the deadline passed and the query was interrupted."""
        with self._cond:
            self._armed = None
            fired, self._fired = self._fired, False
            return fired

    def _run(self) -> None:
        with self._cond:
            while True:
                if self._armed is None:
                    self._cond.wait()
                    continue
                cursor, deadline = self._armed
                left = deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                cursor.interrupt()
                self._fired = True
                self._armed = None


@dataclass(frozen=True)
class SnapshotFile:
    """One evidence file to expose as a view.

    `text_columns` (CSV only): columns to read as VARCHAR whatever DuckDB's sniffer
    thinks; otherwise group labels 'f'/'t' become BOOLEAN and '007' becomes 7.
    Names missing from the file are ignored (schema checks report them).
    """

    path: Path
    format: Format
    text_columns: tuple[str, ...] = ()
    # Further Parquet files of the same view: a table version's data files (issue 18,
    # `workbench.evidence.tables`). Each is resolved and allowed like `path`.
    more: tuple[Path, ...] = ()


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    elapsed_s: float


@dataclass
class _Outcome:
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    error: BaseException | None = None


# --------------------------------------------------------------------------- guard

_parser_lock = threading.Lock()
_parser_con: duckdb.DuckDBPyConnection | None = None


def _parser() -> duckdb.DuckDBPyConnection:
    """A private, locked-down connection used only to parse SQL into JSON."""
    import duckdb

    global _parser_con
    if _parser_con is None:
        con = duckdb.connect(":memory:")
        # json_serialize_sql only parses, but keep this connection harmless too.
        con.execute("SET enable_external_access=false")
        con.execute("SET autoinstall_known_extensions=false")
        con.execute("SET autoload_known_extensions=false")
        con.execute("SET lock_configuration=true")
        _parser_con = con
    return _parser_con


def _first_paragraph(message: str) -> str:
    """DuckDB messages carry hints and sniffer dumps after a blank line; keep the cause."""
    head = message.strip().split("\n\n", 1)[0]
    return head.strip()


def guard_read_only(sql: str) -> str:
    """Return the single SELECT statement in `sql`, or raise `SqlRefused`.

    Uses DuckDB's own parser (no sqlglot): `extract_statements` for the statement
    count and type, then `json_serialize_sql` for the table references.
    """
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlRefused(f"not valid SQL: {_first_paragraph(str(exc))}") from None
    if not statements:
        raise SqlRefused("no SQL statement given")
    if len(statements) > 1:
        kinds = ", ".join(s.type.name for s in statements)
        raise SqlRefused(
            f"{len(statements)} statements given ({kinds}); exactly one SELECT is allowed"
        )
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise SqlRefused(
            f"{_statement_word(statement.query, statement.type.name)} statement; "
            "only a single read-only SELECT is allowed"
        )
    text = statement.query.strip().rstrip(";").strip()
    _refuse_file_access(text)
    return text


def _statement_word(query: str, type_name: str) -> str:
    """Name the statement as the user wrote it (DuckDB files INSTALL under LOAD, RESET under SET)."""
    match = re.match(r"\s*([A-Za-z_]+)", query)
    word = match.group(1).upper() if match else type_name
    return word if word == type_name else f"{word} ({type_name})"


def _refuse_file_access(text: str) -> None:
    with _parser_lock:
        raw = _parser().execute("SELECT json_serialize_sql(?)", [text]).fetchone()
    tree = json.loads(raw[0]) if raw else {"error": True}
    if tree.get("error"):
        reason = tree.get("error_message", "statement could not be analysed")
        raise SqlRefused(f"statement could not be analysed ({reason})")
    for node in _walk(tree):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name", "")).lower()
            if name not in ALLOWED_TABLE_FUNCTIONS:
                raise SqlRefused(_table_function_reason(name))
        elif kind in ("BASE_TABLE", "SHOW_REF"):
            name = str(node.get("table_name") or "").strip('"')
            if name and _PATH_CHARS.search(name):
                raise SqlRefused(
                    f"'{name}' is a file path or URL used as a table; "
                    "only the registered evidence views can be queried"
                )


def _table_function_reason(name: str) -> str:
    allowed = ", ".join(sorted(ALLOWED_TABLE_FUNCTIONS))
    if name.startswith(_FILE_FUNCTION_PREFIXES) or name.endswith("_scan"):
        return (
            f"table function {name}() reads files or the network; "
            "query the registered evidence views instead"
        )
    return f"table function {name}() is not allowed (allowed: {allowed})"


def _walk(obj: Any) -> Iterator[dict[str, Any]]:
    """Yield every dict in the parsed JSON tree (statements, CTEs, subqueries…)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# --------------------------------------------------------------------------- sandbox


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# A file's columns are its own: never a `k=v` folder name on its path. DuckDB reads such a
# folder as a column by default (hive partitioning), over the file's own column of that name:
# an Iceberg data file under `segment=north%2Feast+%26+co/` read every row's segment as
# 'north/east+&+co', and Spark (which reads the file's values) judged otherwise
# (tests/evidence/test_table_shapes.py).
NO_HIVE = "hive_partitioning=false"


def _reader_sql(path: str, fmt: str) -> str:
    quoted = _sql_string(path)
    if fmt == "csv":
        return f"read_csv({quoted}, header=true, auto_detect=true, {NO_HIVE})"
    if fmt == "parquet":
        return f"read_parquet({quoted}, {NO_HIVE})"
    if fmt == "json":
        return f"read_json_auto({quoted}, {NO_HIVE})"
    if fmt == "jsonl":
        return f"read_json_auto({quoted}, format='newline_delimited', {NO_HIVE})"
    raise SandboxError(f"unsupported evidence format {fmt!r} (expected one of {FORMATS})")


def _csv_reader_with_text_columns(con: duckdb.DuckDBPyConnection, snap: SnapshotFile) -> str:
    # read_csv(types=...) fails on names absent from the header, so sniff it first.
    path = str(snap.path)
    header = {
        str(row[0]).lower()
        for row in con.execute(f"DESCRIBE SELECT * FROM {_reader_sql(path, 'csv')}").fetchall()
    }
    wanted = [c for c in snap.text_columns if c.lower() in header]
    if not wanted:
        return _reader_sql(path, "csv")
    types = ", ".join(f"{_sql_string(c)}: 'VARCHAR'" for c in wanted)
    return (
        f"read_csv({_sql_string(path)}, header=true, auto_detect=true, {NO_HIVE}, "
        f"types={{{types}}})"
    )


class Sandbox:
    """In-memory DuckDB exposing evidence files as views, locked down for untrusted SQL.

    Use as a context manager; `close()` is idempotent. `query`, `fetch_page` and
    `count_rows` may be called from worker threads; `cancel()` from any thread.
    """

    def __init__(
        self,
        files: Mapping[str, SnapshotFile],
        *,
        memory_limit: str = "512MB",
        threads: int = 2,
        timeout_s: float = 10.0,
        readable: Sequence[SnapshotFile] = (),
        watchdog: Watchdog | None = None,
        deadline: float | None = None,
    ) -> None:
        import duckdb

        if timeout_s <= 0:
            raise SandboxError("timeout_s must be positive")
        if threads < 1:
            raise SandboxError("threads must be at least 1")
        self.timeout_s = timeout_s
        # With a watchdog, queries run on the calling thread (see `Watchdog`).
        self.watchdog = watchdog
        # A time.monotonic() moment no query may run past (the run budget): each query's
        # limit is the smaller of `timeout_s` and what is left until it.
        self.deadline = deadline
        self.files: dict[str, SnapshotFile] = {}
        resolved = {name: self._resolve(name, snap) for name, snap in files.items()}
        # Files the workbench's own generated SQL reads directly (batched checks): allowed
        # like the views' files, under the same path checks, but not exposed as views.
        self.readable: tuple[SnapshotFile, ...] = tuple(
            self._resolve("readable", snap) for snap in readable
        )
        self._lock = threading.Lock()
        self._running: dict[int, duckdb.DuckDBPyConnection] = {}
        self._cancelled: set[int] = set()
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(":memory:")
        try:
            self._lock_down(resolved, memory_limit, threads)
        except duckdb.Error as exc:
            self.close()
            raise SandboxError(_first_paragraph(str(exc))) from None
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _resolve(name: str, snap: SnapshotFile) -> SnapshotFile:
        if not VIEW_NAME_RE.match(name):
            raise SandboxError(f"invalid view name {name!r}: must match {VIEW_NAME_RE.pattern}")
        if snap.format not in FORMATS:
            raise SandboxError(f"{snap.path}: unsupported format {snap.format!r}")
        try:
            # Resolve symlinks so the path DuckDB opens is exactly the allowed one. On
            # strings: a batched run allows thousands of files, and pathlib's resolve and
            # is_file were most of the sandbox's start.
            real = os.path.realpath(snap.path, strict=True)
            regular = stat.S_ISREG(os.stat(real).st_mode)
        except OSError as exc:
            raise SandboxError(f"{snap.path}: evidence file not found ({exc})") from None
        if not regular:
            raise SandboxError(f"{snap.path}: not a regular file")
        path = Path(real)
        if _GLOB_CHARS.search(real):
            # DuckDB would expand these as a glob and read other files.
            raise SandboxError(f"{path}: evidence paths may not contain * ? [ ] {{ }}")
        if snap.more:
            if snap.format != "parquet":
                raise SandboxError(f"{snap.path}: several files make one view only in Parquet")
            more = tuple(
                Sandbox._resolve(name, replace(snap, path=p, more=())).path for p in snap.more
            )
            return replace(snap, path=path, more=more)
        return replace(snap, path=path)

    def _lock_down(self, files: dict[str, SnapshotFile], memory_limit: str, threads: int) -> None:
        # Verified by experiment on DuckDB 2.0.1 (tests/evidence/test_sandbox.py):
        # * allowed_paths must be set BEFORE enable_external_access=false; afterwards
        #   DuckDB refuses to change it ("Cannot change allowed_paths when
        #   enable_external_access is disabled").
        # * allowed_paths (exact files) rather than allowed_directories: with a
        #   directory, sibling files are readable and COPY/ATTACH can create files in it.
        # * Views can be created after the lockdown; creating them then means even
        #   the CSV sniffing at bind time runs confined. They re-read their file at
        #   every query, which allowed_paths permits.
        # * With external access off, replacement scans ('/etc/hostname' as a table)
        #   are disabled, INSTALL/LOAD fail, ATTACH/COPY/EXPORT to other paths fail.
        # * Gap: allowed_paths also grants WRITE to those files; a direct
        #   `COPY ... TO '<registered file>' (USE_TMP_FILE false)` overwrites it.
        #   Only the guard (statement type must be SELECT) stops that; the manifest's
        #   sha256 check detects it afterwards.
        # * temp_directory='' disables spilling: nothing is written to the current
        #   directory ('.tmp' by default) and memory_limit becomes a hard cap. It too
        #   must be set before external access is disabled.
        # * lock_configuration=true last: SET/RESET of any option then fails.
        import duckdb

        con = self._con
        assert con is not None
        allowed = dict.fromkeys(
            str(p) for s in (*files.values(), *self.readable) for p in (s.path, *s.more)
        )
        paths = ", ".join(_sql_string(path) for path in allowed)
        con.execute("SET temp_directory=''")
        con.execute(f"SET allowed_paths=[{paths}]")
        con.execute("SET enable_external_access=false")
        con.execute("SET autoinstall_known_extensions=false")
        con.execute("SET autoload_known_extensions=false")
        con.execute(f"SET memory_limit={_sql_string(memory_limit)}")
        con.execute(f"SET threads={int(threads)}")
        # Naive timestamps in evidence are UTC; casts and epoch() must not depend on
        # the machine's local time zone (findings must be the same bytes everywhere).
        con.execute("SET TimeZone='UTC'")
        for name, snap in files.items():
            try:
                reader = _reader_sql(str(snap.path), snap.format)
                if snap.more:
                    listed = ", ".join(_sql_string(str(p)) for p in (snap.path, *snap.more))
                    # A table version's files may span a schema change (a column added
                    # later): the union of their columns by name, NULL where a file has
                    # none, as Spark's mergeSchema reads them; never the first file's.
                    reader = f"read_parquet([{listed}], {NO_HIVE}, union_by_name=true)"
                if snap.format == "csv" and snap.text_columns:
                    reader = _csv_reader_with_text_columns(con, snap)
                con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM {reader}')
            except duckdb.Error as exc:
                raise SandboxError(
                    f"{snap.path}: cannot read as {snap.format}: {_first_paragraph(str(exc))}"
                ) from None
            self.files[name] = snap
        con.execute("SET lock_configuration=true")

    # -- lifecycle

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.cancel()
        con, self._con = self._con, None
        if con is not None:
            con.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw locked-down connection (tests use it to show the lockdown alone holds)."""
        if self._con is None:
            raise SandboxError("sandbox is closed")
        return self._con

    # -- queries

    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, max_rows: int | None = None
    ) -> QueryResult:
        """Guard `sql`, run it with the time limit and return at most `max_rows` rows."""
        text = guard_read_only(sql)
        return self._execute(text, params, max_rows)

    def query_generated(self, sql: str, *, max_rows: int | None = None) -> QueryResult:
        """Run SQL the workbench generated itself (term checks), without the guard.

        Only for `workbench.evidence.checks` / `batch` templates: fixed SQL text whose
        parameters are numbers the models validated, timestamps formatted from datetimes,
        and contract strings that pass through `lit`/`ident` (quote-doubling, so they
        stay one literal or one identifier; tested with hostile term fields). Never pass
        contract-supplied SQL (`kind = "sql"`) or console input here: that goes through
        `query` and `guard_read_only`. The DuckDB lockdown (allowed_paths, no external
        access, locked configuration, limits) applies to this SQL exactly as to any other.
        """
        return self._execute(sql, None, max_rows)

    def fetch_page(
        self, sql: str, offset: int, limit: int, params: Sequence[Any] | None = None
    ) -> QueryResult:
        """One page of a result; DuckDB computes only what the page needs where it can."""
        if offset < 0 or limit < 0:
            raise SandboxError("offset and limit must be non-negative")
        text = guard_read_only(sql)
        wrapped = f"SELECT * FROM ({text}) AS page LIMIT ? OFFSET ?"
        return self._execute(wrapped, [*(params or ()), int(limit), int(offset)], None)

    def count_rows(self, sql: str, params: Sequence[Any] | None = None) -> int:
        text = guard_read_only(sql)
        result = self._execute(f"SELECT count(*) FROM ({text}) AS counted", params, None)
        return int(result.rows[0][0])

    def cancel(self) -> None:
        """Interrupt every query running on this sandbox (safe from any thread)."""
        with self._lock:
            for key, cur in self._running.items():
                self._cancelled.add(key)
                cur.interrupt()

    def _execute(self, sql: str, params: Sequence[Any] | None, max_rows: int | None) -> QueryResult:
        import duckdb

        cur = self.connection.cursor()
        key = id(cur)
        outcome = _Outcome()

        def work() -> None:
            try:
                if params is None:
                    cur.execute(sql)
                else:
                    cur.execute(sql, list(params))
                description = cur.description or []
                outcome.columns = [d[0] for d in description]
                outcome.types = [str(d[1]) for d in description]
                if max_rows is None:
                    outcome.rows = cur.fetchall()
                else:
                    rows = cur.fetchmany(max_rows + 1)
                    outcome.truncated = len(rows) > max_rows
                    outcome.rows = rows[:max_rows]
            except BaseException as exc:  # reported to the calling thread
                outcome.error = exc

        timeout = self.timeout_s
        by_budget = False
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                cur.close()
                raise BudgetExhausted(0.0)
            if left < timeout:
                timeout, by_budget = left, True
        with self._lock:
            self._running[key] = cur
        start = time.perf_counter()
        alive = False
        try:
            if self.watchdog is not None:
                self.watchdog.arm(cur, timeout)
                try:
                    work()
                finally:
                    timed_out = self.watchdog.disarm()
            else:
                worker = threading.Thread(target=work, name="evidence-query", daemon=True)
                worker.start()
                worker.join(timeout)
                timed_out = worker.is_alive()
                if timed_out:
                    cur.interrupt()
                    worker.join(_INTERRUPT_GRACE_S)
                alive = worker.is_alive()
            elapsed = time.perf_counter() - start
        finally:
            with self._lock:
                self._running.pop(key, None)
                cancelled = key in self._cancelled
                self._cancelled.discard(key)
        if not alive:
            cur.close()
        if timed_out:
            if by_budget:
                raise BudgetExhausted(elapsed)
            raise QueryTimeout(self.timeout_s, elapsed)
        if outcome.error is not None:
            if cancelled and isinstance(outcome.error, duckdb.InterruptException):
                raise QueryCancelled(elapsed)
            raise _query_failed(outcome.error) from None
        return QueryResult(
            columns=outcome.columns,
            types=outcome.types,
            rows=outcome.rows,
            truncated=outcome.truncated,
            elapsed_s=elapsed,
        )


def _query_failed(exc: BaseException) -> QueryFailed:
    import duckdb

    text = str(exc)
    if isinstance(exc, duckdb.OutOfMemoryException):
        kind = "out_of_memory"
    elif isinstance(exc, duckdb.PermissionException):
        kind = "permission"
    elif isinstance(exc, duckdb.InterruptException):
        kind = "cancelled"
    else:
        kind = "error"
    return QueryFailed(_first_paragraph(text), detail=text, kind=kind)
