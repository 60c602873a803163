"""A VirtualTable over a query result it never holds whole: rows arrive in pages on demand.

The screen that owns the query answers `PageWanted` by fetching that page in a worker
(`Sandbox.fetch_page`) and handing it back with `add_page`. Only the visible lines are
drawn, and only the pages around them are ever fetched, so 100,000 rows cost what 200 do.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from textual.geometry import Size
from textual.message import Message

from workbench.tui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from workbench.tui.widgets.virtual_table import Row

PAGE = 200
MAX_WIDTH = 32


def cell_text(value: Any) -> str:
    """A plain-text cell (never markup)."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def columns_for(names: list[str], sample: list[tuple[Any, ...]]) -> list[Column]:
    """Column widths from the names and the first page (capped; the last one flexes)."""
    out = []
    for i, name in enumerate(names):
        width = max([len(name), *(len(cell_text(r[i])) for r in sample[:PAGE])], default=4)
        out.append(Column(name, max(4, min(MAX_WIDTH, width))))
    if out:
        out[-1].flex = True
    return out


class PagedTable(VirtualTable):
    """`total` rows, fetched a page at a time; the cursor key is the row number."""

    class PageWanted(Message):
        def __init__(self, table: PagedTable, request: int, offset: int, limit: int) -> None:
            super().__init__()
            self.table = table
            self.request = request
            self.offset = offset
            self.limit = limit

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:  # noqa: A002
        super().__init__([Column("", 10, flex=True)], id=id, classes=classes)
        self.total = 0
        self.request = 0
        self._pages: dict[int, list[tuple[str, ...]]] = {}
        self._asked: set[int] = set()

    # -- data -------------------------------------------------------------------------
    def reset(
        self, request: int, names: list[str], first: list[tuple[Any, ...]], total: int
    ) -> None:
        """A new result: its columns, its first page and how many rows it has."""
        self.request = request
        self.columns = columns_for(names, first)
        self.total = total
        self._pages = {0: [tuple(cell_text(v) for v in row) for row in first]}
        self._asked = {0}
        self._rows = []
        self._visible = range(total)  # not a list: a result may have millions of rows
        self.cursor = 0
        self.virtual_size = Size(self._total_width(), total + 1)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_key))

    def clear(self, empty_text: str = "nothing to show") -> None:
        self.empty_text = empty_text
        self.request += 1
        self.total = 0
        self._pages, self._asked = {}, set()
        self._visible = range(0)
        self.cursor = 0
        self.virtual_size = Size(self._total_width(), 1)
        self.refresh()

    def add_page(self, request: int, offset: int, rows: list[tuple[Any, ...]]) -> None:
        if request != self.request:
            return  # an answer to an older query
        self._pages[offset // PAGE] = [tuple(cell_text(v) for v in row) for row in rows]
        self.refresh()

    @property
    def loaded_pages(self) -> int:
        return len(self._pages)

    def set_filter(self, text: str) -> None:  # a query result is filtered in SQL
        return

    def set_rows(self, rows: list[Row]) -> None:
        raise TypeError("PagedTable rows come from reset()/add_page()")

    @property
    def total_count(self) -> int:
        return self.total

    @property
    def cursor_key(self) -> str | None:
        return str(self.cursor) if 0 <= self.cursor < self.total else None

    def row_cells(self, index: int) -> tuple[str, ...] | None:
        page = index // PAGE
        rows = self._pages.get(page)
        if rows is None:
            if page not in self._asked:
                self._asked.add(page)
                self.post_message(self.PageWanted(self, self.request, page * PAGE, PAGE))
            return None
        i = index - page * PAGE
        return rows[i] if i < len(rows) else None

    # -- rendering (VirtualTable.render_line draws the header, cursor and scrolling) -------
    def _line_count(self) -> int:
        return self.total

    def _body_line(self, index: int) -> tuple[str, str]:
        cells = self.row_cells(index)
        if cells is None:  # its page is on the way
            return " …", "virtual-table--muted"
        return self._line_text(cells), ""
