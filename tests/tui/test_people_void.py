"""The app's home screen says when keys/people.toml does not validate (docs/signing.md,
"When keys/people.toml does not validate"): a problem row at the top of the seam map and
list, in safe text, naming the file, line and column, the entry that voids the file and
what that costs; gone once the file validates. Real demo repo, Textual pilot."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.security.writers import git
from tests.tui.conftest import SIZE, make_app, screen_text, settle, wait_until

HOSTILE = r'name = "Dana <root@evil> Okafor\nSigned-off-by: x\u001b[2J"'


def break_people(repo: Path) -> tuple[int, int]:
    """Dana's name made one git cannot author, committed by plain git (as a pull brings
    it). Returns (line, index of her entry)."""
    people = repo / "keys/people.toml"
    index = next(
        i
        for i, p in enumerate(tomllib.loads(people.read_text())["people"])
        if p["id"] == "dana.okafor"
    )
    lines = people.read_text().splitlines(keepends=True)
    at = next(i for i, text in enumerate(lines) if text.startswith('name = "Dana Okafor"'))
    lines[at] = HOSTILE + "\n"
    people.write_text("".join(lines))
    git(repo, "commit", "-qam", "Rename Dana")
    return at + 1, index


def _problem(app) -> object:  # type: ignore[no-untyped-def]
    from textual.widgets import Static

    return app.screen.query_one("#home-problem", Static)


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_home_screen_names_the_line_that_voids_people_toml(
    demo_repo: Path, size: tuple[int, int]
) -> None:
    line, index = break_people(demo_repo)
    app = make_app(demo_repo)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        row = _problem(app)
        await wait_until(pilot, lambda: row.display)  # type: ignore[attr-defined]
        text = str(row.render())  # type: ignore[attr-defined]
        assert f"keys/people.toml:{line}:1" in text, text
        assert f"people[{index}] (id 'dana.okafor')" in text and "voids it" in text, text
        assert "nobody in it counts" in text and "no one can act, sign" in text, text
        assert "\x1b" not in text
        # Seen on the screen itself, in the terminal's size: the row is not scrolled away.
        region = row.region  # type: ignore[attr-defined]
        assert region.height >= 2 and region.y + region.height <= size[1], region
        shown = screen_text(app)
        assert "keys/people.toml" in shown and "\x1b" not in shown, shown
        # The list view (v) shows it as well: the row is above both views.
        await pilot.press("v")
        await settle(app, pilot)
        assert row.display and row.region.height >= 2  # type: ignore[attr-defined]


async def test_home_screen_has_no_problem_row_when_people_toml_validates(
    demo_repo: Path,
) -> None:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert not _problem(app).display  # type: ignore[attr-defined]
