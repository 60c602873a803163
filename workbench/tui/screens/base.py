"""Shared screen plumbing: the app's state signal and typed access to the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import events
from textual.message import Message
from textual.screen import Screen

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


class BaseScreen(Screen[None]):
    """A screen that redraws itself whenever the app loads a new governance state."""

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)  # every screen runs in the WorkbenchApp

    # A screen that can draw from the stored seam map alone, before the state is loaded.
    draws_from_snapshot = False

    _resumed = False

    def post_message(self, message: Message) -> bool:
        # Each time a screen is shown Textual re-applies the whole stylesheet to it (~15 ms;
        # ~50 ms on a first visit). A screen shown for the first time was styled a moment
        # before, as its widgets mounted; one a mode switch brings back is opaque, and
        # Textual skips the pass itself when popping an opaque screen. A stylesheet that
        # changed meanwhile (a new theme) is still re-applied: `switch_mode` compares the
        # CSS generations first. Resumes after a dialog closes keep the pass. (Textual's app
        # focus pseudo-classes, :focus/:blur on the app, only re-style the screen on show;
        # this app's CSS uses neither.)
        if isinstance(message, events.ScreenResume) and message.refresh_styles:
            first, self._resumed = not self._resumed, True
            if first or getattr(self.app, "_switching", False):
                message = events.ScreenResume(refresh_styles=False)
        return super().post_message(message)

    def on_mount(self) -> None:
        self.wb.state_signal.subscribe(self, self._state_signalled)
        self._state_signalled(None)

    def on_unmount(self) -> None:
        # A closed screen leaves the signal now: Textual drops it only at the next publish
        # (a state load), and until then the signal's callback kept the whole screen, its
        # widgets and what they drew, alive (tests/tui/test_collections.py).
        self.wb.state_signal.unsubscribe(self)
        self.wb.people_signal.unsubscribe(self)

    def _state_signalled(self, _: object) -> None:
        ready = self.wb.gov_state is not None
        if ready or (self.draws_from_snapshot and self.wb.seam_map_data is not None):
            self.state_changed()

    def state_changed(self) -> None:
        """Override: redraw from `self.wb.gov_state` / `self.wb.views`."""
