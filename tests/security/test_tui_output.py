"""Red-team class: the terminal app draws repo text as text.

The app is walked screen by screen over the hostile repo (tests/security/conftest.py).
Two oracles: every string Textual or Rich parses as markup is recorded (repo text must
never be among them: ``[@click=app.bell]`` would become a clickable action), and every
cell the app draws is read back from the compositor (no control, bidi or invisible
character may reach the terminal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.security.conftest import POLICY, A, Hostile
from tests.tui.conftest import SIZE, settle
from workbench.model import safe_text

CANARY = "[@click=app.bell]"


@pytest.fixture
def markup_parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every string parsed as markup while the test runs."""
    import rich.markup
    import textual.markup

    seen: list[str] = []
    to_content = textual.markup.to_content
    render = rich.markup.render

    def record_textual(markup: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(markup)
        return to_content(markup, *args, **kwargs)

    def record_rich(markup: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(markup)
        return render(markup, *args, **kwargs)

    monkeypatch.setattr(textual.markup, "to_content", record_textual)
    monkeypatch.setattr(rich.markup, "render", record_rich)
    return seen


def drawn_lines(app: Any) -> list[str]:
    """The characters of every cell on the screen, line by line, as the terminal gets them."""
    update = app.screen._compositor.render_full_update()
    return ["".join(segment.text for strip in line for segment in strip) for line in update.strips]


def screens(app: Any, hostile: Hostile) -> list[tuple[str, Callable[[], None]]]:
    from workbench.tui.modals import authoring

    return [
        ("seam map", lambda: app.show_seams("map-view")),
        ("seam list", lambda: app.show_seams("list-view")),
        ("contracts", app.action_show_contracts),
        ("contract", lambda: app.open_seam(A)),
        ("editor", lambda: app.edit_contract(A)),
        ("history", lambda: app.show_history(A)),
        ("people", app.action_show_people),
        ("registry", app.show_registry),
        ("violations", app.action_show_violations),
        ("evidence", app.action_evidence_console),
        ("due", app.action_show_due),
        ("actions", app.show_actions),
        ("diagnostic", lambda: app.show_diagnostic(POLICY)),
        ("gate", app.show_gate),
        ("weekly report", lambda: app.show_report("weekly")),
        ("boundary report", lambda: app.show_report("boundary")),
        ("bundle", lambda: app.verify_bundle(hostile.bundle)),
        ("sign", lambda: app.sign_contract(A)),
        ("error", lambda: app.show_refusal("Refused", f"because {hostile_name(app)}")),
        # The authoring dialogs: team and person names, an exchange's wording.
        ("new contract", lambda: app.open_seam(ungoverned(app))),
        ("person add", lambda: authoring.add_person(app)),
        ("person leaves", lambda: authoring.person_leaves(app, "dana.okafor")),
        ("team add", lambda: authoring.add_team(app)),
        ("team lead", lambda: authoring.team_lead(app, "dana.okafor")),
    ]


def ungoverned(app: Any) -> str:
    return next(v.id for v in app.views if not v.governed)


def hostile_name(app: Any) -> str:
    # Names are validated as one visible line; a role is free text a member can commit.
    return app.gov_state.people["dana.okafor"].role


async def test_tui_does_not_parse_repo_text_as_markup(
    hostile: Hostile, markup_parsed: list[str]
) -> None:
    from textual.content import Content

    Content.from_markup("[b]recorder check[/b]")
    assert markup_parsed == ["[b]recorder check[/b]"], "the recorder is live"
    # At the real clock, like the hostile repo's records (made by the CLI at the real time):
    # at the fixed test clock a registration made later did not exist yet, and its finding's
    # evidence would not load.
    from workbench.service.core import Workbench
    from workbench.tui.app import WorkbenchApp

    app = WorkbenchApp(
        Workbench(hostile.root, actor="dana.okafor"), cursor_blink=False, theme="textual-dark"
    )
    offences: list[str] = []
    shown: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for name, open_screen in screens(app, hostile):
            open_screen()
            await settle(app, pilot)
            await pilot.pause()
            text = "".join(drawn_lines(app))
            bad = sorted({safe_text.visible(c) for c in text if safe_text.is_unsafe(c)})
            if bad:
                offences.append(f"{name}: draws {', '.join(bad)}")
            if "]8;;http://e.vil" in text:
                shown.append(name)
            while len(app.screen_stack) > 1:
                app.pop_screen()
                await pilot.pause()
    parsed = [m for m in markup_parsed if "e.vil" in m or CANARY in m]
    assert not parsed, f"repo text parsed as markup: {parsed[:3]}"
    assert not offences, "\n".join(offences)
    # The hostile text was on these screens (so the checks above could fail). The gate
    # screen and the seam list draw people's and teams' names, which validation now keeps
    # to one visible line (tests/core/test_validation.py).
    assert {"contract", "history", "people", "violations", "error", "new contract"} <= set(shown), (
        shown
    )
