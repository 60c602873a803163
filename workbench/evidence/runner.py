"""Running a run's term checks: batched where possible, in shared or own sandboxes.

This is the part of `workbench evaluate` that touches DuckDB and the evidence files. It
runs inside the evaluation worker (`workbench.evidence.worker`), a child process under a
hard memory cap, and reports each term's result as soon as it has one through `emit`,
so that a worker that dies loses only the term it was running.

Order: batched checks of Parquet evidence (one query per kind and parameters), then the
other generated checks in one sandbox holding every selected snapshot as ``ev_<id>``,
then contract SQL (``kind = "sql"``), each in a sandbox of its own with only its declared
views. Before each term the run budget is checked; a term that finds it used up is
`error` ("budget exhausted"), and a query is interrupted when the budget runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.evidence.checks import (
    CheckResult,
    bind_views,
    generated_sql,
    human_seconds,
    judge_rows,
    limit_for,
    run_check,
)
from workbench.evidence.errors import (
    BudgetExhausted,
    EvidenceError,
    QueryFailed,
    SandboxError,
    SqlRefused,
)
from workbench.model.terms import SqlTerm, TermBase

if TYPE_CHECKING:
    from workbench.evidence.sandbox import Sandbox, Watchdog
    from workbench.model.settings import Settings


@dataclass(frozen=True)
class ViewFile:
    """The verified file of one snapshot a check reads."""

    snapshot: str  # snapshot id
    path: str  # resolved, verified path
    kind: str
    format: str
    # A table version (Delta / Iceberg): every data file, `path` the first (Parquet).
    files: tuple[str, ...] = ()


@dataclass
class CheckJob:
    """One term to check: its evidence per logical view and its clock."""

    key: int
    term: TermBase
    clock: datetime
    views: dict[str, ViewFile] = field(default_factory=dict)
    adopted: date | None = None  # decision-threshold terms: the contract's adoption date


@dataclass(frozen=True)
class Limits:
    """What one run may cost (``[evidence]`` in workbench.toml)."""

    memory_cap: int  # bytes: the evaluation worker's address-space / data cap
    query_timeout_s: float
    run_budget_s: float
    threads: int = 2

    @property
    def duckdb_memory_limit(self) -> str:
        # DuckDB's own limit sits well below the process cap, so most queries that need
        # too much fail inside DuckDB with its message; the process cap catches the rest
        # (strings and results DuckDB's limit does not count).
        return f"{min(512, self.memory_cap // 2**20 // 2)}MB"

    @property
    def memory_cap_text(self) -> str:
        mib = self.memory_cap // 2**20
        return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"

    @property
    def budget_text(self) -> str:
        return human_seconds(self.run_budget_s)


def limits_for(settings: Settings | None) -> Limits:
    """The run's limits from ``[evidence]`` of workbench.toml (its defaults without one):
    the evaluation's, and ``verify-bundle --recompute``'s from the bundle's settings."""
    from workbench.model.settings import EvidenceLimits, memory_bytes

    cfg = settings.evidence if settings else EvidenceLimits()
    return Limits(
        memory_cap=memory_bytes(cfg.memory_cap),
        query_timeout_s=cfg.query_timeout.total_seconds(),
        run_budget_s=cfg.run_budget.total_seconds(),
    )


Emit = Callable[[str, Any], None]


def view_file(v: ViewFile) -> Any:
    """The sandbox's `SnapshotFile` for a view (a table version: all its data files)."""
    from dataclasses import replace

    from workbench.evidence.kinds import snapshot_file

    snap = snapshot_file(Path(v.path), v.kind, v.format)
    return replace(snap, more=tuple(Path(p) for p in v.files[1:])) if v.files else snap


def view_name(snapshot_id: str) -> str:
    """The sandbox view holding a snapshot in a shared sandbox: ``ev_<12 hex>``."""
    return snapshot_id.replace("-", "_")


def exhausted(job: CheckJob, limits: Limits) -> CheckResult:
    return CheckResult(
        "error",
        limit=limit_for(job.term),
        reason=f"budget exhausted: the run budget of {limits.budget_text} was used up "
        "before this term ran ([evidence] run_budget)",
    )


def stopped_by_budget(job: CheckJob, limits: Limits) -> CheckResult:
    return CheckResult(
        "error",
        limit=limit_for(job.term),
        reason=f"stopped: the run budget of {limits.budget_text} was used up while this "
        "term ran ([evidence] run_budget)",
    )


def over_memory(job: CheckJob, limits: Limits, detail: str) -> CheckResult:
    return CheckResult(
        "error",
        limit=limit_for(job.term),
        reason=f"the check exceeded the memory cap of {limits.memory_cap_text} "
        f"([evidence] memory_cap): {detail}",
    )


