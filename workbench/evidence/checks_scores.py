"""Term checks on model scores: the calibration range (the share of scores outside it) and
distribution shift (PSI or KS against a reference snapshot, on shared bin edges). Part of
``workbench.evidence.checks``, which dispatches every term kind."""

from __future__ import annotations

from typing import Any

from workbench.evidence.check_base import (
    CheckResult,
    ident,
    judge_share_outside,
    limit_for,
    num,
    plain,
    round_sig,
)
from workbench.model.terms import CalibrationTerm, DistributionShiftTerm

# Empty-bin share used by PSI (as Evidently does): ln(0) is undefined.
PSI_EPSILON = 1e-4


# --------------------------------------------------------------------------- calibration range


def calibration_sql(term: CalibrationTerm) -> str:
    col = f"CAST({ident(term.score)} AS DOUBLE)"
    return (
        "SELECT count(*) AS n,\n"
        f"       count(*) FILTER (WHERE {col} < {num(term.range_min)}"
        f" OR {col} > {num(term.range_max)}) AS outside,\n"
        f"       min({col}) AS min_score, max({col}) AS max_score\n"
        f"FROM score_samples WHERE {ident(term.score)} IS NOT NULL"
    )


def judge_calibration(term: CalibrationTerm, rows: list[dict[str, Any]]) -> CheckResult:
    what = "scores outside the operating range"
    return judge_share_outside(term, rows[0], "no scores in the evidence", what)


# --------------------------------------------------------------------------- distribution shift


def _scores(view: str, column: str) -> str:
    return f"(SELECT CAST({ident(column)} AS DOUBLE) AS x FROM {view}) WHERE x IS NOT NULL AND isfinite(x)"


# The divergence of live bin shares (q) from reference shares (p), shared by the per-term
# and the batched check so that both report exactly the same figures: empty bins are
# smoothed to PSI_EPSILON for PSI; Jensen-Shannon uses the raw shares against their mean m.
SHIFT_SMOOTHED_CTE = (
    "t AS (\n"
    f"  SELECT *, CASE WHEN p = 0 THEN {PSI_EPSILON!r} ELSE p END AS pe,\n"
    f"         CASE WHEN q = 0 THEN {PSI_EPSILON!r} ELSE q END AS qe, (p + q) / 2 AS m\n"
    "  FROM shares\n"
    ")\n"
)
# Follows "SELECT [group columns,]" over `t`.
SHIFT_MEASURES_SQL = (
    "sum((qe - pe) * ln(qe / pe)) AS psi,\n"
    "       sqrt(greatest(0.0, 0.5 * sum(CASE WHEN p > 0 THEN p * ln(p / m) ELSE 0 END)\n"
    "                        + 0.5 * sum(CASE WHEN q > 0 THEN q * ln(q / m) ELSE 0 END)))"
    " AS jensen_shannon,\n"
    "       sum(ref_n) AS reference_rows, sum(live_n) AS live_rows,\n"
    "       list({'upper_edge': upper_edge, 'reference': ref_n, 'live': live_n}"
    " ORDER BY upper_edge) AS bins\n"
)


def shift_edges_sql(term: DistributionShiftTerm) -> str:
    """The bin edges over the reference scores `x` (docs/evidence.md, distribution shift).

    One definition for the per-term and the batched check, so both bin identically.
    """
    b = term.bins
    if term.binning == "quantile":
        probs = ", ".join(num(i / b) for i in range(1, b))
        return f"list_sort(list_distinct(quantile_cont(x, [{probs}])))"
    return (
        f"list_sort(list_distinct(list_transform(range(1, {b}), "
        f"lambda i: min(x) + i * (max(x) - min(x)) / {b})))"
    )


def shift_sql(term: DistributionShiftTerm) -> str:
    edges = shift_edges_sql(term)
    ref = _scores("reference", term.column)
    live = _scores("score_samples", term.column)
    return (
        f"WITH edges AS (SELECT {edges} AS e FROM {ref}),\n"
        f"ref AS (SELECT histogram(x, (SELECT e FROM edges)) AS h FROM {ref}),\n"
        f"live AS (SELECT histogram(x, (SELECT e FROM edges)) AS h FROM {live}),\n"
        "bins AS (\n"
        "  SELECT coalesce(r.k, l.k) AS upper_edge, coalesce(r.n, 0) AS ref_n,"
        " coalesce(l.n, 0) AS live_n\n"
        "  FROM (SELECT unnest(map_keys(h)) AS k, unnest(map_values(h)) AS n FROM ref) r\n"
        "  FULL JOIN (SELECT unnest(map_keys(h)) AS k, unnest(map_values(h)) AS n FROM live) l"
        " ON r.k = l.k\n"
        "),\n"
        "shares AS (\n"
        "  SELECT upper_edge, ref_n, live_n,\n"
        "         ref_n / sum(ref_n) OVER () AS p, live_n / sum(live_n) OVER () AS q\n"
        "  FROM bins\n"
        "),\n" + SHIFT_SMOOTHED_CTE + "SELECT " + SHIFT_MEASURES_SQL + "FROM t"
    )


def judge_shift(term: DistributionShiftTerm, rows: list[dict[str, Any]]) -> CheckResult:
    r = rows[0] if rows else {}
    limit = limit_for(term)
    ref_rows = int(r.get("reference_rows") or 0)
    live_rows = int(r.get("live_rows") or 0)
    if ref_rows == 0:
        return CheckResult("error", limit=limit, reason="the reference snapshot has no scores")
    if live_rows == 0:
        return CheckResult("no-data", limit=limit, reason="no live scores in the evidence")
    psi = round_sig(r["psi"])
    js = round_sig(r["jensen_shannon"])
    value = psi if term.method == "psi" else js
    assert value is not None
    status = "fail" if value >= term.fail else "warn" if value >= term.warn else "pass"
    details = [
        {
            "upper_edge": plain(b["upper_edge"]),
            "reference": int(b["reference"]),
            "live": int(b["live"]),
            "reference_share": round_sig(int(b["reference"]) / ref_rows),
            "live_share": round_sig(int(b["live"]) / live_rows),
        }
        for b in r["bins"]
    ]
    return CheckResult(
        status,
        observed=value,
        observed_text=f"{term.method} {value:.4f}",
        limit=limit,
        reason=f"PSI {psi:.4f}, Jensen–Shannon distance {js:.4f} over {len(details)} bins "
        f"({term.binning} edges from the reference; {ref_rows} reference vs {live_rows} live scores)",
        details=details,
    )
