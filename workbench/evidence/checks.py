"""Term checks: every term kind compiles to one read-only DuckDB SELECT over snapshot views.

A check sees only the views of the snapshots selected for its term, named after the
evidence kind (``freshness_lags``, ``score_samples`` …; a distribution-shift term also
gets ``reference``). The SQL computes the aggregates; `judge_*` compares them with the
term's limits. The SQL is stored in the finding verbatim, so anyone can re-run it in the
evidence console and see the same numbers.

The check's clock is the capture time of its live snapshot (`clock`), never the wall
clock: re-running an audit on the same snapshots gives the same verdict. Whether the
evidence is recent enough is decided before the check runs (see `select_snapshots` in
the service).

Ratios are computed from integer counts, so they do not depend on DuckDB's thread
scheduling; observed values are rounded to 10 significant digits in findings.

What every check shares (statuses, the result type, SQL literals, a term's limit in words) is
``check_base``; the checks on model scores (calibration, distribution shift) are
``checks_scores``; every name is importable from here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from workbench.evidence.check_base import (
    SEVERITY,
    STATUSES,
    VIOLATING,
    CheckResult,
    ViewNeed,
    bounds_text,
    human_seconds,
    ident,
    iso,
    judge_share_outside,
    limit_for,
    lit,
    num,
    pct,
    plain,
    records,
    round_sig,
    ts,
    ts_lit,
    worst,
)
from workbench.evidence.checks_scores import (
    PSI_EPSILON,
    SHIFT_MEASURES_SQL,
    SHIFT_SMOOTHED_CTE,
    calibration_sql,
    judge_calibration,
    judge_shift,
    shift_edges_sql,
    shift_sql,
)
from workbench.model.duration import Duration, _add_months
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
    from workbench.evidence.sandbox import QueryResult, Sandbox


def needs(term: TermBase) -> list[ViewNeed]:
    """The evidence views a term's check reads."""
    if isinstance(term, FreshnessTerm):
        return [ViewNeed("freshness_lags", "freshness_lags")]
    if isinstance(term, RepresentationTerm):
        return [ViewNeed("group_counts", "group_counts")]
    if isinstance(term, LineageTerm):
        return [ViewNeed("lineage_manifest", "lineage_manifest")]
    if isinstance(term, CalibrationTerm):
        return [ViewNeed("score_samples", "score_samples")]
    if isinstance(term, DistributionShiftTerm):
        return [
            ViewNeed("score_samples", "score_samples"),
            ViewNeed("reference", "score_samples", "reference"),
        ]
    if isinstance(term, DecisionThresholdTerm):
        return [ViewNeed("threshold_config", "threshold_config")]
    if isinstance(term, LivingAttestationTerm):
        return [ViewNeed("assertion_results", "assertion_results")]
    if isinstance(term, SqlTerm):
        return [ViewNeed(v, v) for v in dict.fromkeys(term.views)]
    if isinstance(term, BoundsTerm):
        return [ViewNeed(term.view, term.view)]
    raise TypeError(f"no check for term kind {type(term).__name__}")


# --------------------------------------------------------------------------- freshness


def freshness_sql(term: FreshnessTerm, clock: datetime) -> str:
    p = term.percentile / 100.0
    where = [f"{ts('updated_at')} <= {ts_lit(clock)}"]
    if term.sources:
        where.append(f"CAST(source AS VARCHAR) IN ({', '.join(lit(s) for s in term.sources)})")
    return (
        "WITH lags AS (\n"
        "  SELECT CAST(source AS VARCHAR) AS source,\n"
        f"         epoch(coalesce({ts('available_at')}, {ts_lit(clock)}))"
        f" - epoch({ts('updated_at')}) AS lag_s,\n"
        "         available_at IS NULL AS pending,\n"
        + freshness_heartbeat_columns(clock)
        + "  FROM freshness_lags\n"
        f"  WHERE {' AND '.join(where)}\n"
        ")\n"
        "SELECT source, count(*) AS rows, count(*) FILTER (WHERE pending) AS pending,\n"
        f"       max(lag_s) AS max_lag_s, quantile_cont(lag_s, {num(p)}) AS p_lag_s,\n"
        + freshness_heartbeat_sql(clock)
        + "FROM lags GROUP BY source ORDER BY source"
    )


