"""Keys as docs/tui.md documents them: q quits from a view and never from a text field or a
dialog (ctrl+q does, from anywhere), g on Due is the gate, the editor's select-all and
paste of many lines, and the sign dialog's key file (the CLI's --key)."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual import events

from tests.tui.conftest import SIZE, make_app, settle, wait_until

APPLICANT = "applicant-data-to-credit-model"


def footer_keys(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    footer = app.screen.query_one("Footer")
    return {k.display: k.description for k in footer.keys}


async def test_q_quits_from_a_view_never_from_a_field_or_a_dialog(demo_repo: Path) -> None:
    from workbench.tui.modals.help import KeyHelpModal
    from workbench.tui.screens.editor import EditorScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert footer_keys(app).get("q") == "Quit"
        # In the seam filter q is a letter; the footer offers ctrl+q instead.
        await pilot.press("/", "q")
        await pilot.pause()
        assert app.is_running and app.screen.query_one("#seam-filter").value == "q"
        assert footer_keys(app).get("^q") == "Quit" and "q" not in footer_keys(app)
        await pilot.press("escape", "backspace")
        # In a dialog q does nothing, even where nothing is typed (the key list).
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, KeyHelpModal))
        app.screen.query_one("#help-table").focus()
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, KeyHelpModal)
        await pilot.press("escape")
        # In the editor q is typed; ctrl+q quits from there and keeps the edit as a draft.
        app.edit_contract(APPLICANT)
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.loaded)
        editor = app.screen
        editor.editor.cursor_location = (0, 0)
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and editor.text.startswith("q")
        assert footer_keys(app).get("^q") == "Quit"
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    assert (app.service.drafts.load(APPLICANT) or "").startswith("q")


async def test_q_from_the_seam_map_quits(demo_repo: Path) -> None:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0


async def test_g_on_due_opens_the_gate(demo_repo: Path) -> None:
    from workbench.tui.screens.due import DueScreen
    from workbench.tui.screens.gate import GateScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen))
        await settle(app, pilot)
        assert app.focused is app.screen.query_one("#due-table")  # the list has focus
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, GateScreen))


async def test_editor_select_all_and_a_paste_of_many_lines(demo_repo: Path) -> None:
    from workbench.tui.screens.editor import EditorScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.edit_contract(APPLICANT)
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.loaded)
        editor = app.screen
        original = editor.text
        await pilot.press("ctrl+a")
        assert editor.editor.selected_text == original
        # A paste (bracketed, as a terminal sends it) reaches the app as one event, newlines
        # and indentation intact, and replaces the selection.
        pasted = '# one\n# two\n  # three, indented\nid = "applicant-data-to-credit-model"\n'
        app.post_message(events.Paste(pasted))
        await wait_until(pilot, lambda: editor.text == pasted)
        await wait_until(pilot, lambda: editor.checked_text == editor.text)
        assert editor.dirty and editor.problems  # a contract of one line is not valid
        # The documented keys still work in the editor: F8 jumps to the first problem.
        await pilot.press("f8")
        assert app.screen is editor


async def test_sign_with_a_key_file_as_the_cli_key_option(demo_repo: Path, tmp_path: Path) -> None:
    """The signer's key is not where the app looks: a wrong path is refused in the dialog,
    the right one signs (the verdict, checked with the registered key, counts it)."""
    from tests.tui.test_signing_bundle import _pending
    from workbench.tui.modals.sign import SignModal

    _, stale = _pending(demo_repo)
    person = sorted(stale.required)[0]
    keys = demo_repo / ".git" / "handshake-workbench" / "demo-keys"
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for suffix in ("", ".pub"):
        shutil.move(keys / f"{person}_ed25519{suffix}", moved / f"{person}_ed25519{suffix}")
    app = make_app(demo_repo, actor=person)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        app.sign_contract(stale.contract_id)
        await wait_until(pilot, lambda: isinstance(app.screen, SignModal))
        modal = app.screen
        await wait_until(pilot, lambda: modal.subject is not None and not modal.busy)
        assert f"no key for {person}" in str(modal.query_one("#key-error").render())
        field = modal.query_one("#key-file")
        assert modal.fully_visible(field) and modal.fully_visible(modal.query_one("#sign"))
        field.value = str(moved / "missing_ed25519")
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "no such key file" in str(modal.query_one("#key-error").render())
        assert app.screen is modal
        field.value = str(moved / f"{person}_ed25519")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is not modal)
        await settle(app, pilot)
        assert any("Signed" in n.message for n in app._notifications)
    verdict = app.service.signing.verdict(stale.contract_id)
    assert person in verdict.signed
