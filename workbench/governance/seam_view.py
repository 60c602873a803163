"""A seam as the map shows it, and the map as plain data.

Plain dataclasses with no model imports: the app paints its first screen from a stored
`MapSnapshot` before pydantic and the contract models are even loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SeamView:
    id: str
    provider: str
    consumer: str
    kind: str
    title: str
    governed: bool
    owner: str | None = None
    owner_name: str | None = None
    provider_lead: str | None = None
    consumer_lead: str | None = None
    status: str = ""
    exchange: str = ""
    problems: list[str] = field(default_factory=list)
    departed: list[str] = field(default_factory=list)
    # name -> short text, e.g. {"signature": "approved", "review": "overdue"}
    marks: dict[str, str] = field(default_factory=dict)
    # The contract file holds conflict markers: a merge is not finished.
    conflict: bool = False

    @property
    def state(self) -> str:
        """The headline state shown on the map."""
        if not self.governed:
            return "ungoverned"
        if self.conflict:
            return "conflict"
        if self.departed or self.owner is None:
            return "owner-departed" if self.departed else "owner-missing"
        if self.problems:
            return "invalid"
        return "governed"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "provider": self.provider,
            "consumer": self.consumer,
            "kind": self.kind,
            "state": self.state,
            "governed": self.governed,
            "owner": self.owner,
            "provider_lead": self.provider_lead,
            "consumer_lead": self.consumer_lead,
            "status": self.status,
            "problems": self.problems,
            "departed": self.departed,
            "marks": self.marks,
        }


@dataclass
class MapSnapshot:
    """Everything the seam map draws for one checked state (no marks: those follow)."""

    org: str
    team_names: dict[str, str]
    team_leads: dict[str, str]  # team id -> the lead's name
    person_names: dict[str, str]
    layers: list[list[str]]
    views: list[SeamView]
    # Stored with it: the digest of the state files it was drawn from and the day they
    # were checked on; and, as read back at a start, why it may differ from the state now
    # (shown until that state replaces it).
    digest: str = ""
    day: str = ""
    provisional: str = ""
