"""A contract's text diff between two versions, with the term-level comparison beside it
(`workbench diff`, the editor's preview before a save)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.model.compare import ContractComparison


@dataclass
class ContractDiff:
    contract_id: str
    old_rev: str
    new_rev: str
    text: str
    comparison: ContractComparison
    problems: list[str] = field(default_factory=list)


def unified(path: str, old: bytes | None, new: bytes | None, old_label: str, new_label: str) -> str:
    """git-style unified diff of two versions of `path` (either may be missing)."""
    return "".join(
        difflib.unified_diff(
            (old or b"").decode("utf-8", errors="replace").splitlines(keepends=True),
            (new or b"").decode("utf-8", errors="replace").splitlines(keepends=True),
            f"a/{path} ({old_label})",
            f"b/{path} ({new_label})",
        )
    )
