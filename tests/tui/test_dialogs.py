"""Every dialog of the app at 80×24 (an SVG snapshot each) and at 200×60: its buttons, and
the fields that must be read before Enter (a commit message, a key), are always on screen.

The dialogs are shown over a small host app with the app's stylesheet and a real service on
a copy of the demo, so a snapshot is the dialog itself and costs a fraction of a second.
Values that differ from one demo build to the next (fresh keys, signature digests) are
fixed, so the snapshots only change when the dialogs do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Button

from tests.conftest import FIXED_NOW, copy_demo
from tests.tui.conftest import screen_text, wait_until

APP_CSS = Path(__file__).resolve().parents[2] / "workbench" / "tui" / "app.tcss"
LONG_DIFF = "\n".join(
    ["--- a/contracts/x.toml (HEAD)", "+++ b/contracts/x.toml (edited)", "@@ -1,3 +1,60 @@"]
    + [
        f'+note_{i} = "a line of the new contract, long enough to wrap at 80 columns {i}"'
        for i in range(60)
    ]
)
# A new contract's term-level summary: long enough to push a dialog's buttons off a screen.
LONG_SUMMARY = [f"term t{i} added (freshness, owner ada, fail after PT24H)" for i in range(24)]


class DialogHost(App[None]):
    """What the dialogs ask of the app: its service, state, views, day and acting person."""

    CSS_PATH = str(APP_CSS)

    def __init__(self, service: Any, state: Any, make: Callable[[DialogHost], Screen]) -> None:
        super().__init__()
        from workbench.governance.seams import seam_views

        self.service = service
        self.gov_state = state
        self.views = seam_views(state, FIXED_NOW.date())
        self.readonly = False
        self.actor = state.people["dana.okafor"]
        self.actor_label = "Dana Okafor <dana.okafor@meridian.example>"
        self.cursor_blink = False
        self.make = make
        self.errors: list[str] = []

    @property
    def today(self):  # type: ignore[no-untyped-def]
        return FIXED_NOW.date()

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.push_screen(self.make(self))

    def show_error(self, exc: BaseException, doing: str = "") -> None:
        self.errors.append(f"{doing}: {exc}")

    def show_refusal(self, title: str, reason: str) -> None:
        self.errors.append(f"{title}: {reason}")

    def load_state(self) -> None:
        pass


@pytest.fixture(scope="module")
def dialog_repo(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_demo(demo_template, tmp_path_factory.mktemp("dialogs") / "demo")


@pytest.fixture(scope="module")
def host_parts(dialog_repo: Path) -> tuple[Any, Any, Any]:
    from workbench.service.core import Workbench

    service = Workbench(dialog_repo, now=FIXED_NOW, actor="dana.okafor")
    state = service.state()
    # A contract someone signed at an earlier version: its preview has a diff to show.
    stale = next(v for v in service.signing.verdicts() if v.state == "stale")
    signer = sorted(stale.required)[0]
    svc = Workbench(dialog_repo, now=FIXED_NOW, actor=signer).signing
    preview = replace(
        svc.contracts.preview(stale.contract_id),
        statement_sha256="5" * 64,  # a fresh demo signs with fresh keys
    )
    return service, state, preview


def fixed_registry_view() -> Any:
    from workbench.service.signing import RegistryView

    return RegistryView(
        head_version=3,
        root_sha256="a" * 64,
        pinned_root="a" * 64,
        ok=True,
        problems=[],
        notes=[],
        admins=["dana.okafor", "grace.whitfield"],
        threshold=2,
        keys=[
            {
                "person": p,
                "principal": f"{p}@meridian.example",
                "fingerprint": f"SHA256:{p[:4]}{'x' * 39}",
                "namespaces": ["handshake-contract-v1@meridian.example"],
                "valid_before": None,
            }
            for p in ("dana.okafor", "grace.whitfield", "ravi.iyer", "sofia.marquez")
        ],
        revoked=[],
        pending_version=4,
        pending_signed=["grace.whitfield"],
        pending_missing=["dana.okafor"],
    )


def _dialogs(preview: Any) -> dict[str, Callable[[DialogHost], Screen]]:
    """Every dialog of the app, built as the app builds it."""
    from workbench.tui.messages import SignPrepared
    from workbench.tui.modals import authoring
    from workbench.tui.modals.commit import CommitModal
    from workbench.tui.modals.confirm import ConfirmModal
    from workbench.tui.modals.draft import DraftModal
    from workbench.tui.modals.error import ErrorModal
    from workbench.tui.modals.export import ExportModal
    from workbench.tui.modals.help import KeyHelpModal
    from workbench.tui.modals.new_contract import NewContractModal
    from workbench.tui.modals.obligations import (
        AckModal,
        ExemptModal,
        PassphraseModal,
        ResolveModal,
        ReviewModal,
    )
    from workbench.tui.modals.pickers import PickerModal
    from workbench.tui.modals.sign import SignModal
    from workbench.tui.screens.registry import RegistrySignModal

    class FixedSignModal(SignModal):
        """The sign dialog over a fixed preview of an encrypted key (its largest foot)."""

        def prepare(self) -> None:
            key = self.service.root / ".git/handshake-workbench/demo-keys/ravi.iyer_ed25519"
            self.post_message(SignPrepared(preview, True, None, key))

    class FixedRegistrySignModal(RegistrySignModal):
        def prepare(self) -> None:
            self.post_message(SignPrepared(self.view, False, None, None))

    def teams(h: DialogHost) -> list[Any]:
        return sorted(h.gov_state.teams.values(), key=lambda t: t.name.lower())

    def people(h: DialogHost) -> list[Any]:
        return authoring._current_people(h)  # type: ignore[arg-type]

    def members(h: DialogHost) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for p in people(h):
            out.setdefault(p.team, []).append(p)
        return out

    exchange = "pre-qualification features read directly by the loan product"
    return {
        "commit": lambda h: CommitModal(
            "Commit data-to-model as Dana Okafor <dana.okafor@meridian.example>",
            LONG_DIFF,
            LONG_SUMMARY,
            "Add contract data-to-model",
        ),
        "sign": lambda h: FixedSignModal(preview.contract_id),
        "registry-sign": lambda h: FixedRegistrySignModal(fixed_registry_view()),
        "confirm": lambda h: ConfirmModal(
            "Discard the draft?",
            "Your unsaved edit of applicant-data-to-credit-model will be deleted. "
            "This cannot be undone.",
            yes="Discard",
        ),
        "draft": lambda h: DraftModal("applicant-data-to-credit-model"),
        "error": lambda h: ErrorModal(
            "Could not save",
            "contracts/x.toml has 2 error(s); not saved",
            "\n".join(f"contracts/x.toml:{i}:1: error: something is wrong" for i in range(30)),
        ),
        "picker": lambda h: PickerModal(
            "New contract owner for applicant-data-to-credit-model",
            _choices(h),
            hint="Only people in the registry who have not left are offered.",
        ),
        "key-help": lambda h: KeyHelpModal(
            [(k, f"action {k}", f"area.{k}") for k in "abcdefghijklmnopqrstuvwxyz"]
        ),
        "export": lambda h: ExportModal(Path("/tmp/audit-bundle.tar.gz")),
        "resolve": lambda h: ResolveModal("Resolve the violation of freshness", "hint"),
        "exempt": lambda h: ExemptModal(
            "Exempt the violation of freshness",
            "An exemption is signed by its approver and expires.",
        ),
        "review": lambda h: ReviewModal(
            "Complete the quarterly review of applicant-data-to-credit-model",
            "Signed with your key; recorded in reviews/.",
            contacts=True,
        ),
        "ack": lambda h: AckModal(
            "Acknowledge the change notice", "Signed with your key.", coverage=True
        ),
        "passphrase": lambda h: PassphraseModal(
            "Sign the review", "Dana Okafor's signing key is encrypted."
        ),
        "person-add": lambda h: authoring.PersonAddModal(
            f"Add a person (commits as {h.actor_label})", teams(h), "applicant-data"
        ),
        "person-leave": lambda h: authoring.PersonLeaveModal(
            f"Sam Ortiz (sam.ortiz) leaves (commits as {h.actor_label})",
            h.gov_state.people["sam.ortiz"],
            people(h),
            FIXED_NOW.date(),
        ),
        "team-add": lambda h: authoring.TeamAddModal(
            f"Add a team (commits as {h.actor_label})", people(h)
        ),
        "team-lead": lambda h: authoring.TeamLeadModal(
            f"Name a team's lead (commits as {h.actor_label})",
            teams(h),
            members(h),
            "claims-agent",
        ),
        "new-contract": lambda h: NewContractModal(
            f"New contract (as {h.actor_label})",
            teams(h),
            provider="applicant-data",
            consumer="loan-decisioning",
            contract_title=exchange,
            hint=f"applicant-data → loan-decisioning exchange “{exchange}” with no contract: "
            "nobody owns this handshake. Create its contract to govern it; the editor opens "
            "on the draft.",
        ),
    }


def _choices(h: DialogHost) -> list[Any]:
    from textual.content import Content

    from workbench.tui.modals.pickers import Choice

    return [
        Choice(p.id, Content(f"{p.name} ({p.id}) · {p.role or '—'} · {p.team}"), p.id)
        for p in sorted(h.gov_state.people.values(), key=lambda p: p.name.lower())
    ]


DIALOG_NAMES = list(_dialogs(None))


async def _opened(pilot: Any) -> Screen:
    """The dialog, once composed and loaded (the sign dialogs load what is signed)."""
    app = pilot.app
    await wait_until(pilot, lambda: len(app.screen_stack) > 1 and app.screen.query("Button, Input"))
    screen = app.screen
    await wait_until(pilot, lambda: not getattr(screen, "busy", False))
    await pilot.pause()
    await pilot.pause()  # the body's height is set after the first layout
    return screen


def must_be_seen(screen: Screen) -> list[Any]:
    """What a user must see to act: every button, the fields read before Enter, and the
    filter of a picker (which has no buttons: Enter picks, Esc cancels)."""
    widgets = [b for b in screen.query(Button) if b.display]
    for selector in (
        "#commit-message",
        "#key-file",
        "#passphrase",
        "#export-out",
        "#picker-filter",
        "#help-filter",
    ):
        widgets += [w for w in screen.query(selector) if w.display]
    return widgets


@pytest.mark.snapshot
@pytest.mark.parametrize("name", DIALOG_NAMES)
def test_dialog_at_80x24(name: str, host_parts, snap_compare) -> None:  # type: ignore[no-untyped-def]
    service, state, preview = host_parts
    app = DialogHost(service, state, _dialogs(preview)[name])

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        screen = await _opened(pilot)
        hidden = [w for w in must_be_seen(screen) if not screen.fully_visible(w)]
        assert not hidden, f"{name}: not on screen at 80×24: {hidden}"

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_every_dialog_keeps_its_buttons_on_screen(size: tuple[int, int], host_parts) -> None:  # type: ignore[no-untyped-def]
    service, state, preview = host_parts
    dialogs = _dialogs(preview)
    seen: list[str] = []
    first, *rest = DIALOG_NAMES
    app = DialogHost(service, state, dialogs[first])
    async with app.run_test(size=size) as pilot:
        for name in [first, *rest]:
            if name != first:
                app.push_screen(dialogs[name](app))
            screen = await _opened(pilot)
            widgets = must_be_seen(screen)
            assert widgets, name
            for widget in widgets:
                region = widget.region
                assert app.screen.region.contains_region(region), (name, widget, region)
                assert screen.fully_visible(widget), (name, widget)
            seen.append(name)
            app.pop_screen()
            await pilot.pause()
    assert seen == DIALOG_NAMES
    assert not app.errors


async def test_enter_never_commits_a_message_that_is_not_on_screen(host_parts) -> None:  # type: ignore[no-untyped-def]
    """Below the size any dialog can fit, the commit message is clipped: Enter shows it
    instead of committing it unseen."""
    service, state, preview = host_parts
    results: list[Any] = []

    def make(h: DialogHost) -> Screen:
        return _dialogs(preview)["commit"](h)

    app = DialogHost(service, state, make)
    async with app.run_test(size=(80, 5), notifications=True) as pilot:
        await wait_until(pilot, lambda: len(app.screen_stack) > 1)
        dialog = app.screen
        dialog.dismiss = results.append  # type: ignore[method-assign]
        await pilot.pause()
        await pilot.pause()
        assert not dialog.fully_visible(dialog.query_one("#commit-message"))
        await pilot.press("enter")
        await pilot.pause()
        assert results == []
        assert any("Check the commit message" in n.message for n in app._notifications)
    # At 80×24 the same Enter commits the message shown.
    app = DialogHost(service, state, make)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _opened(pilot)
        dialog.dismiss = results.append  # type: ignore[method-assign]
        assert "Add contract data-to-model" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert results == ["Add contract data-to-model"]


async def test_pagedown_scrolls_the_diff_from_the_message_field(host_parts) -> None:  # type: ignore[no-untyped-def]
    service, state, preview = host_parts
    app = DialogHost(service, state, _dialogs(preview)["commit"])
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _opened(pilot)
        body = dialog.query_one("#commit-diff")
        assert app.focused is dialog.query_one("#commit-message")
        assert body.max_scroll_y > 0 and body.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0
        assert app.focused is dialog.query_one("#commit-message")
