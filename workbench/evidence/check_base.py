"""What every term check shares: the statuses a finding can have (and which of them make a
violation), the result of one check, SQL literals, and how observed values are rounded and
shown. The checks of each term kind are ``workbench.evidence.checks``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, overload

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

if TYPE_CHECKING:
    from workbench.evidence.sandbox import QueryResult

STATUSES = ("pass", "warn", "fail", "no-data", "error")
# Statuses that make a violation (warn is recorded and shown, but pages nobody).
VIOLATING = frozenset({"fail", "no-data", "error"})
SEVERITY = {"pass": 0, "warn": 1, "no-data": 2, "fail": 3, "error": 4}


@dataclass(frozen=True)
class ViewNeed:
    """One view a check reads: its name in the SQL, the evidence kind, and its role."""

    view: str
    kind: str
    role: str = "live"  # "live" | "reference"


@dataclass
class CheckResult:
    status: str
    observed: float | None = None
    observed_text: str = ""
    limit: str = ""
    reason: str = ""
    sql: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------- SQL helpers


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ts_lit(moment: datetime) -> str:
    return f"TIMESTAMPTZ '{moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f')}+00'"


def ts(column: str) -> str:
    """A column as TIMESTAMPTZ (CSV columns may be VARCHAR; naive values are UTC)."""
    return f"CAST({ident(column)} AS TIMESTAMPTZ)"


def num(value: float) -> str:
    return repr(float(value))


def round_sig(value: float | None, digits: int = 10) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    s = int(round(abs(seconds)))
    days, rem = divmod(s, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m {secs}s"
    return f"{sign}{secs}s"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(value: Any) -> Any:
    """A JSON-ready, deterministic form of a DuckDB value."""
    from decimal import Decimal

    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return round_sig(float(value))
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return None
        return round_sig(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def records(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def judge_share_outside(
    term: BoundsTerm | CalibrationTerm, row: dict[str, Any], empty: str, outside_what: str
) -> CheckResult:
    """The verdict on the share of rows outside a range (a bounds term, a calibration range):
    `row` has the row count ``n``, the count ``outside`` and the observed extremes
    ``min_<x>`` and ``max_<x>`` (x: value or score); fail above the term's fail share, warn
    above its warn share if it has one. `empty` is the reason when there are no rows."""
    limit = limit_for(term)
    n = int(row["n"])
    if n == 0:
        return CheckResult("no-data", limit=limit, reason=empty)
    outside = int(row["outside"])
    share = outside / n
    if share > term.fail_share_outside:
        status = "fail"
    elif term.warn_share_outside is not None and share > term.warn_share_outside:
        status = "warn"
    else:
        status = "pass"
    x = "score" if isinstance(term, CalibrationTerm) else "value"
    low, high = f"min_{x}", f"max_{x}"
    return CheckResult(
        status,
        observed=round_sig(share),
        observed_text=f"{pct(share)} outside ({outside} of {n})",
        limit=limit,
        reason=f"{outside} of {n} {outside_what} "
        f"(observed min {plain(row[low])}, max {plain(row[high])})",
        details=[{"rows": n, "outside": outside, low: plain(row[low]), high: plain(row[high])}],
    )


def worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: SEVERITY[s]) if statuses else "pass"


# --------------------------------------------------------------------------- limits


def limit_for(term: TermBase) -> str:
    """The term's limit in words (shown next to the observed value)."""
    if isinstance(term, FreshnessTerm):
        which = "max" if term.percentile >= 100 else f"p{term.percentile:g}"
        return f"{which} lag and heartbeat per source fail > {term.fail_after.human()}" + (
            f", warn > {term.warn_after.human()}" if term.warn_after else ""
        )
    if isinstance(term, RepresentationTerm):
        text = "; ".join(f"{g} {b.min:g}–{b.max:g}" for g, b in term.groups.items())
        return text + (f" (warn within {term.warn_margin:g})" if term.warn_margin else "")
    if isinstance(term, CalibrationTerm):
        text = (
            f"share outside [{term.range_min:g}, {term.range_max:g}] "
            f"fail > {pct(term.fail_share_outside)}"
        )
        if term.warn_share_outside is not None:
            text += f", warn > {pct(term.warn_share_outside)}"
        return text
    if isinstance(term, DistributionShiftTerm):
        return f"{term.method} fail ≥ {term.fail:g}, warn ≥ {term.warn:g}"
    if isinstance(term, DecisionThresholdTerm):
        text = f"= {term.value:g}" + (f" ± {term.tolerance:g}" if term.tolerance else "")
        return text + f"; every change co-signed by {term.change_cosigner}"
    if isinstance(term, LivingAttestationTerm):
        text = (
            f"pass rate per assertion over {term.window.human()} fail < {pct(term.min_pass_rate)}"
        )
        if term.warn_pass_rate is not None:
            text += f", warn < {pct(term.warn_pass_rate)}"
        return text
    if isinstance(term, LineageTerm):
        return (
            "sources seen ⊆ included, excluded never seen, each included source within its cadence"
        )
    if isinstance(term, BoundsTerm):
        text = f"{term.column} in {bounds_text(term)}; share outside fail > {pct(term.fail_share_outside)}"
        if term.warn_share_outside is not None:
            text += f", warn > {pct(term.warn_share_outside)}"
        return text
    if isinstance(term, SqlTerm):
        word = "≤" if term.direction == "at_most" else "≥"
        return f"value {word} {term.fail:g} (fail)" + (
            f", {word} {term.warn:g} (warn)" if term.warn is not None else ""
        )
    return ""


def bounds_text(term: BoundsTerm) -> str:
    low = "-∞" if term.min is None else f"{term.min:g}"
    high = "∞" if term.max is None else f"{term.max:g}"
    return f"[{low}, {high}]"
