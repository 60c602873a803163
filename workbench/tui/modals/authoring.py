"""Forms that change the people registry: add a person, record a leave, add a team, name a
team's lead. The same changes as `workbench person add/leave` and `workbench team add/lead`.

Each form runs its change in a thread worker through the session's `authoring`
capability (`AuthoringService`), the one place
its rules live (ids, who may lead, successors, the registry version to prepare); the form
only collects values. A refusal (a taken id, a bad email, a lead from another team) keeps
the form open with what was typed and the reason under it, file:line:column where the
registry would not validate. Success closes it with the `AuthoringResult`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Input, Label, Select
from textual.worker import Worker, WorkerState

from workbench.tui.messages import AuthoringDone, AuthoringRefused
from workbench.tui.modals.obligations import FormModal

if TYPE_CHECKING:
    from workbench.model.state import GovernanceState
    from workbench.tui.app import WorkbenchApp

NOBODY = "-"  # a Select value that stands for "no one"


def authoring(service: Any) -> Any:
    """The authoring capability of the app's session (people, teams, new contracts)."""
    return service.authoring


def refusal_text(exc: BaseException) -> str:
    """What the user reads under the form: the reason, then each problem with its place."""
    from workbench.service.errors import InvalidEdit

    lines = [str(exc)]
    if isinstance(exc, InvalidEdit):
        lines += [p.render() for p in exc.problems]
    return "\n".join(lines)


def option(text: str) -> Text:
    """A Select option's label: plain text (repo text is never markup), and a Rich `Text`
    because Textual's type-to-search in a Select only searches `str` and `Text` labels."""
    return Text(text)


def person_options(people: list[Any]) -> list[tuple[Text, str]]:
    return [(option(f"{p.name} ({p.id}) · {p.team}"), p.id) for p in people]


def team_options(teams: list[Any]) -> list[tuple[Text, str]]:
    return [(option(f"{t.name} ({t.id})"), t.id) for t in teams]


def label(text: str) -> Label:
    return Label(text, classes="field-label", markup=False)


