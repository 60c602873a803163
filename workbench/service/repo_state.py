"""Where the clone stands (merge in progress, conflicts, ahead/behind its upstream), for
`status`, the app's header and the gate. See `workbench.repo.merge_state`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from workbench.repo import layout

if TYPE_CHECKING:
    from workbench.governance.merge_check import UnfinishedMerge
    from workbench.repo.merge_state import MergeState
    from workbench.service.core import Workbench


def repo_state(
    wb: Workbench, *, with_upstream: bool = True, status: Mapping[str, int] | None = None
) -> MergeState:
    from workbench.repo.merge_state import merge_state

    return merge_state(
        wb.root, layout.is_governance_path, with_upstream=with_upstream, status=status
    )


def unfinished_merge(
    wb: Workbench, status: Mapping[str, int] | None = None
) -> UnfinishedMerge | None:
    """What the gate fails on: a merge (rebase, ...) half-way through in this clone, or an
    unresolved conflict; None when there is neither. `status`: git's status already read
    (`GitRepo.status`), shared with the uncommitted-file note."""
    from workbench.governance.merge_check import UnfinishedMerge

    state = repo_state(wb, with_upstream=False, status=status)
    if not state.unfinished:
        return None
    return UnfinishedMerge(state.headline(), state.advice(), state.conflicted)
