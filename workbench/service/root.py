"""Where the governance repository is, and whether it is an unfinished demo."""

from __future__ import annotations

from pathlib import Path

from workbench.repo import layout
from workbench.service.errors import NotAGovernanceRepo


def find_root(start: Path) -> Path:
    """The governance repo containing `start`: a git work tree with a workbench.toml."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / layout.SETTINGS).is_file() and (candidate / ".git").exists():
            return candidate
    raise NotAGovernanceRepo(
        f"{start} is not inside a governance repo (no workbench.toml in a git work tree).\n"
        "Create one with `workbench init DIR`, or try the demo with `workbench demo`."
    )


def unfinished_demo_warning(root: Path) -> str | None:
    """A demo whose build was interrupted looks complete but is not: what to tell the user
    (None for every other repository)."""
    if not layout.demo_incomplete(root):
        return None
    return (
        f"warning: {root} is an unfinished demo (its build was interrupted); "
        f"rebuild it with `workbench demo {root}`"
    )