def freshness_heartbeat_columns(clock: datetime) -> str:
    """Per row: the update's time in epoch seconds (for the heartbeat)."""
    return f"         epoch({ts('updated_at')}) AS updated_s\n"


def freshness_heartbeat_sql(clock: datetime) -> str:
    """The heartbeat: how old the source's newest update is at the clock. A feed that
    stopped has no late update to measure (nothing arrived late: nothing arrived); its
    heartbeat grows. A newer update still in flight is measured by its lag instead."""
    return f"       epoch({ts_lit(clock)}) - max(updated_s) AS heartbeat_s\n"


def judge_freshness(term: FreshnessTerm, rows: list[dict[str, Any]]) -> CheckResult:
    fail_s = term.fail_after.total_seconds()
    warn_s = term.warn_after.total_seconds() if term.warn_after else None
    which = "max" if term.percentile >= 100 else f"p{term.percentile:g}"
    limit = limit_for(term)
    details = []
    for r in rows:
        lag = r["max_lag_s"] if term.percentile >= 100 else r["p_lag_s"]
        heartbeat = r.get("heartbeat_s")
        # The source's age: its lag, or the age of its newest update when that is older
        # (a stopped feed: nothing arrives late because nothing arrives).
        age = lag if heartbeat is None else max(lag, heartbeat)
        status = (
            "fail" if age > fail_s else "warn" if warn_s is not None and age > warn_s else "pass"
        )
        details.append(
            {
                "source": r["source"],
                "rows": r["rows"],
                "pending": r["pending"],
                "max_lag_s": round_sig(r["max_lag_s"]),
                "lag_s": round_sig(lag),
                "heartbeat_s": round_sig(heartbeat),
                "age_s": round_sig(age),
                "status": status,
            }
        )
    missing = sorted(set(term.sources) - {d["source"] for d in details})
    if not details:
        return CheckResult("no-data", limit=limit, reason="no freshness rows in the evidence")
    top = max(details, key=lambda d: (d["age_s"], d["source"]))
    status = worst([d["status"] for d in details])
    if top["heartbeat_s"] is not None and top["heartbeat_s"] > top["lag_s"]:
        reason = (
            f"{top['source']}: heartbeat: newest update is "
            f"{human_seconds(top['heartbeat_s'])} old at the capture, no update since "
            f"(the feed stopped?; "
            f"{which} lag of the updates that arrived {human_seconds(top['lag_s'])})"
        )
    else:
        reason = f"{top['source']}: {which} lag {human_seconds(top['lag_s'])}"
    if top["pending"]:
        reason += f" ({top['pending']} update(s) not yet accessible)"
    if missing and status not in ("fail",):
        status = "no-data"
        reason = f"no rows for source(s) {', '.join(missing)}; " + reason
    return CheckResult(
        status,
        observed=top["age_s"],
        observed_text=f"{human_seconds(top['age_s'])} ({top['source']})",
        limit=limit,
        reason=reason,
        details=details,
    )


# --------------------------------------------------------------------------- representation


def representation_sql(term: RepresentationTerm, columns: set[str]) -> str:
    scope = f"CAST(attribute AS VARCHAR) = {lit(term.attribute)}"
    latest = ""
    if "observed_at" in columns:
        latest = (
            f"\n    AND ({ts('observed_at')} IS NULL OR {ts('observed_at')} = "
            f"(SELECT max({ts('observed_at')}) FROM group_counts WHERE {scope}))"
        )
    return (
        "WITH counts AS (\n"
        '  SELECT CAST("group" AS VARCHAR) AS grp, sum(CAST("count" AS BIGINT)) AS n\n'
        f"  FROM group_counts\n  WHERE {scope}{latest}\n"
        "  GROUP BY grp\n"
        ")\n"
        'SELECT grp AS "group", n, sum(n) OVER () AS total, n / sum(n) OVER () AS share\n'
        "FROM counts ORDER BY grp"
    )


