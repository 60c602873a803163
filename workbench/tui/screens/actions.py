"""Post-mortem action items: the list, and an editor with the lint results inline.

Edits are linted as you type (`lint_action_text`, debounced, in a worker): a team or
placeholder owner, a missing due date or cadence, vague wording with no measurable outcome,
each with its line. Select a problem to jump to it; ctrl+s commits once nothing is wrong.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from workbench.tui import bindings
from workbench.tui.messages import ActionLinted, ActionSaved, ActionsLoaded
from workbench.tui.screens.service_screen import ServiceScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

DEBOUNCE = 0.3


class ActionsScreen(ServiceScreen):
    BINDINGS = bindings.ACTIONS
    HELP = (
        "Action items. Edit on the right; lint errors appear below as you type (F8 jumps to the "
        "next). ctrl+s commits the item once it has no errors."
    )
    DEFAULT_CSS = """
    ActionsScreen #actions-body { height: 1fr; }
    ActionsScreen #actions-table { width: 1fr; }
    ActionsScreen #action-pane { width: 2fr; border-left: solid $border-blurred; }
    ActionsScreen #action-status { height: auto; padding: 0 1; }
    ActionsScreen #action-editor { height: 1fr; }
    ActionsScreen #action-problems { height: auto; max-height: 10; border: none; }
    """

    def __init__(self, action_id: str | None = None) -> None:
        super().__init__()
        self.wanted = action_id
        self.actions: dict[str, Any] = {}
        self.texts: dict[str, str] = {}
        self.edits: dict[str, str] = {}
        self.current: str | None = None
        self.problems: list[Any] = []
        self.linted_text: str | None = None
        self._loading = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield TopBar("action items")
        with Horizontal(id="actions-body"):
            yield VirtualTable(
                [
                    Column("Action", 24),
                    Column("State", 9),
                    Column("Owner", 16),
                    Column("Due", 10),
                    Column("Lint", 6, flex=True),
                ],
                id="actions-table",
            )
            with Vertical(id="action-pane"):
                yield Static("loading…", id="action-status", markup=False)
                editor = TextArea.code_editor(
                    "", language="toml", id="action-editor", read_only=self.wb.readonly
                )
                editor.cursor_blink = self.wb.cursor_blink
                yield editor
                yield OptionList(id="action-problems")
        yield Footer()

    def state_changed(self) -> None:
        self.load_actions()

    @property
    def editor(self) -> TextArea:
        return self.query_one("#action-editor", TextArea)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="actions",
        description="load action items",
    )
    def load_actions(self) -> None:
        ob = self.obligations()
        actions = ob.actions.statuses()
        files = ob.files()
        texts = {a.id: files.get(a.path, b"").decode("utf-8", "replace") for a in actions}
        self.post_result(ActionsLoaded(actions, texts))

    @on(ActionsLoaded)
    def show_actions(self, message: ActionsLoaded) -> None:
        self.actions = {a.id: a for a in message.actions}
        self.texts = message.texts
        rows = []
        for a in message.actions:
            errors = [p for p in a.problems if p.severity == "error"]
            kind = "invalid" if a.state in ("overdue", "invalid") else ("warning" if errors else "")
            rows.append(
                Row(
                    a.id,
                    (
                        a.id,
                        a.state,
                        a.owner or "—",
                        f"{a.due:%Y-%m-%d}" if a.due else "—",
                        f"✗ {len(errors)}" if errors else "✓",
                    ),
                    kind,
                    search=f"{a.id} {a.title} {a.owner} {a.seam} {a.state}".lower(),
                )
            )
        table = self.query_one("#actions-table", VirtualTable)
        table.empty_text = "no action items (actions/*.toml)"
        table.set_rows(rows)
        if self.wanted and table.move_to_key(self.wanted):
            self.wanted = None
            self.editor.focus()
        elif not self.current and rows:
            self._open(rows[0].key)

    @on(VirtualTable.Highlighted, "#actions-table")
    def highlighted(self, event: VirtualTable.Highlighted) -> None:
        if event.key:
            self._open(event.key)

    def _open(self, action_id: str) -> None:
        if action_id == self.current:
            return
        if self.current is not None:
            self.edits[self.current] = self.editor.text
        self.current = action_id
        self._loading = True
        self.editor.load_text(self.edits.get(action_id, self.texts.get(action_id, "")))
        self._loading = False
        self._lint()

    @on(TextArea.Changed, "#action-editor")
    def text_changed(self) -> None:
        if self._loading or self.current is None:
            return
        self.query_one("#action-status", Static).update(Content.styled("linting…", "$text-muted"))
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._lint)

    def _lint(self) -> None:
        self._timer = None
        if self.current is not None:
            self.lint_action(self.current, self.editor.text)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="lint",
        description="lint the action item",
    )
    def lint_action(self, action_id: str, text: str) -> None:
        self.post_result(
            ActionLinted(action_id, text, self.obligations().actions.lint_text(action_id, text))
        )

    @on(ActionLinted)
    def show_lint(self, message: ActionLinted) -> None:
        if message.action_id != self.current or message.text != self.editor.text:
            return  # stale
        self.linted_text = message.text
        self.problems = message.problems
        options = self.query_one("#action-problems", OptionList)
        options.clear_options()
        for i, p in enumerate(message.problems):
            glyph = "✗" if p.severity == "error" else "⚠"
            options.add_option(
                Option(Content(f"{glyph} line {p.line}:{p.column}  {p.message}"), id=str(i))
            )
        errors = [p for p in message.problems if p.severity == "error"]
        a = self.actions.get(message.action_id)
        title = f"{a.title}  ·  owner {a.owner_name or a.owner or '—'}" if a else message.action_id
        dirty = message.text != self.texts.get(message.action_id)
        state = "✓ no lint errors" if not errors else f"✗ {len(errors)} lint error(s)"
        self.query_one("#action-status", Static).update(
            Content.assemble(
                (title, "bold"),
                "\n",
                (state, "$text-success" if not errors else "$text-error"),
                "  · unsaved" if dirty else "",
            )
        )

    @on(OptionList.OptionSelected, "#action-problems")
    def jump_to_problem(self, event: OptionList.OptionSelected) -> None:
        p = self.problems[int(event.option.id or 0)]
        self.jump_to(p.line, p.column)

    def jump_to(self, line: int, column: int = 1) -> None:
        self.editor.cursor_location = (max(0, line - 1), max(0, column - 1))
        self.editor.scroll_cursor_visible(center=True)
        self.editor.focus()

    def action_next_problem(self) -> None:
        if not self.problems:
            self.notify("No lint problems", markup=False)
            return
        row = self.editor.cursor_location[0] + 1
        target = ([p for p in self.problems if p.line > row] or self.problems)[0]
        self.jump_to(target.line, target.column)

    # -- saving -------------------------------------------------------------------------
    def action_save(self) -> None:
        if self.wb.readonly:
            self.notify("Read-only mode: nothing can be saved", severity="warning")
            return
        if self.current is None or self.editor.text == self.texts.get(self.current):
            self.notify("No changes to save", markup=False)
            return
        if self.linted_text == self.editor.text:
            errors = [p for p in self.problems if p.severity == "error"]
            if errors:
                self.notify(
                    f"Not saved: {len(errors)} lint error(s), first on line {errors[0].line}",
                    severity="error",
                    markup=False,
                )
                self.jump_to(errors[0].line, errors[0].column)
                return
        self.save_flow(self.current, self.editor.text)

    @work(exclusive=True, exit_on_error=False, group="save-flow", description="save")
    async def save_flow(self, action_id: str, text: str) -> None:
        from workbench.tui.modals.confirm import ConfirmModal

        ok = await self.app.push_screen_wait(
            ConfirmModal(
                f"Commit actions/{action_id}.toml?",
                f"The edited action item is committed as {self.wb.actor_label}.",
                yes="Commit",
            )
        )
        if ok:
            self.save_action(action_id, text)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="save",
        description="save the action item",
    )
    def save_action(self, action_id: str, text: str) -> None:
        commit = self.obligations().actions.save(
            action_id,
            text,
            f"Action item {action_id}: edited in the workbench",
            signer=self.wb.signer,
        )
        self.post_result(ActionSaved(action_id, commit))

    @on(ActionSaved)
    def action_saved(self, message: ActionSaved) -> None:
        self.edits.pop(message.action_id, None)
        self.notify(
            f"Committed {message.commit[:8]}: action item {message.action_id}", markup=False
        )
        self.current = None
        self.wanted = message.action_id
        self.wb.load_state()

    def action_back(self) -> None:
        if self.current is not None and self.editor.text != self.texts.get(self.current):
            self.notify("Unsaved action-item edit discarded", severity="warning", markup=False)
        self.dismiss()
