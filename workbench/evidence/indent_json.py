"""``json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1)``, byte for byte, faster.

A findings file is that rendering of the run (docs/evidence.md), and its bytes are fixed by
its inputs: a re-run must produce the same file. With ``indent`` set, Python 3.11's json
uses its pure-Python encoder (a generator per container: ≈ 0.23 s of CPU for the 4,000
findings of 1,000 contracts). This writer does the same walk with one list of parts and
the C string escaper (``json.encoder.encode_basestring``, the one ``ensure_ascii=False``
uses); anything it does not handle exactly like json (a key that is not a str, a subclass
of str/int/float, a value json would reject) is rendered by ``json.dumps`` itself.
"""

from __future__ import annotations

import json
from json.encoder import INFINITY, encode_basestring
from typing import Any

_float_repr = float.__repr__
_int_repr = int.__repr__


class _NotPlain(Exception):
    pass


def _float(value: float) -> str:
    # = json.encoder's floatstr with allow_nan=True
    if value != value:
        return "NaN"
    if value == INFINITY:
        return "Infinity"
    if value == -INFINITY:
        return "-Infinity"
    return _float_repr(value)


def dumps_indent1(obj: Any) -> str:
    """``json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1)``."""
    parts: list[str] = []
    add = parts.append

    def walk(value: Any, pad: str) -> None:
        kind = type(value)
        if kind is str:
            add(encode_basestring(value))
        elif kind is dict:
            if not value:
                add("{}")
                return
            inner = "\n" + pad + " "
            if any(type(k) is not str for k in value):
                raise _NotPlain  # json converts such keys; leave that to json
            sep = "{" + inner
            for key in sorted(value):
                add(sep + encode_basestring(key) + ": ")
                walk(value[key], pad + " ")
                sep = "," + inner
            add("\n" + pad + "}")
        elif kind is list or kind is tuple:
            if not value:
                add("[]")
                return
            inner = "\n" + pad + " "
            sep = "[" + inner
            for item in value:
                add(sep)
                walk(item, pad + " ")
                sep = "," + inner
            add("\n" + pad + "]")
        elif value is None:
            add("null")
        elif value is True:
            add("true")
        elif value is False:
            add("false")
        elif kind is int:
            add(_int_repr(value))
        elif kind is float:
            add(_float(value))
        else:
            raise _NotPlain

    try:
        walk(obj, "")
    except (_NotPlain, RecursionError):
        # json raises the same errors (circular references, unknown types) or renders it.
        return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1)
    return "".join(parts)
