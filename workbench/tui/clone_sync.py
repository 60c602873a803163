"""Working across clones in the app (issue 15): the header's word on a merge in progress
and ahead/behind, the sync dialog (`S`), and the conflicts screen (`M`). Mixed into
``WorkbenchApp``; the service work runs in workers, the results come back as messages."""

from __future__ import annotations

from typing import Any

from textual import work

from workbench.tui.host import AppHost


class CloneSyncing(AppHost):
    """Merge state in the header, sync and conflict resolution."""

    @work(thread=True, exclusive=True, exit_on_error=False, group="repo-state")
    def load_repo_state(self) -> None:
        from workbench.service.repo_state import repo_state
        from workbench.tui.messages import RepoStateLoaded

        try:
            state = repo_state(self.service)
        except Exception:  # noqa: BLE001 - the header simply says nothing then
            return
        self._post(self, RepoStateLoaded(state))

    def on_repo_state_loaded(self, message: Any) -> None:
        from workbench.tui.sync_header import repo_badge

        state = message.state
        self.repo_state = state
        self.repo_info = repo_badge(state)
        # The header has room for the headline only: say once how to finish or abort it.
        said = (state.headline(), state.advice()) if state.unfinished else None
        if said is not None and said != getattr(self, "_repo_said", None):
            self.notify(
                f"{said[0]}. {said[1][:1].upper()}{said[1][1:]}."
                + (
                    " In the app: M shows both sides and commits the merge."
                    if state.conflicted
                    else ""
                ),
                title="Merge not finished",
                severity="warning",
                markup=False,
                timeout=12,
            )
        self._repo_said = said

    def action_sync(self, dry_run: bool = False) -> None:
        from workbench.tui.modals.sync import SyncModal

        if self.readonly and not dry_run:
            self.notify(
                "Read-only mode: only a dry run (`repo: sync (dry run)`)", severity="warning"
            )
            return
        self.push_screen(SyncModal(dry_run), self._synced)

    def _synced(self, report: Any) -> None:
        if report is None:
            return
        if not report.dry_run:
            self.load_state()
        else:
            self.load_repo_state()
        if report.conflicts:
            self.notify(
                f"{len(report.conflicts)} conflict(s) to resolve: press M",
                severity="warning",
                title="Merge not finished",
                markup=False,
                timeout=10,
            )

    def action_show_conflicts(self, path: str | None = None) -> None:
        from workbench.tui.screens.conflict import ConflictScreen

        self.open_screen(ConflictScreen(path))
