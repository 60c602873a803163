"""Reports: the weekly living-attestation summary and the quarterly boundary-failure agenda.

Shown as plain Markdown text in a read-only TextArea (never parsed as markup). The named
reviewer can sign the weekly report as received (`r`).
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Static, TextArea

from workbench.tui import bindings
from workbench.tui.messages import RecordSigned, ReportRendered
from workbench.tui.screens.service_screen import ServiceScreen, needs_passphrase, signer_for
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar


class ReportsScreen(ServiceScreen):
    BINDINGS = bindings.REPORTS
    HELP = (
        "w: the weekly summary · b: the boundary-failure agenda · r: sign the weekly as received."
    )
    DEFAULT_CSS = """
    ReportsScreen #report-title { height: 1; padding: 0 1; text-style: bold; }
    ReportsScreen #report-text { height: 1fr; }
    """

    def __init__(self, which: str = "weekly") -> None:
        super().__init__()
        self.which = which
        self.text = ""
        self.week: str | None = None

    def compose(self) -> ComposeResult:
        yield TopBar("reports")
        yield Static("rendering…", id="report-title", markup=False)
        area = TextArea("", read_only=True, id="report-text", soft_wrap=True)
        area.cursor_blink = self.wb.cursor_blink
        yield area
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TextArea).focus()

    def state_changed(self) -> None:
        self.render_report(self.which)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="report",
        description="render the report",
    )
    def render_report(self, which: str) -> None:
        ob = self.obligations()
        if which == "boundary":
            report = ob.reports.boundary()
            title = f"Cross-team boundary-failure review {report.quarter}"
            text = ob.reports.render_boundary(report, "md")
        else:
            report = ob.reports.weekly()
            title = f"Weekly living-attestation summary {report.week}"
            text = ob.reports.render_weekly(report, "md")
        self.post_result(ReportRendered(which, title, text))

    @on(ReportRendered)
    def show_report(self, message: ReportRendered) -> None:
        self.which = message.which
        self.text = message.text
        if message.which == "weekly":
            self.week = message.title.rsplit(" ", 1)[-1]
        self.query_one("#report-title", Static).update(message.title)
        self.query_one(TextArea).load_text(message.text)

    def action_weekly(self) -> None:
        self.render_report("weekly")

    def action_boundary(self) -> None:
        self.render_report("boundary")

    def action_receive(self) -> None:
        if self.wb.readonly:
            self.notify("Read-only mode: nothing can be signed", severity="warning")
            return
        if self.which != "weekly" or not self.week:
            self.notify("Open the weekly report (w) to sign it as received", severity="warning")
            return
        self.receive_flow(self.week)

    @work(exclusive=True, exit_on_error=False, group="receive-flow", description="receive")
    async def receive_flow(self, week: str) -> None:
        from workbench.tui.modals.confirm import ConfirmModal
        from workbench.tui.screens.due import signed_act

        ok = await self.app.push_screen_wait(
            ConfirmModal(
                f"Sign the weekly summary {week} as received?",
                f"{self.wb.actor_label} signs one receipt per living attestation they review.",
                yes="Sign",
            )
        )
        if ok:
            await signed_act(
                self,
                lambda passphrase: self.sign_receipt(week, passphrase),
                f"Unlock the key to sign the {week} report",
            )

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="sign",
        description="sign the receipt",
    )
    def sign_receipt(self, week: str, passphrase: str | None) -> str:
        try:
            results: list[Any] = self.obligations().reports.receive_weekly(
                week, signer=signer_for(self.wb.service, passphrase)
            )
        except Exception as exc:
            if needs_passphrase(exc):
                return "passphrase"
            raise
        self.post_result(RecordSigned(f"Weekly summary {week}", results))
        return "done"

    @on(RecordSigned)
    def record_signed(self, message: RecordSigned) -> None:
        self.notify(
            f"{message.what}: {len(message.results)} receipt(s) recorded",
            title="Recorded",
            markup=False,
        )
        self.wb.load_state()

    def action_back(self) -> None:
        self.dismiss()
