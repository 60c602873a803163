"""`workbench notify` from the app (the command palette's "notify: send what is due"): the
same service as the CLI, in a thread worker, signed with the acting person's key; the
outcome is a notification and the Due list and seam map are reloaded."""

from __future__ import annotations

from typing import Any


def send_due(app: Any) -> None:
    if app.readonly:
        app.notify("Read-only mode: sending records each delivery", severity="warning")
        return

    def work() -> None:
        report = app.service.notify.run(signer=app.signer)
        delivered = sum(s.answer.ok for s in report.sent)
        text = (
            f"{delivered} delivered, {len(report.failed)} failed (retried later), "
            f"{len(report.waiting)} waiting, {len(report.unroutable)} without a route"
        )
        severity = "information" if report.ok else "warning"
        app.call_from_thread(
            app.notify, text, title="Notify", severity=severity, markup=False, timeout=10
        )
        app.call_from_thread(app.load_state)

    app.run_worker(
        work,
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="notify",
        description="send what is due",
    )
