"""The evidence console: read-only SQL over every registered snapshot, paged and cancellable.

The sandbox (`wb.evidence.console()`) exposes one view per intact snapshot (plus the
kind's name for the latest one); anything but a single SELECT is refused before it runs,
and the refusal is shown. Queries run in a worker; Esc cancels a running query. Results go
through a PagedTable: only the visible page is fetched (`fetch_page`), so 100,000 rows
page as fast as 100.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Static

from workbench.tui import bindings
from workbench.tui.messages import ConsoleOpened, PageFetched, QueryStopped, RowsFetched
from workbench.tui.screens.service_screen import QueryRunner
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.paged_table import PagedTable
from workbench.tui.widgets.topbar import TopBar


class EvidenceConsoleScreen(QueryRunner):
    BINDINGS = bindings.EVIDENCE
    DEFAULT_CSS = """
    EvidenceConsoleScreen #console-body { height: 1fr; }
    EvidenceConsoleScreen #console-main { width: 4fr; }
    EvidenceConsoleScreen #console-status { height: auto; padding: 0 1; }
    EvidenceConsoleScreen #console-views {
        width: 1fr; min-width: 24; border-left: solid $border-blurred; padding: 0 1;
    }
    EvidenceConsoleScreen .pane-title { text-style: bold; color: $text-primary; }
    """
    HELP = (
        "Read-only SQL over the registered evidence snapshots. Enter runs the query in the "
        "background; Esc cancels it (or goes back when nothing runs)."
    )

    def __init__(self, contract: str | None = None, sql: str = "") -> None:
        super().__init__()
        self.contract = contract
        self.initial_sql = sql
        self.console: Any = None
        self.sql = ""
        self.running = False
        self.last_outcome = ""

    def compose(self) -> ComposeResult:
        yield TopBar("evidence console" + (f" {self.contract}" if self.contract else ""))
        with Horizontal(id="console-body"):
            with Vertical(id="console-main"):
                yield Input(
                    self.initial_sql,
                    placeholder="SELECT … FROM freshness_lags  (Enter runs, Esc cancels)",
                    id="console-sql",
                )
                yield Static("opening the snapshots…", id="console-status", markup=False)
                yield PagedTable(id="console-results")
            with VerticalScroll(id="console-views"):
                yield Label("Views", classes="pane-title")
                yield Static("", id="console-view-list", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#console-sql", Input).focus()
        self.open_console()

    def on_unmount(self) -> None:
        if self.console is not None:
            self.console.close()
            self.console = None

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="console",
        description="open the evidence console",
    )
    def open_console(self) -> None:
        self.post_result(ConsoleOpened(self.evidence().console(self.contract)))

    @on(ConsoleOpened)
    def console_opened(self, message: ConsoleOpened) -> None:
        if not self.is_attached:
            message.console.close()
            return
        self.console = message.console
        lines = []
        for v in message.console.views:
            alias = f" → {v.alias_of}" if v.alias_of else ""
            lines.append(f"{v.name}{alias}\n  {v.snapshot.kind} · {v.snapshot.id}")
        for snap, reason in message.console.refused:
            lines.append(f"✗ {snap.id}: {reason}")
        self.query_one("#console-view-list", Static).update("\n".join(lines) or "no snapshots")
        self._status(
            f"{len(message.console.views)} view(s) ready"
            + (
                f" · {len(message.console.refused)} snapshot(s) not exposed"
                if message.console.refused
                else ""
            ),
            "$text-muted",
        )
        if self.initial_sql:
            self.action_run()

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#console-status", Static).update(Content.styled(text, style))

    # -- running ------------------------------------------------------------------------
    @on(Input.Submitted, "#console-sql")
    def submitted(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        sql = self.query_one("#console-sql", Input).value.strip()
        if not sql:
            return
        if self.console is None:
            self.notify("The snapshots are still opening", severity="warning")
            return
        if self.running:
            self.console.sandbox.cancel()
        self.request += 1
        self.sql = sql
        self.running = True
        self.last_outcome = "running"
        self._status("running… (Esc cancels)", "$text-accent")
        self.run_query(self.console.sandbox, sql, self.request)

    def action_cancel(self) -> None:
        if self.running and self.console is not None:
            self.console.sandbox.cancel()
            self._status("cancelling…", "$text-warning")
        else:
            self.dismiss()

    @on(RowsFetched)
    def rows_fetched(self, message: RowsFetched) -> None:
        if message.request != self.request:
            return
        self.running = False
        self.last_outcome = "ok"
        table = self.query_one("#console-results", PagedTable)
        table.reset(message.request, message.columns, message.rows, message.total)
        self._status(
            f"{message.total:,} row(s) · {len(message.columns)} column(s) · "
            f"first page in {message.elapsed * 1000:.0f} ms",
            "$text-success",
        )
        table.focus()

    @on(QueryStopped)
    def query_stopped(self, message: QueryStopped) -> None:
        if message.request != self.request:
            return
        self.running = False
        self.last_outcome = message.outcome
        words = {"refused": "Refused", "cancelled": "Cancelled", "timeout": "Timed out"}
        label = words.get(message.outcome, "Failed")
        reason = "" if message.outcome == "cancelled" else f": {message.reason}"
        style = "$text-warning" if message.outcome == "cancelled" else "bold $text-error"
        self._status(f"{label}{reason}", style)
        self.query_one("#console-results", PagedTable).clear(label.lower())

    @on(PagedTable.PageWanted, "#console-results")
    def page_wanted(self, event: PagedTable.PageWanted) -> None:
        if self.console is not None:
            self.fetch_page(
                self.console.sandbox, self.sql, event.request, event.offset, event.limit
            )

    @on(PageFetched)
    def page_fetched(self, message: PageFetched) -> None:
        self.query_one("#console-results", PagedTable).add_page(
            message.request, message.offset, message.rows
        )

    def action_edit_sql(self) -> None:
        self.query_one("#console-sql", Input).focus()
