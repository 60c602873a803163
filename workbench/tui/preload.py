"""The first load of the governance state, started before Textual is imported.

`workbench` spends its first half-second importing Textual and building the screens. The
state load does not need any of that, so `launch` starts it on a background thread at once
and the app's first load worker picks up the result, in two steps:

1. the seam map as plain data (`MapSnapshot`), stored by the previous session for exactly
   these bytes on this day: reading it needs neither pydantic nor git, so the map is on
   screen as soon as Textual is ready (a first start in a clone has none: it draws the map
   from the declared state, before the signed floor is verified);
2. the checked state itself, with the signed floor applied, loaded only once that first
   screen is painted (`go`), because on one core every thread competes for the same
   interpreter.

The working tree is read on the calling thread, before Textual is imported (~25 ms for
1,000 contracts): on a thread beside that import each file read waited for the interpreter
again, and the read took ~0.5 s. On a first start in a clone, what the state load writes to
the clone's cache waits until the app has shown that state (`state_shown`).

No Textual here: importing this module must stay cheap.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

# If the app never says it painted (it failed to start), load the state anyway.
GO_TIMEOUT = 3.0


@dataclass
class Preload:
    snapshot: Future[Any] = field(default_factory=Future)
    state: Future[tuple[Any, list[Any], Any, str | None]] = field(default_factory=Future)
    go: threading.Event = field(default_factory=threading.Event)
    state_shown: threading.Event = field(default_factory=threading.Event)
    shown: bool = False  # the app took the snapshot itself, at mount
    thread: threading.Thread | None = None

    def finish(self, timeout: float) -> None:
        """As the app closes: let the clone's cache writes happen now (they wait for the
        state to be shown), for up to `timeout` seconds, so that a session closed right
        after its first screen still spares the next start the whole load."""
        self.state_shown.set()
        if self.thread is not None:
            self.thread.join(timeout)


def first_load(
    service: Any, files: dict[str, bytes] | None = None
) -> tuple[Any, list[Any], Any, str | None]:
    """State, plain seam views (no marks: those follow) and the acting person."""
    from workbench.governance.seams import seam_views
    from workbench.service.errors import WorkbenchError

    state = service.state(files=files)
    views = seam_views(state, service.now.date())
    actor, error = None, None
    try:
        actor = service.actor(state)
    except WorkbenchError as exc:
        error = str(exc)
    return state, views, actor, error


def stored_snapshot(service: Any, key: tuple[str, str, str]) -> Any:
    """The map the last session stored, to paint before the state is checked. Made from
    other bytes (a pull, an edit outside the app) or on an earlier day, it says so in its
    `provisional` note: otherwise every first start after a change, and the first of each
    day, would wait for the whole state (1.1-1.3 s at 1,000 contracts). The state checked
    now replaces it within a second, and nothing can be opened or changed before."""
    from dataclasses import replace

    from workbench.service.map_store import stored_map

    found = stored_map(service.root)
    if found is None:
        return None
    if found.digest != key[1]:
        note = "map before the latest changes"
    elif found.day != key[2]:
        note = f"map of {found.day}"
    else:
        note = ""
    return replace(found, provisional=note)


def declared_snapshot(service: Any, files: dict[str, bytes], key: tuple[str, str, str]) -> Any:
    """A first start in a clone has no stored map: draw it from the declared state. The
    map needs nothing the signed floor changes (it adds warnings only), so verifying the
    floor (a walk of the key registry's history) waits until the map is on screen."""
    from dataclasses import replace

    from workbench.governance.seams import map_snapshot, seam_views

    service.defer_writes()  # pickling the checked state must not delay the first screen
    declared = service.declared_state(files=files)
    views = seam_views(declared, service.now.date())
    return replace(map_snapshot(declared, views), digest=key[1], day=key[2])


def store_snapshot(service: Any, key: tuple[str, str, str], state: Any, views: list[Any]) -> None:
    if service.readonly:
        return
    from dataclasses import replace

    from workbench.governance.seams import map_snapshot
    from workbench.service.map_store import store_map

    snapshot = replace(map_snapshot(state, views), digest=key[1], day=key[2])
    store_map(service.root, snapshot)


def start(service: Any) -> Preload:
    """Run both steps on a daemon thread; each future holds its result or its error."""
    preload = Preload()
    try:
        files: dict[str, bytes] | None = service.files()
    except OSError:
        files = None  # the state load below reports what is wrong

    def run() -> None:
        key = snapshot = None
        built = False
        try:
            if files is not None:
                key = service.state_key(files)
                snapshot = stored_snapshot(service, key)
                if snapshot is None:
                    snapshot, built = declared_snapshot(service, files, key), True
        except BaseException:  # noqa: BLE001 - the state load below reports what is wrong
            snapshot = None
        preload.snapshot.set_result(snapshot)
        if snapshot is not None:
            preload.go.wait(GO_TIMEOUT)
        service.defer_writes()
        try:
            loaded = first_load(service, files)
        except BaseException as exc:  # noqa: BLE001 - handed to the app's worker, which reports it
            service.flush_writes()
            preload.state.set_exception(exc)
            return
        preload.state.set_result(loaded)
        preload.state_shown.wait(GO_TIMEOUT)
        service.flush_writes()
        if key is not None and (snapshot is None or snapshot.provisional or built):
            store_snapshot(service, key, loaded[0], loaded[1])

    preload.thread = threading.Thread(target=run, name="workbench-preload", daemon=True)
    preload.thread.start()
    return preload
