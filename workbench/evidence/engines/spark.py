"""Running a run's term checks on Spark (local mode, a cluster, or Spark Connect).

The same checks as the DuckDB engine (`workbench.evidence.runner`), judged by the same code
(`checks.judge_rows`, `checks.judge_sql`): only the query runs elsewhere. Each check's SQL is
the DuckDB SQL the finding stores, transpiled by `spark_sql.to_spark`; custom SQL terms go
through `sql_guard.guard_for_spark` first. Only aggregates come back to this process: the
rows a check's SQL returns (a few per term), never the evidence rows.

Isolation mirrors the DuckDB sandboxes: generated checks share one Spark session per run
(`newSession()`: its own temporary views and settings, the cluster's resources) holding each
snapshot as the view ``ev_<id>``; every custom SQL term gets a session of its own holding only
the views it declares, named after their kinds. Sessions never see each other's views. A
custom term's analyzed plan is checked before it runs (`spark_plan.refuse_foreign_plan`:
no user function, no relation but its declared views) on classic sessions.

Limits: each query is interrupted past ``[evidence] query_timeout`` or the run budget
(`interruptTag`); results are capped by ``spark.driver.maxResultSize`` and custom SQL returns
at most 3 rows. The memory cap of the DuckDB worker does not apply: Spark's own memory
settings bound its JVMs (docs/engines.md).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from workbench.evidence.checks import (
    CheckResult,
    bind_views,
    finite_or_error,
    generated_sql,
    judge_rows,
    judge_sql,
    limit_for,
)
from workbench.evidence.engines.spark_sql import NotTranspilable, to_spark
from workbench.evidence.errors import SqlRefused
from workbench.evidence.runner import (
    CheckJob,
    Limits,
    ViewFile,
    exhausted,
    stopped_by_budget,
    view_name,
)
from workbench.model.terms import RepresentationTerm, SqlTerm

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Settings every session gets; the run's correctness depends on them (docs/engines.md).
SESSION_CONF: dict[str, str] = {
    # Timestamps are instants shown in UTC, like DuckDB's TIMESTAMPTZ under TimeZone=UTC.
    "spark.sql.session.timeZone": "UTC",
    # DuckDB's semantics for division by zero and casts of bad text (NULL, not an abort).
    "spark.sql.ansi.enabled": "false",
    # `SELECT * FROM parquet.`/etc/x`` would read any file the cluster can: off.
    "spark.sql.runSQLOnFiles": "false",
}
# Static settings of a local session this process starts (a cluster's are its own).
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    # A check returns a few rows; a result beyond this is an error, not a driver OOM.
    "spark.driver.maxResultSize": "64m",
    "spark.sql.warehouse.dir": "",  # set per process below: never the current directory
    # Local mode talks to itself only: on loopback, never the machine's outside address
    # (which may be unreachable in a sandbox: stopping the JVM then waited minutes).
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
CUSTOM_SQL_MAX_ROWS = 3


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing, or the cluster cannot be reached."""


@dataclass(frozen=True)
class SparkTarget:
    """Where checks run: `master` (``local[2]``, ``spark://…``, ``yarn``) or `remote`
    (``sc://host:15002``, Spark Connect), as resolved by `workbench.evidence.engines.config`."""

    master: str | None = None
    remote: str | None = None

    @property
    def endpoint(self) -> str:
        """Where checks run, as recorded in findings and messages: a Spark Connect URL's
        parameter values (a `token`, a `user_id`) are dropped, never written down."""
        if self.remote:
            base, _, params = self.remote.partition("/;")
            names = [p.partition("=")[0] for p in params.split(";") if p]
            return base + "".join(f";{n}=…" for n in names)
        return self.master or "local[2]"


_lock = threading.Lock()
_base: SparkSession | None = None
_base_target: SparkTarget | None = None


def spark_session(target: SparkTarget) -> SparkSession:
    """The process's Spark session for `target` (started once, reused by every run)."""
    global _base, _base_target
    with _lock:
        if _base is not None and _base_target == target:
            return _base
        if _base is not None:  # another cluster than the one this process started on
            _base.stop()
            _base = _base_target = None
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SparkUnavailable(
                "the Spark engine needs pyspark: pip install 'handshake-workbench[spark]' "
                "(and Java 17 for local mode)"
            ) from None
        try:
            if target.remote:
                # create(), not getOrCreate(): never a session some other code left active.
                session = SparkSession.builder.remote(target.remote).create()
            else:
                import tempfile

                builder = SparkSession.builder.master(target.master or "local[2]").appName(
                    "handshake-workbench evaluate"
                )
                conf = dict(LOCAL_CONF)
                conf["spark.sql.warehouse.dir"] = tempfile.mkdtemp(prefix="workbench-spark-wh-")
                for key, value in {**conf, **SESSION_CONF}.items():
                    builder = builder.config(key, value)
                session = builder.getOrCreate()
                session.sparkContext.setLogLevel("ERROR")
        except SparkUnavailable:
            raise
        except Exception as exc:  # JVM missing, cluster unreachable: one clear message
            raise SparkUnavailable(
                f"cannot start Spark at {target.endpoint}: {_first_line(str(exc))} "
                "(local mode needs Java 17: `java -version`)"
            ) from None
        _base, _base_target = session, target
        return session


