"""Shared fixtures: real git repos in temp dirs, a fixed clock, no user config."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

FIXED_NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PROJECT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`ci_step` tests (a fresh clone's own install, mypy over the typed packages) are a
    minute or more each and are CI steps of their own (.ci/run: `pytest -m ci_step`), so
    that `make test` stays under five minutes; they run only when `-m` names them."""
    if "ci_step" in (config.getoption("markexpr") or ""):
        return
    moved = [item for item in items if item.get_closest_marker("ci_step")]
    if moved:
        config.hook.pytest_deselected(items=moved)
        items[:] = [item for item in items if not item.get_closest_marker("ci_step")]


@pytest.fixture(autouse=True)
def _isolated_user_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the developer's own config, keys and git identity out of every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.delenv("WORKBENCH_PERSON", raising=False)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("WORKBENCH_SPARK_MASTER", raising=False)
    monkeypatch.delenv("WORKBENCH_SPARK_REMOTE", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture
def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo repo, built once per test process (keys, signatures, evidence take seconds).

    Never change it: tests take a private copy through `demo_repo` (or `copy_demo`).
    """
    from workbench.demo.build import build_demo

    home = tmp_path_factory.mktemp("template-home")
    with pytest.MonkeyPatch.context() as mp:  # the same isolation as every test
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("GIT_CONFIG_GLOBAL", os.devnull)
        mp.delenv("WORKBENCH_PERSON", raising=False)
        mp.delenv("SSH_AUTH_SOCK", raising=False)
        return build_demo(tmp_path_factory.mktemp("template") / "demo", now=FIXED_NOW)


def copy_demo(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, symlinks=True)
    return target


@pytest.fixture
def demo_repo(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo repo for one test to change as it likes."""
    return copy_demo(demo_template, tmp_path / "demo")


@pytest.fixture(scope="session")
def exported(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Bundles exported from a copy of the demo (see tests/bundle/conftest.py)."""
    from tests.bundle.conftest import build_exported

    return build_exported(demo_template, tmp_path_factory.mktemp("bundle-repo"))


SPARK_CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"


@pytest.fixture(scope="session")
def spark_connect_port() -> int:
    """The loopback port of the Spark Connect server that runs inside the `spark` session's
    JVM (tests/evidence/test_spark_connect.py talks to it)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def spark(spark_connect_port: int):  # type: ignore[no-untyped-def]
    """The ONE local Spark session of a test process (the engine reuses it: every
    `evaluate --engine spark` in the tests runs on it). Mark Spark tests
    `pytest.mark.xdist_group("spark")`: `make test` runs with `--dist loadgroup`, so they
    share one worker and the JVM starts once.

    The same JVM serves Spark Connect on loopback (Spark's own Connect plugin), so the
    Spark Connect tests reach a real Connect server without starting a second JVM."""
    import shutil

    if shutil.which("java") is None:
        pytest.fail(
            "Java 17 is needed for the Spark engine tests: run `bash scripts/ensure-tools.sh` "
            "(installs openjdk-17-jre-headless as root) or install a JDK 17"
        )
    from workbench.evidence.engines import spark as engine

    with pytest.MonkeyPatch.context() as mp:
        # Static settings of the JVM this process starts: the engine's own, plus the plugin.
        mp.setitem(engine.LOCAL_CONF, "spark.plugins", SPARK_CONNECT_PLUGIN)
        mp.setitem(engine.LOCAL_CONF, "spark.connect.grpc.binding.address", "127.0.0.1")
        mp.setitem(engine.LOCAL_CONF, "spark.connect.grpc.binding.port", str(spark_connect_port))
        session = engine.spark_session(engine.SparkTarget("local[2]"))
        yield session
        # Stopped here, while pytest still runs: left to the interpreter's exit, the JVM's
        # shutdown raced the teardown of the tests' temporary directories and took minutes.
        engine.stop_session()
