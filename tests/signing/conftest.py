"""Session keys made by the real ssh-keygen (one set per xdist worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.signing.oracle import SshKey, make_key


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def alice(key_dir: Path) -> SshKey:
    return make_key(key_dir, "alice", "-N", "")


@pytest.fixture(scope="session")
def mallory(key_dir: Path) -> SshKey:
    return make_key(key_dir, "mallory", "-N", "")


# --- a signed demo governance repo (built once per worker, copied per test) ---------

import shutil  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

FIXED_NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.demo import build
    from workbench.demo.signing_steps import signing_step

    root = tmp_path_factory.mktemp("demo-master") / "repo"
    # Only the signing room's step: other rooms' demo steps are tested by their suites.
    build.build_demo(root, now=FIXED_NOW, steps=[signing_step])
    return root


@pytest.fixture
def demo(demo_master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the signed demo repo (mutate freely)."""
    root = tmp_path / "repo"
    shutil.copytree(demo_master, root, symlinks=True)
    # Absolute path in the copied git config must point at this copy.
    import pygit2

    pygit2.Repository(str(root)).config["gpg.ssh.allowedSignersFile"] = str(
        root / "keys" / "allowed_signers"
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("WORKBENCH_PERSON", raising=False)
    monkeypatch.delenv("WORKBENCH_TRUST_ROOT", raising=False)
    monkeypatch.delenv("WORKBENCH_KEY_PASSPHRASE", raising=False)
    return root
