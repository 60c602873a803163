"""Who is acting: the person from the registry on whose behalf the workbench commits."""

from __future__ import annotations

import os

from workbench.model.people import Person
from workbench.model.state import GovernanceState
from workbench.repo.user_config import config_home, user_config
from workbench.service.errors import WorkbenchError


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
                raise WorkbenchError(f"{source}: {person_id!r} is not a person in keys/people.toml")
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
    raise WorkbenchError(
        'who is acting? pass --as PERSON, set WORKBENCH_PERSON, or set `person = "<id>"` '
        f"in {config_home() / 'config.toml'}"
    )
