"""The governance state of one revision, parsed and checked. Pure: input is file bytes."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.model import toml_cache
from workbench.model.conflict import conflict_problems
from workbench.model.contract import ACCOUNTABLE_FIELDS, Contract
from workbench.model.locate import Locations, locate
from workbench.model.people import PeopleFile, Person, Team, delegate_problem
from workbench.model.policy_floor import (
    BUILT_IN_DENY,
    DEFAULT_FLOOR,
    LIMIT_NAMES,
    EffectivePolicy,
    SignedFloor,
    effective_defaults,
    effective_gate,
)
from workbench.model.problems import Problem, field_path
from workbench.model.settings import Defaults, Gate, Settings
from workbench.model.suggest import did_you_mean
from workbench.model.terms import TERM_KINDS
from workbench.model.text import decode

SETTINGS_PATH = "workbench.toml"
PEOPLE_PATH = "keys/people.toml"
CONTRACTS_DIR = "contracts/"

M = TypeVar("M", bound=BaseModel)

_TOML_ERROR_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_ERROR_EOF = re.compile(r"\(at end of document\)")

# Words people write when nobody is actually accountable.
PLACEHOLDERS = {
    "",
    "tbd",
    "tba",
    "todo",
    "unassigned",
    "unknown",
    "n/a",
    "na",
    "none",
    "nobody",
    "someone",
    "team",
    "the team",
    "owner",
    "?",
    "-",
}


def is_placeholder(value: str) -> bool:
    """Words people write when nobody is actually accountable ("the team", "TBD")."""
    folded = value.strip().lower()
    return (
        folded in PLACEHOLDERS
        or folded.startswith(("the ", "tbd"))
        or folded.endswith((" team", "-team", "_team", ".team"))
    )


@dataclass
class Document:
    """One parsed file with the positions of its keys, for error messages."""

    path: str
    raw: bytes
    text: str | None
    data: dict[str, Any] | None
    _locations: Locations | None = None

    @property
    def locations(self) -> Locations:
        # Positions are only needed to report a problem, so they are computed on demand.
        if self._locations is None:
            self._locations = locate(self.text) if self.text else Locations({(): (1, 1)})
        return self._locations

    def problem(
        self, where: tuple[str | int, ...], code: str, message: str, severity: str = "error"
    ) -> Problem:
        line, column = self.locations.find(where) or (1, 1)
        return Problem(self.path, line, column, severity, code, message, field_path(where))  # type: ignore[arg-type]


@dataclass
class ContractDoc:
    path: str
    contract: Contract
    document: Document

    @property
    def raw(self) -> bytes:
        return self.document.raw


@dataclass
class GovernanceState:
    settings: Settings | None = None
    people: dict[str, Person] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    contracts: dict[str, ContractDoc] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    documents: dict[str, Document] = field(default_factory=dict)
    # workbench.toml tightened by the signed floor (`apply_floor`): what the gate and every
    # verdict use. `settings.gate` and `settings.defaults` are the same values.
    policy_in_force: EffectivePolicy | None = None
    _team_names: dict[str, Team] | None = field(default=None, repr=False)
    _emails: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def policy(self) -> EffectivePolicy:
        """The policy in force: the signed floor applied (`apply_floor`), or the built-in
        floor for a state never given one, so that no caller is looser than the defaults."""
        if self.policy_in_force is None:
            self.policy_in_force = effective_policy(self.settings, DEFAULT_FLOOR, None)[0]
        return self.policy_in_force

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def problems_for(self, path: str) -> list[Problem]:
        return [p for p in self.problems if p.file == path]

    def contract_errors(self, contract_id: str) -> list[Problem]:
        """Why ``contracts/<id>.toml`` does not validate: its own errors, and those of the
        files every contract is read with (settings, and the people who own, lead and sign).
        Empty when it validates. The gate's `valid` rule, `sign`, `review` and `ack` all ask
        this one question."""
        return self.file_errors(f"{CONTRACTS_DIR}{contract_id}.toml")

    def file_errors(self, path: str) -> list[Problem]:
        """The errors of one file under contracts/, then those of the files it is read with."""
        shared = (SETTINGS_PATH, PEOPLE_PATH)
        own = [p for p in self.errors if p.file == path]
        return own + [p for p in self.errors if p.file in shared and p.file != path]

    def team_by_name(self) -> dict[str, Team]:
        """Teams by folded id and name, to recognise a team written where a person belongs."""
        if self._team_names is None:
            self._team_names = {}
            for team in self.teams.values():
                self._team_names[team.id.lower()] = team
                self._team_names[team.name.lower()] = team
        return self._team_names

    def people_with_email(self, email: str) -> list[str]:
        """Ids of the people registered with `email` (case-folded), e.g. a commit's author."""
        if self._emails is None:
            emails: dict[str, list[str]] = {}
            for person in self.people.values():
                emails.setdefault(person.email.lower(), []).append(person.id)
            self._emails = emails
        return self._emails.get(email.lower(), [])

    def person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def team_lead(self, team_id: str) -> Person | None:
        team = self.teams.get(team_id)
        return self.people.get(team.lead) if team else None


