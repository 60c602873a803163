"""Plumbing for screens that own their data (evidence, violations, obligations).

Their thread workers call the session's `evidence` / `obligations` and post past-tense
messages (`messages.py`) back to the screen; a failed worker becomes the app's error dialog.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.worker import Worker, WorkerState, get_current_worker

from workbench.tui.screens.base import BaseScreen


class ServiceScreen(BaseScreen):
    def post_result(self, message: Any) -> None:
        """From a worker thread: deliver a result unless the worker was cancelled."""
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def evidence(self) -> Any:
        """The evidence service for one action (the app's session makes a fresh one per use)."""
        return self.wb.service.evidence

    def obligations(self) -> Any:
        """The obligations for one action: take it once, call it as often as needed."""
        return self.wb.service.obligations

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.wb.show_error(event.worker.error, event.worker.description or event.worker.name)


def signer_for(wb: Any, passphrase: str | None) -> Any:
    """None (the service makes the actor's signer itself) or one unlocked with `passphrase`.

    Raises PassphraseRequired / WrongPassphrase for the caller to ask and retry.
    """
    if passphrase is None:
        return None
    return wb.signing.keys.make_signer(wb.actor().id, passphrase=passphrase)


def needs_passphrase(exc: BaseException) -> bool:
    from workbench.service.errors import PassphraseRequired, WrongPassphrase

    return isinstance(exc, PassphraseRequired | WrongPassphrase)


class QueryRunner(ServiceScreen):
    """Runs read-only SQL on a Sandbox in workers: the first page + count, then pages."""

    def __init__(self) -> None:
        super().__init__()
        self.request = 0

    @work(thread=True, exclusive=True, exit_on_error=False, group="query", description="query")
    def run_query(self, sandbox: Any, sql: str, request: int) -> None:
        from workbench.service.errors import (
            QueryCancelled,
            QueryFailed,
            QueryTimeout,
            SandboxError,
            SqlRefused,
        )
        from workbench.tui.messages import QueryStopped, RowsFetched
        from workbench.tui.widgets.paged_table import PAGE

        try:
            first = sandbox.fetch_page(sql, 0, PAGE)
            total = len(first.rows) if len(first.rows) < PAGE else sandbox.count_rows(sql)
        except SqlRefused as exc:
            self.post_result(QueryStopped(request, "refused", str(exc)))
        except QueryCancelled:
            self.post_result(QueryStopped(request, "cancelled", "cancelled"))
        except QueryTimeout as exc:
            self.post_result(QueryStopped(request, "timeout", str(exc)))
        except (QueryFailed, SandboxError) as exc:
            self.post_result(QueryStopped(request, "failed", str(exc)))
        else:
            self.post_result(
                RowsFetched(request, list(first.columns), first.rows, total, first.elapsed_s)
            )

    @work(thread=True, exclusive=False, exit_on_error=False, group="page", description="page")
    def fetch_page(self, sandbox: Any, sql: str, request: int, offset: int, limit: int) -> None:
        from workbench.service.errors import EvidenceError
        from workbench.tui.messages import PageFetched

        try:
            page = sandbox.fetch_page(sql, offset, limit)
        except EvidenceError:
            return  # superseded or cancelled: the table shows "…" until asked again
        self.post_result(PageFetched(request, offset, page.rows))
