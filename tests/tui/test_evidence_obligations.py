"""Pilot tests for the evidence, violations and obligations screens (issues 5 and 6)."""

from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import SIZE, make_app, screen_text, settle, wait_until

POLICY = "policy-data-to-claims-agent"
LOAN = "credit-model-to-loan-decisioning"
CLAIMS = "claims-agent-to-claims-product"


async def test_violations_screen_names_who_was_paged(demo_repo: Path) -> None:
    from workbench.tui.modals.confirm import ConfirmModal
    from workbench.tui.modals.obligations import ResolveModal
    from workbench.tui.screens.violations import ViolationsScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # the seam list shows open violations and overdue/unacknowledged state per seam
        assert app.marks_ready
        marks = app.view(POLICY).marks
        assert marks["violations"] == "2 open" and "overdue" in marks["notices"]
        assert app.view(CLAIMS).marks["review"] == "overdue"
        await pilot.press("v")
        await pilot.pause()
        rows = {r.key: r for r in app.screen.query_one("#seam-table")._rows}
        assert "violations:2 open" in rows[POLICY].cells[-1]
        assert rows[CLAIMS].kind == "warning"  # governed, but a review is overdue
        assert "review:overdue" in rows[CLAIMS].cells[-1]
        assert "violations:2 open" in screen_text(app)
        await pilot.press("V")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ViolationsScreen) and app.screen.violations
        )
        screen = app.screen
        by_key = {(v.contract, v.term): v for v in screen.violations}
        stale = by_key[(POLICY, "policy-freshness")]
        moved = by_key[(LOAN, "approval-threshold")]
        assert stale.is_open and stale.paged["primary"]["id"] == "yuki.tanaka"
        assert moved.paged["primary"]["id"] == "priya.nair" and moved.owner["id"] == "sofia.marquez"
        table = screen.query_one("#violations-table")
        assert table.move_to_key(moved.id)
        await wait_until(
            pilot,
            lambda: screen.finding is not None and screen.selected == (LOAN, "approval-threshold"),
        )
        await settle(app, pilot)
        text = screen_text(app)
        assert "Priya Nair (priya.nair)" in text and "Sofia Marquez (sofia.marquez)" in text
        assert "pagerduty:loan-decisioning" in text
        assert screen.query_one("#evidence-rows").total >= 1
        # close as resolved: a note, then a confirmation, then the record
        table.focus()
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ResolveModal))
        await pilot.press(*"threshold reset to 0.18")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await settle(app, pilot)
        from tests.conftest import FIXED_NOW
        from workbench.service.core import Workbench

        after = Workbench(demo_repo, now=FIXED_NOW).evidence.violations.get(moved.id)
        assert after.state == "resolved" and after.closure.note == "threshold reset to 0.18"


async def test_console_pages_100k_rows_refuses_and_cancels(demo_repo: Path) -> None:
    from workbench.tui.screens.evidence import EvidenceConsoleScreen

    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_evidence_console()
        await wait_until(
            pilot, lambda: isinstance(app.screen, EvidenceConsoleScreen) and app.screen.console
        )
        screen = app.screen
        sql_input = screen.query_one("#console-sql")
        sql_input.value = "SELECT r.range AS i, s.* FROM range(100000) r, (SELECT * FROM freshness_lags LIMIT 1) s"
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.last_outcome == "ok")
        table = screen.query_one("#console-results")
        assert table.total == 100_000
        await pilot.press("end")
        await wait_until(pilot, lambda: table.row_cells(99_999) is not None)
        assert table.row_cells(99_999)[0] == "99999"
        assert table.loaded_pages <= 3
        # refused before it runs
        sql_input.value = "COPY (SELECT 1) TO 'x.csv'"
        sql_input.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.last_outcome == "refused")
        await wait_until(pilot, lambda: "Refused" in screen_text(app))
        # a long query is cancelled with Esc
        sql_input.value = "SELECT count(*) FROM range(100000000000) a"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert screen.running
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.last_outcome == "cancelled")
        assert isinstance(app.screen, EvidenceConsoleScreen)


