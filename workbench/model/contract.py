"""The handshake contract: one file per seam, with named owners on both sides."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import StrEnum

from pydantic import Field

from workbench.model.base import PersonRef, Slug, Strict
from workbench.model.clocks import ClockDefinition
from workbench.model.duration import DurationField
from workbench.model.terms import Term


class SeamKind(StrEnum):
    data_model = "data-model"
    model_product = "model-product"
    product_compliance = "product-compliance"
    custom = "custom"


class ContractStatus(StrEnum):
    draft = "draft"
    proposed = "proposed"
    active = "active"
    deprecated = "deprecated"
    retired = "retired"


class Seam(Strict):
    """The two teams this contract sits between."""

    provider: Slug = Field(description="team id on the providing side")
    consumer: Slug = Field(description="team id on the consuming side")
    kind: SeamKind
    description: str = ""


class Parties(Strict):
    """The lead of each side; both co-sign every version."""

    provider_lead: PersonRef = Field(description="lead of the provider team")
    consumer_lead: PersonRef = Field(description="lead of the consumer team")


class Review(Strict):
    """When the contract and its named contacts are reviewed."""

    cadence: DurationField | None = Field(
        default=None,
        description="default from workbench.toml (quarterly); at most the signed limit",
    )
    first_after: DurationField | None = Field(
        default=None,
        description="first review after adoption (default 30 days); at most the signed limit",
    )
    contact_check: DurationField | None = Field(
        default=None,
        description="how often the escalation contacts are re-confirmed; at most the signed limit",
    )


class Escalation(Strict):
    """Who is paged when a term is violated in production, how, and how fast."""

    primary: PersonRef = Field(description="the named person paged first")
    backup: PersonRef = Field(description="paged when the primary does not acknowledge")
    channel: str = Field(min_length=1, description="paging mechanism, e.g. pagerduty:service")
    ack_sla: DurationField = Field(
        description="how fast the page must be acknowledged; the page test fails beyond "
        "page_ack_sla_max"
    )


class ChangeProtocol(Strict):
    """How changes are announced to the other side, and how fast they must be acknowledged."""

    notify: list[PersonRef] = Field(default_factory=list, description="people who must acknowledge")
    ack_window: DurationField | None = Field(
        default=None,
        description="acknowledgement deadline (default from workbench.toml, PT48H); at most "
        "the signed limit",
    )
    channel: str = Field(default="", description="where notices are posted")


class Exemption(Strict):
    """A term knowingly not enforced until `expires`; afterwards it is a violation again."""

    term: str = Field(description="id of the exempted term")
    reason: str = Field(min_length=1)
    approver: PersonRef = Field(description="named person who approved the exemption")
    expires: date


class Contract(Strict):
    """One handshake contract: the interface between two teams, with named owners."""

    id: Slug = Field(description="stable id; must equal the file name (contracts/<id>.toml)")
    title: str = Field(min_length=1, max_length=200)
    status: ContractStatus = Field(default=ContractStatus.draft, description="lifecycle state")
    adopted: date | None = Field(default=None, description="first review falls due 30 days after")
    owner: PersonRef = Field(description="the named individual who owns this seam")
    seam: Seam
    parties: Parties
    cosigners: list[PersonRef] = Field(
        default_factory=list, description="required co-signers in addition to both leads"
    )
    review: Review = Field(default_factory=Review, description="review cadence")
    escalation: Escalation = Field(description="the break-glass path when a term is violated")
    change_protocol: ChangeProtocol = Field(
        default_factory=ChangeProtocol,
        description="who is notified of changes, and how fast they ack",
    )
    terms: list[Term] = Field(default_factory=list, description="the checkable promises")
    exemptions: list[Exemption] = Field(
        default_factory=list, description="time-boxed, approved exceptions to a term"
    )
    clocks: list[ClockDefinition] = Field(
        default_factory=list,
        max_length=32,
        description="clock kinds for this seam only, beside the library and workbench.toml's",
    )

    def term(self, term_id: str) -> Term | None:
        return next((t for t in self.terms if t.id == term_id), None)

    def person_refs(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every field that must name a person, with its location in the file."""
        yield ("owner",), self.owner
        yield ("parties", "provider_lead"), self.parties.provider_lead
        yield ("parties", "consumer_lead"), self.parties.consumer_lead
        for i, p in enumerate(self.cosigners):
            yield ("cosigners", i), p
        yield ("escalation", "primary"), self.escalation.primary
        yield ("escalation", "backup"), self.escalation.backup
        for i, p in enumerate(self.change_protocol.notify):
            yield ("change_protocol", "notify", i), p
        for t_index, term in enumerate(self.terms):
            base = ("terms", t_index)
            yield (*base, "owner"), term.owner
            fields = type(term).model_fields
            for field in ("compliance_reviewer", "change_cosigner", "reviewer", "engineering_lead"):
                value = getattr(term, field) if field in fields else None
                if value is not None:
                    yield (*base, field), value
            subscribers = getattr(term, "subscribers", None) if "subscribers" in fields else None
            if subscribers is not None:
                for i, p in enumerate(subscribers):
                    yield (*base, "subscribers", i), p
        for i, ex in enumerate(self.exemptions):
            yield ("exemptions", i, "approver"), ex.approver


# Fields whose person must still be with the organisation: an owner or contact who has left
# cannot be paged or held accountable, and a co-signer or reviewer who has left cannot sign
# or review. (Subscribers, notify lists and exemption approvers are only flagged.)
ACCOUNTABLE_FIELDS = {
    "owner",
    "primary",
    "backup",
    "provider_lead",
    "consumer_lead",
    "reviewer",
    "compliance_reviewer",
    "change_cosigner",
    "engineering_lead",
    "cosigners",
}
