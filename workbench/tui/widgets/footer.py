"""Textual's Footer, recomposed only when the keys it shows change.

The stock Footer rebuilds all its key widgets whenever the screen's bindings are refreshed
(every screen switch and most focus changes): at ~15 keys that is tens of milliseconds of
style work per keystroke. The keys on a given screen rarely change, so this one compares
what it would show with what it shows and skips the rebuild when they are the same.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    _shown: Any = None

    def _keys_shown(self) -> tuple[Any, ...]:
        app = self.app
        keys = tuple(
            (
                binding.key,
                app.get_key_display(binding),
                binding.description,
                binding.action,
                enabled,
                tooltip,
                binding.tooltip,
                id(binding.group) if binding.group is not None else None,
            )
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show or binding.key == app.COMMAND_PALETTE_BINDING
        )
        return (keys, self.compact, self.show_command_palette, self.combine_groups)

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        shown = self._keys_shown() if self._bindings_ready else None
        if shown is not None and shown == self._shown:
            return
        self._shown = shown
        await super().recompose()

    def bindings_changed(self, screen: Any) -> None:
        # Textual recomposes after the next refresh, so on a screen's first visit its keys
        # appeared a whole frame (~0.1 s) after the screen itself; recompose before it.
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_next(self.recompose)
