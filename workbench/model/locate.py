"""Map a key path such as ("terms", 2, "owner") to the line and column where it is written.

tomllib reports only syntax errors with positions; schema and reference errors are found on
parsed data. This scanner walks the TOML text once and records where every table, key and
array element starts, so every message can point at the offending line and column.
It assumes the text already parsed (syntax errors are reported by tomllib first).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

Path = tuple[str | int, ...]


@dataclass
class Locations:
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def find(self, path: Path) -> tuple[int, int] | None:
        """Position of `path`, or of its nearest recorded ancestor."""
        candidate = tuple(path)
        while candidate:
            if candidate in self.positions:
                return self.positions[candidate]
            # pydantic inserts union tags (e.g. "freshness") into locations; skip them.
            stripped = tuple(p for p in candidate if p in self._known_segments)
            if stripped != candidate and stripped in self.positions:
                return self.positions[stripped]
            candidate = candidate[:-1]
        return self.positions.get((), (1, 1))

    @property
    def _known_segments(self) -> set[str | int]:
        # Computed once per set of positions (the scanner is done with them when anyone
        # asks): a scan of every position per look-up made locating a gate's checks slow.
        cached: tuple[int, set[str | int]] = self.__dict__.get("_segments", (-1, set()))
        if cached[0] != len(self.positions):
            cached = (len(self.positions), {seg for p in self.positions for seg in p})
            self.__dict__["_segments"] = cached
        return cached[1]


# Runs of characters the scanner steps over, matched at once instead of one by one.
_WS = re.compile(r"(?:[ \t\r]|#[^\n]*)*")
_WS_NL = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*")
_BARE_KEY = re.compile(r"[\w-]*")  # str.isalnum() or "_" (re's \w), or "-"
_BASIC = re.compile(r'(?:\\[\s\S]?|[^"\\\n])*')  # up to the closing quote or end of line
_LITERAL = re.compile(r"[^'\n]*")
_SCALAR = re.compile(r"[^,\]}\n#]*")
# How deep a table header's keys are looked up among arrays of tables (`_Scanner.resolve`).
_MAX_ARRAY_DEPTH = 64


class _Scanner:
    """Moves an index through the text; line and column are derived from it when a
    position is recorded (a table of newline offsets), not counted character by character:
    locating every key of 1,000 contracts is what `gate --format junit` waits for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.loc = Locations()
        self.array_counts: dict[Path, int] = {}
        self.arrays_of_tables: set[Path] = set()
        self.current: Path = ()  # the table the next key belongs to
        self.started = False

    # -- low-level movement -------------------------------------------------------------
    @property
    def pos(self) -> tuple[int, int]:
        """(line, column) of the index, both from 1."""
        line = bisect.bisect_left(self.newlines, self.i)
        start = self.newlines[line - 1] + 1 if line else 0
        return line + 1, self.i - start + 1

    def peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.text[j] if j < self.n else ""

    def advance(self, n: int = 1) -> None:
        self.i = min(self.i + n, max(self.i, self.n))

    def skip(self, pattern: re.Pattern[str]) -> None:
        match = pattern.match(self.text, self.i)
        if match is not None:
            self.i = match.end()

    def skip_ws(self, newlines: bool = False) -> None:
        self.skip(_WS_NL if newlines else _WS)

    def startswith(self, s: str) -> bool:
        return self.text.startswith(s, self.i)

    # -- grammar --------------------------------------------------------------------------
    def run(self) -> Locations:
        while self.step():
            pass
        return self.loc

    def step(self) -> bool:
        """Read the next table header or key/value line; False once the text is done.

        Positions are only ever added, and each path keeps the first position recorded for
        it, so what a step has recorded is final: `Locator` stops as soon as the key it was
        asked for is recorded."""
        if not self.started:
            self.started = True
            self.loc.positions[()] = (1, 1)
        if self.i >= len(self.text):
            return False
        self.skip_ws(newlines=True)
        if self.i >= len(self.text):
            return False
        pos = self.pos
        if self.startswith("[["):
            self.advance(2)
            keys = self.read_key_path("]]")
            self.advance(2)
            parent = self.resolve(keys[:-1])
            array_path = (*parent, keys[-1])
            index = self.array_counts.get(array_path, 0)
            self.array_counts[array_path] = index + 1
            self.arrays_of_tables.add(array_path)
            self.loc.positions.setdefault(array_path, pos)
            self.current = (*array_path, index)
            self.loc.positions[self.current] = pos
        elif self.peek() == "[":
            self.advance()
            keys = self.read_key_path("]")
            self.advance()
            self.current = self.resolve(keys)
            self.loc.positions.setdefault(self.current, pos)
        else:
            keys = self.read_key_path("=")
            self.advance()  # '='
            path = (*self.current, *keys)
            self.loc.positions.setdefault(path, pos)
            self.skip_ws()
            self.read_value(path)
        # ignore the rest of the line (comments)
        self.skip_ws()
        return True

    def resolve(self, keys: list[str]) -> Path:
        """Header keys -> absolute path, inserting the current index of arrays of tables.

        Only the first `_MAX_ARRAY_DEPTH` keys are looked up: each look-up hashes the path
        so far, so looking up every key of a header with 100,000 dotted parts cost minutes
        (quadratic). Keys deeper than that are taken as written (no real file nests arrays
        of tables that deep; positions are a convenience)."""
        path: Path = ()
        for key in keys[:_MAX_ARRAY_DEPTH]:
            path = (*path, key)
            if path in self.arrays_of_tables:
                path = (*path, self.array_counts[path] - 1)
        return (*path, *keys[_MAX_ARRAY_DEPTH:])

    def read_key_path(self, terminator: str) -> list[str]:
        keys: list[str] = []
        while self.i < len(self.text):
            self.skip_ws()
            if self.startswith(terminator) or self.peek() == "\n":
                break
            if self.peek() in "\"'":
                keys.append(self.read_string())
            else:
                start = self.i
                self.skip(_BARE_KEY)
                if self.i == start:  # unexpected char; avoid an endless loop
                    self.advance()
                    continue
                keys.append(self.text[start : self.i])
            self.skip_ws()
            if self.peek() == ".":
                self.advance()
        return keys

    def read_string(self) -> str:
        quote = self.peek()
        if not quote:  # the end of the text ("" is `in` every string): nothing to read
            return ""
        triple = self.startswith(quote * 3)
        if triple:
            self.advance(3)
            start = self.i
            self.i = self._triple_end(quote)
            value = self.text[start : self.i]
            self.advance(3)
            while self.peek() == quote:  # up to two quotes may end the content
                self.advance()
            return value
        self.advance()
        start = self.i
        self.skip(_BASIC if quote == '"' else _LITERAL)
        value = self.text[start : self.i]
        self.advance()
        return value

    def read_value(self, path: Path) -> None:
        c = self.peek()
        if c in "\"'":
            self.read_string()
        elif c == "[":
            self.advance()
            index = 0
            while self.i < len(self.text):
                start = self.i
                self.skip_ws(newlines=True)
                if self.peek() == "]":
                    self.advance()
                    return
                self.loc.positions.setdefault((*path, index), self.pos)
                self.read_value((*path, index))
                index += 1
                self.skip_ws(newlines=True)
                # A comma, or a value that cannot start (invalid TOML): step over it.
                if self.peek() == "," or self.i == start:
                    self.advance()
        elif c == "{":
            self.advance()
            while self.i < len(self.text):
                start = self.i
                self.skip_ws()
                if self.peek() == "}":
                    self.advance()
                    return
                pos = self.pos
                keys = self.read_key_path("=")
                self.advance()
                sub = (*path, *keys)
                self.loc.positions.setdefault(sub, pos)
                self.skip_ws()
                self.read_value(sub)
                self.skip_ws()
                if self.peek() == ",":
                    self.advance()
                elif self.peek() == "\n" or not self.peek():
                    return
                elif self.i == start:  # as in arrays: never the same place twice
                    self.advance()
        else:
            self.skip(_SCALAR)

    def _triple_end(self, quote: str) -> int:
        """Where a multi-line string's closing quotes start (or the end of the text); in a
        basic string a backslash escapes the character after it.

        Linear: the closing quotes are searched again only when an escape reaches them.
        Searching for them again after every backslash made a valid string of 200,000
        escaped backslashes cost 20 CPU seconds (quadratic), and a committed contract is
        untrusted input to every read of it."""
        closing = quote * 3
        text = self.text
        end = text.find(closing, self.i)
        if quote != '"':
            return end if end != -1 else self.n
        j = self.i
        while end != -1:
            escape = text.find("\\", j, end)
            if escape == -1:
                return end
            j = escape + 2
            if j > end:  # the escaped character is one of the closing quotes
                end = text.find(closing, j)
        return self.n


