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
