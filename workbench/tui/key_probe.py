"""A timeline of keys and frames for `benchmarks/tui_keys.py`, off unless asked for.

With `WORKBENCH_KEY_PROBE=FILE` in the environment the app appends one line per event to
FILE, each with the monotonic clock (`time.perf_counter`, the same clock in every process
on Linux) and the event loop thread's CPU seconds:

    key  T CPU NAME     the input thread parsed a key (before it waits for the event loop)
    frame T CPU         the app wrote a frame to the terminal
    msg  T CPU NAME     the app handled a message of its own (a state, marks, a verdict)

A key's latency is then the first and the last frame after it, measured inside the app,
without a screen-scraping loop competing for the CPU. Without the variable nothing is
installed: the app runs exactly as it does for users. The probe wraps methods of the app,
its driver and Textual's message dispatch, and never changes what they do.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

ENV = "WORKBENCH_KEY_PROBE"
# The app's own messages worth a line: they redraw the screen without a key.
MESSAGES = ("MapSnapshotLoaded", "StateLoaded", "MarksLoaded", "VerdictLoaded", "PeopleLoaded")


class KeyProbe:
    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - app-long
        self._lock = threading.Lock()
        self._loop_thread = threading.get_ident()

    def log(self, kind: str, name: str = "") -> None:
        # The event loop thread's CPU time, read on that thread (the main thread's clock is
        # not readable from the input thread): for a key logged elsewhere it is left out.
        cpu = time.thread_time() if threading.get_ident() == self._loop_thread else -1.0
        line = f"{kind} {time.perf_counter():.6f} {cpu:.6f} {name}".rstrip() + "\n"
        with self._lock:
            self._file.write(line)

    def close(self) -> None:
        self._file.close()


def install(app: Any) -> KeyProbe | None:
    """From the app's `on_mount` (its driver, and so its input thread, exist by then)."""
    path = os.environ.get(ENV)
    if not path:
        return None
    probe = KeyProbe(path)
    driver = app._driver
    if driver is not None:
        process = driver.process_message

        def process_message(message: Any) -> None:
            if type(message).__name__ == "Key":
                probe.log("key", message.key)
            process(message)

        driver.process_message = process_message
    display = app._display

    def _display(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and not app._batch_count:
            probe.log("frame")

    app._display = _display
    # Every message pump's (the app's, a screen's): a contract's verdict goes to its screen.
    from textual.message_pump import MessagePump

    dispatch = MessagePump._dispatch_message

    async def _dispatch_message(self: Any, message: Any) -> None:
        await dispatch(self, message)
        name = type(message).__name__
        if name in MESSAGES:
            probe.log("msg", name)

    MessagePump._dispatch_message = _dispatch_message  # type: ignore[method-assign]  # the probe wraps dispatch
    probe.log("start")
    return probe