def locate(text: str) -> Locations:
    try:
        return _Scanner(text).run()
    except Exception:  # pragma: no cover - positions are a convenience, never fatal
        return Locations(positions={(): (1, 1)})


class Locator:
    """The positions of one text, scanned only as far as the questions asked need.

    `find(path)` gives what `locate(text).find(path)` gives: the scan stops at the step
    that records `path` itself (a recorded position is final, see `_Scanner.step`), and
    anything else (an ancestor, a path that is not written) is answered once the whole
    text is scanned. A gate's JUnit report asks where each rule's top-level key is in
    each of 1,000 contracts: those sit above the terms, so most of each file is never
    scanned."""

    def __init__(self, text: str) -> None:
        self._scanner: _Scanner | None = _Scanner(text)
        self._done: Locations | None = None

    def find(self, path: Path) -> tuple[int, int] | None:
        scanner = self._scanner
        if scanner is not None:
            positions = scanner.loc.positions
            try:
                while path not in positions:
                    if not scanner.step():
                        break
            except Exception:  # pragma: no cover - as `locate`: never fatal
                self._scanner, self._done = None, Locations(positions={(): (1, 1)})
            if path in positions:
                return positions[path]
        return self.complete().find(path)

    def complete(self) -> Locations:
        """Every position (the rest of the text scanned now), as `locate` gives them."""
        if self._done is None:
            scanner, self._scanner = self._scanner, None
            assert scanner is not None
            try:
                while scanner.step():
                    pass
                self._done = scanner.loc
            except Exception:  # pragma: no cover - as `locate`
                self._done = Locations(positions={(): (1, 1)})
        return self._done
