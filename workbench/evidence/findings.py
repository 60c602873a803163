"""Findings files, closures and the violation history (pure: data in, data out).

* One immutable findings file per evaluation run: ``findings/<run-id>.json``. Its bytes
  are a function of the inputs only (sorted keys, fixed indentation, rounded floats), and
  the run id is derived from those inputs, so re-running on the same inputs reproduces
  the same file.
* ``findings/closures.toml``: conscious closures (resolved with a note, or exempt with
  reason, approver and expiry), rendered deterministically.
* `violation_history` folds all runs, closures and contract exemptions into violations.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeGuard, cast

from workbench.evidence.checks import SEVERITY, VIOLATING
from workbench.evidence.errors import EvidenceError
from workbench.model.findings import Finding, Run

FINDINGS_DIR = "findings"
CLOSURES_PATH = "findings/closures.toml"
FORMAT = "handshake-workbench/findings@1"
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{10}$")
PAGE_TEST = "page-test"


class FindingsError(EvidenceError):
    """A findings or closures file cannot be read."""


def findings_path(run_id: str) -> str:
    return f"{FINDINGS_DIR}/{run_id}.json"


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def make_run_id(now: datetime, inputs: dict[str, Any]) -> str:
    digest = hashlib.sha256(canonical(inputs)).hexdigest()[:10]
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{digest}"


def render_run(run: Run) -> bytes:
    # = json.dumps(run, sort_keys=True, ensure_ascii=False, indent=1), about twice as fast
    from workbench.evidence.indent_json import dumps_indent1

    return (dumps_indent1(run) + "\n").encode("utf-8")


def parse_run(data: bytes, name: str = "findings") -> Run:
    try:
        run = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FindingsError(f"{name}: not a findings file ({exc})") from None
    if not isinstance(run, dict) or run.get("format") != FORMAT:
        raise FindingsError(f"{name}: not a findings file (format {FORMAT!r} expected)")
    if not _is_run(run):
        raise FindingsError(f"{name}: {_run_problem(run)}")
    return run


def _is_run(doc: dict[str, Any]) -> TypeGuard[Run]:
    """Whether `doc` has every key a reader indexes, with its type: the run's id and time,
    and each finding's contract, term and status. The other keys of a run and a finding
    (model/findings.py) are read with ``.get``, as a hostile file may omit them."""
    return _run_problem(doc) is None


def _run_problem(doc: dict[str, Any]) -> str | None:
    if not isinstance(doc.get("run"), str):
        return "run must be a string"
    try:
        parse_time(doc["time"])
    except (KeyError, TypeError, AttributeError, ValueError):
        return f"time must be a date-time such as 2026-11-27T09:00:00Z, got {doc.get('time')!r}"
    findings = doc.get("findings")
    if not isinstance(findings, list):
        return "findings must be a list"
    for i, f in enumerate(findings):
        if not isinstance(f, dict):
            return f"findings[{i}] must be an object"
        for key in ("contract", "term", "status"):
            if not isinstance(f.get(key), str):
                return f"findings[{i}]: {key} must be a string"
    return None


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --------------------------------------------------------------------------- closures


@dataclass(frozen=True)
class Closure:
    violation: str
    contract: str
    term: str
    action: str  # "resolved" | "exempt"
    closed_by: str
    closed_at: datetime
    note: str = ""
    reason: str = ""
    approver: str | None = None
    expires: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "violation": self.violation,
            "contract": self.contract,
            "term": self.term,
            "action": self.action,
            "closed_by": self.closed_by,
            "closed_at": self.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "note": self.note,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat() if self.expires else None,
        }


_CLOSURE_FIELDS = (
    "violation",
    "contract",
    "term",
    "action",
    "closed_by",
    "closed_at",
    "note",
    "reason",
    "approver",
    "expires",
)


def parse_closures(text: str) -> list[Closure]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FindingsError(f"{CLOSURES_PATH}: not valid TOML: {exc}") from None
    out = []
    for i, t in enumerate(data.get("closure", [])):
        try:
            closed_at = t["closed_at"]
            if isinstance(closed_at, str):
                closed_at = parse_time(closed_at)
            expires = t.get("expires")
            if isinstance(expires, str):
                expires = date.fromisoformat(expires)
            action = t["action"]
            if action not in ("resolved", "exempt"):
                raise ValueError(f"action {action!r} must be 'resolved' or 'exempt'")
            out.append(
                Closure(
                    violation=str(t["violation"]),
                    contract=str(t["contract"]),
                    term=str(t["term"]),
                    action=action,
                    closed_by=str(t["closed_by"]),
                    closed_at=closed_at.astimezone(UTC),
                    note=str(t.get("note", "")),
                    reason=str(t.get("reason", "")),
                    approver=t.get("approver"),
                    expires=expires,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FindingsError(f"{CLOSURES_PATH}: closure[{i}] is invalid: {exc}") from None
    return out


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_closures(closures: list[Closure]) -> str:
    lines = [
        "# Conscious closures of violations: resolved (with a note) or exempt (reason,",
        "# approver, expiry). Written by workbench; one [[closure]] per act, oldest first.",
    ]
    for c in sorted(closures, key=lambda c: (c.closed_at, c.violation)):
        lines.append("")
        lines.append("[[closure]]")
        for name in _CLOSURE_FIELDS:
            value = getattr(c, name)
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                lines.append(f"{name} = {value.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")
            elif isinstance(value, date):
                lines.append(f"{name} = {value.isoformat()}")
            else:
                lines.append(f"{name} = {_toml_str(str(value))}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- history


@dataclass
class Point:
    """One run's result for one term: a dot on the status timeline / sparkline."""

    run: str
    time: datetime
    status: str
    observed: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "status": self.status,
            "observed": self.observed,
        }


