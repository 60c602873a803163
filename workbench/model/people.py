"""People and teams: the named individuals who own, lead and get paged for seams."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, field_validator

from workbench.model.base import PersonRef, Slug, Strict
from workbench.model.safe_text import is_unsafe, visible


def not_in_one_line(value: str, also: str = "") -> list[str]:
    """The characters of `value` that one line of visible text may not hold (line breaks,
    tabs, control, bidirectional and invisible characters, and those in `also`), each once,
    in order of code point."""
    return sorted({c for c in value if c in "\n\r\t" + also or is_unsafe(c)})


def _shown(chars: list[str], also: str = "") -> str:
    return ", ".join(c if c in also else visible(c) for c in chars)


def plain_name(value: str) -> str:
    """A person's or team's name is one line of visible text. A person's name is also the
    author of their git commits, where '<' and '>' would end the field: a name holding one
    would make every commit by that person fail, letting anyone who can edit
    keys/people.toml block a colleague's signatures."""
    bad = not_in_one_line(value, "<>")
    if bad:
        raise ValueError(
            "a name is one line of visible text without '<' or '>'; found " + _shown(bad, "<>")
        )
    return value


def checked_text(option: str, value: str, *, name: bool = False) -> str:
    """A name the user typed for `option` (an organisation's, a person's, a team's),
    refused before anything is written when it holds what one line of visible text may not:
    the refusal names the option and each offending character (`WorkbenchError`, exit 2)."""
    from workbench.model.errors import WorkbenchError
    from workbench.model.safe_text import line

    also = "<>" if name else ""
    bad = not_in_one_line(value, also)
    if not bad:
        return value
    shown = ", ".join(f"{c if c in also else visible(c)} (U+{ord(c):04X})" for c in bad)
    rule = "one line of visible text" + (" without '<' or '>'" if name else "")
    raise WorkbenchError(
        f"{option}: '{line(value)}' holds {shown}; it must be {rule} (no line breaks, tabs, "
        "control, bidirectional or invisible characters); nothing was written"
    )


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
    delegate: PersonRef | None = Field(
        default=None,
        description="who may acknowledge notices and complete reviews in this person's name",
    )

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


def delegate_problem(person: Person, delegate: Person, today: date) -> str | None:
    """Why `delegate` may not act for `person` on `today`, or None when they may.

    A delegate acts in the person's name (acknowledgements, reviews), so they must be
    someone else, still here, and hold at least the person's authority: a delegation never
    lets an act be done with less authority than the named person has. It ends when the
    person leaves: their successor (`replaced_by`) then acts in their own name.
    """
    if delegate.id == person.id:
        return f"{person.id} cannot be their own delegate"
    if person.has_left(today):
        return f"{person.id} left on {person.left}: a delegation ends when the person leaves" + (
            f"; {person.replaced_by} acts in their own name" if person.replaced_by else ""
        )
    if delegate.has_left(today):
        return f"{person.id}'s delegate {delegate.id} left on {delegate.left}"
    if delegate.authority.rank < person.authority.rank:
        return (
            f"{delegate.id} ({delegate.authority.value}) has less authority than {person.id} "
            f"({person.authority.value}): a delegate must hold at least the authority of the "
            "person they act for"
        )
    return None
