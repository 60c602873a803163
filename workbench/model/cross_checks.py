"""The checks that need more than one file: people and teams against each other, every
contract against the people, teams and settings it names, and workbench.toml against the
teams. Each problem is placed at the key it is about. Part of ``load_state``."""

from __future__ import annotations

from datetime import date

from workbench.model.contract import ACCOUNTABLE_FIELDS, Contract
from workbench.model.documents import (
    ContractDoc,
    Document,
    GovernanceState,
    is_placeholder,
)
from workbench.model.people import PeopleFile, delegate_problem
from workbench.model.problems import Problem
from workbench.model.suggest import did_you_mean


def _unique_emails(state: GovernanceState, doc: Document, people_file: PeopleFile) -> None:
    """One person per email (case-folded): git names the acting person, and a commit's
    author, by email alone, so a second person with someone's email makes both unknowable
    (and would let one person's commits be read as another's)."""
    first: dict[str, str] = {}
    for i, person in enumerate(people_file.people):
        email = person.email.lower()
        if email in first and first[email] != person.id:
            state.problems.append(
                doc.problem(
                    ("people", i, "email"),
                    "person.duplicate-email",
                    f"{person.id}: email {person.email!r} is also the email of "
                    f"{first[email]}; each person has their own email (git identifies the "
                    "acting person and each commit's author by it)",
                )
            )
            continue
        first.setdefault(email, person.id)


def _index_people(
    state: GovernanceState, doc: Document, people_file: PeopleFile, today: date
) -> None:
    for i, team in enumerate(people_file.teams):
        if team.id in state.teams:
            state.problems.append(
                doc.problem(
                    ("teams", i, "id"), "team.duplicate-id", f"team id {team.id!r} is defined twice"
                )
            )
            continue
        state.teams[team.id] = team
    for i, person in enumerate(people_file.people):
        if person.id in state.people:
            state.problems.append(
                doc.problem(
                    ("people", i, "id"),
                    "person.duplicate-id",
                    f"person id {person.id!r} is defined twice",
                )
            )
            continue
        if person.id in state.teams:
            state.problems.append(
                doc.problem(
                    ("people", i, "id"),
                    "person.id-is-team",
                    f"person id {person.id!r} is also a team id; ids must be unambiguous",
                )
            )
        state.people[person.id] = person
    _unique_emails(state, doc, people_file)
    teams_by_name = state.team_by_name()
    for i, person in enumerate(people_file.people):
        for attr in ("id", "name"):
            value = getattr(person, attr)
            named = teams_by_name.get(value.strip().lower())
            if is_placeholder(value) or (named is not None and attr == "name"):
                what = f"the name of team {named.id!r}" if named else "a placeholder"
                state.problems.append(
                    doc.problem(
                        ("people", i, attr),
                        "person.not-individual",
                        f"{person.id}: {attr} {value!r} is {what}, not a named individual; "
                        "register each accountable person under their own name",
                    )
                )
                break
        if person.team not in state.teams:
            state.problems.append(
                doc.problem(
                    ("people", i, "team"),
                    "person.unknown-team",
                    f"{person.id}: team {person.team!r} is not defined in [[teams]]",
                )
            )
        for attr in ("replaced_by", "delegate"):
            ref = getattr(person, attr)
            if ref is not None and ref not in state.people:
                state.problems.append(
                    doc.problem(
                        ("people", i, attr),
                        "person.unknown-person",
                        f"{person.id}: {attr} {ref!r} is not a person in the registry",
                    )
                )
        delegate = state.people.get(person.delegate) if person.delegate else None
        if delegate is not None and not person.has_left(today):
            why = delegate_problem(person, delegate, today)
            if why is not None:
                code = "person.delegate-authority" if "authority" in why else "person.delegate"
                state.problems.append(doc.problem(("people", i, "delegate"), code, why))
        if person.left and person.joined and person.left < person.joined:
            state.problems.append(
                doc.problem(
                    ("people", i, "left"),
                    "person.dates",
                    f"{person.id}: left ({person.left}) is before joined ({person.joined})",
                )
            )
    for i, team in enumerate(people_file.teams):
        where = ("teams", i, "lead")
        problem = _person_problem(state, doc, where, team.lead, today, accountable=True)
        if problem:
            state.problems.append(problem)
        elif state.people[team.lead].team != team.id:
            state.problems.append(
                doc.problem(
                    where,
                    "team.lead-elsewhere",
                    f"team {team.id!r}: lead {team.lead!r} belongs to team {state.people[team.lead].team!r}",
                )
            )


