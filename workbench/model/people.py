"""People and teams: the named individuals who own, lead and get paged for seams."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from workbench.model.base import PersonRef, Slug, Strict


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
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    team: Slug
    role: str = Field(default="", max_length=120)
    authority: Authority = Authority.member
    joined: date | None = None
    left: date | None = None
    replaced_by: PersonRef | None = None
    delegate: PersonRef | None = None

    def has_left(self, today: date) -> bool:
        return self.left is not None and self.left <= today


class Team(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=120)
    lead: PersonRef
    description: str = ""


class PeopleFile(Strict):
    """`keys/people.toml`: the registry of teams and named people."""

    teams: list[Team] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
