"""Confirmation before anything destructive: y/n keys, Cancel focused, never Enter-to-confirm."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label

from workbench.tui import bindings
from workbench.tui.modals.base import DialogFoot, DialogScreen


class ConfirmModal(DialogScreen[bool]):
    BINDINGS = bindings.CONFIRM
    AUTO_FOCUS = "#no"

    def __init__(self, title: str, message: str, yes: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(classes="dialog-scroll"):
                yield Label(self.message, classes="dialog-body", markup=False)
            with DialogFoot(), Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="error")
                yield Button("Cancel (n)", id="no", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
