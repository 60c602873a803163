"""Where a run's term checks execute: the embedded DuckDB (default) or Spark.

`resolve_engine` turns `evaluate --engine NAME` plus ``[evidence.engines.*]`` in
workbench.toml plus this machine's configuration into an `Engine`; `run_checks` runs the
checks there. Both engines judge with the same code (`workbench.evidence.checks`); only the
query runs elsewhere. docs/engines.md is the user's guide.

**Who chooses the cluster.** workbench.toml is committed, so anyone who can push can edit
it; a cluster computes the verdicts. So a cluster named only by workbench.toml is refused:
the machine that runs `evaluate` must name the same endpoint (``$WORKBENCH_SPARK_MASTER`` /
``$WORKBENCH_SPARK_REMOTE``, or ``[evidence.engines.spark]`` in the user's config.toml),
like the evidence roots. Local mode (``local[N]``) runs on this machine, with this code,
and may come from workbench.toml.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.evidence.checks import CheckResult
    from workbench.evidence.engines.spark import SparkTarget
    from workbench.evidence.runner import CheckJob, Limits
    from workbench.evidence.worker import WorkerStats
    from workbench.model.settings import Settings

ENGINES = ("duckdb", "spark")
MASTER_ENV = "WORKBENCH_SPARK_MASTER"
REMOTE_ENV = "WORKBENCH_SPARK_REMOTE"


class EngineError(ValueError):
    """The engine asked for cannot be used as configured (exit 2, nothing run)."""


@dataclass(frozen=True)
class Engine:
    name: str = "duckdb"
    spark: SparkTarget | None = None

    def describe(self, version: str) -> dict[str, Any]:
        """What a run and each finding record about the engine (never for DuckDB)."""
        assert self.spark is not None
        return {"name": self.name, "version": version, "endpoint": self.spark.endpoint}


@dataclass
class EngineRun:
    """Every job's result, the Spark SQL each ran (Spark only), and the DuckDB worker's
    figures (DuckDB only)."""

    results: dict[int, CheckResult]
    engine_sql: dict[int, str] = field(default_factory=dict)
    stats: WorkerStats | None = None
    version: str = ""


def _is_local(master: str) -> bool:
    return re.fullmatch(r"local(\[([1-9][0-9]{0,3}|\*)\])?", master) is not None


def resolve_engine(name: str | None, settings: Settings | None) -> Engine:
    """The engine for `evaluate --engine NAME` (None: DuckDB)."""
    if name in (None, "duckdb"):
        return Engine()
    if name != "spark":
        raise EngineError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
    from workbench.evidence.engines.spark import SparkTarget
    from workbench.model.settings import SPARK_MASTER_PATTERN, SPARK_REMOTE_PATTERN

    machine_master, machine_remote, where = _machine_spark()
    for value, pattern, what in (
        (machine_master, SPARK_MASTER_PATTERN, "master"),
        (machine_remote, SPARK_REMOTE_PATTERN, "remote"),
    ):
        if value is not None and not re.fullmatch(pattern, value):
            raise EngineError(f"{where}: Spark {what} {value!r} is not a valid endpoint")
    if machine_master and machine_remote:
        raise EngineError(f"{where}: name either a Spark master or a remote, not both")
    if machine_master or machine_remote:
        return Engine("spark", SparkTarget(machine_master, machine_remote))
    repo = settings.evidence.engines.spark if settings is not None else None
    if repo is None or (repo.master is None and repo.remote is None):
        return Engine("spark", SparkTarget("local[2]"))
    if repo.master is not None and _is_local(repo.master):
        return Engine("spark", SparkTarget(repo.master))
    named = repo.remote or repo.master
    env = REMOTE_ENV if repo.remote else MASTER_ENV
    raise EngineError(
        f"workbench.toml [evidence.engines.spark] names the cluster {named!r}, but this "
        f"machine does not: a cluster computes the verdicts, so the machine that runs "
        f"evaluate chooses it. Set {env}={named} (or "
        f"{'remote' if repo.remote else 'master'} = {named!r} under [evidence.engines.spark] "
        "in your config.toml) to use it (docs/engines.md)"
    )


def _machine_spark() -> tuple[str | None, str | None, str]:
    master = os.environ.get(MASTER_ENV) or None
    remote = os.environ.get(REMOTE_ENV) or None
    if master or remote:
        return master, remote, f"${MASTER_ENV if master else REMOTE_ENV}"
    from workbench.repo.user_config import config_home, user_config

    path = config_home() / "config.toml"
    where = f"{path} [evidence.engines.spark]"
    section = user_config().get("evidence")
    # A misspelt key would silently drop the cluster this machine meant, and the run would
    # go to local mode instead: every key on the way is checked (docs/engines.md).
    _known_keys(path, "[evidence]", section, ("roots", "engines"))
    engines = section.get("engines") if isinstance(section, dict) else None
    _known_keys(path, "[evidence.engines]", engines, ENGINES[1:])
    spark = engines.get("spark") if isinstance(engines, dict) else None
    _known_keys(path, "[evidence.engines.spark]", spark, ("master", "remote"))
    if not isinstance(spark, dict):
        return None, None, where
    values = []
    for key in ("master", "remote"):
        value = spark.get(key)
        if value is not None and not isinstance(value, str):
            raise EngineError(f"{where}: {key} must be a string")
        values.append(value)
    return values[0], values[1], where


def _known_keys(path: object, table: str, value: object, known: tuple[str, ...]) -> None:
    if not isinstance(value, dict):
        return
    for key in value:
        if key not in known:
            raise EngineError(
                f"{path}: unknown key {key!r} under {table} (known: {', '.join(known)}); "
                "check the spelling (docs/engines.md, 'Pointing the workbench at your cluster')"
            )


def run_checks(jobs: Sequence[CheckJob], limits: Limits, engine: Engine) -> EngineRun:
    """Run `jobs` on `engine`; every job gets a result."""
    if engine.name == "duckdb":
        from workbench.evidence.worker import run_isolated

        results, stats = run_isolated(jobs, limits)
        return EngineRun(results, stats=stats)
    from workbench.evidence.engines import spark

    assert engine.spark is not None
    try:
        outcomes = spark.run_jobs(jobs, limits, engine.spark)
        version = spark.spark_version(engine.spark)
    except spark.SparkUnavailable as exc:
        raise EngineError(str(exc)) from None
    return EngineRun(
        {k: o.result for k, o in outcomes.items()},
        {k: o.spark_sql for k, o in outcomes.items()},
        version=version,
    )
