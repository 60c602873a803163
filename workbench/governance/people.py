"""Who is accountable for what (pure): per person, the contracts and terms they own, the
teams and seams they lead, what they are paged for, and any other role a contract names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.model.people import Person
    from workbench.model.state import GovernanceState


@dataclass
class PersonUsage:
    """What one person is accountable for across the contracts of a revision."""

    person: Person
    departed: bool
    owns: list[str] = field(default_factory=list)
    leads: list[str] = field(default_factory=list)
    paged_for: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    @property
    def load(self) -> int:
        return len(self.owns) + len(self.leads) + len(self.paged_for) + len(self.other)


def people_usage(state: GovernanceState, today: date) -> list[PersonUsage]:
    usage = {
        pid: PersonUsage(person, person.has_left(today)) for pid, person in state.people.items()
    }
    for team in state.teams.values():
        if team.lead in usage:
            usage[team.lead].leads.append(f"team {team.id}")
    for cid, doc in sorted(state.contracts.items()):
        c = doc.contract
        for where, pid in c.person_refs():
            entry = usage.get(pid)
            if entry is None:
                continue
            if where == ("owner",):
                entry.owns.append(f"{cid}")
            elif len(where) == 3 and where[0] == "terms" and where[2] == "owner":
                entry.owns.append(f"{cid} · term {c.terms[int(where[1])].id}")
            elif where[0] == "parties":
                side = "provider" if where[1] == "provider_lead" else "consumer"
                entry.leads.append(f"{cid} ({side} lead)")
            elif where[0] == "escalation":
                entry.paged_for.append(f"{cid} ({where[1]})")
            else:
                label = ".".join(str(w) for w in where if not isinstance(w, int))
                if where[0] == "terms":
                    label = f"term {c.terms[int(where[1])].id} {where[2]}"
                entry.other.append(f"{cid} · {label}")
    return sorted(usage.values(), key=lambda u: (u.person.name.lower(), u.person.id))
