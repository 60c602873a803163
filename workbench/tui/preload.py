"""The first load of the governance state, started before Textual is imported.

`workbench` spends its first half-second importing Textual and building the screens; the
state load (reading and checking every contract) does not need any of that, so `launch`
starts it on a background thread at once and the app's first load worker picks up the
result. No Textual here: importing this module must stay cheap.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any


def first_load(service: Any) -> tuple[Any, list[Any], Any, str | None]:
    """State, plain seam views (no marks: those follow) and the acting person."""
    from workbench.governance.seams import seam_views
    from workbench.service.errors import WorkbenchError

    state = service.state()
    views = seam_views(state, service.now.date())
    actor, error = None, None
    try:
        actor = service.actor(state)
    except WorkbenchError as exc:
        error = str(exc)
    return state, views, actor, error


def start(service: Any) -> Future[tuple[Any, list[Any], Any, str | None]]:
    """Run `first_load` on a daemon thread; the future holds its result or its error."""
    future: Future[tuple[Any, list[Any], Any, str | None]] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(first_load(service))
        except BaseException as exc:  # noqa: BLE001 - handed to the app's worker, which reports it
            future.set_exception(exc)

    threading.Thread(target=run, name="workbench-preload", daemon=True).start()
    return future
