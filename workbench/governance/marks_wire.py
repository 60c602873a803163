"""The seams' marks as JSON: what the marks process sends the terminal app.

The app works the marks out in a child process (`service/marks_process.py`) so that its
own interpreter stays free for keys. What comes back over the pipe is read as untrusted
bytes: every record is rebuilt field by field against its declared type, with no field
missing and none extra, and anything else is refused with where it was (`WireError`). A
child that returns garbage is then an error the app shows, never marks it believes.

Plain data in, plain data out (no repository, no Textual): the same `SeamView`s and
`PageView`s the in-process computation makes, equal field for field.
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from workbench.governance.pages import PageView
from workbench.governance.seam_view import SeamView

# Bumped when the shape changes: an app and a child of different code refuse each other.
WIRE_VERSION = 1


@dataclass
class SeamMarks:
    """The seams with every capability's marks, and the pages per contract they were
    judged with at `now` (a contract's screen shows those instead of working them out)."""

    views: list[SeamView]
    pages: dict[str, list[PageView]]
    now: datetime


class WireError(ValueError):
    """The bytes are not marks: says where (e.g. ``views[3].marks``) and what is wrong."""


def encode(value: Any) -> Any:
    """JSON-ready data: dataclasses as objects of their fields, times as ISO text, a
    duration as [days, seconds, microseconds] (exact, unlike a float of seconds)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return [value.days, value.seconds, value.microseconds]
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only text keys can be sent")
        return {k: encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"cannot send a {type(value).__name__}")


def encode_marks(marks: SeamMarks) -> dict[str, Any]:
    return {"wire": WIRE_VERSION, **encode(marks)}


def decode_marks(data: Any) -> SeamMarks:
    if not isinstance(data, dict):
        raise WireError(f"expected an object, got {_kind(data)}")
    if data.get("wire") != WIRE_VERSION:
        raise WireError(f"wire version {data.get('wire')!r}, expected {WIRE_VERSION}")
    body = {k: v for k, v in data.items() if k != "wire"}
    marks = decode(SeamMarks, body, "marks")
    assert isinstance(marks, SeamMarks)
    return marks


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def decode(tp: Any, data: Any, where: str) -> Any:
    """`data` rebuilt as a value of type `tp`, or WireError naming `where`."""
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return _decode_union(get_args(tp), data, where)
    if origin is Literal:
        if data in get_args(tp) and isinstance(data, str):
            return data
        raise WireError(f"{where}: {data!r} is not one of {list(get_args(tp))}")
    if origin is list:
        if not isinstance(data, list):
            raise WireError(f"{where}: expected a list, got {_kind(data)}")
        (item,) = get_args(tp)
        return [decode(item, v, f"{where}[{i}]") for i, v in enumerate(data)]
    if origin is dict:
        if not isinstance(data, dict):
            raise WireError(f"{where}: expected an object, got {_kind(data)}")
        _, item = get_args(tp)
        return {k: decode(item, v, f"{where}[{k!r}]") for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_record(tp, data, where)
    return _decode_scalar(tp, data, where)


def _decode_union(args: tuple[Any, ...], data: Any, where: str) -> Any:
    if data is None and type(None) in args:
        return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return decode(arg, data, where)
        except WireError as exc:
            errors.append(str(exc))
    raise WireError("; ".join(errors) or f"{where}: unexpected {_kind(data)}")


def _decode_record(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise WireError(f"{where}: expected an object, got {_kind(data)}")
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    missing = [n for n in names if n not in data]
    extra = sorted(set(data) - set(names))
    if missing or extra:
        what = ", ".join(
            [*(f"missing {n!r}" for n in missing), *(f"unexpected {n!r}" for n in extra)]
        )
        raise WireError(f"{where}: {what}")
    hints = _hints(cls)
    return cls(**{n: decode(hints[n], data[n], f"{where}.{n}") for n in names})


def _decode_scalar(tp: Any, data: Any, where: str) -> Any:
    if tp is datetime:
        if isinstance(data, str):
            try:
                return datetime.fromisoformat(data)
            except ValueError:
                pass
        raise WireError(f"{where}: expected an ISO time, got {data!r:.60}")
    if tp is timedelta:
        if (
            isinstance(data, list)
            and len(data) == 3
            and all(isinstance(n, int) and not isinstance(n, bool) for n in data)
        ):
            try:
                return timedelta(days=data[0], seconds=data[1], microseconds=data[2])
            except OverflowError:
                pass
        raise WireError(f"{where}: expected [days, seconds, microseconds], got {data!r:.60}")
    if tp is bool:
        ok = isinstance(data, bool)
    elif tp is int:
        ok = isinstance(data, int) and not isinstance(data, bool)
    elif tp is str:
        ok = isinstance(data, str)
    else:
        raise WireError(f"{where}: cannot read a {tp!r}")
    if not ok:
        raise WireError(f"{where}: expected {tp.__name__}, got {_kind(data)}")
    return data


def _kind(data: Any) -> str:
    return "null" if data is None else type(data).__name__