def _person_problem(
    state: GovernanceState,
    doc: Document,
    where: tuple[str | int, ...],
    value: str,
    today: date,
    accountable: bool,
) -> Problem | None:
    """Why `value` does not name a reachable individual, or None if it does."""
    folded = value.strip().lower()
    if is_placeholder(value):
        return doc.problem(
            where,
            "owner.placeholder",
            f"{value!r} is a placeholder, not a person: a named individual is required (a person id from keys/people.toml)",
        )
    team_match = state.team_by_name().get(folded)
    if team_match is not None and value not in state.people:
        lead = f"; its lead is {team_match.lead!r}" if team_match.lead else ""
        return doc.problem(
            where,
            "owner.team",
            f"{value!r} is a team, and teams never own anything: a named individual is required{lead}",
        )
    person = state.people.get(value)
    if person is None:
        return doc.problem(
            where,
            "person.unknown",
            f"{value!r} is not a person in keys/people.toml{state.people_void}; a named "
            "individual is required" + did_you_mean(value, state.people),
        )
    if accountable and person.has_left(today):
        successor = (
            f"; replaced by {person.replaced_by!r}"
            if person.replaced_by
            else "; no replacement is recorded"
        )
        return doc.problem(
            where,
            "person.departed",
            f"{person.name} ({person.id}) left on {person.left}{successor}",
        )
    return None


# Public name: action items (workbench.governance.actions) name owners and approvers too,
# and must reject placeholders, teams and departed people for the same reasons.
person_problem = _person_problem


def check_contract(state: GovernanceState, cdoc: ContractDoc, today: date) -> list[Problem]:
    contract, doc = cdoc.contract, cdoc.document
    problems: list[Problem] = []
    for where, value in contract.person_refs():
        last = next((p for p in reversed(where) if isinstance(p, str)), "")
        accountable = last in ACCOUNTABLE_FIELDS or (where[0] == "terms" and last == "owner")
        problem = _person_problem(state, doc, where, value, today, accountable)
        if problem:
            problems.append(problem)

    seam = contract.seam
    if seam.provider == seam.consumer:
        problems.append(
            doc.problem(
                ("seam", "consumer"),
                "seam.same-team",
                f"a seam joins two different teams; both sides are {seam.provider!r}",
            )
        )
    for side in ("provider", "consumer"):
        team_id = getattr(seam, side)
        if state.teams and team_id not in state.teams:
            problems.append(
                doc.problem(
                    ("seam", side),
                    "seam.unknown-team",
                    f"{side} team {team_id!r} is not defined in keys/people.toml",
                )
            )
            continue
        lead_id = getattr(contract.parties, f"{side}_lead")
        person = state.people.get(lead_id)
        if person is not None and person.team != team_id:
            problems.append(
                doc.problem(
                    ("parties", f"{side}_lead"),
                    "parties.wrong-side",
                    f"{lead_id!r} is in team {person.team!r}, not on the {side} side ({team_id!r})",
                )
            )

    term_ids: dict[str, int] = {}
    for i, term in enumerate(contract.terms):
        if term.id in term_ids:
            problems.append(
                doc.problem(
                    ("terms", i, "id"),
                    "term.duplicate-id",
                    f"term id {term.id!r} is used twice in this contract",
                )
            )
        term_ids.setdefault(term.id, i)
        assertions = getattr(term, "assertions", [])
        seen: set[str] = set()
        for j, assertion in enumerate(assertions):
            if assertion.id in seen:
                problems.append(
                    doc.problem(
                        ("terms", i, "assertions", j, "id"),
                        "assertion.duplicate-id",
                        f"assertion id {assertion.id!r} is used twice",
                    )
                )
            seen.add(assertion.id)
        if not term.description and not term.title:
            problems.append(
                doc.problem(
                    ("terms", i),
                    "term.undocumented",
                    f"term {term.id!r} has no title or description",
                    "warning",
                )
            )

    for i, term in enumerate(contract.terms):
        for attr in ("calibrated_against", "triggers_review_of"):
            ref = getattr(term, attr, "")
            if ref and ref not in term_ids:
                problems.append(
                    doc.problem(
                        ("terms", i, attr),
                        "term.unknown-reference",
                        f"{attr} names term {ref!r}, which this contract does not define",
                    )
                )
    for i, exemption in enumerate(contract.exemptions):
        if exemption.term not in term_ids:
            problems.append(
                doc.problem(
                    ("exemptions", i, "term"),
                    "term.unknown-reference",
                    f"exemption for term {exemption.term!r}, which this contract does not define",
                )
            )

    problems += _notify_problems(state, contract, doc)
    if contract.escalation.primary == contract.escalation.backup:
        problems.append(
            doc.problem(
                ("escalation", "backup"),
                "escalation.same-person",
                "the backup must be a different person from the primary",
                "warning",
            )
        )
    from workbench.model.templates.placeholders import placeholder_problems

    problems += placeholder_problems(doc)
    return problems


