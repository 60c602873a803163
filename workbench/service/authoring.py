"""Authoring: people, teams and new contracts, validated and committed as the acting person.

Every change here is one `Workbench.commit` (so the branch, lock and author rules hold),
made only after the whole repo with the change applied still validates where the change
touches it: a new error in `keys/people.toml` is refused with its file:line:column, and the
contracts a change affects are named.

keys/people.toml is covered by the key registry (who leads a team decides who must sign), so
a change of who leads a team counts for signatures only once the registry admins sign a
registry version that carries it. Where a registry exists, `team add` / `team lead` prepare
that version, and `person add --key` registers the key in it (docs/signing.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.model.ids import checked_id
from workbench.model.people import checked_text
from workbench.model.problems import Problem
from workbench.repo import layout
from workbench.service.errors import InvalidEdit, WorkbenchError

if TYPE_CHECKING:
    from workbench.model.state import GovernanceState
    from workbench.service.core import Workbench

PEOPLE = "keys/people.toml"


@dataclass
class AuthoringResult:
    """What a change did: its commit (None when nothing was committed), what it changed,
    and what the user should know or do next."""

    summary: str
    commit: str | None = None
    path: str | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def suggest(value: str, choices: Any) -> str:
    """`; did you mean 'x'?` for a mistyped id, else ''."""
    from workbench.model.suggest import did_you_mean

    return did_you_mean(value, choices)


class AuthoringService:
    def __init__(self, wb: Workbench) -> None:
        self.wb = wb

    # -- people.toml ------------------------------------------------------------------------
    def _people_text(self) -> str:
        data = self.wb.files().get(PEOPLE)
        if data is None:
            raise WorkbenchError(f"{PEOPLE} does not exist; start a repo with `workbench init`")
        return data.decode("utf-8")

    def _state_with(self, changes: dict[str, bytes]) -> GovernanceState:
        from workbench.model.state import load_state

        files = {**self.wb.files(), **changes}
        return load_state(files, self.wb.now.date(), floor=self.wb.policy_floor())

    def _commit_people(self, text: str, message: str, summary: str) -> AuthoringResult:
        """Validate people.toml as changed, then commit it; refuse any new error in it."""
        from workbench.model.text import normalise

        self.wb.require_writable("change people and teams")
        new = normalise(text).encode("utf-8")
        before = self.wb.state()
        after = self._state_with({PEOPLE: new})
        old_keys = {(p.code, p.message) for p in before.problems_for(PEOPLE)}
        new_errors = [
            p
            for p in after.problems_for(PEOPLE)
            if p.severity == "error" and (p.code, p.message) not in old_keys
        ]
        if new_errors:
            raise InvalidEdit(f"{PEOPLE} would not validate; nothing was committed", new_errors)
        affected = sorted(
            {
                p.file
                for p in after.errors
                if p.file.startswith(layout.CONTRACTS)
                and (p.code, p.message) not in {(q.code, q.message) for q in before.errors}
            }
        )
        commit = self.wb.commit({PEOPLE: new}, message)
        result = AuthoringResult(summary, commit, PEOPLE)
        for path in affected:
            result.notes.append(
                f"{path} no longer validates with this change: `workbench validate` says why"
            )
        return result

    def _require_person(self, state: GovernanceState, person_id: str, what: str) -> None:
        if person_id not in state.people:
            raise WorkbenchError(
                f"{what} {person_id!r} is not a person in {PEOPLE}"
                + suggest(person_id, state.people)
            )

    def _require_team(self, state: GovernanceState, team_id: str, what: str = "team") -> None:
        if team_id not in state.teams:
            raise WorkbenchError(
                f"{what} {team_id!r} is not a team in {PEOPLE}" + suggest(team_id, state.teams)
            )

    def add_person(
        self,
        person_id: str,
        *,
        name: str,
        email: str,
        team: str | None = None,
        role: str = "",
        authority: str | None = None,
        key: str | None = None,
    ) -> AuthoringResult:
        """Add a person to keys/people.toml (team: the acting person's by default); with
        `key` (a .pub file or an 'ssh-ed25519 ...' line), also prepare the registry change
        that registers it, for the admins to sign."""
        import tomlkit

        checked_id(person_id, "person")
        checked_text("--name", name, name=True)  # a role stays free text (docs/contracts.md)
        state = self.wb.state()
        if person_id in state.people:
            raise WorkbenchError(f"{person_id!r} is already a person in {PEOPLE}")
        if person_id in state.teams:
            raise WorkbenchError(f"{person_id!r} is a team id; a person needs another id")
        actor = self.wb.actor(state)
        team = team or actor.team
        self._require_team(state, team)
        doc = tomlkit.parse(self._people_text())
        entry: dict[str, Any] = {"id": person_id, "name": name, "email": email, "team": team}
        if role:
            entry["role"] = role
        if authority:
            entry["authority"] = authority
        entry["joined"] = self.wb.now.date()
        _append(doc, "people", entry)
        result = self._commit_people(
            tomlkit.dumps(doc),
            f"Add {person_id} ({name}) to team {team}\n",
            f"added {person_id} to team {team}",
        )
        if key is not None:
            result.notes.extend(self._register_key(person_id, key))
        return result

    def _register_key(self, person_id: str, key: str) -> list[str]:
        svc = self.wb.signing
        if svc.registry_state().head is None and not self._registry_started():
            return [
                "no key registry yet: the key is not registered; start one with "
                "`workbench registry init` (docs/signing.md)"
            ]
        text = Path(key).read_text(encoding="utf-8") if not key.startswith("ssh-") else key
        change = svc.registry.add_key(person_id, text.strip())
        return [_registry_note(change)]

    def _registry_started(self) -> bool:
        return "keys/policy.toml" in self.wb.files()

    def person_leave(self, person_id: str, *, on: date, replaced_by: str | None) -> AuthoringResult:
        """Record that a person leaves on `on`, and who takes over. A team they lead passes
        to their successor in the same commit when the successor is in that team."""
        checked_id(person_id, "person")
        state = self.wb.state()
        self._require_person(state, person_id, "person")
        if replaced_by is not None:
            checked_id(replaced_by, "person")
            self._require_person(state, replaced_by, "--replaced-by")
            if replaced_by == person_id:
                raise WorkbenchError("a person cannot be replaced by themselves")
        text = self._people_text()
        index = self._index("people", person_id)
        from workbench.repo.edit import set_value

        text = set_value(text, ("people", index, "left"), on)
        if replaced_by:
            text = set_value(text, ("people", index, "replaced_by"), replaced_by)
        notes: list[str] = []
        for t_index, team in self._teams_raw():
            if team.get("lead") != person_id:
                continue
            successor = state.people.get(replaced_by or "")
            if successor is not None and successor.team == team.get("id"):
                text = set_value(text, ("teams", t_index, "lead"), replaced_by)
                notes.append(f"team {team.get('id')} is now led by {replaced_by}")
            else:
                notes.append(
                    f"{person_id} leads team {team.get('id')}: name the next lead with "
                    f"`workbench team lead {team.get('id')} PERSON` before {on}"
                )
        result = self._commit_people(
            text,
            f"{person_id} leaves on {on}"
            + (f"; replaced by {replaced_by}" if replaced_by else "")
            + "\n",
            f"{person_id} leaves on {on}"
            + (f" (replaced by {replaced_by})" if replaced_by else ""),
        )
        result.notes[:0] = notes
        if any("is now led by" in n for n in notes):
            result.notes.extend(self._carry_people_into_registry(f"{replaced_by} leads a team"))
        return result

    def _teams_raw(self) -> list[tuple[int, dict[str, Any]]]:
        import tomllib

        data = tomllib.loads(self._people_text())
        return list(enumerate(data.get("teams", [])))

    def _index(self, table: str, item_id: str) -> int:
        import tomllib

        data = tomllib.loads(self._people_text())
        for i, entry in enumerate(data.get(table, [])):
            if entry.get("id") == item_id:
                return i
        raise WorkbenchError(f"no {table[:-1] if table != 'people' else 'person'} {item_id!r}")

    def add_team(
        self, team_id: str, *, name: str, lead: str, description: str = ""
    ) -> AuthoringResult:
        """Add a team led by `lead`. A lead must belong to their team: a lead from another
        team moves into the new one in the same commit (refused if they lead another team)."""
        import tomlkit

        checked_id(team_id, "team")
        checked_text("--name", name, name=True)
        state = self.wb.state()
        if team_id in state.teams:
            raise WorkbenchError(f"{team_id!r} is already a team in {PEOPLE}")
        if team_id in state.people:
            raise WorkbenchError(f"{team_id!r} is a person id; a team needs another id")
        self._require_person(state, lead, "--lead")
        led = [t.id for t in state.teams.values() if t.lead == lead]
        if led:
            raise WorkbenchError(
                f"{lead} already leads team {led[0]}; name its next lead first "
                f"(`workbench team lead {led[0]} PERSON`)"
            )
        doc = tomlkit.parse(self._people_text())
        entry: dict[str, Any] = {"id": team_id, "name": name, "lead": lead}
        if description:
            entry["description"] = description
        _append(doc, "teams", entry)
        moved = state.people[lead].team != team_id
        text = tomlkit.dumps(doc)
        if moved:
            from workbench.repo.edit import set_value

            text = set_value(text, ("people", self._index("people", lead), "team"), team_id)
        result = self._commit_people(
            text,
            f"Add team {team_id} ({name}), led by {lead}\n",
            f"added team {team_id}, led by {lead}",
        )
        if moved:
            result.notes.insert(0, f"{lead} moved from team {state.people[lead].team} to {team_id}")
        result.notes.extend(self._carry_people_into_registry(f"team {team_id} led by {lead}"))
        return result

    def set_team_lead(self, team_id: str, person_id: str) -> AuthoringResult:
        """Make `person_id` (a member of the team) its lead."""
        state = self.wb.state()
        self._require_team(state, team_id)
        self._require_person(state, person_id, "lead")
        team = state.teams[team_id]
        if team.lead == person_id:
            raise WorkbenchError(f"{person_id} already leads team {team_id}")
        if state.people[person_id].team != team_id:
            raise WorkbenchError(
                f"{person_id} is in team {state.people[person_id].team}, not {team_id}: a lead "
                "belongs to the team they lead"
            )
        from workbench.repo.edit import set_value

        text = set_value(
            self._people_text(), ("teams", self._index("teams", team_id), "lead"), person_id
        )
        result = self._commit_people(
            text,
            f"{person_id} leads team {team_id} (was {team.lead})\n",
            f"{person_id} now leads team {team_id} (was {team.lead})",
        )
        result.notes.extend(self._carry_people_into_registry(f"{person_id} leads team {team_id}"))
        return result

    def _carry_people_into_registry(self, description: str) -> list[str]:
        """Who leads a team decides who must sign, and signing reads keys/people.toml from
        the verified registry: prepare the registry version that carries this change."""
        if not self._registry_started():
            return []
        svc = self.wb.signing
        try:
            change = svc.registry.propose(f"people and teams: {description}")
        except WorkbenchError as exc:
            return [f"the registry change was not prepared: {exc}"]
        return [
            "who leads a team counts for signatures once the registry carries it: "
            + _registry_note(change)
        ]

    # -- contracts --------------------------------------------------------------------------
    def new_contract(
        self,
        contract_id: str,
        *,
        template: str,
        provider: str,
        consumer: str,
        values: dict[str, str] | None = None,
        title: str | None = None,
    ) -> AuthoringResult:
        """A contract from a seam template, owners and leads filled from the teams.

        Committed when it validates. With placeholders left (or any other error) it is
        written to the working tree only, uncommitted, and the problems are returned: edit
        the file and `workbench contract save ID`, or open it in the app's editor."""
        from workbench.model.templates import TemplateInput, render_template
        from workbench.model.templates.seams import TemplateError

        checked_id(contract_id)
        state = self.wb.state()
        path = layout.contract_path(contract_id)
        if self.wb.git.blob_at("HEAD", path) is not None:
            raise WorkbenchError(
                f"contract {contract_id} exists already ({path}, committed): change it in "
                f"the app's editor or in the file and `workbench contract save {contract_id}`; "
                "or choose another id"
            )
        if path in self.wb.files():
            # Never overwritten: the draft may hold edits (the usual case: a first `contract
            # new` left placeholders, and the user runs it again with --set).
            raise WorkbenchError(
                f"{path} exists already, not committed (a draft of an earlier `contract new`?): "
                f"fill it in and `workbench contract save {contract_id}`, or delete the file to "
                "start again; or choose another id"
            )
        self._require_team(state, provider, "--provider")
        self._require_team(state, consumer, "--consumer")
        if provider == consumer:
            raise WorkbenchError("a seam joins two different teams: --provider equals --consumer")
        p_team, c_team = state.teams[provider], state.teams[consumer]
        for team in (p_team, c_team):
            if team.lead not in state.people:
                raise WorkbenchError(f"team {team.id}'s lead {team.lead!r} is not a person")
        try:
            text = render_template(
                template,
                TemplateInput(
                    contract_id=contract_id,
                    provider=provider,
                    consumer=consumer,
                    provider_name=p_team.name,
                    consumer_name=c_team.name,
                    provider_lead=p_team.lead,
                    consumer_lead=c_team.lead,
                    provider_lead_email=state.people[p_team.lead].email,
                    values=dict(values or {}),
                    title=title,
                ),
                layout.SCHEMA_LINE,
            )
        except TemplateError as exc:
            raise WorkbenchError(str(exc)) from None
        return self.commit_or_leave(contract_id, text, f"New contract {contract_id} ({template})")

    def commit_or_leave(self, contract_id: str, text: str, title: str) -> AuthoringResult:
        self.wb.require_writable("create contracts")
        path = layout.contract_path(contract_id)
        problems = self.wb.check_contract_text(contract_id, text)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            from workbench.repo.atomic import atomic_write

            atomic_write(self.wb.root / path, text.encode("utf-8"))
            self.wb.drafts.save(contract_id, text)
            return AuthoringResult(
                f"wrote {path} (not committed: {len(errors)} thing(s) to fill in)",
                None,
                path,
                [
                    f"edit {path}, then `workbench contract save {contract_id}` "
                    f"(or open it in the app: `workbench`, then e)"
                ],
                problems,
            )
        commit = self.wb.commit({path: text.encode("utf-8")}, title + "\n")
        return AuthoringResult(f"created {path}", commit, path, [], problems)

    def save_contract(self, contract_id: str, message: str | None = None) -> AuthoringResult:
        """Validate the working-tree contract and commit it (after `contract new` left it)."""
        checked_id(contract_id)
        path = layout.contract_path(contract_id)
        data = self.wb.files().get(path)
        if data is None:
            from workbench.model.suggest import did_you_mean

            ids = [layout_id(p) for p in self.wb.files() if p.startswith(layout.CONTRACTS)]
            raise WorkbenchError(f"no {path} in the working tree" + did_you_mean(contract_id, ids))
        message = message or f"Save contract {contract_id}"
        commit = self.wb.save_contract(contract_id, data.decode("utf-8"), message + "\n")
        return AuthoringResult(f"committed {path}", commit, path)


def layout_id(path: str) -> str:
    return Path(path).stem


def _append(doc: Any, table: str, entry: dict[str, Any]) -> None:
    import tomlkit

    if table not in doc:
        doc[table] = tomlkit.aot()
    item = tomlkit.table()
    for key, value in entry.items():
        item[key] = value
    doc[table].append(item)


def _registry_note(change: Any) -> str:
    if change.version is None:
        return change.note or f"registry: {change.description}"
    return (
        f"registry v{change.version} prepared ({change.description}); it counts once the "
        "admins sign it: `workbench registry sign` (each admin)"
    )
