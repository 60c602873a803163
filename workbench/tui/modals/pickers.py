"""Pickers: a person from the registry (current people only), a person field of a contract."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from workbench.tui.modals.base import DialogScreen


@dataclass
class Choice:
    key: str
    label: Content
    search: str


class PickerModal(DialogScreen[str | None]):
    """A filterable list; Enter picks the highlighted entry, Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "down", "Down", show=False, id="picker.down"),
        Binding("up", "up", "Up", show=False, id="picker.up"),
    ]
    AUTO_FOCUS = "#picker-filter"

    def __init__(self, title: str, choices: list[Choice], hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker-dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.hint:
                yield Label(self.hint, classes="dialog-hint", markup=False)
            yield Input(placeholder="type to filter", id="picker-filter")
            yield OptionList(*self._options(""), id="picker-options")

    def _options(self, text: str) -> list[Option]:
        tokens = text.lower().split()
        return [
            Option(c.label, id=c.key) for c in self.choices if all(t in c.search for t in tokens)
        ]

    def on_input_changed(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._pick()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def _pick(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
