"""Text hygiene for governance files: what we read must be exactly what people see.

Contracts are signed as raw bytes and read by humans in terminals, so invisible or
look-alike characters are refused: a BOM, control characters, bidirectional overrides
(the "Trojan Source" family) and text that is not in Unicode NFC.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

BIDI_CONTROLS = {
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}
ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


@dataclass(frozen=True)
class TextIssue:
    line: int
    column: int
    code: str
    message: str


def decode(data: bytes) -> tuple[str | None, list[TextIssue]]:
    """Decode strictly as UTF-8 and report hygiene issues with their positions."""
    if data.startswith(b"\xef\xbb\xbf"):
        return None, [
            TextIssue(
                1,
                1,
                "text.bom",
                "file starts with a byte-order mark (BOM); save as UTF-8 without BOM",
            )
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            TextIssue(
                line, column, "text.encoding", f"not valid UTF-8 (byte 0x{data[exc.start]:02x})"
            )
        ]
    return text, scan(text)


# Fast pre-check: almost every file is clean, and a regex finds the rare offender in C.
_SUSPECT = re.compile(
    "["
    + "".join(sorted(BIDI_CONTROLS | ZERO_WIDTH))
    + "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]|\r(?!\n)"
)


def scan(text: str) -> list[TextIssue]:
    if not _SUSPECT.search(text):
        if text.isascii() or unicodedata.is_normalized("NFC", text):
            return []
        return _nfc_issue(text)
    issues: list[TextIssue] = []
    line, column = 1, 1
    for index, ch in enumerate(text):
        if ch == "\n":
            line, column = line + 1, 1
            continue
        if ch == "\r" and text[index + 1 : index + 2] == "\n":
            column += 1
            continue
        if ch in BIDI_CONTROLS:
            issues.append(
                TextIssue(
                    line,
                    column,
                    "text.bidi",
                    f"bidirectional control character U+{ord(ch):04X} is not allowed",
                )
            )
        elif ch in ZERO_WIDTH:
            issues.append(
                TextIssue(
                    line,
                    column,
                    "text.invisible",
                    f"invisible character U+{ord(ch):04X} is not allowed",
                )
            )
        elif ch != "\t" and unicodedata.category(ch) in ("Cc", "Cs"):
            issues.append(
                TextIssue(
                    line,
                    column,
                    "text.control",
                    f"control character U+{ord(ch):04X} is not allowed",
                )
            )
        column += 1
    if not issues and not unicodedata.is_normalized("NFC", text):
        return _nfc_issue(text)
    return issues


def _nfc_issue(text: str) -> list[TextIssue]:
    for number, content in enumerate(text.split("\n"), start=1):
        if not unicodedata.is_normalized("NFC", content):
            message = "text is not in Unicode NFC form (look-alike characters)"
            return [TextIssue(number, 1, "text.nfc", message)]
    return []


def normalise(text: str) -> str:
    """The byte normal form the workbench writes: LF line endings and a final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text
