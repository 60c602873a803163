"""The handshake contract: one file per seam, with named owners on both sides."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import StrEnum

from pydantic import Field

from workbench.model.base import PersonRef, Slug, Strict
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
    provider: Slug = Field(description="team id on the providing side")
    consumer: Slug = Field(description="team id on the consuming side")
    kind: SeamKind
    description: str = ""


class Parties(Strict):
    provider_lead: PersonRef
    consumer_lead: PersonRef


class Review(Strict):
    cadence: DurationField | None = Field(
        default=None, description="default from workbench.toml (quarterly)"
    )
    first_after: DurationField | None = Field(
        default=None, description="first review after adoption (default 30 days)"
    )
    contact_check: DurationField | None = Field(
        default=None, description="how often the escalation contacts are re-confirmed"
    )


class Escalation(Strict):
    primary: PersonRef = Field(description="the named person paged first")
    backup: PersonRef
    channel: str = Field(min_length=1, description="paging mechanism, e.g. pagerduty:service")
    ack_sla: DurationField = Field(description="how fast the page must be acknowledged")


class ChangeProtocol(Strict):
    notify: list[PersonRef] = Field(default_factory=list)
    ack_window: DurationField = Field(default="PT48H")  # type: ignore[assignment]
    channel: str = ""


class Exemption(Strict):
    term: str
    reason: str = Field(min_length=1)
    approver: PersonRef
    expires: date


class Contract(Strict):
    id: Slug
    title: str = Field(min_length=1, max_length=200)
    status: ContractStatus = ContractStatus.draft
    adopted: date | None = None
    owner: PersonRef = Field(description="the named individual who owns this seam")
    seam: Seam
    parties: Parties
    cosigners: list[PersonRef] = Field(
        default_factory=list, description="required co-signers in addition to both leads"
    )
    review: Review = Field(default_factory=Review)
    escalation: Escalation
    change_protocol: ChangeProtocol = Field(default_factory=ChangeProtocol)
    terms: list[Term] = Field(default_factory=list)
    exemptions: list[Exemption] = Field(default_factory=list)

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
            for field in ("compliance_reviewer", "change_cosigner", "reviewer", "engineering_lead"):
                value = getattr(term, field, None)
                if value is not None:
                    yield (*base, field), value
            for i, p in enumerate(getattr(term, "subscribers", [])):
                yield (*base, "subscribers", i), p
        for i, ex in enumerate(self.exemptions):
            yield ("exemptions", i, "approver"), ex.approver


# Fields whose person must still be with the organisation: an owner or contact who has left
# cannot be paged or held accountable.
ACCOUNTABLE_FIELDS = {"owner", "primary", "backup", "provider_lead", "consumer_lead", "reviewer"}
