"""Co-sign a contract: exactly what you sign (diff, digests, your roles), then your key."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.content import Content

from workbench.tui.messages import ContractSigned, SignerRejected, SignPrepared, SignRefused
from workbench.tui.modals.commit import diff_content
from workbench.tui.modals.passphrase import KeyModal, key_error_message, probe_key


def sign_preview_content(preview: Any) -> Content:
    """The sign preview: version, roles, digests, then the diff since your last signature."""

    def row(label: str, value: str, style: str = "") -> Content:
        return Content.assemble((f"{label:<18}", "$text-muted"), (value, style))

    if preview.last_signed_version:
        since = f"changes since v{preview.last_signed_version}, the version you last signed"
    else:
        since = "the whole contract (your first signature on it)"
    lines = [
        row("contract", f"{preview.contract_id}  v{preview.version}", "bold"),
        row("you sign as", f"{preview.person}: {', '.join(preview.roles)}", "$text-accent"),
        row("contract sha256", preview.contract_sha256),
        row("statement sha256", preview.statement_sha256),
        row(
            "statement",
            "new (first signature of this version)"
            if preview.new_statement
            else "exists (co-signing it)",
        ),
        row("verdict now", f"{preview.verdict.state}: {preview.verdict.reason}"),
    ]
    if preview.already_signed:
        lines.append(Content.styled("You have already signed this version.", "$text-success"))
    lines += [Content(""), Content.styled(f"What you sign: {since}", "bold $text-primary")]
    return Content("\n").join(lines) + Content("\n") + diff_content(preview.diff)


class SignModal(KeyModal):
    """Dismisses with the `SignResult`, or None when cancelled or refused."""

    action_label = "Sign and commit"

    def __init__(self, contract_id: str) -> None:
        super().__init__(f"Co-sign {contract_id}")
        self.contract_id = contract_id

    def body(self, subject: Any) -> Content:
        return sign_preview_content(subject)

    def can_sign(self, subject: Any) -> str | None:
        return (
            "You have already signed this version: nothing to do."
            if subject.already_signed
            else None
        )

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="sign",
        description="prepare the signature",
    )
    def prepare(self) -> None:
        from workbench.service.errors import InvalidContract, SigningRefused

        svc = self.service.signing
        try:
            preview = svc.contracts.preview(self.contract_id)
        except InvalidContract as exc:
            # Each problem with its file:line:column: what to fix before anyone signs.
            self.post_message(
                SignRefused("\n".join([str(exc)] + [p.render() for p in exc.problems]))
            )
            return
        except SigningRefused as exc:
            self.post_message(SignRefused(str(exc)))
            return
        needs, note = probe_key(lambda: svc.keys.make_signer(preview.person))
        self.post_message(SignPrepared(preview, needs, note))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign", description="sign")
    def run_sign(self, passphrase: str | None, agent: bool) -> None:
        from workbench.service.errors import AgentSigningError, KeyLoadError, SigningRefused

        svc = self.service.signing
        try:
            signer = svc.keys.make_signer(self.subject.person, passphrase=passphrase, agent=agent)
            result = svc.contracts.sign(self.contract_id, signer)
        except (KeyLoadError, AgentSigningError) as exc:
            self.post_message(SignerRejected(key_error_message(exc)))
            return
        except SigningRefused as exc:
            self.post_message(SignRefused(str(exc)))
            return
        self.wb.signer = signer  # later commits of this session are SSH-signed too
        self.post_message(ContractSigned(result))

    def on_contract_signed(self, message: ContractSigned) -> None:
        self.dismiss(message.result)
