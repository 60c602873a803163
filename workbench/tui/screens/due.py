"""Due: what somebody must do now: overdue reviews, pending acknowledgements, action items.

Each row names the person(s) and what to do. Enter acts on it: complete the review (a signed
attestation), acknowledge the notice (signed; with the coverage confirmation when the change
touches a living-compliance assertion), open the action item or the seam diagnostic.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static
from textual.worker import WorkerFailed

from workbench.tui import bindings
from workbench.tui.messages import DueLoaded, RecordSigned
from workbench.tui.screens.service_screen import ServiceScreen, needs_passphrase, signer_for
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

KIND_WORDS = {
    "review": "review",
    "contact-check": "contact check",
    "term-review": "term review",
    "ack": "acknowledge",
    "coverage": "coverage",
    "re-sign": "co-sign",
    "action": "action item",
    "diagnostic": "diagnostic",
}
ROW_KIND = {"overdue": "invalid", "pending": "warning", "lint": "warning", "due-soon": ""}


def item_key(item: Any) -> str:
    return f"{item.kind}|{item.contract}|{item.ref}|{item.state}"


async def signed_act(screen: ServiceScreen, start: Any, title: str) -> None:
    """Run a signing worker; ask for the key's passphrase and retry while it needs one."""
    from workbench.tui.modals.obligations import PassphraseModal

    passphrase: str | None = None
    hint = f"{screen.wb.actor_label}'s signing key is encrypted."
    while True:
        try:
            outcome = await start(passphrase).wait()
        except WorkerFailed:
            return  # shown by the error dialog
        if outcome != "passphrase":
            return
        answer = await screen.app.push_screen_wait(PassphraseModal(title, hint))
        if not answer:
            return
        passphrase = answer["passphrase"]
        hint = "That passphrase did not unlock the key; try again."


