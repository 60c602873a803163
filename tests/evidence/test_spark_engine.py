"""The Spark engine (issue 18): every term kind gives the same verdict and the same observed
values on Spark as on DuckDB, on the same data — the demo's evidence, the benchmark's
Parquet and a contract with every term kind over CSV, Parquet and JSONL with NULL, NaN, ±inf
and text where numbers belong. Contract SQL on Spark passes the DuckDB guard's hostile cases
and Spark's own (Java calls, catalog tables, undeclared views).

All tests share ONE local Spark session (`spark` in tests/conftest.py) and run in one xdist
worker (`xdist_group`), so the JVM starts once per suite."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.evidence.conftest import copy_to
from tests.evidence.files import (
    assertion_runs_csv,
    contract_head,
    declare_channels,
    hours_ago,
    lags_csv,
    thresholds_csv,
)
from tests.evidence.hostile_sql import FILE_ACCESS, NON_SELECT, THROUGH_EVALUATE
from workbench.evidence.errors import SqlRefused
from workbench.evidence.sql_guard import guard_for_spark
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.evidence import EvidenceService
from workbench.service.init import init_repo

NOW = FIXED_NOW
pytestmark = pytest.mark.xdist_group("spark")


def evaluate(root: Path, engine: str | None, now: Any = NOW) -> dict[str, Any]:
    wb = Workbench(root, now=now, readonly=True, actor="data.lead")
    return EvidenceService(wb).evaluate(write=False, engine=engine).run


def same_findings(duck: dict[str, Any], spark: dict[str, Any]) -> list[str]:
    """Differences between the two runs' findings, the engine record aside."""
    problems = []
    assert len(duck["findings"]) == len(spark["findings"])
    for a, b in zip(duck["findings"], spark["findings"], strict=True):
        b = {k: v for k, v in b.items() if k != "engine"}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                problems.append(
                    f"{a['contract']}/{a['term']} {key}: duckdb {a.get(key)!r} spark {b.get(key)!r}"
                )
    return problems


def assert_engine_recorded(run: dict[str, Any]) -> None:
    assert run["inputs"]["sql_engine"]["name"] == "spark"
    assert run["inputs"]["sql_engine"]["version"].startswith("4.")
    ran = [f for f in run["findings"] if "engine" in f]
    assert ran, "no finding names the engine"
    for f in ran:
        assert f["engine"]["name"] == "spark" and f["engine"]["endpoint"].startswith("local")
        if f["status"] != "error":
            assert f["engine"]["sql"].startswith(("SELECT", "WITH")), f["engine"]
            # The Spark SQL is the stored DuckDB SQL transpiled, not another query.
            assert "`" in f["engine"]["sql"] or f["kind"] == "sql"


# --------------------------------------------------------------------------- differential


def test_demo_evidence_same_verdicts_and_values_on_spark(
    spark: Any, demo_repo: Path, tmp_path: Path
) -> None:
    from tests.bundle.spark_recompute import assert_recomputed_by_duckdb, record_on_spark

    duck = evaluate(demo_repo, None)  # the demo is built at FIXED_NOW
    on_spark = record_on_spark(demo_repo, NOW)  # recorded: the bundle below ships it
    assert same_findings(duck, on_spark) == []
    kinds = {f["kind"] for f in duck["findings"] if f["status"] not in ("no-data",)}
    assert {
        "freshness",
        "representation",
        "lineage",
        "calibration",
        "distribution_shift",
        "decision_threshold",
        "living_attestation",
        "sql",
    } <= kinds
    assert {f["status"] for f in duck["findings"]} >= {"pass", "fail"}
    assert_engine_recorded(on_spark)
    # Another engine is another run: the run id says which engine produced it.
    assert duck["run"] != on_spark["run"]
    # An auditor without Spark recomputes these findings from a bundle with DuckDB.
    assert_recomputed_by_duckdb(demo_repo, on_spark, tmp_path)


def test_benchmark_parquet_same_verdicts_and_values_on_spark(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.evidence_evaluate import NOW as BENCH_NOW
    from benchmarks.evidence_evaluate import build

    build(tmp_path, contracts=4, rows=24_000)
    monkeypatch.setenv("WORKBENCH_EVIDENCE_ROOTS", str(tmp_path / "data"))
    root = tmp_path / "repo"
    # DuckDB batches these (one query per kind over every file); Spark runs each term's own.
    duck = evaluate(root, None, BENCH_NOW)
    on_spark = evaluate(root, "spark", BENCH_NOW)
    assert same_findings(duck, on_spark) == []
    assert {f["kind"] for f in duck["findings"]} >= {
        "freshness",
        "calibration",
        "distribution_shift",
    }
    assert all(f["status"] != "error" for f in duck["findings"])
    assert_engine_recorded(on_spark)


EVERY_KIND = (
    contract_head("every-kind", "Every term kind")
    + """
[[terms]]
id = "fresh-p95"
kind = "freshness"
owner = "data.lead"
fail_after = "PT24H"
warn_after = "PT6H"
percentile = 95

[[terms]]
id = "fresh-max"
kind = "freshness"
owner = "data.lead"
fail_after = "PT48H"
percentile = 100
sources = ["app", "never-seen"]

[[terms]]
id = "groups"
kind = "representation"
owner = "data.lead"
attribute = "sex"
warn_margin = 0.06
[terms.groups.f]
min = 0.4
max = 0.6
[terms.groups.m]
min = 0.3
max = 0.6

[[terms]]
id = "lineage"
kind = "lineage"
owner = "data.lead"
included = [{{ source = "app", refresh_cadence = "P1D" }}, {{ source = "crm", refresh_cadence = "PT1H" }}]
excluded = [{{ source = "pii", reason = "no personal data" }}]

[[terms]]
id = "range"
kind = "calibration"
owner = "model.lead"
calibration_reference = "card"
range_min = 0.05
range_max = 0.9
fail_share_outside = 0.2
warn_share_outside = 0.05

[[terms]]
id = "shift-psi"
kind = "distribution_shift"
owner = "model.lead"
reference = "ref-a"
bins = 5

[[terms]]
id = "shift-js"
kind = "distribution_shift"
owner = "model.lead"
reference = "ref-a"
method = "jensen_shannon"
binning = "equal_width"
bins = 7
warn = 0.05
fail = 0.3

[[terms]]
id = "threshold"
kind = "decision_threshold"
owner = "model.lead"
name = "cut"
value = 0.5
tolerance = 0.001
change_cosigner = "data.lead"

[[terms]]
id = "assertions"
kind = "living_attestation"
owner = "model.lead"
reviewer = "data.lead"
min_pass_rate = 0.9
warn_pass_rate = 0.95
window = "P7D"
assertions = [{{ id = "a1", statement = "s", test = "t1" }}, {{ id = "a2", statement = "s", test = "t2" }}]

[[terms]]
id = "bounded"
kind = "bounds"
owner = "data.lead"
view = "custom"
column = "v"
min = 0
max = 1
fail_share_outside = 0.5

[[terms]]
id = "segments"
kind = "sql"
owner = "data.lead"
views = ["score_samples"]
query = "SELECT max(n) AS value FROM (SELECT segment, count(*) AS n FROM score_samples GROUP BY segment)"
fail = 1000

[[terms]]
id = "p90"
kind = "sql"
owner = "data.lead"
views = ["score_samples", "freshness_lags"]
query = \"\"\"WITH s AS (SELECT score FROM score_samples WHERE isfinite(score))
SELECT quantile_cont(score, 0.9) + 0 * (SELECT count(*) FROM freshness_lags) AS value FROM s\"\"\"
direction = "at_least"
fail = 0.1
warn = 0.2

[[terms]]
id = "lag-hours"
kind = "sql"
owner = "data.lead"
views = ["freshness_lags"]
query = "SELECT max(epoch(CAST(available_at AS TIMESTAMPTZ)) - epoch(CAST(updated_at AS TIMESTAMPTZ))) / 3600 AS value FROM freshness_lags"
fail = 30
"""
)


def every_kind_repo(base: Path) -> Path:
    root = init_repo(base / "repo", now=NOW - timedelta(days=10))
    declare_channels(root, NOW - timedelta(days=10) + timedelta(minutes=1))
    GitRepo(root).commit_files(
        {"contracts/every-kind.toml": EVERY_KIND.format().encode()},
        "contract",
        Author("Data Lead", "data.lead@example.org"),
        when=NOW - timedelta(days=5),
    )
    d = base / "files"
    d.mkdir()
    lags: list[tuple[str, str, str | None]] = []
    for i in range(40):
        src = ("app", "crm", "web")[i % 3]
        lags.append((src, hours_ago(30 + i * 0.7), hours_ago(30 + i * 0.7 - (i % 9) * 1.3)))
    lags.append(("app", hours_ago(3), None))  # not yet accessible: keeps ageing
    lags_csv(d / "lags.csv", lags)
    copy_to(
        d / "groups.parquet",
        "SELECT * FROM (VALUES "
        "('sex','f',45::BIGINT, TIMESTAMPTZ '2026-11-26 00:00:00+00'),"
        "('sex','m',50::BIGINT, TIMESTAMPTZ '2026-11-26 00:00:00+00'),"
        "('sex','x',5::BIGINT, TIMESTAMPTZ '2026-11-26 00:00:00+00'),"
        "('sex','f',10::BIGINT, TIMESTAMPTZ '2026-11-20 00:00:00+00'),"
        "('age','18',7::BIGINT, NULL)) AS t(attribute, \"group\", count, observed_at)",
    )
    (d / "lineage.jsonl").write_text(
        "\n".join(
            json.dumps({"source": s, "refreshed_at": (NOW - timedelta(hours=h)).isoformat()})
            for s, h in (("app", 5), ("app", 30), ("crm", 3), ("pii", 40), ("new", 2))
        )
        + "\n",
        encoding="utf-8",
    )
    # Scores with NaN and ±inf among them (the kind allows no NULL); the reference without.
    copy_to(
        d / "live.parquet",
        "SELECT TIMESTAMPTZ '2026-11-27 08:00:00+00' - to_seconds(i) AS scored_at,"
        " CASE WHEN i % 89 = 0 THEN 'nan'::DOUBLE"
        " WHEN i % 83 = 0 THEN 'inf'::DOUBLE WHEN i % 79 = 0 THEN '-inf'::DOUBLE"
        " ELSE ((hash(i) % 1000) / 1000.0) ^ 1.3 END AS score,"
        " CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END AS segment FROM range(3000) t(i)",
    )
    copy_to(
        d / "ref.parquet",
        "SELECT TIMESTAMPTZ '2026-08-27 08:00:00+00' AS scored_at,"
        " ((hash(i * 7) % 1000) / 1000.0) AS score, NULL::VARCHAR AS segment FROM range(2500) t(i)",
    )
    thresholds_csv(
        d / "cfg.csv",
        [
            ("cut", "0.5", hours_ago(24 * 20), "model.lead", "data.lead"),
            ("cut", "0.45", hours_ago(24 * 3), "model.lead", ""),
            ("cut", "0.5", hours_ago(24 * 1), "model.lead", "data.lead"),
            ("cut", "0.5", hours_ago(12), "ops.bot", ""),
            ("other", "0.9", hours_ago(24 * 1), "x", ""),
        ],
    )
    runs = [("a1", hours_ago(i * 5), "false" if i % 7 == 0 else "true", "t1") for i in range(30)]
    runs.append(("a2", hours_ago(24 * 9), "true", "t2"))  # outside the window: no runs in it
    assertion_runs_csv(d / "runs.csv", runs)
    (d / "custom.csv").write_text(
        "v,label\n0.5,a\n1.5,b\n,c\nabc,d\nnan,e\n0.0,f\n1,g\n-0.25,h\n", encoding="utf-8"
    )
    svc = EvidenceService(Workbench(root, now=NOW - timedelta(minutes=30), actor="data.lead"))
    captured = NOW - timedelta(hours=1)
    for name, kind, extra in (
        ("lags.csv", "freshness_lags", {}),
        ("groups.parquet", "group_counts", {}),
        ("lineage.jsonl", "lineage_manifest", {}),
        ("live.parquet", "score_samples", {}),
        ("cfg.csv", "threshold_config", {}),
        ("runs.csv", "assertion_results", {}),
        ("custom.csv", "custom", {}),
    ):
        svc.add(d / name, kind, contract="every-kind", captured_at=captured, **extra)
    svc.add(
        d / "ref.parquet",
        "score_samples",
        contract="every-kind",
        captured_at=NOW - timedelta(days=90),
        name="ref-a",
    )
    return root


def test_every_term_kind_same_on_spark_over_csv_parquet_jsonl_with_hostile_values(
    spark: Any, tmp_path: Path
) -> None:
    root = every_kind_repo(tmp_path)
    duck = evaluate(root, None)
    on_spark = evaluate(root, "spark")
    assert same_findings(duck, on_spark) == []
    by = {f["term"]: f for f in duck["findings"]}
    # The data was made to reach every outcome, so equality is not "both errored".
    assert {k: by[k]["status"] for k in by if k != "freshness"} == {
        "fresh-p95": "fail",
        "fresh-max": "no-data",
        "groups": "warn",
        "lineage": "fail",
        "range": "fail",
        "shift-psi": "pass",
        "shift-js": "warn",
        "threshold": "fail",
        "assertions": "fail",
        "bounded": "fail",
        "segments": "fail",
        "p90": "pass",
        "lag-hours": "pass",
        "page-test": "pass",
    }, {k: (by[k]["status"], by[k]["reason"]) for k in by}
    assert all(by[k]["observed"] is not None for k in ("range", "shift-psi", "shift-js", "p90"))
    assert_engine_recorded(on_spark)


# --------------------------------------------------------------------------- the guard


@pytest.mark.parametrize("sql", NON_SELECT)
def test_spark_guard_refuses_what_the_duckdb_guard_refuses(sql: str) -> None:
    with pytest.raises(SqlRefused):
        guard_for_spark(sql, {"scores"})


@pytest.mark.parametrize(("sql", "named"), FILE_ACCESS)
def test_spark_guard_names_file_access_like_the_duckdb_guard(sql: str, named: str) -> None:
    with pytest.raises(SqlRefused) as info:
        guard_for_spark(sql, {"scores"})
    assert named in info.value.reason


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT reflect('java.lang.System', 'getProperty', 'user.home') AS value", "reflect()"),
        ("SELECT java_method('java.lang.System', 'getenv', 'HOME') AS value", "java_method()"),
        ("SELECT try_reflect('java.lang.Runtime', 'version') AS value", "try_reflect()"),
        ("SELECT max(input_file_name()) AS value FROM scores", "input_file_name()"),
        ("SELECT current_user() AS value", "current_user()"),
        ("SELECT count(*) AS value FROM main.scores", "main.scores"),
        ("SELECT count(*) AS value FROM other_view", "other_view"),
        ("SELECT count(*) AS value FROM scores JOIN spark_catalog.default.t ON true", "t"),
        ("WITH x AS (SELECT 1) SELECT count(*) AS value FROM x, secrets", "secrets"),
        ("DESCRIBE scores", "DESCRIBE"),
        ("SUMMARIZE scores", "SUMMARIZE"),
    ],
)
def test_spark_guard_refuses_java_catalogs_and_undeclared_views(sql: str, named: str) -> None:
    with pytest.raises(SqlRefused) as info:
        guard_for_spark(sql, {"scores"})
    assert named.lower() in info.value.reason.lower(), info.value.reason


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM scores",
        "  select 1 ;  ",
        "WITH s AS (SELECT * FROM scores) SELECT count(*) FROM s",
        "SELECT * FROM range(5)",
        "SELECT 'SELECT * FROM read_csv(''/etc/passwd'')' AS harmless_text",
        "SELECT quantile_cont(score, [0.5, 0.9]) AS q, epoch(now()) AS e FROM scores",
    ],
)
def test_spark_guard_accepts_read_only_selects_over_declared_views(sql: str) -> None:
    assert guard_for_spark(sql, {"scores"}).upper().startswith(("SELECT", "WITH"))


@pytest.mark.parametrize("query", THROUGH_EVALUATE)
def test_contract_sql_cannot_read_write_or_attach_on_spark(
    spark: Any, tmp_path: Path, query: str
) -> None:
    from tests.evidence.test_evaluate import repo_with_custom_query

    root = repo_with_custom_query(
        tmp_path, query.format(secret=tmp_path / "secret.csv", dir=tmp_path)
    )
    (tmp_path / "secret.csv").write_text("token\nhunter2\n", encoding="utf-8")
    run = evaluate(root, "spark")
    f = next(f for f in run["findings"] if f["term"] == "custom")
    assert f["status"] == "error", f
    assert "hunter2" not in json.dumps(run)
    assert not (tmp_path / "written.csv").exists() and not (tmp_path / "x.duckdb").exists()
    assert f["reason"].startswith("SQL refused") or "threshold_config" in f["reason"], f["reason"]
