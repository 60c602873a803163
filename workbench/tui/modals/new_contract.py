"""A new contract from a seam template, as `workbench contract new` makes it, then the editor.

The form asks for the id, the template (the article's three seam tables) and the two teams
(prefilled from an ungoverned exchange when it was opened from one), and the service
renders the template with the teams' owners and leads. What only the teams know stays a
`TODO: …` placeholder: the draft is written to the working tree, uncommitted, and the
editor opens on it with each placeholder listed with its line; `ctrl+s` commits it once
it validates. A template with nothing left to fill is committed at once.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select

from workbench.tui.modals.authoring import AuthoringModal, label, option, team_options

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


def suggested_id(provider: str, consumer: str) -> str:
    return f"{provider}-to-{consumer}" if provider and consumer else ""


class NewContractModal(AuthoringModal):
    AUTO_FOCUS = "#new-template"  # the first field: Tab walks the form top to bottom
    OK = "Create"
    DESCRIPTION = "create the contract"

    def __init__(
        self,
        title: str,
        teams: list[Any],
        *,
        provider: str | None = None,
        consumer: str | None = None,
        contract_title: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(
            title,
            hint
            or "Owners and leads come from the teams; what only the teams know is left as a "
            "TODO placeholder for you to fill in the editor.",
        )
        self.teams = teams
        self.provider = provider
        self.consumer = consumer
        self.contract_title = contract_title
        self._suggested = suggested_id(provider or "", consumer or "")

    def fields(self) -> ComposeResult:
        from workbench.model.templates import TEMPLATES

        known = {t.id for t in self.teams}
        yield label("Seam template:")
        yield Select(
            [
                (option(f"{t.kind}: {t.title} ({', '.join(t.terms)})"), t.kind)
                for t in TEMPLATES.values()
            ],
            value="data-model",
            allow_blank=False,
            id="new-template",
        )
        yield label("Providing team:")
        yield Select(
            team_options(self.teams),
            value=self.provider if self.provider in known else Select.NULL,
            id="new-provider",
        )
        yield label("Consuming team:")
        yield Select(
            team_options(self.teams),
            value=self.consumer if self.consumer in known else Select.NULL,
            id="new-consumer",
        )
        yield label("Contract id (its file is contracts/ID.toml):")
        yield Input(self._suggested, placeholder="e.g. data-to-model", id="new-id")
        yield label("Title (optional; default: the two team names):")
        yield Input(self.contract_title, id="new-title")

    @on(Select.Changed, "#new-provider")
    @on(Select.Changed, "#new-consumer")
    def teams_changed(self) -> None:
        # Follow the teams with the suggested id until the user types one of their own.
        field = self.query_one("#new-id", Input)
        if field.value.strip() in ("", self._suggested):
            self._suggested = suggested_id(*self._teams())
            field.value = self._suggested

    def _teams(self) -> tuple[str, str]:
        values = []
        for selector in ("#new-provider", "#new-consumer"):
            value = self.query_one(selector, Select).value
            values.append("" if value == Select.NULL else str(value))
        return values[0], values[1]

    def values(self) -> dict[str, Any] | str:
        provider, consumer = self._teams()
        if not provider or not consumer:
            return "Choose the providing and the consuming team."
        contract_id = self.query_one("#new-id", Input).value.strip()
        if not contract_id:
            return "Give the contract an id."
        return {
            "id": contract_id,
            "template": str(self.query_one("#new-template", Select).value),
            "provider": provider,
            "consumer": consumer,
            "title": self.query_one("#new-title", Input).value.strip() or None,
        }

    def change(self, svc: Any, values: dict[str, Any]) -> Any:
        return svc.new_contract(
            values["id"],
            template=values["template"],
            provider=values["provider"],
            consumer=values["consumer"],
            title=values["title"],
        )


def new_contract(app: WorkbenchApp, view: Any = None) -> None:
    """Open the form; `view`: an ungoverned exchange to govern (prefills teams and title)."""
    if app.readonly:
        app.notify("Read-only mode: cannot create contracts", severity="warning")
        return
    if app.gov_state is None:
        app.notify("Still reading the repo: a moment…", markup=False, timeout=2)
        return
    teams = sorted(app.gov_state.teams.values(), key=lambda t: t.name.lower())
    kwargs: dict[str, Any] = {}
    if view is not None and not view.governed:
        kwargs = {
            "provider": view.provider,
            "consumer": view.consumer,
            "contract_title": view.exchange,
            "hint": f"{view.provider} → {view.consumer} exchange “{view.exchange}” with no "
            "contract: nobody owns this handshake. Create its contract to govern it; the "
            "editor opens on the draft.",
        }
    title = f"New contract (as {app.actor_label})"
    app.push_screen(NewContractModal(title, teams, **kwargs), lambda a: _created(app, a))


def _created(app: WorkbenchApp, answer: dict[str, Any] | None) -> None:
    if not answer:
        return
    result = answer["result"]
    errors = [p for p in result.problems if p.severity == "error"]
    if result.commit:
        text = f"{result.summary} (commit {result.commit[:8]}) as {app.actor_label}"
    else:
        text = (
            f"{result.summary}. Fill in the {len(errors)} placeholder(s) listed on the "
            "right (F8 jumps to the next), then ctrl+s commits it."
        )
    # The editor's problem list is what to read next: earlier outcomes (people, teams)
    # would lie over it on a narrow terminal.
    app.clear_notifications()
    app.notify(text, title="New contract", markup=False, timeout=12)
    app.load_state()
    app.edit_contract(PurePosixPath(result.path).stem)  # contracts/ID.toml
