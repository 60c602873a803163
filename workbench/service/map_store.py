"""The last seam map a session drew, kept in the clone's cache (``seam-map-v2.pickle``,
docs/architecture.md, "The clone's cache"): the app paints it as its first screen before
the state is checked, and says when it was drawn from other bytes or on another day."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.governance.seam_view import MapSnapshot

STORE = "seam-map"
KEY = "latest"  # one map per clone: the last one stored


def stored_map(root: Path) -> MapSnapshot | None:
    """The map the last session stored in this clone, if any (untrusted like all the cache:
    read with the restricted unpickler)."""
    from workbench.governance.seam_view import MapSnapshot
    from workbench.repo import cache_store

    found = cache_store.read(root, STORE, KEY)
    return found if isinstance(found, MapSnapshot) else None


def store_map(root: Path, snapshot: MapSnapshot) -> None:
    from workbench.repo import cache_store

    cache_store.write(root, STORE, snapshot, KEY)
