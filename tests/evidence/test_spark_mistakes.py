"""The hurried user's mistakes with `evaluate --engine spark` (issue 18, walked as a user):
each is a clear message naming the file and field or the endpoint, exit 2, no traceback and
no run on another engine than the one the user meant. None of these starts a JVM: a refusal
comes before Spark is started (the suite's one JVM is the `spark` fixture's)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW, PROJECT
from workbench.cli.main import main


def _user_config(text: str) -> Path:
    home = Path(os.environ["XDG_CONFIG_HOME"]) / "handshake-workbench"
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")
    return home / "config.toml"


def _readonly_evaluate(root: Path, *extra: str) -> list[str]:
    """A read-only `evaluate` of the demo as one of its leads, at the fixed clock."""
    return [
        "--repo",
        str(root),
        "--readonly",
        "--as",
        "dana.okafor",
        "--now",
        FIXED_NOW.isoformat(),
        "evaluate",
        *extra,
    ]


def _evaluate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(_readonly_evaluate(root, "--engine", "spark"))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize(
    ("config", "named"),
    [
        # `remot`: the cluster this machine meant was silently dropped, the run went to local[2]
        ('[evidence.engines.spark]\nremot = "sc://127.0.0.1:15002"\n', "remot"),
        # `[evidence.engine.spark]`: the whole section was silently ignored
        ('[evidence.engine.spark]\nremote = "sc://127.0.0.1:15002"\n', "engine"),
        ('[evidence.engines.sprak]\nmaster = "local[2]"\n', "sprak"),
    ],
)
def test_a_typo_in_the_machines_spark_config_is_refused_naming_the_key(
    demo_repo: Path, capsys: pytest.CaptureFixture[str], config: str, named: str
) -> None:
    path = _user_config(config)
    code, text = _evaluate(demo_repo, capsys)
    assert code == 2, text
    assert str(path) in text and f"'{named}'" in text, text
    assert "Traceback" not in text and "CONTRACT" not in text  # nothing ran


def test_an_unreachable_spark_connect_server_is_a_quick_clear_error(demo_repo: Path) -> None:
    """`sc://127.0.0.1:1`: nothing listens there. The Connect client retried for minutes
    (a user saw nothing for over 5 minutes); now the endpoint is probed first."""
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "WORKBENCH_SPARK_REMOTE": f"sc://127.0.0.1:{port}",
        "PYTHONPATH": str(PROJECT),
    }
    env.pop("WORKBENCH_SPARK_MASTER", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "--repo",
            str(demo_repo),
            "--readonly",
            "--as",
            "dana.okafor",
            "--now",
            FIXED_NOW.isoformat(),
            "evaluate",
            "--engine",
            "spark",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"cannot reach Spark Connect at sc://127.0.0.1:{port}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_no_java_is_named_before_spark_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Java missing: pyspark's launcher printed `JAVA_HOME is not set` and a gateway error;
    the message now says what is missing and how to get it. The process's running Spark
    session (the suite's shared one, if any) is left as it is."""
    from workbench.evidence.engines import spark as engine

    before = engine._base
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(engine.SparkUnavailable) as caught:
        engine.spark_session(engine.SparkTarget("local[3]"))
    text = str(caught.value)
    assert "cannot start Spark at local[3]" in text
    assert "no `java` on PATH and JAVA_HOME is not set" in text
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(engine.SparkUnavailable) as caught:
        engine.spark_session(engine.SparkTarget("local[3]"))
    assert f"JAVA_HOME={tmp_path / 'jdk'} has no bin/java" in str(caught.value)
    assert engine._base is before


def _summary(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    main(_readonly_evaluate(root, "--contract", "credit-model-to-loan-decisioning", *extra))
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_a_readonly_run_says_it_recorded_nothing(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said `unchanged: findings/<run>.json`, a file that does not exist."""
    last = _summary(demo_repo, capsys)
    assert last.endswith("; not recorded (--readonly)"), last
    assert "findings/" not in last


@pytest.mark.xdist_group("spark")
def test_the_summary_line_names_the_engine_the_run_used(
    spark: object, demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no `[evidence.engines.spark]` anywhere `--engine spark` runs local[2]: the
    user is told where the checks ran, not left to guess."""
    last = _summary(demo_repo, capsys, "--engine", "spark")
    assert last.startswith("run ") and " on spark 4." in last and " at local[2]: " in last, last
