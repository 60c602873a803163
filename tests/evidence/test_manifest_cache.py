"""The legacy manifest is validated once per content and kept in the clone's cache: the
same bytes give the same manifest, other bytes are parsed anew, bad text is reported every
time (never cached), and a planted cache file cannot run code or stand in for the text."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.evidence import manifest as manifest_module
from workbench.evidence.errors import ManifestError
from workbench.evidence.manifest import Manifest, Snapshot, render_manifest, snapshot_id
from workbench.repo import cache_store
from workbench.service import manifest_cache


def _text(n: int) -> bytes:
    snaps = []
    for i in range(n):
        digest = f"{i + 1:x}" * 64
        digest = digest[:64]
        snaps.append(
            Snapshot(
                id=snapshot_id(digest),
                kind="score_samples",
                path=f"/data/live{i}.parquet",
                sha256=digest,
                size=100 + i,
                format="parquet",
                captured_at=datetime(2026, 11, 1, tzinfo=UTC),
                contract=f"c{i}",
                source="test",
            )
        )
    return render_manifest(Manifest(snapshots=tuple(snaps))).encode()


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(cache_store.DISABLE_ENV, raising=False)
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_the_same_bytes_are_validated_once(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _text(3)
    first = manifest_cache.parse_cached(root, text, writable=True)
    assert first == manifest_module.parse_manifest(text.decode())
    assert cache_store.store_path(root, manifest_cache._STORE).exists()

    def refuse(*_a: object, **_k: object) -> Manifest:
        raise AssertionError("parsed again")

    monkeypatch.setattr(manifest_cache, "parse_manifest", refuse)
    assert manifest_cache.parse_cached(root, text, writable=True) == first
    # Other bytes: another key, parsed anew (here: refused by the stand-in).
    with pytest.raises(AssertionError, match="parsed again"):
        manifest_cache.parse_cached(root, _text(4), writable=True)


def test_bad_text_is_reported_every_time_and_never_cached(root: Path) -> None:
    bad = _text(2).replace(b"score_samples", b"no_such_kind")
    for _ in range(2):
        with pytest.raises(ManifestError, match="unknown evidence kind"):
            manifest_cache.parse_cached(root, bad, writable=True)
    assert not cache_store.store_path(root, manifest_cache._STORE).exists()


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch planted",))


def test_a_planted_cache_file_is_ignored(root: Path) -> None:
    text = _text(2)
    from workbench.model import toml_cache

    key = toml_cache.key_of(text.decode())
    path = cache_store.store_path(root, manifest_cache._STORE)
    path.parent.mkdir(parents=True)
    header = {"code": cache_store.code_fingerprint(), "key": key}
    path.write_bytes(pickle.dumps(header) + pickle.dumps(_Boom()))
    got = manifest_cache.parse_cached(root, text, writable=False)
    assert got == manifest_module.parse_manifest(text.decode())
    assert not (root / "planted").exists() and not Path("planted").exists()
    # A readonly session leaves the planted file as it found it (it writes nothing).
    assert pickle.dumps(_Boom()) in path.read_bytes()
