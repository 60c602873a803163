"""The app's evidence console over a repository whose snapshot became a symlink loop or a
FIFO (docs/evidence.md, "Files that are not regular files"): the console opens, the other
snapshots are views, the bad one is listed as not exposed with its reason; no crash, no
hang. Real demo repo, Textual pilot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tui.conftest import SIZE, make_app, screen_text, settle, wait_until


@pytest.mark.parametrize("kind", ["loop", "fifo"])
async def test_evidence_console_lists_a_looping_snapshot_as_refused(
    demo_repo: Path, kind: str
) -> None:
    from tests.conftest import FIXED_NOW
    from workbench.service.core import Workbench
    from workbench.tui.screens.evidence import EvidenceConsoleScreen

    snap = Workbench(demo_repo, now=FIXED_NOW).evidence.snapshots()[0].snapshot
    path = demo_repo / snap.path
    path.unlink()
    if kind == "loop":
        path.symlink_to(path.name + ".b")
        path.with_name(path.name + ".b").symlink_to(path.name)
    else:
        os.mkfifo(path)
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_evidence_console()
        await wait_until(
            pilot, lambda: isinstance(app.screen, EvidenceConsoleScreen) and app.screen.console
        )
        screen = app.screen
        assert screen.console is not None  # type: ignore[attr-defined]
        refused = dict((s.id, r) for s, r in screen.console.refused)  # type: ignore[attr-defined]
        want = "symlink loop" if kind == "loop" else "named pipe (FIFO)"
        assert want in refused[snap.id], refused
        assert screen.console.views  # type: ignore[attr-defined]  # the others are views
        await settle(app, pilot)
        listed = str(screen.query_one("#console-view-list").render())
        assert f"✗ {snap.id}: " in listed and want in listed, listed
        assert "snapshot(s) not exposed" in screen_text(app)  # the status line says so
        assert app.is_running
