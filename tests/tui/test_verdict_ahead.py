"""A contract's verdict, worked out ahead while the cursor rests on it, is drawn with the
contract at once; the screen still asks again and shows the fresh verdict if it differs
(issue 18: Enter settled only when the verdict landed, ~300 ms later)."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.tui.conftest import SIZE, make_app, settle, wait_until

CONTRACT = "credit-model-to-loan-decisioning"


def verdict_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#contract-verdict").render())


async def test_the_verdict_worked_out_ahead_is_drawn_at_once(demo_repo: Path) -> None:
    from workbench.tui.screens.contracts import ContractScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.marks_ready)
        await settle(app, pilot)
        app.show_seams("list-view")
        table = app.screen.query_one("#seam-table")
        assert table.move_to_key(CONTRACT)
        await wait_until(pilot, lambda: app.cached_verdict(CONTRACT) is not None)
        # The reader busy elsewhere: the screen can only show the verdict worked out ahead.
        release = threading.Event()
        app.reader().submit(release.wait, 30)
        try:
            app.open_seam(CONTRACT)
            await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
            await pilot.pause()
            ahead = verdict_text(app)
            assert "loading" not in ahead and ahead.strip()
        finally:
            release.set()
        await settle(app, pilot)
        assert verdict_text(app) == ahead  # asked again: the same verdict, drawn once


async def test_a_verdict_that_changed_meanwhile_replaces_the_one_worked_out_ahead(
    demo_repo: Path,
) -> None:
    from workbench.tui.screens.contracts import ContractScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.marks_ready)
        await settle(app, pilot)
        state = app.gov_state
        other = next(c for c in sorted(state.contracts) if c != CONTRACT)
        fresh = app.service.signing.verdict(CONTRACT)
        stale = app.service.signing.verdict(other)
        assert (stale.state, stale.reason) != (fresh.state, fresh.reason) or stale != fresh
        # What the cursor's rest had worked out is no longer what HEAD says.
        app._verdicts = {CONTRACT: (state, (stale, None, app.service.now))}
        app.open_seam(CONTRACT)
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        await settle(app, pilot)
        assert app.screen._shown[0] == fresh


async def test_a_cursor_resting_as_the_app_closes_does_not_crash_it(demo_repo: Path) -> None:
    """CI caught it once: the cursor's rest timer fired after the app had shut its reader
    down on the way out (`cannot schedule new futures after shutdown`), and the app ended
    with a traceback instead of closing."""
    from workbench.tui.marks_loading import PREFETCH_AFTER

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.marks_ready)
        await settle(app, pilot)
        app.show_seams("list-view")
        app.reader().shutdown(wait=False, cancel_futures=True)  # as on_unmount does
        assert app.cached_verdict(CONTRACT) is None
        app.query_one("#seam-table").move_to_key(CONTRACT)
        await pilot.pause(PREFETCH_AFTER * 3)
        assert app.is_running and app.cached_verdict(CONTRACT) is None