def judge_representation(term: RepresentationTerm, rows: list[dict[str, Any]]) -> CheckResult:
    total = int(rows[0]["total"]) if rows else 0
    margin = term.warn_margin
    limit = limit_for(term)
    if total <= 0:
        return CheckResult(
            "no-data", limit=limit, reason=f"no counts for attribute {term.attribute!r}"
        )
    counts = {r["group"]: int(r["n"]) for r in rows}
    details: list[dict[str, Any]] = []  # CheckResult.details: JSON rows of the run record
    for group, bounds in term.groups.items():
        n = counts.get(group, 0)
        share = n / total
        if share < bounds.min or share > bounds.max:
            status = "fail"
        elif margin and (share < bounds.min + margin or share > bounds.max - margin):
            status = "warn"
        else:
            status = "pass"
        gap = min(share - bounds.min, bounds.max - share)
        details.append(
            {
                "group": group,
                "count": n,
                "share": round_sig(share),
                "min": bounds.min,
                "max": bounds.max,
                "status": status,
                "_gap": gap,
            }
        )
    for group in sorted(set(counts) - set(term.groups)):
        details.append(
            {
                "group": group,
                "count": counts[group],
                "share": round_sig(counts[group] / total),
                "min": None,
                "max": None,
                "status": "unbounded",
                "_gap": math.inf,
            }
        )
    bounded = [d for d in details if d["status"] != "unbounded"]
    top = min(bounded, key=lambda d: (d["_gap"], d["group"]))
    for d in details:
        d.pop("_gap")
    status = worst([d["status"] for d in bounded])
    return CheckResult(
        status,
        observed=top["share"],
        observed_text=f"{top['group']} {pct(top['share'])}",
        limit=limit,
        reason=f"closest to a bound: {top['group']} at {pct(top['share'])} "
        f"(bounds {top['min']:g}–{top['max']:g}) of {total} rows",
        details=details,
    )


# --------------------------------------------------------------------------- bounds


def bounds_sql(term: BoundsTerm) -> str:
    col = f"TRY_CAST({ident(term.column)} AS DOUBLE)"
    outside = [f"{col} IS NULL", f"isnan({col})"]
    if term.min is not None:
        outside.append(f"{col} < {num(term.min)}")
    if term.max is not None:
        outside.append(f"{col} > {num(term.max)}")
    # NULL, text that is not a number and NaN count as outside: a bound says what every
    # value is, and an unreadable value is not inside it.
    return (
        "SELECT count(*) AS n,\n"
        f"       count(*) FILTER (WHERE {' OR '.join(outside)}) AS outside,\n"
        f"       min({col}) AS min_value, max({col}) AS max_value\n"
        f"FROM {ident(term.view)}"
    )


def judge_bounds(term: BoundsTerm, rows: list[dict[str, Any]]) -> CheckResult:
    what = f"values of {term.column} outside {bounds_text(term)} or not numbers"
    return judge_share_outside(term, rows[0], f"no rows in {term.view} evidence", what)


# --------------------------------------------------------------------------- decision threshold


def threshold_sql(term: DecisionThresholdTerm, clock: datetime) -> str:
    return (
        "SELECT CAST(value AS DOUBLE) AS value, CAST(changed_at AS TIMESTAMPTZ) AS changed_at,\n"
        "       CAST(changed_by AS VARCHAR) AS changed_by,"
        " CAST(cosigned_by AS VARCHAR) AS cosigned_by\n"
        "FROM threshold_config\n"
        f"WHERE CAST(name AS VARCHAR) = {lit(term.name)} AND {ts('changed_at')} <= {ts_lit(clock)}\n"
        "ORDER BY changed_at, changed_by, value, cosigned_by"
    )


