"""Pilot tests: people, teams and new contracts from the app (issue 16), through the same
service calls as `workbench person/team/contract new`, committed as the acting person."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.tui.conftest import SIZE, make_app, screen_text, settle, wait_until

UNGOVERNED = "applicant-data->loan-decisioning"


def last_commit(repo: Path) -> str:
    return subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae>|%s"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def recent_subjects(repo: Path, n: int) -> list[str]:
    return subprocess.run(
        ["git", "log", f"-{n}", "--format=%s"], cwd=repo, capture_output=True, text=True
    ).stdout.splitlines()


def commit_count(repo: Path) -> int:
    out = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=repo, capture_output=True, text=True
    )
    return int(out.stdout)


def fresh_state(repo: Path):  # type: ignore[no-untyped-def]
    from tests.conftest import FIXED_NOW
    from workbench.service.core import Workbench

    return Workbench(repo, now=FIXED_NOW, actor="dana.okafor").state()


def form_ready(app) -> bool:  # type: ignore[no-untyped-def]
    return bool(app.screen.query("#ok"))


async def submit_form(app, pilot, values: dict[str, str]):  # type: ignore[no-untyped-def]
    """Fill the open form's fields by id and press its OK button; wait for the outcome."""
    modal = app.screen
    for field, value in values.items():
        widget = modal.query_one(f"#{field}")
        widget.value = value
    await pilot.pause()
    # Pressed, not clicked: a notification toast may lie over the button.
    modal.query_one("#ok").press()
    await pilot.pause()
    await wait_until(pilot, lambda: app.screen is not modal or not modal.busy)
    return modal


async def test_people_screen_adds_people_and_teams_and_records_leaves(demo_repo: Path) -> None:
    from workbench.tui.modals.authoring import (
        PersonAddModal,
        PersonLeaveModal,
        TeamAddModal,
        TeamLeadModal,
    )
    from workbench.tui.screens.people import PeopleScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, PeopleScreen))
        await settle(app, pilot)

        # Add a person: a bad email is refused by the registry's own validation, with its
        # file:line:column, and nothing typed is lost; fixed, it is one commit as Dana.
        before = commit_count(demo_repo)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonAddModal))
        # The acting person's team by default, as `workbench person add` does.
        assert app.screen.query_one("#person-team").value == "applicant-data"
        # Enter moves from field to field; it does not send a half-filled form.
        await pilot.press(*"grace.hopper", "enter")
        assert app.focused is app.screen.query_one("#person-name")
        modal = await submit_form(
            app, pilot, {"person-name": "Grace Hopper", "person-email": "not-an-email"}
        )
        assert app.screen is modal
        error = str(modal.query_one("#form-error").render())
        assert "keys/people.toml:" in error and "not-an-email" in error
        assert modal.query_one("#person-id").value == "grace.hopper"
        assert commit_count(demo_repo) == before
        await submit_form(app, pilot, {"person-email": "grace@meridian.example"})
        await wait_until(pilot, lambda: isinstance(app.screen, PeopleScreen))
        assert last_commit(demo_repo) == (
            "Dana Okafor <dana.okafor@meridian.example>|"
            "Add grace.hopper (Grace Hopper) to team applicant-data"
        )
        assert any("added grace.hopper" in n.message for n in app._notifications)

        # Add a team led by the new person (who moves into it in the same commit); the
        # registry version that carries it is prepared for the admins, and the app says
        # where to sign it.
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TeamAddModal))
        await submit_form(
            app,
            pilot,
            {"team-id": "pricing", "team-name": "Pricing", "team-lead": "grace.hopper"},
        )
        await wait_until(pilot, lambda: isinstance(app.screen, PeopleScreen))
        # The team commit, then the registry version prepared for the admins.
        assert recent_subjects(demo_repo, 2) == [
            "Registry v2: people and teams: team pricing led by grace.hopper",
            "Add team pricing (Pricing), led by grace.hopper",
        ]
        note = next(n.message for n in app._notifications if "added team pricing" in n.message)
        assert "registry" in note and "view: key registry" in note

        # A team's new lead must be a member: the form offers the team's members only.
        await settle(app, pilot)
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, TeamLeadModal))
        lead_form = app.screen
        lead_form.query_one("#lead-team").value = "claims-agent"
        await pilot.pause()
        offered = [value for _, value in lead_form.query_one("#lead-person")._options]
        state = app.gov_state
        assert "noah.kim" in offered and all(
            state.people[p].team == "claims-agent" for p in offered if p in state.people
        )
        await submit_form(app, pilot, {"lead-person": "noah.kim"})
        await wait_until(pilot, lambda: isinstance(app.screen, PeopleScreen))
        assert "noah.kim leads team claims-agent (was aisha.rahman)" in recent_subjects(
            demo_repo, 2
        )

        # Sam Ortiz leaves, replaced by Dana: the highlighted person, a date, a successor.
        await settle(app, pilot)
        table = app.screen.query_one("#people-table")
        assert table.move_to_key("sam.ortiz")
        await pilot.pause()
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonLeaveModal))
        leave = app.screen
        assert leave.person.id == "sam.ortiz"
        modal = await submit_form(
            app, pilot, {"leave-on": "2027-31-01", "leave-successor": "dana.okafor"}
        )
        assert "not a date" in str(modal.query_one("#form-error").render())
        await submit_form(app, pilot, {"leave-on": "2027-01-31"})
        await wait_until(pilot, lambda: isinstance(app.screen, PeopleScreen))
        assert "sam.ortiz leaves on 2027-01-31; replaced by dana.okafor" in recent_subjects(
            demo_repo, 2
        )
    state = fresh_state(demo_repo)
    assert state.people["grace.hopper"].team == "pricing"
    assert state.teams["pricing"].lead == "grace.hopper"
    assert state.teams["claims-agent"].lead == "noah.kim"
    sam = state.people["sam.ortiz"]
    assert str(sam.left) == "2027-01-31" and sam.replaced_by == "dana.okafor"
    assert not state.problems_for("keys/people.toml")
    subprocess.run(["git", "fsck", "--strict"], cwd=demo_repo, check=True, capture_output=True)


