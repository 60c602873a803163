"""Delegation: who may act in someone else's name, and when the act counts.

``keys/people.toml`` gives each person an optional ``delegate``: the one person who may
acknowledge change notices (and confirm test coverage) and complete reviews in their
name. A delegate never co-signs a contract: a co-signature is the named lead's own.

A delegated act counts only while the registry still names the delegate, the person had
not left when the act was recorded (a delegation ends with the person; their successor
acts in their own name), the delegate had not left, and the delegate holds at least the
person's authority (``workbench.model.people.delegate_problem``). The record is signed by
the delegate and names the person it is for. Pure.
"""

from __future__ import annotations

from datetime import datetime

from workbench.model.people import delegate_problem
from workbench.model.state import GovernanceState


def delegation_problem(
    state: GovernanceState, actor: str, principal: str, when: datetime
) -> str | None:
    """Why `actor` may not act for `principal` at `when`, or None when they may (or are the
    same person)."""
    if actor == principal:
        return None
    person = state.people.get(principal)
    if person is None:
        return f"{principal!r} is not a person in keys/people.toml"
    delegate = state.people.get(actor)
    if delegate is None:
        return f"{actor!r} is not a person in keys/people.toml"
    if person.delegate != actor:
        named = person.delegate or "nobody"
        return (
            f"{actor} is not {principal}'s delegate (keys/people.toml names {named}): "
            "only the delegate a person names may act for them"
        )
    return delegate_problem(person, delegate, when.date())