def judge_threshold(
    term: DecisionThresholdTerm, rows: list[dict[str, Any]], adopted: date | None
) -> CheckResult:
    cosigner = term.change_cosigner
    limit = limit_for(term)
    if not rows:
        return CheckResult("no-data", limit=limit, reason=f"no history for threshold {term.name!r}")

    def matches(v: float) -> bool:
        return abs(v - term.value) <= term.tolerance + 1e-12

    # The contract's value was set by the last co-signed change to it; every later change
    # must be co-signed too. Without one, every change since adoption is checked.
    anchor: datetime | None = None
    for r in rows:
        if matches(r["value"]) and r["cosigned_by"] == cosigner:
            anchor = r["changed_at"]
    if anchor is None and adopted is not None:
        anchor = datetime(adopted.year, adopted.month, adopted.day, tzinfo=UTC) - timedelta(
            microseconds=1
        )
    details = []
    unsigned = []
    for r in rows:
        after = anchor is None or r["changed_at"] > anchor
        ok = r["cosigned_by"] == cosigner
        entry = {
            "value": round_sig(r["value"]),
            "changed_at": plain(r["changed_at"]),
            "changed_by": r["changed_by"],
            "cosigned_by": r["cosigned_by"],
            "checked": after,
            "status": ("pass" if ok else "fail") if after else "before",
        }
        details.append(entry)
        if after and not ok:
            unsigned.append(entry)
    live = rows[-1]
    problems = []
    if not matches(live["value"]):
        problems.append(f"live value {live['value']:g} ≠ co-signed {term.value:g}")
    for u in unsigned:
        who = f"co-signed by {u['cosigned_by']}, not" if u["cosigned_by"] else "without"
        problems.append(
            f"changed to {u['value']:g} by {u['changed_by']} at {u['changed_at']} "
            f"{who} {cosigner}'s co-signature"
        )
    status = "fail" if problems else "pass"
    return CheckResult(
        status,
        observed=round_sig(live["value"]),
        observed_text=f"{live['value']:g} (by {live['changed_by']}"
        + (f", co-signed {live['cosigned_by']})" if live["cosigned_by"] else ", not co-signed)"),
        limit=limit,
        reason="; ".join(problems)
        or f"live value {live['value']:g}, all changes co-signed by {cosigner}",
        details=details,
    )


# --------------------------------------------------------------------------- living attestation


def window_start(window: Duration, clock: datetime) -> datetime:
    start = clock - window.exact
    return _add_months(start, -window.months) if window.months else start


def attestation_sql(term: LivingAttestationTerm, clock: datetime) -> str:
    ids = ", ".join(lit(a.id) for a in term.assertions)
    start = window_start(term.window, clock)
    return (
        "SELECT CAST(assertion_id AS VARCHAR) AS assertion_id, count(*) AS runs,\n"
        "       count(*) FILTER (WHERE CAST(passed AS BOOLEAN)) AS passed\n"
        "FROM assertion_results\n"
        f"WHERE CAST(assertion_id AS VARCHAR) IN ({ids})\n"
        f"  AND {ts('run_at')} > {ts_lit(start)} AND {ts('run_at')} <= {ts_lit(clock)}\n"
        "GROUP BY 1 ORDER BY 1"
    )


