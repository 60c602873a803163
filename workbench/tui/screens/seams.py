"""Home: the seam map (layered, box drawing) and the same seams as a filterable list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import ContentSwitcher, Input, Static

from workbench.tui import bindings
from workbench.tui.screens.base import BaseScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.seam_map import GLYPHS, LEGEND, STATE_WORDS, SeamMap, layout_map
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable

if TYPE_CHECKING:
    from workbench.governance.seam_view import SeamView
    from workbench.tui.widgets.seam_map import MapCanvas

ROW_KIND = {
    "governed": "",
    "ungoverned": "ungoverned",
    "owner-departed": "departed",
    "owner-missing": "invalid",
    "invalid": "invalid",
    "conflict": "invalid",
}


def seam_details(view: SeamView | None, names: dict[str, str] | None) -> Content:
    """The panel under the map: everything about the selected seam in a few lines.

    `names` maps person ids to names (None while the first screen is still loading)."""
    if view is None:
        return Content("No seams yet. Declare exchanges in workbench.toml or add a contract.")

    def who(pid: str | None) -> str:
        if not pid:
            return "—"
        if names is None:
            return pid
        name = names.get(pid)
        return f"{name} ({pid})" if name else f"{pid} (unknown)"

    state_style = (
        "$text-success"
        if view.state == "governed"
        else ("$text-warning" if view.state == "ungoverned" else "$text-error")
    )
    lines = [
        Content.assemble(
            (
                f"{GLYPHS.get(view.state, '•')} {STATE_WORDS.get(view.state, view.state)}",
                state_style,
            ),
            "  ",
            (view.title, "bold"),
            f"  [{view.id}]" if view.governed else "",
        ),
        Content(
            f"{view.provider} → {view.consumer}  ·  "
            + (f"{view.kind}  ·  owner {who(view.owner)}" if view.governed else view.exchange)
        ),
    ]
    if view.governed:
        lines.append(
            Content(
                f"leads: {who(view.provider_lead)} / {who(view.consumer_lead)}  ·  {view.status}"
            )
        )
    if view.departed:
        lines.append(Content.styled(f"departed: {', '.join(view.departed)}", "$text-error"))
    for problem in view.problems[:3]:
        lines.append(Content.styled(f"! {problem}", "$text-error"))
    if view.marks:
        parts: list[Content | str | tuple[str, str]] = ["marks: "]
        for k, v in view.marks.items():
            parts += [(f"{k}: {v}", MARK_STYLE[mark_level(k, str(v))]), "  "]
        lines.append(Content.assemble(*parts))
    if not view.governed:
        lines.append(Content.styled("No contract: nobody owns this handshake.", "$text-warning"))
    return Content("\n").join(lines)


# How alarming a seam mark is (reviews, notices, diagnostic, violations, page, …).
MARK_STYLE = {"bad": "bold $text-error", "soon": "$text-warning", "ok": "$text-success"}
BAD_WORDS = (
    "overdue",
    "open",
    "mismatch",
    "fails",
    "unacknowledged",
    "not acknowledged",
    "stale",
    "invalid",
    "expired",
    "unavailable",  # the marks could not be worked out: nothing is known to be fine
)


def mark_level(key: str, value: str) -> str:
    value = value.lower()
    if any(word in value for word in BAD_WORDS):
        return "bad"
    if value in ("ok", "approved", "agrees", "pass"):
        return "ok"
    return "soon"


def marks_text(marks: dict[str, str]) -> str:
    """Alarming marks first, e.g. "violations:2 open  review:overdue  page:ok"."""
    order = {"bad": 0, "soon": 1, "ok": 2}
    items = sorted(marks.items(), key=lambda kv: order[mark_level(kv[0], str(kv[1]))])
    return "  ".join(f"{k}:{m}" for k, m in items)


MAP_LIMIT = 150  # beyond this the map is unreadable (and slow): the list takes over


def notice_canvas(text: str) -> MapCanvas:
    from workbench.tui.widgets.seam_map import Cell, MapCanvas

    row = [Cell(ch, style="map-note") for ch in f" {text}"]
    return MapCanvas(len(row), 2, [[Cell()] * len(row), row])


class SeamsScreen(BaseScreen):
    BINDINGS = bindings.SEAMS
    _large_shown = False
    draws_from_snapshot = True
    HELP = "The seam map: every seam between teams, marked by state. Enter opens a contract."

    def compose(self) -> ComposeResult:
        yield TopBar("seams")
        # Shown while keys/people.toml does not validate: then nobody counts (fail closed),
        # and every user must see why, above the map and the list alike.
        yield Static("", id="home-problem", markup=False)
        with ContentSwitcher(initial="map-view", id="seams-switcher"):
            with Vertical(id="map-view"):
                yield SeamMap(id="seam-map")
                yield Static(LEGEND, id="map-legend", markup=False)
                yield Static("loading…", id="seam-details", markup=False)
            with Vertical(id="list-view"):
                yield Input(placeholder="filter seams: team, kind, state, owner…", id="seam-filter")
                yield VirtualTable(
                    [
                        Column("Seam", 30),
                        Column("Kind", 14),
                        Column("Teams", 26),
                        Column("Owner", 14),
                        Column("State", 12),
                        Column("Marks", 18, flex=True),
                    ],
                    id="seam-table",
                )
                yield Static("", id="seam-count", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SeamMap).focus()

    @property
    def mode(self) -> str:
        return self.query_one(ContentSwitcher).current or "map-view"

    def state_changed(self) -> None:
        data = self.wb.seam_map_data
        if data is None:
            return
        self._show_people_problem()
        views = data.views
        if len(views) <= MAP_LIMIT:
            canvas = layout_map(data.layers, views, data.team_names, data.team_leads)
        else:
            canvas = notice_canvas(
                f"{len(views)} seams between {len(data.team_names)} teams: too many to draw "
                "legibly. Use the list (v) and filter by team, kind or state."
            )
            if not self._large_shown:
                # Straight to the list, in this same frame: the first screen of a large
                # organisation is its seams, not a note about them.
                self._large_shown = True
                self.show_view("list-view")
        self.query_one(SeamMap).set_map(canvas, {v.id: (v.provider, v.consumer) for v in views})
        self.set_rows(views)

    def _show_people_problem(self) -> None:
        from workbench.service.identity import people_void_notice

        state = self.wb.gov_state
        notice = people_void_notice(state) if state is not None else None
        row = self.query_one("#home-problem", Static)
        row.update(notice or "")
        row.display = notice is not None

    def set_rows(self, views: list[SeamView]) -> None:
        rows = [
            Row(
                v.id,
                (
                    v.id,
                    v.kind if v.governed else "—",
                    f"{v.provider} → {v.consumer}",
                    v.owner or "—",
                    f"{GLYPHS.get(v.state, '•')} {v.state}",
                    marks_text(v.marks),
                ),
                ROW_KIND.get(v.state, "")
                or (
                    "warning"
                    if any(mark_level(k, str(m)) == "bad" for k, m in v.marks.items())
                    else ""
                ),
            )
            for v in views
        ]
        table = self.query_one("#seam-table", VirtualTable)
        table.set_rows(rows)
        self._update_count()

    def _update_count(self) -> None:
        table = self.query_one("#seam-table", VirtualTable)
        self.query_one("#seam-count", Static).update(
            f" {table.row_count} of {table.total_count} seams"
        )

    @on(SeamMap.SeamHighlighted)
    def show_seam(self, event: SeamMap.SeamHighlighted) -> None:
        view = self.wb.view(event.seam) if event.seam else None
        data = self.wb.seam_map_data
        names = data.person_names if data is not None else None
        self.query_one("#seam-details", Static).update(seam_details(view, names))

    @on(SeamMap.SeamSelected)
    def open_from_map(self, event: SeamMap.SeamSelected) -> None:
        self.wb.open_seam(event.seam)

    @on(VirtualTable.Selected, "#seam-table")
    def open_from_list(self, event: VirtualTable.Selected) -> None:
        self.wb.open_seam(event.key)

    @on(Input.Changed, "#seam-filter")
    def filter_rows(self, event: Input.Changed) -> None:
        self.query_one("#seam-table", VirtualTable).set_filter(event.value)
        self._update_count()

    @on(Input.Submitted, "#seam-filter")
    def filter_done(self) -> None:
        self.query_one("#seam-table", VirtualTable).focus()

    def action_toggle_view(self) -> None:
        self.show_view("list-view" if self.mode == "map-view" else "map-view")

    def show_view(self, which: str) -> None:
        self.query_one(ContentSwitcher).current = which
        if which == "map-view":
            self.query_one(SeamMap).focus()
        else:
            self.query_one("#seam-table", VirtualTable).focus()
        self.refresh_bindings()

    def action_filter(self) -> None:
        self.show_view("list-view")
        self.query_one("#seam-filter", Input).focus()

    def selected_view(self) -> SeamView | None:
        """The seam under the cursor, on the map or in the list."""
        if self.mode == "map-view":
            seam = self.query_one(SeamMap).selected
        else:
            seam = self.query_one("#seam-table", VirtualTable).cursor_key
        return self.wb.view(seam) if seam else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_contract" and self.wb.readonly:
            return None
        return True

    def action_new_contract(self) -> None:
        """A new contract; on an ungoverned exchange, the one that governs it."""
        from workbench.tui.modals.new_contract import new_contract

        view = self.selected_view()
        new_contract(self.wb, view if view is not None and not view.governed else None)

    def action_open_seam(self) -> None:
        if self.mode == "map-view":
            self.query_one(SeamMap).action_select()
        else:
            self.query_one("#seam-table", VirtualTable).action_select()
