"""Which two teams an imported ODCS document sits between, when the user does not say.

`workbench import odcs FILE` takes `--provider`/`--consumer`; without them the teams are
read from the document and the registry, in this order (docs/contracts.md, "ODCS import
and export"):

* provider: `customProperties[]` `provider` (or `providerTeam`, `owner`, `ownerTeam`) at the
  top level or on a server; `team.id` / `team.name`; `dataProduct`; then the registered
  team most of the document's current members belong to.
* consumer: `customProperties[]` `consumer` (or `consumerTeam`) at the top level or on a
  server; then the registry's only other team.

A team is named by its id or its name (case-insensitive). A property that names a team the
registry does not have is an error, not a guess; two places naming different teams are an
error; so is a document that names none when the registry has more than one candidate.
Each error says what to pass. Pure: the registry comes in as the governance state.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from workbench.model.state import GovernanceState

PROVIDER_PROPERTIES = {"provider", "providerteam", "provider_team", "owner", "ownerteam"}
CONSUMER_PROPERTIES = {"consumer", "consumerteam", "consumer_team"}


class PartiesError(ValueError):
    """The teams could not be decided: the message says what to pass."""


@dataclass
class Parties:
    provider: str
    consumer: str
    found: list[str] = field(default_factory=list)  # how each side was decided
    used: set[str] = field(default_factory=set)  # key paths read (not "unmapped")


@dataclass
class _Hint:
    team: str
    where: str


def team_named(value: object, state: GovernanceState) -> str | None:
    """The registered team whose id or name is `value` (case-insensitive), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    for team in state.teams.values():
        if text in (team.id.lower(), team.name.strip().lower()):
            return team.id
    return None


def _properties(raw: dict[str, Any], keys: set[str]) -> list[tuple[str, object]]:
    """(key path, value) of every customProperties entry whose property is in `keys`, at
    the top level and on each server."""
    places: list[tuple[str, object]] = [("customProperties", raw.get("customProperties"))]
    servers = raw.get("servers")
    if isinstance(servers, list):
        places += [
            (f"servers[{i}].customProperties", s.get("customProperties"))
            for i, s in enumerate(servers)
            if isinstance(s, dict)
        ]
    out = []
    for base, entries in places:
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            name = str(entry.get("property") or "").strip().lower()
            if name in keys:
                out.append((f"{base}[{i}]", entry.get("value")))
    return out


def _explicit(
    raw: dict[str, Any], keys: set[str], state: GovernanceState, side: str, flag: str
) -> list[_Hint]:
    hints = []
    for where, value in _properties(raw, keys):
        team = team_named(value, state)
        if team is None:
            raise PartiesError(
                f"{where}.value names the {side} team {value!r}, which is not a team in "
                f"keys/people.toml: add it (`workbench team add`) or pass {flag} TEAM"
                f"{_choices(state)}"
            )
        hints.append(_Hint(team, where))
    return hints


def _choices(state: GovernanceState, but: str | None = None) -> str:
    teams = sorted(t for t in state.teams if t != but)
    return f" (teams: {', '.join(teams)})" if teams else ""


def _decide(hints: list[_Hint], side: str, flag: str) -> _Hint | None:
    teams = {h.team for h in hints}
    if len(teams) > 1:
        named = "; ".join(f"{h.where} names {h.team}" for h in hints)
        raise PartiesError(
            f"the document names more than one {side} team ({named}): pass {flag} TEAM"
        )
    return hints[0] if hints else None


def _by_members(
    doc: Any, member_ids: dict[str, str], state: GovernanceState
) -> tuple[str | None, str]:
    """The registered team most current members of the document belong to (a tie: None)."""
    members = doc.team.members if hasattr(doc.team, "members") else (doc.team or [])
    by_email = {p.email.lower(): p for p in state.people.values()}
    votes: Counter[str] = Counter()
    for member in members or []:
        if not member.username or member.dateOut:
            continue
        username = member.username.strip()
        person = by_email.get(username.lower()) or state.people.get(
            member_ids.get(username, username)
        )
        if person is not None and person.left is None and person.team in state.teams:
            votes[person.team] += 1
    ranked = votes.most_common()
    if not ranked:
        return None, "none of its current members is registered"
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        tied = ", ".join(f"{t} ({n})" for t, n in ranked if n == ranked[0][1])
        return None, f"its registered members are split evenly between teams {tied}"
    team, count = ranked[0]
    return team, f"{count} of its current members are registered in team {team}"


def infer_parties(
    raw: dict[str, Any],
    doc: Any,
    state: GovernanceState,
    *,
    provider: str | None,
    consumer: str | None,
    member_ids: dict[str, str] | None = None,
) -> Parties:
    """The provider and consumer teams: the flags where given, else from the document and
    the registry (PartiesError saying what to pass when it cannot decide).

    `member_ids`: the document's usernames → the person ids the import gives them."""
    found: list[str] = []
    used: set[str] = set()
    if provider is None:
        hints = _explicit(raw, PROVIDER_PROPERTIES, state, "provider", "--provider")
        team = doc.team if hasattr(doc.team, "members") else None
        for key in ("id", "name"):
            value = getattr(team, key, None) if team is not None else None
            if (named := team_named(value, state)) is not None:
                hints.append(_Hint(named, f"team.{key}"))
        if (named := team_named(doc.dataProduct, state)) is not None:
            hints.append(_Hint(named, "dataProduct"))
        chosen = _decide(hints, "provider", "--provider")
        if chosen is not None:
            provider = chosen.team
            used.update(h.where for h in hints)
            found.append(f"provider {provider}: from {', '.join(h.where for h in hints)}")
        else:
            provider, why = _by_members(doc, member_ids or {}, state)
            if provider is None:
                raise PartiesError(
                    "cannot tell the provider (data) team: the document names none "
                    "(customProperties `provider`, team.name, dataProduct) and "
                    f"{why}: pass --provider TEAM{_choices(state)}"
                )
            found.append(f"provider {provider}: {why}")
    if consumer is None:
        hints = _explicit(raw, CONSUMER_PROPERTIES, state, "consumer", "--consumer")
        chosen = _decide(hints, "consumer", "--consumer")
        if chosen is not None:
            consumer = chosen.team
            used.update(h.where for h in hints)
            found.append(f"consumer {consumer}: from {', '.join(h.where for h in hints)}")
        else:
            others = sorted(t for t in state.teams if t != provider)
            if len(others) != 1:
                raise PartiesError(
                    "cannot tell the consumer team: the document names none (customProperties "
                    f"`consumer`) and keys/people.toml has {len(others)} teams besides "
                    f"{provider}: pass --consumer TEAM{_choices(state, provider)}"
                )
            consumer = others[0]
            found.append(f"consumer {consumer}: the only other team in keys/people.toml")
    if provider == consumer:
        raise PartiesError(
            f"the provider and the consumer are both team {provider}: a seam joins two "
            "different teams; pass --provider TEAM and --consumer TEAM"
        )
    return Parties(provider, consumer, found, used)