async def test_ungoverned_exchange_offers_a_contract_and_the_editor_commits_it(
    demo_repo: Path,
) -> None:
    from workbench.tui.modals.commit import CommitModal
    from workbench.tui.modals.new_contract import NewContractModal
    from workbench.tui.screens.editor import EditorScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        app.open_seam(UNGOVERNED)
        await wait_until(
            pilot, lambda: isinstance(app.screen, NewContractModal) and form_ready(app)
        )
        form = app.screen
        # Prefilled from the exchange: its two teams, its title, an id made from them.
        assert form.query_one("#new-provider").value == "applicant-data"
        assert form.query_one("#new-consumer").value == "loan-decisioning"
        assert form.query_one("#new-id").value == "applicant-data-to-loan-decisioning"
        assert "nobody owns this handshake" in screen_text(app)
        # A taken id is refused in the form, which stays open with what was chosen.
        await submit_form(app, pilot, {"new-id": "applicant-data-to-credit-model"})
        assert app.screen is form
        assert "exists already" in str(form.query_one("#form-error").render())
        await submit_form(app, pilot, {"new-id": "applicant-data-to-loan-decisioning"})
        await wait_until(
            pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.loaded, timeout=10
        )
        editor = app.screen
        await wait_until(pilot, lambda: editor.checked_text == editor.text)
        # The draft is unsaved (HEAD has no such contract), and each placeholder is listed.
        assert editor.new and editor.dirty
        placeholders = [p for p in editor.problems if p.code == "template.placeholder"]
        assert len(placeholders) == 4
        assert "owner = " in editor.text or 'owner="' in editor.text.replace(" ", "")
        # A save with placeholders left is refused (and the draft kept).
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("Not saved" in n.message for n in app._notifications))
        assert not isinstance(app.screen, CommitModal)
        # F8 jumps to the first placeholder and selects it: typing replaces it.
        editor.editor.cursor_location = (0, 0)
        await pilot.press("f8")
        assert editor.editor.selected_text == '"TODO: the upstream source"'
        await pilot.press(*'"warehouse.applicants"')
        assert 'sources = ["warehouse.applicants"]' in editor.text
        text = (
            editor.text.replace('"TODO: the upstream source"', '"warehouse.applicants"')
            .replace('"TODO: the protected-class proxy attribute, e.g. age_band"', '"age_band"')
            .replace('"TODO: a group of the attribute"', '"18-34"')
        )
        editor.editor.text = text
        await wait_until(pilot, lambda: editor.checked_text == editor.text)
        assert not [p for p in editor.problems if p.severity == "error"]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, CommitModal))
        commit = app.screen
        assert commit.query_one("#commit-message").value == (
            "Add contract applicant-data-to-loan-decisioning"
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is editor and not editor.dirty)
        await settle(app, pilot)
        view = app.view("applicant-data-to-loan-decisioning")
        assert view is not None and view.governed and view.state == "governed"
        # The exchange is governed now: the map no longer lists it as ungoverned.
        assert app.view(UNGOVERNED) is None
    assert last_commit(demo_repo) == (
        "Dana Okafor <dana.okafor@meridian.example>|Add contract applicant-data-to-loan-decisioning"
    )
    assert app.service.drafts.load("applicant-data-to-loan-decisioning") is None


async def test_new_contract_from_the_palette_and_n_on_the_map(demo_repo: Path) -> None:
    from textual.widgets import Select

    from workbench.tui.commands import workbench_commands
    from workbench.tui.modals.new_contract import NewContractModal

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        names = [name for name, _, _ in workbench_commands(app)]
        for expected in (
            "contract: new",
            f"contract: govern {UNGOVERNED}",
            "people: add person",
            "people: add team",
            "people: team lead",
            "people: record a leave",
        ):
            assert expected in names
        await pilot.press("ctrl+p")
        await pilot.press(*"contract: new")
        await wait_until(pilot, lambda: "contract: new" in screen_text(app))
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, NewContractModal) and form_ready(app)
        )
        assert app.screen.query_one("#new-provider").value is Select.NULL
        await pilot.press("escape")
        await pilot.pause()
        # N on the map, on the ungoverned exchange: the form that governs it.
        app.screen.query_one("SeamMap").select(UNGOVERNED)
        await pilot.press("N")
        await wait_until(
            pilot, lambda: isinstance(app.screen, NewContractModal) and form_ready(app)
        )
        assert app.screen.query_one("#new-consumer").value == "loan-decisioning"


async def test_readonly_offers_no_authoring(demo_repo: Path) -> None:
    from workbench.tui.screens.people import PeopleScreen

    app = make_app(demo_repo, readonly=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert app.screen.check_action("new_contract", ()) is None  # greyed
        app.open_seam(UNGOVERNED)  # explains instead of offering a contract
        await pilot.pause()
        assert any("nobody owns this handshake" in n.message for n in app._notifications)
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, PeopleScreen))
        assert app.screen.check_action("add_person", ()) is None
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PeopleScreen)
        from workbench.tui.commands import workbench_commands

        names = [name for name, _, _ in workbench_commands(app)]
        assert "contract: new" not in names and "people: add person" not in names
