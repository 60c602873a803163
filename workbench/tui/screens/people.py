"""People: the registry; what each person owns, leads and is paged for; who has left.

And the changes `workbench person add/leave` and `workbench team add/lead` make: `a` adds
a person, `l` records that the highlighted person leaves (and their successor), `t` adds a
team, `L` names a team's lead (modals/authoring.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from workbench.tui import bindings
from workbench.tui.screens.base import BaseScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

if TYPE_CHECKING:
    from workbench.governance.people import PersonUsage


def person_detail(u: PersonUsage) -> Content:
    p = u.person
    lines = [Content.assemble((p.name, "bold"), f"  ({p.id})")]
    lines.append(Content(f"{p.role or '—'} · team {p.team} · {p.authority.value} · {p.email}"))
    if u.departed:
        repl = f"; replaced by {p.replaced_by}" if p.replaced_by else "; no replacement named"
        lines.append(Content.styled(f"LEFT on {p.left}{repl}", "bold $text-error"))
        if u.load:
            lines.append(Content.styled("Still named in contracts: reassign these.", "$text-error"))
    if p.delegate:
        lines.append(Content(f"delegate: {p.delegate}"))
    for title, items in (
        ("Owns", u.owns),
        ("Leads", u.leads),
        ("Paged for", u.paged_for),
        ("Also named as", u.other),
    ):
        lines.append(Content(""))
        lines.append(Content.styled(f"{title} ({len(items)})", "bold $text-primary"))
        lines.extend(Content(f"  {item}") for item in items) if items else lines.append(
            Content.styled("  —", "$text-muted")
        )
    return Content("\n").join(lines)


class PeopleScreen(BaseScreen):
    # Focus the list as the screen is built, not the search box first and the list a frame
    # later (which also redrew the footer's keys a frame late).
    AUTO_FOCUS = "#people-table"
    BINDINGS = bindings.PEOPLE
    HELP = (
        "The people registry. Departed people are highlighted with their replacement. "
        "a adds a person, l records a leave, t adds a team, L names a team's lead."
    )

    def __init__(self) -> None:
        super().__init__()
        self.usage: dict[str, Any] = {}
        self._shown: str | None = None

    def compose(self) -> ComposeResult:
        yield TopBar("people")
        yield Input(placeholder="filter people: name, team, role, contract…", id="people-filter")
        with Horizontal(id="people-body"):
            yield VirtualTable(
                [
                    Column("Person", 18),
                    Column("Team", 16),
                    Column("Owns", 4),
                    Column("Paged", 5),
                    Column("Status", 12, flex=True),
                ],
                id="people-table",
            )
            with VerticalScroll(id="person-scroll"):
                yield Static("loading…", id="person-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VirtualTable).focus()
        self.wb.people_signal.subscribe(self, self.show_people)

    def state_changed(self) -> None:
        usage = self.wb.people_usage()
        if usage is None:
            self.wb.want_people()
        else:
            self.show_people(usage)

    def show_people(self, usage: list[Any]) -> None:
        self.usage = {u.person.id: u for u in usage}
        rows = []
        for u in usage:
            p = u.person
            status = (
                f"LEFT → {p.replaced_by}"
                if u.departed and p.replaced_by
                else "LEFT"
                if u.departed
                else p.role
            )
            rows.append(
                Row(
                    p.id,
                    (p.name, p.team, str(len(u.owns)), str(len(u.paged_for)), status),
                    "departed" if u.departed else "",
                    search=" ".join(
                        [p.id, p.name, p.team, p.role, status, *u.owns, *u.leads, *u.paged_for]
                    ).lower(),
                )
            )
        table = self.query_one(VirtualTable)
        table.set_rows(rows)
        # Drawn with the rows, not a frame later when the table's Highlighted arrives.
        self._detail(table.cursor_key, force=True)

    @on(VirtualTable.Highlighted, "#people-table")
    def show_person(self, event: VirtualTable.Highlighted) -> None:
        self._detail(event.key)

    def _detail(self, key: str | None, force: bool = False) -> None:
        if key == self._shown and not force:
            return
        self._shown = key
        u = self.usage.get(key or "")
        self.query_one("#person-detail", Static).update(
            person_detail(u) if u else Content("no one matches")
        )

    @on(Input.Changed, "#people-filter")
    def filter_people(self, event: Input.Changed) -> None:
        self.query_one(VirtualTable).set_filter(event.value)

    @on(Input.Submitted, "#people-filter")
    def filter_done(self) -> None:
        self.query_one(VirtualTable).focus()

    # -- changes (each one commit as the acting person) --------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add_person", "person_leaves", "add_team", "team_lead") and (
            self.wb.readonly
        ):
            return None  # shown greyed: read-only mode
        return True

    def action_add_person(self) -> None:
        from workbench.tui.modals import authoring

        authoring.add_person(self.wb)  # the acting person's team by default, as in the CLI

    def action_person_leaves(self) -> None:
        from workbench.tui.modals import authoring

        authoring.person_leaves(self.wb, self._shown)

    def action_add_team(self) -> None:
        from workbench.tui.modals import authoring

        authoring.add_team(self.wb)

    def action_team_lead(self) -> None:
        from workbench.tui.modals import authoring

        authoring.team_lead(self.wb, self._shown)

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_back(self) -> None:
        self.query_one(VirtualTable).focus()
