"""A governance repo's files as documents: each parsed (TOML, text hygiene, schema) with its
problems at file:line:column, and the ``GovernanceState`` of one revision that holds them.
Pure: input is file bytes. The state is built and checked by ``workbench.model.state``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.model import toml_cache
from workbench.model.conflict import conflict_problems
from workbench.model.contract import Contract
from workbench.model.locate import Locations, Locator, locate
from workbench.model.people import Person, Team
from workbench.model.policy_floor import (
    DEFAULT_FLOOR,
    EffectivePolicy,
)
from workbench.model.problems import Problem, Severity, field_path
from workbench.model.settings import Settings
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
    _locator: Locator | None = field(default=None, repr=False, compare=False)

    @property
    def locations(self) -> Locations:
        # Positions are only needed to report a problem, so they are computed on demand.
        if self._locations is None:
            if self._locator is not None:
                self._locations = self._locator.complete()
            else:
                self._locations = locate(self.text) if self.text else Locations({(): (1, 1)})
        return self._locations

    def position(self, where: tuple[str | int, ...]) -> tuple[int, int]:
        """Where `where` is written (as ``locations.find``), scanning the text only as far
        as it takes: the gate asks this for every rule of every contract."""
        if self._locations is not None or not self.text:
            return self.locations.find(where) or (1, 1)
        if self._locator is None:
            self._locator = Locator(self.text)
        return self._locator.find(where) or (1, 1)

    def problem(
        self, where: tuple[str | int, ...], code: str, message: str, severity: Severity = "error"
    ) -> Problem:
        line, column = self.locations.find(where) or (1, 1)
        return Problem(self.path, line, column, severity, code, message, field_path(where))


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
    # False for the first step only (`load_declared_contracts`): settings and validated
    # contracts, no people and none of the rules across files. Never stored or judged.
    checked: bool = True
    # Set when keys/people.toml does not validate (`model.people_void`): why nobody counts.
    people_void: str = ""
    _team_names: dict[str, Team] | None = field(default=None, repr=False)
    _emails: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def policy(self) -> EffectivePolicy:
        """The policy in force: the signed floor applied (`apply_floor`), or the built-in
        floor for a state never given one, so that no caller is looser than the defaults."""
        if self.policy_in_force is None:
            from workbench.model.state_floor import effective_policy  # builds on this module

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
    return parse_contract_source(path, raw)[0]


def parse_contract_source(
    path: str, raw: bytes | None
) -> tuple[Contract | None, dict[str, Any] | None]:
    """`parse_contract`, and the parsed TOML the model was validated from (None with it).

    The clone's cache keeps a version as that parsed data and validates it again when
    read (`contract_from_source`): validating costs a third of unpickling the model."""
    if raw is None:
        return None, None
    doc, problems = parse_document(path, raw)
    if problems or doc.data is None:
        return None, None
    contract = contract_from_source(doc.data)
    return contract, doc.data if contract is not None else None


def contract_from_source(data: dict[str, Any]) -> Contract | None:
    """The contract model of a parsed contract file, or None if it does not validate."""
    try:
        return Contract.model_validate(data)
    except ValidationError:
        return None


def _schema_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        message = err["msg"]
        if kind in ("union_tag_invalid", "union_tag_not_found") and loc[:1] == ("channels",):
            from workbench.model.channels import CHANNEL_KINDS

            message = f"a channel needs kind = one of: {', '.join(CHANNEL_KINDS)}"
            loc = (*loc, "kind") if kind == "union_tag_invalid" else loc
            code = "channel.kind"
        elif kind == "union_tag_invalid":
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
        elif kind == "extra_forbidden" and _is_secret_key(loc):
            from workbench.model.channels import SECRET_MESSAGE, env_name

            message = SECRET_MESSAGE.format(key=loc[-1], env=env_name(str(loc[1]), str(loc[-1])))
            code = "channel.secret"
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
        if loc[:1] == ("channels",) and len(loc) >= 3:
            # pydantic names the channel kind (the union member) after the channel's name.
            from workbench.model.channels import CHANNEL_KINDS

            if loc[2] in CHANNEL_KINDS:
                loc = (*loc[:2], *loc[3:])
        clean = tuple(
            p
            for i, p in enumerate(loc)
            if not (isinstance(p, str) and p in TERM_KINDS and loc[:1] != ("channels",))
        )
        problems.append(doc.problem(clean, code, message))
    return problems


def _is_secret_key(loc: tuple[Any, ...]) -> bool:
    from workbench.model.channels import CHANNEL_KINDS, SECRET_KEYS

    return (
        len(loc) == 4
        and loc[0] == "channels"
        and loc[2] in CHANNEL_KINDS
        and str(loc[3]).lower() in SECRET_KEYS
    )


def _validate(doc: Document, model: type[M]) -> tuple[M | None, list[Problem]]:
    if doc.data is None:
        return None, []
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, _schema_problems(doc, exc)


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