def judge_attestation(term: LivingAttestationTerm, rows: list[dict[str, Any]]) -> CheckResult:
    by_id = {r["assertion_id"]: r for r in rows}
    limit = limit_for(term)
    details: list[dict[str, Any]] = []  # CheckResult.details: JSON rows of the run record
    for a in term.assertions:
        r = by_id.get(a.id)
        runs = int(r["runs"]) if r else 0
        passed = int(r["passed"]) if r else 0
        rate = passed / runs if runs else None
        if rate is None:
            status = "no-data"
        elif rate < term.min_pass_rate:
            status = "fail"
        elif term.warn_pass_rate is not None and rate < term.warn_pass_rate:
            status = "warn"
        else:
            status = "pass"
        details.append(
            {
                "assertion": a.id,
                "runs": runs,
                "passed": passed,
                "pass_rate": round_sig(rate),
                "status": status,
                "test": a.test,
            }
        )
    rated = [d for d in details if d["pass_rate"] is not None]
    status = worst([d["status"] for d in details])
    if not rated:
        return CheckResult(
            "no-data",
            limit=limit,
            reason="no assertion runs in the window",
            details=details,
        )
    low = min(rated, key=lambda d: (d["pass_rate"], d["assertion"]))
    missing = [d["assertion"] for d in details if d["pass_rate"] is None]
    reason = f"lowest pass rate: {low['assertion']} {pct(low['pass_rate'])} ({low['passed']}/{low['runs']})"
    if missing:
        reason += f"; no runs in the window for {', '.join(missing)}"
    return CheckResult(
        status,
        observed=low["pass_rate"],
        observed_text=f"{pct(low['pass_rate'])} ({low['assertion']})",
        limit=limit,
        reason=reason,
        details=details,
    )


# --------------------------------------------------------------------------- lineage


def lineage_sql(clock: datetime) -> str:
    return (
        "SELECT CAST(source AS VARCHAR) AS source,"
        f" max({ts('refreshed_at')}) AS last_refreshed, count(*) AS rows\n"
        f"FROM lineage_manifest WHERE {ts('refreshed_at')} <= {ts_lit(clock)}\n"
        "GROUP BY 1 ORDER BY 1"
    )


def judge_lineage(term: LineageTerm, rows: list[dict[str, Any]], clock: datetime) -> CheckResult:
    limit = limit_for(term)
    if not rows:
        return CheckResult("no-data", limit=limit, reason="no sources in the lineage manifest")
    seen = {r["source"]: r["last_refreshed"] for r in rows}
    included = {s.source: s for s in term.included}
    excluded = {s.source: s for s in term.excluded}
    details = []
    problems = []
    for name, inc in included.items():
        last = seen.get(name)
        if last is None:
            status, note = "fail", "never refreshed"
        elif inc.refresh_cadence.add_to(last) < clock:
            status = "fail"
            note = f"last refreshed {human_seconds((clock - last).total_seconds())} ago"
        else:
            status, note = "pass", ""
        if note:
            problems.append(f"{name}: {note} (cadence {inc.refresh_cadence.human()})")
        details.append(
            {
                "source": name,
                "role": "included",
                "cadence": inc.refresh_cadence.text,
                "last_refreshed": plain(last),
                "status": status,
            }
        )
    for name in sorted(set(seen) - set(included)):
        if name in excluded:
            problems.append(f"{name}: excluded source is fed to the model")
            role = "excluded"
        else:
            problems.append(f"{name}: source not in the contract's included list")
            role = "unexpected"
        details.append(
            {
                "source": name,
                "role": role,
                "cadence": None,
                "last_refreshed": plain(seen[name]),
                "status": "fail",
            }
        )
    return CheckResult(
        "fail" if problems else "pass",
        observed=float(len(problems)),
        observed_text=f"{len(problems)} problem(s)",
        limit=limit,
        reason="; ".join(problems) or f"{len(included)} included source(s) within cadence",
        details=details,
    )


# --------------------------------------------------------------------------- custom SQL


