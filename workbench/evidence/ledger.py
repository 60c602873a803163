"""The violation ledger: what is open now, carried from run to run (pure: bytes in, state out).

Every evaluation run writes, beside its findings, ``findings/runs/<run>.ledger.json``: the fold
of every run it builds on (`findings.Fold`) as it stands after this run:

* ``latest``: per (contract, term) its latest finding - the fields the current-finding rule
  reads (status, contract sha256, snapshots) with the run and its time;
* ``episodes``: every violation still open after this run, and every violation a closure
  record names (so closures are judged without the history), each with its opening and
  latest finding (without the SQL), its run count and worst status;
* ``unknown``: violation ids that closure records name and no run ever opened;
* ``failures``: for the terms that open term reviews (``triggers_review_of``), every episode
  that reached fail (its id, when it opened, its first fail);
* ``legacy``: runs written before runs were signed that this run folded once (migration),
  each with the sha256 of its bytes.

The gate, ``status`` and the seam map read the head runs' ledgers only (`workbench.service
.evidence`), never the history. Closures still apply at read time, on top: a resolution made
after an episode's last run simply marks it resolved. One made *inside* an episode's runs
that the ledger's writer had not seen would split the episode differently; `ledger_problem`
detects that (and a closure naming a violation the ledger does not carry), and the reader
then folds the whole history instead - slower, never different.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from workbench.evidence.checks import SEVERITY
from workbench.evidence.findings import (
    FINDINGS_DIR,
    FindingsError,
    Fold,
    Point,
    ResolvedAt,
    Violation,
    parse_time,
)
from workbench.model.findings import Finding

LEDGER_FORMAT = "handshake-workbench/ledger@1"
MAX_LEDGER_BYTES = 512 * 1024 * 1024
Key = tuple[str, str]

# The finding fields the current-finding rule (`governance.currency`) reads.
_LATEST_FIELDS = ("status", "contract_sha256", "snapshots")
# What a violation from a ledger keeps of its opening and latest finding: everything but
# the SQL (in the run file) and the detail rows, except the ones naming who changed what
# (`closures.caused_by` reads them).
_DROPPED = ("sql", "details")


def ledger_path(run_id: str) -> str:
    return f"{FINDINGS_DIR}/runs/{run_id}.ledger.json"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def trim_finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in finding.items() if k not in _DROPPED}
    details = [
        d for d in finding.get("details") or [] if isinstance(d, Mapping) and "changed_by" in d
    ]
    if details:
        out["details"] = details
    return out


@dataclass
class Ledger:
    """A parsed ledger file."""

    run: str
    time: datetime
    latest: dict[Key, tuple[Finding, str, datetime]] = field(default_factory=dict)
    episodes: list[Violation] = field(default_factory=list)
    open_ids: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()
    legacy: dict[str, str] = field(default_factory=dict)  # run -> sha256 of its file
    # Episodes that reached fail, for the terms whose failures open term reviews.
    failures: dict[Key, dict[str, tuple[datetime, datetime]]] = field(default_factory=dict)
    review_terms: frozenset[Key] = frozenset()


def render_ledger(
    run_id: str,
    time: datetime,
    fold: Fold,
    keep: Iterable[str],
    unknown: Iterable[str],
    legacy: Mapping[str, str],
    review_terms: Iterable[Key] = (),
) -> bytes:
    """The ledger after `fold` (which has just folded run `run_id`): every open episode,
    plus the episodes in `keep` (those closure records name), and every episode that
    reached fail of the `review_terms` (terms naming ``triggers_review_of``)."""
    open_ids = {v.id for v in fold.current.values()}
    wanted = open_ids | set(keep)
    episodes = []
    for v in fold.episodes.values():
        if v.id not in wanted:
            continue
        episodes.append(
            {
                "id": v.id,
                "contract": v.contract,
                "term": v.term,
                "kind": v.kind,
                "title": v.title,
                "opened_run": v.opened_run,
                "opened_at": _iso(v.opened_at),
                "runs": v.count,
                "worst": v.worst_status,
                "status": v.status,
                "last_run": v.points[-1].run,
                "last_at": _iso(v.last_at),
                "open": v.id in open_ids,
                "popped_at": _iso(v.popped_at) if v.popped_at else None,
                "first": trim_finding(v.first),
                "last": trim_finding(v.last),
            }
        )
    latest = [
        {
            "contract": key[0],
            "term": key[1],
            "run": rid,
            "time": _iso(when),
            **{k: f.get(k) for k in _LATEST_FIELDS},
        }
        for key, (f, rid, when) in sorted(fold.latest.items())
    ]
    doc = {
        "format": LEDGER_FORMAT,
        "run": run_id,
        "time": _iso(time),
        "latest": latest,
        "episodes": episodes,
        "unknown": sorted(set(unknown)),
        "legacy": [{"run": r, "sha256": d} for r, d in sorted(legacy.items())],
        "review_terms": [list(k) for k in sorted(set(review_terms))],
        "failures": [
            {
                "contract": key[0],
                "term": key[1],
                "id": vid,
                "opened_at": _iso(opened),
                "first_fail": _iso(first),
            }
            for key in sorted(set(review_terms))
            for vid, (opened, first) in sorted(fold.failures.get(key, {}).items())
        ],
    }
    return (
        json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode("utf-8")


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise FindingsError(f"{where}: {key} must be a non-empty string")
    return value


def _when(obj: Mapping[str, Any], key: str, where: str) -> datetime:
    try:
        return parse_time(_text(obj, key, where))
    except ValueError:
        raise FindingsError(f"{where}: {key} is not a UTC time") from None


def _dict(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise FindingsError(f"{where}: {key} must be an object")
    return value


def parse_ledger(data: bytes, name: str = "ledger") -> Ledger:
    """Strictly enough to never crash a reader: a malformed ledger is a FindingsError."""
    if len(data) > MAX_LEDGER_BYTES:
        raise FindingsError(f"{name}: over {MAX_LEDGER_BYTES} bytes")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FindingsError(f"{name}: not a ledger file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != LEDGER_FORMAT:
        raise FindingsError(f"{name}: not a ledger file (format {LEDGER_FORMAT!r} expected)")
    ledger = Ledger(_text(doc, "run", name), _when(doc, "time", name))
    for i, entry in enumerate(_list(doc, "latest", name)):
        where = f"{name}: latest[{i}]"
        if not isinstance(entry, dict):
            raise FindingsError(f"{where}: must be an object")
        key = (_text(entry, "contract", where), _text(entry, "term", where))
        if not isinstance(entry.get("status"), str) or entry["status"] not in SEVERITY:
            raise FindingsError(f"{where}: status must be one of {sorted(SEVERITY)}")
        kept = {k: entry.get(k) for k in _LATEST_FIELDS}
        kept.update(contract=key[0], term=key[1])
        # The fields of a finding the current-finding rule reads (the rest stay in the run).
        finding = cast(Finding, kept)
        ledger.latest[key] = (finding, _text(entry, "run", where), _when(entry, "time", where))
    open_ids = set()
    for i, entry in enumerate(_list(doc, "episodes", name)):
        where = f"{name}: episodes[{i}]"
        if not isinstance(entry, dict):
            raise FindingsError(f"{where}: must be an object")
        v = _episode(entry, where)
        ledger.episodes.append(v)
        if entry.get("open") is True:
            open_ids.add(v.id)
    ledger.open_ids = frozenset(open_ids)
    unknown = _list(doc, "unknown", name)
    if not all(isinstance(u, str) for u in unknown):
        raise FindingsError(f"{name}: unknown must list violation ids")
    ledger.unknown = frozenset(unknown)
    for i, entry in enumerate(_list(doc, "legacy", name)):
        where = f"{name}: legacy[{i}]"
        if not isinstance(entry, dict):
            raise FindingsError(f"{where}: must be an object")
        ledger.legacy[_text(entry, "run", where)] = _text(entry, "sha256", where)
    keys = doc.get("review_terms", [])
    if not isinstance(keys, list) or not all(
        isinstance(k, list) and len(k) == 2 and all(isinstance(x, str) for x in k) for k in keys
    ):
        raise FindingsError(f"{name}: review_terms must list [contract, term] pairs")
    ledger.review_terms = frozenset((k[0], k[1]) for k in keys)
    for i, entry in enumerate(doc.get("failures", [])):
        where = f"{name}: failures[{i}]"
        if not isinstance(entry, dict):
            raise FindingsError(f"{where}: must be an object")
        key = (_text(entry, "contract", where), _text(entry, "term", where))
        ledger.failures.setdefault(key, {})[_text(entry, "id", where)] = (
            _when(entry, "opened_at", where),
            _when(entry, "first_fail", where),
        )
    return ledger


def _list(doc: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list):
        raise FindingsError(f"{where}: {key} must be a list")
    return value


def _episode(entry: Mapping[str, Any], where: str) -> Violation:
    # A ledger keeps each episode's first and last finding as the runs recorded them.
    first = cast(Finding, _dict(entry, "first", where))
    last = cast(Finding, _dict(entry, "last", where))
    count = entry.get("runs")
    worst, status = entry.get("worst"), entry.get("status")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise FindingsError(f"{where}: runs must be a positive integer")
    if worst not in SEVERITY or status not in SEVERITY:
        raise FindingsError(f"{where}: worst and status must be finding statuses")
    opened_at = _when(entry, "opened_at", where)
    opened_run = _text(entry, "opened_run", where)
    popped = entry.get("popped_at")
    v = Violation(
        id=_text(entry, "id", where),
        contract=_text(entry, "contract", where),
        term=_text(entry, "term", where),
        kind=str(entry.get("kind", "")),
        title=str(entry.get("title", "")),
        opened_run=opened_run,
        opened_at=opened_at,
        first=first,
        last=last,
        count=count,
        worst=str(worst),
        popped_at=_when(entry, "popped_at", where) if popped is not None else None,
    )
    # The points in between live in the runs; a ledger keeps the first and the last.
    v.points.append(Point(opened_run, opened_at, str(first.get("status")), first.get("observed")))
    if count > 1:
        v.points.append(
            Point(
                _text(entry, "last_run", where),
                _when(entry, "last_at", where),
                str(status),
                last.get("observed"),
            )
        )
    elif str(first.get("status")) != status:
        raise FindingsError(f"{where}: one run, but two statuses")
    return v


def fold_from(ledger: Ledger) -> Fold:
    """A fold that continues from a ledger (its runs are not folded again)."""
    fold = Fold()
    fold.latest = dict(ledger.latest)
    fold.failures = {k: dict(v) for k, v in ledger.failures.items()}
    fold.failure_keys = ledger.review_terms
    for v in sorted(ledger.episodes, key=lambda v: (v.opened_at, v.contract, v.term)):
        fold.episodes[v.id] = v
        if v.id in ledger.open_ids:
            fold.current[(v.contract, v.term)] = v
    return fold


def ledger_problem(
    fold: Fold, unknown: Iterable[str], named: Iterable[str], resolved_at: ResolvedAt
) -> str | None:
    """Why `fold` (from ledgers, plus any runs folded on top) may differ from folding the
    whole history with the closures that count now, or None when it cannot.

    `named`: the violation ids closure records name; `resolved_at(v)`: when the first
    resolution of `v` that counts now was made. A ledger carries every episode a closure
    record named when it was written; it split an episode where the resolutions then
    counting said (``popped_at``). The fold would split the same way now when the first
    counting resolution of every carried episode lies in the same gap between its runs.
    """
    unknown = set(unknown)
    for vid in sorted(set(named)):
        if vid not in fold.episodes and vid not in unknown:
            return f"a closure record names {vid}, which the ledger does not carry"
    for v in fold.episodes.values():
        when = resolved_at(v)
        # Extended at its last run means no counting resolution before that run.
        checked = v.last_at if v.count > 1 else None
        if v.popped_at is not None:
            if when is None or when >= v.popped_at or (checked and when < checked):
                return f"the resolutions of {v.id} now split it elsewhere than the ledger"
        elif when is not None and checked is not None and when < checked:
            return f"a resolution of {v.id} made before its last run is not in the ledger"
    return None


def ledger_splits(ledger: Ledger) -> ResolvedAt:
    """The splits a ledger states, as `resolved_at` for re-folding the runs it covers: an
    episode it says was ended by a resolution ends at the same run again."""
    popped = {v.id: v.last_at for v in ledger.episodes if v.popped_at is not None}
    return lambda v: popped.get(v.id)


def compare_ledger(fold: Fold, ledger: Ledger) -> list[str]:
    """Where a stored ledger disagrees with `fold`, the re-fold of the runs it covers (the
    verifiers: ``workbench verify --findings`` and ``verify-bundle``)."""
    problems: list[str] = []
    name = ledger_path(ledger.run)
    mine = {k: (f.get("status"), rid) for k, (f, rid, _t) in fold.latest.items()}
    theirs = {k: (f.get("status"), rid) for k, (f, rid, _t) in ledger.latest.items()}
    for key in sorted(set(mine) | set(theirs)):
        if mine.get(key) != theirs.get(key):
            problems.append(
                f"{name}: {key[0]}/{key[1]}: the ledger says {_show(theirs.get(key))}, the runs "
                f"say {_show(mine.get(key))}"
            )
    for key in sorted(set(mine) & set(theirs)):
        a, b = fold.latest[key][0], ledger.latest[key][0]
        if any(a.get(k) != b.get(k) for k in _LATEST_FIELDS):
            problems.append(f"{name}: {key[0]}/{key[1]}: the latest finding differs from its run")
    open_now = {v.id for v in fold.current.values()}
    if open_now != set(ledger.open_ids):
        extra = sorted(set(ledger.open_ids) - open_now)
        missing = sorted(open_now - set(ledger.open_ids))
        problems.append(
            f"{name}: open violations differ from the runs"
            + (f"; not open in the runs: {', '.join(extra)}" if extra else "")
            + (f"; open in the runs but not in the ledger: {', '.join(missing)}" if missing else "")
        )
    for v in ledger.episodes:
        w = fold.episodes.get(v.id)
        if w is None:
            problems.append(f"{name}: {v.id} was never opened by the runs it covers")
            continue
        if (v.opened_run, v.count, v.worst_status, v.status, v.points[-1].run) != (
            w.opened_run,
            w.count,
            w.worst_status,
            w.status,
            w.points[-1].run,
        ):
            problems.append(f"{name}: {v.id} differs from the runs (runs, worst or latest status)")
    for key in sorted(ledger.review_terms):
        if fold.failures.get(key, {}) != ledger.failures.get(key, {}):
            problems.append(f"{name}: {key[0]}/{key[1]}: the failures that open reviews differ")
    for vid in sorted(ledger.unknown & set(fold.episodes)):
        problems.append(f"{name}: {vid} is listed as unknown but the runs opened it")
    return problems


def _show(value: tuple[Any, Any] | None) -> str:
    return "nothing" if value is None else f"{value[0]} (run {value[1]})"
