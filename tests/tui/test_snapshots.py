"""A few SVG snapshots of key screens: fixed size, theme, clock; no cursor blink."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.conftest import make_app, settle, wait_until

pytestmark = pytest.mark.snapshot
SIZE = (110, 32)


def test_seam_map(demo_repo: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot.app, pilot)

    assert snap_compare(make_app(demo_repo), terminal_size=SIZE, run_before=run_before)


def test_contract_detail_with_departed_owner(demo_repo: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await settle(app, pilot)
        app.open_seam("policy-data-to-claims-agent")
        await settle(app, pilot)
        app.screen.query_one("#contract-scroll").scroll_to(y=24, animate=False)
        await pilot.pause()

    assert snap_compare(make_app(demo_repo), terminal_size=SIZE, run_before=run_before)


def test_editor_with_an_error(demo_repo: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await settle(app, pilot)
        app.edit_contract("applicant-data-to-credit-model")
        await wait_until(pilot, lambda: getattr(app.screen, "loaded", False))
        screen = app.screen
        screen.editor.text = screen.text.replace('kind = "data-model"', 'kind = "data-modle"')
        screen.editor.cursor_location = (0, 0)
        await wait_until(pilot, lambda: screen.checked_text == screen.text and screen.problems)
        await pilot.pause()

    assert snap_compare(make_app(demo_repo), terminal_size=SIZE, run_before=run_before)
