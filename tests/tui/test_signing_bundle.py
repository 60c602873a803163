"""Pilot tests of the signing, key registry and audit bundle screens (issues 4 and 7)."""

from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import SIZE, dialog_message, make_app, screen_text, settle, wait_until


def _pending(repo: Path):  # type: ignore[no-untyped-def]
    """The demo's pending contract and a required signer who has not signed it."""
    from tests.conftest import FIXED_NOW
    from workbench.service.core import Workbench

    wb = Workbench(repo, now=FIXED_NOW, actor="dana.okafor")
    verdicts = wb.signing.verdicts()
    pending = next(v for v in verdicts if v.state == "pending")
    stale = next(v for v in verdicts if v.state == "stale")
    return pending, stale


def _hand_over_lineage(repo: Path) -> None:
    """The demo's pending contract does not validate (a term owner left): hand the term to
    the successor, and the provider lead signs the new version, so that it is signable."""
    from workbench.service.core import Workbench

    path = "contracts/policy-data-to-claims-agent.toml"
    text = (repo / path).read_text(encoding="utf-8")
    fixed = text.replace('owner = "marcus.webb"', 'owner = "yuki.tanaka"')
    tomas = Workbench(repo, actor="tomas.lindqvist")
    tomas.commit({path: fixed.encode()}, "Hand the lineage term to Yuki Tanaka\n")
    svc = tomas.signing
    svc.contracts.sign("policy-data-to-claims-agent", svc.keys.make_signer("tomas.lindqvist"))


async def test_sign_pending_contract_end_to_end(demo_repo: Path) -> None:
    from workbench.tui.modals.sign import SignModal
    from workbench.tui.screens.contracts import ContractScreen

    _hand_over_lineage(demo_repo)
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
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        await settle(app, pilot)
        assert any("Signed" in n.message for n in app._notifications)
        verdict = str(app.screen.query_one("#contract-verdict").render())
        assert "approved" in verdict, verdict


async def test_wrong_then_right_passphrase_on_an_encrypted_key(
    demo_repo: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A real encrypted key decides the passphrase; the registered demo key then signs."""
    from workbench.service.keys import Keys
    from workbench.signing.keys import generate_keypair
    from workbench.tui.modals.sign import SignModal

    _, stale = _pending(demo_repo)
    person = sorted(stale.required)[0]
    encrypted = generate_keypair(tmp_path / "enc_ed25519", "right horse", f"{person}@test")
    original = Keys.make_signer

    def make_signer(self, person, *, key_path=None, agent=False, passphrase=None):  # type: ignore[no-untyped-def]
        original(self, person, key_path=encrypted, passphrase=passphrase)  # raises if wrong
        return original(self, person)

    monkeypatch.setattr(Keys, "make_signer", make_signer)
    app = make_app(demo_repo, actor=person)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        app.sign_contract(stale.contract_id)
        await wait_until(pilot, lambda: isinstance(app.screen, SignModal))
        modal = app.screen
        await wait_until(pilot, lambda: modal.subject is not None)
        assert modal.needs_passphrase and modal.query_one("#passphrase").display
        # A stale contract: the diff runs from the version this person signed to now.
        assert modal.subject.last_signed_version is not None
        assert "+# Decline threshold" in str(modal.query_one("#sign-body-text").render())
        await pilot.press(*"wrong", "enter")
        await wait_until(
            pilot, lambda: "Wrong passphrase" in str(modal.query_one("#key-error").render())
        )
        assert app.screen is modal and modal.query_one("#passphrase").value == ""
        await pilot.press(*"right horse", "enter")
        await wait_until(pilot, lambda: app.screen is not modal)
        await settle(app, pilot)
        assert any("Signed" in n.message for n in app._notifications)
    verdict = app.service.signing.verdict(stale.contract_id)
    assert person in verdict.signed


async def test_refusal_is_a_clear_dialog(demo_repo: Path) -> None:
    from workbench.tui.modals.error import ErrorModal

    pending, _ = _pending(demo_repo)
    outsider = "dana.okafor" if "dana.okafor" not in pending.required else None
    assert outsider
    app = make_app(demo_repo, actor=outsider)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.sign_contract(pending.contract_id)
        assert "not a required signer" in await dialog_message(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert not app.screen.details  # a refusal, not a crash: no traceback


async def test_signing_an_invalid_contract_is_refused_with_its_problems(demo_repo: Path) -> None:
    """The demo's policy seam still names a departed term owner: nobody may co-sign it."""
    from workbench.tui.modals.error import ErrorModal

    app = make_app(demo_repo, actor="aisha.rahman")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.sign_contract("policy-data-to-claims-agent")
        message = await dialog_message(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "does not validate" in message
        assert "contracts/policy-data-to-claims-agent.toml:43:1" in message
        assert "marcus.webb" in message and not app.screen.details


async def test_readonly_greys_out_signing(demo_repo: Path) -> None:
    from workbench.tui.screens.contracts import ContractScreen

    pending, _ = _pending(demo_repo)
    app = make_app(demo_repo, actor=pending.missing[0], readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_seam(pending.contract_id)
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        assert app.screen.check_action("sign", ()) is None
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ContractScreen)


async def test_registry_view_and_admin_signs_pending_version(
    demo_repo: Path, tmp_path: Path
) -> None:
    from tests.conftest import FIXED_NOW
    from workbench.service.core import Workbench
    from workbench.signing.keys import generate_keypair, public_key_path
    from workbench.tui.screens.registry import RegistryScreen, RegistrySignModal

    # A pending v2 (a new key for dana), proposed by admin grace; erin signs it in the app.
    key = generate_keypair(tmp_path / "new_ed25519", None, "dana.okafor@test")
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="grace.whitfield")
    wb.signing.registry.add_key("dana.okafor", str(public_key_path(key)))

    app = make_app(demo_repo, actor="erin.walsh")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        app.show_registry()
        await wait_until(pilot, lambda: isinstance(app.screen, RegistryScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.view is not None)
        text = str(screen.query_one("#registry-detail").render())
        for expected in (
            "Erin Walsh",
            "Grace Whitfield",
            "threshold",
            "SHA256:",
            "pinned in this clone",
        ):
            assert expected in text, expected
        assert "Pending version v2" in text and screen.view.pending_missing
        assert screen.check_action("sign_pending", ()) is True
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, RegistrySignModal))
        modal = app.screen
        await wait_until(pilot, lambda: modal.subject is not None)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(app, pilot)
        assert any("Signed registry v2" in n.message for n in app._notifications)
        assert "erin.walsh" in screen.view.pending_signed or screen.view.head_version == 2