def parse_document(path: str, raw: bytes) -> tuple[Document, list[Problem]]:
    text, issues = decode(raw)
    problems = [Problem(path, i.line, i.column, "error", i.code, i.message) for i in issues]
    if text is None or problems:
        return Document(path, raw, text, None), problems
    try:
        data = toml_cache.loads(text)
    except tomllib.TOMLDecodeError as exc:
        conflicts = conflict_problems(path, text)
        if conflicts:
            # git left this file half-merged: say so, with both sides, not "Invalid statement".
            return Document(path, raw, text, None), conflicts
        message = str(exc)
        match = _TOML_ERROR_POS.search(message)
        if match:
            line, column = int(match.group(1)), int(match.group(2))
        else:
            line = text.count("\n") + 1 if _TOML_ERROR_EOF.search(message) else 1
            column = 1
        cleaned = _TOML_ERROR_POS.sub("", _TOML_ERROR_EOF.sub("", message)).strip()
        return (
            Document(path, raw, text, None),
            [Problem(path, line, column, "error", "toml.syntax", f"TOML syntax error: {cleaned}")],
        )
    return Document(path, raw, text, data), []


def parse_contract(path: str, raw: bytes | None) -> Contract | None:
    """One version of a contract from its bytes, or None if it does not parse and validate.

    For history, diffs and bundles, where an invalid old version is simply not comparable.
    """
    if raw is None:
        return None
    doc, problems = parse_document(path, raw)
    if problems or doc.data is None:
        return None
    try:
        return Contract.model_validate(doc.data)
    except ValidationError:
        return None


def _schema_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        message = err["msg"]
        if kind == "union_tag_invalid":
            tag = err.get("input", {}).get("kind") if isinstance(err.get("input"), dict) else None
            message = f"unknown term kind {tag!r}; known kinds: {', '.join(sorted(TERM_KINDS))}"
            loc = (*loc, "kind")
            code = "term.unknown-kind"
        elif kind == "union_tag_not_found":
            message = f"term has no 'kind'; one of: {', '.join(sorted(TERM_KINDS))}"
            code = "term.missing-kind"
        elif kind == "missing":
            message = f"missing required field '{loc[-1]}'"
            code = "schema.missing"
        elif kind == "extra_forbidden" and doc.path == SETTINGS_PATH and loc == ("policy",):
            message = (
                "[policy] moved to keys/policy.toml [approval], where the key registry signs it; "
                "set it with `workbench registry init` (a change needs the admins' signatures)"
            )
            code = "settings.policy-moved"
        elif kind == "extra_forbidden":
            message = f"unknown field '{loc[-1]}' (check the spelling; see docs/contracts.md)"
            code = "schema.unknown-field"
        elif "duration" in message.lower():
            message = message.removeprefix("Value error, ")
            code = "schema.duration"
        else:
            message = message.removeprefix("Value error, ")
            value = err.get("input")
            if not isinstance(value, dict | list):
                message = f"{message} (got {value!r})"
            code = "schema.invalid"
        # pydantic names the union member in the location ("terms.0.freshness.owner")
        clean = tuple(p for p in loc if not (isinstance(p, str) and p in TERM_KINDS))
        problems.append(doc.problem(clean, code, message))
    return problems


