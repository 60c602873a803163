"""Sync with the remote: where to, progress, cancel, and what came in and went out.

The sync runs in a thread worker (`wb.sync.run`, with no terminal: git cannot stop to
ask for a password there, so ssh-agent or a credential helper must hold the credentials);
its progress callback posts `SyncProgressed`. Esc (or Cancel) while it runs stops git and
the sync before anything changes in the clone. The summary stays on screen until closed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from workbench.tui import bindings
from workbench.tui.messages import SyncFinished, SyncProgressed, SyncStopped

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


def summary_content(report: Any) -> Content:
    """The report as text (repo text is never markup), problems first."""
    parts: list[Content] = []
    for problem in report.refusals:
        parts.append(Content.styled(f"REFUSED  {problem}\n", "$text-error"))
    parts.append(Content.styled(f"{report.outcome}\n", "bold"))
    if report.summary is not None and not report.refusals:
        came = "would come in" if report.dry_run else "came in"
        went = "would go out" if report.dry_run else "went out"
        parts.append(Content("\n".join(report.summary.lines(came, went)) + "\n"))
    for conflict in report.conflicts:
        parts.append(Content.styled(f"CONFLICT  {conflict.path}\n", "$text-warning"))
        parts.append(Content(f"  {conflict.advice}\n"))
    if report.conflicts:
        parts.append(Content.styled("Press M (or `repo: resolve conflicts`) to resolve.\n", "bold"))
    for note in report.notes:
        parts.append(Content.styled(f"note: {note}\n", "$text-muted"))
    return Content("").join(parts)


class SyncModal(ModalScreen[Any]):
    """Dismisses with the SyncReport, or None (cancelled or closed before running)."""

    BINDINGS = bindings.SYNC
    AUTO_FOCUS = "#sync-run"

    def __init__(self, dry_run: bool = False) -> None:
        super().__init__()
        self.dry_run = dry_run
        self.running = False
        self.report: Any = None
        self._cancel = threading.Event()

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)  # every screen runs in the WorkbenchApp

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sync-dialog"):
            title = "Sync with the remote" + (" (dry run)" if self.dry_run else "")
            yield Label(title, classes="dialog-title")
            yield Static("", id="sync-where", markup=False)
            yield Label(
                "Fetches, verifies what came in (registry, attestation histories, trust root) "
                "before merging, merges, pushes.",
                classes="dialog-hint",
            )
            yield Label("", id="sync-stage", markup=False)
            bar = ProgressBar(total=None, show_eta=False, id="sync-progress")
            bar.display = False
            yield bar
            with VerticalScroll(id="sync-summary-scroll"):
                yield Static("", id="sync-summary")
            with Horizontal(classes="dialog-buttons"):
                label = "Dry run (enter)" if self.dry_run else "Sync (enter)"
                yield Button(label, id="sync-run", variant="primary")
                yield Button("Cancel (esc)", id="sync-cancel")

    def on_mount(self) -> None:
        self.describe()

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync-where")
    def describe(self) -> None:
        try:
            up = self.wb.service.sync.upstream()
            text = f"{up.branch} ⇄ {up.name}"
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, not a crash
            text = str(exc)
        self.app.call_from_thread(self.query_one("#sync-where", Static).update, text)

    def start(self) -> None:
        if self.running:
            return
        if self.report is not None:
            self.dismiss(self.report)
            return
        self.running = True
        self._cancel.clear()
        self.query_one("#sync-run", Button).disabled = True
        self.query_one("#sync-progress").display = True
        self.query_one("#sync-stage", Label).update("starting…")
        self.query_one("#sync-cancel", Button).focus()
        self.run_sync()

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync", description="sync")
    def run_sync(self) -> None:
        from workbench.service.sync import SyncCancelled

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(SyncProgressed(stage, done, total))

        try:
            report = self.wb.service.sync.run(
                dry_run=self.dry_run,
                progress=progress,
                cancel=self._cancel.is_set,
                interactive=False,
                signer=self.wb.signer,
            )
        except SyncCancelled as exc:
            self.post_message(SyncStopped(str(exc)))
            return
        self.post_message(SyncFinished(report))

    def on_sync_progressed(self, message: SyncProgressed) -> None:
        if self._cancel.is_set():
            return
        pct = f" {100 * message.done // message.total}%" if message.total else ""
        self.query_one("#sync-stage", Label).update(f"{message.stage}{pct}")
        self.query_one("#sync-progress", ProgressBar).update(
            total=max(message.total, 1), progress=message.done
        )

    def on_sync_stopped(self, message: SyncStopped) -> None:
        self.app.notify(message.reason, title="Sync cancelled", markup=False)
        self.dismiss(None)

    def on_sync_finished(self, message: SyncFinished) -> None:
        self.running = False
        self.report = message.report
        self.query_one("#sync-progress").display = False
        self.query_one("#sync-stage", Label).update("done" if message.report.ok else "stopped")
        self.query_one("#sync-summary", Static).update(summary_content(message.report))
        run = self.query_one("#sync-run", Button)
        run.label = "Close (enter)"
        run.disabled = False
        run.focus()
        self.query_one("#sync-cancel").display = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "sync":
            return
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.dismiss(None)
            self.wb.show_error(event.worker.error, "sync")

    @on(Button.Pressed, "#sync-run")
    def run_pressed(self) -> None:
        self.start()

    @on(Button.Pressed, "#sync-cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.query_one("#sync-stage", Label).update("cancelling…")
        else:
            self.dismiss(self.report)
