"""The structured edit of the app: change a person in a contract (its owner, an escalation
contact, a term owner) to someone picked from the registry, shown as a diff and committed
with a message. Mixed into ``WorkbenchApp``; the service work runs in its workers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.worker import WorkerFailed

from workbench.tui.host import AppHost

if TYPE_CHECKING:
    from workbench.tui.modals.pickers import Choice

# Fields a structured edit may change, with how they are shown in the picker.
PERSON_FIELDS = ("owner", "escalation.primary", "escalation.backup", "terms.*.owner")


class PersonEditing(AppHost):
    """Change person (``o``): pick the field, then the new person, then commit."""

    @work(exclusive=True, exit_on_error=False, group="person-flow", description="change person")
    async def change_person(self, contract_id: str) -> None:
        from workbench.tui.modals.commit import CommitModal
        from workbench.tui.modals.pickers import Choice, PickerModal
        from workbench.tui.screens.contracts import person_content

        if self.readonly:
            self.notify("Read-only mode: contracts cannot be changed", severity="warning")
            return
        state = self.gov_state
        doc = state.contracts.get(contract_id) if state else None
        if state is None or doc is None:
            self.notify(f"{contract_id} does not parse; fix it in the editor", severity="error")
            return
        fields = person_fields(doc.contract)
        choices = []
        for path, label, pid in fields:
            who = person_content(state, pid, self.today)
            choices.append(
                Choice(
                    "/".join(map(str, path)),
                    who.__class__.assemble(f"{label:<28}", who),
                    f"{label} {pid}".lower(),
                )
            )
        picked = await self.push_screen_wait(
            PickerModal(f"Change which person in {contract_id}?", choices)
        )
        if not picked:
            return
        path = tuple(int(p) if p.isdigit() else p for p in picked.split("/"))
        current = next(pid for p, _, pid in fields if p == path)
        label = next(lbl for p, lbl, _ in fields if p == path)
        people = self.current_people(current)
        person = await self.push_screen_wait(
            PickerModal(
                f"New {label} for {contract_id}",
                people,
                hint="Only people in the registry who have not left are offered.",
            )
        )
        if not person or person == current:
            return
        try:
            diff, problems = await self.prepare_structured_edit(contract_id, path, person).wait()
        except WorkerFailed:
            return  # shown by the error dialog
        if problems:
            self.notify(
                f"That change would leave {len(problems)} error(s), e.g. line {problems[0].line}: "
                f"{problems[0].message}. Fix them in the editor (e).",
                severity="error",
                markup=False,
            )
            return
        name = state.people[person].name
        message = await self.push_screen_wait(
            CommitModal(
                f"Commit {contract_id} as {self.actor_label}",
                diff.text,
                diff.comparison.lines(),
                f"Make {name} the {label} of {contract_id}",
            )
        )
        if message:
            self.set_contract_value(contract_id, path, person, message)

    def current_people(self, current: str | None) -> list[Choice]:
        from textual.content import Content

        from workbench.tui.modals.pickers import Choice

        state = self.gov_state
        if state is None:
            return []
        suggested = replaced = None
        if current and current in state.people:
            replaced = state.people[current].name
            suggested = state.people[current].replaced_by
        out: list[Choice] = []
        for person in sorted(state.people.values(), key=lambda p: p.name.lower()):
            if person.has_left(self.today):
                continue
            note = ""
            if person.id == suggested:
                note = f"  ← replaces {replaced}"
            label = Content.assemble(
                (f"{person.name}", "bold"),
                f" ({person.id}) · {person.role or '—'} · {person.team}",
                (note, "$text-success"),
            )
            choice = Choice(
                person.id, label, f"{person.id} {person.name} {person.team} {person.role}".lower()
            )
            if person.id == suggested:
                out.insert(0, choice)
            else:
                out.append(choice)
        return out


def person_fields(contract: Any) -> list[tuple[tuple[str | int, ...], str, str]]:
    """The person fields a structured edit offers: owner, escalation contacts, term owners."""
    out: list[tuple[tuple[str | int, ...], str, str]] = []
    for path, pid in contract.person_refs():
        if path == ("owner",):
            out.append((path, "contract owner", pid))
        elif path[0] == "escalation":
            out.append((path, f"escalation {path[1]}", pid))
        elif len(path) == 3 and path[0] == "terms" and path[2] == "owner":
            out.append((path, f"owner of term {contract.terms[int(path[1])].id}", pid))
    return out
