"""The key bar at the bottom of every screen: the keys that work here, drawn as one widget.

Textual's Footer mounts a widget per key and rebuilds them whenever the screen's bindings
change. Every screen has its own footer, so opening a contract, the editor or the history
mounted and styled a dozen widgets before the screen could be drawn: ~90 ms of the ~200 ms
of a push under Pilot at 1,000 contracts. This one draws the same keys in the same theme
colours as a single line, and only redraws when what it shows changes. A click on a key
presses it; the key under the mouse is highlighted and its description is the tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import events
from textual.content import Content
from textual.widget import Widget


@dataclass(frozen=True)
class FooterKey:
    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    essential: bool = False  # kept when the line is too short for every key


# Kept on a narrow terminal whatever else is left out: how to go back, how to find every
# other key, how to leave.
ESSENTIAL_ACTIONS = frozenset({"back", "cancel", "key_help", "quit", "quit_view"})
# Actions shown as one key: `q` where it quits, else ctrl+q.
SAME_ACTION = {"quit_view": "quit"}


class Footer(Widget):
    DEFAULT_CSS = """
    Footer {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    Footer > .footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    Footer > .footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    Footer > .footer--hover { background: $block-hover-background; }
    Footer > .footer--separator { color: $foreground 20%; }
    """
    COMPONENT_CLASSES = {"footer--key", "footer--description", "footer--hover", "footer--separator"}
    ALLOW_SELECT = False

    def __init__(self) -> None:
        super().__init__()
        self.keys: tuple[FooterKey, ...] = ()
        self.palette: FooterKey | None = None
        self._spans: list[tuple[int, int, FooterKey]] = []
        self._hover: FooterKey | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def _bindings_changed(self, screen: Any) -> None:
        # While the terminal is in the background the focus is gone and so are most keys:
        # keep showing the ones it will have on return (as Textual's Footer does).
        if not self.app.app_focus or screen is not self.screen:
            return
        keys, palette = self._active_keys()
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def _active_keys(self) -> tuple[tuple[FooterKey, ...], FooterKey | None]:
        app = self.app
        shown: dict[str, FooterKey] = {}  # one key per action, the first bound
        palette = None
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            item = FooterKey(
                key,
                app.get_key_display(binding),
                binding.description,
                active.enabled,
                active.tooltip or binding.tooltip or binding.description,
                binding.action in ESSENTIAL_ACTIONS,
            )
            if key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = item
            elif binding.show:
                action = SAME_ACTION.get(binding.action, binding.action)
                if action not in shown or (binding.action in SAME_ACTION and item.enabled):
                    shown.pop(action, None)  # drawn where this key is bound, not before
                    shown[action] = item
        return tuple(shown.values()), palette

    def render(self) -> Content:
        key_style = self.get_visual_style("footer--key")
        text_style = self.get_visual_style("footer--description")
        hover_style = self.get_visual_style("footer--hover")
        width = self.size.width
        right: list[Content] = []
        if self.palette is not None:
            right = [
                Content.styled("▏", self.get_visual_style("footer--separator")),
                self._item(self.palette, key_style, text_style, hover_style, palette=True),
            ]
        room = width - sum(part.cell_length for part in right)
        drawn = [(item, self._item(item, key_style, text_style, hover_style)) for item in self.keys]
        if sum(part.cell_length for _, part in drawn) > room:
            # Too narrow for every key: keep the essential ones, then as many of the others,
            # in order, as fit (all of them are in the key help).
            left = room - sum(part.cell_length for item, part in drawn if item.essential)
            kept, full = [], False
            for item, part in drawn:
                if not item.essential:
                    # Keep the order: no other key after the first that did not fit.
                    full = full or part.cell_length > left
                    if full:
                        continue
                    left -= part.cell_length
                kept.append((item, part))
            drawn = kept
        parts: list[Content] = []
        self._spans = []
        x = 0
        for item, part in drawn:
            if x + part.cell_length > room:
                break
            self._spans.append((x, x + part.cell_length, item))
            parts.append(part)
            x += part.cell_length
        if right:
            parts.append(Content(" " * max(0, room - x)))
            if self.palette is not None:
                self._spans.append((room + 1, width, self.palette))
            parts.extend(right)
        return Content("").join(parts)

    def _item(
        self,
        item: FooterKey,
        key_style: Any,
        text_style: Any,
        hover_style: Any,
        palette: bool = False,
    ) -> Content:
        # As Textual's Footer spaces them: " k desc " at the left, "k desc " docked right.
        key = f"{item.display} " if not palette else item.display
        text = f"{item.description} " if not palette else f" {item.description} "
        part = Content.assemble(
            (key if palette else f" {key}", key_style),
            (text if item.description else "", text_style),
        )
        if not item.enabled:
            part = part.stylize("dim")
        if item == self._hover:
            part = part.stylize(hover_style)
        return part

    def _at(self, x: int) -> FooterKey | None:
        return next((item for start, end, item in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        item = self._at(event.x)
        if item != self._hover:
            self._hover = item
            self.tooltip = item.tooltip if item else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        item = self._at(event.x)
        if item is None:
            return
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
