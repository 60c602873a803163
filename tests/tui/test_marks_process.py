"""The seams' marks are worked out in a child process (issue 18: in a thread of the app they
held the interpreter lock for ~6 s at 1,000 contracts and every key waited). The child runs
the same computation on the same repository: its marks equal the in-process ones exactly.
A child that dies, hangs or answers garbage is an error the app shows on every seam and in
a notice (never a traceback, never "all good"), and no child outlives the app."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.notify.conftest import channel_env, serve_receiver
from tests.notify.helpers import T0, notify_at
from tests.security.conftest import Hostile, hostile, hostile_template  # noqa: F401 - fixtures
from tests.security.test_tui_output import markup_parsed  # noqa: F401 - a fixture
from tests.tui.conftest import SIZE, make_app, screen_text, settle, wait_until
from workbench.governance.marks_wire import WireError, decode_marks, encode_marks
from workbench.service import marks_process
from workbench.service.core import Workbench
from workbench.service.marks import compute_marks

CANARY = "[@click=app.bell]"


def both(wb: Workbench) -> tuple[Any, Any]:
    return compute_marks(wb), marks_process.compute_in_child(wb, timeout=120)


def test_the_childs_marks_equal_the_in_process_marks_on_the_demo(demo_repo: Path) -> None:
    here, child = both(Workbench(demo_repo, now=FIXED_NOW, what_if=True))
    assert child.views == here.views and child.now == here.now and child.pages == here.pages
    # Marks of every kind came across, so the comparison could fail.
    assert {k for v in child.views for k in v.marks} >= {"signature", "violations", "notices"}


def test_the_childs_marks_equal_the_in_process_marks_with_pages(demo_repo: Path) -> None:
    """Pages carry times, durations, acknowledgements and delivery records: all exact."""
    with serve_receiver() as receiver:
        notify_at(demo_repo, T0, channel_env(receiver))
    here, child = both(Workbench(demo_repo, now=T0 + timedelta(minutes=20), what_if=True))
    assert here.pages, "the demo's notify run paged nobody: nothing compared"
    assert child.pages == here.pages and child.views == here.views
    page = next(p for ps in child.pages.values() for p in ps)
    assert page.paged_at.utcoffset() is not None and page.sla > timedelta(0)


def test_the_childs_marks_equal_the_in_process_marks_on_a_hostile_repo(
    hostile: Hostile,  # noqa: F811
) -> None:
    # The hostile repo's records were made at the real clock: judge at the real clock too,
    # as the app does (the child reads the clock itself), and at a fixed moment.
    wb = Workbench(hostile.root, actor="dana.okafor")
    here, child = both(wb)
    assert [(v.id, v.title, v.problems, v.marks) for v in child.views] == [
        (v.id, v.title, v.problems, v.marks) for v in here.views
    ]
    assert child.pages == here.pages
    assert any("\x1b" in v.title or "[" in v.title for v in child.views), "nothing hostile"
    now = FIXED_NOW + timedelta(days=30)
    here, child = both(Workbench(hostile.root, now=now, what_if=True, actor="dana.okafor"))
    assert child.views == here.views and child.pages == here.pages and child.now == now


def test_garbage_is_refused_with_where_it_was(demo_repo: Path) -> None:
    marks = compute_marks(Workbench(demo_repo, now=FIXED_NOW, what_if=True))
    good = json.loads(json.dumps(encode_marks(marks)))
    assert decode_marks(good).views == marks.views
    cases = [
        ({**good, "wire": 99}, "wire version"),
        ({**good, "views": [{**good["views"][0], "governed": "yes"}]}, "views[0].governed"),
        ({**good, "views": [{**good["views"][0], "admin": True}]}, "unexpected 'admin'"),
        ({**good, "views": [{**good["views"][0], "marks": {"x": 1}}]}, "views[0].marks['x']"),
        ({k: v for k, v in good.items() if k != "now"}, "missing 'now'"),
        ({**good, "now": "yesterday"}, "expected an ISO time"),
        ([], "expected an object"),
    ]
    for data, where in cases:
        with pytest.raises(WireError, match=where.replace("[", r"\[").replace("]", r"\]")):
            decode_marks(data)


def fake_child(monkeypatch: pytest.MonkeyPatch, code: str) -> list[subprocess.Popen[bytes]]:
    """The marks process replaced by a real process running `code` (a hostile or broken
    child); the children started are returned, to check they were stopped."""
    started: list[subprocess.Popen[bytes]] = []

    def start(wb: Workbench) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        started.append(child)
        return child

    monkeypatch.setattr(marks_process, "start", start)
    return started


BROKEN = [
    ("dies", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "stopped by signal 9"),
    ("crashes", "import sys; sys.stdin.read(); raise KeyError('x')", "ended with code 1: KeyError"),
    ("garbage", f"import sys; sys.stdin.read(); print({CANARY!r} + ' not json')", "not marks"),
    (
        "wrong shape",
        "import sys, json; sys.stdin.read(); "
        "print(json.dumps({'wire': 1, 'views': [{'id': 3}], 'pages': {}, 'now': 'x'}))",
        "views[0]: missing",
    ),
    ("hangs", "import time; time.sleep(120)", "no answer within 2 s"),
]


@pytest.mark.parametrize(("name", "code", "said"), BROKEN, ids=[b[0] for b in BROKEN])
async def test_a_broken_child_is_an_error_on_every_seam_and_a_notice(
    demo_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    markup_parsed: list[str],  # noqa: F811
    name: str,
    code: str,
    said: str,
) -> None:
    from workbench.tui.modals.error import ErrorModal

    started = fake_child(monkeypatch, code)
    app = make_app(demo_repo, marks_in_child=True)
    app.marks_timeout = 2.0
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.marks_error is not None, timeout=60)
        await settle(app, pilot)
        assert said in app.marks_error, app.marks_error
        assert not app.marks_ready
        # Every seam says so, styled as alarming; none keeps a mark that looks fine.
        assert app.views and all(v.marks == {"marks": "unavailable"} for v in app.views)
        notices = [n for n in app._notifications if n.title == "Seam marks unavailable"]
        assert len(notices) == 1 and notices[0].severity == "error"
        assert said in notices[0].message and "Traceback" not in notices[0].message
        assert not isinstance(app.screen, ErrorModal)
        app.show_seams("list-view")
        await settle(app, pilot)
        assert "marks:unavailable" in screen_text(app).replace(" ", "")
    # The child's words were drawn as text, never parsed as markup.
    assert not any(CANARY in m for m in markup_parsed)
    assert started and all(c.poll() is not None for c in started)


async def test_quitting_stops_a_child_still_at_work(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = fake_child(monkeypatch, "import time; time.sleep(120)")
    app = make_app(demo_repo, marks_in_child=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app._marks_children), timeout=60)
        child = next(iter(app._marks_children))
        assert child.poll() is None
        await pilot.press("q")
    assert child.poll() is not None and started == [child]


async def test_the_app_shows_the_childs_marks(demo_repo: Path) -> None:
    """The real child, end to end: the marks on screen are the in-process ones."""
    expected = compute_marks(Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor"))
    app = make_app(demo_repo, marks_in_child=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.marks_ready, timeout=60)
        await settle(app, pilot)
        assert [v.marks for v in app.views] == [v.marks for v in expected.views]
        assert app.marks_error is None and not app._marks_children