def run_jobs(
    jobs: Sequence[CheckJob],
    limits: Limits,
    *,
    deadline: float,
    emit: Emit,
    watchdog: Watchdog | None = None,
    batch: bool = True,
) -> None:
    """Check every job; `emit("start", [keys])` before work on them and
    `emit("result", (key, CheckResult))` for each. `deadline`: time.monotonic() budget end."""
    import time

    from workbench.evidence.sandbox import Sandbox

    def sandbox(files: dict[str, Any], readable: Sequence[Any] = ()) -> Sandbox:
        return Sandbox(
            files,
            readable=readable,
            memory_limit=limits.duckdb_memory_limit,
            threads=limits.threads,
            timeout_s=limits.query_timeout_s,
            watchdog=watchdog,
            deadline=deadline,
        )

    def over_budget() -> bool:
        return time.monotonic() >= deadline

    shared = [j for j in jobs if not isinstance(j.term, SqlTerm)]
    own = [j for j in jobs if isinstance(j.term, SqlTerm)]
    if batch and shared and not over_budget():
        done = _run_batched(shared, limits, sandbox, emit)
        shared = [j for j in shared if j.key not in done]
    if shared:
        files = {}
        for job in shared:
            for v in job.views.values():
                files[view_name(v.snapshot)] = view_file(v)
        try:
            sb = sandbox(files)
        except EvidenceError:
            own = shared + own  # an unreadable file: each term on its own, only its terms fail
        else:
            with sb:
                for job in shared:
                    if over_budget():
                        emit("result", (job.key, exhausted(job, limits)))
                        continue
                    emit("start", [job.key])
                    tables = {v: view_name(f.snapshot) for v, f in job.views.items()}
                    emit("result", (job.key, _check(sb, job, tables, limits)))
    for job in own:
        if over_budget():
            emit("result", (job.key, exhausted(job, limits)))
            continue
        emit("start", [job.key])
        files = {v: view_file(f) for v, f in sorted(job.views.items())}
        try:
            sb = sandbox(files)
        except EvidenceError as exc:
            result = CheckResult(
                "error", limit=limit_for(job.term), reason=f"evidence cannot be read: {exc}"
            )
        except MemoryError:
            result = over_memory(job, limits, "setting up the sandbox")
        else:
            with sb:
                result = _check(sb, job, {}, limits)
        emit("result", (job.key, result))


def _run_batched(
    jobs: Sequence[CheckJob],
    limits: Limits,
    sandbox: Callable[..., Sandbox],
    emit: Emit,
) -> set[int]:
    """Checks of Parquet evidence that `workbench.evidence.batch` can run as one query per
    kind and parameters, judged exactly as the term's own SQL would be. Returns the keys
    it emitted; everything else is left to the per-term path."""
    from workbench.evidence import batch
    from workbench.evidence.sandbox import SnapshotFile

    items: list[batch.BatchItem] = []
    by_key = {j.key: j for j in jobs}
    for job in jobs:
        if not isinstance(job.term, batch.BATCH_TERMS):
            continue
        if any(v.format != "parquet" or v.files for v in job.views.values()):
            continue
        paths = {v: Path(f.path) for v, f in job.views.items()}
        items.append(batch.BatchItem(job.key, job.term, paths, job.clock))
    if len(items) < 2:
        return set()
    readable = {str(p): SnapshotFile(p, "parquet") for it in items for p in it.files.values()}
    emit("start", [it.key for it in items])
    try:
        sb = sandbox({}, list(readable.values()))
    except EvidenceError as exc:
        emit(
            "note",
            f"batch: the batch sandbox could not open the files ({exc}); each of "
            f"{len(items)} terms runs its own query",
        )
        return set()
    notes: list[str] = []
    with sb:
        try:
            rows = batch.run_batches(sb, items, notes)
        except MemoryError:
            # each term on its own: only the one that needs too much fails
            emit(
                "note",
                f"batch: the batched checks ran out of memory (memory cap "
                f"{limits.memory_cap_text}); each of {len(items)} terms runs its own query",
            )
            return set()
        finally:
            for note in notes:
                emit("note", note)
    done: set[int] = set()
    for item in items:
        if item.key not in rows:
            continue
        job = by_key[item.key]
        result = judge_rows(job.term, rows[item.key], item.clock)
        tables = {v: view_name(f.snapshot) for v, f in job.views.items()}
        result.sql = bind_views(generated_sql(job.term, item.clock), tables)
        result.limit = result.limit or limit_for(job.term)
        emit("result", (item.key, result))
        done.add(item.key)
    return done


def _check(sb: Sandbox, job: CheckJob, tables: dict[str, str], limits: Limits) -> CheckResult:
    try:
        result = run_check(sb, job.term, job.clock, adopted=job.adopted, tables=tables)
    except SqlRefused as exc:
        result = CheckResult("error", reason=str(exc))
    except BudgetExhausted:
        result = stopped_by_budget(job, limits)
    except QueryFailed as exc:
        if exc.kind == "out_of_memory":
            result = over_memory(job, limits, exc.message)
        else:
            result = CheckResult("error", reason=f"query failed: {exc.message}")
    except (SandboxError, EvidenceError) as exc:
        result = CheckResult("error", reason=str(exc))
    except MemoryError:
        result = over_memory(job, limits, "the result did not fit")
    result.limit = result.limit or limit_for(job.term)
    result.sql = result.sql or str(getattr(job.term, "query", "") or "")
    return result
