"""Contracts: a searchable list, and the detail view of one contract."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from workbench.tui import bindings
from workbench.tui.screens.base import BaseScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.seam_map import GLYPHS
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

if TYPE_CHECKING:
    from datetime import date, datetime

    from workbench.governance.pages import PageView
    from workbench.model.documents import ContractDoc, GovernanceState
    from workbench.model.problems import Problem
    from workbench.tui.messages import VerdictLoaded


class ContractsScreen(BaseScreen):
    # Focus the list as the screen is built, not the search box first and the list a frame
    # later (which also redrew the footer's keys a frame late).
    AUTO_FOCUS = "#contract-table"
    BINDINGS = bindings.CONTRACTS
    HELP = "Every handshake contract. Type / to search; Enter opens, e edits."

    def compose(self) -> ComposeResult:
        yield TopBar("contracts")
        yield Input(
            placeholder="search contracts: id, title, team, owner, term…", id="contract-filter"
        )
        yield VirtualTable(
            [
                Column("Contract", 32),
                Column("Kind", 18),
                Column("Owner", 16),
                Column("State", 16),
                Column("Title", 20, flex=True),
            ],
            id="contract-table",
        )
        yield Static("", id="contract-count", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VirtualTable).focus()

    def state_changed(self) -> None:
        state = self.wb.gov_state
        assert state is not None, "state_changed follows a state load"
        rows = []
        for v in self.wb.views:
            if not v.governed:
                continue
            doc = state.contracts.get(v.id)
            terms = (
                " ".join(f"{t.id} {t.kind} {t.owner}" for t in doc.contract.terms) if doc else ""
            )
            kind = {
                "owner-departed": "departed",
                "invalid": "invalid",
                "owner-missing": "invalid",
                "conflict": "invalid",
            }
            rows.append(
                Row(
                    v.id,
                    (
                        v.id,
                        v.kind,
                        v.owner or "—",
                        f"{GLYPHS.get(v.state, '•')} {v.state}",
                        v.title,
                    ),
                    kind.get(v.state, ""),
                    search=f"{v.id} {v.title} {v.provider} {v.consumer} {v.owner} {v.kind} "
                    f"{v.state} {terms}".lower(),
                )
            )
        self.query_one(VirtualTable).set_rows(rows)
        self._count()

    def _count(self) -> None:
        table = self.query_one(VirtualTable)
        self.query_one("#contract-count", Static).update(
            f" {table.row_count} of {table.total_count} contracts"
        )

    @on(Input.Changed, "#contract-filter")
    def search(self, event: Input.Changed) -> None:
        self.query_one(VirtualTable).set_filter(event.value)
        self._count()

    @on(Input.Submitted, "#contract-filter")
    def search_done(self) -> None:
        self.query_one(VirtualTable).focus()

    @on(VirtualTable.Selected)
    def open_selected(self, event: VirtualTable.Selected) -> None:
        self.wb.open_seam(event.key)

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_open_contract(self) -> None:
        self.query_one(VirtualTable).action_select()

    def action_edit_contract(self) -> None:
        key = self.query_one(VirtualTable).cursor_key
        if key:
            self.wb.edit_contract(key)

    def action_new_contract(self) -> None:
        from workbench.tui.modals.new_contract import new_contract

        new_contract(self.wb)


def person_content(state: GovernanceState, pid: str | None, today: date) -> Content:
    """A person reference: name and id; departed people are marked with their replacement."""
    if not pid:
        return Content("—")
    person = state.people.get(pid)
    if person is None:
        return Content.styled(f"{pid} (not in the registry)", "bold $text-error")
    text = f"{person.name} ({pid})"
    if person.has_left(today):
        repl = f" → replaced by {person.replaced_by}" if person.replaced_by else ""
        return Content.styled(f"{text} LEFT {person.left}{repl}", "bold $text-error")
    return Content(text)


def contract_content(
    doc: ContractDoc,
    state: GovernanceState,
    today: date,
    problems: Sequence[Problem],
    pages: Sequence[PageView] | None = None,
    now: datetime | None = None,
) -> Content:
    from workbench.model.describe import describe_term
    from workbench.model.terms import LineageTerm

    c = doc.contract

    def p(pid: str) -> Content:
        return person_content(state, pid, today)

    def row(label: str, *value: Content | str | tuple[str, str]) -> Content:
        return Content.assemble((f"{label:<14}", "$text-muted"), *value)

    # The windows in force: the contract's own or the default, at most the signed limit.
    cadence = state.policy.window("review_cadence", c.review.cadence)
    first = state.policy.window("first_review_after", c.review.first_after)
    contact = state.policy.window("contact_check", c.review.contact_check)
    window = state.policy.window("ack_window", c.change_protocol.ack_window)
    from workbench.governance.paging import page_test

    # With the seam's pages (once loaded): a missed acknowledgement fails it, as in the gate.
    page = page_test(state, c, today, pages, now)
    page_style = {"pass": "$text-success", "warn": "$text-warning"}.get(page.status, "$text-error")
    out = [
        Content.assemble((c.title, "bold"), f"  [{c.id}]"),
        row("status", f"{c.status.value}" + (f", adopted {c.adopted}" if c.adopted else "")),
        row("seam", f"{c.seam.provider} → {c.seam.consumer}  ({c.seam.kind.value})"),
    ]
    if c.seam.description:
        out.append(row("", c.seam.description))
    out += [
        row("owner", p(c.owner)),
        Content(""),
        Content.styled("Parties", "bold $text-primary"),
        row("provider lead", p(c.parties.provider_lead)),
        row("consumer lead", p(c.parties.consumer_lead)),
    ]
    for cos in c.cosigners:
        out.append(row("co-signer", p(cos)))
    e = c.escalation
    out += [
        Content(""),
        Content.styled("Escalation path", "bold $text-primary"),
        row("1. page", p(e.primary)),
        row("2. backup", p(e.backup)),
        row("channel", f"{e.channel}, acknowledge within {e.ack_sla.human()}"),
        row("page test", (page.status, page_style), f"  {page.reason}"),
        Content(""),
        Content.styled("Change protocol", "bold $text-primary"),
        row("notify", *(_join([p(x) for x in c.change_protocol.notify]) or [Content("—")])),
        row("ack window", window.human() if window else "—"),
    ]
    if c.change_protocol.channel:
        out.append(row("channel", c.change_protocol.channel))
    out += [
        Content(""),
        Content.styled("Review cadence", "bold $text-primary"),
        row("every", cadence.human() if cadence else "—"),
        row("first after", first.human() if first else "—"),
        row("contact check", contact.human() if contact else "—"),
        Content(""),
        Content.styled(f"Terms ({len(c.terms)})", "bold $text-primary"),
    ]
    for term in c.terms:
        out.append(Content.assemble(("● ", "$text-accent"), (term.id, "bold"), f"  {term.kind}"))
        if term.title:
            out.append(row("  title", term.title))
        out.append(row("  owner", p(term.owner)))
        out.append(row("  threshold", describe_term(term)))
        for extra in ("compliance_reviewer", "change_cosigner", "reviewer", "engineering_lead"):
            value = getattr(term, extra, None)
            if value:
                out.append(row(f"  {extra.replace('_', ' ')}", p(value)))
        if isinstance(term, LineageTerm):
            for src in term.included:
                out.append(row("  includes", f"{src.source} (every {src.refresh_cadence.human()})"))
            for ex_src in term.excluded:
                out.append(row("  excludes", f"{ex_src.source}: {ex_src.reason}"))
            if term.subscribers:
                out.append(row("  subscribers", *_join([p(x) for x in term.subscribers])))
    for ex in c.exemptions:
        out.append(row("exemption", f"{ex.term}: {ex.reason} (expires {ex.expires})"))
    if problems:
        out += [Content(""), Content.styled(f"Problems ({len(problems)})", "bold $text-error")]
        for prob in problems:
            out.append(Content.styled(f"line {prob.line}: {prob.message}", "$text-error"))
    return Content("\n").join(out)


def _join(items: list[Content]) -> list[Content]:
    out: list[Content] = []
    for i, item in enumerate(items):
        if i:
            out.append(Content(", "))
        out.append(item)
    return out


NOT_DRAWN = object()  # the contract's detail is not drawn yet for this state


class ContractScreen(BaseScreen):
    """One contract in full: parties, owner, terms, escalation, change protocol, cadence."""

    BINDINGS = bindings.CONTRACT
    HELP = "A contract. e edits the TOML, o changes a person, H shows history."

    def __init__(self, contract_id: str) -> None:
        super().__init__()
        self.contract_id = contract_id

    def compose(self) -> ComposeResult:
        yield TopBar(f"contract {self.contract_id}")
        with VerticalScroll(id="contract-scroll"):
            yield Static("Signatures: loading…", id="contract-verdict")
            yield Static("loading…", id="contract-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#contract-scroll").focus()

    def state_changed(self) -> None:
        state = self.wb.gov_state
        assert state is not None, "state_changed follows a state load"
        doc = state.contracts.get(self.contract_id)
        detail = self.query_one("#contract-detail", Static)
        if doc is None:
            detail.update(
                Content(f"{self.contract_id}: this contract does not parse. Press e to edit it.")
            )
            return
        # The verdict worked out while the cursor rested on this contract: drawn in the
        # same frame as the rest; asked again below, and redrawn only if it changed.
        ahead = self.wb.cached_verdict(self.contract_id)
        self._shown: tuple[Any, Any, Any] | None = None
        self._detail_pages: Any = NOT_DRAWN
        if ahead is not None:
            self._show_verdict(*ahead)
        else:
            problems = [p for p in state.problems_for(doc.path)]
            detail.update(contract_content(doc, state, self.wb.today, problems))
            self._detail_pages = None
        self.wb.load_verdict(self, self.contract_id)

    def on_verdict_loaded(self, message: VerdictLoaded) -> None:
        if message.contract_id != self.contract_id:
            return
        found = (message.verdict, message.pages, message.now)
        if found != getattr(self, "_shown", None):
            self._show_verdict(*found)

    def _show_verdict(self, verdict: Any, pages: Any, now: Any) -> None:
        from workbench.tui.screens.signing import verdict_content

        self._shown = (verdict, pages, now)
        state = self.wb.gov_state
        self.query_one("#contract-verdict", Static).update(verdict_content(verdict, state))
        doc = state.contracts.get(self.contract_id) if state is not None else None
        # The detail again only for pages it has not drawn (one Static less to lay out).
        if state is not None and doc is not None and self._detail_pages != pages:
            problems = [p for p in state.problems_for(doc.path)]
            self.query_one("#contract-detail", Static).update(
                contract_content(doc, state, self.wb.today, problems, pages or None, now)
            )
            self._detail_pages = pages

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("change_person", "external_editor", "sign") and self.wb.readonly:
            return None
        return True

    def action_edit(self) -> None:
        self.wb.edit_contract(self.contract_id)

    def action_history(self) -> None:
        self.wb.show_history(self.contract_id)

    def action_change_person(self) -> None:
        self.wb.change_person(self.contract_id)

    def action_external_editor(self) -> None:
        self.wb.external_edit(self.contract_id)

    def action_sign(self) -> None:
        self.wb.sign_contract(self.contract_id)

    def action_back(self) -> None:
        self.dismiss()
