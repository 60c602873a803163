"""The key registry: admins and threshold, keys per person, revoked keys, the head version and
its root digest (pinned or not), a pending version with who has signed it; `s` signs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from workbench.tui import bindings
from workbench.tui.messages import (
    RegistryLoaded,
    RegistrySigned,
    SignerRejected,
    SignPrepared,
    SignRefused,
)
from workbench.tui.modals.passphrase import (
    KeyModal,
    default_key_file,
    key_error_message,
    probe_key,
)
from workbench.tui.screens.base import BaseScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar


def short_namespaces(namespaces: Any) -> str:
    """``handshake-contract-v1@example.org`` → ``contract``: the purposes a key may sign."""
    out = []
    for ns in namespaces:
        name = str(ns).split("@", 1)[0].removeprefix("handshake-")
        out.append(name.rsplit("-v", 1)[0] if name[-1:].isdigit() else name)
    return ",".join(out)


def registry_content(view: Any, state: Any = None) -> Content:
    from workbench.tui.screens.signing import who

    def row(label: str, *value: Content | str | tuple[str, str]) -> Content:
        return Content.assemble((f"{label:<16}", "$text-muted"), *value)

    head = f"v{view.head_version}" if view.head_version else "none (no signed version yet)"
    lines = [
        Content.styled("Key registry", "bold $text-primary"),
        row(
            "status",
            ("✓ ok", "bold $text-success") if view.ok else ("✗ not usable", "bold $text-error"),
        ),
        row("head version", head),
        row("root sha256", view.root_sha256 or "—"),
    ]
    if view.pinned_root and view.pinned_root == view.root_sha256:
        lines.append(row("trust root", ("pinned in this clone (matches)", "$text-success")))
    elif view.pinned_root:
        lines.append(
            row("trust root", (f"pinned {view.pinned_root}: DOES NOT MATCH", "$text-error"))
        )
    else:
        lines.append(row("trust root", ("not pinned (trust on first use)", "$text-warning")))
    for problem in view.problems:
        lines.append(Content.styled(f"! {problem}", "$text-error"))
    for note in view.notes:
        lines.append(row("note", note))
    lines += [
        Content(""),
        Content.styled("Admins", "bold $text-primary"),
        row(
            "threshold",
            f"{view.threshold} admin signature(s) per change" if view.threshold else "—",
        ),
    ]
    for admin in view.admins:
        lines.append(row("admin", who(state, admin)))
    if view.pending_version is not None:
        lines += [
            Content(""),
            Content.styled(f"Pending version v{view.pending_version}", "bold $text-warning"),
            row("signed by", ", ".join(who(state, p) for p in view.pending_signed) or "nobody yet"),
            row(
                "still needed",
                (", ".join(who(state, p) for p in view.pending_missing) or "—", "$text-warning"),
            ),
            Content.styled("Press s to sign it as an admin.", "$text-muted"),
        ]
    lines += [Content(""), Content.styled(f"Keys ({len(view.keys)})", "bold $text-primary")]
    for key in view.keys:
        valid = f"  until {key['valid_before']}" if key.get("valid_before") else ""
        lines.append(
            Content.assemble(
                (f"{who(state, str(key['person'])):<36}", "bold"),
                f" {key['fingerprint']}",
                (f"  {short_namespaces(key['namespaces'])}{valid}", "$text-muted"),
            )
        )
    lines += [
        Content(""),
        Content.styled(f"Revoked keys ({len(view.revoked)})", "bold $text-primary"),
    ]
    for fpr in view.revoked:
        lines.append(Content.styled(f"✗ {fpr}", "$text-error"))
    if not view.revoked:
        lines.append(Content.styled("none", "$text-muted"))
    return Content("\n").join(lines)


class RegistrySignModal(KeyModal):
    """An admin signs the pending registry version; dismisses with the `RegistryChange`."""

    action_label = "Sign and commit"

    def __init__(self, view: Any) -> None:
        super().__init__(f"Sign key registry v{view.pending_version}")
        self.view = view

    def body(self, subject: Any) -> Content:
        return registry_content(subject, self.wb.gov_state)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign", description="prepare")
    def prepare(self) -> None:
        svc = self.service.signing
        try:
            person = self.service.actor().id
        except Exception as exc:  # noqa: BLE001 - shown as a refusal
            self.post_message(SignRefused(str(exc)))
            return
        needs, note = probe_key(lambda: svc.keys.make_signer(person))
        key = default_key_file(self.service, person)
        self.post_message(SignPrepared(self.view, needs, note, key))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign", description="sign")
    def run_sign(self, passphrase: str | None, agent: bool, key_file: Path | None) -> None:
        from workbench.service.errors import AgentSigningError, KeyLoadError, SigningRefused

        svc = self.service.signing
        try:
            signer = svc.keys.make_signer(
                self.service.actor().id, key_path=key_file, passphrase=passphrase, agent=agent
            )
            change = svc.registry.sign(signer)
        except (KeyLoadError, AgentSigningError) as exc:
            self.post_message(SignerRejected(key_error_message(exc)))
            return
        except SigningRefused as exc:
            self.post_message(SignRefused(str(exc)))
            return
        self.wb.signer = signer  # later commits of this session are SSH-signed too
        self.post_message(RegistrySigned(change))

    def on_registry_signed(self, message: RegistrySigned) -> None:
        self.dismiss(message.change)


class RegistryScreen(BaseScreen):
    BINDINGS = bindings.REGISTRY
    HELP = "The key registry. s signs the pending version (admins only). Esc goes back."

    def __init__(self) -> None:
        super().__init__()
        self.view: Any = None

    def compose(self) -> ComposeResult:
        yield TopBar("key registry")
        with VerticalScroll(id="registry-scroll"):
            yield Static("loading…", id="registry-detail")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#registry-scroll").focus()

    def state_changed(self) -> None:
        self.load_registry(self.wb.service)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="registry", description="registry"
    )
    def load_registry(self, service: Any) -> None:
        self.post_message(RegistryLoaded(service.signing.registry_view()))

    def on_registry_loaded(self, message: RegistryLoaded) -> None:
        self.view = message.view
        self.query_one("#registry-detail", Static).update(
            registry_content(message.view, self.wb.gov_state)
        )
        self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.wb.show_error(event.worker.error, event.worker.description or "registry")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        pending = self.view is not None and self.view.pending_version is not None
        if action == "sign_pending" and (self.wb.readonly or not pending):
            return None
        return True

    def action_sign_pending(self) -> None:
        if self.wb.readonly:
            self.notify("Read-only mode: cannot sign", severity="warning")
            return
        if self.view is None or self.view.pending_version is None:
            self.notify("No registry version is waiting for signatures")
            return
        self.app.push_screen(RegistrySignModal(self.view), self._signed)

    def _signed(self, change: Any) -> None:
        if change is not None:
            self.notify(
                f"Signed registry v{change.version} (commit {change.commit[:8]})",
                title="Registry",
                markup=False,
            )
            self.wb.load_state()

    def action_back(self) -> None:
        self.dismiss()