async def test_due_lists_people_and_completes_a_signed_review(demo_repo: Path) -> None:
    from workbench.tui.modals.obligations import ReviewModal
    from workbench.tui.screens.due import DueScreen

    app = make_app(demo_repo, actor="aisha.rahman")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, DueScreen) and app.screen.items)
        screen = app.screen
        items = list(screen.items.values())
        review = next(i for i in items if i.kind == "review" and i.contract == CLAIMS)
        ack = next(i for i in items if i.kind == "ack" and i.contract == POLICY)
        assert review.state == "overdue" and review.people == ["aisha.rahman", "ben.carter"]
        assert ack.state == "overdue" and ack.people == ["aisha.rahman"]
        await wait_until(
            pilot,
            lambda: "aisha.rahman, ben.carter" in (t := screen_text(app)) and "acknowledge" in t,
        )
        from workbench.tui.screens.due import item_key

        assert screen.query_one("#due-table").move_to_key(item_key(review))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewModal))
        await pilot.press("enter")  # in the notes field: submit
        await wait_until(
            pilot,
            lambda: any("signed by aisha.rahman" in n.message for n in app._notifications),
            timeout=20,  # signing and committing run in a worker; slow on a loaded machine
        )
        await settle(app, pilot)
        assert not any(i.kind == "review" and i.contract == CLAIMS for i in screen.items.values())
        from tests.conftest import FIXED_NOW
        from workbench.service.core import Workbench

        ob = Workbench(demo_repo, now=FIXED_NOW).obligations
        done = [r for r in ob.reviews.statuses() if r.contract == CLAIMS and r.kind == "review"]
        assert done and done[0].state == "ok"


async def test_action_lint_gate_diagnostic_and_reports(demo_repo: Path) -> None:
    from workbench.tui.screens.actions import ActionsScreen
    from workbench.tui.screens.diagnostic import DiagnosticScreen
    from workbench.tui.screens.gate import GateScreen
    from workbench.tui.screens.reports import ReportsScreen

    app = make_app(demo_repo, actor="tomas.lindqvist")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # the vague action item: the lint is inline, with its line
        app.show_actions("inc-2041-ownership")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ActionsScreen) and app.screen.problems
        )
        screen = app.screen
        assert screen.current == "inc-2041-ownership"
        vague = [p for p in screen.problems if "vague wording" in p.message]
        assert vague and vague[0].line >= 1
        # the list renders after the problems arrive: wait for it rather than race it
        await wait_until(pilot, lambda: f"line {vague[0].line}:" in screen_text(app))
        await pilot.press("escape")
        # the gate preview: failures with who can fix them, and passing checks
        app.show_gate()
        await wait_until(pilot, lambda: isinstance(app.screen, GateScreen) and app.screen.result)
        result = app.screen.result
        assert not result.passed
        assert any(c.outcome == "pass" for c in result.checks)
        await wait_until(pilot, lambda: "GATE FAILS" in screen_text(app))
        text = screen_text(app)
        assert "GATE FAILS" in text and "✓ pass" in text and "✗ FAIL" in text
        assert "yuki.tanaka" in text  # who can fix the open freshness violation
        await pilot.press("escape")
        # the diagnostic: side by side with the mismatch flag; a lead may answer
        app.show_diagnostic(POLICY)
        await wait_until(
            pilot, lambda: isinstance(app.screen, DiagnosticScreen) and app.screen.diagnostic
        )
        d = app.screen
        assert d.diagnostic.state == "mismatch" and d.side == "provider"
        await wait_until(pilot, lambda: "MISMATCH" in screen_text(app))
        assert not d.query_one("#q-watched-by").disabled
        await pilot.press("escape")
        # reports, as plain text
        app.show_report("boundary")
        await wait_until(pilot, lambda: isinstance(app.screen, ReportsScreen) and app.screen.text)
        assert "boundary" in app.screen.text.lower()


async def test_gate_preview_says_what_workbench_toml_asked_for_in_vain(demo_repo: Path) -> None:
    """The app's gate preview judges with the signed floor like `workbench gate`, and says
    when workbench.toml asked for less."""
    import subprocess

    from workbench.tui.screens.gate import GateScreen

    path = demo_repo / "workbench.toml"
    text = path.read_text()
    path.write_text(text.replace('deny = ["valid", "approved",', 'deny = ["valid",', 1))
    git = ["git", "-C", str(demo_repo), "-c", "user.name=o", "-c", "user.email=o@x"]
    subprocess.run([*git, "commit", "-qam", "tidy gate"], check=True)
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.show_gate()
        await wait_until(pilot, lambda: isinstance(app.screen, GateScreen) and app.screen.result)
        result = app.screen.result
        assert "approved" in result.deny and len(result.ignored) == 1
        await wait_until(pilot, lambda: "IGNORED: 1 loosening" in screen_text(app))
