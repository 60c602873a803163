"""Deterministic JSON bytes (RFC 8785 style) and a strict JSON reader.

Statements are written once with ``canonical_json`` and then kept as exact bytes:
they are never parsed and re-serialised before hashing or verifying. The writer
accepts only the restricted types our statements use (str, int, bool, None,
list, dict with str keys) and refuses floats and integers outside the I-JSON
safe range, where other canonicalisers silently collide (jcs maps 2^53+1 to
2^53). Keys are sorted by UTF-16 code units, as RFC 8785 requires.

``strict_loads`` rejects duplicate keys, floats, NaN/Infinity, a BOM and
invalid UTF-8, so two parsers can never disagree about what a statement says.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.model.errors import WorkbenchError

MAX_SAFE_INTEGER = 2**53 - 1

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