def stop_session() -> None:
    """Stop the process's Spark session (the next run starts a new one)."""
    global _base, _base_target
    with _lock:
        if _base is not None:
            _base.stop()
            _base = _base_target = None


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else "no message"


def _fresh(base: SparkSession) -> SparkSession:
    """A session of its own (temporary views and SQL settings) on the same cluster."""
    try:
        session = base.newSession()
    except Exception:  # a Spark Connect server without it: a new session, same cluster
        if _base_target is None or _base_target.remote is None:
            raise
        session = type(base).builder.remote(_base_target.remote).create()
    for key, value in SESSION_CONF.items():
        with contextlib.suppress(Exception):  # static on some clusters: set at start
            session.conf.set(key, value)
    return session


# --------------------------------------------------------------------------- reading files


def read_snapshot(session: SparkSession, view: ViewFile) -> DataFrame:
    """A snapshot file (or a table version's data files) as a DataFrame, typed as DuckDB
    would type it: CSV columns inferred, with the kind's text columns kept as text."""
    from workbench.evidence.kinds import get_kind

    paths = list(view.files) or [view.path]
    fmt, kind = view.format, view.kind
    reader = session.read
    if fmt == "parquet":
        return reader.parquet(*paths)
    if fmt in ("json", "jsonl"):
        return reader.option("multiLine", fmt == "json").json(paths)
    if fmt != "csv":
        raise SparkUnavailable(f"unsupported evidence format {fmt!r}")
    inferred = reader.option("header", True).option("inferSchema", True).csv(paths)
    text = {c.name.lower() for c in get_kind(kind).columns if c.family == "VARCHAR"}
    if not text & {f.name.lower() for f in inferred.schema.fields}:
        return inferred
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType(
        [
            StructField(f.name, StringType(), True) if f.name.lower() in text else f
            for f in inferred.schema.fields
        ]
    )
    return reader.option("header", True).schema(schema).csv(paths)


# --------------------------------------------------------------------------- rows


def _rows(
    df: DataFrame, limit: int | None = None
) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
    """(columns, types, rows) with timestamps as aware UTC datetimes (as DuckDB gives them)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampNTZType, TimestampType

    stamps = {
        f.name for f in df.schema.fields if isinstance(f.dataType, TimestampType | TimestampNTZType)
    }
    columns = list(df.columns)
    types = [f.dataType.simpleString() for f in df.schema.fields]
    if stamps:
        # PySpark turns TIMESTAMP into naive local datetimes of this process; read the
        # instant itself instead.
        df = df.select(
            *[
                F.unix_micros(F.col(f"`{c}`")).alias(c) if c in stamps else F.col(f"`{c}`")
                for c in columns
            ]
        )
    got = df.limit(limit).collect() if limit is not None else df.collect()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    rows = []
    for row in got:
        values = []
        for c, v in zip(columns, row, strict=True):
            if c in stamps and v is not None:
                v = epoch + timedelta(microseconds=int(v))
            values.append(_plain(v))
        rows.append(tuple(values))
    return columns, types, rows


def _plain(value: Any) -> Any:
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {k: _plain(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- running


class _Deadline:
    """Interrupts a session's running query past the query timeout or the run budget."""

    def __init__(self, session: SparkSession, limits: Limits, deadline: float) -> None:
        self.session = session
        self.limits = limits
        self.deadline = deadline

    @contextlib.contextmanager
    def watch(self) -> Iterator[dict[str, bool]]:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _BudgetGone
        timeout = min(self.limits.query_timeout_s, left)
        state = {"fired": False, "budget": timeout < self.limits.query_timeout_s}
        tag = f"wb-{uuid.uuid4().hex[:12]}"
        self.session.addTag(tag)

        def fire() -> None:
            state["fired"] = True
            with contextlib.suppress(Exception):
                self.session.interruptTag(tag)

        timer = threading.Timer(timeout, fire)
        timer.daemon = True
        timer.start()
        try:
            yield state
        finally:
            timer.cancel()
            with contextlib.suppress(Exception):
                self.session.removeTag(tag)


class _BudgetGone(Exception):
    pass


@dataclass
class SparkOutcome:
    """One term's result on Spark and the Spark SQL it ran."""

    result: CheckResult
    spark_sql: str = ""


