"""An error dialog with copyable details, instead of a crash."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, TextArea

from workbench.tui.modals.base import SCROLL_BINDINGS, DialogFoot, DialogScreen


class ErrorModal(DialogScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="error.close"),
        Binding("c", "copy", "Copy details", id="error.copy"),
        *SCROLL_BINDINGS,
    ]
    AUTO_FOCUS = "#close"

    def __init__(self, title: str, message: str, details: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error-dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(classes="dialog-scroll"):
                yield Label(self.message, classes="dialog-body", markup=False, id="error-message")
                if self.details:
                    yield TextArea(self.details, read_only=True, id="error-details", soft_wrap=True)
            with DialogFoot(), Horizontal(classes="dialog-buttons"):
                yield Button("Copy details (c)", id="copy")
                yield Button("Close (esc)", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self.action_copy()
        else:
            self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(f"{self.message}\n\n{self.details}".strip())
        self.notify("Copied the error details (also selectable in the box)", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
