"""Structured edits through tomlkit: comments, order and formatting of the rest survive."""

from __future__ import annotations

from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from workbench.model.errors import WorkbenchError
from workbench.model.text import normalise


class EditError(WorkbenchError, ValueError):
    pass


def set_value(text: str, path: tuple[str | int, ...], value: Any) -> str:
    """Return `text` with the value at `path` replaced; everything else byte-identical."""
    if not path:
        raise EditError("empty path")
    doc = tomlkit.parse(text)
    node: Any = doc
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError) as exc:
            raise EditError(f"no {part!r} in {'.'.join(map(str, path))}") from exc
        if not isinstance(node, Table | AoT | dict | list) and not hasattr(node, "__getitem__"):
            raise EditError(f"{part!r} is not a table")
    last = path[-1]
    try:
        existing = node[last]
    except (KeyError, IndexError):
        existing = None
    if existing is not None and hasattr(existing, "trivia"):
        # Keep the inline comment that follows the old value.
        item = tomlkit.item(value)
        item.trivia.comment = existing.trivia.comment
        item.trivia.comment_ws = existing.trivia.comment_ws
        node[last] = item
    else:
        node[last] = value
    return normalise(tomlkit.dumps(doc))
