"""The seam map: teams as boxes in left-to-right layers, seams as labelled arrows.

`layout_map` is pure (no Textual): it places the boxes from `team_layers`, routes every
seam through the gutters between layers (long seams pass through dummy rows), and returns
a canvas of cells, each knowing which seams pass through it. `SeamMap` draws that canvas
with the line API and moves a selection from seam to seam.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.segment import Segment
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.tui import bindings
from workbench.tui.safe_render import cell_char

if TYPE_CHECKING:
    from rich.style import Style

    from workbench.governance.seam_view import SeamView

# State glyphs: one character per headline state of a seam.
GLYPHS = {
    "governed": "✓",
    "ungoverned": "?",
    "owner-departed": "✗",
    "owner-missing": "∅",
    "invalid": "!",
    "conflict": "±",
}
STATE_WORDS = {
    "governed": "governed",
    "ungoverned": "ungoverned (no contract)",
    "owner-departed": "owner departed",
    "owner-missing": "owner missing",
    "invalid": "invalid",
    "conflict": "merge conflict",
}
# A merge conflict is rare and says so where it occurs: it stays out of the legend.
LEGEND = (
    "  ".join(f"{GLYPHS[s]} {STATE_WORDS[s].split(' (')[0]}" for s in GLYPHS if s != "conflict")
    + "  +N marks"
)

N, E, S, W = 1, 2, 4, 8
_SOLID = {
    E | W: "─",
    N | S: "│",
    E | S: "┌",
    W | S: "┐",
    N | E: "└",
    N | W: "┘",
    N | S | E: "├",
    N | S | W: "┤",
    E | W | S: "┬",
    E | W | N: "┴",
    N | E | S | W: "┼",
    E: "─",
    W: "─",
    N: "│",
    S: "│",
}
_DASHED = {E | W: "╌", N | S: "╎", E: "╌", W: "╌", N: "╎", S: "╎"}

MIN_BOX, MAX_BOX = 12, 24


def seam_label(view: SeamView) -> str:
    glyph = GLYPHS.get(view.state, "•")
    kind = view.kind if view.governed else "no contract"
    marks = f" +{len(view.marks)}" if view.marks else ""
    return f"{glyph} {kind}{marks}"


@dataclass
class Cell:
    char: str = " "
    bits: int = 0
    dashed: bool = True
    style: str = ""
    seams: tuple[str, ...] = ()
    team: str | None = None


@dataclass
class MapCanvas:
    width: int
    height: int
    cells: list[list[Cell]]
    order: list[str] = field(default_factory=list)  # seams in navigation order
    anchors: dict[str, Region] = field(default_factory=dict)  # where each label is
    states: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join("".join(c.char for c in row).rstrip() for row in self.cells)


@dataclass
class _Node:
    key: str
    layer: int
    team: str | None  # None for a dummy row of a long seam
    height: int = 1
    y: int = 0
    outs: list[_Seg] = field(default_factory=list)
    ins: list[_Seg] = field(default_factory=list)


@dataclass
class _Seg:
    seam: str
    src: _Node
    dst: _Node
    label: str = ""
    state: str = "governed"
    dashed: bool = False
    y_src: int = 0
    y_dst: int = 0


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def layout_map(
    layers: list[list[str]],
    views: Iterable[SeamView],
    team_names: dict[str, str] | None = None,
    team_leads: dict[str, str] | None = None,
) -> MapCanvas:
    """Lay the teams out (boxes in columns, long seams through dummy rows), route each seam
    through the gutters between columns, then paint the canvas cell by cell."""
    views = list(views)
    team_names = team_names or {}
    team_leads = team_leads or {}
    graph = _graph(layers, views)
    _order_columns(graph.cols)
    widths = _place(graph, team_names, team_leads)
    route = _route(graph, widths)
    notes = _notes(graph, team_names)
    height = route.height + (len(notes) + 1 if notes else 0)
    width = max([route.width] + [len(t) + 2 for t, _, _ in notes])
    painter = _Painter(width, height)
    painter.boxes(graph.cols, route, team_names, team_leads)
    anchors = painter.seams(route)
    painter.resolve_lines()
    y = route.height + 1
    for text, style, seam in notes:
        painter.text(1, y, text, style or f"label-{_state_of(views, seam)}", seam)
        if seam:
            anchors[seam] = Region(1, y, len(text), 1)
        y += 1
    order = _navigation_order(graph, anchors)
    return MapCanvas(width, height, painter.cells, order, anchors, {v.id: v.state for v in views})


# --- layout: boxes in columns -------------------------------------------------------------


@dataclass
class _Graph:
    cols: list[list[_Node]]  # per layer, top to bottom (dummy rows included)
    segs: list[_Seg]  # one per gutter a seam crosses
    unplaced: list[SeamView]  # seams that cannot point right
    isolated: list[str]  # teams with no seam


def _graph(layers: list[list[str]], views: list[SeamView]) -> _Graph:
    """Teams as nodes in their layer; each seam from its provider's layer to its consumer's,
    through one dummy row per layer in between."""
    connected = {t for v in views for t in (v.provider, v.consumer)}
    layer_of: dict[str, int] = {}
    for i, layer in enumerate(layers):
        for team in layer:
            if team in connected and team not in layer_of:
                layer_of[team] = i
    isolated = sorted(t for layer in layers for t in layer if t not in connected)
    nodes: dict[str, _Node] = {
        t: _Node(t, layer, t) for t, layer in layer_of.items() if t not in isolated
    }
    columns: dict[int, list[_Node]] = {}
    for layer in layers:
        for t in layer:
            if t in nodes:
                columns.setdefault(nodes[t].layer, []).append(nodes[t])
    segs: list[_Seg] = []
    unplaced: list[SeamView] = []
    for v in views:
        a, b = nodes.get(v.provider), nodes.get(v.consumer)
        if a is None or b is None or b.layer <= a.layer:
            unplaced.append(v)
            continue
        chain = [a]
        for between in range(a.layer + 1, b.layer):
            dummy = _Node(f"{v.id}@{between}", between, None)
            columns.setdefault(between, []).append(dummy)
            chain.append(dummy)
        chain.append(b)
        for s, d in zip(chain, chain[1:], strict=False):
            seg = _Seg(
                v.id,
                s,
                d,
                label=seam_label(v) if d is b else "",
                state=v.state,
                dashed=not v.governed,
            )
            s.outs.append(seg)
            d.ins.append(seg)
            segs.append(seg)
    n_layers = (max(columns) + 1) if columns else 0
    return _Graph([columns.get(i, []) for i in range(n_layers)], segs, unplaced, isolated)


def _order_columns(cols: list[list[_Node]]) -> None:
    """Barycentre ordering, two sweeps, to keep crossings down."""
    n_layers = len(cols)
    for fwd, sweep in ((True, range(1, n_layers)), (False, range(n_layers - 2, -1, -1))):
        for i in sweep:
            ref = {id(n): k for k, n in enumerate(cols[i - 1] if fwd else cols[i + 1])}

            def bary(
                item: tuple[int, _Node], ref: dict[int, int] = ref, fwd: bool = fwd
            ) -> tuple[float, int]:
                k, node = item
                others = [s.src for s in node.ins] if fwd else [s.dst for s in node.outs]
                idx = [ref[id(o)] for o in others if id(o) in ref]
                return ((sum(idx) / len(idx)) if idx else float(k), k)

            cols[i] = [n for _, n in sorted(enumerate(cols[i]), key=bary)]


def _place(graph: _Graph, team_names: dict[str, str], team_leads: dict[str, str]) -> list[int]:
    """Box sizes and vertical positions; each seam's row at its ends. Returns the column
    widths."""
    cols = graph.cols
    index = {id(n): k for col in cols for k, n in enumerate(col)}
    widths: list[int] = []
    for col in cols:
        inner = MIN_BOX
        for n in col:
            if n.team is not None:
                name = team_names.get(n.team, n.team)
                lead = team_leads.get(n.team, "")
                inner = max(inner, min(MAX_BOX, max(len(name), len(lead) + 5)))
        widths.append(inner + 4)
    for col in cols:
        y = 1
        for n in col:
            if n.team is not None:
                n.outs.sort(key=lambda s: index[id(s.dst)])
                n.ins.sort(key=lambda s: index[id(s.src)])
                n.height = max(2, len(n.outs), len(n.ins)) + 2
            n.y = y
            y += n.height + 1
    for seg in graph.segs:
        src, dst = seg.src, seg.dst
        seg.y_src = src.y + (1 + src.outs.index(seg) if src.team is not None else 0)
        seg.y_dst = dst.y + (1 + dst.ins.index(seg) if dst.team is not None else 0)
    return widths


def _notes(graph: _Graph, team_names: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """Lines under the map: seams it cannot draw, teams with no seam (text, style, seam)."""
    lines: list[tuple[str, str, str | None]] = []
    if graph.unplaced:
        lines.append(("Seams not on the map (see the list view):", "map-note", None))
        for v in graph.unplaced:
            lines.append(
                (f"  {GLYPHS.get(v.state, '•')} {v.id}  {v.provider} → {v.consumer}", "", v.id)
            )
    if graph.isolated:
        names = ", ".join(team_names.get(t, t) for t in graph.isolated)
        lines.append((f"Teams with no seams: {names}", "map-note", None))
    return lines


# --- routing: gutters between columns -----------------------------------------------------


@dataclass
class _Gutter:
    x: int  # its left edge
    segs: list[_Seg]  # in track order
    tracks: int
    label_width: int


@dataclass
class _Route:
    lefts: list[int]  # each column's left edge
    widths: list[int]
    gutters: list[_Gutter]  # between column i and i + 1
    width: int  # of the map (the notes below may be wider)
    height: int


def _route(graph: _Graph, widths: list[int]) -> _Route:
    """Each gutter: one vertical track per seam crossing it, then room for the labels."""
    cols = graph.cols
    n_layers = len(cols)
    gutter_segs: list[list[_Seg]] = [[] for _ in range(max(0, n_layers - 1))]
    for seg in graph.segs:
        gutter_segs[seg.src.layer].append(seg)
    lefts: list[int] = []
    gutters: list[_Gutter] = []
    x = 1
    for i in range(n_layers):
        lefts.append(x)
        x += widths[i]
        if i < n_layers - 1:
            gs = sorted(gutter_segs[i], key=lambda s: (s.y_dst - s.y_src > 0, s.y_src, s.y_dst))
            tracks = max(1, len(gs))
            label_w = max((len(s.label) for s in gs), default=0)
            label_w = label_w + 2 if label_w else 0
            gutters.append(_Gutter(x, gs, tracks, label_w))
            x = x + 1 + tracks + 1 + label_w + 1
    height = max((n.y + n.height for col in cols for n in col), default=1) + 1
    return _Route(lefts, widths, gutters, x + 1, height)


# --- painting: cells ----------------------------------------------------------------------


class _Painter:
    """The canvas's cells: boxes and text as characters, seam lines as direction bits that
    become box-drawing characters once every line is in (``resolve_lines``)."""

    def __init__(self, width: int, height: int) -> None:
        self.cells = [[Cell() for _ in range(width)] for _ in range(height)]

    def put(
        self,
        x: int,
        y: int,
        ch: str,
        style: str,
        seams: tuple[str, ...] = (),
        team: str | None = None,
    ) -> None:
        cell = self.cells[y][x]
        # Names and labels are repo text, drawn cell by cell past Textual's own filter.
        cell.char, cell.style, cell.bits = cell_char(ch), style, 0
        if seams:
            cell.seams = tuple(dict.fromkeys(cell.seams + seams))
        if team is not None:
            cell.team = team

    def text(self, x: int, y: int, text: str, style: str, seam: str | None = None) -> None:
        for k, ch in enumerate(text):
            self.put(x + k, y, ch, style, (seam,) if seam else ())

    def line_bits(self, x: int, y: int, bits: int, seg: _Seg) -> None:
        cell = self.cells[y][x]
        cell.bits |= bits
        cell.dashed = cell.dashed and seg.dashed
        if seg.seam not in cell.seams:
            cell.seams = (*cell.seams, seg.seam)
        if not cell.style or cell.style.startswith("edge"):
            cell.style = f"edge-{seg.state}" if not cell.style else cell.style

    def hline(
        self, y: int, x0: int, x1: int, seg: _Seg, open_left: bool = False, open_right: bool = False
    ) -> None:
        lo, hi = min(x0, x1), max(x0, x1)
        for xx in range(lo, hi + 1):
            b = (E if xx < hi or open_right else 0) | (W if xx > lo or open_left else 0)
            self.line_bits(xx, y, b, seg)

    def vline(self, x: int, y0: int, y1: int, seg: _Seg) -> None:
        lo, hi = min(y0, y1), max(y0, y1)
        for yy in range(lo, hi + 1):
            b = (S if yy < hi else 0) | (N if yy > lo else 0)
            self.line_bits(x, yy, b, seg)

    def boxes(
        self,
        cols: list[list[_Node]],
        route: _Route,
        team_names: dict[str, str],
        team_leads: dict[str, str],
    ) -> None:
        """Each team's box: frame, name, lead, and a port per seam leaving or arriving."""
        put = self.put
        for i, col in enumerate(cols):
            left, w = route.lefts[i], route.widths[i]
            for n in col:
                if n.team is None:
                    continue
                t = n.team
                top, bottom, right = n.y, n.y + n.height - 1, left + w - 1
                put(left, top, "╭", "box", team=t)
                put(right, top, "╮", "box", team=t)
                put(left, bottom, "╰", "box", team=t)
                put(right, bottom, "╯", "box", team=t)
                for xx in range(left + 1, right):
                    put(xx, top, "─", "box", team=t)
                    put(xx, bottom, "─", "box", team=t)
                for yy in range(top + 1, bottom):
                    put(left, yy, "│", "box", team=t)
                    put(right, yy, "│", "box", team=t)
                    for xx in range(left + 1, right):
                        put(xx, yy, " ", "box-inside", team=t)
                name = _truncate(team_names.get(t, t), w - 4)
                for k, ch in enumerate(name):
                    put(left + 2 + k, top + 1, ch, "team", team=t)
                lead = team_leads.get(t)
                if lead:
                    for k, ch in enumerate(_truncate(f"lead {lead}", w - 4)):
                        put(left + 2 + k, top + 2, ch, "lead", team=t)
                for seg in n.outs:
                    put(right, seg.y_src, "├", "box", (seg.seam,), team=t)
                for seg in n.ins:
                    put(left, seg.y_dst, "┤", "box", (seg.seam,), team=t)

    def seams(self, route: _Route) -> dict[str, Region]:
        """Every seam, gutter by gutter: along its track, into the next box (or straight
        through a dummy row), and its label. Returns where each label is."""
        anchors: dict[str, Region] = {}
        for i, gutter in enumerate(route.gutters):
            gx, next_left = gutter.x, route.lefts[i + 1]
            for t, seg in enumerate(gutter.segs):
                xt = gx + 1 + t
                self.hline(seg.y_src, gx, xt, seg, open_left=True)
                self.vline(xt, seg.y_src, seg.y_dst, seg)
                if seg.dst.team is None:
                    self.hline(seg.y_dst, xt, next_left - 1, seg, open_right=True)
                    # The dummy row: the seam passes straight through this column.
                    end = next_left + route.widths[i + 1] - 1
                    self.hline(seg.y_dst, next_left, end, seg, True, True)
                else:
                    self.hline(seg.y_dst, xt, next_left - 2, seg, open_right=True)
                    self.put(next_left - 1, seg.y_dst, "▶", f"edge-{seg.state}", (seg.seam,))
                if seg.label:
                    lx = gx + gutter.tracks + 2
                    text = f" {seg.label} "
                    self.text(lx, seg.y_dst, text, f"label-{seg.state}", seg.seam)
                    anchors[seg.seam] = Region(lx, seg.y_dst, len(text), 1)
        return anchors

    def resolve_lines(self) -> None:
        for row in self.cells:
            for cell in row:
                if cell.bits:
                    table = _DASHED if cell.dashed else {}
                    cell.char = table.get(cell.bits) or _SOLID.get(cell.bits, "┼")


