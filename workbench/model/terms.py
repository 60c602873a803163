"""Terms: the checkable promises of a handshake contract, one kind per promise.

Every term has a stable id and its own named owner. Terms with a threshold carry both a
warn and a fail level so that a breach is visible before it becomes a violation.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from workbench.model.base import PersonRef, Slug, Strict
from workbench.model.duration import DurationField

Share = Annotated[float, Field(ge=0.0, le=1.0)]


class TermBase(Strict):
    id: Slug
    owner: PersonRef = Field(description="named person accountable for this term")
    title: str = ""
    description: str = ""
    evidence_max_age: DurationField | None = Field(
        default=None,
        description="evidence older than this (or none at all) is a no-data violation; at "
        "most the signed limit",
    )


class FreshnessTerm(TermBase):
    """Maximum lag between a source update and the model-accessible state."""

    kind: Literal["freshness"]
    fail_after: DurationField
    warn_after: DurationField | None = None
    percentile: float = Field(
        default=100.0, gt=0, le=100, description="100 checks the maximum lag; 95 the p95"
    )
    sources: list[str] = Field(default_factory=list, description="limit to these sources")

    @model_validator(mode="after")
    def _warn_before_fail(self) -> FreshnessTerm:
        if self.warn_after is not None and self.warn_after > self.fail_after:
            raise ValueError("warn_after must not be longer than fail_after")
        return self


class GroupBounds(Strict):
    min: Share = 0.0
    max: Share = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> GroupBounds:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class RepresentationTerm(TermBase):
    """Distribution bounds for protected-class proxies in training or retrieval data."""

    kind: Literal["representation"]
    attribute: str = Field(min_length=1)
    groups: dict[str, GroupBounds] = Field(min_length=1)
    warn_margin: Share = Field(
        default=0.0, description="warn when a share is within this margin of a bound"
    )
    reevaluation_trigger: str = Field(
        default="", description="what forces a re-evaluation of the model when bounds move"
    )
    compliance_reviewer: PersonRef | None = None


class IncludedSource(Strict):
    source: str = Field(min_length=1)
    refresh_cadence: DurationField
    description: str = ""


class ExcludedSource(Strict):
    source: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class LineageTerm(TermBase):
    """Which upstream sources are included (with refresh cadence) and which are excluded."""

    kind: Literal["lineage"]
    included: list[IncludedSource] = Field(min_length=1)
    excluded: list[ExcludedSource] = Field(default_factory=list)
    subscribers: list[PersonRef] = Field(
        default_factory=list, description="read-only access and alert subscription"
    )


class CalibrationTerm(TermBase):
    """What the score means (calibration reference) and its valid operating range."""

    kind: Literal["calibration"]
    calibration_reference: str = Field(min_length=1)
    calibrated_on: date | None = None
    score: str = Field(default="score", description="score column in score_samples evidence")
    range_min: float
    range_max: float
    fail_share_outside: Share = 0.01
    warn_share_outside: Share | None = None

    @model_validator(mode="after")
    def _range(self) -> CalibrationTerm:
        if self.range_min >= self.range_max:
            raise ValueError("range_min must be below range_max")
        if (
            self.warn_share_outside is not None
            and self.warn_share_outside > self.fail_share_outside
        ):
            raise ValueError("warn_share_outside must not exceed fail_share_outside")
        return self


class DistributionShiftTerm(TermBase):
    """Shift between the reference score distribution and the live one."""

    kind: Literal["distribution_shift"]
    method: Literal["psi", "jensen_shannon"] = "psi"
    reference: str = Field(min_length=1, description="evidence snapshot id of the reference")
    column: str = "score"
    bins: int = Field(default=10, ge=2, le=100)
    binning: Literal["quantile", "equal_width"] = "quantile"
    warn: float = Field(default=0.1, ge=0)
    fail: float = Field(default=0.25, ge=0)
    triggers_review_of: str = Field(
        default="", description="term id whose review a shift triggers (e.g. the threshold)"
    )

    @model_validator(mode="after")
    def _levels(self) -> DistributionShiftTerm:
        if self.warn > self.fail:
            raise ValueError("warn must not exceed fail")
        return self


class DecisionThresholdTerm(TermBase):
    """The product's decision threshold on the model score, and who must co-sign a change."""

    kind: Literal["decision_threshold"]
    name: str = Field(min_length=1, description="config key in threshold_config evidence")
    value: float
    calibrated_against: str = Field(
        default="", description="id of the calibration term the threshold was set against"
    )
    change_cosigner: PersonRef = Field(description="whose co-signature a threshold change needs")
    tolerance: float = Field(default=0.0, ge=0)


