"""Plain-text and JSON output for the CLI (data on stdout, diagnostics on stderr).

Every byte the CLI prints passes through one door, `terminal_streams`: while a command
runs, `sys.stdout` and `sys.stderr` show every control, bidi and invisible character of
the text in visible notation (`workbench.model.safe_text.terminal`), whether or not the
output is a terminal (piped output ends up in one too: `less -R`, a CI log). The CLI
itself emits no ANSI styling, so nothing legitimate is lost. JSON is escaped before it gets
there (`safe_text.json_dumps`) and passes unchanged. Fields that must stay on one line
(table cells, names, titles, check messages) also go through `safe_text.line` where the
line is built, so a newline in a title cannot start a forged line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from workbench.model import safe_text
from workbench.model.safe_text import line

__all__ = ["emit_json", "line", "raw_streams", "table", "terminal_streams"]


class TerminalSafeStream:
    """A text stream that writes `safe_text.terminal(text)` to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(safe_text.terminal(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for text in lines:
            self.write(text)

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def __getattr__(self, name: str) -> Any:
        # flush, isatty, fileno, encoding… are the wrapped stream's. Raw bytes through
        # `.buffer` would bypass the door: nothing in the CLI writes them.
        return getattr(self._stream, name)


@contextmanager
def terminal_streams() -> Iterator[None]:
    """Make stdout and stderr terminal-safe for the duration of a command."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = TerminalSafeStream(out)
    sys.stderr = TerminalSafeStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


@contextmanager
def raw_streams() -> Iterator[None]:
    """The streams as they were, for the terminal app (Textual writes its own escape
    sequences; it neutralises repo text itself, see workbench/tui/safe_render.py)."""
    out, err = sys.stdout, sys.stderr
    if isinstance(out, TerminalSafeStream):
        sys.stdout = out.wrapped
    if isinstance(err, TerminalSafeStream):
        sys.stderr = err.wrapped
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def emit_json(data: Any) -> None:
    sys.stdout.write(safe_text.json_dumps(data, indent=2, sort_keys=False, default=str))
    sys.stdout.write("\n")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """Aligned columns; each cell is one line (`safe_text.line`) so a value cannot add a row."""
    headers = [line(h) for h in headers]
    rows = [[line(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    return "\n".join(lines)
