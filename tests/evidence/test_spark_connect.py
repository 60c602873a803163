"""The Spark engine over Spark Connect (`remote = "sc://…"`, issue 18): a real Spark Connect
server on loopback (Spark's own Connect service, run by its Connect plugin inside the test
process's shared local Spark JVM: the `spark` fixture in tests/conftest.py), and `workbench
evaluate --engine spark` run as a user runs it, in its own process, with the cluster named
by the machine ($WORKBENCH_SPARK_REMOTE). Same verdicts and observed values as DuckDB on the
demo; the URL's parameter values never reach a finding.

The server shares the local-mode tests' JVM (one JVM start per suite, not two), so this
module is in their xdist group."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.evidence.test_spark_engine import evaluate, same_findings

pytestmark = pytest.mark.xdist_group("spark")

SECRET_USER = "ci-runner-0f3a9"  # a URL parameter value: must not be written down


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


@pytest.fixture(scope="module")
def connect_server(spark: Any, spark_connect_port: int) -> str:
    """The Connect server the shared Spark JVM runs (its plugin starts it with the JVM)."""
    deadline = time.monotonic() + 120  # a busy 2-core machine
    while not _listening(spark_connect_port):
        if time.monotonic() > deadline:
            pytest.fail(f"no Spark Connect server on 127.0.0.1:{spark_connect_port}")
        time.sleep(0.5)
    return f"sc://127.0.0.1:{spark_connect_port}/;user_id={SECRET_USER}"


def _evaluate_over_connect(
    root: Path,
    remote: str,
    actor: str = "dana.okafor",  # a demo lead: --as must name a person
) -> tuple[dict[str, Any], str]:
    env = {**os.environ, "WORKBENCH_SPARK_REMOTE": remote}
    env.pop("WORKBENCH_SPARK_MASTER", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "--repo",
            str(root),
            "--readonly",
            "--as",
            actor,
            "--now",
            FIXED_NOW.isoformat(),
            "evaluate",
            "--engine",
            "spark",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return json.loads(done.stdout), done.stdout + done.stderr


def test_demo_same_verdicts_over_spark_connect(connect_server: str, demo_repo: Path) -> None:
    duck = evaluate(demo_repo, None)
    remote, output = _evaluate_over_connect(demo_repo, connect_server)
    assert same_findings(duck, remote) == []
    assert {f["status"] for f in duck["findings"]} >= {"pass", "fail"}
    ran = [f for f in remote["findings"] if "engine" in f]
    assert ran, "no finding names the engine"
    endpoint = connect_server.partition("/;")[0] + ";user_id=…"
    assert {f["engine"]["endpoint"] for f in ran} == {endpoint}
    assert remote["inputs"]["sql_engine"]["endpoint"] == endpoint
    # The URL's parameter values are the machine's business: never in outputs or findings.
    assert SECRET_USER not in output
    assert not [
        p for p in demo_repo.rglob("*") if p.is_file() and SECRET_USER.encode() in p.read_bytes()
    ]


def test_contract_sql_over_spark_connect_runs_with_spark_builtins(
    connect_server: str, tmp_path: Path
) -> None:
    """Spark Connect gives the client no analyzed plan (`spark_plan` checks nothing there;
    the text guard's allow-list, which runs before any session, is the boundary): contract
    SQL over Connect that calls Spark's built-ins runs, with DuckDB's value."""
    from tests.evidence.test_evaluate import repo_with_custom_query

    allowed = "SELECT count(*) + max(length(upper(source))) AS value FROM freshness_lags"
    root = repo_with_custom_query(tmp_path / "ok", allowed)
    duck = evaluate(root, None)
    remote, _ = _evaluate_over_connect(root, connect_server, actor="data.lead")
    assert same_findings(duck, remote) == []
    f = next(f for f in remote["findings"] if f["term"] == "custom")
    assert f["status"] == "pass" and f["observed"] == 4, f
    assert f["engine"]["sql"].startswith("SELECT"), f
