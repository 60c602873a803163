"""Demo evidence: snapshots that reproduce the article's two failures, and three evaluations.

Generated at demo-build time relative to `ctx.now` with a seeded RNG (same `now` → same
bytes), registered as signed records (`evidence/registrations/`) by the people who would
export them:

* the claims agent's policy data nine days stale: an endorsement entered in the
  `endorsements-sidecar` side system nine days before the capture never became
  retrievable (available_at NULL) → `policy-data-to-claims-agent / policy-freshness`
  fails against its 24-hour SLA;
* the loan decision threshold `decline_above_pd` moved from the co-signed 0.18 to 0.24 by
  product manager omar.haddad without ravi.iyer's co-signature →
  `credit-model-to-loan-decisioning / approval-threshold` fails;
* healthy terms that pass (freshness p95, representation, lineage, score range, shift
  against the `ev-score-reference` snapshot, assertion pass rates, custom SQL);
* one term with no data: `policy-data-to-claims-agent / policy-lineage`.

Evaluations run at now − 24 h, now − 12 h and now, so the violation history has a
timeline. `sample_files(now)` is also what `evidence/samples/` at the top of the source
checkout was generated from (see tests/evidence/test_demo_evidence.py).
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from workbench.evidence.manifest import Snapshot, snapshot_id, snapshot_relpath

if TYPE_CHECKING:
    from workbench.demo.build import DemoContext

SEED = 20261127
CREDIT = "credit-model-to-loan-decisioning"
APPLICANT = "applicant-data-to-credit-model"
FAIR = "loan-decisioning-to-fair-lending"
POLICY = "policy-data-to-claims-agent"
CLAIMS = "claims-agent-to-claims-product"
EVALUATOR = "ci.pipeline"  # the CI identity; its signed runs are the ones that count
REFERENCE_NAME = "ev-score-reference"


@dataclass(frozen=True)
class DemoSnapshot:
    label: str  # sample file name stem
    kind: str
    data: bytes
    captured_at: datetime
    registered_at: datetime
    registrant: str
    source: str
    contract: str | None
    term: str | None = None
    name: str | None = None


def _t(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _csv(header: list[str], rows: Sequence[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("utf-8")


def _floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


# --------------------------------------------------------------------------- generators


def policy_freshness(capture: datetime, now: datetime, rng: random.Random) -> bytes:
    rows: list[list[object]] = []
    t = capture - timedelta(days=7)
    while t < capture - timedelta(hours=1):
        avail = t + timedelta(minutes=rng.randint(30, 240))
        rows.append(["policy-admin", _t(t), _t(avail) if avail <= capture else None])
        t += timedelta(hours=3)
    # Endorsements entered in the side system the retrieval pipeline does not index:
    # the first one nine days before the latest capture, none ever became retrievable.
    stale_since = now - timedelta(days=9, hours=2)
    for offset in (timedelta(0), timedelta(days=3, hours=5), timedelta(days=6, hours=1)):
        updated = stale_since + offset
        if updated <= capture:
            rows.append(["endorsements-sidecar", _t(updated), None])
    rows.sort(key=lambda r: (str(r[1]), str(r[0])))
    return _csv(["source", "updated_at", "available_at"], rows)


def applicant_freshness(capture: datetime, rng: random.Random) -> bytes:
    rows: list[list[object]] = []
    t = capture - timedelta(days=3)
    while t < capture - timedelta(hours=2):
        rows.append(["loan-applications", _t(t), _t(t + timedelta(minutes=rng.randint(5, 120)))])
        t += timedelta(hours=1)
    day = (capture - timedelta(days=3)).replace(hour=2, minute=0)
    while day < capture - timedelta(hours=9):
        rows.append(
            ["credit-bureau-feed", _t(day), _t(day + timedelta(minutes=rng.randint(180, 480)))]
        )
        day += timedelta(days=1)
    # The bureau delivers daily at 02:00; today's batch is still in flight at the capture
    # (no available_at yet: it ages until it lands). Without it the feed's heartbeat (its
    # newest update, 28 h old) would fail the 24 h SLA.
    if day < capture:
        rows.append(["credit-bureau-feed", _t(day), None])
    rows.sort(key=lambda r: (str(r[1]), str(r[0])))
    return _csv(["source", "updated_at", "available_at"], rows)


def group_counts(capture: datetime, rng: random.Random) -> bytes:
    shares = {"18-25": 0.16, "26-40": 0.37, "41-60": 0.32, "61+": 0.15}
    total = 48_000 + rng.randint(-2000, 2000)
    rows = [
        ["age_band", g, int(total * (s + rng.uniform(-0.004, 0.004))), _t(capture)]
        for g, s in shares.items()
    ]
    return _csv(["attribute", "group", "count", "observed_at"], rows)


def applicant_lineage(capture: datetime, rng: random.Random) -> bytes:
    rows: list[list[object]] = []
    for h in range(5, -1, -1):
        rows.append(
            ["loan-applications", _t(capture - timedelta(hours=h, minutes=rng.randint(5, 50)))]
        )
    day = (capture - timedelta(days=2)).replace(hour=3, minute=10)
    while day <= capture:
        rows.append(["credit-bureau-feed", _t(day)])
        day += timedelta(days=1)
    rows.sort(key=lambda r: (str(r[1]), str(r[0])))
    return _csv(["source", "refreshed_at"], rows)


def scores(capture: datetime, rng: random.Random, mu: float, sigma: float, n: int = 3000) -> bytes:
    rows: list[list[object]] = []
    for i in range(n):
        at = capture - timedelta(seconds=int(86400 * (n - i) / n))
        score = math.exp(rng.gauss(math.log(mu), sigma))
        segment = "new" if rng.random() < 0.3 else "existing"
        rows.append([_t(at), f"{min(score, 0.999999):.6f}", segment])
    return _csv(["scored_at", "score", "segment"], rows)


def credit_thresholds(now: datetime) -> bytes:
    rows: list[list[object]] = [
        [
            "decline_above_pd",
            "0.2",
            _t(now - timedelta(days=175, hours=3)),
            "sofia.marquez",
            "ravi.iyer",
        ],
        [
            "decline_above_pd",
            "0.18",
            _t(now - timedelta(days=100, hours=5)),
            "sofia.marquez",
            "ravi.iyer",
        ],
        # Moved to hit a conversion target; the model lead never co-signed.
        [
            "decline_above_pd",
            "0.24",
            _t(now - timedelta(days=6, hours=4, minutes=12)),
            "omar.haddad",
            None,
        ],
    ]
    return _csv(["name", "value", "changed_at", "changed_by", "cosigned_by"], rows)


def claims_thresholds(now: datetime) -> bytes:
    rows = [
        [
            "auto_settle_min_confidence",
            "0.9",
            _t(now - timedelta(days=150)),
            "ben.carter",
            "aisha.rahman",
        ],
        [
            "auto_settle_min_confidence",
            "0.92",
            _t(now - timedelta(days=90, hours=2)),
            "ben.carter",
            "aisha.rahman",
        ],
    ]
    return _csv(["name", "value", "changed_at", "changed_by", "cosigned_by"], rows)


def assertion_runs(capture: datetime, assertions: list[tuple[str, str]], every: timedelta) -> bytes:
    rows: list[list[object]] = []
    t = capture - timedelta(days=8)
    while t <= capture:
        for aid, test in assertions:
            rows.append([aid, _t(t), "true", test])
        t += every
    return _csv(["assertion_id", "run_at", "passed", "test"], rows)


FAIR_ASSERTIONS = [
    (
        "no-protected-features",
        "tests/compliance/test_feature_manifest.py::test_no_protected_characteristics",
    ),
    (
        "adverse-action-reasons",
        "tests/compliance/test_adverse_action.py::test_reason_codes_present",
    ),
    ("four-fifths-rule", "tests/compliance/test_disparate_impact.py::test_four_fifths"),
]
CLAIMS_ASSERTIONS = [
    ("escalate-above-authority", "evals/claims/test_escalation.py::test_above_authority_limit"),
    ("cites-current-policy", "evals/claims/test_citations.py::test_policy_version_current"),
]


def demo_snapshots(now: datetime) -> list[DemoSnapshot]:
    """Every demo snapshot, deterministic for a given `now`: the standing ones (the score
    reference, the threshold configs), then yesterday's and today's of each daily series.
    One random stream in this order, so the same `now` gives the same bytes."""
    now = _floor(now)
    rng = random.Random(SEED)
    out = _standing_snapshots(now, rng)
    for day in (1, 0):
        out += _daily_snapshots(now, day, rng)
    return out


def _standing_snapshots(now: datetime, rng: random.Random) -> list[DemoSnapshot]:
    out: list[DemoSnapshot] = []
    ref_capture = now - timedelta(days=170)
    out.append(
        DemoSnapshot(
            "score_reference",
            "score_samples",
            scores(ref_capture, rng, 0.08, 0.70),
            ref_capture,
            now - timedelta(days=2),  # after the signing and obligations history
            "lena.fischer",
            "pd-v7 calibration sample (validation set, June)",
            CREDIT,
            "score-shift",
            REFERENCE_NAME,
        )
    )
    config_capture = now - timedelta(days=1, hours=1)
    out.append(
        DemoSnapshot(
            "threshold_config",
            "threshold_config",
            credit_thresholds(now),
            config_capture,
            config_capture + timedelta(minutes=20),
            # The consumer's own config service: its change log is exported by the CI
            # identity, as only the provider team or a runner may register evidence.
            EVALUATOR,
            "loan-decision config service: change log export (CI job)",
            CREDIT,
        )
    )
    out.append(
        DemoSnapshot(
            "claims_threshold_config",
            "threshold_config",
            claims_thresholds(now),
            config_capture,
            config_capture + timedelta(minutes=25),
            "noah.kim",
            "claims rules engine: threshold change log",
            CLAIMS,
        )
    )
    return out


def _daily_snapshots(now: datetime, day: int, rng: random.Random) -> list[DemoSnapshot]:
    base = now - timedelta(days=day)
    reg = base - timedelta(minutes=40)
    c = base - timedelta(hours=2)
    return [
        DemoSnapshot(
            f"policy_freshness_d{day}",
            "freshness_lags",
            policy_freshness(c, now, rng),
            c,
            reg,
            "yuki.tanaka",
            "retrieval-index ingest log (policy sources)",
            POLICY,
        ),
        DemoSnapshot(
            f"applicant_freshness_d{day}",
            "freshness_lags",
            applicant_freshness(base - timedelta(hours=3), rng),
            base - timedelta(hours=3),
            reg,
            "sam.ortiz",
            "feature store availability export",
            APPLICANT,
        ),
        DemoSnapshot(
            f"group_counts_d{day}",
            "group_counts",
            group_counts(c, rng),
            c,
            reg,
            "sam.ortiz",
            "training-window applicant counts by age band",
            APPLICANT,
        ),
        DemoSnapshot(
            f"lineage_d{day}",
            "lineage_manifest",
            applicant_lineage(c, rng),
            c,
            reg,
            "sam.ortiz",
            "feature pipeline lineage manifest",
            APPLICANT,
        ),
        DemoSnapshot(
            f"score_samples_d{day}",
            "score_samples",
            scores(c, rng, 0.083, 0.71),
            c,
            reg,
            "lena.fischer",
            "scoring service: 24 h score sample",
            CREDIT,
        ),
        DemoSnapshot(
            f"fair_lending_assertions_d{day}",
            "assertion_results",
            assertion_runs(base - timedelta(hours=1), FAIR_ASSERTIONS, timedelta(hours=1)),
            base - timedelta(hours=1),
            reg,
            "priya.nair",
            "compliance test runs (CI)",
            FAIR,
        ),
        DemoSnapshot(
            f"claims_assertions_d{day}",
            "assertion_results",
            assertion_runs(base - timedelta(hours=1), CLAIMS_ASSERTIONS, timedelta(hours=4)),
            base - timedelta(hours=1),
            reg,
            "noah.kim",
            "claims agent eval runs",
            CLAIMS,
        ),
    ]


def sample_files(now: datetime) -> dict[str, bytes]:
    """The latest snapshot of each demo series, by file name (for evidence/samples/)."""
    out: dict[str, bytes] = {}
    for snap in demo_snapshots(now):
        label = snap.label.removesuffix("_d0")
        if snap.label.endswith("_d1"):
            continue
        out[f"{label}.csv"] = snap.data
    return out


# --------------------------------------------------------------------------- the step


def add_evidence(ctx: DemoContext) -> None:
    from workbench.service.core import Workbench

    now = _floor(ctx.now)
    snaps = demo_snapshots(now)
    evaluations = [now - timedelta(days=1), now - timedelta(hours=12), ctx.now]
    # Group registrations into one commit per (time, person), interleaved with evaluations.
    batches: dict[tuple[datetime, str], list[DemoSnapshot]] = {}
    for s in snaps:
        batches.setdefault((s.registered_at, s.registrant), []).append(s)
    events: list[tuple[datetime, int, object]] = [
        (t, 0, k) for t, k in ((k[0], k) for k in batches)
    ]
    events += [(t, 1, None) for t in evaluations]
    for when, kind, key in sorted(events, key=lambda e: (e[0], e[1], str(e[2]))):
        if kind == 1:
            wb = Workbench(ctx.root, now=when, actor=EVALUATOR)
            wb.evidence.evaluate()
            continue
        batch = batches[key]  # type: ignore[index]
        person = key[1]  # type: ignore[index]
        changes: dict[str, bytes | None] = {}
        records: list[Snapshot] = []
        for s in batch:
            import hashlib

            digest = hashlib.sha256(s.data).hexdigest()
            sid = snapshot_id(digest)
            path = snapshot_relpath(sid, "csv")
            changes[path] = s.data
            records.append(
                Snapshot(
                    id=sid,
                    name=s.name,
                    kind=s.kind,
                    path=path,
                    sha256=digest,
                    size=len(s.data),
                    format="csv",
                    captured_at=s.captured_at,
                    source=s.source,
                    contract=s.contract,
                    term=s.term,
                )
            )
        kinds = ", ".join(sorted({s.kind for s in batch}))
        # Each registration is a record signed by the person who registers it
        # (docs/evidence.md, "Who may register evidence"), one commit per batch.
        Workbench(ctx.root, now=when, actor=person).evidence.registrations.write(
            records,
            f"Register evidence: {kinds}\n\n" + "\n".join(f"- {s.source}" for s in batch) + "\n",
            extra=changes,
        )
