"""The persistent side of the TOML parse cache (see `cache_store` for where and how)."""

from __future__ import annotations

from pathlib import Path

from workbench.model import toml_cache
from workbench.repo import cache_store

NAME = "toml"


def store_path(root: Path) -> Path:
    return cache_store.store_path(root, NAME)


def load(root: Path) -> None:
    data = cache_store.read(root, NAME)
    if isinstance(data, dict):
        toml_cache.preload({k: v for k, v in data.items() if isinstance(v, dict)})


def save(root: Path) -> None:
    new = toml_cache.export_new(str(store_path(root)))
    if not new or not (root / ".git").is_dir():
        return
    entries = cache_store.read(root, NAME)
    if not isinstance(entries, dict) or len(entries) > toml_cache.MAX_ENTRIES:
        entries = {}
    entries.update(new)
    cache_store.write(root, NAME, entries)
