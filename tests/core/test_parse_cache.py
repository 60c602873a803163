"""Parsed TOML is cached by content, persisted per clone, and the store cannot run code."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from tests.conftest import FIXED_NOW
from workbench.model import toml_cache
from workbench.repo import cache_store, parse_store
from workbench.service.core import Workbench


class _Boom:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("touch /tmp/handshake-pwned",))


def test_same_text_is_parsed_once_and_errors_are_not_cached() -> None:
    text = 'id = "cache-test-unique-1"\n'
    first = toml_cache.loads(text)
    assert toml_cache.loads(text) is first
    import tomllib

    import pytest

    with pytest.raises(tomllib.TOMLDecodeError):
        toml_cache.loads("id = \n")
    with pytest.raises(tomllib.TOMLDecodeError):
        toml_cache.loads("id = \n")


def test_state_persists_parsed_toml_in_the_clone(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW)
    wb.state()
    store = parse_store.store_path(demo_repo)
    assert store.is_file() and store.stat().st_mode & 0o777 == 0o600
    entries = cache_store.read(demo_repo, "toml")
    text = (demo_repo / "contracts/credit-model-to-loan-decisioning.toml").read_text()
    assert toml_cache.key_of(text) in entries


def test_a_planted_store_cannot_run_code(demo_repo: Path, tmp_path: Path) -> None:
    marker = Path("/tmp/handshake-pwned")
    marker.unlink(missing_ok=True)
    store = parse_store.store_path(demo_repo)
    store.parent.mkdir(parents=True, exist_ok=True)
    header = {"code": cache_store.code_fingerprint(), "key": None}
    store.write_bytes(pickle.dumps(header) + pickle.dumps({"x": _Boom()}))
    parse_store.load(demo_repo)  # ignored, never executed
    assert not marker.exists()
    # and the repo still loads normally
    assert Workbench(demo_repo, now=FIXED_NOW).state().contracts


def test_readonly_never_writes_the_store(demo_repo: Path) -> None:
    store = parse_store.store_path(demo_repo)
    store.unlink(missing_ok=True)
    (demo_repo / "contracts/credit-model-to-loan-decisioning.toml").write_text(
        (demo_repo / "contracts/credit-model-to-loan-decisioning.toml").read_text() + "# touched\n"
    )
    Workbench(demo_repo, now=FIXED_NOW, readonly=True).state()
    assert not store.exists()
