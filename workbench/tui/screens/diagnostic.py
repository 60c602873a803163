"""The seam diagnostic as a form: the six questions, answered separately by the seam's leads.

Shows both leads' answers side by side with the mismatch flags (the disagreements, or both
saying the other side watches the seam), and lets the acting person answer when they are
one of the two leads (anyone else sees the form disabled, with who may answer).
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, Static

from workbench.tui import bindings
from workbench.tui.messages import DiagnosticAnswered, DiagnosticLoaded
from workbench.tui.screens.service_screen import ServiceScreen
from workbench.tui.widgets.footer import Footer
from workbench.tui.widgets.topbar import TopBar
from workbench.tui.widgets.virtual_table import Column, Row, VirtualTable


def field_id(key: str) -> str:
    return f"q-{key.replace('_', '-')}"


class DiagnosticScreen(ServiceScreen):
    BINDINGS = bindings.DIAGNOSE
    HELP = "The six-question seam diagnostic. ctrl+s saves your answers (leads only)."
    DEFAULT_CSS = """
    DiagnosticScreen #diagnostic-scroll { height: 1fr; padding: 0 1; }
    DiagnosticScreen #diagnostic-side-by-side { height: 15; }
    DiagnosticScreen .pane-title { text-style: bold; color: $text-primary; margin-top: 1; }
    DiagnosticScreen .question { margin-top: 1; }
    DiagnosticScreen #diagnostic-errors { color: $text-error; }
    """

    def __init__(self, seam: str) -> None:
        super().__init__()
        self.seam = seam
        self.diagnostic: Any = None
        self.side: str | None = None
        self.filled = False

    def compose(self) -> ComposeResult:
        from workbench.governance.diagnostic import QUESTIONS

        yield TopBar(f"diagnose {self.seam}")
        with VerticalScroll(id="diagnostic-scroll"):
            yield Static("loading…", id="diagnostic-state")
            yield Static("", id="diagnostic-flags")
            yield VirtualTable(
                [
                    Column("Q", 2),
                    Column("Question", 36),
                    Column("Provider lead", 24),
                    Column("Consumer lead", 24, flex=True),
                ],
                id="diagnostic-side-by-side",
            )
            yield Label("Your answers", id="diagnostic-form-title", classes="pane-title")
            for q in QUESTIONS:
                hint = f" ({q.help})" if q.help else ""
                yield Label(f"{q.number}. {q.prompt}{hint}", classes="question", markup=False)
                if q.kind == "choice":
                    yield Select(
                        [(Content(c), c) for c in q.choices], id=field_id(q.key), prompt="choose…"
                    )
                else:
                    placeholder = {"person": "person id", "duration": "e.g. PT30M"}.get(q.kind, "")
                    yield Input(placeholder=placeholder, id=field_id(q.key))
            yield Static("", id="diagnostic-errors", markup=False)
        yield Footer()

    def state_changed(self) -> None:
        self.load_diagnostic()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="diagnostic",
        description="load the diagnostic",
    )
    def load_diagnostic(self) -> None:
        self.post_result(DiagnosticLoaded(self.obligations().diagnostics.get(self.seam)))

    @on(DiagnosticLoaded)
    def show_diagnostic(self, message: DiagnosticLoaded) -> None:
        from workbench.governance.diagnostic import QUESTIONS

        d = self.diagnostic = message.diagnostic
        actor = self.wb.actor.id if self.wb.actor else None
        self.side = (
            "provider"
            if actor and actor == d.provider_lead
            else "consumer"
            if actor and actor == d.consumer_lead
            else None
        )
        style = {"mismatch": "bold $text-error", "agrees": "$text-success"}.get(
            d.state, "$text-warning"
        )
        waiting = f" · waiting for {', '.join(d.waiting_for)}" if d.waiting_for else ""
        self.query_one("#diagnostic-state", Static).update(
            Content.assemble(
                (d.state.upper(), style),
                f"  {d.seam} · provider lead {d.provider_lead or '—'} · "
                f"consumer lead {d.consumer_lead or '—'}{waiting}",
            )
        )
        flagged = {f.key for f in d.flags}
        flags = [Content.styled(f"⚑ Q{f.question} {f.message}", "$text-error") for f in d.flags]
        flags += [Content.styled(f"• {n}", "$text-muted") for n in d.notes]
        flags += [Content.styled(f"! {p}", "$text-error") for p in d.problems]
        self.query_one("#diagnostic-flags", Static).update(Content("\n").join(flags))
        rows = [
            Row(key, (str(n), prompt, provider, consumer), "invalid" if key in flagged else "")
            for n, key, prompt, provider, consumer in d.side_by_side()
        ]
        self.query_one("#diagnostic-side-by-side", VirtualTable).set_rows(rows)
        title = self.query_one("#diagnostic-form-title", Label)
        readonly = self.wb.readonly or self.side is None
        if self.side is None:
            title.update(
                Content(
                    f"Only the seam's two leads answer ({d.provider_lead} for the provider, "
                    f"{d.consumer_lead} for the consumer); you are {actor or 'unknown'}."
                )
            )
        else:
            title.update(Content(f"Your answers as the {self.side} lead (ctrl+s saves)"))
        mine = d.answers.get(self.side) if self.side else None
        for q in QUESTIONS:
            widget = self.query_one(f"#{field_id(q.key)}")
            widget.disabled = readonly
            if mine is not None and not self.filled:
                value = str(getattr(mine.answers, q.key))
                if isinstance(widget, (Select, Input)):
                    widget.value = value
        self.filled = self.filled or mine is not None

    def answers(self) -> dict[str, object]:
        from workbench.governance.diagnostic import QUESTIONS

        out: dict[str, object] = {}
        for q in QUESTIONS:
            widget = self.query_one(f"#{field_id(q.key)}")
            assert isinstance(widget, (Select, Input))  # compose() makes one or the other
            value = widget.value
            if value is not Select.NULL and str(value).strip():
                out[q.key] = str(value).strip()
        return out

    def action_save(self) -> None:
        from workbench.governance.diagnostic import validate_answers

        if self.wb.readonly or self.side is None:
            self.notify("Only the seam's leads can answer the diagnostic", severity="warning")
            return
        answers = self.answers()
        parsed, errors = validate_answers(answers)
        self.query_one("#diagnostic-errors", Static).update("\n".join(errors))
        if parsed is None:
            self.notify(
                f"{len(errors)} answer(s) missing or invalid", severity="error", markup=False
            )
            return
        self.save_answers(answers)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="answer",
        description="save the answers",
    )
    def save_answers(self, answers: dict[str, object]) -> None:
        commit = self.obligations().diagnostics.answer(self.seam, answers, signer=self.wb.signer)
        self.post_result(DiagnosticAnswered(self.seam, commit))

    @on(DiagnosticAnswered)
    def answered(self, message: DiagnosticAnswered) -> None:
        self.notify(f"Committed {message.commit[:8]}: your diagnostic answers", markup=False)
        self.wb.load_state()

    def action_back(self) -> None:
        self.dismiss()
