"""Ids: the pattern, and the check every id passes before a path is built from it.

Ids become file names (``contracts/<id>.toml``, ``actions/<id>.toml``, drafts, keys), so
they are slugs: no "/", no "..", no leading dot. No pydantic here: paths are built from
ids in light code too (repo/layout.py, read before the first paint of the app).
"""

from __future__ import annotations

import re

from workbench.model.errors import WorkbenchError
from workbench.model.safe_text import line

SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
MAX_ID = 80
_SLUG = re.compile(SLUG_PATTERN)


class UnsafePath(WorkbenchError, ValueError):
    """An id or path that is not one, or that would lead outside the repository."""


def checked_id(value: str, what: str = "contract") -> str:
    """`value` if it is a valid id, else UnsafePath naming what is wrong."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value) or len(value) > MAX_ID:
        raise UnsafePath(
            f"'{line(value)}' is not a {what} id: lowercase letters, digits, '.', '_' and '-', "
            f"starting with a letter or digit, at most {MAX_ID} characters"
        )
    return value