def _validate(doc: Document, model: type[M]) -> tuple[M | None, list[Problem]]:
    if doc.data is None:
        return None, []
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, _schema_problems(doc, exc)


def load_state(
    files: dict[str, bytes],
    today: date,
    *,
    validated: Callable[[bytes], Contract | None] | None = None,
    floor: SignedFloor | None = None,
) -> GovernanceState:
    """Parse and check a governance repo given as {repo-relative path: bytes}, with the
    signed floor applied (`apply_floor`; the built-in one when none is given).

    `validated(raw)` may return the contract model these exact bytes validated to before
    (the service remembers every committed version), which skips validating them again;
    None means "not known" and the bytes are validated here.
    """
    declared = load_declared_state(files, today, validated=validated)
    return apply_floor(declared, floor or DEFAULT_FLOOR)


def load_declared_state(
    files: dict[str, bytes],
    today: date,
    *,
    validated: Callable[[bytes], Contract | None] | None = None,
) -> GovernanceState:
    """The state as the files declare it, before the signed floor: what the clone's cache
    keeps (the floor is applied on top, by `apply_floor`, from the verified registry)."""
    state = GovernanceState()

    if SETTINGS_PATH not in files:
        state.problems.append(
            Problem(SETTINGS_PATH, 1, 1, "error", "repo.no-settings", "workbench.toml is missing")
        )
    else:
        doc, problems = parse_document(SETTINGS_PATH, files[SETTINGS_PATH])
        state.documents[SETTINGS_PATH] = doc
        state.problems += problems
        state.settings, problems = _validate(doc, Settings)
        state.problems += problems

    people_doc: Document | None = None
    if PEOPLE_PATH not in files:
        state.problems.append(
            Problem(PEOPLE_PATH, 1, 1, "error", "repo.no-people", "keys/people.toml is missing")
        )
    else:
        people_doc, problems = parse_document(PEOPLE_PATH, files[PEOPLE_PATH])
        state.documents[PEOPLE_PATH] = people_doc
        state.problems += problems
        people_file, problems = _validate(people_doc, PeopleFile)
        state.problems += problems
        if people_file is not None:
            _index_people(state, people_doc, people_file, today)

    for path in sorted(p for p in files if is_stray_contract_file(p)):
        # Nothing reads it, so nothing it says is governed; yet it sits where contracts are
        # and a reviewer could take it for one. Named, so it cannot hide in contracts/.
        state.documents[path] = Document(path, files[path], None, None)
        state.problems.append(
            Problem(
                path,
                1,
                1,
                "error",
                "contract.stray-file",
                "not a contract: contracts/ holds only contract files named contracts/<id>.toml "
                "and every command ignores this one; move it out of contracts/",
            )
        )

    parsed: list[ContractDoc] = []
    for path in sorted(p for p in files if is_contract_path(p)):
        doc, problems = parse_document(path, files[path])
        state.documents[path] = doc
        state.problems += problems
        known = validated(files[path]) if validated is not None and doc.data else None
        if known is not None:
            contract, problems = known, []
        else:
            contract, problems = _validate(doc, Contract)
        state.problems += problems
        if contract is not None:
            parsed.append(ContractDoc(path, contract, doc))

    by_id: dict[str, list[ContractDoc]] = {}
    for cdoc in parsed:
        by_id.setdefault(cdoc.contract.id, []).append(cdoc)
    for contract_id, docs in by_id.items():
        # The file named after the id is the contract; any other claimant is an error.
        docs.sort(key=lambda d: (_file_id(d.path) != contract_id, d.path))
        for cdoc in docs:
            if _file_id(cdoc.path) != contract_id:
                state.problems.append(
                    cdoc.document.problem(
                        ("id",),
                        "contract.id-mismatch",
                        f"contract id {contract_id!r} must match its file name {_file_id(cdoc.path)!r}",
                    )
                )
        for cdoc in docs[1:]:
            state.problems.append(
                cdoc.document.problem(
                    ("id",),
                    "contract.duplicate-id",
                    f"contract id {contract_id!r} is also used by {docs[0].path}",
                )
            )
        state.contracts[contract_id] = docs[0]
        state.problems += check_contract(state, docs[0], today)

    if state.settings is not None and SETTINGS_PATH in state.documents:
        state.problems += _check_settings(state, state.documents[SETTINGS_PATH])
    state.problems.sort(key=lambda p: (p.file, p.line, p.column, p.code))
    return state