def _no_finding() -> Finding:
    """Until the fold (or a ledger) sets it: a finding with no keys, read with `.get`."""
    return cast(Finding, {})


@dataclass
class Violation:
    id: str
    contract: str
    term: str
    kind: str
    title: str
    opened_run: str
    opened_at: datetime
    points: list[Point] = field(default_factory=list)
    first: Finding = field(default_factory=_no_finding)  # the opening finding
    last: Finding = field(default_factory=_no_finding)  # the latest finding in the episode
    state: str = "open"  # open | recovered | resolved | exempt
    closure: Closure | None = None
    exemption: dict[str, Any] | None = None  # active or expired exemption
    exemption_expired: bool = False
    # Closure records about it that do not count (and why), or wait for an approval.
    notes: list[str] = field(default_factory=list)
    # Kept by the fold so a violation read from a ledger (docs/evidence.md, "The violation
    # ledger") answers without its every point: runs in the episode and the worst status.
    count: int = 0
    worst: str = ""
    # The run at which a counting resolution ended the episode (the fold split it there).
    popped_at: datetime | None = None

    @property
    def status(self) -> str:
        """Latest status seen in this violation's runs."""
        return self.points[-1].status

    @property
    def worst_status(self) -> str:
        if self.worst:
            return self.worst
        return max((p.status for p in self.points), key=lambda s: SEVERITY[s])

    @property
    def last_at(self) -> datetime:
        return self.points[-1].time

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def owner(self) -> Mapping[str, Any]:
        return self.first.get("owner") or {}

    @property
    def paged(self) -> Mapping[str, Any]:
        return self.first.get("paged") or {}

    def extend(self, point: Point, finding: Finding) -> None:
        """One more run of this episode."""
        self.points.append(point)
        self.last = finding
        self.count += 1
        if not self.worst or SEVERITY[point.status] > SEVERITY[self.worst]:
            self.worst = point.status

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "contract": self.contract,
            "term": self.term,
            "kind": self.kind,
            "title": self.title,
            "state": self.state,
            "status": self.status,
            "worst_status": self.worst_status,
            "opened_run": self.opened_run,
            "opened_at": self.opened_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_at": self.last_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "observed": self.last.get("observed"),
            "observed_text": self.last.get("observed_text"),
            "limit": self.last.get("limit"),
            "reason": self.last.get("reason"),
            "owner": self.owner,
            "paged": self.paged,
            "runs": [p.to_json() for p in self.points],
            "closure": self.closure.to_json() if self.closure else None,
            "exemption": self.exemption,
            "exemption_expired": self.exemption_expired,
            "notes": self.notes,
        }


def violation_id(contract: str, term: str, run_id: str) -> str:
    return "v-" + hashlib.sha256(f"{contract}\0{term}\0{run_id}".encode()).hexdigest()[:10]


def sorted_runs(runs: list[Run]) -> list[Run]:
    return sorted(runs, key=run_order)


def run_order(run: Run) -> tuple[Any, Any]:
    """Where a run goes among others, oldest first (`sorted_runs`; a stable sort)."""
    return (run["time"], run["run"])


def term_series(runs: list[Run]) -> dict[tuple[str, str], list[Point]]:
    """Every (contract, term) with its status/observed per run, oldest first."""
    series: dict[tuple[str, str], list[Point]] = {}
    for run in sorted_runs(runs):
        t = parse_time(run["time"])
        for f in run["findings"]:
            series.setdefault((f["contract"], f["term"]), []).append(
                Point(run["run"], t, f["status"], f.get("observed"))
            )
    return series


# When a violation's first counting resolution was made (None: none counts).
ResolvedAt = Callable[[Violation], datetime | None]


def _never(_v: Violation) -> datetime | None:
    return None


