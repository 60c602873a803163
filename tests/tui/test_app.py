"""Pilot tests for every flow of the terminal app: state and messages first."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.tui.conftest import SIZE, dialog_message, make_app, screen_text, settle, wait_until

APPLICANT = "applicant-data-to-credit-model"
POLICY = "policy-data-to-claims-agent"


def static_text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector).render())


# -- shell -------------------------------------------------------------------------------------
async def test_header_shows_org_and_acting_person(demo_repo: Path) -> None:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "Meridian Financial Group" in text
        assert "as Dana Okafor (dana.okafor)" in text
        assert "Quit" in text and "Commands" in text  # contextual footer


async def test_unknown_actor_still_browses_with_a_warning(demo_repo: Path) -> None:
    import pygit2

    # The demo's clone acts as Dana (git user.email); a clone without an identity:
    del pygit2.Repository(str(demo_repo)).config["user.email"]
    app = make_app(demo_repo, actor=None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert app.actor is None and app.actor_error
        assert any("who you are" in n.message for n in app._notifications)
        assert "unknown person" in screen_text(app)


async def test_key_help_lists_binding_ids(demo_repo: Path) -> None:
    from workbench.tui.modals.help import KeyHelpModal

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, KeyHelpModal)
        ids = {row[2] for row in app.screen.rows}
        assert {"seams.toggle-view", "app.quit", "app.people"} <= ids
        await pilot.press(*"people")
        await pilot.pause()
        assert app.screen.query_one("#help-table").row_count >= 1
        await pilot.press("escape")
        assert not isinstance(app.screen, KeyHelpModal)


async def test_keymap_file_remaps_a_binding(demo_repo: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from workbench.tui.screens.people import PeopleScreen

    config = tmp_path / "xdg"
    (config / "handshake-workbench").mkdir(parents=True)
    (config / "handshake-workbench" / "keymap.toml").write_text(
        '[keys]\n"app.people" = "p"\n"nope.nothing" = "x"\n', encoding="utf-8"
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    from tests.conftest import FIXED_NOW
    from workbench.service.core import Workbench
    from workbench.tui.launch import build_app

    app = build_app(Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor"), cursor_blink=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert any("nope.nothing" in n.message for n in app._notifications)
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, PeopleScreen)


async def test_command_palette_opens_a_seam(demo_repo: Path) -> None:
    from workbench.tui.screens.contracts import ContractScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*f"seam: open {POLICY}")
        await wait_until(pilot, lambda: "seam: open" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        assert app.screen.contract_id == POLICY


def test_palette_commands_are_namespaced(demo_repo: Path) -> None:
    from workbench.tui.commands import workbench_commands

    app = make_app(demo_repo)
    from workbench.governance.seams import seam_views

    app.views = seam_views(app.service.state(), app.today)
    names = [name for name, _, _ in workbench_commands(app)]
    for expected in (
        f"seam: open {APPLICANT}",
        f"contract: edit {APPLICANT}",
        f"contract: history {APPLICANT}",
        "view: people",
        "theme: ansi-dark",
        "theme: textual-light",
    ):
        assert expected in names
    assert all(":" in n for n in names)


@pytest.mark.parametrize("theme", ["textual-light", "ansi-dark", "ansi-light"])
async def test_themes_render(demo_repo: Path, theme: str) -> None:
    app = make_app(demo_repo, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.theme == theme
        assert "Handshake Workbench" in screen_text(app)


async def test_worker_error_becomes_an_error_dialog(demo_repo: Path) -> None:
    from workbench.tui.modals.error import ErrorModal

    app = make_app(demo_repo)

    def broken(contract_id: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire [red]not markup[/red]")

    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.service.history = broken
        app.show_history(APPLICANT)
        message = await dialog_message(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorModal)
        assert "RuntimeError: disk on fire [red]not markup[/red]" in message
        assert "Traceback" in modal.query_one("#error-details").text
        await pilot.press("escape")
        assert app.is_running


# -- seam map and list ---------------------------------------------------------------------------
async def test_seam_map_draws_the_chain_with_states(demo_repo: Path) -> None:
    from workbench.tui.widgets.seam_map import SeamMap

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        seam_map = app.screen.query_one(SeamMap)
        text = seam_map.canvas.text()
        for team in ("Applicant Data", "Credit Risk Modelling", "Loan Decisioning", "Fair Lending"):
            assert team in text
        assert re.search(r"✓ data-model( \+\d+)? ─*▶", text)
        assert re.search(r"✓ product-compliance( \+\d+)? ─*▶", text)
        assert "? no contract" in text and "╌" in text  # ungoverned: dashed
        assert "✗ data-model" in text  # the departed owner
        assert "Teams with no seams: Engineering Leadership" in text
        # The chain reads left to right.
        row = next(line for line in text.splitlines() if "Applicant Data" in line)
        assert row.index("Applicant") < row.index("Credit Risk") < row.index("Loan Decisioning")


async def test_map_selection_moves_and_opens_the_contract(demo_repo: Path) -> None:
    from workbench.tui.screens.contracts import ContractScreen
    from workbench.tui.widgets.seam_map import SeamMap

    app = make_app(demo_repo)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(app, pilot)
        seam_map = app.screen.query_one(SeamMap)
        order = seam_map.canvas.order
        assert seam_map.selected == order[0]
        await pilot.press("down")
        assert seam_map.selected == order[1]
        assert any(isinstance(m, SeamMap.SeamHighlighted) and m.seam == order[1] for m in messages)
        seam_map.select(POLICY)
        await pilot.pause()
        assert "owner departed" in static_text(app, "#seam-details")
        assert "marcus.webb" in static_text(app, "#seam-details")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        assert app.screen.contract_id == POLICY


async def test_seam_list_filters(demo_repo: Path) -> None:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        table = app.screen.query_one("#seam-table")
        assert table.has_focus and table.row_count == 6
        await pilot.press("slash", *"departed")
        await pilot.pause()
        assert table.visible_keys == [POLICY]
        assert "1 of 6 seams" in static_text(app, "#seam-count")
        await pilot.press("enter", "enter")
        await wait_until(pilot, lambda: getattr(app.screen, "contract_id", None) == POLICY)


async def test_ten_thousand_rows_stay_responsive() -> None:
    from textual.app import App

    from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

    class Big(App):
        def compose(self):  # type: ignore[no-untyped-def]
            yield VirtualTable([Column("Seam", 30), Column("State", 20, flex=True)], id="t")

    app = Big()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        rows = [
            Row(f"s{i}", (f"seam-{i:05d}", "governed" if i % 7 else "ungoverned"))
            for i in range(10_000)
        ]
        # Responsiveness is measured in benchmarks/tui_startup.py; here, what makes it
        # hold: only the rows in view are ever drawn, whatever the table holds.
        drawn: list[int] = []
        body_line = table._body_line

        def counting(index: int) -> tuple[str, str]:
            drawn.append(index)
            return body_line(index)

        table._body_line = counting  # type: ignore[method-assign]
        table.set_rows(rows)
        table.focus()
        await pilot.pause()
        await pilot.press("end", "up", "pagedown", "home")
        await pilot.pause()
        assert table.cursor == 0
        table.set_filter("ungoverned")
        await pilot.pause()
        assert table.row_count == len([r for r in rows if "ungoverned" in r.cells[1]])
        # Four screens' worth of moves and a filter: a few hundred lines drawn, not 10,000.
        assert 0 < len(drawn) < 24 * 12, len(drawn)
        assert max(drawn) == 9_999  # `end` drew the last row


# -- contracts ---------------------------------------------------------------------------------
async def test_contracts_search_and_detail(demo_repo: Path) -> None:
    from workbench.tui.screens.contracts import ContractScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        table = app.screen.query_one("#contract-table")
        assert table.row_count == 5
        await pilot.press("slash", *"freshness policy")
        await pilot.pause()
        assert table.visible_keys == [POLICY]
        await pilot.press("enter", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        detail = static_text(app, "#contract-detail")
        for part in (
            "Parties",
            "Escalation path",
            "Change protocol",
            "Review cadence",
            "Terms (",
            "threshold",
            "includes",
        ):
            assert part in detail
        assert "Marcus Webb (marcus.webb) LEFT 2026-11-23 → replaced by yuki.tanaka" in detail
        await pilot.press("escape")
        assert not isinstance(app.screen, ContractScreen)


async def test_contract_text_is_never_markup(demo_repo: Path) -> None:
    path = demo_repo / "contracts" / f"{APPLICANT}.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            'title = "Applicant data → credit-risk model"', 'title = "Seam [b]x[/b] [link]"'
        ),
        encoding="utf-8",
    )
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_seam(APPLICANT)
        await settle(app, pilot)
        assert "Seam [b]x[/b] [link]" in static_text(app, "#contract-detail")


# -- editor ------------------------------------------------------------------------------------
async def open_editor(app, pilot, contract_id: str = APPLICANT):  # type: ignore[no-untyped-def]
    from workbench.tui.screens.editor import EditorScreen

    app.edit_contract(contract_id)
    await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.loaded)
    await wait_until(pilot, lambda: app.screen.checked_text == app.screen.text)
    return app.screen


async def test_editor_highlights_toml(demo_repo: Path) -> None:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        editor = await open_editor(app, pilot)
        area = editor.editor
        assert area.language == "toml"
        assert area._highlight_query is not None  # textual[syntax] is installed


async def test_validation_as_you_type_lists_errors_and_jumps(demo_repo: Path) -> None:
    from workbench.tui.messages import ContractChecked

    app = make_app(demo_repo)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(app, pilot)
        editor = await open_editor(app, pilot)
        area = editor.editor
        area.cursor_location = (6, 0)  # line 7: owner = "dana.okafor"
        await pilot.press("end", *'x"')
        await wait_until(pilot, lambda: editor.checked_text == editor.text)
        checks = [m for m in messages if isinstance(m, ContractChecked)]
        assert len(checks) <= 3  # debounced: not one check per key
        assert editor.problems and editor.problems[0].line == 7
        assert "error" in str(editor.query_one("#editor-status").render())
        area.cursor_location = (0, 0)
        options = editor.query_one("#problem-list")
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        assert area.cursor_location[0] == 6 and area.has_focus


async def test_invalid_edit_is_a_draft_never_the_contract(demo_repo: Path) -> None:
    from workbench.tui.modals.draft import DraftModal

    path = demo_repo / "contracts" / f"{APPLICANT}.toml"
    before = path.read_bytes()
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        editor = await open_editor(app, pilot)
        editor.editor.cursor_location = (6, 0)
        await pilot.press("end", *" broken")
        await wait_until(pilot, lambda: editor.checked_text == editor.text and editor.problems)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("Not saved" in n.message for n in app._notifications))
        assert app.service.drafts.load(APPLICANT) == editor.text
        await pilot.press("ctrl+q")  # quitting keeps it
    assert path.read_bytes() == before

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.edit_contract(APPLICANT)
        await wait_until(pilot, lambda: isinstance(app.screen, DraftModal))
        await pilot.press("r")
        await wait_until(pilot, lambda: getattr(app.screen, "loaded", False))
        assert "broken" in app.screen.text


async def test_discarding_a_draft_asks_first(demo_repo: Path) -> None:
    from workbench.service.core import Workbench
    from workbench.tui.modals.confirm import ConfirmModal
    from workbench.tui.modals.draft import DraftModal

    Workbench(demo_repo).drafts.save(APPLICANT, "id = 'half-typed")
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.edit_contract(APPLICANT)
        await wait_until(pilot, lambda: isinstance(app.screen, DraftModal))
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        assert app.screen.focused.id == "no"  # cancel is focused
        await pilot.press("enter")  # Enter on the focused Cancel does not discard
        assert isinstance(app.screen, DraftModal)
        assert app.service.drafts.load(APPLICANT) is not None
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: app.service.drafts.load(APPLICANT) is None)
        await wait_until(pilot, lambda: getattr(app.screen, "loaded", False))
        assert app.screen.text == app.screen.committed


async def test_save_shows_diff_asks_message_and_commits_as_actor(demo_repo: Path) -> None:
    from workbench.tui.messages import ContractSaved
    from workbench.tui.modals.commit import CommitModal

    app = make_app(demo_repo)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append, notifications=True) as pilot:
        await settle(app, pilot)
        editor = await open_editor(app, pilot)
        editor.editor.text = editor.text.replace('fail_after = "PT24H"', 'fail_after = "PT20H"')
        await wait_until(pilot, lambda: editor.checked_text == editor.text)
        assert not [p for p in editor.problems if p.severity == "error"]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, CommitModal))
        modal = app.screen
        assert '+fail_after = "PT20H"' in str(modal.query_one("#commit-diff-text").render())
        assert "fail_after: PT24H → PT20H" in str(modal.query_one("#commit-summary").render())
        modal.query_one("#commit-message").value = ""
        await pilot.press(*"Tighten freshness to 20h", "enter")
        await wait_until(pilot, lambda: any(isinstance(m, ContractSaved) for m in messages))
        saved = next(m for m in messages if isinstance(m, ContractSaved))
        assert any(saved.commit[:8] in n.message for n in app._notifications)
        assert editor.committed == editor.text
    log = subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae>|%s"], cwd=demo_repo, capture_output=True, text=True
    ).stdout.strip()
    assert log == "Dana Okafor <dana.okafor@meridian.example>|Tighten freshness to 20h"
    assert app.service.drafts.load(APPLICANT) is None


async def test_external_editor_result_is_validated_and_kept(demo_repo: Path) -> None:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        editor = await open_editor(app, pilot)
        calls = []

        def fake_editor(contract_id: str, text: str) -> str:
            calls.append(contract_id)
            return text.replace('kind = "data-model"', 'kind = "data-modle"')

        app.run_external_editor = fake_editor
        await pilot.press("f4")
        await wait_until(pilot, lambda: editor.checked_text == editor.text and editor.problems)
        assert calls == [APPLICANT]
        assert "data-modle" in app.service.drafts.load(APPLICANT)


# -- structured edit: people picker ----------------------------------------------------------------
async def test_people_picker_replaces_a_departed_term_owner(demo_repo: Path) -> None:
    from workbench.tui.messages import ContractSaved
    from workbench.tui.modals.commit import CommitModal
    from workbench.tui.modals.pickers import PickerModal

    app = make_app(demo_repo)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(app, pilot)
        assert app.view(POLICY).state == "owner-departed"
        app.open_seam(POLICY)
        await settle(app, pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerModal))
        await pilot.press(*"marcus")
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PickerModal) and "New" in app.screen.title_text
        )
        offered = [c.key for c in app.screen.choices]
        assert offered[0] == "yuki.tanaka"  # the named replacement comes first
        assert "marcus.webb" not in offered  # departed people are never offered
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CommitModal))
        await pilot.press("enter")  # the default message
        await wait_until(pilot, lambda: any(isinstance(m, ContractSaved) for m in messages))
        await wait_until(pilot, lambda: app.view(POLICY).state == "governed")
    assert 'owner = "yuki.tanaka"' in (demo_repo / "contracts" / f"{POLICY}.toml").read_text()


# -- footer -----------------------------------------------------------------------------------
async def test_footer_shows_the_keys_of_where_you_are_and_clicks_press_them(
    demo_repo: Path,
) -> None:
    from workbench.tui.modals.help import KeyHelpModal
    from workbench.tui.widgets.footer import Footer

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        footer = app.screen.query_one(Footer)
        shown = {k.display: k.description for k in footer.keys}
        assert shown["v"] == "Map/List" and shown["?"] == "Keys" and shown["q"] == "Quit"
        assert footer.palette is not None and footer.palette.display == "^p"
        # In the filter box "?" is typed text: the help key is shown as f1 instead.
        await pilot.press("/")
        await pilot.pause()
        assert "f1" in {k.display for k in footer.keys} and "?" not in {
            k.display for k in footer.keys
        }
        await pilot.press("escape")
        await pilot.pause()
        # A click on a key presses it; the key under the mouse says what it does.
        start = next(x for x, _, key in footer._spans if key.description == "Keys")
        await pilot.hover(Footer, offset=(start + 1, 0))
        assert footer.tooltip == "Show the keys"
        await pilot.click(Footer, offset=(start + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, KeyHelpModal)


async def test_footer_greys_a_key_that_does_nothing_here_and_a_click_does_nothing(
    demo_repo: Path,
) -> None:
    from workbench.tui.widgets.footer import Footer

    app = make_app(demo_repo, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        editor = await open_editor(app, pilot)
        footer = editor.query_one(Footer)
        save = next(k for k in footer.keys if k.description == "Save")
        assert not save.enabled
        start = next(x for x, _, key in footer._spans if key == save)
        before = editor.text
        await pilot.click(Footer, offset=(start + 1, 0))
        await pilot.pause()
        assert app.screen is editor and editor.text == before
        assert "Save" in screen_text(app).splitlines()[-1]


# -- read-only ------------------------------------------------------------------------------------
async def test_readonly_blocks_edits_in_ui_and_service(demo_repo: Path) -> None:
    from workbench.service.errors import ReadOnlyError

    app = make_app(demo_repo, readonly=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert "READ-ONLY" in screen_text(app)
        editor = await open_editor(app, pilot)
        assert editor.editor.read_only
        assert editor.check_action("save", ()) is None  # greyed in the footer
        with pytest.raises(ReadOnlyError):
            app.service.save_contract(APPLICANT, editor.text + "\n# x\n", "nope")


# -- history -------------------------------------------------------------------------------------
async def test_history_lists_commits_and_diffs_versions(demo_repo: Path) -> None:
    from workbench.tui.messages import DiffLoaded
    from workbench.tui.screens.history import HistoryScreen

    app = make_app(demo_repo)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(app, pilot)
        app.open_seam(APPLICANT)
        await settle(app, pilot)
        await pilot.press("H")
        await wait_until(
            pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.commits
        )
        screen = app.screen
        summaries = [c.summary for c in screen.commits]
        assert "Tighten the feature freshness SLA from 48h to 24h" in summaries
        assert all(c.author_name for c in screen.commits)
        target = next(c for c in screen.commits if c.summary.startswith("Tighten"))
        screen.query_one("#history-table").move_to_key(target.id)
        await wait_until(pilot, lambda: "PT48H → PT24H" in static_text(app, "#diff-summary"))
        # Mark the oldest version as base and compare it with the newest.
        table = screen.query_one("#history-table")
        await pilot.press("end", "space", "home")
        await wait_until(
            pilot,
            lambda: (
                screen.shown == (screen.commits[-1].id, screen.commits[0].id)
                and any(
                    isinstance(m, DiffLoaded) and m.diff.old_rev == screen.commits[-1].id
                    for m in messages
                )
            ),
        )
        assert table.cursor_key == screen.commits[0].id


# -- people ---------------------------------------------------------------------------------------
async def test_people_registry_highlights_departed(demo_repo: Path) -> None:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await wait_until(pilot, lambda: getattr(app.screen, "usage", None))
        table = app.screen.query_one("#people-table")
        kinds = {r.key: r.kind for r in table._rows}
        assert kinds["marcus.webb"] == "departed" and kinds["dana.okafor"] == ""
        table.move_to_key("marcus.webb")
        await pilot.pause()
        detail = static_text(app, "#person-detail")
        assert "LEFT on 2026-11-23; replaced by yuki.tanaka" in detail
        assert (
            "policy-data-to-claims-agent · term policy-lineage owner" in detail
            or "Owns (1)" in detail
        )
        table.move_to_key("priya.nair")
        await pilot.pause()
        assert "Paged for (2)" in static_text(app, "#person-detail")


async def test_people_are_asked_for_again_after_a_failed_load(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.service.core as core
    from workbench.tui.modals.error import ErrorModal

    real, calls = core.people_usage, []

    def flaky(state, today):  # type: ignore[no-untyped-def]
        calls.append(today)
        if len(calls) == 1:
            raise OSError("the registry could not be read")
        return real(state, today)

    monkeypatch.setattr(core, "people_usage", flaky)
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorModal))
        app.pop_screen()
        await pilot.pause()
        assert app.people_usage() is None
        await pilot.press("3")
        await wait_until(pilot, lambda: app.people_usage() is not None)
        assert len(calls) == 2 and "marcus.webb" in app.screen.usage


def test_people_usage_from_the_service(demo_repo: Path) -> None:
    from tests.conftest import FIXED_NOW
    from workbench.service.core import Workbench

    usage = {u.person.id: u for u in Workbench(demo_repo, now=FIXED_NOW).people_usage()}
    assert usage["marcus.webb"].departed
    assert usage["marcus.webb"].owns == ["policy-data-to-claims-agent · term policy-lineage"]
    assert usage["dana.okafor"].owns[0] == APPLICANT
    assert "team applicant-data" in usage["dana.okafor"].leads
    assert usage["priya.nair"].paged_for == [
        "credit-model-to-loan-decisioning (primary)",
        "loan-decisioning-to-fair-lending (primary)",
    ]


# -- small screens, launch --------------------------------------------------------------------------
async def test_usable_at_80x24(demo_repo: Path) -> None:
    from workbench.tui.screens.editor import EditorScreen

    app = make_app(demo_repo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for key in ("2", "3", "1"):
            await pilot.press(key)
            await settle(app, pilot)
            assert "Quit" in screen_text(app)
        await open_editor(app, pilot)
        assert isinstance(app.screen, EditorScreen)
        footer = app.screen.query_one("Footer")
        assert footer.region.y == 23 and footer.region.width == 80
        assert any(b.binding.id == "editor.save" for b in app.screen.active_bindings.values())
        assert app.screen.query_one("#editor").size.width >= 40


async def test_at_80_columns_the_header_and_footer_keep_what_matters(demo_repo: Path) -> None:
    from workbench.tui.screens.contracts import ContractScreen

    app = make_app(demo_repo, readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.open_seam(APPLICANT)
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        await settle(app, pilot)
        lines = screen_text(app).splitlines()
        # The header drops the app's name and the organisation before where you are, who
        # you act as and the READ-ONLY badge.
        assert "READ-ONLY" in lines[0] and f"contract {APPLICANT}" in lines[0]
        assert "as Dana Okafor" in lines[0] and "Handshake Workbench" not in lines[0]
        # The footer drops keys from the end of the others, never back, help or quit.
        assert all(word in lines[-1] for word in ("Back", "Keys", "Quit", "Edit"))
        assert "Sign" not in lines[-1]
    app = make_app(demo_repo)
    async with app.run_test(size=(160, 24)) as pilot:
        await settle(app, pilot)
        header = screen_text(app).splitlines()[0]
        assert "Handshake Workbench" in header and "Meridian Financial Group" in header


def test_launch_outside_a_repo_explains(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from workbench.tui.launch import run

    monkeypatch.chdir(tmp_path)
    code = run(argparse.Namespace(repo=None, actor=None, now=None, readonly=False))
    err = capsys.readouterr().err
    assert code == 2
    assert "workbench init DIR" in err and "workbench demo" in err
    assert "Traceback" not in err


# --- the first screen from the stored seam map ---------------------------------------------


async def _poll(pilot, predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Like wait_until, without waiting for workers (the state load is held on purpose)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.02)


def _map_stored(repo: Path, now=FIXED_NOW):  # type: ignore[no-untyped-def]
    """Wait for a start's cache writes, which follow its first screen: the map of the
    repo's current bytes, as checked on `now`'s day, is stored."""
    from workbench.service.core import Workbench
    from workbench.tui import preload

    service = Workbench(repo, now=now)
    key = service.state_key(service.files())
    deadline = time.monotonic() + 30
    while getattr(preload.stored_snapshot(service, key), "provisional", None) != "":
        assert time.monotonic() < deadline, "the seam map was never stored"
        time.sleep(0.02)


def _started(repo: Path, now=FIXED_NOW):  # type: ignore[no-untyped-def]
    """The app as `workbench` starts it: the state load began before the app."""
    from workbench.service.core import Workbench
    from workbench.tui import preload
    from workbench.tui.app import WorkbenchApp

    service = Workbench(repo, now=now, actor="dana.okafor")
    return WorkbenchApp(
        service, theme="textual-dark", cursor_blink=False, preload=preload.start(service)
    )


async def test_the_map_is_painted_from_the_stored_snapshot_before_the_state(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.tui import preload

    # A first session stores the map for these bytes.
    app = _started(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.gov_state is not None and app.marks_ready)
    _map_stored(demo_repo)
    # The next one paints it before the contracts are read; the state follows on its own.
    release = threading.Event()
    real = preload.first_load
    monkeypatch.setattr(preload, "first_load", lambda *a: release.wait(10) and real(*a))
    app = _started(demo_repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _poll(pilot, lambda: app.seam_map_data is not None)
        assert app.gov_state is None
        text = screen_text(app)
        assert app.seam_map_data.org in text
        assert {v.id for v in app.views} >= {"credit-model-to-loan-decisioning"}
        assert "as …" in text
        await pilot.press("enter")  # opening a contract waits for the contracts
        await _poll(pilot, lambda: any("Still reading" in n.message for n in app._notifications))
        release.set()
        await wait_until(pilot, lambda: app.gov_state is not None)
        assert "Dana Okafor" in screen_text(app)


def test_a_first_start_writes_the_clone_cache_after_its_first_screen(demo_repo: Path) -> None:
    # Pickling the checked state, the parsed TOML and the map took ~0.25 s of a first start
    # in a clone, before anything was on screen.
    from workbench.repo import cache_store
    from workbench.service import map_store
    from workbench.service.core import Workbench
    from workbench.tui import preload

    # (The parsed-TOML store is held back too, but this process may have parsed these files
    # already, in which case it has nothing new to write.)
    stores = ("state-worktree", map_store.STORE)
    shutil.rmtree(cache_store.cache_dir(demo_repo), ignore_errors=True)  # as in a fresh clone
    service = Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor")
    started = preload.start(service)
    state, views, actor, error = started.state.result(timeout=30)
    assert actor is not None and actor.id == "dana.okafor" and error is None
    assert not any(cache_store.store_path(demo_repo, name).exists() for name in (*stores, "toml"))
    started.state_shown.set()  # what the app says once it has drawn that state
    deadline = time.monotonic() + 30
    while not all(cache_store.store_path(demo_repo, name).exists() for name in stores):
        assert time.monotonic() < deadline, "the cache was never written"
        time.sleep(0.02)
    # Closing the app right after its first screen still lets them happen (finish).
    shutil.rmtree(cache_store.cache_dir(demo_repo), ignore_errors=True)
    quick = preload.start(Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor"))
    quick.state.result(timeout=30)
    quick.finish(timeout=30)
    assert all(cache_store.store_path(demo_repo, name).exists() for name in stores)
    # The next start reads back what was written: the same state, and the map at once.
    again = preload.start(Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor"))
    assert again.snapshot.result(timeout=30) is not None
    assert set(again.state.result(timeout=30)[0].contracts) == set(state.contracts)
    again.state_shown.set()


async def test_the_first_start_of_a_day_paints_the_last_map_and_says_of_when(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from workbench.tui import preload

    app = _started(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.gov_state is not None)
    _map_stored(demo_repo)
    # The next morning: the same bytes, checked yesterday. Painted at once, marked as such.
    tomorrow = FIXED_NOW + timedelta(days=1)
    release = threading.Event()
    real = preload.first_load
    monkeypatch.setattr(preload, "first_load", lambda *a: release.wait(10) and real(*a))
    app = _started(demo_repo, now=tomorrow)
    async with app.run_test(size=SIZE) as pilot:
        await _poll(pilot, lambda: app.seam_map_data is not None)
        assert app.gov_state is None and app.seam_map_data.day == FIXED_NOW.date().isoformat()
        assert f"map of {FIXED_NOW.date().isoformat()}" in screen_text(app)
        release.set()
        await wait_until(pilot, lambda: app.gov_state is not None)
        text = screen_text(app)
        assert "map of" not in text and "Dana Okafor" in text
    # Today's map replaces yesterday's for the next start.
    _map_stored(demo_repo, now=tomorrow)


async def test_a_map_of_other_bytes_is_shown_marked_until_the_state_replaces_it(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.tui import preload

    app = _started(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.gov_state is not None)
    _map_stored(demo_repo)
    # A change from outside the app (a pull): the stored map is of other bytes.
    path = demo_repo / "contracts/credit-model-to-loan-decisioning.toml"
    path.write_text(path.read_text().replace('title = "', 'title = "Renamed: ', 1))
    release = threading.Event()
    real = preload.first_load
    monkeypatch.setattr(preload, "first_load", lambda *a: release.wait(10) and real(*a))
    app = _started(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await _poll(pilot, lambda: app.seam_map_data is not None)
        assert app.gov_state is None
        titles = {v.id: v.title for v in app.views}
        assert not titles["credit-model-to-loan-decisioning"].startswith("Renamed: ")
        assert "map before the latest changes" in screen_text(app).splitlines()[0]
        release.set()
        await wait_until(pilot, lambda: app.gov_state is not None)
        titles = {v.id: v.title for v in app.views}
        assert titles["credit-model-to-loan-decisioning"].startswith("Renamed: ")
        assert "map before" not in screen_text(app).splitlines()[0]
    _map_stored(demo_repo)  # the renamed map replaces the old one


def test_reading_the_stored_map_needs_neither_pydantic_nor_git(demo_repo: Path) -> None:
    import subprocess
    import sys

    from workbench.service.core import Workbench
    from workbench.tui import preload

    service = Workbench(demo_repo, now=FIXED_NOW)
    files = service.files()
    state = service.state(files=files)
    from workbench.governance.seams import seam_views

    preload.store_snapshot(
        service, service.state_key(files), state, seam_views(state, FIXED_NOW.date())
    )
    script = (
        "import sys\n"
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "from workbench.service.core import Workbench\n"
        "from workbench.tui import preload\n"
        f"wb = Workbench(Path({str(demo_repo)!r}), now=datetime.fromisoformat({FIXED_NOW.isoformat()!r}))\n"
        "snap = preload.stored_snapshot(wb, wb.state_key(wb.files()))\n"
        "assert snap is not None and snap.views, 'no snapshot'\n"
        "heavy = [m for m in ('pydantic', 'pygit2', 'textual') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_a_first_visit_after_a_theme_change_uses_the_new_theme(demo_repo: Path) -> None:
    # The first visit of Contracts/People skips Textual's full stylesheet pass (see
    # app._current_css); a theme chosen before that visit must still apply to them.
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.theme = "textual-light"
        await pilot.pause()
        home = app.screen.styles.background
        for key in ("2", "3"):
            await pilot.press(key)
            await settle(app, pilot)
            assert app.screen.styles.background == home


def _colours(screen) -> list[tuple[object, object]]:  # type: ignore[no-untyped-def]
    return [(w.styles.color, w.styles.background) for w in screen.query("*")]


async def test_a_later_visit_after_a_theme_change_uses_the_new_theme(demo_repo: Path) -> None:
    # A mode switch skips Textual's re-styling of the resumed screen (BaseScreen.post_message);
    # a theme changed while the screen was hidden must still reach it.
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for theme in ("textual-light", "textual-dark", "ansi-light"):
            for key in ("2", "3", "1"):
                await pilot.press(key)
                await pilot.pause()
            app.theme = theme
            await pilot.pause()
            home = app.screen.styles.background
            for key in ("2", "3"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen.styles.background == home, (theme, key)
                # What Textual's skipped pass would have computed: nothing differs.
                shown = _colours(app.screen)
                app.screen.update_node_styles(animate=False)
                assert shown == _colours(app.screen), (theme, key)
            # A screen shown for the first time skips the pass too (styled as it mounted).
            await pilot.press("2", "enter")
            await settle(app, pilot)
            assert type(app.screen).__name__ == "ContractScreen"
            shown = _colours(app.screen)
            app.screen.update_node_styles(animate=False)
            assert shown == _colours(app.screen)
            await pilot.press("escape")
            await pilot.press("1")


async def test_screens_are_built_behind_the_map_before_their_first_visit(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first visit that composes and fills a screen took ~110 ms at 1,000 contracts; built
    # behind the map once it is complete, the visit costs what any later switch costs.
    from workbench.tui.screens.contracts import ContractsScreen
    from workbench.tui.screens.people import PeopleScreen
    from workbench.tui.screens.seams import SeamsScreen

    composed: list[tuple[str, str]] = []
    app = make_app(demo_repo)
    for cls in (ContractsScreen, PeopleScreen):
        original = cls.compose

        def compose(self, original=original):  # type: ignore[no-untyped-def]
            composed.append((type(self).__name__, type(app.screen).__name__))
            return original(self)

        monkeypatch.setattr(cls, "compose", compose)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        focused = app.focused
        await wait_until(pilot, lambda: len(composed) == 2)
        # Built while the map stayed on screen, with the focus where the user left it.
        assert composed == [
            ("ContractsScreen", "SeamsScreen"),
            ("PeopleScreen", "SeamsScreen"),
        ]
        assert isinstance(app.screen, SeamsScreen) and app.focused is focused
        await pilot.press("2")
        assert isinstance(app.screen, ContractsScreen)
        assert app.screen.query_one("#contract-table").row_count == len(app.gov_state.contracts)
        await pilot.press("3")
        assert isinstance(app.screen, PeopleScreen)
        assert "marcus.webb" in app.screen.usage
        assert len(composed) == 2  # visiting built nothing new


async def test_people_are_worked_out_before_the_first_visit(demo_repo: Path) -> None:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_until(pilot, lambda: app.people_usage() is not None)
        usage = {u.person.id: u for u in app.people_usage()}
        assert usage["marcus.webb"].departed
        before = app.gov_state
        contract = next((demo_repo / "contracts").rglob("*.toml"))
        contract.write_text(contract.read_text(encoding="utf-8") + "\n# reviewed\n", "utf-8")
        app.action_reload()
        await wait_until(pilot, lambda: app.gov_state is not before and app.marks_ready)
        # A new state is never shown with the people of the old one.
        await wait_until(pilot, lambda: app.people_usage() is not None)
        assert app.people_usage() is not usage
        await pilot.press("3")
        # Drawn from what is already worked out: rows and the detail of the first person.
        table = app.screen.query_one("#people-table")
        assert table.row_count == len(app.gov_state.people)
        assert "Owns" in static_text(app, "#person-detail")


async def test_the_loaded_state_stays_out_of_collections_while_the_app_runs(
    demo_repo: Path,
) -> None:
    import gc

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert gc.get_freeze_count() > 0
    # Everything kept out is collectable again once the app has closed.
    assert gc.get_freeze_count() == 0
