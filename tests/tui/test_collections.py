"""Garbage that something else froze is collected once the app is idle (issue 18).

`repo/cache_store.py` froze the collector's generations after every read, in whatever
thread read; in the long-lived app every closed screen still waiting for a collection at
that moment then stayed in memory for good. A read now freezes only inside a one-shot
command (`cache_store.one_shot_process`); the app still collects whatever else froze."""

from __future__ import annotations

import gc
import time
import weakref
from pathlib import Path

from tests.tui.conftest import SIZE, make_app, settle, wait_until


async def test_closed_screens_a_cache_read_froze_are_collected_when_idle(demo_repo: Path) -> None:
    from workbench.repo import cache_store
    from workbench.repo.git import _HISTORY_STORE
    from workbench.tui.screens.contracts import ContractScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        first = sorted(app.gov_state.contracts)[0]
        refs = []
        gc.disable()  # the closed screens stay garbage until the cache read below
        try:
            for _ in range(3):
                app.open_seam(first)
                await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
                refs.append(weakref.ref(app.screen))
                await settle(app, pilot)
                await pilot.press("escape")
                await wait_until(pilot, lambda: not isinstance(app.screen, ContractScreen))
            await settle(app, pilot)
            frozen = gc.get_freeze_count()
            # A read of the clone's cache in the app, as a worker's state load makes it,
            # freezes nothing.
            assert cache_store.read(demo_repo, _HISTORY_STORE) is not None
            # At most equal: reference counting may free a frozen object meanwhile (a
            # read that froze would add the whole history store).
            assert gc.get_freeze_count() <= frozen
            # Something else that freezes (here the same read as a one-shot command makes
            # it) is still collected once the app is idle.
            with cache_store.one_shot_process():
                assert cache_store.read(demo_repo, _HISTORY_STORE) is not None
            assert gc.get_freeze_count() > frozen, "the read froze nothing: nothing tested"
        finally:
            gc.enable()
        gc.collect()
        assert any(r() is not None for r in refs), "the frozen screens were collected anyway"
        # A key just typed: no collection's pause now.
        app._last_key = time.monotonic()
        assert not app.collect_if_idle()
        # Idle: one collection, and the closed screens are gone.
        assert app.collect_if_idle(now=app._last_key + 60)
        assert all(r() is None for r in refs)
        # Nothing frozen since: nothing to do.
        assert not app.collect_if_idle(now=app._last_key + 120)


async def test_a_closed_screen_leaves_the_state_signal(demo_repo: Path) -> None:
    """Textual drops a removed subscriber only at the signal's next publish (a state load):
    until then the callback kept the whole closed screen alive."""
    from workbench.tui.screens.contracts import ContractScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_seam(sorted(app.gov_state.contracts)[0])
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        await settle(app, pilot)
        ref = weakref.ref(app.screen)
        assert ref() in app.state_signal._subscriptions
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ContractScreen))
        await settle(app, pilot)
        assert all(node is not ref() for node in app.state_signal._subscriptions)
        gc.unfreeze()
        gc.collect()
        assert ref() is None
