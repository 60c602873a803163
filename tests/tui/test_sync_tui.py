"""The app across clones: the sync action (key, palette) with progress, cancel and its
summary; the header's merge state and ahead/behind; the conflicted contract with both
sides, committed as the merge commit. Real clones of a bare origin, real git."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from tests.conftest import FIXED_NOW
from tests.signing.demo_helpers import signer
from tests.sync import conftest as _sync
from tests.sync.conftest import APPLICANT, CREDIT, Origin, git
from tests.sync.git_http import GitHTTPServer
from tests.tui.conftest import SIZE, screen_text, settle, wait_until

# The bare origin and its clones (tests/sync/conftest.py), as fixtures here too.
origin_template = _sync.origin_template
origin = _sync.origin


def app_for(root: Path, actor: str, hours: float):  # type: ignore[no-untyped-def]
    from workbench.service.core import Workbench
    from workbench.tui.app import WorkbenchApp

    service = Workbench(root, now=FIXED_NOW + timedelta(hours=hours), actor=actor)
    return WorkbenchApp(service, cursor_blink=False, theme="textual-dark")


def session(root: Path, actor: str, hours: float):  # type: ignore[no-untyped-def]
    from workbench.service.core import Workbench

    return Workbench(root, now=FIXED_NOW + timedelta(hours=hours), actor=actor)


def two_signatures(origin: Origin, tmp_path: Path) -> tuple[Path, Path]:

    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    session(a, "ravi.iyer", 1).signing.contracts.sign(CREDIT, signer(a, "ravi.iyer"))
    assert session(a, "ravi.iyer", 1.1).sync.run().pushed
    session(b, "sofia.marquez", 2).signing.contracts.sign(CREDIT, signer(b, "sofia.marquez"))
    return a, b


def header(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[0]


async def test_sync_key_shows_progress_and_summary(origin: Origin, tmp_path: Path) -> None:
    from workbench.tui.modals.sync import SyncModal

    _a, b = two_signatures(origin, tmp_path)
    app = app_for(b, "sofia.marquez", 2.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await wait_until(pilot, lambda: isinstance(app.screen, SyncModal))
        modal = app.screen
        await wait_until(pilot, lambda: "main ⇄ origin/main" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: modal.report is not None, timeout=30)
        text = screen_text(app)
        assert "merged and pushed" in text
        assert "came in: 1 commit(s)" in text
        assert "ravi.iyer co-signed credit-model-to-loan-decisioning v2" in text
        assert "verdict credit-model-to-loan-decisioning: pending -> approved" in text
        await pilot.press("enter")  # close
        await wait_until(pilot, lambda: not isinstance(app.screen, SyncModal))
        await settle(app, pilot)
        await wait_until(pilot, lambda: "✓ origin/main" in header(app))
    assert (
        git(origin.bare, "rev-parse", "main").stdout.strip()
        == git(b, "rev-parse", "HEAD").stdout.strip()
    )


async def test_sync_from_the_palette_can_be_cancelled(origin: Origin, tmp_path: Path) -> None:
    from workbench.tui.commands import workbench_commands
    from workbench.tui.modals.sync import SyncModal

    served = tmp_path / "srv"
    served.mkdir()
    shutil.move(str(origin.bare), served / "governance.git")
    with GitHTTPServer(served) as server:
        remote = Origin(served / "governance.git", origin.keys, origin.pin)
        b = remote.clone(tmp_path / "b", url=server.url("governance.git"))
    before = git(b, "rev-parse", "HEAD").stdout.strip()
    with GitHTTPServer(served, hold=True) as server:  # a remote that does not answer
        git(b, "remote", "set-url", "origin", server.url("governance.git"))
        app = app_for(b, "ravi.iyer", 1)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            [sync] = [cb for name, cb, _ in workbench_commands(app) if name == "repo: sync"]
            sync()
            await wait_until(pilot, lambda: isinstance(app.screen, SyncModal))
            await pilot.press("enter")
            await wait_until(pilot, lambda: "fetching" in screen_text(app) or server.held.is_set())
            assert server.held.wait(10)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, SyncModal))
            await pilot.pause()
    assert git(b, "rev-parse", "HEAD").stdout.strip() == before
    assert git(b, "status", "--porcelain").stdout == ""


async def test_conflicted_contract_both_sides_and_merge_commit(
    origin: Origin, tmp_path: Path
) -> None:
    from workbench.tui.screens.conflict import ConflictScreen

    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    for root, who, new in ((a, "dana.okafor", "PT11H"), (b, "ravi.iyer", "PT9H")):
        wb = session(root, who, 1)
        text = wb.contract_text(APPLICANT).replace('warn_after = "PT10H"', f'warn_after = "{new}"')
        wb.save_contract(APPLICANT, text, f"warn after {new}\n")
    assert session(a, "dana.okafor", 1.1).sync.run().pushed
    assert session(b, "ravi.iyer", 1.2).sync.run().conflicts
    app = app_for(b, "ravi.iyer", 1.3)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_until(
            pilot, lambda: "MERGE IN PROGRESS · 1 conflict · M to resolve" in header(app)
        )
        # How to finish or abort it, said once (the header has room for the headline).
        assert any("git merge --abort" in n.message for n in app._notifications)
        view = app.view(APPLICANT)
        assert view is not None and view.state == "conflict"
        app.open_seam(APPLICANT)  # the seam opens the conflict, not the editor
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.conflict is not None)
        text = screen_text(app)
        assert "ours: HEAD" in text and "theirs: origin/main" in text
        assert 'warn_after = "PT9H"' in text and 'warn_after = "PT11H"' in text
        await pilot.press("ctrl+s")  # markers still there: refused, nothing written
        await wait_until(pilot, lambda: not screen.busy)
        await settle(app, pilot)
        assert (b / ".git" / "MERGE_HEAD").is_file()
        await pilot.press("escape")  # the refusal dialog
        await pilot.press("f7")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConflictScreen))
        await settle(app, pilot)
        await wait_until(pilot, lambda: "↑2 ↓0 origin/main" in header(app))
    assert not (b / ".git" / "MERGE_HEAD").exists()
    parents = git(b, "rev-list", "--parents", "-1", "HEAD").stdout.split()
    assert len(parents) == 3
    assert 'warn_after = "PT11H"' in (b / f"contracts/{APPLICANT}.toml").read_text()
