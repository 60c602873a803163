"""What every dialog shares: its buttons stay on screen, whatever the terminal's size.

A dialog is laid out as a title, a body that scrolls (`.dialog-scroll`) and a foot
(`DialogFoot`: the fields that must stay in view, such as a commit message or a
passphrase, then the buttons). The body gives way first: at 80×24 a long diff scrolls
inside the dialog while the message and the buttons stay where the user sees them. CSS
alone cannot say "the body gets what the title and the foot leave" without also making a
three-line dialog as tall as the screen (a `1fr` row), so the body's maximum height is
set from the dialog's measured parts after each layout change (`fit_body`). On a short terminal the dialog's fields and buttons drop their borders (Textual's
compact style), so an 80×24 dialog still shows a few lines of its body.

`PageUp`/`PageDown` scroll the body from any field, so a user typing a commit message can
read the whole diff without leaving the field.
"""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget

ResultT = TypeVar("ResultT")

# Below this many rows the dialogs' fields and buttons are drawn without borders.
COMPACT_BELOW = 32
COMPACT_WIDGETS = "Input, Button, Checkbox, Select"

SCROLL_BINDINGS = [
    Binding("pageup", "scroll_body(-1)", "Scroll up", show=False, id="dialog.page-up"),
    Binding("pagedown", "scroll_body(1)", "Scroll down", show=False, id="dialog.page-down"),
]


class DialogFoot(Vertical):
    """The fields that must be seen and the buttons, below the scrolling body."""

    DEFAULT_CSS = "DialogFoot { height: auto; }"

    def on_resize(self, event: events.Resize) -> None:
        # A field shown or hidden (a passphrase) changes what the body may take.
        screen = self.screen
        if isinstance(screen, DialogScreen):
            screen.refit()


class DialogScreen(ModalScreen[ResultT]):
    """A modal whose foot (fields that must be seen, buttons) is always on screen."""

    # Moving between fields is decided as the key arrives: what is typed right after Tab
    # goes to the next field, however fast (Textual's own Tab acts a message later).
    BINDINGS = [
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]
    compact = False

    # Textual calls these handlers of every class in the MRO: subclasses define their own
    # `on_mount` without calling this one.
    def on_mount(self) -> None:
        self._fit(self.app.size.height)
        self.refit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)
        self.refit()

    def refit(self) -> None:
        self.call_after_refresh(self.fit_body)

    def fit_body(self) -> None:
        """Limit each dialog's scrolling body to the rows its title and foot leave."""
        height = self.size.height
        limit = height if self.compact else int(height * 0.9)  # the CSS max-height
        for dialog in self.query(".dialog"):
            bodies = [c for c in dialog.children if c.has_class("dialog-scroll") and c.display]
            if not bodies:
                continue
            body = bodies[0]
            others = sum(
                child.outer_size.height + child.styles.margin.top + child.styles.margin.bottom
                for child in dialog.children
                if child is not body and child.display
            )
            room = limit - dialog.styles.gutter.height - others
            room -= body.styles.margin.top + body.styles.margin.bottom
            body.styles.max_height = max(1, room)

    def _fit(self, height: int) -> None:
        compact = height < COMPACT_BELOW
        if compact == self.compact and self.has_class("-fitted"):
            return
        self.compact = compact
        self.add_class("-fitted")
        self.set_class(compact, "-compact")
        from textual.widgets import Button, Checkbox, Input, Select

        for widget in self.query(COMPACT_WIDGETS):
            if isinstance(widget, (Input, Button, Checkbox, Select)):  # what the query names
                widget.compact = compact

    def action_scroll_body(self, direction: int) -> None:
        for body in self.query(".dialog-scroll").results(VerticalScroll):
            if body.display:
                body.scroll_page_down() if direction > 0 else body.scroll_page_up()
                return

    def fully_visible(self, widget: Widget) -> bool:
        """Whether all of `widget` is drawn on screen right now (not clipped, not scrolled
        away): what an Enter that commits something checks first."""
        from textual.errors import NoWidget

        if not widget.display or not widget.region.area:
            return False
        try:
            geometry = self.find_widget(widget)
        except NoWidget:
            return False
        visible = geometry.visible_region.intersection(self.region)
        return visible == geometry.region
