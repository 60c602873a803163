"""When `keys/people.toml` does not validate, none of it counts (fail closed), and every
user is told which entry voids it and what that costs (docs/signing.md, "When
keys/people.toml does not validate").

Decision: the file is the authority of the repository (who leads a team, who may sign,
who is paged). An authority file that is partly unreadable does not grant authority in
part: a hostile or careless edit that breaks one entry must not leave the rest in force
with a changed meaning (a team without its lead, a delegate without the person they act
for). So one bad entry voids the file, and the problem `people.void` names that entry,
where it is, and the consequence, beside the entry's own problems.
"""

from __future__ import annotations

import re
from typing import Any

from workbench.model.problems import Problem
from workbench.model.safe_text import line

PEOPLE_PATH = "keys/people.toml"
_ENTRY = re.compile(r"^(people|teams)\[(\d+)\]")

CONSEQUENCE = (
    "until it is fixed nobody in it counts: no one can act, sign, review or acknowledge, "
    "every contract naming a person fails validation, and the gate fails"
)


def void_problem(errors: list[Problem], data: Any) -> Problem | None:
    """The `people.void` problem for the first of `errors` of keys/people.toml (None when
    there is none); `data` is the parsed file (None when it is not valid TOML)."""
    first = min((p for p in errors if p.severity == "error"), default=None)
    if first is None:
        return None
    return Problem(
        PEOPLE_PATH,
        first.line,
        first.column,
        "error",
        "people.void",
        f"{PEOPLE_PATH} does not validate, so none of it counts (fail closed): "
        f"{_culprit(first, data)} voids it at line {first.line}, column {first.column}; "
        + CONSEQUENCE,
    )


def _culprit(problem: Problem, data: Any) -> str:
    """The entry a problem is in, as a person reads it: ``the entry people[2] (id
    'ravi.iyer')``; the file itself for a syntax or encoding error."""
    match = _ENTRY.match(problem.field)
    if match is None or not isinstance(data, dict):
        return "a syntax or encoding error" if data is None else f"field '{problem.field}'"
    table, index = match.group(1), int(match.group(2))
    entries = data.get(table)
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    ident = entry.get("id") if isinstance(entry, dict) else None
    named = f" (id '{line(ident)[:64]}')" if isinstance(ident, str) else ""
    return f"the entry {table}[{index}]{named}"


def void_reason(problems: list[Problem]) -> str:
    """Why a person named in a contract does not count while the file is void (for the
    `person.unknown` problem), or "" when it is not void."""
    void = next((p for p in problems if p.code == "people.void"), None)
    if void is None:
        return ""
    return (
        f"; {PEOPLE_PATH} does not validate ({PEOPLE_PATH}:{void.line}:{void.column}), "
        "so nobody in it counts"
    )
