"""People and teams: the named individuals who own, lead and get paged for seams."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, field_validator

from workbench.model.base import PersonRef, Slug, Strict
from workbench.model.safe_text import is_unsafe, visible


def plain_name(value: str) -> str:
    """A person's or team's name is one line of visible text. A person's name is also the
    author of their git commits, where '<' and '>' would end the field: a name holding one
    would make every commit by that person fail, letting anyone who can edit
    keys/people.toml block a colleague's signatures."""
    bad = sorted({c if c in "<>" else visible(c) for c in value if c in "<>\n\r\t" or is_unsafe(c)})
    if bad:
        raise ValueError(
            "a name is one line of visible text without '<' or '>'; found " + ", ".join(bad)
        )
    return value


class Authority(StrEnum):
    """Organisational authority, ordered: an action item may need a given level."""

    member = "member"
    lead = "lead"
    manager = "manager"
    director = "director"
    vp = "vp"
    executive = "executive"

    @property
    def rank(self) -> int:
        return list(Authority).index(self)


class Person(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=120)
    email: str = Field(
        pattern=r"^[^@\s<>\x00-\x1f\x7f]+@[^@\s<>\x00-\x1f\x7f]+\.[^@\s<>\x00-\x1f\x7f]+$",
        max_length=200,
    )
    team: Slug
    role: str = Field(default="", max_length=120)
    authority: Authority = Authority.member
    joined: date | None = None
    left: date | None = None
    replaced_by: PersonRef | None = None
    delegate: PersonRef | None = None

    _plain_name = field_validator("name")(plain_name)

    def has_left(self, today: date) -> bool:
        return self.left is not None and self.left <= today


class Team(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=120)
    lead: PersonRef
    description: str = ""

    _plain_name = field_validator("name")(plain_name)


class PeopleFile(Strict):
    """`keys/people.toml`: the registry of teams and named people."""

    teams: list[Team] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
