"""Shared screen plumbing: the app's state signal and typed access to the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


class BaseScreen(Screen):
    """A screen that redraws itself whenever the app loads a new governance state."""

    @property
    def wb(self) -> WorkbenchApp:
        return self.app  # type: ignore[return-value]

    # A screen that can draw from the stored seam map alone, before the state is loaded.
    draws_from_snapshot = False

    def on_mount(self) -> None:
        self.wb.state_signal.subscribe(self, self._state_signalled)
        self._state_signalled(None)

    def _state_signalled(self, _: object) -> None:
        ready = self.wb.gov_state is not None
        if ready or (self.draws_from_snapshot and self.wb.seam_map_data is not None):
            self.state_changed()

    def state_changed(self) -> None:
        """Override: redraw from `self.wb.gov_state` / `self.wb.views`."""
