"""Every user action as a Binding with an id ("area.verb"), so users can remap it.

Remap keys in `$XDG_CONFIG_HOME/handshake-workbench/keymap.toml`:

    [keys]
    "contract.edit" = "e,f4"
    "app.people" = "ctrl+u"

Unknown ids are reported; keys are applied with `App.set_keymap`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from textual.binding import Binding, BindingType

APP: list[BindingType] = [
    Binding("question_mark,f1", "key_help", "Keys", id="app.help", tooltip="Show the keys"),
    Binding("ctrl+p", "command_palette", "Commands", id="app.palette", show=False),
    Binding("1", "show_seams", "Seams", id="app.seams", tooltip="The seam map", show=False),
    Binding("2", "show_contracts", "Contracts", id="app.contracts", show=False),
    Binding("3", "show_people", "People", id="app.people", show=False),
    Binding("ctrl+r", "reload", "Reload", id="app.reload", show=False),
    Binding("V", "show_violations", "Violations", id="app.violations", show=False),
    Binding("D", "show_due", "Due", id="app.due", show=False),
    Binding("S", "sync", "Sync", id="app.sync", tooltip="Fetch, verify, merge, push", show=False),
    Binding("M", "show_conflicts", "Conflicts", id="app.conflicts", show=False),
    # q quits from a view; in a text field it is a letter and in a dialog it does nothing,
    # so it never quits by surprise (WorkbenchApp.check_action). ctrl+q quits from anywhere.
    Binding("q", "quit_view", "Quit", id="app.quit", tooltip="Quit (ctrl+q in a text field)"),
    Binding(
        "ctrl+q",
        "quit",
        "Quit",
        id="app.quit-anywhere",
        priority=True,
        tooltip="Quit from anywhere, text fields included",
    ),
]

SEAMS: list[BindingType] = [
    Binding("v", "toggle_view", "Map/List", id="seams.toggle-view"),
    Binding("slash", "filter", "Filter", id="seams.filter"),
    Binding("enter", "open_seam", "Open", id="seams.open"),
    Binding(
        "N",
        "new_contract",
        "New contract",
        id="seams.new-contract",
        tooltip="A contract from a seam template (on an ungoverned exchange: govern it)",
    ),
]

SEAM_MAP: list[BindingType] = [
    Binding("down,j", "next_seam", "Next", id="seam-map.next", show=False),
    Binding("up,k", "previous_seam", "Previous", id="seam-map.previous", show=False),
    Binding("right,l", "scroll_right", "Right", id="seam-map.right", show=False),
    Binding("left,h", "scroll_left", "Left", id="seam-map.left", show=False),
    Binding("enter", "select", "Open", id="seam-map.open", show=False),
]

LIST: list[BindingType] = [
    Binding("down,j", "cursor_down", "Down", id="list.down", show=False),
    Binding("up,k", "cursor_up", "Up", id="list.up", show=False),
    Binding("pagedown", "page_down", "Page down", id="list.page-down", show=False),
    Binding("pageup", "page_up", "Page up", id="list.page-up", show=False),
    Binding("home,g", "first", "First", id="list.first", show=False),
    Binding("end,G", "last", "Last", id="list.last", show=False),
    Binding("enter", "select", "Open", id="list.open", show=False),
]

CONTRACTS: list[BindingType] = [
    Binding("slash", "filter", "Search", id="contracts.search"),
    Binding("enter", "open_contract", "Open", id="contracts.open"),
    Binding("e", "edit_contract", "Edit", id="contracts.edit"),
    Binding("N", "new_contract", "New contract", id="contracts.new"),
]

CONTRACT: list[BindingType] = [
    Binding("e", "edit", "Edit", id="contract.edit"),
    Binding("o", "change_person", "Change person", id="contract.change-person"),
    Binding("E", "external_editor", "$EDITOR", id="contract.external-editor"),
    Binding("H", "history", "History", id="contract.history"),
    Binding("s", "sign", "Sign", id="sign.contract", tooltip="Co-sign this contract"),
    Binding("escape", "back", "Back", id="contract.back"),
]

EDITOR: list[BindingType] = [
    Binding("ctrl+s,f2", "save", "Save", id="editor.save", priority=True),
    Binding("f8", "next_problem", "Next error", id="editor.next-problem", priority=True),
    Binding("f4", "external_editor", "$EDITOR", id="editor.external-editor", priority=True),
    Binding("escape", "back", "Back", id="editor.back", priority=True),
    # The select-all of every other editor (TextArea's own is F7; Home goes to line start).
    Binding(
        "ctrl+a", "select_all", "Select all", id="editor.select-all", priority=True, show=False
    ),
]

HISTORY: list[BindingType] = [
    Binding("space", "mark", "Mark base", id="history.mark"),
    Binding("enter", "diff", "Diff", id="history.diff"),
    Binding("escape", "back", "Back", id="history.back"),
]

PEOPLE: list[BindingType] = [
    Binding("slash", "filter", "Filter", id="people.filter"),
    Binding("a", "add_person", "Add person", id="people.add-person"),
    Binding("l", "person_leaves", "Leaves", id="people.leave", tooltip="Record a leave"),
    Binding("t", "add_team", "Add team", id="people.add-team"),
    Binding("L", "team_lead", "Team lead", id="people.team-lead", tooltip="Name a new lead"),
    Binding("escape", "back", "Back", id="people.back", show=False),
]

CONFIRM: list[BindingType] = [
    Binding("y", "confirm", "Yes", id="confirm.yes"),
    Binding("n,escape", "cancel", "No", id="confirm.no"),
]

SIGN: list[BindingType] = [
    Binding("escape", "cancel", "Cancel", id="sign.cancel"),
    Binding("ctrl+g", "toggle_agent", "ssh-agent", id="sign.agent", show=False),
]

REGISTRY: list[BindingType] = [
    Binding("s", "sign_pending", "Sign pending version", id="registry.sign"),
    Binding("escape", "back", "Back", id="registry.back"),
]

EXPORT: list[BindingType] = [
    Binding("escape", "cancel", "Cancel", id="bundle.export-cancel"),
]

BUNDLE: list[BindingType] = [
    Binding("ctrl+o", "verify", "Verify", id="bundle.verify"),
    Binding("escape", "back", "Back / cancel", id="bundle.back"),
]

VIOLATIONS: list[BindingType] = [
    Binding("c", "resolve", "Resolve", id="violations.resolve", tooltip="Close as resolved"),
    Binding("x", "exempt", "Exempt", id="violations.exempt", tooltip="Accept under an exemption"),
    Binding("o", "toggle_open", "Open only", id="violations.open-only"),
    Binding("n", "next_view", "Next rows", id="violations.next-view"),
    Binding("s", "console", "SQL console", id="violations.console"),
    Binding("escape", "back", "Back", id="violations.back"),
]

EVIDENCE: list[BindingType] = [
    Binding("f5", "run", "Run", id="evidence.run", priority=True),
    Binding("escape", "cancel", "Cancel/Back", id="evidence.cancel", priority=True),
    Binding("ctrl+l", "edit_sql", "Edit SQL", id="evidence.edit-sql", priority=True),
]

DUE: list[BindingType] = [
    Binding("enter", "act", "Do it", id="due.act", tooltip="Review, acknowledge, open"),
    Binding("a", "actions", "Action items", id="due.actions"),
    Binding("i", "diagnose", "Diagnostic", id="due.diagnose"),
    # Above the list's own `g` (first row): on Due, g is the gate, as docs/tui.md says.
    Binding("g", "gate", "Gate", id="due.gate", priority=True),
    Binding("w", "weekly", "Weekly report", id="due.weekly"),
    Binding("b", "boundary", "Boundary report", id="due.boundary"),
    Binding("escape", "back", "Back", id="due.back"),
]

ACTIONS: list[BindingType] = [
    Binding("ctrl+s,f2", "save", "Save", id="actions.save", priority=True),
    Binding("f8", "next_problem", "Next error", id="actions.next-problem", priority=True),
    Binding("escape", "back", "Back", id="actions.back", priority=True),
]

DIAGNOSE: list[BindingType] = [
    Binding("ctrl+s,f2", "save", "Save answers", id="diagnose.save", priority=True),
    Binding("escape", "back", "Back", id="diagnose.back", priority=True),
]

GATE: list[BindingType] = [
    Binding("f", "failures", "Failures only", id="gate.failures"),
    Binding("ctrl+r", "rerun", "Re-run", id="gate.rerun"),
    Binding("escape", "back", "Back", id="gate.back"),
]

REPORTS: list[BindingType] = [
    Binding("w", "weekly", "Weekly", id="reports.weekly"),
    Binding("b", "boundary", "Boundary", id="reports.boundary"),
    Binding("r", "receive", "Sign as received", id="reports.receive"),
    Binding("escape", "back", "Back", id="reports.back"),
]

SYNC: list[BindingType] = [
    Binding("escape", "cancel", "Cancel / close", id="sync.cancel"),
]

CONFLICT: list[BindingType] = [
    Binding("ctrl+s,f2", "commit", "Commit resolution", id="conflict.commit", priority=True),
    Binding("f6", "take_ours", "Take ours", id="conflict.take-ours", priority=True),
    Binding("f7", "take_theirs", "Take theirs", id="conflict.take-theirs", priority=True),
    Binding("escape", "back", "Back", id="conflict.back", priority=True),
]

# Every constant holds Binding objects only (each needs an id to be remappable); the
# constants are typed as Textual's BINDINGS are, so a screen can use them as they are.
ALL: list[Binding] = [
    b
    for group in (
        APP,
        SEAMS,
        SEAM_MAP,
        LIST,
        CONTRACTS,
        CONTRACT,
        EDITOR,
        HISTORY,
        PEOPLE,
        CONFIRM,
        SIGN,
        REGISTRY,
        EXPORT,
        BUNDLE,
        VIOLATIONS,
        EVIDENCE,
        DUE,
        ACTIONS,
        DIAGNOSE,
        GATE,
        REPORTS,
        SYNC,
        CONFLICT,
    )
    for b in group
    if isinstance(b, Binding)
]
KNOWN_IDS = {b.id for b in ALL if b.id}


def config_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "handshake-workbench"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The user's keymap and any warnings about it (never raises: a bad file is reported)."""
    path = path or config_dir() / "keymap.toml"
    if not path.is_file():
        return {}, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"{path}: ignored ({exc})"]
    table = data.get("keys", data)
    keymap: dict[str, str] = {}
    warnings: list[str] = []
    for binding_id, keys in table.items():
        if binding_id not in KNOWN_IDS:
            warnings.append(f"{path}: unknown binding id {binding_id!r}")
        elif not isinstance(keys, str) or not keys.strip():
            warnings.append(f'{path}: {binding_id!r} needs keys as a string, e.g. "e,f4"')
        else:
            keymap[binding_id] = keys.strip()
    return keymap, warnings
