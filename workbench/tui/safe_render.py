"""Repo text in the terminal app: drawn as text, never as markup or terminal controls.

Two rules, each held in one place:

* **No markup from repo text.** Every widget that shows repo, bundle or evidence text is
  given `markup=False` or a `Content` object (never a markup string), so ``[@click=…]`` or
  ``[link=…]`` in a title is shown as typed. tests/security/test_tui_output.py walks every
  screen over a hostile repo and records every string Textual or Rich parses as markup.
* **No terminal controls.** Textual and Rich remove only BEL, BS, VT, FF and CR from the
  text they draw; ESC, C1, DEL, bidi overrides and invisible characters would reach the
  terminal. `install()` extends the translation table both libraries apply to every text
  they build (`Content`, `Text`) with `safe_text.tui_table()`: a same-length, visible
  replacement (control pictures such as ␛, or U+FFFD), so style spans stay aligned. Widgets
  that draw cells themselves (the seam map) use `cell_char`.

Textual and Rich are pinned exactly (pyproject.toml); the test above fails if an upgrade
moves the table.
"""

from __future__ import annotations

from typing import cast

from workbench.model import safe_text

_LAYOUT = safe_text.tui_table()
_CELL = str.maketrans(safe_text.tui_table(keep=""))


def install() -> None:
    """Extend Textual's and Rich's control-code tables (idempotent)."""
    import rich.control
    import textual.content

    for table in (textual.content._CONTROL_STRIP_TRANSLATE, rich.control._CONTROL_STRIP_TRANSLATE):
        for code, replacement in _LAYOUT.items():
            cast("dict[int, str | None]", table).setdefault(code, replacement)


def cell_char(text: str) -> str:
    """Text for cells drawn one by one: every unsafe character, newline and tab included,
    replaced by one visible character."""
    return text.translate(_CELL)