class Fold:
    """The violation history, one run at a time: the one fold behind `violation_history`
    and the ledger (`evidence.ledger`), so both give the same ids and states.

    An episode opens at the first violating run (fail / no-data / error) of a term and ends
    when a later run of the term is not violating, or - before that run is folded - when
    a counting resolution of it was made before the run (`resolved_at`). A violating run
    after that opens a new violation.
    """

    def __init__(self) -> None:
        self.episodes: dict[str, Violation] = {}  # by id, in the order they opened
        self.current: dict[tuple[str, str], Violation] = {}  # open episodes per term
        # Per term: its latest finding, the run it is in and that run's time.
        self.latest: dict[tuple[str, str], tuple[Finding, str, datetime]] = {}
        self.folded: list[str] = []  # run ids folded here (not those a ledger brought)
        # Per term: every episode that reached `fail`, id -> (opened, first fail): the term
        # reviews a failure opens (`triggers_review_of`). None: known for every term;
        # else the terms a ledger carried them for.
        self.failures: dict[tuple[str, str], dict[str, tuple[datetime, datetime]]] = {}
        self.failure_keys: frozenset[tuple[str, str]] | None = None

    def add_run(self, run: Run, resolved_at: ResolvedAt = _never) -> None:
        t = parse_time(run["time"])
        rid = run["run"]
        self.folded.append(rid)
        for f in run["findings"]:
            key = (f["contract"], f["term"])
            self.latest[key] = (f, rid, t)
            v = self.current.get(key)
            if v is not None:
                when = resolved_at(v)
                if when is not None and when < t:
                    self.current.pop(key)
                    v.popped_at = t
                    v = None
            point = Point(rid, t, f["status"], f.get("observed"))
            if f["status"] in VIOLATING:
                if v is None:
                    v = Violation(
                        id=violation_id(key[0], key[1], rid),
                        contract=key[0],
                        term=key[1],
                        kind=f.get("kind", ""),
                        title=f.get("title", ""),
                        opened_run=rid,
                        opened_at=t,
                        first=f,
                    )
                    self.current[key] = v
                    self.episodes[v.id] = v
                v.extend(point, f)
                if f["status"] == "fail":
                    self.failures.setdefault(key, {}).setdefault(v.id, (v.opened_at, t))
            elif v is not None:
                v.extend(point, f)
                self.current.pop(key)


def violation_history(
    runs: list[Run],
    closures: list[Closure],
    contract_exemptions: dict[tuple[str, str], list[dict[str, Any]]],
    today: date,
) -> list[Violation]:
    """Fold runs into violations (episodes of violating statuses per term).

    An episode opens at the first violating run (fail / no-data / error) of a term and
    ends when a later run of the term is not violating (state `recovered`) or when it is
    closed as resolved; a violating run after that opens a new violation. An exemption
    (a closure with `exempt`, or the contract's [[exemptions]]) keeps the episode
    `exempt` up to and including its expiry date; afterwards it is `open` again.
    """
    by_violation: dict[str, list[Closure]] = {}
    for c in closures:
        by_violation.setdefault(c.violation, []).append(c)

    def resolved_at(v: Violation) -> datetime | None:
        times = [c.closed_at for c in by_violation.get(v.id, []) if c.action == "resolved"]
        return min(times) if times else None

    fold = Fold()
    for run in sorted_runs(runs):
        fold.add_run(run, resolved_at)
    out = list(fold.episodes.values())
    for v in out:
        _settle(
            v, by_violation.get(v.id, []), contract_exemptions.get((v.contract, v.term), []), today
        )
    out.sort(key=lambda v: (v.opened_at, v.contract, v.term))
    return out


def _settle(
    v: Violation, closures: list[Closure], exemptions: list[dict[str, Any]], today: date
) -> None:
    resolved = [c for c in closures if c.action == "resolved"]
    if resolved:
        v.state, v.closure = "resolved", resolved[-1]
        return
    if v.last.get("status") not in VIOLATING:
        v.state = "recovered"
        return
    candidates: list[dict[str, Any]] = []
    for c in closures:
        if c.action == "exempt" and c.expires is not None:
            candidates.append(
                {
                    "source": "closure",
                    "reason": c.reason,
                    "approver": c.approver,
                    "expires": c.expires.isoformat(),
                    "closed_by": c.closed_by,
                }
            )
    for ex in exemptions:
        candidates.append({"source": "contract", **ex})
    active = [e for e in candidates if date.fromisoformat(e["expires"]) >= today]
    if active:
        v.state = "exempt"
        v.exemption = max(active, key=lambda e: e["expires"])
        if v.exemption["source"] == "closure":
            v.closure = next(c for c in closures if c.action == "exempt")
        return
    v.state = "open"
    if candidates:
        v.exemption = max(candidates, key=lambda e: e["expires"])
        v.exemption_expired = True