def judge_sql(term: SqlTerm, result: QueryResult) -> CheckResult:
    limit = limit_for(term)
    cols = [c.lower() for c in result.columns]
    if "value" not in cols:
        return CheckResult(
            "error", limit=limit, reason="the query must return a column named value"
        )
    if len(result.rows) != 1:
        return CheckResult(
            "error", limit=limit, reason=f"the query must return one row (got {len(result.rows)})"
        )
    raw = result.rows[0][cols.index("value")]
    details = [{c: plain(v) for c, v in zip(result.columns, result.rows[0], strict=True)}]
    if raw is None:
        # NULL is no measurement, and never a pass: the query must say what it measured.
        return CheckResult(
            "error",
            limit=limit,
            reason="the query returned NULL; a check must return a finite number",
            details=details,
        )
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        return CheckResult("error", limit=limit, reason=f"value {raw!r} is not a number")
    if not math.isfinite(value):
        return CheckResult("error", limit=limit, reason=non_finite_reason(value), details=details)
    if term.direction == "at_most":
        bad: Callable[[float], bool] = lambda lim: value > lim  # noqa: E731
    else:
        bad = lambda lim: value < lim  # noqa: E731
    status = (
        "fail" if bad(term.fail) else "warn" if term.warn is not None and bad(term.warn) else "pass"
    )
    return CheckResult(
        status,
        observed=round_sig(value),
        observed_text=f"{round_sig(value):g}",
        limit=limit,
        reason=f"value {round_sig(value):g}",
        details=details,
    )


def non_finite_reason(value: float) -> str:
    what = "NaN" if math.isnan(value) else "an infinite value"
    return f"the check returned {what}; a check must return a finite number"


def finite_or_error(result: CheckResult) -> CheckResult:
    """A check whose observed value is NaN or ±inf is `error`, never a pass or a fail:
    comparisons with NaN are always false, so it would silently pass every limit."""
    if result.observed is not None and not math.isfinite(result.observed):
        return CheckResult(
            "error",
            limit=result.limit,
            reason=non_finite_reason(result.observed),
            sql=result.sql,
            details=result.details,
        )
    return result


# --------------------------------------------------------------------------- running


def view_columns(sb: Sandbox, view: str) -> set[str]:
    return {str(r[0]).lower() for r in sb.query_generated(f"DESCRIBE SELECT * FROM {view}").rows}


def bind_views(sql: str, tables: dict[str, str]) -> str:
    """Prefix generated SQL with CTEs naming each logical view after the sandbox view
    that holds its snapshot (``WITH "freshness_lags" AS (SELECT * FROM ev_…)``), so one
    sandbox can serve many contracts and the stored SQL stays self-contained."""
    binds = [f"{ident(v)} AS (SELECT * FROM {ident(t)})" for v, t in tables.items() if v != t]
    if not binds:
        return sql
    prefix = "WITH " + ",\n     ".join(binds)
    if sql[:5].upper() == "WITH ":
        return f"{prefix},\n{sql[5:]}"
    return f"{prefix}\n{sql}"


def generated_sql(term: TermBase, clock: datetime, columns: set[str] | None = None) -> str:
    """The check SQL of a generated (non-``sql``) term over its logical views.

    `columns`: the group_counts view's columns (representation terms only)."""
    if isinstance(term, FreshnessTerm):
        return freshness_sql(term, clock)
    if isinstance(term, RepresentationTerm):
        return representation_sql(term, columns or set())
    if isinstance(term, CalibrationTerm):
        return calibration_sql(term)
    if isinstance(term, DistributionShiftTerm):
        return shift_sql(term)
    if isinstance(term, DecisionThresholdTerm):
        return threshold_sql(term, clock)
    if isinstance(term, LivingAttestationTerm):
        return attestation_sql(term, clock)
    if isinstance(term, LineageTerm):
        return lineage_sql(clock)
    if isinstance(term, BoundsTerm):
        return bounds_sql(term)
    raise TypeError(type(term).__name__)  # pragma: no cover - needs() already refused it


