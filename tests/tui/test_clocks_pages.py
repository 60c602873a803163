"""The app shows regulatory clocks and missed pages on the seam map and the Due screen, and
the paged person acknowledges the page from there (a signed record)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.notify.conftest import channel_env, serve_receiver
from tests.notify.helpers import T0, notify_at, threshold_violation
from tests.tui.conftest import SIZE, screen_text, settle, wait_until

LOAN = "credit-model-to-loan-decisioning"


async def test_due_and_seam_map_show_clocks_and_pages(demo_repo: Path) -> None:
    from workbench.service.clocks import ClocksService
    from workbench.service.core import Workbench
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.modals.obligations import AckModal
    from workbench.tui.screens.due import DueScreen, item_key

    with serve_receiver() as receiver:
        notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)
    starter = Workbench(demo_repo, now=T0 + timedelta(minutes=1), actor="grace.whitfield")
    clock, _ = ClocksService(starter).start(
        "eu-ai-act-art73-widespread", LOAN, T0 - timedelta(days=1, hours=18), "INC-2051"
    )
    now = T0 + timedelta(minutes=20)
    app = WorkbenchApp(
        Workbench(demo_repo, now=now, actor="priya.nair"), cursor_blink=False, theme="textual-dark"
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        marks = app.view(LOAN).marks
        assert marks["clock"] == "eu-ai-act-art73-widespread due in 5h 40m"
        assert marks["paged"] == "1 page(s) NOT acknowledged"
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen) and app.screen.items)
        screen = app.screen
        items = list(screen.items.values())
        page = next(i for i in items if i.kind == "page" and i.ref == vid)
        # The policy seam's pages (PT30M) are still within their SLA: pending, not overdue.
        assert {i.state for i in items if i.kind == "page" and i.ref != vid} == {"pending"}
        due_clock = next(i for i in items if i.kind == "clock")
        assert page.state == "overdue" and page.people == ["priya.nair"]
        assert due_clock.state == "due-soon" and due_clock.people == ["grace.whitfield"]
        assert due_clock.ref == clock.id
        await wait_until(pilot, lambda: "page ack" in screen_text(app))
        assert screen.query_one("#due-table").move_to_key(item_key(page))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AckModal))
        await pilot.press(*"on it")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: any(f"Page for {vid}" in n.message for n in app._notifications),
            timeout=20,
        )
        await wait_until(
            pilot,
            lambda: not any(i.kind == "page" and i.ref == vid for i in screen.items.values()),
            timeout=20,
        )
    assert list((demo_repo / "notify/page-acks" / vid).glob("*.priya.nair.toml"))


async def test_contract_detail_page_test_shows_a_missed_page_as_the_gate_does(
    demo_repo: Path,
) -> None:
    """The contract pane's page test is the gate's (``governance.paging.page_test`` with the
    seam's pages): a page nobody acknowledged within ack_sla fails it, naming the page; once
    the paged person acknowledges (late), it passes and keeps the lateness."""
    from workbench.service.core import Workbench
    from workbench.service.notify import NotifyService
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.contracts import ContractScreen

    with serve_receiver() as receiver:
        notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)

    def detail(app) -> str:  # type: ignore[no-untyped-def]
        return str(app.screen.query_one("#contract-detail").render())

    async def page_line(now, wanted: str) -> str:  # type: ignore[no-untyped-def]
        app = WorkbenchApp(
            Workbench(demo_repo, now=now, actor="dana.okafor"),
            cursor_blink=False,
            theme="textual-dark",
        )
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("2")
            await settle(app, pilot)
            await pilot.press("slash", *"loan decisioning", "enter", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
            assert app.screen.contract_id == LOAN
            await wait_until(pilot, lambda: wanted in detail(app), timeout=20)
            return next(line for line in detail(app).splitlines() if "page test" in line)

    missed = await page_line(T0 + timedelta(minutes=20), "NOT acknowledged")
    assert missed.split()[2] == "fail", missed
    assert f"page for {vid}" in missed and "NOT acknowledged within PT15M" in missed
    ack_at = T0 + timedelta(minutes=22)
    NotifyService(
        Workbench(demo_repo, now=ack_at, actor="priya.nair"), env={}, config={}
    ).acknowledge(vid, "on it")
    late = await page_line(ack_at + timedelta(minutes=1), "LATE")
    assert late.split()[2] == "pass" and "acknowledged by priya.nair in 22m LATE" in late


async def test_a_contract_shows_the_pages_the_marks_were_judged_with(
    demo_repo: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Opening a contract once the marks are in reuses the pages they were judged with
    (working out every seam's pages again cost each Enter 0.6-1 s of CPU at 1,000 contracts,
    issue 18); the page test still names the missed page, as the gate does."""
    from workbench.service.core import Workbench
    from workbench.service.notify import NotifyService
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.contracts import ContractScreen

    with serve_receiver() as receiver:
        notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)
    computed: list[int] = []
    real = NotifyService.page_verdicts

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        computed.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(NotifyService, "page_verdicts", counting)
    app = WorkbenchApp(
        Workbench(demo_repo, now=T0 + timedelta(minutes=20), actor="dana.okafor"),
        cursor_blink=False,
        theme="textual-dark",
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.marks_ready
        before = len(computed)
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("slash", *"loan decisioning", "enter", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        detail = lambda: str(app.screen.query_one("#contract-detail").render())  # noqa: E731
        await wait_until(pilot, lambda: "NOT acknowledged" in detail(), timeout=20)
        await settle(app, pilot)
        assert len(computed) == before, "the pages were worked out again"
        line = next(x for x in detail().splitlines() if "page test" in x)
    assert line.split()[2] == "fail" and f"page for {vid}" in line
