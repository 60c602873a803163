"""The Handshake Workbench terminal app.

All service work (git, validation, commits) runs in thread workers defined here; they post
messages (see `messages.py`) to the screen that asked, and failures become an error dialog.
Widgets and screens never call the service themselves.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shlex
import subprocess
import sys
import tempfile
import traceback
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.message_pump import MessagePump
from textual.reactive import reactive
from textual.signal import Signal
from textual.worker import Worker, WorkerFailed, WorkerState, get_current_worker

if TYPE_CHECKING:
    from workbench.governance.seam_view import MapSnapshot
    from workbench.governance.seams import SeamView
    from workbench.model.people import Person
    from workbench.model.state import GovernanceState
    from workbench.service.results import MergeState, Signer, Workbench
    from workbench.tui.preload import Preload

from workbench.service.errors import (
    InvalidEdit,
    UnknownContract,
    WorkbenchError,
    WriteConflict,
    WriteRefused,
)
from workbench.tui import bindings, safe_render
from workbench.tui.clone_sync import CloneSyncing
from workbench.tui.collections import KeepingCollections
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.marks_loading import MARKS_TIMEOUT, WARM_READER_AFTER, MarksLoading
from workbench.tui.messages import (
    ContractChecked,
    ContractSaved,
    ContractTextLoaded,
    DiffLoaded,
    DiffPrepared,
    DraftDiscarded,
    HistoryLoaded,
    MapSnapshotLoaded,
    PeopleLoaded,
    StateLoaded,
)
from workbench.tui.person_edit import PersonEditing
from workbench.tui.screens.seams import SeamsScreen

# Repo text never reaches the terminal as controls (see workbench/tui/safe_render.py).
safe_render.install()

# Only the home screen is imported before the first paint; the others (the editor pulls in
# TextArea and tree-sitter) are imported when first shown.


def _current_css(screen: Any) -> Any:
    """Mark a new mode screen as styled with the app's current stylesheet.

    Textual re-parses and re-applies the whole stylesheet (~0.2 s) when a mode's screen is
    first shown and its CSS counter lags the app's. These screens bring no CSS of their own
    (everything is in app.tcss, parsed at start) and their widgets are styled as they
    mount, so that pass would change nothing.
    """
    from textual._context import active_app

    screen._css_update_count = active_app.get()._css_update_count
    return screen


def _contracts_screen() -> Any:
    from workbench.tui.screens.contracts import ContractsScreen

    return _current_css(ContractsScreen())


def _people_screen() -> Any:
    from workbench.tui.screens.people import PeopleScreen

    return _current_css(PeopleScreen())


DEFAULT_THEME = "textual-dark"
# Screens built behind the seam map once it is complete, and the pause before each.
PREBUILT_MODES = ("contracts", "people")
PREBUILD_PAUSE = 0.3


class WorkbenchApp(PersonEditing, CloneSyncing, MarksLoading, KeepingCollections, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "Handshake Workbench"
    BINDINGS = bindings.APP
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    MODES = {"seams": SeamsScreen, "contracts": _contracts_screen, "people": _people_screen}
    DEFAULT_MODE = "seams"

    # (organisation, acting person, read-only, a note such as the day of a stored map)
    header_info: reactive[tuple[str, str, bool, str]] = reactive(("", "", False, ""))
    # Where the clone stands, for the header: (text, alarming), e.g. ("MERGING · …", True).
    repo_info: reactive[tuple[str, bool]] = reactive(("", False))

    def __init__(
        self,
        service: Workbench,
        *,
        theme: str | None = None,
        keymap: dict[str, str] | None = None,
        notices: list[str] | None = None,
        cursor_blink: bool = True,
        preload: Preload | None = None,
        marks_in_child: bool = True,
    ) -> None:
        super().__init__()
        self.service = service
        # The acting person's key once the app unlocked it (signing asked for the
        # passphrase): every later commit of this session is SSH-signed with it.
        self.signer: Signer | None = None
        # A Future of the first state load, started by `launch` before Textual was imported.
        self._preload = preload
        # Told once the first state is on screen (the preload's cache writes wait for it).
        self._first_state_shown = preload.state_shown if preload is not None else None
        self.gov_state: GovernanceState | None = None
        # What the seam map draws (a MapSnapshot): from the stored one until the state loads.
        self.seam_map_data: MapSnapshot | None = None
        self.views: list[SeamView] = []
        self._view_index: dict[str, SeamView] = {}
        self.actor: Person | None = None
        self.actor_error: str | None = None
        self.repo_state: MergeState | None = None  # where the clone stands, once read
        self.cursor_blink = cursor_blink
        self.state_signal: Signal[None] = Signal(self, "state")
        self.people_signal: Signal[list[Any]] = Signal(self, "people")
        self._people: tuple[Any, list[Any]] = (None, [])
        self._people_for: Any = None
        self._initial_theme = theme or DEFAULT_THEME
        self._user_keymap = keymap or {}
        self._notices = list(notices or [])
        self.loads = 0
        self.marks_ready = False
        self._switching = False
        self._built_modes: set[str] = set()
        # (state, pages per contract, now) of the marks on screen: see load_verdict.
        self._marks_pages: tuple[Any, dict[str, Any], Any] | None = None
        # Where the seams' marks are worked out (see load_marks), and the children doing it
        # now (stopped when the app closes).
        self.marks_in_child = marks_in_child
        self.marks_timeout = MARKS_TIMEOUT
        self._marks_children: set[Any] = set()
        self.marks_error: str | None = None  # why the marks on screen are unavailable
        self._key_probe: Any = None  # benchmarks/tui_keys.py's timeline, when asked for
        self._reader: Any = None  # see reader()
        self._verdict_asked = 0

    # -- basics ---------------------------------------------------------------------------
    def get_driver_class(self) -> Any:
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:
            from workbench.tui.driver import QuickEscapeDriver

            return QuickEscapeDriver
        return driver

    @property
    def readonly(self) -> bool:
        return bool(self.service.readonly)

    @property
    def today(self) -> date:
        return self.service.now.date()

    @property
    def actor_label(self) -> str:
        return f"{self.actor.name} <{self.actor.email}>" if self.actor else "unknown person"

    def view(self, seam_id: str) -> SeamView | None:
        return self._view_index.get(seam_id)

    def on_mount(self) -> None:
        if os.environ.get("WORKBENCH_KEY_PROBE"):
            # A timeline of keys and frames for benchmarks/tui_keys.py (off by default).
            from workbench.tui import key_probe

            self._key_probe = key_probe.install(self)
        if self._initial_theme in self.available_themes:
            self.theme = self._initial_theme
        else:
            self._notices.append(f"unknown theme {self._initial_theme!r}; using {DEFAULT_THEME}")
        if self._user_keymap:
            self.set_keymap(self._user_keymap)
        self.header_info = ("", "", self.readonly, "")
        for notice in self._notices:
            self.notify(notice, severity="warning", markup=False, timeout=8)
        # The stored map is usually read long before Textual is ready: take it here, so the
        # first frame already has it, instead of a worker's message one frame later.
        preload = self._preload
        snapshot = preload.snapshot.result() if preload and preload.snapshot.done() else None
        if preload is not None and snapshot is not None:
            self.on_map_snapshot_loaded(MapSnapshotLoaded(snapshot, preload.go))
            preload.shown = True
        self.load_state()
        self.watch_collections()

    # -- workers: every service call goes through one of these ----------------------------
    def _post(self, target: MessagePump, message: Any) -> None:
        if not get_current_worker().is_cancelled:
            target.post_message(message)

    @work(thread=True, exclusive=True, exit_on_error=False, group="state", description="load")
    def load_state(self) -> None:
        from workbench.tui.preload import first_load, store_snapshot

        # The plain seam views first (milliseconds), so the first screen never waits for the
        # marks of other capabilities (signatures, reviews, violations), which follow.
        preload, self._preload = self._preload, None
        loaded = None
        if preload is not None:
            snapshot = preload.snapshot.result()
            if snapshot is not None and not preload.shown:
                self._post(self, MapSnapshotLoaded(snapshot, preload.go))
            try:
                loaded = preload.state.result()
            except Exception:  # noqa: BLE001 - load again here, so a failure is reported
                loaded = None
        if loaded is not None:
            self._post(self, StateLoaded(*loaded))
            return
        files = self.service.files()
        loaded = first_load(self.service, files)
        self._post(self, StateLoaded(*loaded))
        # So that the next start paints this map at once (see preload).
        store_snapshot(self.service, self.service.state_key(files), loaded[0], loaded[1])

    @work(thread=True, exclusive=True, exit_on_error=False, group="open", description="open")
    def load_contract_text(self, target: MessagePump, contract_id: str) -> None:
        # The head first: the text is then no older than the base a save is checked against.
        head = self.service.git.head_id()
        text = self.service.contract_text(contract_id)
        draft = self.service.drafts.load(contract_id)
        # A contract HEAD does not have yet (a new one from a template): all of it is unsaved.
        try:
            self.service.contract_text(contract_id, "HEAD")
            new = False
        except UnknownContract:
            new = True
        self._post(target, ContractTextLoaded(contract_id, text, draft, head, new))

    @work(thread=True, exclusive=True, exit_on_error=False, group="check", description="check")
    def check_contract(
        self, target: MessagePump, contract_id: str, text: str, committed: str, keep_draft: bool
    ) -> None:
        problems = self.service.check_contract_text(contract_id, text)
        saved = False
        if keep_draft:
            if text != committed:
                self.service.drafts.save(contract_id, text)
                saved = True
            elif self.service.drafts.load(contract_id) is not None:
                self.service.drafts.discard(contract_id)
        self._post(target, ContractChecked(contract_id, text, problems, saved))

    @work(
        thread=True, exclusive=False, exit_on_error=False, group="draft", description="keep draft"
    )
    def keep_draft(self, contract_id: str, text: str) -> None:
        self.service.drafts.save(contract_id, text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="draft-discard")
    def discard_draft(self, target: MessagePump, contract_id: str) -> None:
        self.service.drafts.discard(contract_id)
        self._post(target, DraftDiscarded(contract_id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff", description="diff")
    def prepare_diff(self, target: MessagePump, contract_id: str, text: str) -> None:
        self._post(
            target, DiffPrepared(contract_id, text, self.service.diff_text(contract_id, text))
        )

    @work(thread=True, exclusive=False, exit_on_error=False, group="save", description="save")
    def save_contract(
        self,
        target: MessagePump,
        contract_id: str,
        text: str,
        message: str,
        base: str | None = None,
    ) -> None:
        try:
            commit = self.service.save_contract(
                contract_id, text, message, base=base, signer=self.signer
            )
        except (WriteRefused, WriteConflict) as exc:
            # The repo is mid-merge, detached, or the file changed under us: nothing the
            # user typed is lost; it stays in the editor and as a draft across restarts.
            self.service.drafts.save(contract_id, text)
            hint = (
                "\n\nPress M to see the conflicted files side by side and commit the merge."
                if "a merge is in progress" in str(exc)
                else ""
            )
            self.call_from_thread(
                self.show_refusal, "Not saved", f"{exc}\n\nYour edit is kept as a draft.{hint}"
            )
            return
        target.post_message(ContractSaved(contract_id, commit, message))

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="structured", description="prepare"
    )
    def prepare_structured_edit(
        self, contract_id: str, path: tuple[str | int, ...], value: str
    ) -> Any:
        text = self.service.edited_contract_text(contract_id, path, value)
        diff = self.service.diff_text(contract_id, text)
        problems = [
            p for p in self.service.check_contract_text(contract_id, text) if p.severity == "error"
        ]
        self._post(self, DiffPrepared(contract_id, text, diff))
        return diff, problems

    @work(thread=True, exclusive=False, exit_on_error=False, group="save", description="save")
    def set_contract_value(
        self, contract_id: str, path: tuple[str | int, ...], value: str, message: str
    ) -> None:
        commit = self.service.set_contract_value(
            contract_id, path, value, message, signer=self.signer
        )
        self.post_message(ContractSaved(contract_id, commit, message))

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", description="history")
    def load_history(self, target: MessagePump, contract_id: str) -> None:
        self._post(target, HistoryLoaded(contract_id, self.service.history(contract_id)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff", description="diff")
    def load_diff(self, target: MessagePump, contract_id: str, old: str, new: str) -> None:
        self._post(target, DiffLoaded(contract_id, self.service.diff(contract_id, old, new)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="people", description="people")
    def load_people(self, state: Any) -> None:
        # From the state on screen: reading the working tree again would only cost time.
        self._post(self, PeopleLoaded(state, self.service.people_usage(state=state)))

    def people_usage(self) -> list[Any] | None:
        """Who owns, leads and is paged for what in the state on screen, once worked out."""
        state, usage = self._people
        return usage if state is not None and state is self.gov_state else None

    def want_people(self) -> None:
        """Work out the people usage of the state on screen, unless that is done or under
        way; `people_signal` says when it is in."""
        state = self.gov_state
        if state is not None and self._people_for is not state and self.people_usage() is None:
            self._people_for = state
            self.load_people(state)

    # -- results --------------------------------------------------------------------------
    def on_map_snapshot_loaded(self, message: MapSnapshotLoaded) -> None:
        """The map as the last session left it: paint it now, and let the state load start
        once it is on screen."""
        if self.gov_state is None:
            self.seam_map_data = message.snapshot
            self.views = message.snapshot.views
            self._view_index = {v.id: v for v in self.views}
            # A map of other bytes or of an earlier day says so until the state replaces it.
            note = message.snapshot.provisional
            self.header_info = (message.snapshot.org, "…", self.readonly, note)
            self.state_signal.publish(None)
        self.call_after_refresh(message.go.set)

    def on_state_loaded(self, message: StateLoaded) -> None:
        from workbench.governance.seams import map_snapshot

        self.gov_state = message.state
        self.marks_ready = False
        self.views = message.views
        self.seam_map_data = map_snapshot(message.state, message.views)
        self._view_index = {v.id: v for v in message.views}
        self.actor = message.actor
        first = self.loads == 0
        self.loads += 1
        if message.actor_error and (first or message.actor_error != self.actor_error):
            self.notify(
                f"Browsing only until you say who you are: {message.actor_error}",
                severity="warning",
                markup=False,
                timeout=10,
            )
        self.actor_error = message.actor_error
        org = message.state.settings.org.name if message.state.settings else "?"
        actor = f"{message.actor.name} ({message.actor.id})" if message.actor else "unknown person"
        self.header_info = (org, actor, self.readonly, "")
        self.state_signal.publish(None)
        # The marks (signatures, reviews, violations) need git and every room's rules: start
        # them once the plain map is on screen, so that they never delay its first paint.
        self.call_after_refresh(self.load_marks)
        self.call_after_refresh(self.load_repo_state)
        self._keep_out_of_collections()
        if self._first_state_shown is not None:
            self.call_after_refresh(self._first_state_shown.set)
            self._first_state_shown = None
        if first:
            self.call_after_refresh(self._home_styles_current)

    def _home_styles_current(self) -> None:
        """The home screen mounted after the start-up stylesheet pass, so Textual still
        counts it as stale and re-styles everything (~0.2 s) on the first switch back to it.
        Its widgets were styled as they mounted, from that very stylesheet: say so (a later
        theme change re-styles it as usual)."""
        if self.screen.is_mounted:
            _current_css(self.screen)

    def _marks_shown(self, views: list[SeamView]) -> None:
        from dataclasses import replace

        self.views = views
        if self.seam_map_data is not None:
            self.seam_map_data = replace(self.seam_map_data, views=views)
        self._view_index = {v.id: v for v in views}
        self.state_signal.publish(None)
        self._keep_out_of_collections()
        # Ready before the People screen is first asked for, once the marks are in.
        self.call_after_refresh(self.want_people)
        self.set_timer(PREBUILD_PAUSE, self._prebuild_next)
        self.set_timer(WARM_READER_AFTER, self._warm_reader)

    def on_unmount(self) -> None:
        # What was kept out of the collector while the app ran may be collected again.
        gc.unfreeze()
        self.stop_marks_children()
        if self._reader is not None:
            self._reader.shutdown(wait=False, cancel_futures=True)

    def on_people_loaded(self, message: PeopleLoaded) -> None:
        if message.state is self.gov_state:
            self._people = (message.state, message.usage)
            self.people_signal.publish(message.usage)

    def on_contract_saved(self, message: ContractSaved) -> None:
        self.notify(
            f"Committed {message.commit[:8]} as {self.actor_label}: {message.message}",
            title="Saved",
            markup=False,
        )
        self.load_state()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "people" and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._people_for = None  # so that the next visit asks again
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.show_error(event.worker.error, event.worker.description or event.worker.name)

    def show_error(self, exc: BaseException, doing: str = "") -> None:
        from workbench.tui.modals.error import ErrorModal

        if isinstance(exc, (WriteRefused, WriteConflict)):
            # A refused write is the repo's state (a merge under way...), not a crash.
            self.show_refusal(f"Could not {doing or 'do that'}", str(exc))
            return
        details = "".join(traceback.format_exception(exc))
        if isinstance(exc, WorkbenchError):
            # The user's to fix, not a crash: the reason and its problems, no traceback.
            title, message = f"Could not {doing or 'do that'}", str(exc)
            problems = exc.problems if isinstance(exc, InvalidEdit) else []
            details = "\n".join(p.render() for p in problems)
        else:
            title = f"Unexpected error ({doing or 'working'})"
            message = f"{type(exc).__name__}: {exc}"
        self.push_screen(ErrorModal(title, message, details))

    def show_refusal(self, title: str, reason: str) -> None:
        """A refused action (signing, registry): a plain dialog that says why, no traceback."""
        from workbench.tui.modals.error import ErrorModal

        self.push_screen(ErrorModal(title, reason))

    # -- signing, key registry, audit bundles (issue 4 and 7 screens) ------------------------
    def sign_contract(self, contract_id: str) -> None:
        from workbench.tui.modals.sign import SignModal

        if self.readonly:
            self.notify("Read-only mode: cannot sign", severity="warning")
            return
        self.push_screen(SignModal(contract_id), self._contract_signed)

    def _contract_signed(self, result: Any) -> None:
        if result is None:
            return
        verdict = result.verdict
        outcome = f"{verdict.state}: {verdict.reason}" if verdict else "signed"
        if result.already_signed:
            text = f"{result.contract_id} v{result.version} was already signed by you ({outcome})"
        else:
            commit = (result.commit or "")[:8]
            text = (
                f"Signed {result.contract_id} v{result.version} as {result.person} "
                f"(commit {commit}); verdict {outcome}"
            )
        self.notify(text, title="Signed", markup=False, timeout=8)
        self.load_state()

    def show_registry(self) -> None:
        from workbench.tui.screens.registry import RegistryScreen

        self.push_screen(RegistryScreen())

    def export_bundle(self) -> None:
        from workbench.tui.modals.export import ExportModal

        if self.readonly:
            self.notify("Read-only mode: an export records its snapshot", severity="warning")
            return
        self.push_screen(ExportModal(), self._bundle_exported)

    def _bundle_exported(self, path: Any) -> None:
        if path is not None:
            self.last_bundle = path

    def verify_bundle(self, path: Any = None) -> None:
        from workbench.tui.screens.bundle import BundleScreen

        self.push_screen(BundleScreen(path or getattr(self, "last_bundle", None)))

    # -- navigation -----------------------------------------------------------------------
    def switch_mode(self, mode: str) -> Any:
        """Textual holds every repaint for a fixed 50 ms when it switches modes (its
        `delay_update`), to hide a half-built screen. Here that is half of a keystroke's
        budget spent idle, and on a first visit the new screen's first full paint lands
        inside the hold and is thrown away, so the screen is painted twice. The screens
        here are never half-built when first painted (each fills itself on mount, from
        state already in memory), so switch without the hold."""
        self._switching = True
        try:
            return super().switch_mode(mode)
        finally:
            self._switching = False
            self._built_modes.add(mode)

    def _prebuild_next(self) -> None:
        """Build one screen the user has not visited yet behind the one on show, so that
        its first visit costs what any later switch costs (~30 ms instead of ~110 ms at
        1,000 contracts: composing, styling and filling it). One screen per idle moment,
        each ~60 ms of work, so that keys typed meanwhile still answer within 100 ms."""
        pending = [mode for mode in PREBUILT_MODES if mode not in self._built_modes]
        if not pending or not self.is_running or self.return_code is not None:
            return  # done, or the app is closing
        if len(self.screen_stack) > 1 or self.gov_state is None:
            # A dialog or the editor is open: leave it be and try again later.
            self.set_timer(1.0, self._prebuild_next)
            return
        current = self.current_mode
        with self.batch_update():
            self.switch_mode(pending[0])
            self.switch_mode(current)
        if len(pending) > 1:
            self.set_timer(PREBUILD_PAUSE, self._prebuild_next)

    def delay_update(self, delay: float = 0.05) -> None:
        if not self._switching:
            super().delay_update(delay)

    def action_show_seams(self) -> None:
        self.switch_mode("seams")

    def show_seams(self, which: str = "map-view") -> None:
        self.switch_mode("seams")
        screen = self.screen
        if isinstance(screen, SeamsScreen):
            screen.show_view(which)

    def action_show_contracts(self) -> None:
        self.switch_mode("contracts")

    def action_show_people(self) -> None:
        self.switch_mode("people")

    def action_reload(self) -> None:
        self.load_state()

    # -- quitting with q: only from a view -------------------------------------------------
    def typing(self) -> bool:
        """Whether q would be a surprise quit: a dialog is open, or a text field has focus."""
        from textual.screen import ModalScreen
        from textual.widgets import Input, TextArea

        return isinstance(self.screen, ModalScreen) or isinstance(self.focused, (Input, TextArea))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quit_view":
            return not self.typing()  # hidden: ctrl+q is shown instead
        return True

    async def action_quit_view(self) -> None:
        if not self.typing():
            await self.action_quit()

    # -- evidence, violations and obligations (screens own their workers) ----------------
    def open_screen(self, screen: Any) -> None:
        """Push `screen`, replacing one of the same kind already on top."""
        if type(self.screen) is type(screen):
            self.pop_screen()
        self.push_screen(screen)

    def action_show_violations(self, contract: str | None = None) -> None:
        from workbench.tui.screens.violations import ViolationsScreen

        self.open_screen(ViolationsScreen(contract))

    def action_evidence_console(self, contract: str | None = None) -> None:
        from workbench.tui.screens.evidence import EvidenceConsoleScreen

        self.open_screen(EvidenceConsoleScreen(contract))

    def action_show_due(self) -> None:
        from workbench.tui.screens.due import DueScreen

        self.open_screen(DueScreen())

    def show_actions(self, action_id: str | None = None) -> None:
        from workbench.tui.screens.actions import ActionsScreen

        self.open_screen(ActionsScreen(action_id))

    def show_diagnostic(self, seam: str) -> None:
        from workbench.tui.screens.diagnostic import DiagnosticScreen

        self.open_screen(DiagnosticScreen(seam))

    def show_gate(self) -> None:
        from workbench.tui.screens.gate import GateScreen

        self.open_screen(GateScreen())

    def show_report(self, which: str = "weekly") -> None:
        from workbench.tui.screens.reports import ReportsScreen

        self.open_screen(ReportsScreen(which))

    def open_seam(self, seam_id: str) -> None:
        view = self.view(seam_id)
        if self.gov_state is None:
            self.notify("Still reading the contracts: a moment…", markup=False, timeout=2)
        elif view is None:
            self.notify(f"No seam {seam_id}", severity="warning", markup=False)
        elif view.state == "conflict":
            self.action_show_conflicts(f"contracts/{seam_id}.toml")
        elif not view.governed and not self.readonly:
            from workbench.tui.modals.new_contract import new_contract

            new_contract(self, view)  # offers to govern it: a contract for these two teams
        elif not view.governed:
            self.notify(
                f"{view.provider} → {view.consumer} exchanges “{view.exchange}” with no contract: "
                "nobody owns this handshake. Add contracts/<id>.toml to govern it.",
                severity="warning",
                title="Ungoverned seam",
                markup=False,
            )
        elif self.gov_state is not None and seam_id in self.gov_state.contracts:
            from workbench.tui.screens.contracts import ContractScreen

            self.push_screen(ContractScreen(seam_id))
        else:
            self.edit_contract(seam_id)

    def edit_contract(self, contract_id: str, external: bool = False) -> None:
        from workbench.tui.screens.editor import EditorScreen

        self.push_screen(EditorScreen(contract_id, external=external))

    def show_history(self, contract_id: str) -> None:
        from workbench.tui.screens.history import HistoryScreen

        self.push_screen(HistoryScreen(contract_id))

    def external_edit(self, contract_id: str) -> None:
        self.edit_contract(contract_id, external=True)

    def action_key_help(self) -> None:
        from workbench.tui.modals.help import KeyHelpModal

        rows = []
        seen = set()
        for key, active in self.screen.active_bindings.items():
            b = active.binding
            if (b.id or b.action) in seen and not b.id:
                continue
            seen.add(b.id or b.action)
            rows.append(
                (
                    self.get_key_display(b),
                    b.description or b.action,
                    b.id or "",
                )
            )
            del key
        rows.sort(key=lambda r: (r[2] == "", r[2], r[0]))
        self.push_screen(KeyHelpModal(rows))

    # -- $EDITOR --------------------------------------------------------------------------
    def run_external_editor(self, contract_id: str, text: str) -> str | None:
        """Open `text` in $VISUAL/$EDITOR; return what the user saved (None if it failed)."""
        from textual.app import SuspendNotSupported

        command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.TemporaryDirectory(prefix="workbench-edit-") as folder:
            path = Path(folder) / f"{contract_id}.toml"
            path.write_text(text, encoding="utf-8")
            try:
                with self.suspend():
                    code = subprocess.call([*shlex.split(command), str(path)])
            except SuspendNotSupported:
                self.notify("This terminal cannot hand over to $EDITOR", severity="error")
                return None
            except OSError as exc:
                self.notify(f"Could not run {command!r}: {exc}", severity="error", markup=False)
                return None
            if code != 0:
                self.notify(
                    f"{command} exited with {code}; keeping the result anyway", markup=False
                )
            return path.read_text(encoding="utf-8")

    # -- quitting: unsaved edits become drafts ----------------------------------------------
    async def action_quit(self) -> None:
        waits = []
        # No editor module loaded means no editor was ever opened, so no unsaved edits.
        editor = sys.modules.get("workbench.tui.screens.editor")
        if editor is not None and not self.readonly:
            EditorScreen = editor.EditorScreen  # noqa: N806
            stacks = getattr(self, "_screen_stacks", {}) or {"_": self.screen_stack}
            for stack in stacks.values():
                for screen in stack:
                    if isinstance(screen, EditorScreen) and screen.loaded and screen.dirty:
                        waits.append(self.keep_draft(screen.contract_id, screen.text))
        for worker in waits:
            with contextlib.suppress(WorkerFailed):
                await worker.wait()
        self.exit(0)
