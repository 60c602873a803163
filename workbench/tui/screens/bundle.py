"""The bundle viewer: verify an audit bundle file (offline, in a worker with progress) and show
the overall result, the checks (failures highlighted) and one row per contract."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from workbench.tui import bindings
from workbench.tui.messages import BundleCancelledByUser, BundleProgressed, BundleVerified
from workbench.tui.screens.base import BaseScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

SEVERITY_KIND = {"fail": "invalid", "warn": "warning", "info": "muted", "ok": ""}
SEVERITY_WORD = {"fail": "FAIL", "warn": "WARN", "info": "NOTE", "ok": "OK"}


def summary_content(path: Path, report: Any) -> Content:
    failures = [c for c in report.checks if c.severity == "fail"]
    bad = [c for c in report.contracts if not c.ok]
    if report.ok:
        head = Content.styled("✓ VERIFIED", "bold $text-success")
    else:
        n = len(failures) + len(bad)
        head = Content.styled(f"✗ FAILED ({n} problem(s))", "bold $text-error")
    lines = [Content.assemble(head, "  ", (str(path), "bold"))]
    if report.snapshot_version is not None:
        lines.append(
            Content(
                f"snapshot v{report.snapshot_version} exported {report.exported_at} by "
                f"{report.exporter or '?'}, expires {report.expires}"
                + ("" if report.current else " (expired or not current)")
            )
        )
    if report.snapshot_sha256:
        lines.append(Content(f"snapshot sha256 {report.snapshot_sha256}"))
    root = "pinned" if report.root_pinned else "NOT pinned (bundle's own root)"
    lines.append(
        Content(f"registry v{report.registry_head or '?'}, root {report.root_sha256 or '?'} {root}")
    )
    approved = sum(1 for c in report.contracts if c.state == "approved")
    lines.append(
        Content(f"{len(report.contracts)} contracts, {approved} approved, {len(bad)} failing")
    )
    return Content("\n").join(lines)


class BundleScreen(BaseScreen):
    BINDINGS = bindings.BUNDLE
    HELP = (
        "Verify an audit bundle: give the file and (optionally) the pinned trust root, then "
        "Enter or ctrl+o. Esc cancels a running verification, or goes back."
    )

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self.initial_path = path
        self.running = False
        self.report: Any = None
        self.service: Any = None
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield TopBar("audit bundle")
        with Vertical(id="bundle-form"):
            with Horizontal(classes="form-row"):
                yield Input(
                    str(self.initial_path or ""),
                    placeholder="bundle file (.tar.gz)",
                    id="bundle-path",
                )
                yield Input(
                    placeholder="trust root sha256 (blank: this clone's pinned root)",
                    id="bundle-root",
                )
                yield Button("Verify (ctrl+o)", id="bundle-verify", variant="primary")
            yield Checkbox(
                "trust the bundle's own registry root (first look only)", id="bundle-trust-own"
            )
            yield Label("", id="bundle-stage", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="bundle-progress")
        yield Static("Give a bundle file and press Enter.", id="bundle-summary")
        yield VirtualTable(
            [
                Column("Contract", 36),
                Column("Head", 6),
                Column("State", 10),
                Column("OK", 4),
                Column("Problems", 30, flex=True),
            ],
            id="bundle-contracts",
        )
        yield VirtualTable(
            [Column("Result", 6), Column("Check", 22), Column("Message", 40, flex=True)],
            id="bundle-checks",
        )
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.service = self.wb.service
        self.query_one("#bundle-progress").display = False
        self.query_one("#bundle-path", Input).focus()
        if self.initial_path:
            self.action_verify()

    def action_verify(self) -> None:
        if self.running:
            return
        text = self.query_one("#bundle-path", Input).value.strip()
        path = Path(text).expanduser() if text else None
        if path is None or not path.is_file():
            self.notify(f"{text or 'no file given'}: no such file", severity="error", markup=False)
            return
        root = self.query_one("#bundle-root", Input).value.strip() or None
        trust_own = self.query_one("#bundle-trust-own", Checkbox).value
        self.running = True
        self._cancel.clear()
        self.query_one("#bundle-progress").display = True
        self.query_one("#bundle-stage", Label).update("starting…")
        self.run_verify(path, root, trust_own)

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify", description="verify")
    def run_verify(self, path: Path, root: str | None, trust_own: bool) -> None:
        from workbench.service.bundle import BundleCancelled, BundleService

        if root is None and not trust_own:
            root = self.service.signing.pinned_root()

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(BundleProgressed(stage, done, total))

        try:
            report = BundleService.verify(
                path,
                root=root,
                trust_bundle_root=trust_own,
                now=self.service.now,
                progress=progress,
                cancel=self._cancel.is_set,
            )
        except BundleCancelled:
            self.post_message(BundleCancelledByUser("verify"))
            return
        self.post_message(BundleVerified(path, report))

    def on_bundle_progressed(self, message: BundleProgressed) -> None:
        self.query_one("#bundle-stage", Label).update(
            f"{message.stage} ({message.done}/{message.total})"
        )
        self.query_one("#bundle-progress", ProgressBar).update(
            total=max(message.total, 1), progress=message.done
        )

    def _stopped(self) -> None:
        self.running = False
        self.query_one("#bundle-progress").display = False
        self.query_one("#bundle-stage", Label).update("")

    def on_bundle_cancelled_by_user(self, message: BundleCancelledByUser) -> None:
        self._stopped()
        self.notify("Verification cancelled")

    def on_bundle_verified(self, message: BundleVerified) -> None:
        self._stopped()
        report = self.report = message.report
        self.query_one("#bundle-summary", Static).update(summary_content(message.path, report))
        rows = []
        for c in sorted(report.contracts, key=lambda c: (c.ok, c.contract_id)):
            problems = "; ".join(c.problems) or ("" if c.ok else c.reason)
            kind = "invalid" if not c.ok else ("warning" if c.state != "approved" else "")
            head = f"v{c.head}" if c.head else "—"
            rows.append(
                Row(
                    c.contract_id,
                    (c.contract_id, head, c.state, "ok" if c.ok else "FAIL", problems),
                    kind,
                )
            )
        self.query_one("#bundle-contracts", VirtualTable).set_rows(rows)
        order = {"fail": 0, "warn": 1, "ok": 2, "info": 3}
        checks = sorted(
            enumerate(report.checks), key=lambda ic: (order.get(ic[1].severity, 4), ic[0])
        )
        self.query_one("#bundle-checks", VirtualTable).set_rows(
            [
                Row(
                    str(i),
                    (SEVERITY_WORD.get(c.severity, c.severity), c.name, c.message),
                    SEVERITY_KIND.get(c.severity, ""),
                )
                for i, c in checks
            ]
        )
        self.query_one("#bundle-contracts", VirtualTable).focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self._stopped()
            self.wb.show_error(event.worker.error, event.worker.description or "verify")

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.action_verify()

    @on(Button.Pressed, "#bundle-verify")
    def verify_pressed(self) -> None:
        self.action_verify()

    def action_back(self) -> None:
        if self.running:
            self._cancel.set()
            self.query_one("#bundle-stage", Label).update("cancelling…")
        else:
            self.dismiss()
