"""A fast reader for the plain line-per-key TOML the workbench writes, with the exact
result `tomllib` gives, and a refusal (None) for anything else.

`tomllib` is pure Python and parses about 6,000 short contract files a second: on a fresh
clone every command that judges contracts (`verify`, the gate, `validate`) spends most of
its own time there. Contracts are written one key per line: `[table]` and `[[array]]`
headers with bare names, `key = value` with bare keys, and values that are simple strings,
integers, decimal floats, booleans, dates, UTC date-times and one-line arrays of strings.
This module reads only that subset, one regular expression per line. Anything outside it —
an escape in a string, a dotted key, a multi-line value, an inline table, a carriage
return, a key defined twice, a header naming something already defined — returns None,
and the caller parses the text with `tomllib`, which gives the result or the error with its
position. So a document read here is read exactly as `tomllib` reads it (the differential
tests hold it to `tomllib` on every TOML file in the repository, the demo, the benchmark
organisations and random documents), and every error still comes from `tomllib`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

# TOML's whitespace is space and tab only; comments and strings refuse control characters
# other than tab (as tomllib does). `[0-9]`, never `\d`: `\d` matches other scripts' digits.
_WS = r"[ \t]*"
_COMMENT = r"(?:#[^\x00-\x08\x0a-\x1f\x7f]*)?"
_KEY = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[btnfr"\\])*"'  # \\uXXXX: tomllib's
_LITERAL = r"'[^'\x00-\x08\x0a-\x1f\x7f]*'"
_STRING = rf"(?:{_BASIC}|{_LITERAL})"
_INT = r"[+-]?(?:0|[1-9][0-9]*)"
_FLOAT = r"[+-]?(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATETIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}[Zz]"
_ARRAY = rf"\[{_WS}(?:{_STRING}{_WS},{_WS})*(?:{_STRING}{_WS})?\]"
_VALUE = (
    rf"(?P<str>{_STRING})|(?P<float>{_FLOAT})|(?P<int>{_INT})|(?P<bool>true|false)"
    rf"|(?P<datetime>{_DATETIME})|(?P<date>{_DATE})|(?P<array>{_ARRAY})"
)
_NAME = rf"{_KEY}(?:{_WS}\.{_WS}{_KEY})*"
_LINE = re.compile(
    rf"{_WS}(?:"
    rf"(?P<key>{_KEY}){_WS}={_WS}(?:{_VALUE})"
    rf"|\[\[{_WS}(?P<aot>{_NAME}){_WS}\]\]"
    rf"|\[{_WS}(?P<table>{_NAME}){_WS}\]"
    rf"|){_WS}{_COMMENT}"
)
_ITEM = re.compile(_STRING)
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def loads(text: str) -> dict[str, Any] | None:
    """The document as `tomllib.loads(text)` gives it, or None when the text is not in the
    subset this module reads (then `tomllib` must be asked: the text may still be valid)."""
    if "\r" in text:
        return None
    root: dict[str, Any] = {}
    # The tables and arrays of tables this document's headers made (by id): a header may
    # only go through those, and may only add a name its parent does not hold yet (or
    # append to an array of tables). Everything else TOML allows is left to tomllib.
    tables = {id(root)}
    arrays: set[int] = set()
    current = root
    fullmatch = _LINE.fullmatch
    for line in text.split("\n"):
        m = fullmatch(line)
        if m is None:
            return None
        kind = m.lastgroup  # the value's kind on a key line, the header's on a header line
        if kind is None:
            continue  # blank or comment
        if kind == "aot" or kind == "table":
            table = _header(root, m.group(kind), kind == "aot", tables, arrays)
            if table is None:
                return None
            current = table
            continue
        key, raw = m.group("key", kind)
        if key in current:
            return None
        value = _value(kind, raw)
        if value is None:
            return None
        current[key] = value
    return root


def _header(
    root: dict[str, Any], header: str, is_array: bool, tables: set[int], arrays: set[int]
) -> dict[str, Any] | None:
    """The new table a `[header]` or `[[header]]` line opens, or None to leave it to tomllib."""
    if "." in header:
        *path, name = (part.strip(" \t") for part in header.split("."))
    else:  # `[seam]`, `[[terms]]`: the group holds no blanks
        path, name = [], header
    parent = root
    for part in path:
        if part not in parent:  # `[channels.slack]` makes `channels` (TOML does)
            parent[part] = {}
            tables.add(id(parent[part]))
        inner = _enter(parent[part], tables, arrays)
        if inner is None:
            return None
        parent = inner
    existing = parent.get(name)
    table: dict[str, Any] = {}
    tables.add(id(table))
    if not is_array:
        if existing is not None:
            return None
        parent[name] = table
    elif existing is None:
        array = parent[name] = [table]
        arrays.add(id(array))
    elif id(existing) in arrays:
        existing.append(table)
    else:
        return None
    return table


def _enter(node: Any, tables: set[int], arrays: set[int]) -> dict[str, Any] | None:
    """The table a dotted header goes through: one a header made, or the last table of an
    array of tables a header made; None for anything else (a value, an absent name)."""
    if isinstance(node, list) and id(node) in arrays:
        node = node[-1]
    if isinstance(node, dict) and id(node) in tables:
        return node
    return None


def _string(raw: str) -> str:
    body = raw[1:-1]
    if raw[0] == "'" or "\\" not in body:
        return body
    return _ESCAPE.sub(lambda e: _ESCAPES[e.group(1)], body)


def _value(kind: str, raw: str) -> Any:
    if kind == "str":
        return _string(raw)
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw == "true"
    if kind == "array":
        return [_string(item) for item in _ITEM.findall(raw)]
    try:
        if kind == "date":
            return date(int(raw[0:4]), int(raw[5:7]), int(raw[8:10]))
        return datetime(
            int(raw[0:4]),
            int(raw[5:7]),
            int(raw[8:10]),
            int(raw[11:13]),
            int(raw[14:16]),
            int(raw[17:19]),
            tzinfo=UTC,
        )
    except ValueError:  # 2026-02-30: tomllib says where and why
        return None
