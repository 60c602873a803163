"""One-line, human descriptions of terms and their thresholds (CLI `show`, TUI detail)."""

from __future__ import annotations

from workbench.model.terms import (
    BoundsTerm,
    CalibrationTerm,
    DecisionThresholdTerm,
    DistributionShiftTerm,
    FreshnessTerm,
    LineageTerm,
    LivingAttestationTerm,
    RepresentationTerm,
    SqlTerm,
    TermBase,
)


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def describe_term(term: TermBase) -> str:
    if isinstance(term, FreshnessTerm):
        stat = "max" if term.percentile >= 100 else f"p{term.percentile:g}"
        warn = f", warn after {term.warn_after.human()}" if term.warn_after else ""
        return f"{stat} lag ≤ {term.fail_after.human()}{warn}"
    if isinstance(term, RepresentationTerm):
        bounds = ", ".join(f"{g} {_pct(b.min)}–{_pct(b.max)}" for g, b in term.groups.items())
        return f"{term.attribute}: {bounds}" + (
            f" (warn within {_pct(term.warn_margin)})" if term.warn_margin else ""
        )
    if isinstance(term, LineageTerm):
        inc = ", ".join(f"{s.source} every {s.refresh_cadence.human()}" for s in term.included)
        exc = ", ".join(s.source for s in term.excluded)
        return f"includes {inc}" + (f"; excludes {exc}" if exc else "")
    if isinstance(term, CalibrationTerm):
        warn = (
            f", warn {_pct(term.warn_share_outside)}" if term.warn_share_outside is not None else ""
        )
        return (
            f"{term.score} valid in [{term.range_min:g}, {term.range_max:g}]; "
            f"≤ {_pct(term.fail_share_outside)} outside{warn}; calibration: {term.calibration_reference}"
        )
    if isinstance(term, DistributionShiftTerm):
        return (
            f"{term.method} of {term.column} vs {term.reference} ({term.bins} {term.binning} bins): "
            f"warn ≥ {term.warn:g}, fail ≥ {term.fail:g}"
        )
    if isinstance(term, DecisionThresholdTerm):
        return f"{term.name} = {term.value:g}; a change needs {term.change_cosigner}'s co-signature"
    if isinstance(term, LivingAttestationTerm):
        warn = (
            f", warn below {_pct(term.warn_pass_rate)}" if term.warn_pass_rate is not None else ""
        )
        return (
            f"{len(term.assertions)} assertions, pass rate ≥ {_pct(term.min_pass_rate)} over "
            f"{term.window.human()}{warn}; reviewer {term.reviewer}"
        )
    if isinstance(term, BoundsTerm):
        low = "-∞" if term.min is None else f"{term.min:g}"
        high = "∞" if term.max is None else f"{term.max:g}"
        return f"every {term.column} in {term.view} within [{low}, {high}]"
    if isinstance(term, SqlTerm):
        op = "≤" if term.direction == "at_most" else "≥"
        warn = f", warn {op} {term.warn:g}" if term.warn is not None else ""
        return f"custom SQL value {op} {term.fail:g}{warn}"
    return ""
