"""History: the commits that touched a contract, and the diff between any two of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from workbench.tui import bindings
from workbench.tui.messages import DiffLoaded, HistoryLoaded
from workbench.tui.modals.commit import diff_content
from workbench.tui.screens.base import BaseScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

if TYPE_CHECKING:
    from workbench.service.results import CommitInfo


class HistoryScreen(BaseScreen):
    BINDINGS = bindings.HISTORY
    HELP = (
        "Commits that changed this contract, newest first. The diff shows the highlighted "
        "version against the one before it; space marks a base version to compare against."
    )

    def __init__(self, contract_id: str) -> None:
        super().__init__()
        self.contract_id = contract_id
        self.commits: list[CommitInfo] = []
        self.base: str | None = None
        self.shown: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield TopBar(f"history {self.contract_id}")
        with Horizontal(id="history-body"):
            with Vertical(id="history-left"):
                yield VirtualTable(
                    [
                        Column("Commit", 8),
                        Column("Date", 16),
                        Column("Author", 16),
                        Column("Message", 20, flex=True),
                    ],
                    id="history-table",
                )
                yield Static("", id="history-hint", markup=False)
            with VerticalScroll(id="history-diff"):
                yield Static("", id="diff-summary")
                yield Static("", id="diff-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VirtualTable).focus()
        self.wb.load_history(self, self.contract_id)

    @on(HistoryLoaded)
    def show_commits(self, message: HistoryLoaded) -> None:
        self.commits = message.commits
        self._rows()
        table = self.query_one(VirtualTable)
        table.empty_text = "no commits touched this contract"
        if self.commits:
            self._diff_for(self.commits[0].id)
        self._hint()

    def _rows(self) -> None:
        rows = [
            Row(
                c.id,
                (
                    c.short,
                    f"{c.time:%Y-%m-%d %H:%M}",
                    c.author_name,
                    ("◆ " if c.id == self.base else "") + c.summary,
                ),
                "marked" if c.id == self.base else "",
            )
            for c in self.commits
        ]
        self.query_one(VirtualTable).set_rows(rows)

    def _hint(self) -> None:
        base = next((c for c in self.commits if c.id == self.base), None)
        text = (
            f" base {base.short} marked: the diff compares it with the highlighted version"
            if base
            else " space: mark a base version · the diff shows each version against its parent"
        )
        self.query_one("#history-hint", Static).update(text)

    def _diff_for(self, commit_id: str) -> None:
        ids = [c.id for c in self.commits]
        if self.base and self.base != commit_id:
            old, new = sorted([self.base, commit_id], key=lambda c: -ids.index(c))
        else:
            i = ids.index(commit_id)
            # The version that added the contract is compared with its parent (no file).
            old, new = (ids[i + 1] if i + 1 < len(ids) else f"{commit_id}^"), commit_id
        if self.shown == (old, new):
            return
        self.shown = (old, new)
        self.wb.load_diff(self, self.contract_id, old, new)

    @on(VirtualTable.Highlighted, "#history-table")
    def highlighted(self, event: VirtualTable.Highlighted) -> None:
        if event.key and self.commits:
            self._diff_for(event.key)

    @on(DiffLoaded)
    def show_diff(self, message: DiffLoaded) -> None:
        d = message.diff
        summary = d.comparison.lines()

        def short(rev: str) -> str:
            return rev if rev.endswith("^") else rev[:8]

        head = Content.styled(f"{short(d.old_rev)} → {short(d.new_rev)}", "bold")
        lines = [head] + (
            [Content(f"• {line}") for line in summary]
            if summary
            else [Content.styled("no term-level change (editorial)", "$text-muted")]
        )
        self.query_one("#diff-summary", Static).update(Content("\n").join(lines))
        self.query_one("#diff-text", Static).update(diff_content(d.text))

    def action_mark(self) -> None:
        key = self.query_one(VirtualTable).cursor_key
        self.base = None if key == self.base else key
        self._rows()
        self._hint()
        if key:
            self.shown = None
            self._diff_for(key)

    def action_diff(self) -> None:
        key = self.query_one(VirtualTable).cursor_key
        if key:
            self.shown = None
            self._diff_for(key)

    def action_back(self) -> None:
        self.dismiss()
