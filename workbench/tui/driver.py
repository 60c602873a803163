"""Textual's terminal driver, with a lone Escape recognised as soon as it can be.

A terminal sends Escape as the first byte of other keys too (arrows are ESC [ A), so a lone
Escape is only known once nothing follows it for a moment (ESCDELAY; the app sets 50 ms, as
neovim waits). Textual's input thread only looks again every 100 ms, so Escape, the app's
"back" key, cost 100-110 ms whatever ESCDELAY said. This input loop is Textual's own
(textual 8.2.8, `LinuxDriver.run_input_thread`), except that when the last byte read is an
Escape it wakes when that Escape falls due instead of up to 100 ms later. Inside a longer
sequence (an arrow, a mouse report, the end of a paste split across reads) it keeps
Textual's pace, which in practice gives a split sequence 100 ms or more to complete.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

IDLE_POLL = 0.1  # Textual's own, while no escape is pending


class QuickEscapeDriver(LinuxDriver):
    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        lone_escape = False  # the last byte read was an Escape

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            nonlocal lone_escape
            for last, (_key, mask) in loop_last(events):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not data:
                        break  # stdin is a pipe
                    lone_escape = data.endswith("\x1b")
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        def timeout() -> float:
            due = parser._timeout_time
            if due is None or not lone_escape:
                return IDLE_POLL
            return min(IDLE_POLL, max(0.0, due - get_time()))

        try:
            while not self.exit_event.is_set():
                process(selector.select(timeout()))
            selector.unregister(fileno)
            process(selector.select(IDLE_POLL), final=True)
        finally:
            selector.close()
            try:
                for _ in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass
