"""The input loop that recognises a lone Escape sooner (tui/driver.py), fed through a pipe
as a terminal would feed it: keys must come out as Textual's own loop would give them."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the Linux/macOS driver")


def keys_from(chunks: list[tuple[float, bytes]]) -> list[str]:
    from workbench.tui.driver import QuickEscapeDriver

    read, write = os.pipe()
    got: list[str] = []
    driver = QuickEscapeDriver.__new__(QuickEscapeDriver)  # no terminal: only the input loop
    driver.fileno = read
    driver._debug = False
    driver.exit_event = threading.Event()
    driver.process_message = lambda m: got.append(getattr(m, "key", type(m).__name__))  # type: ignore[method-assign]
    thread = threading.Thread(target=driver.run_input_thread)
    thread.start()
    try:
        for pause, data in chunks:
            time.sleep(pause)
            os.write(write, data)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(got) < 1:
            time.sleep(0.01)
        time.sleep(0.3)  # any key still due (a pending Escape) comes out by then
    finally:
        driver.exit_event.set()
        thread.join(5)
        os.close(write)
        os.close(read)
    return got


def test_a_lone_escape_is_escape() -> None:
    assert keys_from([(0, b"\x1b")]) == ["escape"]


def test_an_arrow_is_an_arrow() -> None:
    assert keys_from([(0, b"\x1b[A")]) == ["up"]


def test_an_arrow_split_inside_its_sequence_is_still_an_arrow() -> None:
    # Only a lone Escape is timed out early; once more of a sequence has come, the loop
    # waits at Textual's pace for the rest (a slow link may split a key across reads).
    assert keys_from([(0, b"\x1b["), (0.06, b"A")]) == ["up"]


def test_a_paste_whose_end_marker_is_split_ends_and_keys_work_again() -> None:
    got = keys_from([(0, b"\x1b[200~hello\x1b[20"), (0.06, b"1~q")])
    assert got == ["Paste", "q"]
