"""The seams' marks and a contract's verdict in the app (issue 18: every key < 100 ms).

* The marks (signatures, reviews, violations, pages: ~6 s of Python at 1,000 signed
  contracts) are worked out in a child process (`service/marks_process.py`), so the app's
  interpreter stays free for keys; the same `compute_marks` runs in a worker thread when the
  app is built with ``marks_in_child=False`` (the tests' default). A child that fails,
  hangs, dies or answers garbage leaves every seam marked "unavailable" and a notice saying
  why, never a traceback and never marks that look fine; no child outlives the app.
* A contract's signature verdict is worked out on one long-lived reader thread, warmed once
  the marks are in (see `reader`).

Mixed into ``WorkbenchApp``; results come back as messages the app handles here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.worker import get_current_worker

from workbench.tui.host import AppHost
from workbench.tui.messages import MarksFailed, MarksLoaded

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

# A marks computation that has not answered after this long has hung (seconds).
MARKS_TIMEOUT = 600.0
# The mark every seam carries when the marks could not be worked out.
MARKS_UNAVAILABLE = "marks"
# After the marks are in: the pause before the reader thread reads HEAD.
WARM_READER_AFTER = 0.6
# How long the cursor rests on a contract before its verdict is worked out ahead.
PREFETCH_AFTER = 0.15


class MarksLoading(AppHost):
    """The seams' marks (in a child process) and contracts' verdicts (on the reader)."""

    views: list[Any]
    marks_ready: bool
    marks_in_child: bool
    marks_timeout: float
    marks_error: str | None
    _marks_children: set[Any]
    _marks_pages: Any
    _reader: Any
    _verdict_asked: int
    _verdicts: dict[str, tuple[Any, tuple[Any, Any, Any]]] = {}  # noqa: RUF012 - replaced, never changed
    _prefetch: Any = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="marks", description="marks")
    def load_marks(self) -> None:
        from workbench.service import marks_process
        from workbench.service.marks import compute_marks

        worker = get_current_worker()
        try:
            if self.marks_in_child:
                # ~6 s of Python at 1,000 signed contracts: in a thread here it held the
                # interpreter lock and every key waited for it; a child runs on the other core.
                marks = marks_process.compute_in_child(
                    self.service,
                    timeout=self.marks_timeout,
                    cancelled=lambda: worker.is_cancelled,
                    started=self._marks_children.add,
                    finished=self._marks_children.discard,
                )
            else:
                marks = compute_marks(self.service)
        except marks_process.MarksCancelled:
            return
        except marks_process.MarksUnavailable as exc:
            self._post(self, MarksFailed(str(exc)))
            return
        self._post(self, MarksLoaded(marks.views, marks.pages, marks.now))

    def stop_marks_children(self) -> None:
        """No marks process outlives the app (its worker thread may still be waiting)."""
        from workbench.service import marks_process

        for child in list(self._marks_children):
            marks_process.stop(child)

    def on_marks_loaded(self, message: MarksLoaded) -> None:
        self.marks_ready = True
        self.marks_error = None
        if message.pages is not None:
            self._marks_pages = (self.gov_state, message.pages, message.now)
        self._marks_shown(message.views)

    def on_marks_failed(self, message: MarksFailed) -> None:
        """Never a silent "all good": every seam says its marks are unavailable, and a
        notice says why (the reason may quote the child's last words: text, not markup)."""
        from dataclasses import replace

        self.marks_error = message.reason
        self.notify(
            f"Signatures, reviews, violations and pages are not shown: {message.reason}. "
            "Reload (ctrl+r) to try again.",
            title="Seam marks unavailable",
            severity="error",
            markup=False,
            timeout=30,
        )
        self._marks_shown(
            [replace(v, marks={MARKS_UNAVAILABLE: "unavailable"}) for v in self.views]
        )

    @work(exclusive=True, exit_on_error=False, group="verdict", description="verdict")
    async def load_verdict(self, target: MessagePump, contract_id: str) -> None:
        """A contract's signature verdict, worked out on the app's reader thread."""
        import asyncio

        from workbench.tui.messages import VerdictLoaded

        self._verdict_asked += 1
        asked = self._verdict_asked
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self.reader(), self._verdict, contract_id, asked)
        if found is not None:
            self._post(target, VerdictLoaded(contract_id, *found))

    def reader(self) -> Any:
        """One long-lived thread for the verdicts. The service keeps a git handle, and
        with it the files at HEAD it has read, per thread: on a fresh worker thread each
        verdict read every file at HEAD again (120-170 ms of CPU at 1,000 contracts, and
        ~300 ms of waiting beside the event loop), on this one 15-20 ms."""
        if self._reader is None:
            from concurrent.futures import ThreadPoolExecutor

            self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wb-reader")
        return self._reader

    def _verdict(self, contract_id: str, asked: int) -> tuple[Any, Any, Any] | None:
        if asked != self._verdict_asked:
            return None  # a later contract was opened meanwhile: this one is not shown
        probe = getattr(self, "_key_probe", None)  # benchmarks/tui_keys.py's timeline
        if probe is not None:
            probe.log("work", f"verdict {contract_id}")
        verdict = self.service.signing.verdict(contract_id)
        if probe is not None:
            probe.log("work", "verdict done")
        # The pages of the seam, so the contract pane's page test is the gate's: those the
        # marks on screen were judged with, when they were judged on the state on screen.
        kept = self._marks_pages
        if kept is not None and kept[0] is self.gov_state:
            pages, now = kept[1].get(contract_id), kept[2]
        else:
            pages, now = self.service.notify.pages().get(contract_id), self.service.now
        return verdict, pages, now

    def _warm_reader(self) -> None:
        """Once the marks are in, read HEAD on the reader thread while the user looks at
        the map, so that the first contract opened costs what any later one does."""
        state = self.gov_state
        if state is None or not state.contracts or not self.is_running:
            return
        self._ahead(min(state.contracts), state)

    # -- the verdict of the row under the cursor, before Enter ------------------------------
    def on_virtual_table_highlighted(self, event: Any) -> None:
        self._want_verdict(getattr(event, "key", None))

    def on_seam_map_seam_highlighted(self, event: Any) -> None:
        self._want_verdict(getattr(event, "seam", None))

    def _want_verdict(self, contract_id: str | None) -> None:
        """Work out the verdict of the contract under the cursor once it rests there for
        PREFETCH_AFTER seconds (not on every row a held key passes), so that Enter draws the
        contract with its verdict in one go; the contract's screen still asks again and
        shows the new verdict if it differs."""
        state = self.gov_state
        if self._prefetch is not None:
            self._prefetch.stop()
            self._prefetch = None
        if not self.marks_ready or state is None or contract_id not in state.contracts:
            return  # before the marks, a verdict would work out every seam's pages again
        wanted = contract_id
        if self.cached_verdict(wanted) is None:
            self._prefetch = self.set_timer(PREFETCH_AFTER, lambda: self._ahead(wanted, state))

    def _ahead(self, contract_id: str, state: Any) -> None:
        """Queue a verdict worked out ahead on the reader, unless the app is closing: a
        timer set while the cursor rested can fire after `on_unmount` shut the reader."""
        try:
            self.reader().submit(self._remember_verdict, contract_id, state)
        except RuntimeError:  # the reader is shut down: nothing is waiting for the verdict
            return

    def _remember_verdict(self, contract_id: str, state: Any) -> None:
        """On the reader thread: keep the verdict of the last contract under the cursor."""
        if state is not self.gov_state:
            return
        found = self._verdict(contract_id, self._verdict_asked)
        if found is not None and state is self.gov_state:
            self._verdicts = {contract_id: (state, found)}

    def cached_verdict(self, contract_id: str) -> tuple[Any, Any, Any] | None:
        """(verdict, pages, now) worked out ahead for the state on screen, if any."""
        hit = self._verdicts.get(contract_id)
        return hit[1] if hit is not None and hit[0] is self.gov_state else None
