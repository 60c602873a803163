"""Forms for closing violations and signing reviews and acknowledgements, and the passphrase.

Every label is plain text (`markup=False` / `Content`): notes, reasons and contract text are
user data. Each form returns a dict (or None when cancelled); the screen then confirms and
runs the service call in a worker.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select

from workbench.tui.modals.base import DialogFoot, DialogScreen


class FormModal(DialogScreen[dict[str, Any] | None]):
    """Title, hint, fields; Enter moves to the next field, and in the last field (or the OK
    button) submits; Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        # Decided as the key arrives (a priority binding), not when the field's Submitted
        # message is handled: text typed right after Enter goes to the next field.
        Binding("enter", "next_field", "Next field", id="form.next-field", priority=True),
    ]
    OK = "OK"

    def __init__(self, title: str, hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(classes="dialog-scroll"):
                if self.hint:
                    yield Label(self.hint, classes="dialog-hint", markup=False)
                yield from self.fields()
            with DialogFoot():
                yield Label("", id="form-error", classes="form-error", markup=False)
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Cancel (esc)", id="cancel")
                    yield Button(self.OK, id="ok", variant="primary")

    def fields(self) -> ComposeResult:
        yield from ()

    def values(self) -> dict[str, Any] | str:
        """The form's result, or an error message to show."""
        return {}

    def submit(self) -> None:
        result = self.values()
        if isinstance(result, str):
            self.query_one("#form-error", Label).update(Content(result))
        else:
            self.dismiss(result)

    @on(Button.Pressed, "#ok")
    def ok_pressed(self) -> None:
        self.submit()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_next_field(self) -> None:
        """Enter in a field moves to the next one; only the last field submits, so a form
        is never sent before the user has been through it. Elsewhere (a button, a list)
        Enter does what it does there."""
        focused = self.focused
        if not isinstance(focused, Input):
            raise SkipAction()
        inputs = [i for i in self.query(Input) if i.display and not i.disabled]
        if inputs and focused is not inputs[-1]:
            self.focus_next()
            return
        # After the field has taken the keys typed before this Enter (they wait in its own
        # queue, behind which this runs).
        focused.call_later(self.submit)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ResolveModal(FormModal):
    AUTO_FOCUS = "#note"
    OK = "Resolve"

    def fields(self) -> ComposeResult:
        yield Label("What was done (recorded with the closure):", markup=False)
        yield Input(placeholder="e.g. sidecar re-indexed; lag back under 2h", id="note")

    def values(self) -> dict[str, Any] | str:
        note = self.query_one("#note", Input).value.strip()
        return {"note": note} if note else "A resolution needs a note saying what was done."


class ExemptModal(FormModal):
    AUTO_FOCUS = "#reason"
    OK = "Exempt"

    def fields(self) -> ComposeResult:
        yield Label("Why the violation is accepted for now:", markup=False)
        yield Input(placeholder="reason", id="reason")
        yield Label("Until (YYYY-MM-DD, in the future; exemptions are time-boxed):", markup=False)
        yield Input(placeholder="2026-12-31", id="expires")

    def values(self) -> dict[str, Any] | str:
        from datetime import date

        reason = self.query_one("#reason", Input).value.strip()
        raw = self.query_one("#expires", Input).value.strip()
        if not reason:
            return "An exemption needs a reason."
        try:
            expires = date.fromisoformat(raw)
        except ValueError:
            return f"Expiry {raw!r} is not a date (YYYY-MM-DD)."
        return {"reason": reason, "expires": expires}


class ReviewModal(FormModal):
    AUTO_FOCUS = "#notes"
    OK = "Sign review"

    def __init__(self, title: str, hint: str = "", *, contacts: bool = False) -> None:
        super().__init__(title, hint)
        self.contacts = contacts

    def fields(self) -> ComposeResult:
        yield Checkbox(
            "The named escalation contacts are still the right people",
            self.contacts,
            id="contacts",
        )
        yield Select(
            [
                (Content("no change needed"), "no-change"),
                (Content("changes needed"), "changes-needed"),
            ],
            value="no-change",
            allow_blank=False,
            id="outcome",
        )
        yield Input(placeholder="notes (optional)", id="notes")

    def values(self) -> dict[str, Any] | str:
        return {
            "contacts_confirmed": self.query_one("#contacts", Checkbox).value,
            "outcome": self.query_one("#outcome", Select).value,
            "notes": self.query_one("#notes", Input).value.strip(),
        }


class AckModal(FormModal):
    AUTO_FOCUS = "#note"
    OK = "Sign acknowledgement"

    def __init__(self, title: str, hint: str = "", *, coverage: bool = False) -> None:
        super().__init__(title, hint)
        self.coverage = coverage

    def fields(self) -> ComposeResult:
        if self.coverage:
            yield Checkbox(
                "Automated test coverage reflects this change (engineering lead)",
                False,
                id="coverage",
            )
        yield Input(placeholder="note (optional)", id="note")

    def values(self) -> dict[str, Any] | str:
        coverage = self.coverage and self.query_one("#coverage", Checkbox).value
        if self.coverage and not coverage:
            return "This change needs your confirmation that test coverage reflects it."
        return {"coverage": bool(coverage), "note": self.query_one("#note", Input).value.strip()}


class PassphraseModal(FormModal):
    AUTO_FOCUS = "#passphrase"
    OK = "Unlock"

    def fields(self) -> ComposeResult:
        yield Input(placeholder="passphrase", password=True, id="passphrase")

    def values(self) -> dict[str, Any] | str:
        return {"passphrase": self.query_one("#passphrase", Input).value}