def judge_rows(
    term: TermBase, rows: list[dict[str, Any]], clock: datetime, adopted: date | None = None
) -> CheckResult:
    """Judge the rows a generated term's check SQL returned.

    Untrusted evidence can put NULL, NaN or ±inf where a number is expected: such a result
    is `error` with a reason, never a traceback and never a pass."""
    try:
        return finite_or_error(_judge_rows(term, rows, clock, adopted))
    except (TypeError, ValueError, ArithmeticError, KeyError) as exc:
        return CheckResult(
            "error",
            limit=limit_for(term),
            reason=f"the evidence gave a result that cannot be judged ({type(exc).__name__}: "
            f"{exc}); look for NULL or non-numeric values in the columns this check reads",
        )


def _judge_rows(
    term: TermBase, rows: list[dict[str, Any]], clock: datetime, adopted: date | None
) -> CheckResult:
    if isinstance(term, FreshnessTerm):
        return judge_freshness(term, rows)
    if isinstance(term, RepresentationTerm):
        return judge_representation(term, rows)
    if isinstance(term, CalibrationTerm):
        return judge_calibration(term, rows)
    if isinstance(term, DistributionShiftTerm):
        return judge_shift(term, rows)
    if isinstance(term, DecisionThresholdTerm):
        return judge_threshold(term, rows, adopted)
    if isinstance(term, LivingAttestationTerm):
        return judge_attestation(term, rows)
    if isinstance(term, BoundsTerm):
        return judge_bounds(term, rows)
    assert isinstance(term, LineageTerm)
    return judge_lineage(term, rows, clock)


def run_check(
    sb: Sandbox,
    term: TermBase,
    clock: datetime,
    *,
    adopted: date | None = None,
    tables: dict[str, str] | None = None,
) -> CheckResult:
    """Compile `term` to SQL, run it in `sb` and judge the result (custom SQL through the
    guard; generated SQL, built from templates, through `Sandbox.query_generated`).

    `tables` maps the term's logical views (``freshness_lags``…) to the sandbox views
    holding them (generated checks only; custom SQL always runs in a sandbox of its own
    whose views carry the logical names). Raises the sandbox's errors (`SqlRefused`,
    `QueryFailed`, `QueryTimeout`); the caller turns them into an `error` finding.
    """
    tables = tables or {}
    if isinstance(term, SqlTerm):
        sql = term.query.strip()
        result = finite_or_error(judge_sql(term, sb.query(sql, max_rows=2)))
    else:
        columns = None
        if isinstance(term, RepresentationTerm):
            columns = view_columns(sb, ident(tables.get("group_counts", "group_counts")))
        sql = bind_views(generated_sql(term, clock, columns), tables)
        # Generated from the templates above (contract strings only via lit/ident): run
        # without the untrusted-SQL guard, still inside the locked-down sandbox.
        rows = records(sb.query_generated(sql))
        result = judge_rows(term, rows, clock, adopted)
    result.sql = sql
    return result


__all__ = [
    "CheckResult",
    "PSI_EPSILON",
    "SEVERITY",
    "SHIFT_MEASURES_SQL",
    "SHIFT_SMOOTHED_CTE",
    "STATUSES",
    "VIOLATING",
    "ViewNeed",
    "attestation_sql",
    "bind_views",
    "bounds_sql",
    "bounds_text",
    "calibration_sql",
    "finite_or_error",
    "freshness_heartbeat_columns",
    "freshness_heartbeat_sql",
    "freshness_sql",
    "generated_sql",
    "human_seconds",
    "ident",
    "iso",
    "judge_attestation",
    "judge_bounds",
    "judge_calibration",
    "judge_freshness",
    "judge_lineage",
    "judge_representation",
    "judge_rows",
    "judge_shift",
    "judge_sql",
    "judge_threshold",
    "limit_for",
    "lineage_sql",
    "lit",
    "needs",
    "non_finite_reason",
    "num",
    "pct",
    "plain",
    "records",
    "representation_sql",
    "round_sig",
    "run_check",
    "shift_edges_sql",
    "shift_sql",
    "threshold_sql",
    "ts",
    "ts_lit",
    "view_columns",
    "window_start",
    "worst",
]
