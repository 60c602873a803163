"""Shared screen plumbing: the app's state signal and typed access to the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.message import Message
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

    def post_message(self, message: Message) -> bool:
        # On a mode switch Textual re-applies the whole stylesheet to the screen it resumes
        # (~15 ms per switch; ~50 ms on a first visit, whose widgets were styled a moment
        # before, as they mounted). It skips that pass itself when popping a screen that
        # was opaque, and a mode screen is opaque. A stylesheet that changed meanwhile (a new
        # theme) is still re-applied: `switch_mode` compares the CSS generations first.
        if isinstance(message, events.ScreenResume) and getattr(self.app, "_switching", False):
            message = events.ScreenResume(refresh_styles=False)
        return super().post_message(message)

    def on_mount(self) -> None:
        self.wb.state_signal.subscribe(self, self._state_signalled)
        self._state_signalled(None)

    def _state_signalled(self, _: object) -> None:
        ready = self.wb.gov_state is not None
        if ready or (self.draws_from_snapshot and self.wb.seam_map_data is not None):
            self.state_changed()

    def state_changed(self) -> None:
        """Override: redraw from `self.wb.gov_state` / `self.wb.views`."""
