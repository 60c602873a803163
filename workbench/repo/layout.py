"""Where things live in a governance repo (see docs/architecture.md).

Every path built from an id someone typed or committed goes through `checked_id` first:
ids are slugs (no "/", no "..", no leading dot), so a path made from one cannot leave its
folder, let alone the repository (``workbench show ../../etc/x`` is refused).
"""

from __future__ import annotations

import re

from workbench.model.ids import SLUG_PATTERN
from workbench.model.safe_text import line

SETTINGS = "workbench.toml"
PEOPLE = "keys/people.toml"
CONTRACTS = "contracts/"
SCHEMA = "schema/contract.schema.json"
SCHEMA_LINE = "#:schema ../schema/contract.schema.json"

# Directories whose small text files make up the governance state. Evidence snapshot
# files themselves are not loaded here (they can be large); only the manifest is.
STATE_DIRS = (
    "contracts/",
    "keys/",
    "attestations/",
    "actions/",
    "diagnostics/",
    "reviews/",
    "acks/",
    "reports/",
)
STATE_FILES = (SETTINGS, "evidence/manifest.toml")


def is_state_path(path: str) -> bool:
    if path.endswith("/"):
        return any(path.startswith(d) or d.startswith(path) for d in STATE_DIRS)
    return path in STATE_FILES or path.startswith(STATE_DIRS)


ACTIONS = "actions/"
_SLUG = re.compile(SLUG_PATTERN)
MAX_ID = 80


class UnsafePath(ValueError):
    """An id or path that is not one, or that would lead outside the repository."""


def checked_id(value: str, what: str = "contract") -> str:
    """`value` if it is a valid id (a slug), else UnsafePath naming what is wrong."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value) or len(value) > MAX_ID:
        raise UnsafePath(
            f"'{line(value)}' is not a {what} id: lowercase letters, digits, '.', '_' and '-', "
            f"starting with a letter or digit, at most {MAX_ID} characters"
        )
    return value


def contract_path(contract_id: str) -> str:
    return f"{CONTRACTS}{checked_id(contract_id)}.toml"


def action_path(action_id: str) -> str:
    return f"{ACTIONS}{checked_id(action_id, 'action item')}.toml"


def checked_relative(path: str) -> str:
    """A repo-relative path that stays inside the repo: no absolute path, no '..', '.' or
    empty component, no backslash or NUL (UnsafePath otherwise)."""
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\0" in path
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise UnsafePath(f"'{line(path)}': not a path inside the repository")
    return path