def contract_file_id(path: str) -> str:
    """The contract id a file under contracts/ stands for: its name without ``.toml``."""
    return path.removeprefix(CONTRACTS_DIR).removesuffix(".toml")


_file_id = contract_file_id


def is_contract_path(path: str) -> bool:
    return (
        path.startswith(CONTRACTS_DIR)
        and path.endswith(".toml")
        and "/" not in path.removeprefix(CONTRACTS_DIR)
    )


def is_stray_contract_file(path: str) -> bool:
    """A file under contracts/ that is not a contract. Hidden files and editor backups
    (``.x.swp``, ``x.toml~``) are left alone: they are never committed on purpose."""
    name = path.rsplit("/", 1)[-1]
    return (
        path.startswith(CONTRACTS_DIR)
        and not is_contract_path(path)
        and not name.startswith(".")
        and not name.endswith("~")
        and not any(part.startswith(".") for part in path.split("/")[1:-1])
    )


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
    teams_by_name = state.team_by_name()
    for i, person in enumerate(people_file.people):
        for attr in ("id", "name"):
            value = getattr(person, attr)
            team = teams_by_name.get(value.strip().lower())
            if is_placeholder(value) or (team is not None and attr == "name"):
                what = f"the name of team {team.id!r}" if team else "a placeholder"
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
            f"{value!r} is not a person in keys/people.toml; a named individual is required"
            + did_you_mean(value, state.people),
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


def _check_settings(state: GovernanceState, doc: Document) -> list[Problem]:
    problems = []
    assert state.settings is not None
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

# Where a contract sets its own window, by the limit that caps it.
_CONTRACT_WINDOWS: dict[str, tuple[str, str]] = {
    "review_cadence": ("review", "cadence"),
    "first_review_after": ("review", "first_after"),
    "contact_check": ("review", "contact_check"),
    "ack_window": ("change_protocol", "ack_window"),
}


def apply_floor(declared: GovernanceState, floor: SignedFloor) -> GovernanceState:
    """The state with workbench.toml tightened by the signed floor (a new object; the
    declared one is shared and left as it is).

    `settings.gate` and `settings.defaults` become the policy in force, so every reader of
    the settings gets it; what workbench.toml asked for beyond the floor, and every
    contract window beyond its limit, is a warning at its position.
    """
    ids = sorted(contract_file_id(p) for p in declared.documents if p.startswith(CONTRACTS_DIR))
    policy, problems = effective_policy(
        declared.settings, floor, declared.documents.get(SETTINGS_PATH), ids
    )
    for cdoc in declared.contracts.values():
        problems += _contract_beyond_limits(cdoc, policy)
    settings = declared.settings
    if settings is not None:
        settings = settings.model_copy(update={"gate": policy.gate, "defaults": policy.defaults})
    merged = [*declared.problems, *problems]
    merged.sort(key=lambda p: (p.file, p.line, p.column, p.code))
    return dataclasses.replace(declared, settings=settings, policy_in_force=policy, problems=merged)


def effective_policy(
    settings: Settings | None,
    floor: SignedFloor,
    doc: Document | None,
    contract_ids: list[str] | None = None,
) -> tuple[EffectivePolicy, list[Problem]]:
    """The policy in force, and what workbench.toml (`doc`) asked for that the floor
    refused, one warning per ignored loosening."""
    own_gate = settings.gate if settings is not None else Gate()
    own_defaults = settings.defaults if settings is not None else Defaults()
    ignored: list[Problem] = []
    if settings is not None and doc is not None:
        ignored = _settings_beyond_floor(own_gate, own_defaults, floor, doc, contract_ids or [])
    policy = EffectivePolicy(
        floor=floor,
        gate=effective_gate(own_gate, floor.gate),
        defaults=effective_defaults(own_defaults, floor.limits),
        declared_gate=own_gate,
        declared_defaults=own_defaults,
        ignored=tuple(ignored),
    )
    return policy, ignored


