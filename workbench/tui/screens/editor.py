"""The contract editor: TOML with highlighting, validation as you type, drafts, save + commit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from workbench.tui import bindings
from workbench.tui.messages import (
    ContractChecked,
    ContractSaved,
    ContractTextLoaded,
    DiffPrepared,
)
from workbench.tui.screens.base import BaseScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar

if TYPE_CHECKING:
    from workbench.model.problems import Problem

DEBOUNCE = 0.3


class EditorScreen(BaseScreen):
    AUTO_FOCUS = "#editor"
    BINDINGS = bindings.EDITOR
    HELP = (
        "Edit the contract TOML. Problems appear on the right as you type; select one to jump to "
        "its line. An unsaved edit is kept as a draft. ctrl+s shows the diff and commits."
    )

    def __init__(self, contract_id: str, *, external: bool = False) -> None:
        super().__init__()
        self.contract_id = contract_id
        self.committed: str | None = None
        # The commit the text was opened at (then: this editor's last commit). A save is
        # refused if someone else changed the contract since (see Workbench.commit).
        self.opened_at: str | None = None
        self.problems: list[Problem] = []
        self.checked_text: str | None = None
        self.loaded = False
        self.save_requested = False
        self.saving = False
        self.open_external = external
        self.new = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield TopBar(f"edit {self.contract_id}")
        with Horizontal(id="editor-body"):
            editor = TextArea.code_editor(
                "", language="toml", id="editor", read_only=self.wb.readonly
            )
            editor.cursor_blink = self.wb.cursor_blink
            yield editor
            with Vertical(id="problems-pane"):
                yield Static("loading…", id="editor-status", markup=False)
                yield OptionList(id="problem-list")
        yield Footer()

    def on_mount(self) -> None:
        self.wb.load_contract_text(self, self.contract_id)

    @property
    def editor(self) -> TextArea:
        return self.query_one("#editor", TextArea)

    @property
    def text(self) -> str:
        return self.editor.text

    @property
    def dirty(self) -> bool:
        return self.committed is not None and self.text != self.committed

    # -- loading, drafts ----------------------------------------------------------------
    @on(ContractTextLoaded)
    def contract_loaded(self, message: ContractTextLoaded) -> None:
        # A new contract (written from a template, not committed yet) is all unsaved: the
        # editor compares with what HEAD has, which is nothing.
        self.new = message.new
        self.committed = "" if message.new else message.text
        self.opened_at = message.head
        if message.draft is not None and message.draft != message.text:
            from workbench.tui.modals.draft import DraftModal

            def chosen(choice: str | None) -> None:
                if choice == "discard":
                    self.wb.discard_draft(self, self.contract_id)
                    self._show(message.text)
                else:
                    self._show(message.draft or message.text)
                    self.notify("Restored your draft (not yet saved)", markup=False)

            self.app.push_screen(DraftModal(self.contract_id), chosen)
        else:
            self._show(message.text)

    def _show(self, text: str) -> None:
        self.editor.load_text(text)
        self.loaded = True
        self.editor.focus()
        self._validate()
        if self.open_external:
            self.open_external = False
            self.call_after_refresh(self.action_external_editor)

    # -- validation as you type -------------------------------------------------------
    @on(TextArea.Changed, "#editor")
    def text_changed(self) -> None:
        if not self.loaded:
            return
        self._set_status(Content.styled("checking…", "$text-muted"))
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._validate)

    def _validate(self) -> None:
        self._timer = None
        if self.committed is None:
            return
        keep_draft = not self.wb.readonly
        self.wb.check_contract(self, self.contract_id, self.text, self.committed, keep_draft)

    @on(ContractChecked)
    def show_problems(self, message: ContractChecked) -> None:
        if message.text != self.text:
            return  # stale: the text changed since; a newer check is on its way
        self.checked_text = message.text
        self.problems = message.problems
        errors = [p for p in message.problems if p.severity == "error"]
        options = self.query_one("#problem-list", OptionList)
        options.clear_options()
        for i, p in enumerate(message.problems):
            glyph = "✗" if p.severity == "error" else "⚠"
            options.add_option(
                Option(Content(f"{glyph} line {p.line}:{p.column}  {p.message}"), id=str(i))
            )
        state = "✓ valid" if not errors else f"✗ {len(errors)} error(s)"
        draft = "  · draft kept" if message.draft_saved and self.dirty else ""
        unsaved = "  · unsaved" if self.dirty else ""
        style = "$text-success" if not errors else "$text-error"
        self._set_status(Content.assemble((state, style), unsaved, draft))
        if self.save_requested:
            self.save_requested = False
            self._continue_save()

    def _set_status(self, content: Content) -> None:
        self.query_one("#editor-status", Static).update(content)

    @on(OptionList.OptionSelected, "#problem-list")
    def jump_to_problem(self, event: OptionList.OptionSelected) -> None:
        problem = self.problems[int(event.option.id or 0)]
        self.jump_to(problem.line, problem.column)

    def jump_to(self, line: int, column: int = 1) -> None:
        editor = self.editor
        # Focus first, and at once (`focus()` waits a message): the keys right after F8,
        # such as shift+End to select the value, are the editor's.
        self.set_focus(editor, scroll_visible=False)
        editor.cursor_location = (max(0, line - 1), max(0, column - 1))
        editor.scroll_cursor_visible(center=True)

    def action_select_all(self) -> None:
        self.editor.select_all()

    def action_next_problem(self) -> None:
        if not self.problems:
            self.notify("No problems", markup=False)
            return
        row = self.editor.cursor_location[0] + 1
        after = [p for p in self.problems if p.line > row]
        target = (after or self.problems)[0]
        self.jump_to(target.line, target.column)
        if target.code == "template.placeholder":
            self.select_placeholder(target.line)

    def select_placeholder(self, line: int) -> None:
        """Select the template's `"TODO: …"` string on `line`, quotes included, so what
        the user types (or pastes) next replaces it."""
        from textual.widgets.text_area import Selection

        from workbench.model.templates import PLACEHOLDER_PREFIX

        row = line - 1
        text = self.editor.document.get_line(row)
        start = text.find(f'"{PLACEHOLDER_PREFIX}')
        end = text.find('"', start + 1) if start >= 0 else -1
        if start >= 0 and end > start:
            self.editor.selection = Selection((row, start), (row, end + 1))

    # -- saving -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("save", "external_editor") and self.wb.readonly:
            return None
        return True

    def action_save(self) -> None:
        if self.wb.readonly:
            self.notify("Read-only mode: nothing can be saved", severity="warning")
            return
        if not self.dirty:
            self.notify("No changes to save", markup=False)
            return
        self.save_requested = True
        if self._timer is not None:
            self._timer.stop()
        self._validate()

    def _continue_save(self) -> None:
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            first = errors[0]
            self.notify(
                f"Not saved: {len(errors)} error(s), first on line {first.line}. "
                "Your edit is kept as a draft.",
                severity="error",
                markup=False,
            )
            self.jump_to(first.line, first.column)
            return
        self.wb.prepare_diff(self, self.contract_id, self.text)

    @on(DiffPrepared)
    def ask_message(self, message: DiffPrepared) -> None:
        from workbench.tui.modals.commit import CommitModal

        if message.text != self.text:
            return
        if not message.diff.text:
            self.notify("No changes to save", markup=False)
            return

        def commit(msg: str | None) -> None:
            if msg:
                self.saving = True
                self.wb.save_contract(self, self.contract_id, message.text, msg, self.opened_at)

        self.app.push_screen(
            CommitModal(
                f"Commit {self.contract_id} as {self.wb.actor_label}",
                message.diff.text,
                message.diff.comparison.lines(),
                f"Add contract {self.contract_id}"
                if self.new
                else _default_message(message.diff.comparison.lines()),
            ),
            commit,
        )

    @on(ContractSaved)
    def saved(self, message: ContractSaved) -> None:
        self.saving = False
        if message.contract_id == self.contract_id:
            self.new = False
            self.committed = self.text
            self.opened_at = message.commit
            self._validate()

    # -- leaving, $EDITOR ---------------------------------------------------------------
    def action_back(self) -> None:
        if self.dirty and not self.wb.readonly:
            self.wb.keep_draft(self.contract_id, self.text)
            self.notify("Your unsaved edit is kept as a draft", markup=False)
        self.dismiss()

    def action_external_editor(self) -> None:
        if self.wb.readonly:
            return
        result = self.wb.run_external_editor(self.contract_id, self.text)
        if result is not None and result != self.text:
            self.editor.load_text(result)
            self._validate()
            self.notify("Loaded your $EDITOR changes; checking them…", markup=False)


def _default_message(summary: list[str]) -> str:
    if len(summary) == 1:
        return summary[0][:72]
    return ""