async def test_export_with_progress_then_verify_in_the_viewer(
    demo_repo: Path, tmp_path: Path
) -> None:
    from workbench.tui.messages import BundleProgressed
    from workbench.tui.modals.export import ExportModal
    from workbench.tui.screens.bundle import BundleScreen

    out = tmp_path / "audit.tar.gz"
    messages: list[object] = []
    app = make_app(demo_repo, actor="grace.whitfield")  # an authorised exporter
    async with app.run_test(size=SIZE, notifications=True, message_hook=messages.append) as pilot:
        await settle(app, pilot)
        app.export_bundle()
        await wait_until(pilot, lambda: isinstance(app.screen, ExportModal))
        modal = app.screen
        await wait_until(pilot, lambda: modal.query("#export-out"))
        modal.query_one("#export-since").value = "2026-13-01"
        modal.query_one("#export-out").value = str(out)
        modal.query_one("#export-out").focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "not a date" in str(modal.query_one("#export-error").render())
        )
        modal.query_one("#export-since").value = "2026-01-01"
        modal.query_one("#export-out").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is not modal)
        assert out.is_file()
        assert any(isinstance(m, BundleProgressed) for m in messages)
        assert any(
            "trust root" in n.message and "VERIFY.sh sha256" in n.message
            for n in app._notifications
        )

        app.verify_bundle()  # opens on the bundle just written and verifies it
        await wait_until(pilot, lambda: isinstance(app.screen, BundleScreen))
        viewer = app.screen
        await wait_until(pilot, lambda: viewer.report is not None)
        assert viewer.report.ok
        assert "VERIFIED" in str(viewer.query_one("#bundle-summary").render())
        table = viewer.query_one("#bundle-contracts")
        assert table.row_count == len(viewer.report.contracts) > 0
        assert "VERIFIED" in screen_text(app)


async def test_cancelled_export_writes_nothing(
    demo_repo: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import threading

    import workbench.service.bundle as bundle_service
    from workbench.tui.modals.export import ExportModal

    started, gate = threading.Event(), threading.Event()
    original = bundle_service.build_bundle

    def gated(wb, options, signer, progress=None, cancel=None, **streamed):  # type: ignore[no-untyped-def]
        def step(stage: str, done: int, total: int) -> None:
            if progress:
                progress(stage, done, total)
            if not started.is_set():
                started.set()
                gate.wait(10)

        # `streamed`: the target file and spool folder the service streams the archive to.
        return original(wb, options, signer, progress=step, cancel=cancel, **streamed)

    monkeypatch.setattr(bundle_service, "build_bundle", gated)
    out = tmp_path / "never.tar.gz"
    app = make_app(demo_repo, actor="grace.whitfield")  # an authorised exporter
    head = app.service.git.resolve("HEAD").id
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        app.export_bundle()
        await wait_until(pilot, lambda: isinstance(app.screen, ExportModal))
        modal = app.screen
        await wait_until(pilot, lambda: modal.query("#export-out"))
        modal.query_one("#export-out").value = str(out)
        await pilot.press("enter")
        for _ in range(500):  # no wait_until here: it waits for the (held) worker
            if started.is_set():
                break
            await asyncio.sleep(0.01)
        await pilot.press("escape")
        assert modal._cancel.is_set()
        gate.set()
        await wait_until(pilot, lambda: app.screen is not modal)
        assert any("nothing written" in n.message for n in app._notifications)
    assert not out.exists()
    assert app.service.git.resolve("HEAD").id == head


def test_palette_has_signing_and_bundle_commands(demo_repo: Path) -> None:
    from workbench.governance.seams import seam_views
    from workbench.tui.commands import workbench_commands

    app = make_app(demo_repo)
    app.views = seam_views(app.service.state(), app.today)
    names = {name for name, _, _ in workbench_commands(app)}
    assert {"view: key registry", "bundle: export", "bundle: verify"} <= names
    assert any(n.startswith("contract: sign ") for n in names)


async def test_export_dialog_defaults_beside_the_repo_as_the_cli_does(demo_repo: Path) -> None:
    """The app used to offer ./audit-bundle-DATE.tar.gz: inside the repo when started there
    (an untracked archive in the governance repo). Now the CLI's default: beside it."""
    from workbench.tui.modals.export import ExportModal

    app = make_app(demo_repo, actor="grace.whitfield")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.export_bundle()
        await wait_until(pilot, lambda: isinstance(app.screen, ExportModal))
        modal = app.screen
        await wait_until(pilot, lambda: modal.query("#export-out"))
        out = Path(modal.query_one("#export-out").value)
    assert out.parent == demo_repo.parent
    assert out.name.startswith(f"{demo_repo.name}-audit-") and out.name.endswith(".tar.gz")
