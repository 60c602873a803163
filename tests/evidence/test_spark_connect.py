"""The Spark engine over Spark Connect (`remote = "sc://…"`, issue 18): a real Spark Connect
server on loopback (the server class that ships in pyspark's jars, started with
spark-submit), and `workbench evaluate --engine spark` run as a user runs it, in its own
process, with the cluster named by the machine ($WORKBENCH_SPARK_REMOTE). Same verdicts and
observed values as DuckDB on the demo; the URL's parameter values never reach a finding.

One server per test process, in its own xdist group so that it starts beside the local-mode
Spark tests rather than after them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.evidence.test_spark_engine import evaluate, same_findings

pytestmark = pytest.mark.xdist_group("spark-connect")

SECRET_USER = "ci-runner-0f3a9"  # a URL parameter value: must not be written down


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("java") is None:
        pytest.fail("Java 17 is needed for the Spark tests: run `bash scripts/ensure-tools.sh`")
    import pyspark

    home = Path(pyspark.__file__).parent
    port = _free_port()
    log = tmp_path_factory.mktemp("spark-connect") / "server.log"
    loopback = "127.0.0.1"
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master",
        "local[2]",
        *("--conf", f"spark.connect.grpc.binding.port={port}"),
        *("--conf", f"spark.connect.grpc.binding.address={loopback}"),
        *("--conf", f"spark.driver.host={loopback}"),
        *("--conf", f"spark.driver.bindAddress={loopback}"),
        *("--conf", "spark.ui.enabled=false"),
        *("--conf", "spark.sql.session.timeZone=UTC"),
        "spark-internal",
    ]
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": loopback}
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 300  # a JVM on a busy 2-core machine
        while not _listening(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Spark Connect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"sc://{loopback}:{port}/;user_id={SECRET_USER}"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def _evaluate_over_connect(root: Path, remote: str) -> tuple[dict[str, Any], str]:
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
            "dana.okafor",  # a demo lead: --as must name a person
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
