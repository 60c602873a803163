"""Conflict markers git leaves in a file after a merge it could not finish: found, split
into their two sides, and named as a merge conflict (never as a syntax error).

A conflicted file looks like this (the ``|||||||`` part only with ``merge.conflictStyle =
diff3`` or ``zdiff3``)::

    <<<<<<< HEAD
    title = "ours"
    ||||||| base
    title = "the common ancestor"
    =======
    title = "theirs"
    >>>>>>> origin/main

Pure: text in, hunks and problems out. Used by validation (a contract with markers is a
"merge conflict" with both sides' lines), the seam map, the write door (no write through a
marker) and the app's conflict view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from workbench.model.problems import Problem

CONFLICT_CODE = "merge.conflict"

# Only the opening and closing lines decide that a file holds a conflict: "=======" alone
# is a Markdown heading underline.
_MARKER = re.compile(rb"^(?:<{7}|>{7})(?: |\r?$)", re.MULTILINE)
_OPEN = re.compile(r"^<{7}(?: (.*))?$")
_BASE = re.compile(r"^\|{7}(?: (.*))?$")
_SPLIT = re.compile(r"^={7}$")
_CLOSE = re.compile(r"^>{7}(?: (.*))?$")

Side = Literal["ours", "theirs"]


def conflict_marker_line(data: bytes) -> int | None:
    """The 1-based line of the first conflict marker in `data`, or None.

    Binary data (a NUL byte in the first 8000, git's own test) never has one: git does not
    merge binary files line by line.
    """
    if b"\0" in data[:8000]:
        return None
    found = _MARKER.search(data)
    return None if found is None else data.count(b"\n", 0, found.start()) + 1


@dataclass(frozen=True)
class ConflictHunk:
    """One conflicted region: its lines in the file (1-based, markers included) and what
    each side has there."""

    start: int
    end: int
    ours_label: str
    theirs_label: str
    ours: tuple[str, ...]
    theirs: tuple[str, ...]
    base: tuple[str, ...] | None = None  # diff3 style only
    complete: bool = True  # False: the closing marker is missing

    def describe(self, limit: int = 3) -> str:
        """One line: where, and both sides' lines (at most `limit` of each)."""

        def lines(side: tuple[str, ...]) -> str:
            if not side:
                return "nothing"
            shown = " ⏎ ".join(s.strip() for s in side[:limit])
            more = f" ⏎ … {len(side) - limit} more line(s)" if len(side) > limit else ""
            return f"'{shown}{more}'"

        where = f"line {self.start}" if self.end == self.start else f"lines {self.start}-{self.end}"
        ours = _short(self.ours_label) or "ours"
        theirs = _short(self.theirs_label) or "theirs"
        tail = "" if self.complete else " (no closing >>>>>>> line)"
        return f"{where}: {ours} has {lines(self.ours)}; {theirs} has {lines(self.theirs)}{tail}"


_COMMIT_ID = re.compile(r"[0-9a-f]{40}")


def _short(label: str) -> str:
    """A commit id as git abbreviates it; any other label as it is."""
    return label[:8] if _COMMIT_ID.fullmatch(label) else label


def conflict_hunks(text: str) -> list[ConflictHunk]:
    """Every conflicted region of `text`, in order (empty: no conflict)."""
    lines = text.splitlines()
    hunks: list[ConflictHunk] = []
    i = 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        if opened is None:
            i += 1
            continue
        start = i
        ours: list[str] = []
        base: list[str] | None = None
        theirs: list[str] = []
        part = "ours"
        theirs_label = ""
        i += 1
        complete = False
        while i < len(lines):
            line = lines[i]
            if part == "ours" and _BASE.match(line):
                part, base = "base", []
            elif part in ("ours", "base") and _SPLIT.match(line):
                part = "theirs"
            elif part == "theirs" and (closed := _CLOSE.match(line)):
                theirs_label = (closed.group(1) or "").strip()
                complete = True
                break
            elif part == "ours":
                ours.append(line)
            elif part == "base":
                assert base is not None
                base.append(line)
            else:
                theirs.append(line)
            i += 1
        end = i if complete else len(lines) - 1
        hunks.append(
            ConflictHunk(
                start + 1,
                end + 1,
                (opened.group(1) or "").strip(),
                theirs_label,
                tuple(ours),
                tuple(theirs),
                None if base is None else tuple(base),
                complete,
            )
        )
        i += 1
    return hunks


def side_text(text: str, side: Side) -> str:
    """`text` with every conflict resolved to one side: the file as that side wrote it
    (where the two sides did not conflict, both agree)."""
    lines = text.splitlines(keepends=True)
    hunks = conflict_hunks(text)
    out: list[str] = []
    i = 0
    for hunk in hunks:
        out.extend(lines[i : hunk.start - 1])
        chosen = hunk.ours if side == "ours" else hunk.theirs
        out.extend(s + "\n" for s in chosen)
        i = hunk.end
    out.extend(lines[i:])
    return "".join(out)


def conflict_problems(path: str, text: str) -> list[Problem]:
    """One error per conflicted region, naming both sides' lines: what validation reports
    for a file git could not merge (instead of "TOML syntax error: Invalid statement")."""
    return [
        Problem(
            path,
            hunk.start,
            1,
            "error",
            CONFLICT_CODE,
            f"merge conflict, {hunk.describe()}: keep one side or combine them (the app shows "
            "both), remove the marker lines, `git add` the file and commit",
        )
        for hunk in conflict_hunks(text)
    ]
