"""The key probe behind WORKBENCH_KEY_PROBE (benchmarks/tui_keys.py): off unless asked for,
and when on it logs the app's frames and messages without changing what the app shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.conftest import SIZE, make_app, screen_text, settle


async def _seams_text(demo_repo: Path) -> tuple[str, object]:
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("down")
        await settle(app, pilot)
        return screen_text(app), app


async def test_the_probe_is_off_by_default(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKBENCH_KEY_PROBE", raising=False)
    _, app = await _seams_text(demo_repo)
    # Nothing wrapped: the app's display is its class's own method.
    assert "_display" not in vars(app)


async def test_the_probe_logs_frames_and_messages_and_changes_nothing(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.message_pump import MessagePump

    monkeypatch.delenv("WORKBENCH_KEY_PROBE", raising=False)
    plain, _ = await _seams_text(demo_repo)
    log = tmp_path / "probe.log"
    monkeypatch.setenv("WORKBENCH_KEY_PROBE", str(log))
    # The probe patches Textual's message dispatch for the process: undone after the test.
    monkeypatch.setattr(MessagePump, "_dispatch_message", MessagePump._dispatch_message)
    probed, _ = await _seams_text(demo_repo)
    assert probed == plain
    kinds = [line.split()[0] for line in log.read_text().splitlines()]
    assert kinds[0] == "start" and "frame" in kinds
    names = {line.split()[-1] for line in log.read_text().splitlines() if line.startswith("msg")}
    assert {"StateLoaded", "MarksLoaded"} <= names