class Assertion(Strict):
    id: Slug
    statement: str = Field(min_length=1)
    test: str = Field(min_length=1, description="the automated test that covers it")


class LivingAttestationTerm(TermBase):
    """Behavioural assertions the system must keep satisfying, summarised weekly."""

    kind: Literal["living_attestation"]
    assertions: list[Assertion] = Field(min_length=1)
    min_pass_rate: Share
    warn_pass_rate: Share | None = None
    window: DurationField = Field(default="P7D")  # type: ignore[assignment]
    reviewer: PersonRef = Field(description="named compliance reviewer")
    weekly_summary: bool = True
    engineering_lead: PersonRef | None = Field(
        default=None, description="confirms test coverage within 48 h of an assertion change"
    )

    @model_validator(mode="after")
    def _levels(self) -> LivingAttestationTerm:
        if self.warn_pass_rate is not None and self.warn_pass_rate < self.min_pass_rate:
            raise ValueError("warn_pass_rate must be at least min_pass_rate")
        return self


class SqlTerm(TermBase):
    """A custom read-only SQL check over the contract's evidence; returns one `value`."""

    kind: Literal["sql"]
    query: str = Field(min_length=1)
    views: list[str] = Field(default_factory=list, description="evidence kinds the query reads")
    direction: Literal["at_most", "at_least"] = "at_most"
    fail: float
    warn: float | None = None


class BoundsTerm(TermBase):
    """Every value of a numeric column lies within [min, max] (a generic bound: no SQL to
    write; ODCS `logicalTypeOptions` minimum/maximum import as this)."""

    kind: Literal["bounds"]
    view: str = Field(
        min_length=1,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="evidence kind whose column is bounded, e.g. custom or score_samples",
    )
    column: str = Field(min_length=1, description="the numeric column")
    min: float | None = Field(default=None, description="lowest allowed value (inclusive)")
    max: float | None = Field(default=None, description="highest allowed value (inclusive)")
    fail_share_outside: Share = Field(
        default=0.0, description="fail when more than this share of rows is outside or NULL"
    )
    warn_share_outside: Share | None = None

    @model_validator(mode="after")
    def _bounds(self) -> BoundsTerm:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number")
        if (
            self.warn_share_outside is not None
            and self.warn_share_outside > self.fail_share_outside
        ):
            raise ValueError("warn_share_outside must not exceed fail_share_outside")
        return self


Term = Annotated[
    FreshnessTerm
    | RepresentationTerm
    | LineageTerm
    | CalibrationTerm
    | DistributionShiftTerm
    | DecisionThresholdTerm
    | LivingAttestationTerm
    | SqlTerm
    | BoundsTerm,
    Field(discriminator="kind"),
]

TERM_KINDS: dict[str, type[TermBase]] = {
    "freshness": FreshnessTerm,
    "representation": RepresentationTerm,
    "lineage": LineageTerm,
    "calibration": CalibrationTerm,
    "distribution_shift": DistributionShiftTerm,
    "decision_threshold": DecisionThresholdTerm,
    "living_attestation": LivingAttestationTerm,
    "sql": SqlTerm,
    "bounds": BoundsTerm,
}
