"""TUI test helpers: real demo repos, a fixed clock and theme, no cursor blink, no user config."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW

SIZE = (120, 36)


@pytest.fixture(autouse=True)
def _deterministic_tui(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("WORKBENCH_THEME", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    # A blinking cursor makes screenshots nondeterministic.
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def make_app(repo: Path, *, actor: str | None = "dana.okafor", readonly: bool = False, **kw):  # type: ignore[no-untyped-def]
    from workbench.service.core import Workbench
    from workbench.tui.app import WorkbenchApp

    service = Workbench(repo, now=FIXED_NOW, actor=actor, readonly=readonly)
    kw.setdefault("theme", "textual-dark")
    # The marks in the app's worker thread: the same computation as the marks process
    # (tests/tui/test_marks_process.py tests that process, and the apps built directly
    # with WorkbenchApp use it), without ~0.5 s of CPU per app for a child's start.
    kw.setdefault("marks_in_child", False)
    return WorkbenchApp(service, cursor_blink=False, **kw)


async def workers_done(app) -> None:  # type: ignore[no-untyped-def]
    """Wait for the running workers; one cancelled meanwhile (an exclusive worker replaced
    by a newer one, e.g. a reload after a commit) is not a failure."""
    from textual.worker import WorkerCancelled

    for _ in range(5):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def settle(app, pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for every worker, then for the UI to apply their messages."""
    for _ in range(3):
        await workers_done(app)
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            return


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a condition (never a fixed sleep). The timeout only bounds a failure: generous,
    because CI machines run the suite on two busy cores."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await workers_done(pilot.app)
        await pilot.pause(0.02)
        await asyncio.sleep(0)


async def dialog_message(pilot) -> str:  # type: ignore[no-untyped-def]
    """The message of the error dialog once it is on screen and composed: the screen is
    pushed before its widgets mount, so asking for `#error-message` at once can miss it."""
    from textual.css.query import NoMatches

    from workbench.tui.modals.error import ErrorModal

    def composed() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, ErrorModal):
            return False
        try:
            screen.query_one("#error-message")
        except NoMatches:
            return False
        return True

    await wait_until(pilot, composed)
    return str(pilot.app.screen.query_one("#error-message").render())


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """The plain text of the visible screen."""
    import re
    from html import unescape

    svg = app.export_screenshot()
    lines: dict[str, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        lines.setdefault(m.group(2), []).append((float(m.group(1)), unescape(m.group(3))))
    out = []
    for y in sorted(lines, key=float):
        out.append("".join(t for _, t in sorted(lines[y])).replace("\xa0", " "))
    return "\n".join(out)
