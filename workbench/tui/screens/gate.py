"""Gate preview: every check the CI gate runs, passing ones too; failures say who can fix them."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from workbench.tui import bindings
from workbench.tui.messages import GatePreviewed
from workbench.tui.screens.service_screen import ServiceScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable


def outcome_word(check: Any) -> str:
    if check.outcome == "pass":
        return "✓ pass"
    return "✗ FAIL" if check.blocking else "! warn"


class GateScreen(ServiceScreen):
    BINDINGS = bindings.GATE
    HELP = "What `workbench gate` would say now: every check, and who can fix each failure."
    DEFAULT_CSS = """
    GateScreen #gate-verdict { height: 1; padding: 0 1; }
    GateScreen #gate-table { height: 1fr; }
    GateScreen #gate-detail {
        height: auto; max-height: 8; padding: 0 1; border-top: solid $border-blurred;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.result: Any = None
        self.uncommitted: list[str] = []
        self.failures_only = False

    def compose(self) -> ComposeResult:
        yield TopBar("gate preview")
        yield Static("running the gate…", id="gate-verdict")
        yield VirtualTable(
            [
                Column("Outcome", 8),
                Column("Rule", 22),
                Column("Contract", 32),
                Column("Who can fix", 28),
                Column("Message", 20, flex=True),
            ],
            id="gate-table",
        )
        yield Static("", id="gate-detail")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(VirtualTable).focus()

    def state_changed(self) -> None:
        self.run_gate()

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="gate", description="run the gate"
    )
    def run_gate(self) -> None:
        # Exactly what `workbench gate` judges: the committed records, not the working tree.
        committed = self.wb.service.committed_view()
        result = committed.obligations.gate.evaluate()
        self.post_result(GatePreviewed(result, committed.uncommitted()))

    @on(GatePreviewed)
    def show_gate(self, message: GatePreviewed) -> None:
        self.result = message.result
        self.uncommitted = message.uncommitted
        r = message.result
        passing = sum(1 for c in r.checks if c.outcome == "pass")
        verdict = (
            Content.styled("GATE PASSES", "bold $text-success")
            if r.passed
            else Content.styled("GATE FAILS", "bold $text-error")
        )
        self.query_one("#gate-verdict", Static).update(
            Content.assemble(
                verdict,
                f"  {len(r.failures)} blocking · {len(r.warnings)} warning(s) · "
                f"{passing} passing · {len(r.scope)} contract(s) in scope",
                "  (failures only: f)" if self.failures_only else "",
                (
                    f"  · {len(self.uncommitted)} uncommitted file(s) not counted: commit them"
                    if self.uncommitted
                    else "",
                    "$text-warning",
                ),
                (
                    f"  · MERGE NOT FINISHED: {merge.what} (M: resolve)"
                    if (merge := getattr(r, "merge", None)) is not None
                    else "",
                    "bold $text-error",
                ),
                (
                    f"  · IGNORED: {len(r.ignored)} loosening(s) workbench.toml asked for "
                    "beyond the signed floor (`workbench validate` lists them)"
                    if r.ignored
                    else "",
                    "$text-warning",
                ),
            )
        )
        self._rows()

    def _rows(self) -> None:
        checks = self.result.checks if self.result else []
        if self.failures_only:
            checks = [c for c in checks if c.outcome != "pass"]
        order = {True: 0, False: 1}
        rows = []
        for i, c in sorted(
            enumerate(checks),
            key=lambda ic: (order[ic[1].blocking], ic[1].outcome == "pass", ic[0]),
        ):
            kind = "invalid" if c.blocking else ("warning" if c.outcome != "pass" else "")
            rows.append(
                Row(
                    str(i),
                    (outcome_word(c), c.rule, c.contract, ", ".join(c.fixers) or "—", c.message),
                    kind,
                )
            )
        self._checks = checks
        self.query_one(VirtualTable).set_rows(rows)

    @on(VirtualTable.Highlighted, "#gate-table")
    def show_check(self, event: VirtualTable.Highlighted) -> None:
        detail = self.query_one("#gate-detail", Static)
        if event.key is None or not self.result:
            detail.update("")
            return
        c = self._checks[int(event.key)]
        lines = [
            Content.assemble(
                (outcome_word(c), "bold"), f"  {c.rule} · {c.contract} · severity {c.severity}"
            ),
            Content(c.message),
        ]
        if c.outcome != "pass":
            lines.append(
                Content.assemble(("who can fix  ", "$text-muted"), ", ".join(c.fixers) or "—")
            )
            lines.append(
                Content.assemble(("how          ", "$text-muted"), (c.fix, "$text-accent"))
            )
        if c.path:
            lines.append(Content.styled(f"{c.path}:{c.line}:{c.column}", "$text-muted"))
        detail.update(Content("\n").join(lines))

    def action_failures(self) -> None:
        self.failures_only = not self.failures_only
        if self.result is not None:
            self.show_gate(GatePreviewed(self.result, self.uncommitted))

    def action_rerun(self) -> None:
        self.run_gate()

    def action_back(self) -> None:
        self.dismiss()