def run_jobs(
    jobs: Sequence[CheckJob], limits: Limits, target: SparkTarget
) -> dict[int, SparkOutcome]:
    """Check every job on Spark; every job gets an outcome (errors are `error` findings)."""
    out: dict[int, SparkOutcome] = {}
    if not jobs:
        return out
    base = spark_session(target)
    deadline = time.monotonic() + limits.run_budget_s
    shared = [j for j in jobs if not isinstance(j.term, SqlTerm)]
    own = [j for j in jobs if isinstance(j.term, SqlTerm)]
    if shared:
        session = _fresh(base)
        views: dict[str, str] = {}
        for job in shared:
            for f in job.views.values():
                name = view_name(f.snapshot)
                if name in views:
                    continue
                try:
                    read_snapshot(session, f).createOrReplaceTempView(name)
                    views[name] = ""
                except Exception as exc:
                    views[name] = f"evidence cannot be read on Spark: {_first_line(str(exc))}"
        clock = _Deadline(session, limits, deadline)
        for job in shared:
            tables = {v: view_name(f.snapshot) for v, f in job.views.items()}
            problem = next((views[t] for t in tables.values() if views[t]), "")
            if problem:
                out[job.key] = SparkOutcome(CheckResult("error", reason=problem))
            else:
                out[job.key] = _generated(session, job, tables, clock)
    for job in own:
        session = _fresh(base)
        try:
            for v, f in sorted(job.views.items()):
                read_snapshot(session, f).createOrReplaceTempView(v)
        except Exception as exc:
            out[job.key] = SparkOutcome(
                CheckResult(
                    "error", reason=f"evidence cannot be read on Spark: {_first_line(str(exc))}"
                )
            )
            continue
        out[job.key] = _custom(session, job, _Deadline(session, limits, deadline))
    for job in jobs:
        outcome = out[job.key]
        outcome.result.limit = outcome.result.limit or limit_for(job.term)
    return out


def _generated(
    session: SparkSession, job: CheckJob, tables: dict[str, str], clock: _Deadline
) -> SparkOutcome:
    columns = None
    if isinstance(job.term, RepresentationTerm):
        columns = {c.lower() for c in session.table(tables["group_counts"]).columns}
    sql = bind_views(generated_sql(job.term, job.clock, columns), tables)
    try:
        spark_sql = to_spark(sql)
    except NotTranspilable as exc:
        return SparkOutcome(CheckResult("error", reason=f"cannot run on Spark: {exc}", sql=sql))
    outcome = _run(session, spark_sql, clock, job, None)
    if isinstance(outcome, CheckResult):
        outcome.sql = sql
        return SparkOutcome(outcome, spark_sql)
    columns_out, _types, rows = outcome
    result = judge_rows(
        job.term, [dict(zip(columns_out, r, strict=True)) for r in rows], job.clock, job.adopted
    )
    result.sql = sql
    return SparkOutcome(result, spark_sql)


def _custom(session: SparkSession, job: CheckJob, clock: _Deadline) -> SparkOutcome:
    from workbench.evidence.sandbox import QueryResult
    from workbench.evidence.sql_guard import guard_for_spark

    term = job.term
    assert isinstance(term, SqlTerm)
    sql = term.query.strip()
    try:
        spark_sql = guard_for_spark(sql, set(job.views))
    except SqlRefused as exc:
        return SparkOutcome(CheckResult("error", reason=str(exc), sql=sql))
    from workbench.evidence.engines.spark_plan import refuse_foreign_plan

    views = set(job.views)
    outcome = _run(
        session,
        spark_sql,
        clock,
        job,
        CUSTOM_SQL_MAX_ROWS,
        inspect=lambda df: refuse_foreign_plan(df, views),
    )
    if isinstance(outcome, CheckResult):
        outcome.sql = sql
        return SparkOutcome(outcome, spark_sql)
    columns, types, rows = outcome
    result = finite_or_error(
        judge_sql(term, QueryResult(columns, types, rows[:2], len(rows) > 2, 0.0))
    )
    result.sql = sql
    return SparkOutcome(result, spark_sql)


def _run(
    session: SparkSession,
    spark_sql: str,
    clock: _Deadline,
    job: CheckJob,
    limit: int | None,
    inspect: Callable[[DataFrame], None] | None = None,
) -> tuple[list[str], list[str], list[tuple[Any, ...]]] | CheckResult:
    """Run `spark_sql`; `inspect` sees the analyzed DataFrame before any action and may
    refuse it (`SqlRefused`: the term is `error`, nothing ran)."""
    try:
        with clock.watch() as state:
            try:
                df = session.sql(spark_sql)
                if inspect is not None:
                    inspect(df)
                return _rows(df, limit)
            except SqlRefused as exc:
                return CheckResult("error", reason=str(exc))
            except Exception as exc:
                if state["fired"]:
                    if state["budget"]:
                        return stopped_by_budget(job, clock.limits)
                    return CheckResult(
                        "error",
                        reason=f"query timed out after {clock.limits.query_timeout_s:g}s "
                        "([evidence] query_timeout)",
                    )
                return CheckResult("error", reason=f"query failed on Spark: {_spark_message(exc)}")
    except _BudgetGone:
        return exhausted(job, clock.limits)


def _spark_message(exc: BaseException) -> str:
    """Spark's error class and message, without the JVM stack or the query plan."""
    text = _first_line(str(exc))
    return text[:500]


def spark_version(target: SparkTarget) -> str:
    return str(spark_session(target).version)