def _navigation_order(graph: _Graph, anchors: dict[str, Region]) -> list[str]:
    """Seams by the provider's column, then top to bottom; then those not on the map."""
    placed = sorted(
        {seg.seam: seg for seg in graph.segs if seg.label}.values(),
        key=lambda s: (s.src.layer if s.src.team else 99, s.y_dst, s.seam),
    )
    first_seg: dict[str, _Seg] = {}
    for seg in graph.segs:
        first_seg.setdefault(seg.seam, seg)
    order = sorted(
        (s.seam for s in placed),
        key=lambda sid: (first_seg[sid].src.layer, first_seg[sid].y_src, anchors[sid].y),
    )
    return order + [v.id for v in graph.unplaced]


def _state_of(views: list[SeamView], seam: str | None) -> str:
    for v in views:
        if v.id == seam:
            return str(v.state)
    return "governed"


STYLE_NAMES = [
    "box",
    "box-inside",
    "team",
    "lead",
    "map-note",
    *(f"edge-{s}" for s in GLYPHS),
    *(f"label-{s}" for s in GLYPHS),
    "selected",
    "selected-box",
]


class SeamMap(ScrollView, can_focus=True):
    """The layered seam map; arrows move between seams, Enter opens the selected one."""

    BINDINGS = bindings.SEAM_MAP
    COMPONENT_CLASSES = {f"seam-map--{name}" for name in STYLE_NAMES}

    class SeamHighlighted(Message):
        def __init__(self, seam_map: SeamMap, seam: str | None) -> None:
            super().__init__()
            self.seam_map = seam_map
            self.seam = seam

    class SeamSelected(Message):
        def __init__(self, seam_map: SeamMap, seam: str) -> None:
            super().__init__()
            self.seam_map = seam_map
            self.seam = seam

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.canvas: MapCanvas | None = None
        self.selected: str | None = None
        self._selected_teams: set[str] = set()
        self._ends: dict[str, tuple[str, str]] = {}

    def set_map(self, canvas: MapCanvas, ends: dict[str, tuple[str, str]]) -> None:
        self.canvas = canvas
        self._ends = ends
        self.virtual_size = Size(canvas.width, canvas.height)
        if self.selected not in canvas.order:
            self.selected = canvas.order[0] if canvas.order else None
        self._select(self.selected, force=True)

    def _select(self, seam: str | None, force: bool = False) -> None:
        if seam == self.selected and not force:
            return
        self.selected = seam
        self._selected_teams = set(self._ends.get(seam, ())) if seam else set()
        self.refresh()
        if seam and self.canvas and seam in self.canvas.anchors:
            self.scroll_to_region(
                self.canvas.anchors[seam].grow((1, 2, 1, 2)), animate=False, immediate=True
            )
        self.post_message(self.SeamHighlighted(self, seam))

    def select(self, seam: str) -> None:
        self._select(seam)

    def _step(self, delta: int) -> None:
        if not self.canvas or not self.canvas.order:
            return
        order = self.canvas.order
        pos = order.index(self.selected) if self.selected in order else -1
        self._select(order[max(0, min(len(order) - 1, pos + delta))])

    def action_next_seam(self) -> None:
        self._step(1)

    def action_previous_seam(self) -> None:
        self._step(-1)

    def action_scroll_right(self) -> None:
        self.scroll_to(x=self.scroll_x + 8, animate=False)

    def action_scroll_left(self) -> None:
        self.scroll_to(x=max(0, self.scroll_x - 8), animate=False)

    def action_select(self) -> None:
        if self.selected:
            self.post_message(self.SeamSelected(self, self.selected))

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or self.canvas is None:
            return
        x, y = offset.x + int(self.scroll_x), offset.y + int(self.scroll_y)
        if 0 <= y < self.canvas.height and 0 <= x < self.canvas.width:
            seams = self.canvas.cells[y][x].seams
            if seams:
                self._select(seams[0])
                if event.chain >= 2:
                    self.action_select()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        scroll_x, scroll_y = self.scroll_offset
        row_y = scroll_y + y
        if self.canvas is None or row_y >= self.canvas.height:
            return Strip.blank(width, base)
        row = self.canvas.cells[row_y]
        styles: dict[str, Style] = {}

        def style_for(name: str) -> Style:
            if name not in styles:
                styles[name] = (
                    base + self.get_component_rich_style(f"seam-map--{name}") if name else base
                )
            return styles[name]

        segments: list[Segment] = []
        run_text: list[str] = []
        run_style = None
        selected = self.selected
        for cell in row[scroll_x : scroll_x + width]:
            if selected is not None and selected in cell.seams:
                name = "selected"
            elif (
                cell.team is not None and cell.team in self._selected_teams and cell.style == "box"
            ):
                name = "selected-box"
            else:
                name = cell.style
            style = style_for(name)
            if style is not run_style and run_text:
                segments.append(Segment("".join(run_text), run_style))
                run_text = []
            run_style = style
            run_text.append(cell.char)
        if run_text:
            segments.append(Segment("".join(run_text), run_style))
        return Strip(segments).adjust_cell_length(width, base)


__all__ = ["SeamMap", "layout_map", "MapCanvas", "GLYPHS", "LEGEND", "seam_label", "Binding"]
