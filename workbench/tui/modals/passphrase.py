"""The key part of every signing dialog: what you sign, then your key: your own key file
(the default), another key file (as the CLI's `--key`), or ssh-agent; and its passphrase
when it is encrypted.

`KeyModal` is the base of the contract sign dialog (`modals/sign.py`) and the registry sign
dialog (`screens/registry.py`). A subclass loads what is signed in a thread worker
(`prepare`, posting `SignPrepared`) and signs in another (`run_sign`, posting `SignerRejected`,
`SignRefused` or its own result message). A wrong passphrase or an unusable key file keeps
the dialog open with the message under the field; a refusal closes it and shows why.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Static
from textual.worker import Worker, WorkerState

from workbench.tui import bindings
from workbench.tui.messages import SignerRejected, SignPrepared, SignRefused
from workbench.tui.modals.base import SCROLL_BINDINGS, DialogFoot, DialogScreen

if TYPE_CHECKING:
    from workbench.service.core import Workbench
    from workbench.tui.app import WorkbenchApp


def probe_key(make_signer: Any) -> tuple[bool, str | None]:
    """(needs a passphrase, a note about the key) by trying the key without a passphrase."""
    from workbench.service.errors import KeyLoadError, PassphraseRequired

    try:
        make_signer()
    except PassphraseRequired:
        return True, None
    except KeyLoadError as exc:
        return False, f"{exc} (you can still use ssh-agent)"
    return False, None


def default_key_file(service: Workbench, person: str) -> Path | None:
    """The key file signing uses for `person` when the dialog names none."""
    return service.signing.keys.key_path(person)


def key_file_problem(key_file: Path | None, agent: bool) -> str | None:
    """Why a key file typed in a dialog cannot be used (None: it can, or none was typed, or
    ssh-agent signs). The sign dialogs and the export dialog judge the field alike."""
    if key_file is None or agent:
        return None
    if key_file.is_dir():
        return f"{key_file} is a folder: give the private key file"
    if not key_file.is_file():
        return f"{key_file}: no such key file"
    return None


def short_key_path(path: Path, root: Path) -> str:
    """The key file as the user knows it: inside the repo (the demo's keys) or under ~."""
    for base, prefix in ((root, ""), (Path.home(), "~/")):
        try:
            return prefix + str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


def key_placeholder(path: Path, root: Path, room: int = 70) -> str:
    """The key field's placeholder: the default key file, its folder elided when the whole
    path would not fit an 80-column dialog (a placeholder longer than its field is cut at a
    word and shows no file at all)."""
    text = f"key file (blank: {short_key_path(path, root)})"
    return text if len(text) <= room else f"key file (blank: …/{path.name})"


def typed_key_file(text: str) -> Path | None:
    """The key file typed in a dialog's field (None: blank, the default key)."""
    text = text.strip()
    return Path(text).expanduser() if text else None


def key_error_message(exc: BaseException) -> str:
    from workbench.service.errors import PassphraseRequired, WrongPassphrase

    if isinstance(exc, WrongPassphrase):
        return "Wrong passphrase: try again."
    if isinstance(exc, PassphraseRequired):
        return "This key is encrypted: type its passphrase."
    return str(exc)


class KeyModal(DialogScreen[Any]):
    """Shows the subject, asks for the key; subclasses implement `prepare` and `run_sign`."""

    BINDINGS = [*bindings.SIGN, *SCROLL_BINDINGS]
    action_label = "Sign"

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title
        self.needs_passphrase = False
        self.busy = True
        self.subject: Any = None
        self.service: Any = None  # the app's Workbench, read on mount (workers use it)
        self.default_key: Path | None = None  # the key file used when none is named

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)  # every screen runs in the WorkbenchApp

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sign-dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="sign-body", classes="dialog-scroll"):
                yield Static("loading…", id="sign-body-text")
            with DialogFoot():
                yield Input(placeholder="key file (blank: your own key)", id="key-file")
                yield Input(password=True, placeholder="passphrase of your key", id="passphrase")
                yield Checkbox("use ssh-agent (ctrl+g)", id="use-agent")
                yield Label("", id="key-error", markup=False)
                with Horizontal(classes="dialog-buttons"):
                    yield Button(f"{self.action_label} (enter)", id="sign", variant="primary")
                    yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        # (DialogScreen.on_mount runs too: Textual calls each class's handler.)
        self.service = self.wb.service
        self.query_one("#passphrase").display = False
        self.query_one("#sign", Button).disabled = True
        self.query_one("#cancel", Button).focus()
        self.prepare()

    def key_file(self) -> Path | None:
        """The key file typed in the dialog (None: the default one)."""
        return typed_key_file(self.query_one("#key-file", Input).value)

    # -- subclass hooks -----------------------------------------------------------------
    # Subclasses run these as workers, so what they return is not used.
    def prepare(self) -> object:
        raise NotImplementedError

    def run_sign(self, passphrase: str | None, agent: bool, key_file: Path | None) -> object:
        raise NotImplementedError

    def body(self, subject: Any) -> Content:
        raise NotImplementedError

    def can_sign(self, subject: Any) -> str | None:
        """None, or why there is nothing to sign (the button stays disabled)."""
        return None

    # -- flow -------------------------------------------------------------------------------
    def on_sign_prepared(self, message: SignPrepared) -> None:
        self.subject = message.subject
        self.needs_passphrase = message.needs_passphrase
        self.default_key = message.key_file
        if message.key_file is not None:
            self.query_one("#key-file", Input).placeholder = key_placeholder(
                message.key_file, self.service.root
            )
        self.query_one("#sign-body-text", Static).update(self.body(message.subject))
        blocked = self.can_sign(message.subject)
        self.busy = False
        self.query_one("#key-error", Label).update(blocked or message.key_note or "")
        if blocked:
            return
        self.query_one("#sign", Button).disabled = False
        field = self.query_one("#passphrase", Input)
        field.display = self.needs_passphrase
        (field if self.needs_passphrase else self.query_one("#sign", Button)).focus()

    def submit(self) -> None:
        if self.busy or self.subject is None or self.query_one("#sign", Button).disabled:
            return
        agent = self.query_one("#use-agent", Checkbox).value
        passphrase = self.query_one("#passphrase", Input).value
        key_file = self.key_file()
        problem = key_file_problem(key_file, agent)
        if problem:
            self.query_one("#key-error", Label).update(problem)
            return
        # Known to be encrypted: the default key, probed when the dialog opened. Another
        # file is tried as it is and asks for its passphrase if it needs one.
        probed = key_file is None or key_file == self.default_key
        if self.needs_passphrase and probed and not agent and not passphrase:
            self.query_one("#key-error", Label).update("Type the passphrase of your key.")
            return
        self.busy = True
        self.query_one("#sign", Button).disabled = True
        self.query_one("#key-error", Label).update("signing…")
        self.run_sign(passphrase or None, agent, key_file)

    def on_signer_rejected(self, message: SignerRejected) -> None:
        self.busy = False
        self.query_one("#key-error", Label).update(message.message)
        self.query_one("#sign", Button).disabled = False
        field = self.query_one("#passphrase", Input)
        field.value = ""
        if not self.query_one("#use-agent", Checkbox).value:
            self.needs_passphrase = True
            field.display = True
            field.focus()

    def on_sign_refused(self, message: SignRefused) -> None:
        self.dismiss(None)
        self.wb.show_refusal(self.title_text, message.reason)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.dismiss(None)
            self.wb.show_error(event.worker.error, event.worker.description or "sign")

    @on(Input.Submitted, "#passphrase")
    @on(Input.Submitted, "#key-file")
    def passphrase_submitted(self) -> None:
        self.submit()

    @on(Checkbox.Changed, "#use-agent")
    def agent_toggled(self, event: Checkbox.Changed) -> None:
        self.query_one("#passphrase").display = self.needs_passphrase and not event.value

    @on(Button.Pressed, "#sign")
    def sign_pressed(self) -> None:
        self.submit()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    def action_toggle_agent(self) -> None:
        box = self.query_one("#use-agent", Checkbox)
        box.value = not box.value

    def action_cancel(self) -> None:
        self.dismiss(None)
