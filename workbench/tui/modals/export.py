"""Export an audit bundle: scope, period, evidence on/off, output path; progress and cancel.

The export runs in a thread worker that posts `BundleProgressed` from the service's progress
callback; Esc (or Cancel) while it runs makes the service's `cancel()` return True, so it stops
with `BundleCancelled` before anything is committed or written.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, SelectionList
from textual.worker import Worker, WorkerState

from workbench.tui import bindings
from workbench.tui.messages import (
    BundleCancelledByUser,
    BundleExported,
    BundleProgressed,
    SignerRejected,
    SignPrepared,
)
from workbench.tui.modals.base import SCROLL_BINDINGS, DialogFoot, DialogScreen
from workbench.tui.modals.passphrase import (
    default_key_file,
    key_error_message,
    key_file_problem,
    key_placeholder,
    probe_key,
    typed_key_file,
)

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


def parse_day(text: str, label: str) -> datetime | None:
    """A date (2026-10-01) or UTC time; naive values are UTC. Raises ValueError with a message."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{label}: {text!r} is not a date (2026-10-01) or a UTC time (2026-10-01T00:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ExportModal(DialogScreen[Path | None]):
    """Dismisses with the written path, or None (cancelled: nothing written)."""

    BINDINGS = [*bindings.EXPORT, *SCROLL_BINDINGS]
    AUTO_FOCUS = "#export-out"

    def __init__(self, out: Path | None = None) -> None:
        super().__init__()
        self.out = out
        self.running = False
        self.needs_passphrase = False
        self.default_key: Path | None = None  # the key file used when none is typed
        self.service: Any = None
        self._cancel = threading.Event()

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)  # every screen runs in the WorkbenchApp

    def compose(self) -> ComposeResult:
        # As the CLI: beside the repo, never inside it (the service decides).
        out = self.out or self.wb.service.bundles.default_path()
        ids = sorted(v.id for v in self.wb.views if v.governed)
        with Vertical(classes="dialog export-dialog"):
            yield Label("Export an audit bundle", classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"), Vertical(id="export-form"):
                yield Checkbox("All contracts", value=True, id="export-all")
                yield SelectionList[str](
                    *((i, i) for i in ids), id="export-contracts", disabled=True
                )
                with Horizontal(classes="form-row"):
                    yield Input(placeholder="since (YYYY-MM-DD, optional)", id="export-since")
                    yield Input(placeholder="until (YYYY-MM-DD, optional)", id="export-until")
                yield Checkbox("Include evidence files", value=True, id="export-evidence")
                yield Checkbox("use ssh-agent", id="use-agent")
            with DialogFoot():
                yield Input(str(out), placeholder="output file (.tar.gz)", id="export-out")
                # As the sign dialogs and the CLI's `export-bundle --key`: a key kept
                # elsewhere than where the workbench looks.
                yield Input(placeholder="key file (blank: your own key)", id="key-file")
                passphrase = Input(
                    password=True, placeholder="passphrase of your key", id="passphrase"
                )
                passphrase.display = False
                yield passphrase
                yield Label("", id="export-error", markup=False)
                yield Label("", id="export-stage", markup=False)
                bar = ProgressBar(total=None, show_eta=False, id="export-progress")
                bar.display = False
                yield bar
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Export (enter)", id="export", variant="primary")
                    yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.service = self.wb.service
        self.probe()

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-key", description="key")
    def probe(self) -> None:
        from workbench.service.errors import WorkbenchError

        needs, note = probe_key(lambda: self.service.bundles.make_signer())
        try:
            key = default_key_file(self.service, self.service.actor().id)
        except WorkbenchError:
            key = None  # no acting person: the export itself says so
        self.post_message(SignPrepared(None, needs, note, key))

    def on_sign_prepared(self, message: SignPrepared) -> None:
        self.needs_passphrase = message.needs_passphrase
        self.default_key = message.key_file
        if message.key_file is not None:
            self.query_one("#key-file", Input).placeholder = key_placeholder(
                message.key_file, self.service.root
            )
        self.query_one("#passphrase").display = message.needs_passphrase
        self.query_one("#export-error", Label).update(message.key_note or "")

    @on(Checkbox.Changed, "#export-all")
    def scope_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#export-contracts").disabled = event.value

    @on(Checkbox.Changed, "#use-agent")
    def agent_toggled(self, event: Checkbox.Changed) -> None:
        self.query_one("#passphrase").display = self.needs_passphrase and not event.value

    def options(self) -> tuple[Path, Any]:
        """The output path and export options from the form (ValueError: what is wrong)."""
        from workbench.service.bundle import ExportOptions

        contracts = None
        if not self.query_one("#export-all", Checkbox).value:
            contracts = list(self.query_one("#export-contracts", SelectionList).selected)
            if not contracts:
                raise ValueError("Select at least one contract, or tick All contracts.")
        since = parse_day(self.query_one("#export-since", Input).value, "since")
        until = parse_day(self.query_one("#export-until", Input).value, "until")
        if since and until and since > until:
            raise ValueError("since is after until")
        out_text = self.query_one("#export-out", Input).value.strip()
        if not out_text:
            raise ValueError("Give the output file.")
        out = Path(out_text).expanduser()
        if out.is_dir():
            raise ValueError(f"{out} is a directory: give a file name")
        if not out.parent.is_dir():
            raise ValueError(f"{out.parent}: no such folder")
        evidence = self.query_one("#export-evidence", Checkbox).value
        return out, ExportOptions(
            contracts=contracts, since=since, until=until, evidence_files=evidence
        )

    def start(self) -> None:
        if self.running:
            return
        try:
            out, options = self.options()
        except ValueError as exc:
            self.query_one("#export-error", Label).update(str(exc))
            return
        agent = self.query_one("#use-agent", Checkbox).value
        passphrase = self.query_one("#passphrase", Input).value or None
        key_file = typed_key_file(self.query_one("#key-file", Input).value)
        problem = key_file_problem(key_file, agent)
        if problem:
            self.query_one("#export-error", Label).update(problem)
            self.query_one("#key-file", Input).focus()
            return
        # Known to be encrypted: the default key, probed when the dialog opened. Another
        # file is tried as it is and asks for its passphrase if it needs one.
        probed = key_file is None or key_file == self.default_key
        if self.needs_passphrase and probed and not agent and not passphrase:
            self.query_one("#export-error", Label).update("Type the passphrase of your key.")
            self.query_one("#passphrase", Input).focus()
            return
        self.running = True
        self._cancel.clear()
        self._form_disabled(True)
        self.query_one("#export", Button).disabled = True
        self.query_one("#export-error", Label).update("")
        self.query_one("#export-progress").display = True
        self.query_one("#export-stage", Label).update("starting…")
        self.query_one("#cancel", Button).focus()
        self.run_export(out, options, passphrase, agent, key_file)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export", description="export")
    def run_export(
        self, out: Path, options: Any, passphrase: str | None, agent: bool, key_file: Path | None
    ) -> None:
        from workbench.service.bundle import BundleCancelled
        from workbench.service.errors import AgentSigningError, KeyLoadError

        svc = self.service.bundles
        try:
            signer = svc.make_signer(key_path=key_file, agent=agent, passphrase=passphrase)
        except (KeyLoadError, AgentSigningError) as exc:
            self.post_message(SignerRejected(key_error_message(exc)))
            return

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(BundleProgressed(stage, done, total))

        try:
            result = svc.export(
                out, options, signer=signer, progress=progress, cancel=self._cancel.is_set
            )
        except BundleCancelled:
            self.post_message(BundleCancelledByUser("export"))
            return
        self.post_message(BundleExported(out, result))

    def on_bundle_progressed(self, message: BundleProgressed) -> None:
        if self._cancel.is_set():
            return
        self.query_one("#export-stage", Label).update(
            f"{message.stage} ({message.done}/{message.total})"
        )
        self.query_one("#export-progress", ProgressBar).update(
            total=max(message.total, 1), progress=message.done
        )

    def on_signer_rejected(self, message: SignerRejected) -> None:
        self._stopped()
        self.query_one("#export-error", Label).update(message.message)
        field = self.query_one("#passphrase", Input)
        field.value = ""
        if not self.query_one("#use-agent", Checkbox).value:
            self.needs_passphrase = True
            field.display = True
            field.focus()

    def on_bundle_cancelled_by_user(self, message: BundleCancelledByUser) -> None:
        self.app.notify("Export cancelled: nothing written", title="Audit bundle")
        self.dismiss(None)

    def on_bundle_exported(self, message: BundleExported) -> None:
        r = message.result
        self.app.notify(
            f"Wrote {message.path} ({r.files} files, {r.contracts} contracts), snapshot "
            f"v{r.snapshot_version}. Give the auditor, out of band, the trust root "
            f"{r.root_sha256} and the VERIFY.sh sha256 {r.verify_script_sha256}",
            title="Audit bundle exported",
            markup=False,
            timeout=12,
        )
        self.dismiss(message.path)

    def _stopped(self) -> None:
        self.running = False
        self._form_disabled(False)
        self.query_one("#export", Button).disabled = False
        self.query_one("#export-progress").display = False
        self.query_one("#export-stage", Label).update("")

    def _form_disabled(self, disabled: bool) -> None:
        for selector in ("#export-form", "#export-out", "#key-file", "#passphrase"):
            self.query_one(selector).disabled = disabled

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.dismiss(None)
            self.wb.show_error(event.worker.error, event.worker.description or "export")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.start()

    @on(Button.Pressed, "#export")
    def export_pressed(self) -> None:
        self.start()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.query_one("#export-stage", Label).update("cancelling…")
        else:
            self.dismiss(None)
