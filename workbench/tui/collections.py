"""What the app keeps out of Python's cyclic collector, and when it collects anyway.

At 1,000 contracts a full collection walked the state and the seams' marks and stalled the
app for 40-180 ms at random keystrokes, so what is loaded is frozen (`gc.freeze`): frozen
objects are still freed by reference counting, but cyclic garbage frozen with them (a
closed screen's widgets, a finished dialog) is never collected while it stays frozen.

The app freezes at its first load, and collects first after later loads. It is not the only
one to freeze: the clone's cache store freezes after every read (`repo/cache_store.py`), in
whatever worker thread reads it (a state load, a thread's first git handle), and then
every closed screen still waiting for a collection stays in memory for good (measured: 2
of 4 closed contract screens survived `gc.collect()` after reloads; all 4 were freed once
unfrozen). So every IDLE_CHECK seconds, once no key came for IDLE_BEFORE seconds and
something was frozen since the app's own freeze, the app unfreezes, collects once and
freezes again: a collection's pause falls where nobody is typing.

Mixed into ``WorkbenchApp``.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from textual import events

# After a later state load, how long the app waits before one full collection.
REFREEZE_AFTER = 2.0
# How often the app looks whether someone else froze garbage, and how long without a key
# it waits before collecting it.
IDLE_CHECK = 5.0
IDLE_BEFORE = 2.0


class KeepingCollections:
    """Freeze what is loaded; collect what others froze, while the user is idle."""

    loads: int
    set_timer: Any
    set_interval: Any
    _refreeze: Any = None
    _frozen_by_app = 0  # the frozen count right after the app's own last freeze
    _last_key = 0.0

    def _keep_out_of_collections(self) -> None:
        """Freeze the start-up at once; after a later load (a save, a reload), collect
        first, once, when the app has been idle for a moment."""
        if self.loads <= 1:
            self._freeze()
            return
        if self._refreeze is not None:
            self._refreeze.stop()
        self._refreeze = self.set_timer(REFREEZE_AFTER, self._collect_and_freeze)

    def _freeze(self) -> None:
        gc.freeze()
        self._frozen_by_app = gc.get_freeze_count()

    def _collect_and_freeze(self) -> None:
        self._refreeze = None
        gc.unfreeze()
        gc.collect()
        self._freeze()

    def watch_collections(self) -> None:
        """From `on_mount`: look for garbage others froze every IDLE_CHECK seconds."""
        self.set_interval(IDLE_CHECK, self.collect_if_idle)

    def collect_if_idle(self, now: float | None = None) -> bool:
        """Collect once if something was frozen since the app's own freeze (frozen objects
        only ever leave by being freed, so a larger count means a new freeze) and no key
        came for IDLE_BEFORE seconds. Whether it collected."""
        now = time.monotonic() if now is None else now
        if self._refreeze is not None or now - self._last_key < IDLE_BEFORE:
            return False
        if gc.get_freeze_count() <= self._frozen_by_app:
            return False
        self._collect_and_freeze()
        return True

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key = time.monotonic()
        await super().on_event(event)  # type: ignore[misc]