class AuthoringModal(FormModal):
    """A form whose OK commits a registry change as the acting person (in a worker)."""

    DESCRIPTION = "change"

    def __init__(self, title: str, hint: str = "") -> None:
        super().__init__(title, hint)
        self.busy = False

    @property
    def wb(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)  # every screen runs in the WorkbenchApp

    def change(self, svc: Any, values: dict[str, Any]) -> Any:
        """Call the service (in the worker thread); returns its AuthoringResult."""
        raise NotImplementedError

    def submit(self) -> None:
        if self.busy:
            return
        result = self.values()
        if isinstance(result, str):
            self.show_error(result)
            return
        self.busy = True
        self.show_error("committing…")
        self.run_change(self.wb.service, result)

    def show_error(self, text: str) -> None:
        self.query_one("#form-error", Label).update(Content(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="authoring")
    def run_change(self, service: Any, values: dict[str, Any]) -> None:
        from workbench.service.errors import WorkbenchError

        try:
            result = self.change(authoring(service), values)
        except WorkbenchError as exc:
            self.post_message(AuthoringRefused(refusal_text(exc)))
            return
        self.post_message(AuthoringDone(result))

    def on_authoring_refused(self, message: AuthoringRefused) -> None:
        self.busy = False
        self.show_error(message.reason)

    def on_authoring_done(self, message: AuthoringDone) -> None:
        self.dismiss({"result": message.result})

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.dismiss(None)
            self.wb.show_error(event.worker.error, self.DESCRIPTION)

    @staticmethod
    def text(value: str) -> str:
        return value.strip()

    def typed(self, input_id: str) -> str:
        """What the user typed in the input `input_id`, stripped."""
        return self.text(self.query_one(f"#{input_id}", Input).value)


class PersonAddModal(AuthoringModal):
    AUTO_FOCUS = "#person-id"
    OK = "Add and commit"
    DESCRIPTION = "add the person"

    def __init__(self, title: str, teams: list[Any], team: str | None) -> None:
        super().__init__(
            title,
            "Added to keys/people.toml in one commit. A public key (optional) is registered "
            "once the registry admins sign the change.",
        )
        self.teams = teams
        self.team = team

    def fields(self) -> ComposeResult:
        from workbench.model.people import Authority

        yield label("Id (lowercase letters, digits, '.', '_', '-'):")
        yield Input(placeholder="e.g. grace.hopper", id="person-id")
        yield label("Full name:")
        yield Input(placeholder="e.g. Grace Hopper", id="person-name")
        yield label("Email:")
        yield Input(placeholder="e.g. grace@acme.example", id="person-email")
        yield label("Team:")
        yield Select(
            team_options(self.teams),
            value=self.team if self.team else Select.NULL,
            allow_blank=self.team is None,
            id="person-team",
        )
        yield label("Role (optional):")
        yield Input(placeholder="e.g. Data engineer", id="person-role")
        yield label("Authority:")
        yield Select(
            [(option(a.value), a.value) for a in Authority],
            value=Authority.member.value,
            allow_blank=False,
            id="person-authority",
        )
        yield label("Public key (optional): a .pub file or an 'ssh-ed25519 …' line:")
        yield Input(placeholder="~/.ssh/id_ed25519.pub", id="person-key")

    def values(self) -> dict[str, Any] | str:
        get = self.typed
        team = self.query_one("#person-team", Select).value
        values = {
            "id": get("person-id"),
            "name": get("person-name"),
            "email": get("person-email"),
            "team": None if team == Select.NULL else str(team),
            "role": get("person-role"),
            "authority": str(self.query_one("#person-authority", Select).value),
            "key": get("person-key") or None,
        }
        missing = [k for k in ("id", "name", "email", "team") if not values[k]]
        if missing:
            return f"Give the person's {', '.join(missing)}."
        return values

    def change(self, svc: Any, values: dict[str, Any]) -> Any:
        from pathlib import Path

        key = values["key"]
        if key and not key.startswith("ssh-"):
            key = str(Path(key).expanduser())
        return svc.add_person(
            values["id"],
            name=values["name"],
            email=values["email"],
            team=values["team"],
            role=values["role"],
            authority=values["authority"],
            key=key,
        )


class PersonLeaveModal(AuthoringModal):
    AUTO_FOCUS = "#leave-on"
    OK = "Record and commit"
    DESCRIPTION = "record the leave"

    def __init__(self, title: str, person: Any, successors: list[Any], today: date) -> None:
        super().__init__(
            title,
            "What they own stays theirs in the contracts until it is reassigned; a team they "
            "lead passes to the successor when the successor is in that team.",
        )
        self.person = person
        self.successors = successors
        self.today = today

    def fields(self) -> ComposeResult:
        yield label("Last day (YYYY-MM-DD):")
        yield Input(self.today.isoformat(), id="leave-on")
        yield label("Replaced by:")
        yield Select(
            [(option("no one named yet"), NOBODY), *person_options(self.successors)],
            value=NOBODY,
            allow_blank=False,
            id="leave-successor",
        )

    def values(self) -> dict[str, Any] | str:
        raw = self.text(self.query_one("#leave-on", Input).value)
        try:
            on = date.fromisoformat(raw)
        except ValueError:
            return f"{raw!r} is not a date such as 2027-01-31."
        successor = str(self.query_one("#leave-successor", Select).value)
        return {"on": on, "replaced_by": None if successor == NOBODY else successor}

    def change(self, svc: Any, values: dict[str, Any]) -> Any:
        return svc.person_leave(self.person.id, on=values["on"], replaced_by=values["replaced_by"])


class TeamAddModal(AuthoringModal):
    AUTO_FOCUS = "#team-id"
    OK = "Add and commit"
    DESCRIPTION = "add the team"

    def __init__(self, title: str, people: list[Any]) -> None:
        super().__init__(
            title,
            "A lead from another team moves into the new one. Who leads a team counts for "
            "signatures once the registry admins sign the registry version that carries it.",
        )
        self.people = people

    def fields(self) -> ComposeResult:
        yield label("Id (lowercase letters, digits, '.', '_', '-'):")
        yield Input(placeholder="e.g. product", id="team-id")
        yield label("Name:")
        yield Input(placeholder="e.g. Loan Product", id="team-name")
        yield label("Lead:")
        yield Select(person_options(self.people), id="team-lead")
        yield label("Description (optional):")
        yield Input(id="team-description")

    def values(self) -> dict[str, Any] | str:
        get = self.typed
        lead = self.query_one("#team-lead", Select).value
        values = {
            "id": get("team-id"),
            "name": get("team-name"),
            "lead": None if lead == Select.NULL else str(lead),
            "description": get("team-description"),
        }
        missing = [k for k in ("id", "name", "lead") if not values[k]]
        if missing:
            return f"Give the team's {', '.join(missing)}."
        return values

    def change(self, svc: Any, values: dict[str, Any]) -> Any:
        return svc.add_team(
            values["id"],
            name=values["name"],
            lead=values["lead"],
            description=values["description"],
        )


class TeamLeadModal(AuthoringModal):
    AUTO_FOCUS = "#lead-team"
    OK = "Change and commit"
    DESCRIPTION = "change the lead"

    def __init__(
        self, title: str, teams: list[Any], members: dict[str, list[Any]], team: str | None
    ) -> None:
        super().__init__(title, "The new lead must be a member of the team.")
        self.teams = teams
        self.members = members
        self.team = team

    def fields(self) -> ComposeResult:
        team = self.team if self.team in self.members else None
        yield label("Team:")
        yield Select(
            team_options(self.teams),
            value=team if team else Select.NULL,
            id="lead-team",
        )
        yield label("New lead (a member of the team):")
        yield Select(person_options(self.members.get(team or "", [])), id="lead-person")

    @on(Select.Changed, "#lead-team")
    def team_changed(self, event: Select.Changed) -> None:
        members = self.members.get(str(event.value), [])
        self.query_one("#lead-person", Select).set_options(person_options(members))

    def values(self) -> dict[str, Any] | str:
        team = self.query_one("#lead-team", Select).value
        person = self.query_one("#lead-person", Select).value
        if team == Select.NULL:
            return "Choose the team."
        if person == Select.NULL:
            return "Choose its new lead."
        return {"team": str(team), "person": str(person)}

    def change(self, svc: Any, values: dict[str, Any]) -> Any:
        return svc.set_team_lead(values["team"], values["person"])


# -- the flows: open a form from the People screen or the command palette ---------------------
def _ready(app: WorkbenchApp, what: str) -> bool:
    if app.readonly:
        app.notify(f"Read-only mode: cannot {what}", severity="warning")
        return False
    if app.gov_state is None:
        app.notify("Still reading the repo: a moment…", markup=False, timeout=2)
        return False
    return True


def _state(app: WorkbenchApp) -> GovernanceState:
    state = app.gov_state
    assert state is not None, "the forms open once the state is loaded (_ready)"
    return state


def _current_people(app: WorkbenchApp, *, exclude: str | None = None) -> list[Any]:
    state = _state(app)
    people = [p for p in state.people.values() if not p.has_left(app.today) and p.id != exclude]
    return sorted(people, key=lambda p: p.name.lower())


def _teams(app: WorkbenchApp) -> list[Any]:
    return sorted(_state(app).teams.values(), key=lambda t: t.name.lower())


def changed(app: WorkbenchApp, answer: dict[str, Any] | None) -> None:
    """After a form committed: say what happened and what to do next, reload the state."""
    if not answer:
        return
    result = answer["result"]
    commit = f" (commit {result.commit[:8]})" if result.commit else ""
    lines = [f"{result.summary}{commit} as {app.actor_label}", *result.notes]
    if any("registry sign" in note for note in result.notes):
        lines.append("Here: ctrl+p → view: key registry, then s (each admin).")
    app.notify("\n".join(lines), title="Committed", markup=False, timeout=12)
    app.load_state()


def add_person(app: WorkbenchApp, team: str | None = None) -> None:
    if not _ready(app, "add people"):
        return
    actor_team = app.actor.team if app.actor is not None else None
    title = f"Add a person (commits as {app.actor_label})"
    modal = PersonAddModal(title, _teams(app), team or actor_team)
    app.push_screen(modal, lambda answer: changed(app, answer))


def person_leaves(app: WorkbenchApp, person_id: str | None) -> None:
    if not _ready(app, "record a leave"):
        return
    person = _state(app).people.get(person_id or "")
    if person is None:
        app.notify("Highlight the person who leaves first", severity="warning")
        return
    title = f"{person.name} ({person.id}) leaves (commits as {app.actor_label})"
    successors = _current_people(app, exclude=person.id)
    modal = PersonLeaveModal(title, person, successors, app.today)
    app.push_screen(modal, lambda answer: changed(app, answer))


def add_team(app: WorkbenchApp) -> None:
    if not _ready(app, "add teams"):
        return
    modal = TeamAddModal(f"Add a team (commits as {app.actor_label})", _current_people(app))
    app.push_screen(modal, lambda answer: changed(app, answer))


def team_lead(app: WorkbenchApp, person_id: str | None = None) -> None:
    if not _ready(app, "change a team's lead"):
        return
    members: dict[str, list[Any]] = {}
    for person in _current_people(app):
        members.setdefault(person.team, []).append(person)
    person = _state(app).people.get(person_id or "")
    title = f"Name a team's lead (commits as {app.actor_label})"
    modal = TeamLeadModal(title, _teams(app), members, person.team if person else None)
    app.push_screen(modal, lambda answer: changed(app, answer))


def pick_and_leave(app: WorkbenchApp) -> None:
    """From the palette: pick who leaves, then the leave form."""
    from workbench.tui.modals.pickers import PickerModal

    if not _ready(app, "record a leave"):
        return
    choices = app.current_people(None)

    def picked(person: str | None) -> None:
        if person:
            person_leaves(app, person)

    app.push_screen(PickerModal("Who leaves?", choices), picked)
