"""A draft exists: restore it (default) or discard it (destructive: asks again)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label

from workbench.tui.modals.base import DialogFoot, DialogScreen


class DraftModal(DialogScreen[str]):
    BINDINGS = [
        Binding("r,escape", "restore", "Restore", id="draft.restore"),
        Binding("d", "discard", "Discard", id="draft.discard"),
    ]
    AUTO_FOCUS = "#restore"

    def __init__(self, contract_id: str) -> None:
        super().__init__()
        self.contract_id = contract_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Unsaved draft", classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):
                yield Label(
                    f"You have an unsaved draft of {self.contract_id} from an earlier session.",
                    classes="dialog-body",
                    markup=False,
                )
            with DialogFoot(), Horizontal(classes="dialog-buttons"):
                yield Button("Restore draft (r)", id="restore", variant="primary")
                yield Button("Discard draft (d)", id="discard", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "discard":
            self.action_discard()
        else:
            self.dismiss("restore")

    def action_restore(self) -> None:
        self.dismiss("restore")

    def action_discard(self) -> None:
        from workbench.tui.modals.confirm import ConfirmModal

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.dismiss("discard")

        self.app.push_screen(
            ConfirmModal(
                "Discard the draft?",
                f"Your unsaved edit of {self.contract_id} will be deleted. This cannot be undone.",
                yes="Discard",
            ),
            confirmed,
        )