class DueScreen(ServiceScreen):
    BINDINGS = bindings.DUE
    HELP = (
        "Everything due, overdue first, each with its named person. Enter acts on the "
        "highlighted item: review, acknowledge, open the action item or the diagnostic."
    )
    DEFAULT_CSS = """
    DueScreen #due-summary { height: 1; color: $text-muted; padding: 0 1; }
    DueScreen #due-table { height: 1fr; }
    DueScreen #due-detail {
        height: auto; max-height: 8; padding: 0 1; border-top: solid $border-blurred;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Any] = {}
        self.notices: list[Any] = []

    def compose(self) -> ComposeResult:
        yield TopBar("due")
        yield Static("loading…", id="due-summary", markup=False)
        yield VirtualTable(
            [
                Column("State", 9),
                Column("What", 13),
                Column("Contract / seam", 32),
                Column("Who", 28),
                Column("Due", 11),
                Column("Details", 20, flex=True),
            ],
            id="due-table",
        )
        yield Static("", id="due-detail")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(VirtualTable).focus()

    def state_changed(self) -> None:
        self.load_due()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="due",
        description="load what is due",
    )
    def load_due(self) -> None:
        ob = self.obligations()
        self.post_result(DueLoaded(ob.due(), ob.notices.statuses(pending_only=True)))

    @on(DueLoaded)
    def show_due(self, message: DueLoaded) -> None:
        self.notices = message.notices
        self.items = {item_key(i): i for i in message.items}
        rows = [
            Row(
                item_key(i),
                (
                    i.state,
                    KIND_WORDS.get(i.kind, i.kind),
                    i.contract,
                    ", ".join(i.people) or "nobody named",
                    f"{i.due:%Y-%m-%d}" if i.due else "—",
                    i.what,
                ),
                ROW_KIND.get(i.state, ""),
            )
            for i in message.items
        ]
        table = self.query_one(VirtualTable)
        table.empty_text = "nothing is due"
        table.set_rows(rows)
        overdue = sum(1 for i in message.items if i.state == "overdue")
        self.query_one("#due-summary", Static).update(
            f"{len(message.items)} item(s) · {overdue} overdue · as of {self.wb.service.now:%Y-%m-%d %H:%M}"
        )

    @property
    def current(self) -> Any | None:
        return self.items.get(self.query_one(VirtualTable).cursor_key or "")

    @on(VirtualTable.Highlighted, "#due-table")
    def show_item(self, event: VirtualTable.Highlighted) -> None:
        i = self.items.get(event.key or "")
        detail = self.query_one("#due-detail", Static)
        if i is None:
            detail.update("")
            return
        detail.update(
            Content("\n").join(
                [
                    Content.assemble(
                        (f"{i.state} {KIND_WORDS.get(i.kind, i.kind)}", "bold"),
                        f"  {i.contract}  ·  {i.ref}",
                    ),
                    Content.assemble(("who   ", "$text-muted"), ", ".join(i.people) or "—"),
                    Content.assemble(("what  ", "$text-muted"), i.what),
                    Content.assemble(("do    ", "$text-muted"), (i.command, "$text-accent")),
                ]
            )
        )

    @on(VirtualTable.Selected, "#due-table")
    def selected(self) -> None:
        self.action_act()

    # -- acting ---------------------------------------------------------------------------
    def action_act(self) -> None:
        i = self.current
        if i is None:
            return
        if i.kind in ("review", "contact-check", "term-review", "ack", "coverage"):
            if self.wb.readonly:
                self.notify("Read-only mode: nothing can be signed", severity="warning")
                return
            actor = self.wb.actor
            if actor is not None and i.people and actor.id not in i.people:
                self.notify(
                    f"This is for {', '.join(i.people)}; you are {actor.id}.",
                    severity="warning",
                    markup=False,
                )
                return
            if i.kind in ("review", "contact-check", "term-review"):
                self.review_flow(i)
            else:
                self.ack_flow(i)
        elif i.kind == "action":
            self.wb.show_actions(i.ref)
        elif i.kind == "diagnostic":
            self.wb.show_diagnostic(i.ref)
        else:  # re-sign: the co-signing lives on the contract
            self.wb.open_seam(i.contract)

    @work(exclusive=True, exit_on_error=False, group="review-flow", description="review")
    async def review_flow(self, item: Any) -> None:
        from workbench.tui.modals.obligations import ReviewModal

        term = item.ref if item.kind == "term-review" else None
        what = f"term {term} of {item.contract}" if term else item.contract
        form = await self.app.push_screen_wait(
            ReviewModal(
                f"Complete the review of {what} as {self.wb.actor_label}",
                f"{item.what}. Signing attests you reviewed the committed contract.",
                contacts=item.kind == "contact-check",
            )
        )
        if not form:
            return
        await signed_act(
            self,
            lambda passphrase: self.sign_review(item.contract, form, passphrase, term),
            f"Unlock the key to sign the review of {item.contract}",
        )

    @work(exclusive=True, exit_on_error=False, group="ack-flow", description="acknowledge")
    async def ack_flow(self, item: Any) -> None:
        from workbench.tui.modals.obligations import AckModal

        notice = next((n for n in self.notices if n.id == item.ref), None)
        hint = item.what
        if notice is not None:
            hint = f"{notice.summary} ({notice.short}, {notice.classification}) · {item.what}"
        form = await self.app.push_screen_wait(
            AckModal(
                f"Acknowledge {item.ref} as {self.wb.actor_label}",
                hint,
                coverage=item.kind == "coverage",
            )
        )
        if not form:
            return
        number = item.ref.rpartition("#")[2] if "#" in item.ref else None
        await signed_act(
            self,
            lambda passphrase: self.sign_ack(item.contract, number, form, passphrase),
            f"Unlock the key to acknowledge {item.ref}",
        )

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="sign",
        description="sign the review",
    )
    def sign_review(
        self, contract: str, form: dict[str, Any], passphrase: str | None, term: str | None = None
    ) -> str:
        try:
            signer = signer_for(self.wb.service, passphrase)
            result = self.obligations().reviews.complete(
                contract,
                contacts_confirmed=bool(form["contacts_confirmed"]),
                outcome=str(form["outcome"]),
                notes=form["notes"],
                signer=signer,
                term=term,
            )
        except Exception as exc:
            if needs_passphrase(exc):
                return "passphrase"
            raise
        self.post_result(RecordSigned(f"Review of {contract}", [result]))
        return "done"

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="sign",
        description="sign the acknowledgement",
    )
    def sign_ack(
        self, contract: str, number: str | None, form: dict[str, Any], passphrase: str | None
    ) -> str:
        try:
            signer = signer_for(self.wb.service, passphrase)
            result = self.obligations().notices.acknowledge(
                contract, number, coverage=form["coverage"], note=form["note"], signer=signer
            )
        except Exception as exc:
            if needs_passphrase(exc):
                return "passphrase"
            raise
        self.post_result(RecordSigned(f"Acknowledgement of {contract}#{number}", [result]))
        return "done"

    @on(RecordSigned)
    def record_signed(self, message: RecordSigned) -> None:
        for r in message.results:
            self.notify(
                f"{message.what}: {r.message} (commit {r.commit[:8]})",
                title="Recorded",
                severity="information" if r.signed else "warning",
                markup=False,
            )
        self.wb.load_state()  # marks and this list change

    # -- elsewhere ---------------------------------------------------------------------------
    def action_actions(self) -> None:
        i = self.current
        self.wb.show_actions(i.ref if i is not None and i.kind == "action" else None)

    def action_diagnose(self) -> None:
        i = self.current
        if i is None:
            self.notify("Highlight an item of the seam to diagnose", severity="warning")
            return
        self.wb.show_diagnostic(i.ref if i.kind == "diagnostic" else i.contract)

    def action_gate(self) -> None:
        self.wb.show_gate()

    def action_weekly(self) -> None:
        self.wb.show_report("weekly")

    def action_boundary(self) -> None:
        self.wb.show_report("boundary")

    def action_back(self) -> None:
        self.dismiss()
