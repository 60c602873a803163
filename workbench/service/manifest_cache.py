"""The legacy evidence manifest parsed from HEAD, kept in the clone's cache by content.

A manifest of 3,000 snapshots is ≈ 0.4 s of pure-Python TOML and ≈ 0.15 s of validation
on every `evaluate`; the validated manifest is a pure function of the bytes (keyed by their
sha256 and the workbench's code, so never stale). The cache is read as untrusted input
(`workbench.repo.cache_store`: plain data and the manifest's own model classes only); a
text that does not parse is never cached, so its problems are reported every time.
"""

from __future__ import annotations

from pathlib import Path

from workbench.evidence.manifest import MANIFEST_PATH, Manifest, parse_manifest

_STORE = "manifest"


def parse_cached(root: Path, blob: bytes, *, writable: bool) -> Manifest:
    from workbench.model import toml_cache
    from workbench.repo import cache_store

    text = blob.decode("utf-8")
    key = toml_cache.key_of(text)
    stored = cache_store.read(root, _STORE, key)
    if isinstance(stored, Manifest):
        return stored
    manifest = parse_manifest(text, MANIFEST_PATH)
    if writable:
        cache_store.write(root, _STORE, manifest, key)
    return manifest
