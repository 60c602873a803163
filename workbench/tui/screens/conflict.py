"""A conflicted file after a merge: our version and theirs side by side, and the resolution
(the working-tree file, markers and all, to edit). ctrl+s commits it as the merge commit
once no conflict is left (`wb.conflicts.resolve`); F6/F7 take one side whole.

Refusals (a marker left, a contract that does not validate, no merge in progress, a
rebase rather than a merge) are shown with what to do; the text stays in the editor.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static, TextArea

from workbench.service.errors import InvalidEdit, WorkbenchError
from workbench.tui import bindings
from workbench.tui.messages import ConflictLoaded, ConflictResolved
from workbench.tui.screens.base import BaseScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar


class ConflictScreen(BaseScreen):
    BINDINGS = bindings.CONFLICT
    HELP = (
        "Both versions of a file a merge could not combine. Edit the resolution below (or F6 "
        "ours, F7 theirs), then ctrl+s: it is committed as the merge commit once no conflict "
        "is left. Sync (S) afterwards to push it."
    )

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.conflict: Any = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield TopBar("resolve a merge conflict")
        with Vertical(id="conflict-body"):
            yield Static("loading…", id="conflict-title", markup=False)
            with Horizontal(id="conflict-sides"):
                with Vertical(classes="conflict-side"):
                    yield Label("ours", id="conflict-ours-label", markup=False)
                    yield TextArea("", id="conflict-ours", read_only=True)
                with Vertical(classes="conflict-side"):
                    yield Label("theirs", id="conflict-theirs-label", markup=False)
                    yield TextArea("", id="conflict-theirs", read_only=True)
            yield Label(
                "resolution (ctrl+s commits it as the merge · F6 take ours · F7 take theirs)",
                id="conflict-result-label",
            )
            result = TextArea.code_editor("", id="conflict-result", read_only=self.wb.readonly)
            result.cursor_blink = self.wb.cursor_blink
            yield result
            yield Static("", id="conflict-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="conflict", description="load")
    def load(self) -> None:
        svc = self.wb.service.conflicts
        path = self.path
        try:
            if path is None:
                listed = svc.conflicted()
                if not listed:
                    self.post_message(ConflictLoaded("", None, "no unresolved conflict here"))
                    return
                path = listed[0]
            self.post_message(ConflictLoaded(path, svc.file(path)))
        except WorkbenchError as exc:
            self.post_message(ConflictLoaded(path or "", None, str(exc)))

    def on_conflict_loaded(self, message: ConflictLoaded) -> None:
        if message.conflict is None:
            self.wb.notify(message.error or "nothing to resolve", markup=False)
            self.dismiss_screen()
            return
        c = message.conflict
        self.path, self.conflict = message.path, c
        regions = len(c.hunks)
        self.query_one("#conflict-title", Static).update(
            f"{c.path}: {regions} conflicted region(s) — both sides changed it"
        )
        self.query_one("#conflict-ours-label", Label).update(f"ours: {c.ours_label}")
        self.query_one("#conflict-theirs-label", Label).update(f"theirs: {c.theirs_label}")
        ours = self.query_one("#conflict-ours", TextArea)
        theirs = self.query_one("#conflict-theirs", TextArea)
        result = self.query_one("#conflict-result", TextArea)
        ours.load_text(c.ours)
        theirs.load_text(c.theirs)
        result.load_text(c.text)
        # Each pane opens where the two sides first differ (the conflict), not at the top.
        first = _first_difference(c.ours, c.theirs)
        places = [(ours, first), (theirs, first)]
        if c.hunks:
            places.append((result, c.hunks[0].start - 1))
        for area, line in places:
            area.cursor_location = (line, 0)
        self.call_after_refresh(self._show_cursors, [area for area, _ in places])
        result.focus()

    def _show_cursors(self, areas: list[TextArea]) -> None:
        for area in areas:
            area.scroll_cursor_visible(center=True, animate=False)

    def action_take_ours(self) -> None:
        if self.conflict is not None:
            self.query_one("#conflict-result", TextArea).load_text(self.conflict.ours)

    def action_take_theirs(self) -> None:
        if self.conflict is not None:
            self.query_one("#conflict-result", TextArea).load_text(self.conflict.theirs)

    def action_commit(self) -> None:
        if self.conflict is None or self.busy:
            return
        if self.wb.readonly:
            self.wb.notify("Read-only mode: nothing is committed", severity="warning")
            return
        self.busy = True
        self.query_one("#conflict-status", Static).update("committing…")
        self.commit(self.conflict.path, self.query_one("#conflict-result", TextArea).text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="conflict-commit")
    def commit(self, path: str, text: str) -> None:
        try:
            resolution = self.wb.service.conflicts.resolve(path, text, signer=self.wb.signer)
        except InvalidEdit as exc:
            lines = [str(exc), *(f"line {p.line}: {p.message}" for p in exc.problems)]
            self.app.call_from_thread(self._refused, "\n".join(lines), None)
            return
        except WorkbenchError as exc:
            self.app.call_from_thread(self._refused, str(exc), exc)
            return
        self.post_message(ConflictResolved(resolution))

    def _refused(self, text: str, exc: Exception | None) -> None:
        self.busy = False
        self.query_one("#conflict-status", Static).update(text)
        if exc is not None:
            self.wb.show_refusal("Not committed", f"{exc}\n\nYour resolution stays in the editor.")

    def on_conflict_resolved(self, message: ConflictResolved) -> None:
        self.busy = False
        r = message.resolution
        if r.commit:
            self.wb.notify(
                f"Committed the merge {r.commit[:8]} as {self.wb.actor_label}. Sync (S) to push it.",
                title="Merge committed",
                markup=False,
                timeout=10,
            )
            self.wb.load_state()
            self.dismiss_screen()
            return
        self.wb.notify(
            f"{r.path} resolved and staged; {len(r.left)} file(s) still conflicted: "
            + ", ".join(r.left[:3]),
            markup=False,
        )
        self.path = r.left[0] if r.left else None
        self.load()

    def dismiss_screen(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    def action_back(self) -> None:
        self.dismiss_screen()


def _first_difference(a: str, b: str) -> int:
    """The 0-based line where `a` and `b` first differ (0 when they do not)."""
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False)):
        if x != y:
            return i
    return 0