def _notify_problems(state: GovernanceState, contract: Contract, doc: Document) -> list[Problem]:
    """Channels the contract names must be declared (once workbench.toml declares any: a
    repository that does not use `workbench notify` keeps free-text channels), and its
    clock kinds may not redefine the library's or workbench.toml's."""
    from workbench.model.channels import channel_problem
    from workbench.model.clocks import definition_problems

    problems: list[Problem] = []
    channels = state.settings.channels if state.settings is not None else {}
    if channels:
        refs = [(("escalation", "channel"), contract.escalation.channel)]
        if contract.change_protocol.channel:
            refs.append((("change_protocol", "channel"), contract.change_protocol.channel))
        for where, ref in refs:
            why = channel_problem(ref, channels)
            if why is not None:
                problems.append(doc.problem(where, "channel.unknown", why))
    declared = frozenset(d.id for d in state.settings.clocks) if state.settings else frozenset()
    for i, code, message in definition_problems(contract.clocks, declared):
        problems.append(doc.problem(("clocks", i, "id"), code, message))
    return problems


def _check_settings(state: GovernanceState, doc: Document) -> list[Problem]:
    problems = []
    assert state.settings is not None
    from workbench.model.clocks import definition_problems

    for i, code, message in definition_problems(state.settings.clocks):
        problems.append(doc.problem(("clocks", i, "id"), code, message))
    people_channel = state.settings.notify.people
    if people_channel is not None and people_channel not in state.settings.channels:
        problems.append(
            doc.problem(
                ("notify", "people"),
                "channel.unknown",
                f"[notify] people names channel {people_channel!r}, which [channels] does not "
                "declare",
            )
        )
    for i, ex in enumerate(state.settings.exchanges):
        for side in ("provider", "consumer"):
            if state.teams and getattr(ex, side) not in state.teams:
                problems.append(
                    doc.problem(
                        ("exchanges", i, side),
                        "settings.unknown-team",
                        f"exchange {side} {getattr(ex, side)!r} is not a team",
                    )
                )
        if ex.provider == ex.consumer:
            problems.append(
                doc.problem(
                    ("exchanges", i, "consumer"),
                    "seam.same-team",
                    "an exchange joins two different teams",
                )
            )
    return problems


# -- the signed floor ------------------------------------------------------------------------
