"""The id pattern, without pydantic: paths are built from ids in light code too
(repo/layout.py, read before the first paint of the app)."""

from __future__ import annotations

SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
