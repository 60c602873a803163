"""`?`/F1: the keys that work here, searchable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from workbench.tui.modals.base import DialogScreen
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable


class KeyHelpModal(DialogScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="help.close")]
    AUTO_FOCUS = "#help-filter"

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog"):
            yield Label("Keys on this screen (remap by id in keymap.toml)", classes="dialog-title")
            yield Input(placeholder="search keys", id="help-filter")
            table = VirtualTable(
                [Column("Key", 14), Column("Action", 24), Column("Id", 20, flex=True)],
                id="help-table",
            )
            yield table

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        table.set_rows([Row(f"{i}", cells) for i, cells in enumerate(self.rows)])

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one(VirtualTable).set_filter(event.value)

    def action_close(self) -> None:
        self.dismiss(None)
