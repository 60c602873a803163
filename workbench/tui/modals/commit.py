"""Review the change as a diff, then give the commit message."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from workbench.tui.modals.base import SCROLL_BINDINGS, DialogFoot, DialogScreen


def diff_content(text: str) -> Content:
    """A unified diff coloured by line (theme variables; the text is never markup)."""
    parts: list[Content] = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "$text-success"
        elif line.startswith("-"):
            style = "$text-error"
        elif line.startswith("@@"):
            style = "$text-accent"
        else:
            style = ""
        parts.append(Content.styled(line, style) if style else Content(line))
    return Content("\n").join(parts) if parts else Content("no textual changes")


class CommitModal(DialogScreen[str | None]):
    """Shows the term summary and the diff (scrolling: PageUp/PageDown from the message
    field), with the message and the buttons always in view below them; Enter commits
    with the message, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="commit.cancel"), *SCROLL_BINDINGS]
    AUTO_FOCUS = "#commit-message"

    def __init__(self, title: str, diff_text: str, summary: list[str], message: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.diff_text = diff_text
        self.summary = summary
        self.default_message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog commit-dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="commit-diff", classes="dialog-scroll"):
                summary = self.summary or ["no term-level change (editorial)"]
                yield Static(
                    Content("\n".join(f"• {line}" for line in summary)), id="commit-summary"
                )
                yield Static(diff_content(self.diff_text), id="commit-diff-text")
            with DialogFoot():
                yield Label(
                    "Commit message (Enter commits; PageUp/PageDown scroll the diff):",
                    classes="dialog-hint",
                )
                yield Input(
                    self.default_message,
                    placeholder="Commit message: what changed and why",
                    id="commit-message",
                )
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Commit (enter)", id="commit", variant="primary")
                    yield Button("Cancel (esc)", id="cancel")

    def _submit(self) -> None:
        field = self.query_one("#commit-message", Input)
        if not self.fully_visible(field):
            # Never commit a message the user cannot see (a terminal too small even for
            # the dialog's foot): show it, and let them press Enter again.
            field.scroll_visible(animate=False)
            self.notify("Check the commit message, then press Enter again", severity="warning")
            return
        message = field.value.strip()
        if not message:
            self.notify("A commit message is required", severity="warning")
            return
        self.dismiss(message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "commit":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