def _settings_beyond_floor(
    gate: Gate, defaults: Defaults, floor: SignedFloor, doc: Document, contract_ids: list[str]
) -> list[Problem]:
    source = floor.describe
    out: list[Problem] = []
    always = [r for r in floor.gate.deny if r not in BUILT_IN_DENY]
    for i, rule in enumerate(gate.warn):
        if rule in BUILT_IN_DENY or rule in floor.gate.deny:
            out.append(
                doc.problem(
                    ("gate", "warn", i),
                    "policy.floor-deny",
                    f"{rule} cannot be a warning: {source} always denies it; it stays a deny rule",
                    "warning",
                )
            )
    for rule in always:
        if rule not in gate.deny and rule not in gate.warn:
            out.append(
                doc.problem(
                    ("gate", "deny"),
                    "policy.floor-rule-dropped",
                    f"[gate] deny leaves out {rule}: {source} always denies it; it is "
                    "still checked and blocks",
                    "warning",
                )
            )
    for rule in floor.gate.warn:
        if rule not in gate.deny and rule not in gate.warn and rule not in floor.gate.deny:
            out.append(
                doc.problem(
                    ("gate", "warn"),
                    "policy.floor-rule-dropped",
                    f"[gate] warn leaves out {rule}: {source} always checks it; it is "
                    "still reported as a warning",
                    "warning",
                )
            )
    kept = [
        cid
        for cid in contract_ids
        if any(fnmatch.fnmatchcase(cid, g) for g in floor.gate.contracts)
        and not any(fnmatch.fnmatchcase(cid, g) for g in gate.contracts)
    ]
    if kept:
        shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        out.append(
            doc.problem(
                ("gate", "contracts"),
                "policy.floor-scope",
                f"[gate] contracts leaves out {len(kept)} contract(s) that {source} "
                f"keeps in scope: {shown}; they are still judged",
                "warning",
            )
        )
    for name in LIMIT_NAMES:
        own, limit = getattr(defaults, name), getattr(floor.limits, name)
        if own > limit:
            out.append(
                doc.problem(
                    ("defaults", name),
                    "policy.beyond-limit",
                    f"[defaults] {name} = {own} is looser than the limit {limit} of "
                    f"{source} (keys/policy.toml [limits]): {limit} applies",
                    "warning",
                )
            )
    return out


def _contract_beyond_limits(cdoc: ContractDoc, policy: EffectivePolicy) -> list[Problem]:
    """A contract's own windows are co-signed, yet never looser than the signed limit: the
    limit applies (`EffectivePolicy.window`), and the value is flagged where it is written."""
    contract, doc = cdoc.contract, cdoc.document
    limits, source = policy.floor.limits, policy.floor.describe
    out: list[Problem] = []

    def beyond(where: tuple[str | int, ...], name: str, own: object) -> None:
        limit = getattr(limits, name)
        if own is not None and own > limit:  # type: ignore[operator]
            out.append(
                doc.problem(
                    where,
                    "contract.beyond-limit",
                    f"{field_path(where)} {own} is longer than the limit {limit} of {source} "
                    f"(keys/policy.toml [limits] {name}): {limit} applies",
                    "warning",
                )
            )

    for name, (table, key) in _CONTRACT_WINDOWS.items():
        beyond((table, key), name, getattr(getattr(contract, table), key))
    for i, term in enumerate(contract.terms):
        beyond(("terms", i, "evidence_max_age"), "evidence_max_age", term.evidence_max_age)
    sla_max = policy.defaults.page_ack_sla_max
    if contract.escalation.ack_sla > sla_max:
        out.append(
            doc.problem(
                ("escalation", "ack_sla"),
                "escalation.slow",
                f"acknowledgement SLA {contract.escalation.ack_sla} is slower than the page "
                f"test allows ({sla_max})",
                "warning",
            )
        )
    return out
