"""Pilot tests of the signing, key registry and audit bundle screens (issues 4 and 7)."""

from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import SIZE, make_app, screen_text, settle, wait_until


def _pending(repo: Path):  # type: ignore[no-untyped-def]
    """The demo's pending contract and a required signer who has not signed it."""
    from tests.conftest import FIXED_NOW
    from workbench.service.core import Workbench
    from workbench.service.signing import SigningService

    wb = Workbench(repo, now=FIXED_NOW, actor="dana.okafor")
    verdicts = SigningService(wb).verdicts(check_history=False)
    pending = next(v for v in verdicts if v.state == "pending")
    stale = next(v for v in verdicts if v.state == "stale")
    return pending, stale


async def test_sign_pending_contract_end_to_end(demo_repo: Path) -> None:
    from workbench.tui.modals.sign import SignModal
    from workbench.tui.screens.contracts import ContractScreen

    pending, _ = _pending(demo_repo)
    person = pending.missing[0]
    app = make_app(demo_repo, actor=person)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        app.open_seam(pending.contract_id)
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        await settle(app, pilot)
        verdict = str(app.screen.query_one("#contract-verdict").render())
        assert "pending" in verdict and person in verdict
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SignModal))
        modal = app.screen
        await wait_until(pilot, lambda: modal.subject is not None)
        body = str(modal.query_one("#sign-body-text").render())
        assert modal.subject.statement_sha256 in body
        assert modal.subject.contract_sha256 in body
        assert "you sign as" in body and ", ".join(modal.subject.roles) in body
        assert not modal.needs_passphrase  # demo keys are unencrypted
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen), timeout=10)
        await settle(app, pilot)
        assert any("Signed" in n.message for n in app._notifications)
        verdict = str(app.screen.query_one("#contract-verdict").render())
        assert "approved" in verdict, verdict
