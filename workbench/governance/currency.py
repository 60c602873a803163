"""Whether a term's latest finding still speaks for it at `now` (pure: data in, verdict out).

`workbench evaluate` writes findings; the gate, `status`, the seam map and `violations`
read them later, at another `now`. A finding is the **current finding** of its term only
when all of these hold at `now`:

1. it is the term's latest committed finding (there is one: the term was evaluated);
2. it was made against the contract's current bytes (`contract_sha256`);
3. evaluating at `now` would read the same evidence: for every view the snapshot that
   selection picks at `now` is the one the finding used (none was added, removed or
   re-registered since);
4. that live evidence is within the term's evidence window (`evidence_max_age` of the
   term, else ``[defaults] evidence_max_age``) at `now`. Reference snapshots are fixed
   baselines and do not age.

A term without a current finding is **not current**: the gate fails it with the reason
(`fails_at_now`). The gate never runs DuckDB itself; CI runs ``workbench evaluate`` and
then ``workbench gate`` (docs/evidence.md, "Judging terms at now").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from workbench.model.duration import Duration

State = Literal[
    "current",
    "not-evaluated",
    "contract-changed",
    "evidence-missing",
    "evidence-changed",
    "stale",
]
# Finding statuses that are violations (the evidence room's VIOLATING; repeated as plain
# data because this layer imports nothing from the evidence room).
VIOLATING_STATUSES = frozenset({"fail", "no-data", "error"})


@dataclass(frozen=True)
class EvidenceAt:
    """The snapshot that evaluating at `now` would read for one view of a term."""

    view: str
    id: str
    sha256: str
    kind: str
    captured_at: datetime
    role: str = "live"  # "live" | "reference"


@dataclass(frozen=True)
class TermAt:
    """One term judged at `now`: is its latest finding current, and if not, why."""

    contract: str
    term: str
    state: State
    reason: str
    status: str | None = None  # the latest finding's status; None: never evaluated
    run: str | None = None  # the run of the latest finding
    run_time: datetime | None = None

    @property
    def current(self) -> bool:
        return self.state == "current"

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "term": self.term,
            "state": self.state,
            "current": self.current,
            "reason": self.reason,
            "status": self.status,
            "run": self.run,
            "run_time": _iso(self.run_time),
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def term_at(
    contract: str,
    term: str,
    *,
    finding: Mapping[str, Any] | None,
    run: str | None,
    run_time: datetime | None,
    contract_sha256: str,
    selected: Mapping[str, EvidenceAt | None],
    max_age: Duration,
    now: datetime,
) -> TermAt:
    """Judge `term`'s latest `finding` (from run `run` at `run_time`) at `now`.

    `selected`: per view the term reads, the snapshot selection picks at `now` (None: no
    snapshot of that kind is registered for the term at `now`), as `evaluate` would.
    """
    if finding is None:
        return TermAt(
            contract, term, "not-evaluated", "never evaluated: no finding for this term yet"
        )
    status = str(finding.get("status"))
    last = f"last run {_day(run_time)}"

    def verdict(state: State, reason: str) -> TermAt:
        return TermAt(contract, term, state, reason, status, run, run_time)

    if finding.get("contract_sha256") != contract_sha256:
        return verdict("contract-changed", f"contract changed since the last evaluation ({last})")
    used = {str(s.get("view")): s for s in finding.get("snapshots") or [] if isinstance(s, Mapping)}
    for view, now_snap in sorted(selected.items()):
        before = used.get(view)
        if now_snap is None:
            if before is not None:
                return verdict(
                    "evidence-missing",
                    f"no {before.get('kind') or view} evidence at now: snapshot "
                    f"{before.get('id')} of the last evaluation is no longer registered ({last})",
                )
            continue
        if (
            before is None
            or before.get("id") != now_snap.id
            or before.get("sha256") != (now_snap.sha256)
        ):
            was = f"the last run used {before.get('id')}" if before else "the last run had none"
            return verdict(
                "evidence-changed",
                f"evidence changed since the last evaluation: {view} is now {now_snap.id} "
                f"captured {_day(now_snap.captured_at)} ({was}; {last})",
            )
    live = [s for s in selected.values() if s is not None and s.role != "reference"]
    if live:
        oldest = min(s.captured_at for s in live)
        if max_age.add_to(oldest) < now:
            return verdict(
                "stale",
                f"no evidence within {max_age.human()}: latest evidence captured "
                f"{_day(oldest)} ({last})",
            )
    elif (
        run_time is not None
        and max_age.add_to(run_time) < now
        and status not in (VIOLATING_STATUSES)
    ):
        # A passing finding without live evidence (should not happen): its run ages instead.
        return verdict("stale", f"no finding within {max_age.human()} ({last})")
    return verdict("current", f"current finding: {status} ({last})")


def fails_at_now(t: TermAt, violation_state: str | None) -> bool:
    """Whether a term that is not current fails the gate.

    `violation_state`: the state of the term's latest violation (open / exempt /
    resolved / recovered), None when it has none. Evaluating stale evidence at now gives
    `no-data`, which continues a violating episode: so stale evidence under an active
    exemption of that episode stays exempt. Everything else that is not current fails:
    an exemption accepts a recorded violation, never a term nobody evaluated.
    """
    if t.current:
        return False
    return not (
        t.state == "stale" and t.status in VIOLATING_STATUSES and violation_state == "exempt"
    )


def latest_findings(
    runs: list[Mapping[str, Any]],
) -> dict[tuple[str, str], tuple[Mapping[str, Any], str, datetime | None]]:
    """Per (contract, term): its latest finding, with that run's id and time."""
    out: dict[tuple[str, str], tuple[Mapping[str, Any], str, datetime | None]] = {}
    for run in sorted(runs, key=lambda r: (str(r.get("time")), str(r.get("run")))):
        when = _parse(run.get("time"))
        for f in run.get("findings") or []:
            out[(str(f.get("contract")), str(f.get("term")))] = (f, str(run.get("run")), when)
    return out
