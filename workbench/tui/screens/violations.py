"""Violations: every term's history over time, and each violation's evidence and who was paged.

Left: the violation episodes (open first) and every term of every seam with its status
timeline and a trend of the observed value. Right: the highlighted one in detail: observed
vs limit, the reason, the term owner and the escalation path that was paged, the closure,
a sparkline and the per-run timeline, the SQL (plain text) and the evidence rows behind it,
paged through the sandbox. `c` resolves (with a note), `x` exempts (reason, approver,
expiry); both ask for confirmation first.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Sparkline, Static

from workbench.tui import bindings
from workbench.tui.messages import (
    FindingLoaded,
    PageFetched,
    QueryStopped,
    RowsFetched,
    ViolationClosed,
    ViolationsLoaded,
)
from workbench.tui.screens.service_screen import QueryRunner
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.paged_table import PagedTable
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

GLYPH = {"pass": "✓", "warn": "!", "fail": "✗", "no-data": "∅", "error": "E"}
STATUS_STYLE = {
    "pass": "$text-success",
    "warn": "$text-warning",
    "fail": "bold $text-error",
    "no-data": "$text-warning",
    "error": "bold $text-error",
}
STATE_ORDER = {"open": 0, "recovered": 1, "exempt": 2, "resolved": 3}
BARS = "▁▂▃▄▅▆▇█"


def timeline(points: list[Any]) -> str:
    return "".join(GLYPH.get(p.status, "?") for p in points)


def trend(points: list[Any]) -> str:
    """A text sparkline of the observed values (for the table; the detail has a widget)."""
    values = [p.observed for p in points if p.observed is not None]
    if not values:
        return "—"
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(BARS[int((v - lo) / span * (len(BARS) - 1))] for v in values)


def who(person: dict[str, Any] | None) -> str:
    if not person:
        return "—"
    name = person.get("name") or "unknown person"
    left = " (LEFT)" if person.get("departed") else ""
    return f"{name} ({person.get('id')}){left}"


def finding_detail(finding: dict[str, Any] | None, violation: Any | None) -> Content:
    if finding is None:
        return Content.styled("Select a violation or a term.", "$text-muted")
    status = finding.get("status", "?")
    lines = [
        Content.assemble(
            (f"{GLYPH.get(status, '?')} {status}", STATUS_STYLE.get(status, "")),
            "  ",
            (f"{finding['contract']} / {finding['term']}", "bold"),
        ),
        Content(str(finding.get("title") or "")),
        Content.assemble(("observed ", "$text-muted"), str(finding.get("observed_text") or "—")),
        Content.assemble(("limit    ", "$text-muted"), str(finding.get("limit") or "—")),
    ]
    if finding.get("reason"):
        lines.append(Content.assemble(("reason   ", "$text-muted"), str(finding["reason"])))
    lines.append(Content.assemble(("owner    ", "$text-muted"), who(finding.get("owner"))))
    paged = (violation.paged if violation is not None else None) or finding.get("paged")
    if paged:
        lines.append(Content.styled("Paged", "bold $text-primary"))
        lines.append(Content(f"  primary  {who(paged.get('primary'))}"))
        lines.append(Content(f"  backup   {who(paged.get('backup'))}"))
        lines.append(
            Content(f"  channel  {paged.get('channel')}  ·  ack within {paged.get('ack_sla')}")
        )
    if violation is not None:
        lines.append(
            Content.assemble(
                ("violation ", "$text-muted"),
                (f"{violation.id} {violation.state}", "bold"),
                f"  opened {violation.opened_at:%Y-%m-%d %H:%M} · {len(violation.points)} run(s)",
            )
        )
        c = violation.closure
        if c is not None:
            extra = (
                f"note: {c.note}"
                if c.action == "resolved"
                else f"approved by {c.approver} until {c.expires}: {c.reason}"
            )
            lines.append(
                Content(f"  {c.action} by {c.closed_by} on {c.closed_at:%Y-%m-%d %H:%M} · {extra}")
            )
        if violation.exemption:
            ex = violation.exemption
            expired = " (EXPIRED)" if violation.exemption_expired else ""
            lines.append(
                Content(
                    f"  exemption{expired}: {ex.get('reason')} · {ex.get('approver')} until {ex.get('expires')}"
                )
            )
    details = finding.get("details") or []
    if details:
        lines.append(Content.styled("Details", "bold $text-primary"))
        for row in details[:8]:
            text = (
                ", ".join(f"{k}={v}" for k, v in row.items()) if isinstance(row, dict) else str(row)
            )
            lines.append(Content(f"  {text}"))
        if len(details) > 8:
            lines.append(Content.styled(f"  … {len(details) - 8} more", "$text-muted"))
    return Content("\n").join(lines)


def points_content(points: list[Any]) -> Content:
    parts = []
    for p in points:
        observed = "—" if p.observed is None else f"{p.observed:.6g}"
        parts.append(
            Content.assemble(
                f"{p.time:%m-%d %H:%M} ",
                (f"{GLYPH.get(p.status, '?')} {p.status:<7}", STATUS_STYLE.get(p.status, "")),
                f" {observed}",
            )
        )
    return Content("\n").join(parts) if parts else Content("no runs")


class ViolationsScreen(QueryRunner):
    BINDINGS = bindings.VIOLATIONS
    DEFAULT_CSS = """
    ViolationsScreen #violations-body { height: 1fr; }
    ViolationsScreen #violations-left { width: 3fr; }
    ViolationsScreen #violations-table { height: 1fr; }
    ViolationsScreen #terms-table { height: 1fr; }
    ViolationsScreen #violation-pane {
        width: 2fr; border-left: solid $border-blurred; padding: 0 1;
    }
    ViolationsScreen #violation-sparkline { height: 2; margin: 1 0 0 0; }
    ViolationsScreen #violation-sql { color: $text-accent; }
    ViolationsScreen #evidence-rows { height: 12; }
    ViolationsScreen .pane-title { text-style: bold; color: $text-primary; margin-top: 1; }
    ViolationsScreen #violations-summary { height: 1; color: $text-muted; }
    """
    HELP = (
        "Violations and every term's history. c resolves the highlighted violation (note), "
        "x exempts it (reason, approver, expiry); both confirm first. n shows the next evidence "
        "view, o toggles open-only."
    )

    def __init__(self, contract: str | None = None) -> None:
        super().__init__()
        self.contract = contract
        self.violations: list[Any] = []
        self.series: dict[tuple[str, str], list[Any]] = {}
        self.open_only = False
        self.selected: tuple[str, str] | None = None
        self.selected_violation: Any | None = None
        self.finding: dict[str, Any] | None = None
        self.sandbox: Any = None
        self.views: list[str] = []
        self.view_index = 0
        self.rows_sql = ""

    def compose(self) -> ComposeResult:
        yield TopBar("violations" + (f" {self.contract}" if self.contract else ""))
        with Horizontal(id="violations-body"):
            with Vertical(id="violations-left"):
                yield Static("loading…", id="violations-summary", markup=False)
                yield VirtualTable(
                    [
                        Column("State", 9),
                        Column("Status", 9),
                        Column("Contract", 30),
                        Column("Term", 20),
                        Column("Opened", 11),
                        Column("Paged", 14, flex=True),
                    ],
                    id="violations-table",
                )
                yield Label("Every term over time (runs oldest → newest)", classes="pane-title")
                yield VirtualTable(
                    [
                        Column("Contract", 30),
                        Column("Term", 22),
                        Column("Runs", 8),
                        Column("Trend", 8),
                        Column("Latest", 10, flex=True),
                    ],
                    id="terms-table",
                )
            with VerticalScroll(id="violation-pane"):
                yield Static("", id="violation-detail")
                yield Sparkline([], id="violation-sparkline")
                yield Static("", id="violation-timeline")
                yield Label("SQL", classes="pane-title")
                yield Static("", id="violation-sql", markup=False)
                yield Static("", id="evidence-rows-title", markup=False, classes="pane-title")
                yield PagedTable(id="evidence-rows")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#violations-table", VirtualTable).focus()

    def state_changed(self) -> None:
        self.load_violations()

    def on_unmount(self) -> None:
        self._drop_sandbox()

    # -- workers ------------------------------------------------------------------------
    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="violations",
        description="load violations",
    )
    def load_violations(self) -> None:
        ev = self.evidence()
        violations = ev.violations.find(contract=self.contract)
        series = ev.series(self.contract)
        self.post_result(ViolationsLoaded(violations, series, len(ev.runs())))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="finding",
        description="load the finding",
    )
    def load_finding(self, key: tuple[str, str], violation: Any | None) -> None:
        ev = self.evidence()
        if violation is not None:
            finding = violation.last
        else:
            points = self.series.get(key) or []
            finding = ev.finding(points[-1].run, *key) if points else None
        sandbox, views = None, []
        if finding and finding.get("snapshots"):
            sandbox = ev.finding_sandbox(finding)
            live = [s["view"] for s in finding["snapshots"] if s.get("role") == "live"]
            views = live + [s["view"] for s in finding["snapshots"] if s["view"] not in live]
        self.post_result(FindingLoaded(key, finding, violation, views, sandbox))

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="close",
        description="close the violation",
    )
    def close_violation(self, ref: str, **kw: Any) -> None:
        self.post_result(ViolationClosed(self.evidence().violations.close(ref, **kw)))

    # -- results ------------------------------------------------------------------------
    @on(ViolationsLoaded)
    def show_violations(self, message: ViolationsLoaded) -> None:
        self.violations = message.violations
        self.series = message.series
        n_open = sum(1 for v in message.violations if v.is_open)
        self.query_one("#violations-summary", Static).update(
            f" {n_open} open of {len(message.violations)} violation(s) · "
            f"{len(message.series)} term(s) over {message.runs} run(s)"
            + (" · open only (o)" if self.open_only else "")
        )
        self._violation_rows()
        rows = []
        for (cid, tid), points in sorted(message.series.items()):
            latest = points[-1].status if points else "—"
            kind = {"fail": "invalid", "error": "invalid", "warn": "warning", "no-data": "warning"}
            rows.append(
                Row(
                    f"{cid}/{tid}",
                    (
                        cid,
                        tid,
                        timeline(points),
                        trend(points),
                        f"{GLYPH.get(latest, '')} {latest}",
                    ),
                    kind.get(latest, ""),
                )
            )
        self.query_one("#terms-table", VirtualTable).set_rows(rows)

    def _violation_rows(self) -> None:
        shown = [v for v in self.violations if v.is_open or not self.open_only]
        shown.sort(key=lambda v: (STATE_ORDER.get(v.state, 9), v.contract, v.term))
        rows = []
        for v in shown:
            primary = (v.paged.get("primary") or {}).get("id") or "—"
            kind = (
                "invalid"
                if v.is_open and v.status in ("fail", "error")
                else ("warning" if v.is_open else "muted")
            )
            rows.append(
                Row(
                    v.id,
                    (
                        v.state,
                        f"{GLYPH.get(v.status, '')} {v.status}",
                        v.contract,
                        v.term,
                        f"{v.opened_at:%Y-%m-%d}",
                        primary,
                    ),
                    kind,
                    search=f"{v.id} {v.contract} {v.term} {v.state} {primary}".lower(),
                )
            )
        table = self.query_one("#violations-table", VirtualTable)
        table.empty_text = "no violations: every evaluated term passes"
        table.set_rows(rows)

    def violation_by_id(self, vid: str | None) -> Any | None:
        return next((v for v in self.violations if v.id == vid), None)

    @on(VirtualTable.Highlighted, "#violations-table")
    def violation_highlighted(self, event: VirtualTable.Highlighted) -> None:
        v = self.violation_by_id(event.key)
        if v is not None:
            self._select((v.contract, v.term), v)

    @on(VirtualTable.Highlighted, "#terms-table")
    def term_highlighted(self, event: VirtualTable.Highlighted) -> None:
        if event.key and event.table.has_focus:
            cid, _, tid = event.key.partition("/")
            latest = [v for v in self.violations if v.contract == cid and v.term == tid]
            self._select((cid, tid), latest[-1] if latest else None)

    def _select(self, key: tuple[str, str], violation: Any | None) -> None:
        if key == self.selected and violation is self.selected_violation:
            return
        self.selected, self.selected_violation = key, violation
        points = self.series.get(key) or (violation.points if violation else [])
        spark = self.query_one("#violation-sparkline", Sparkline)
        spark.data = [p.observed for p in points if p.observed is not None] or [0.0]
        self.query_one("#violation-timeline", Static).update(points_content(points))
        self.query_one("#violation-detail", Static).update(
            Content.styled("loading…", "$text-muted")
        )
        self.load_finding(key, violation)

    @on(FindingLoaded)
    def show_finding(self, message: FindingLoaded) -> None:
        if message.key != self.selected:
            if message.sandbox is not None:
                message.sandbox.close()
            return
        self._drop_sandbox()
        self.finding = message.finding
        self.sandbox = message.sandbox
        self.views = message.views
        self.view_index = 0
        self.query_one("#violation-detail", Static).update(
            finding_detail(message.finding, message.violation)
        )
        sql = (message.finding or {}).get("sql") or "(no SQL: this term reads the contract)"
        self.query_one("#violation-sql", Static).update(sql)
        self._show_rows()

    def _show_rows(self) -> None:
        table = self.query_one("#evidence-rows", PagedTable)
        title = self.query_one("#evidence-rows-title", Static)
        if self.sandbox is None or not self.views:
            title.update("Evidence rows: none (no snapshot behind this finding)")
            table.clear("no evidence rows")
            return
        view = self.views[self.view_index % len(self.views)]
        more = f" · n: next of {len(self.views)} views" if len(self.views) > 1 else ""
        title.update(f"Evidence rows: {view}{more}")
        self.rows_sql = f'SELECT * FROM "{view}"'
        table.clear("loading…")
        self.request += 1
        table.request = self.request
        self.run_query(self.sandbox, self.rows_sql, self.request)

    @on(RowsFetched)
    def rows_fetched(self, message: RowsFetched) -> None:
        if message.request == self.request:
            self.query_one("#evidence-rows", PagedTable).reset(
                message.request, message.columns, message.rows, message.total
            )
            title = self.query_one("#evidence-rows-title", Static)
            title.update(f"{title.render()} · {message.total:,} row(s)")

    @on(QueryStopped)
    def rows_stopped(self, message: QueryStopped) -> None:
        if message.request == self.request:
            self.query_one("#evidence-rows", PagedTable).clear(
                f"{message.outcome}: {message.reason}"
            )

    @on(PagedTable.PageWanted, "#evidence-rows")
    def page_wanted(self, event: PagedTable.PageWanted) -> None:
        if self.sandbox is not None:
            self.fetch_page(self.sandbox, self.rows_sql, event.request, event.offset, event.limit)

    @on(PageFetched)
    def page_fetched(self, message: PageFetched) -> None:
        self.query_one("#evidence-rows", PagedTable).add_page(
            message.request, message.offset, message.rows
        )

    def _drop_sandbox(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    @on(ViolationClosed)
    def violation_closed(self, message: ViolationClosed) -> None:
        c = message.closure
        self.notify(
            f"Violation {c.violation} ({c.contract} / {c.term}) recorded as {c.action} "
            f"by {c.closed_by}",
            title="Closed",
            markup=False,
        )
        self.selected = None
        self.wb.load_state()  # the seam map's marks change; this screen reloads with it

    # -- actions ------------------------------------------------------------------------
    def _closable(self) -> Any | None:
        v = self.selected_violation
        if v is None:
            self.notify("Highlight a violation first", severity="warning")
            return None
        if self.wb.readonly:
            self.notify("Read-only mode: violations cannot be closed", severity="warning")
            return None
        if v.state == "resolved":
            self.notify(f"{v.id} is already resolved", markup=False)
            return None
        return v

    def action_resolve(self) -> None:
        if (v := self._closable()) is not None:
            self.resolve_flow(v)

    def action_exempt(self) -> None:
        if (v := self._closable()) is not None:
            self.exempt_flow(v)

    @work(exclusive=True, exit_on_error=False, group="close-flow", description="resolve")
    async def resolve_flow(self, v: Any) -> None:
        from workbench.tui.modals.confirm import ConfirmModal
        from workbench.tui.modals.obligations import ResolveModal

        form = await self.app.push_screen_wait(
            ResolveModal(
                f"Resolve {v.id}: {v.contract} / {v.term}",
                "Resolved means the cause is fixed; a later failing run opens a new violation.",
            )
        )
        if not form:
            return
        ok = await self.app.push_screen_wait(
            ConfirmModal(
                "Close this violation as resolved?",
                f"{v.id} ({v.contract} / {v.term}) will be recorded as resolved by "
                f"{self.wb.actor_label} and committed.\n\nNote: {form['note']}",
                yes="Resolve",
            )
        )
        if ok:
            self.close_violation(v.id, resolved=True, note=form["note"])

    @work(exclusive=True, exit_on_error=False, group="close-flow", description="exempt")
    async def exempt_flow(self, v: Any) -> None:
        from workbench.tui.modals.confirm import ConfirmModal
        from workbench.tui.modals.obligations import ExemptModal
        from workbench.tui.modals.pickers import PickerModal

        approver = await self.app.push_screen_wait(
            PickerModal(
                f"Who approves the exemption of {v.id}?",
                self.wb.current_people(None),
                hint="A named individual from the registry (not yourself).",
            )
        )
        if not approver:
            return
        form = await self.app.push_screen_wait(
            ExemptModal(f"Exempt {v.id}: {v.contract} / {v.term}", f"approved by {approver}")
        )
        if not form:
            return
        ok = await self.app.push_screen_wait(
            ConfirmModal(
                "Ask for an exemption of this violation?",
                f"A signed request by {self.wb.actor_label}: {v.id} ({v.contract} / {v.term}) "
                f"exempt until {form['expires']}. It counts only once {approver} approves it "
                f"(`workbench violations approve {v.id}`), and reopens the day after expiry."
                f"\n\nReason: {form['reason']}",
                yes="Exempt",
            )
        )
        if ok:
            self.close_violation(
                v.id, exempt=True, reason=form["reason"], approver=approver, expires=form["expires"]
            )

    def action_toggle_open(self) -> None:
        self.open_only = not self.open_only
        self._violation_rows()

    def action_next_view(self) -> None:
        if len(self.views) > 1:
            self.view_index += 1
            self._show_rows()

    def action_console(self) -> None:
        from workbench.tui.screens.evidence import EvidenceConsoleScreen

        contract = self.selected[0] if self.selected else self.contract
        self.app.push_screen(EvidenceConsoleScreen(contract, self.rows_sql or ""))

    def action_back(self) -> None:
        self.dismiss()
