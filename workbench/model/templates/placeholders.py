"""Placeholders a seam template leaves for what only the teams know.

A template cannot know the upstream source, the protected attribute or the calibration
report; it writes `TODO: <what to put here>` and `validate` reports each one as an error
with that hint, so a contract that still promises "TODO" can never be signed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

PLACEHOLDER_PREFIX = "TODO"


def is_template_placeholder(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PLACEHOLDER_PREFIX)


def _walk(node: Any, where: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if is_template_placeholder(key):
                yield (*where, key), key
            yield from _walk(value, (*where, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*where, i))
    elif is_template_placeholder(node):
        yield where, node


def placeholders(data: dict[str, Any] | None) -> list[tuple[tuple[str | int, ...], str]]:
    """Every template placeholder in a parsed contract: (key path, its text)."""
    return list(_walk(data or {}, ()))


def hint(text: str) -> str:
    rest = text[len(PLACEHOLDER_PREFIX) :].lstrip(":-_ ").strip()
    return rest or "fill this in"


def placeholder_problems(document: Any) -> list[Any]:
    """The problems for a contract `Document` (model.state): one error per placeholder."""
    return [
        document.problem(
            where,
            "template.placeholder",
            f"placeholder left by the seam template: {hint(text)}",
        )
        for where, text in placeholders(document.data)
    ]
