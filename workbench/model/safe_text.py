"""Safe output: every string from a repo, a bundle or evidence, made safe for where it goes.

Governance files are untrusted input. `model.text` refuses raw control bytes in them, but a
TOML escape (``title = "\\u001b]8;;http://evil\\u0007"``), a commit message, an author name,
an evidence value, a file name in a bundle or a SQL error can still carry an escape
sequence, a bell, a C1 control, a bidirectional override (Trojan Source) or an invisible
character. Printed as is, those rewrite the reader's terminal: hide lines, forge a
``gate PASSED``, plant a hyperlink, reorder what a reviewer reads.

One function per medium, each applied once at that medium's output boundary:

=================  ==============================================================
``terminal``       CLI text, the text gate report, the bundle README: every unsafe
                   character shown in visible notation (``\\x1b``, ``\\u202e``);
                   newlines and tabs kept.
``line``           a field that must stay on one line (a table cell, a name, a
                   title, a check message): ``terminal`` plus ``\\n``/``\\t`` shown.
``xml``            JUnit XML text: as ``terminal`` (which leaves nothing that is
                   illegal in XML 1.0); the JUnit writer escapes ``<>&"``.
``json_dumps``     JSON (``--json``, SARIF, OSCAL, reports): faithful data; every
                   unsafe character is a ``\\uXXXX`` escape, so a parser gets the
                   exact string and a terminal gets no control byte.
``markdown``       a repo string inside a Markdown report: one line, visible, and
                   Markdown's inline syntax backslash-escaped, so it cannot open a
                   link, an image, raw HTML, a code span or a table cell.
``tui_table``      a 1:1 mapping (same length) for the terminal app's renderer.
=================  ==============================================================

"Unsafe" is every character of the Unicode categories Cc (C0, DEL, C1), Cf (format:
bidi controls and isolates, zero-width characters, the BOM, tag characters, soft hyphen,
interlinear annotations), Cs (lone surrogates), Zl and Zp (line and paragraph separators),
plus the noncharacters U+FFFE and U+FFFF. The list is fixed here (computing it at import
would scan the whole code space); tests/security checks it against `unicodedata`.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Ranges of unsafe code points (inclusive), Unicode 14 plus the format controls that later
# versions add in the same blocks (so a newer Python finds nothing missing).
UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),  # C0 controls (\t and \n are kept where layout allows)
    (0x007F, 0x009F),  # DEL and C1 controls (0x9B is a one-byte CSI)
    (0x00AD, 0x00AD),  # soft hyphen
    (0x0600, 0x0605),  # Arabic number signs (format)
    (0x061C, 0x061C),  # Arabic letter mark (bidi)
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width space/joiners, LRM, RLM
    (0x2028, 0x202E),  # line/paragraph separators, bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated
    (0xD800, 0xDFFF),  # lone surrogates
    (0xFEFF, 0xFEFF),  # BOM / zero-width no-break space
    (0xFFF9, 0xFFFB),  # interlinear annotations
    (0xFFFE, 0xFFFF),  # noncharacters (illegal in XML)
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical format controls
    (0xE0000, 0xE007F),  # tag characters (invisible text)
)


def _char_class(ranges: tuple[tuple[int, int], ...], keep: str = "") -> str:
    parts = []
    for start, end in ranges:
        for a, b in _split_around(start, end, {ord(c) for c in keep}):
            parts.append(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else ""))
    return "[" + "".join(parts) + "]"


def _split_around(start: int, end: int, holes: set[int]) -> list[tuple[int, int]]:
    out, a = [], start
    for hole in sorted(h for h in holes if start <= h <= end):
        if a < hole:
            out.append((a, hole - 1))
        a = hole + 1
    if a <= end:
        out.append((a, end))
    return out


_UNSAFE = re.compile(_char_class(UNSAFE_RANGES))
_UNSAFE_KEEP_LAYOUT = re.compile(_char_class(UNSAFE_RANGES, keep="\n\t"))
# Most output is ASCII: a check for the few ASCII controls is several times faster.
_ASCII_UNSAFE_KEEP_LAYOUT = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _keep_layout_pattern(text: str) -> re.Pattern[str]:
    return _ASCII_UNSAFE_KEEP_LAYOUT if text.isascii() else _UNSAFE_KEEP_LAYOUT


# Markdown and GFM syntax that could start inside a line: emphasis, code, links, images,
# raw HTML and entities, headings/issue refs, table cells, strikethrough, math, mentions.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&$@])")


_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def is_unsafe(ch: str) -> bool:
    return bool(_UNSAFE.match(ch))


def visible(ch: str) -> str:
    """The visible notation of one unsafe character: ``\\x1b``, ``\\u202e``, ``\\U000e0041``."""
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _visible(match: re.Match[str]) -> str:
    return visible(match.group())


def terminal(text: str) -> str:
    """Text for a terminal: unsafe characters in visible notation, newlines and tabs kept."""
    pattern = _keep_layout_pattern(text)
    if not pattern.search(text):
        return text
    return pattern.sub(_visible, text)


def line(text: object) -> str:
    """One field on one line: as `terminal`, and a newline or tab inside it is shown too,
    so a title cannot start a forged line of output (``\\nRESULT: OK``)."""
    text = str(text)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_visible, text)


def xml(text: str) -> str:
    """Text for an XML document: `terminal` leaves no character XML 1.0 forbids."""
    return terminal(text)


def markdown(text: object) -> str:
    """A repo string inside a Markdown line (table cell, heading, list item).

    One line, visible notation, and every ASCII punctuation mark that Markdown or GFM could
    read as inline syntax backslash-escaped (CommonMark allows a backslash before any ASCII
    punctuation), so the string renders as exactly its characters: no link text that hides
    its target, no image, raw HTML, entity, emphasis, code span, math, mention or table
    cell break. A bare URL may still be linkified by GFM; it then shows its own address.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line(text))


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_dumps(data: Any, **kwargs: Any) -> str:
    """`json.dumps` (UTF-8 text kept readable) with every unsafe character escaped.

    JSON already escapes C0; DEL, C1, bidi and invisible characters would otherwise be
    written raw. Unsafe characters can only occur inside JSON strings (the syntax is
    ASCII), where ``\\uXXXX`` means the same character: the data stays exact.
    """
    kwargs.setdefault("ensure_ascii", False)
    text = json.dumps(data, **kwargs)
    # A raw newline or tab in the output is indentation: inside strings json escapes them.
    pattern = _keep_layout_pattern(text)
    if not pattern.search(text):
        return text
    return pattern.sub(_json_escape, text)


# The terminal app's renderer keeps text and style spans aligned by position, so it needs
# a replacement of the same length: control pictures (U+2400..) for C0 and DEL, U+FFFD for
# the rest. Newline and tab are layout there too, except in a single cell (`keep=""`).
def tui_table(keep: str = "\n\t") -> dict[int, str]:
    table: dict[int, str] = {}
    for start, end in UNSAFE_RANGES:
        for code in range(start, end + 1):
            if chr(code) in keep:
                continue
            if code < 0x20:
                table[code] = chr(0x2400 + code)
            elif code == 0x7F:
                table[code] = "\u2421"
            else:
                table[code] = "\ufffd"
    return table
