"""Each check kind on both sides of each threshold, over real CSV/Parquet files in DuckDB."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from tests.evidence.conftest import copy_to
from workbench.evidence.checks import needs, run_check
from workbench.evidence.errors import QueryFailed, SqlRefused
from workbench.evidence.kinds import snapshot_file
from workbench.evidence.sandbox import Sandbox
from workbench.model.terms import Term

CLOCK = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TERM = TypeAdapter(Term)


def T(**fields):  # type: ignore[no-untyped-def]
    return TERM.validate_python({"id": "t", "owner": "someone", **fields})


def ts(hours_ago: float) -> str:
    return (CLOCK - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")


def run(tmp_path: Path, term, files: dict[str, tuple[str, str]], *, adopted=None):  # type: ignore[no-untyped-def]
    """files: view -> (kind, CSV text)."""
    snaps = {}
    for view, (kind, text) in files.items():
        path = tmp_path / f"{view}.csv"
        path.write_text(text, encoding="utf-8")
        snaps[view] = snapshot_file(path, kind)
    with Sandbox(snaps, timeout_s=10) as sb:
        return run_check(sb, term, CLOCK, adopted=adopted)


# --------------------------------------------------------------------------- freshness


def lags(*rows: tuple[str, float, float | None]) -> str:
    lines = ["source,updated_at,available_at"]
    for src, upd, avail in rows:
        lines.append(f"{src},{ts(upd)},{'' if avail is None else ts(avail)}")
    return "\n".join(lines) + "\n"


FRESH = {"kind": "freshness", "fail_after": "PT24H", "warn_after": "PT12H"}


@pytest.mark.parametrize(
    ("lag_hours", "status"),
    [(25, "fail"), (24.01, "fail"), (24, "pass"), (13, "warn"), (12, "pass"), (11, "pass")],
)
def test_freshness_max_lag_both_sides(tmp_path: Path, lag_hours: float, status: str) -> None:
    # exactly at a limit passes: "fail after 24 h" means a lag longer than 24 h
    expected = status if lag_hours not in (24, 12) else ("warn" if lag_hours == 24 else "pass")
    r = run(
        tmp_path,
        T(**FRESH),
        # ("a", 1, 0.5): a recent update too, so the heartbeat (newest update 1 h old) passes
        {
            "freshness_lags": (
                "freshness_lags",
                lags(("a", 100, 100 - lag_hours), ("a", 1, 0.5), ("b", 5, 4)),
            )
        },
    )
    assert r.status == expected
    assert r.observed == pytest.approx(lag_hours * 3600)
    assert "freshness_lags" in r.sql and r.details[0]["source"] == "a"


def test_freshness_pending_update_counts_until_capture(tmp_path: Path) -> None:
    # not yet accessible: lag = capture time - updated_at = 9 days
    r = run(
        tmp_path,
        T(**FRESH),
        {"freshness_lags": ("freshness_lags", lags(("sidecar", 216, None), ("admin", 3, 1)))},
    )
    assert r.status == "fail"
    assert r.observed == pytest.approx(9 * 86400)
    assert r.observed_text.startswith("9d 0h (sidecar)")
    assert "not yet accessible" in r.reason


def test_freshness_percentile_per_source(tmp_path: Path) -> None:
    rows = [("a", h + 2, h) for h in range(0, 95)] + [("a", 200, 100)]  # one outlier of 100 h
    data = {"freshness_lags": ("freshness_lags", lags(*rows))}
    assert run(tmp_path, T(**FRESH, percentile=95), data).status == "pass"
    assert run(tmp_path, T(**FRESH), data).status == "fail"


def test_freshness_sources_filter_and_missing_source_is_no_data(tmp_path: Path) -> None:
    data = {"freshness_lags": ("freshness_lags", lags(("a", 30, 1), ("b", 3, 2)))}
    assert run(tmp_path, T(**FRESH, sources=["b"]), data).status == "pass"
    r = run(tmp_path, T(**FRESH, sources=["b", "c"]), data)
    assert r.status == "no-data" and "c" in r.reason
    assert run(tmp_path, T(**FRESH, sources=["zzz"]), data).status == "no-data"


# --------------------------------------------------------------------------- representation


REP = {
    "kind": "representation",
    "attribute": "age_band",
    "warn_margin": 0.02,
    "groups": {"young": {"min": 0.2, "max": 0.5}, "old": {"min": 0.5, "max": 0.8}},
}


def counts(young: int, old: int, other: int = 0) -> str:
    rows = ["attribute,group,count", f"age_band,young,{young}", f"age_band,old,{old}", "sex,f,999"]
    if other:
        rows.append(f"age_band,other,{other}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("young", "old", "status"),
    [(30, 70, "pass"), (21, 79, "warn"), (19, 81, "fail"), (20, 80, "warn"), (55, 45, "fail")],
)
def test_representation_bounds_and_margin(
    tmp_path: Path, young: int, old: int, status: str
) -> None:
    r = run(tmp_path, T(**REP), {"group_counts": ("group_counts", counts(young, old))})
    assert r.status == status
    shares = {d["group"]: d["share"] for d in r.details}
    assert shares["young"] == pytest.approx(young / (young + old))


def test_representation_unlisted_groups_count_in_the_total_and_missing_group_is_zero(
    tmp_path: Path,
) -> None:
    r = run(tmp_path, T(**REP), {"group_counts": ("group_counts", counts(30, 50, other=20))})
    assert {d["group"]: d["share"] for d in r.details}["old"] == pytest.approx(0.5)
    assert r.status == "warn"
    text = "attribute,group,count\nage_band,old,10\n"
    r = run(tmp_path, T(**REP), {"group_counts": ("group_counts", text)})
    assert r.status == "fail" and "young" in r.reason


def test_representation_uses_latest_observation_in_parquet(tmp_path: Path) -> None:
    path = copy_to(
        tmp_path / "g.parquet",
        "SELECT * FROM (VALUES "
        "('age_band','young',90::BIGINT, TIMESTAMP '2026-11-01'),"
        "('age_band','old',10::BIGINT, TIMESTAMP '2026-11-01'),"
        "('age_band','young',30::BIGINT, TIMESTAMP '2026-11-20'),"
        "('age_band','old',70::BIGINT, TIMESTAMP '2026-11-20')"
        ') AS t(attribute, "group", count, observed_at)',
    )
    with Sandbox({"group_counts": snapshot_file(path, "group_counts")}) as sb:
        r = run_check(sb, T(**REP), CLOCK)
    assert r.status == "pass"


def test_representation_without_rows_is_no_data(tmp_path: Path) -> None:
    text = "attribute,group,count\nsex,f,3\n"
    assert run(tmp_path, T(**REP), {"group_counts": ("group_counts", text)}).status == "no-data"


# --------------------------------------------------------------------------- operating range


CAL = {
    "kind": "calibration",
    "calibration_reference": "card",
    "range_min": 0.1,
    "range_max": 0.9,
    "warn_share_outside": 0.01,
    "fail_share_outside": 0.03,
}


def scores(values: list[float], column: str = "score") -> str:
    return f"scored_at,{column}\n" + "".join(f"{ts(1)},{v}\n" for v in values)


@pytest.mark.parametrize(
    ("outside", "status"), [(0, "pass"), (1, "pass"), (2, "warn"), (3, "warn"), (4, "fail")]
)
def test_operating_range_share_outside(tmp_path: Path, outside: int, status: str) -> None:
    values = [0.5] * (100 - outside) + [0.95] * outside
    r = run(tmp_path, T(**CAL), {"score_samples": ("score_samples", scores(values))})
    assert r.status == status
    assert r.observed == pytest.approx(outside / 100)


def test_operating_range_bounds_are_inclusive(tmp_path: Path) -> None:
    r = run(tmp_path, T(**CAL), {"score_samples": ("score_samples", scores([0.1, 0.9] * 50))})
    assert r.status == "pass" and r.observed == 0


# --------------------------------------------------------------------------- distribution shift


SHIFT = {"kind": "distribution_shift", "reference": "ref", "bins": 10}


def psi_by_hand(ref: list[float], live: list[float], bins: int) -> tuple[float, float]:
    """Independent implementation: quantile edges of the reference (linear interpolation),
    right-closed bins, epsilon 1e-4 for empty bins; JS distance with natural log."""
    s = sorted(ref)

    def q(p: float) -> float:
        pos = p * (len(s) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    edges = sorted({q(i / bins) for i in range(1, bins)})

    def hist(xs: list[float]) -> list[float]:
        out = [0] * (len(edges) + 1)
        for x in xs:
            out[sum(1 for e in edges if e < x)] += 1
        return [c / len(xs) for c in out]

    p, qq = hist(ref), hist(live)
    psi = sum(
        (max(b, 1e-4) - max(a, 1e-4)) * math.log(max(b, 1e-4) / max(a, 1e-4))
        for a, b in zip(p, qq, strict=True)
    )
    m = [(a + b) / 2 for a, b in zip(p, qq, strict=True)]
    js = 0.5 * sum(a * math.log(a / mm) for a, mm in zip(p, m, strict=True) if a > 0)
    js += 0.5 * sum(b * math.log(b / mm) for b, mm in zip(qq, m, strict=True) if b > 0)
    return psi, math.sqrt(js)


def shift(tmp_path: Path, ref: list[float], live: list[float], **fields):  # type: ignore[no-untyped-def]
    return run(
        tmp_path,
        T(**SHIFT, **fields),
        {
            "score_samples": ("score_samples", scores(live)),
            "reference": ("score_samples", scores(ref)),
        },
    )


REF = [i / 1000 for i in range(1000)]


@pytest.mark.parametrize(
    ("live", "status"),
    [
        ([i / 1000 for i in range(1000)], "pass"),
        ([min(0.999, i / 1000 + 0.08) for i in range(1000)], "warn"),
        ([i / 2000 for i in range(1000)], "fail"),
    ],
)
def test_psi_matches_an_independent_implementation(
    tmp_path: Path, live: list[float], status: str
) -> None:
    r = shift(tmp_path, REF, live)
    psi, js = psi_by_hand(REF, live, 10)
    assert r.status == status
    assert r.observed == pytest.approx(psi, rel=1e-9, abs=1e-12)
    assert f"{js:.4f}" in r.reason
    assert len(r.details) == 10 and sum(d["reference"] for d in r.details) == 1000


def test_jensen_shannon_method_and_thresholds(tmp_path: Path) -> None:
    live = [i / 2000 for i in range(1000)]
    _psi, js = psi_by_hand(REF, live, 10)
    r = shift(tmp_path, REF, live, method="jensen_shannon", warn=js - 0.01, fail=js + 0.01)
    assert r.status == "warn" and r.observed == pytest.approx(js)
    r = shift(tmp_path, REF, live, method="jensen_shannon", warn=0.1, fail=r.observed)
    assert r.status == "fail"  # exactly at the fail level fails (drift if ≥)


def test_empty_live_bins_use_epsilon_and_equal_width_binning(tmp_path: Path) -> None:
    live = [0.05] * 100  # all in the first bin: nine empty bins
    r = shift(tmp_path, REF, live)
    assert r.status == "fail" and math.isfinite(r.observed)
    r = shift(tmp_path, REF, REF, binning="equal_width")
    assert r.status == "pass" and r.observed == pytest.approx(0)
    edges = [d["upper_edge"] for d in r.details]
    assert edges[0] == pytest.approx(0.0999) and edges[-1] == "inf"


def test_shift_without_live_scores_is_no_data(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        T(**SHIFT),
        {
            "score_samples": ("score_samples", "scored_at,score\n"),
            "reference": ("score_samples", scores(REF)),
        },
    )
    assert r.status in ("no-data", "error")


# --------------------------------------------------------------------------- decision threshold


THR = {"kind": "decision_threshold", "name": "cut", "value": 0.18, "change_cosigner": "ravi"}


def config(*rows: tuple[float, float, str, str | None]) -> str:
    lines = ["name,value,changed_at,changed_by,cosigned_by", f"other,9,{ts(1)},x,"]
    for value, hours, by, co in rows:
        lines.append(f"cut,{value},{ts(hours)},{by},{co or ''}")
    return "\n".join(lines) + "\n"


def test_threshold_cosigned_value_passes(tmp_path: Path) -> None:
    data = {
        "threshold_config": (
            "threshold_config",
            config((0.2, 900, "sofia", "ravi"), (0.18, 500, "sofia", "ravi")),
        )
    }
    r = run(tmp_path, T(**THR), data)
    assert r.status == "pass" and r.observed == 0.18


def test_threshold_moved_without_cosignature_names_who(tmp_path: Path) -> None:
    data = {
        "threshold_config": (
            "threshold_config",
            config((0.18, 500, "sofia", "ravi"), (0.24, 100, "omar", None)),
        )
    }
    r = run(tmp_path, T(**THR), data)
    assert r.status == "fail" and r.observed == 0.24
    assert "omar" in r.reason and "without ravi's co-signature" in r.reason


def test_threshold_moved_back_but_unsigned_change_still_fails(tmp_path: Path) -> None:
    rows = ((0.18, 500, "sofia", "ravi"), (0.3, 100, "omar", None), (0.18, 50, "omar", "omar"))
    r = run(tmp_path, T(**THR), {"threshold_config": ("threshold_config", config(*rows))})
    assert r.status == "fail"
    assert "co-signed by omar, not ravi" in r.reason


@pytest.mark.parametrize(("value", "status"), [(0.185, "pass"), (0.191, "fail")])
def test_threshold_tolerance(tmp_path: Path, value: float, status: str) -> None:
    rows = ((value, 100, "sofia", "ravi"),)
    r = run(
        tmp_path,
        T(**THR, tolerance=0.01),
        {"threshold_config": ("threshold_config", config(*rows))},
    )
    assert r.status == status


def test_threshold_changes_before_adoption_are_not_checked(tmp_path: Path) -> None:
    # no co-signed row at the contract value: every change since adoption must be co-signed
    rows = ((0.18, 900, "sofia", None),)
    data = {"threshold_config": ("threshold_config", config(*rows))}
    assert run(tmp_path, T(**THR), data).status == "fail"
    assert run(tmp_path, T(**THR), data, adopted=date(2026, 11, 1)).status == "pass"


def test_threshold_without_rows_is_no_data(tmp_path: Path) -> None:
    r = run(tmp_path, T(**THR), {"threshold_config": ("threshold_config", config())})
    assert r.status == "no-data"


# --------------------------------------------------------------------------- living attestation


ATT = {
    "kind": "living_attestation",
    "min_pass_rate": 0.9,
    "warn_pass_rate": 0.95,
    "window": "P7D",
    "reviewer": "helen",
    "assertions": [
        {"id": "a1", "statement": "s", "test": "t1"},
        {"id": "a2", "statement": "s", "test": "t2"},
    ],
}


def results(a1_fail: int, a2_runs: int = 20, old_failures: int = 0) -> str:
    lines = ["assertion_id,run_at,passed"]
    for i in range(20):
        lines.append(f"a1,{ts(i + 1)},{'false' if i < a1_fail else 'true'}")
    for i in range(a2_runs):
        lines.append(f"a2,{ts(i + 1)},true")
    for i in range(old_failures):  # outside the 7-day window
        lines.append(f"a1,{ts(24 * 8 + i)},false")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("fails", "status"), [(0, "pass"), (1, "pass"), (2, "warn"), (3, "fail")])
def test_attestation_pass_rate_per_assertion(tmp_path: Path, fails: int, status: str) -> None:
    r = run(
        tmp_path,
        T(**ATT),
        {"assertion_results": ("assertion_results", results(fails, old_failures=50))},
    )
    assert r.status == status
    assert r.observed == pytest.approx((20 - fails) / 20)


def test_attestation_assertion_without_runs_is_no_data(tmp_path: Path) -> None:
    r = run(tmp_path, T(**ATT), {"assertion_results": ("assertion_results", results(0, a2_runs=0))})
    assert r.status == "no-data" and "a2" in r.reason


# --------------------------------------------------------------------------- lineage


LIN = {
    "kind": "lineage",
    "included": [
        {"source": "apps", "refresh_cadence": "PT1H"},
        {"source": "bureau", "refresh_cadence": "P1D"},
    ],
    "excluded": [{"source": "clicks", "reason": "proxy"}],
}


def manifest(*rows: tuple[str, float]) -> str:
    return "source,refreshed_at\n" + "".join(f"{s},{ts(h)}\n" for s, h in rows)


@pytest.mark.parametrize(
    ("rows", "status", "words"),
    [
        ((("apps", 0.5), ("bureau", 20)), "pass", ""),
        ((("apps", 1.5), ("bureau", 20)), "fail", "apps: last refreshed"),
        ((("apps", 0.5), ("bureau", 25)), "fail", "bureau: last refreshed"),
        ((("apps", 0.5),), "fail", "bureau: never refreshed"),
        ((("apps", 0.5), ("bureau", 2), ("clicks", 3)), "fail", "clicks: excluded source"),
        ((("apps", 0.5), ("bureau", 2), ("crm", 3)), "fail", "crm: source not in"),
    ],
)
def test_lineage(tmp_path: Path, rows, status: str, words: str) -> None:  # type: ignore[no-untyped-def]
    r = run(tmp_path, T(**LIN), {"lineage_manifest": ("lineage_manifest", manifest(*rows))})
    assert r.status == status
    assert words in r.reason


def test_lineage_empty_is_no_data(tmp_path: Path) -> None:
    r = run(tmp_path, T(**LIN), {"lineage_manifest": ("lineage_manifest", "source,refreshed_at\n")})
    assert r.status == "no-data"


# --------------------------------------------------------------------------- custom SQL


def sql_term(query: str, **fields):  # type: ignore[no-untyped-def]
    return T(kind="sql", query=query, views=["custom"], **{"fail": 10, "warn": 5, **fields})


CUSTOM = {"custom": ("custom", "x\n1\n2\n3\n4\n5\n6\n")}


@pytest.mark.parametrize(
    ("query", "direction", "status"),
    [
        ("SELECT count(*) AS value FROM custom", "at_most", "warn"),
        ("SELECT count(*) - 2 AS value FROM custom", "at_most", "pass"),
        ("SELECT count(*) * 2 AS value FROM custom", "at_most", "fail"),
        ("SELECT count(*) AS value FROM custom", "at_least", "pass"),
        ("SELECT count(*) - 2 AS value FROM custom", "at_least", "fail"),
    ],
)
def test_custom_sql_both_directions(
    tmp_path: Path, query: str, direction: str, status: str
) -> None:
    fields = {"fail": 10, "warn": 5} if direction == "at_most" else {"fail": 5, "warn": 6}
    r = run(tmp_path, sql_term(query, direction=direction, **fields), CUSTOM)
    assert r.status == status and r.sql == query


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("SELECT count(*) AS n FROM custom", "error"),
        ("SELECT x AS value FROM custom", "error"),
        ("SELECT NULL AS value", "error"),  # NULL measures nothing: never a pass (issue 13)
        ("SELECT 'abc' AS value", "error"),
    ],
)
def test_custom_sql_shape(tmp_path: Path, query: str, status: str) -> None:
    assert run(tmp_path, sql_term(query), CUSTOM).status == status


def test_custom_sql_goes_through_the_guard(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n", encoding="utf-8")
    for query in (
        f"SELECT count(*) AS value FROM read_csv('{secret}')",
        f"SELECT count(*) AS value FROM '{secret}'",
        "COPY (SELECT 1) TO 'out.csv'",
        "ATTACH 'x.db' AS x",
    ):
        with pytest.raises(SqlRefused):
            run(tmp_path, sql_term(query), CUSTOM)
    with pytest.raises(QueryFailed):
        run(tmp_path, sql_term("SELECT count(*) AS value FROM group_counts"), CUSTOM)


def test_needs_names_views_after_kinds() -> None:
    assert [n.view for n in needs(T(**SHIFT))] == ["score_samples", "reference"]
    assert [n.kind for n in needs(sql_term("SELECT 1 AS value"))] == ["custom"]
