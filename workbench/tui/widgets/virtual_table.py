"""A table that draws only the rows on screen (Textual's line API), for lists of any size.

The stock DataTable measures every cell on first render (about 1 s per 10k rows); this
widget costs the same at 10 rows or 100,000: it formats the visible lines only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.tui import bindings

ROW_CLASSES = ("departed", "ungoverned", "invalid", "warning", "muted", "marked")


@dataclass
class Column:
    title: str
    width: int
    flex: bool = False


@dataclass
class Row:
    key: str
    cells: tuple[str, ...]
    kind: str = ""  # one of ROW_CLASSES, or ""
    search: str = field(default="", repr=False)


class VirtualTable(ScrollView, can_focus=True):
    """Columns of plain text (never markup), a cursor, a filter; Enter selects."""

    BINDINGS = bindings.LIST
    COMPONENT_CLASSES = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--cursor-blurred",
        *(f"virtual-table--{name}" for name in ROW_CLASSES),
    }
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    """

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Selected(Message):
        def __init__(self, table: VirtualTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(
        self,
        columns: list[Column],
        *,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str = "",
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = columns
        self._rows: list[Row] = []
        self._visible: Sequence[int] = []
        self._filter = ""
        self.cursor = 0
        self.empty_text = "nothing to show"

    # -- data -------------------------------------------------------------------------
    def set_rows(self, rows: list[Row]) -> None:
        key = self.cursor_key
        for row in rows:
            if not row.search:
                row.search = " ".join(row.cells).lower()
        self._rows = rows
        self._apply_filter(keep=key)

    def set_filter(self, text: str) -> None:
        self._filter = text.strip().lower()
        self._apply_filter(keep=self.cursor_key)

    def _apply_filter(self, keep: str | None) -> None:
        tokens = self._filter.split()
        if tokens:
            self._visible = [
                i for i, row in enumerate(self._rows) if all(t in row.search for t in tokens)
            ]
        else:
            self._visible = list(range(len(self._rows)))
        self.cursor = 0
        if keep is not None:
            for pos, index in enumerate(self._visible):
                if self._rows[index].key == keep:
                    self.cursor = pos
                    break
        self.virtual_size = Size(self._total_width(), len(self._visible) + 1)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_key))

    @property
    def row_count(self) -> int:
        return len(self._visible)

    @property
    def total_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_key(self) -> str | None:
        if 0 <= self.cursor < len(self._visible):
            return self._rows[self._visible[self.cursor]].key
        return None

    @property
    def visible_keys(self) -> list[str]:
        return [self._rows[i].key for i in self._visible]

    def move_to_key(self, key: str) -> bool:
        for pos, index in enumerate(self._visible):
            if self._rows[index].key == key:
                self._move(pos)
                return True
        return False

    def update_row(self, key: str, row: Row) -> None:
        for i, existing in enumerate(self._rows):
            if existing.key == key:
                row.search = row.search or " ".join(row.cells).lower()
                self._rows[i] = row
                self.refresh()
                return

    # -- geometry ---------------------------------------------------------------------
    def _widths(self) -> list[int]:
        widths = [c.width for c in self.columns]
        fixed = sum(widths) + len(widths)  # one space between columns, one margin
        for i, col in enumerate(self.columns):
            if col.flex:
                widths[i] = max(col.width, self.size.width - fixed + col.width)
        return widths

    def _total_width(self) -> int:
        return sum(self._widths()) + len(self.columns)

    def on_resize(self) -> None:
        self.virtual_size = Size(self._total_width(), len(self._visible) + 1)
        self._scroll_cursor_into_view()

    # -- rendering --------------------------------------------------------------------
    def _line_text(self, cells: tuple[str, ...]) -> str:
        parts = []
        for width, cell in zip(self._widths(), cells, strict=False):
            text = Text(cell.replace("\n", " "), no_wrap=True, overflow="ellipsis", end="")
            text.truncate(width, overflow="ellipsis", pad=True)
            parts.append(text.plain)
        return " " + " ".join(parts)

    def _line_count(self) -> int:
        """How many body lines there are (a subclass may hold rows elsewhere)."""
        return len(self._visible)

    def _body_line(self, index: int) -> tuple[str, str]:
        """The text of body line `index` and the component class that styles it ("" none)."""
        row = self._rows[self._visible[index]]
        return self._line_text(row.cells), f"virtual-table--{row.kind}" if row.kind else ""

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            text = self._line_text(tuple(c.title for c in self.columns))
            style = base + self.get_component_rich_style("virtual-table--header")
        else:
            index = scroll_y + y - 1
            if index >= self._line_count():
                if index == 0:
                    text = f" {self.empty_text}"
                    style = base + self.get_component_rich_style("virtual-table--muted")
                    return Strip([Segment(text, style)]).adjust_cell_length(width, base)
                return Strip.blank(width, base)
            text, component = self._body_line(index)
            style = base
            if component:
                style += self.get_component_rich_style(component)
            if index == self.cursor:
                name = (
                    "virtual-table--cursor" if self.has_focus else "virtual-table--cursor-blurred"
                )
                style += self.get_component_rich_style(name)
        total = max(width + scroll_x, len(text))
        strip = Strip([Segment(text, style)]).adjust_cell_length(total, style)
        return strip.crop(scroll_x, scroll_x + width)

    # -- navigation -------------------------------------------------------------------
    def _move(self, pos: int) -> None:
        if not self._visible:
            return
        pos = max(0, min(pos, len(self._visible) - 1))
        if pos != self.cursor:
            old = self.cursor
            self.cursor = pos
            self._refresh_row(old)
            self._refresh_row(pos)
            self._scroll_cursor_into_view()
            self.post_message(self.Highlighted(self, self.cursor_key))

    def _refresh_row(self, pos: int) -> None:
        y = pos - int(self.scroll_offset.y) + 1
        if 1 <= y < self.size.height:
            self.refresh_line(y)

    def _scroll_cursor_into_view(self) -> None:
        height = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _page(self) -> int:
        return max(1, self.size.height - 2)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_page_down(self) -> None:
        self._move(self.cursor + self._page())

    def action_page_up(self) -> None:
        self._move(self.cursor - self._page())

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self._visible) - 1)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        pos = int(self.scroll_y) + offset.y - 1
        if pos < len(self._visible):
            self._move(pos)
            if event.chain >= 2:
                self.action_select()

    def on_focus(self) -> None:
        self._refresh_row(self.cursor)

    def on_blur(self) -> None:
        self._refresh_row(self.cursor)


__all__ = ["Column", "Row", "VirtualTable", "ROW_CLASSES", "Style"]
