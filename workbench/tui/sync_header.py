"""The header's word on where the clone stands (pure: a MergeState in, text out)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.service.results import MergeState


def repo_badge(state: MergeState) -> tuple[str, bool]:
    """("MERGE IN PROGRESS · 1 conflict · M to resolve", True), ("↑1 ↓2 origin/main", False), or
    ("", False) when there is nothing to say (no upstream, no operation)."""
    if state.unfinished:
        what = (state.operation or "unresolved conflicts").removesuffix(" is in progress")
        what = what.removeprefix("a ").removeprefix("an ").upper()
        parts = [f"{what} IN PROGRESS" if state.operation else "CONFLICTS"]
        n = len(state.conflicted)
        if n:
            parts.append(f"{n} conflict{'s' if n != 1 else ''} · M to resolve")
        elif state.how:
            parts.append("see `git status`")
        position = state.position()
        if position and not position.startswith("up to date"):
            parts.append(position)
        return " · ".join(parts), True
    position = state.position()
    if position.startswith("up to date") and state.upstream is not None:
        return f"✓ {state.upstream.name}", False
    return position, False
