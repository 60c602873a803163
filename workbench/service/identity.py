"""Who is acting: the person from the registry on whose behalf the workbench commits."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from workbench.model.people import Person
from workbench.model.state import GovernanceState
from workbench.repo.user_config import config_home, user_config
from workbench.service.errors import WorkbenchError

PEOPLE = "keys/people.toml"


def unknown_requested_person(root: Path, requested: str | None) -> str | None:
    """Why ``--as requested`` names nobody in the working tree's keys/people.toml, or None.

    Read-only commands never ask who acts, so a mistyped ``--as`` used to be ignored in
    silence (the user believed they saw the view of someone who does not exist). Only a
    readable people.toml can say no: a missing or broken one is `validate`'s to report."""
    if not requested:
        return None
    try:
        doc = tomllib.loads((root / "keys" / "people.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    people = doc.get("people")
    if not isinstance(people, list):
        return None
    if any(isinstance(p, dict) and p.get("id") == requested for p in people):
        return None
    return f"--as: {requested!r} is not a person in keys/people.toml"


def unreadable_people(state: GovernanceState, source: str) -> str | None:
    """Why nobody can act: keys/people.toml does not validate (one bad entry, e.g. a name
    git cannot author, voids the file), with its problems by file:line:column; None when it
    validates. Without it the refusal read "'ravi.iyer' is not a person ... did you mean
    'ravi.iyer'?" for a person who is plainly in the file."""
    errors = [p for p in state.problems_for(PEOPLE) if p.severity == "error"]
    if not errors:
        return None
    shown = "\n  ".join(p.render() for p in errors[:5])
    more = f"\n  and {len(errors) - 5} more (`workbench validate`)" if len(errors) > 5 else ""
    return (
        f"{source}: nobody can act while {PEOPLE} does not validate; fix it (with git: the "
        f"workbench commits as a person from it):\n  {shown}{more}"
    )


def people_void_notice(state: GovernanceState) -> str | None:
    """What the app's home screen shows while keys/people.toml does not validate (None when
    it validates): the `people.void` problem first (the entry that voids the file, its line
    and column, the consequence), then the file's other errors, one safe line each."""
    from workbench.model.safe_text import line

    errors = [p for p in state.problems_for(PEOPLE) if p.severity == "error"]
    if not errors:
        return None
    errors.sort(key=lambda p: p.code != "people.void")  # stable: the rest keep their order
    shown = [line(p.render()) for p in errors[:3]]
    if len(errors) > 3:
        shown.append(f"and {len(errors) - 3} more (`workbench validate`)")
    shown.append(
        f"Fix {PEOPLE} with git (the workbench commits as a person from it); "
        "`workbench validate` is clean when it counts again."
    )
    return "\n".join(shown)


def resolve_actor(state: GovernanceState, requested: str | None, git_email: str | None) -> Person:
    """`--as`, then $WORKBENCH_PERSON, then the user config, then git's user.email."""
    candidates = [
        ("--as", requested),
        ("WORKBENCH_PERSON", os.environ.get("WORKBENCH_PERSON")),
        ("config person", str(user_config().get("person") or "") or None),
    ]
    for source, person_id in candidates:
        if person_id:
            person = state.people.get(person_id)
            if person is None:
                raise WorkbenchError(
                    unreadable_people(state, source)
                    or f"{source}: {person_id!r} is not a person in keys/people.toml"
                )
            return person
    if git_email:
        matches = state.people_with_email(git_email)
        if len(matches) == 1:
            return state.people[matches[0]]
        if len(matches) > 1:
            raise WorkbenchError(
                f"who is acting? git user.email {git_email} is the email of "
                f"{' and '.join(sorted(matches))} in keys/people.toml (fix the registry: "
                "`workbench validate` shows where); meanwhile pass --as PERSON"
            )
    broken = unreadable_people(state, "who is acting?")
    if broken:
        raise WorkbenchError(broken)
    raise WorkbenchError(
        'who is acting? pass --as PERSON, set WORKBENCH_PERSON, or set `person = "<id>"` '
        f"in {config_home() / 'config.toml'}"
    )
