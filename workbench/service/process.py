"""What kind of process a command runs in, for the clone's cache reader (`cache_store`).

A one-shot command (`workbench gate`, `verify`, `status`...) ends with its process: what
a cache read loads is kept out of later cyclic collections (`gc.freeze`), which spares
them a walk over a few hundred thousand objects. The terminal app is a long process that
reloads the state many times: there a read freezes nothing, or each reload's cyclic
garbage (a dropped session) would be kept for good. docs/performance.md, "The clone's
cache and the collector".
"""

from __future__ import annotations

from workbench.repo.cache_store import long_process, one_shot_process

__all__ = ["long_process", "one_shot_process"]
