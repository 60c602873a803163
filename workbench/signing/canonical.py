"""Deterministic JSON bytes (RFC 8785 style) and a strict JSON reader.

Statements are written once with ``canonical_json`` and then kept as exact bytes:
they are never parsed and re-serialised before hashing or verifying. The writer
accepts only the restricted types our statements use (str, int, bool, None,
list, dict with str keys) and refuses floats and integers outside the I-JSON
safe range, where other canonicalisers silently collide (jcs maps 2^53+1 to
2^53). Keys are sorted by UTF-16 code units, as RFC 8785 requires.

``strict_loads`` rejects duplicate keys, floats, NaN/Infinity, a BOM and
invalid UTF-8, so two parsers can never disagree about what a statement says.

``written_form_problem`` goes one step further for files two verifiers read (an audit
bundle's JSON, docs/audit.md "One reading of every JSON file"): the bytes must be exactly
the one form the value is written in, as jq writes it back (``jq -c``, or ``jq -a --indent
1`` for a pretty file). Then a shell verifier can check the rule by re-printing the file
with jq and comparing bytes, and nothing a lax reader would read differently (a duplicate
key, NaN, ``1.0``, ``01``, ``-0``, a BOM, text after the value) is left to read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from workbench.model.errors import WorkbenchError

MAX_SAFE_INTEGER = 2**53 - 1
# Deepest path in a JSON file a verifier reads (jq's parser stops at 256; Python's sooner
# or later): the same limit for both readers.
MAX_JSON_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


class CanonicalError(WorkbenchError, ValueError):
    """The value cannot be written (or the bytes read) as canonical statement JSON."""


def _string(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            raise CanonicalError("strings must not contain lone surrogates")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _emit(value: Any, out: list[str], depth: int) -> None:
    if depth > 32:
        raise CanonicalError("value is nested too deeply")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"integer {value} is outside the I-JSON safe range (±2^53-1)")
        out.append(str(int(value)))
    elif isinstance(value, float):
        raise CanonicalError("floats are not allowed in statements (use integers or strings)")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _emit(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CanonicalError("object keys must be strings")
        out.append("{")
        for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _emit(value[key], out, depth + 1)
        out.append("}")
    else:
        raise CanonicalError(f"unsupported type in a statement: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value`` (restricted types only; no trailing newline)."""
    out: list[str] = []
    _emit(value, out, 0)
    return "".join(out).encode("utf-8")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CanonicalError(f"duplicate JSON key {key!r}")
        result[key] = value
    return result


def _reject_float(text: str) -> Any:
    raise CanonicalError(f"floats are not allowed in statements: {text}")


def _safe_int(text: str) -> int:
    if len(text.lstrip("-")) > 16 or abs(int(text)) > MAX_SAFE_INTEGER:
        raise CanonicalError(f"integer {text} is outside the I-JSON safe range (±2^53-1)")
    return int(text)


def _reject_constant(text: str) -> Any:
    raise CanonicalError(f"{text} is not allowed in statements")


def strict_loads(data: bytes, max_bytes: int) -> Any:
    """Parse JSON bytes strictly (see module docstring); ``max_bytes`` is checked first."""
    if len(data) > max_bytes:
        raise CanonicalError(f"{len(data)} bytes is over the {max_bytes}-byte limit")
    if data.startswith(b"\xef\xbb\xbf"):
        raise CanonicalError("JSON must not start with a byte-order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not valid UTF-8: {exc}") from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_float=_reject_float,
            parse_int=_safe_int,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise CanonicalError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise CanonicalError("JSON is nested too deeply") from None


def _shape_problem(value: Any, depth: int) -> str | None:
    """Too deep, or a string (or key) holding a lone surrogate (jq reads one as U+FFFD)."""
    if isinstance(value, str):
        return "a lone surrogate in a string" if _SURROGATE.search(value) else None
    children: list[Any] = []
    if isinstance(value, dict):
        if any(_SURROGATE.search(k) for k in value):
            return "a lone surrogate in a key"
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    if children and depth + 1 > MAX_JSON_DEPTH:
        return f"nested deeper than {MAX_JSON_DEPTH}"
    for child in children:
        problem = _shape_problem(child, depth + 1)
        if problem:
            return problem
    return None


def written_form(value: Any, pretty: bool = False) -> bytes:
    """The one form of ``value`` as jq prints it: compact (``jq -c``: UTF-8, DEL escaped as
    jq escapes it) or pretty (``jq -a --indent 1``: ASCII, one space per level, a final
    newline); keys sorted by code point. ``value`` is a ``strict_loads`` result."""
    if pretty:
        return (json.dumps(value, sort_keys=True, indent=1) + "\n").encode("ascii")
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.replace("\x7f", "\\u007f").encode("utf-8")


def written_form_problem(data: bytes, max_bytes: int, pretty: bool = False) -> str | None:
    """None when ``data`` is one strict JSON value written exactly in its one form
    (``written_form``; a compact file may end with one newline), else what is wrong."""
    try:
        value = strict_loads(data, max_bytes)
    except CanonicalError as exc:
        return str(exc)
    problem = _shape_problem(value, 0)
    if problem:
        return problem
    form = written_form(value, pretty)
    if data == form or (not pretty and data == form + b"\n"):
        return None
    return (
        "not written in its one form ("
        + (
            "ASCII, sorted keys, one space of indent per level"
            if pretty
            else "compact, keys sorted, no spaces, at most one final newline"
        )
        + ")"
    )
