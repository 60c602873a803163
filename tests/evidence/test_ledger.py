"""The violation ledger: the gate reads the head runs only; two clones' heads fold together;
a ledger carried run to run equals folding the whole history."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXED_NOW, copy_demo
from workbench.evidence.findings import Closure, Fold, violation_history
from workbench.evidence.ledger import (
    fold_from,
    ledger_path,
    ledger_problem,
    parse_ledger,
    render_ledger,
)
from workbench.evidence.run_chain import statement_path
from workbench.service.core import Workbench
from workbench.service.runs import RunBook

CI = "ci.pipeline"
CLAIMS2 = "claims-agent-to-claims-product"
THRESHOLD = "auto-settle-threshold"


def gate(repo: Path, at: datetime = FIXED_NOW) -> list[tuple[str, str, str, str]]:
    result = Workbench(repo, now=at).obligations.gate.evaluate()
    return [(c.contract, c.rule, c.outcome, c.message) for c in result.checks]


def run_ids(repo: Path) -> list[str]:
    return sorted(p.stem for p in (repo / "findings").glob("*.json"))


# --------------------------------------------------------------------------- head runs only


def test_gate_reads_only_head_runs(demo_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = gate(demo_repo)
    *old, head = run_ids(demo_repo)
    assert old, "the demo has a history of runs"
    # Every earlier run's findings and ledger are now garbage in the working tree: a reader
    # that opened them would fail or answer differently.
    for run in old:
        (demo_repo / f"findings/{run}.json").write_bytes(b"{ not json")
        (demo_repo / ledger_path(run)).write_bytes(b"{ not json")
    opened: list[str] = []
    read = RunBook._read

    def spy(self: RunBook, path: str, limit: int | None = None) -> bytes | None:
        opened.append(path)
        return read(self, path, limit)

    monkeypatch.setattr(RunBook, "_read", spy)
    assert gate(demo_repo) == before
    big = {p for p in opened if not p.endswith((".statement.json", ".sig"))}
    assert big == {f"findings/{head}.json", ledger_path(head)}, big
    current = Workbench(demo_repo, now=FIXED_NOW).evidence.current()
    assert current.source == "ledger" and not current.problems
    # The history does read them, and says which changed after they were signed.
    svc = Workbench(demo_repo, now=FIXED_NOW).evidence
    assert [r["run"] for r in svc.runs()] == [head]
    assert all("does not match its signed statement" in p for p in svc.book.problems)
    assert len(svc.book.problems) == len(old)


# --------------------------------------------------------------------------- two clones


def _git(repo: Path, *args: str, when: datetime) -> None:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_AUTHOR_NAME": "CI",
        "GIT_AUTHOR_EMAIL": "ci.pipeline@meridian.example",
        "GIT_COMMITTER_NAME": "CI",
        "GIT_COMMITTER_EMAIL": "ci.pipeline@meridian.example",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def test_two_heads_from_two_clones_fold_together(demo_template: Path, tmp_path: Path) -> None:
    a = copy_demo(demo_template, tmp_path / "a")
    b = copy_demo(demo_template, tmp_path / "b")
    # Clone A: someone moves the auto-settle threshold without its co-signature; CI runs.
    t1, t2, t3 = (FIXED_NOW + timedelta(hours=h) for h in (1, 2, 3))
    moved = tmp_path / "moved.csv"
    moved.write_text(
        "name,value,changed_at,changed_by,cosigned_by\n"
        f"auto_settle_min_confidence,0.8,{(t1 - timedelta(minutes=30)):%Y-%m-%d %H:%M:%S},"
        "ben.carter,\n",
        encoding="utf-8",
    )
    Workbench(a, now=t1, actor="noah.kim").evidence.add(  # the provider side exports it
        moved, "threshold_config", contract=CLAIMS2, term=THRESHOLD, captured_at=t1
    )
    run_a = Workbench(a, now=t1, actor=CI).evidence.evaluate()
    assert any(f["term"] == THRESHOLD and f["status"] == "fail" for f in run_a.findings)
    # Clone B, in parallel, never saw that evidence: its run passes the term.
    run_b = Workbench(b, now=t2, actor=CI).evidence.evaluate()
    assert any(f["term"] == THRESHOLD and f["status"] == "pass" for f in run_b.findings)
    # B is merged into A.
    _git(a, "fetch", str(b), "HEAD", when=t2 + timedelta(minutes=20))
    _git(a, "merge", "--no-edit", "FETCH_HEAD", when=t2 + timedelta(minutes=20))
    at = t2 + timedelta(minutes=30)
    svc = Workbench(a, now=at).evidence
    chain = svc.book.chain()
    assert chain.heads == sorted([run_a.run_id, run_b.run_id]) and not chain.rejected
    current = svc.current()
    # A's ledger, with B's one run folded on top, in time order.
    assert current.source == "ledger and 1 run(s)" and not current.problems
    full = svc.violations.find()  # the whole history, every run folded from scratch
    opened = [v for v in full if v.term == THRESHOLD and v.opened_run == run_a.run_id]
    assert [v.state for v in opened] == ["recovered"]  # opened in A, ended by B's pass
    assert {v.id: v.state for v in full if v.is_open} == {
        v.id: v.state for v in current.violations if v.is_open
    }
    by_term = {(v.contract, v.term): v for v in full}
    for v in current.violations:
        w = by_term.get((v.contract, v.term))
        if v.is_open and w is not None:
            assert (v.count, v.worst_status, v.status) == (len(w.points), w.worst_status, w.status)
    latest = {k: (rid, f["status"]) for k, (f, rid, _t) in current.latest.items()}
    assert latest[(CLAIMS2, THRESHOLD)] == (run_b.run_id, "pass")
    # The next run folds both heads and names both as previous: one head again.
    run_c = Workbench(a, now=t3, actor=CI).evidence.evaluate()
    after = Workbench(a, now=t3).evidence
    assert after.book.chain().heads == [run_c.run_id]
    statement = (a / statement_path(run_c.run_id)).read_text(encoding="utf-8")
    assert run_a.run_id in statement and run_b.run_id in statement
    assert after.current().source == "ledger"
    check = after.book.verify()
    assert check.ok, check.problems
    # A's evidence is still there: the term fails again, as a new violation.
    [v] = [v for v in after.open_now(CLAIMS2) if v.term == THRESHOLD]
    assert v.opened_run == run_c.run_id


# --------------------------------------------------------------------------- the property

T0 = datetime(2026, 11, 1, tzinfo=UTC)
TERMS = [("c1", "t1"), ("c1", "t2"), ("c2", "t1")]
STATUSES = ["pass", "warn", "fail", "no-data", "error"]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    runs = []
    for i in range(draw(st.integers(1, 14))):
        t = T0 + timedelta(hours=i)
        keys = draw(st.lists(st.sampled_from(TERMS), unique=True, min_size=1))  # scoped runs too
        findings = [
            {
                "contract": c,
                "term": term,
                "status": draw(st.sampled_from(STATUSES)),
                "observed": float(i),
                "contract_sha256": "ab" * 32,
                "snapshots": [],
                "kind": "sql",
                "title": term,
                "owner": {"id": "owner"},
                "sql": "SELECT 1",
            }
            for c, term in sorted(keys)
        ]
        runs.append({"run": f"{t:%Y%m%dT%H%M%SZ}-{i:010x}", "time": _iso(t), "findings": findings})
    # Resolutions: (which episode of the unresolved history, minutes after T0).
    res = draw(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 60 * 15)), max_size=4))
    return runs, res


def _closures(runs: list[dict[str, Any]], res: list[tuple[int, int]]) -> list[Closure]:
    episodes = violation_history(runs, [], {}, date(2026, 12, 1))
    out = []
    for index, minutes in res:
        if episodes:
            v = episodes[index % len(episodes)]
            out.append(
                Closure(v.id, v.contract, v.term, "resolved", "x", T0 + timedelta(minutes=minutes))
            )
    return out


def _resolved_at(closures: list[Closure]):  # type: ignore[no-untyped-def]
    def at(v: Any) -> datetime | None:
        times = [c.closed_at for c in closures if c.violation == v.id]
        return min(times) if times else None

    return at


def _state(fold: Fold) -> tuple[Any, ...]:
    latest = {k: (rid, f["status"]) for k, (f, rid, _t) in fold.latest.items()}
    current = {
        k: (v.id, v.opened_run, v.count, v.worst_status, v.status) for k, v in fold.current.items()
    }
    return latest, current


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_ledger_matches_full_refold(
    case: tuple[list[dict[str, Any]], list[tuple[int, int]]],
) -> None:
    runs, res = case
    closures = _closures(runs, res)
    data: bytes | None = None
    for k, run in enumerate(runs):
        # The writer of run k knows the resolutions recorded by then.
        known = [c for c in closures if c.closed_at <= datetime.fromisoformat(run["time"])]
        resolved = _resolved_at(known)
        named = {c.violation for c in known}
        if data is None:
            fold, unknown = Fold(), set()
        else:
            ledger = parse_ledger(data)
            fold, unknown = fold_from(ledger), set(ledger.unknown)
            if ledger_problem(fold, unknown, named, resolved) is not None:
                fold, unknown = Fold(), set()  # the writer folds the history instead
                for earlier in runs[:k]:
                    fold.add_run(earlier, resolved)
        fold.add_run(run, resolved)
        keep = named & set(fold.episodes)
        data = render_ledger(
            run["run"],
            datetime.fromisoformat(run["time"]),
            fold,
            keep,
            (unknown | named) - set(fold.episodes),
            {},
        )
    assert data is not None
    # The reader, with every resolution: the ledger either says it cannot answer, or it
    # answers exactly what folding the whole history answers.
    ledger = parse_ledger(data)
    carried = fold_from(ledger)
    resolved = _resolved_at(closures)
    named = {c.violation for c in closures}
    problem = ledger_problem(carried, set(ledger.unknown), named, resolved)
    full = Fold()
    for run in runs:
        full.add_run(run, resolved)
    if not closures:
        assert problem is None  # without closures a ledger always answers
    if problem is None:
        assert _state(carried) == _state(full)
        for v in carried.episodes.values():
            w = full.episodes[v.id]
            assert (v.opened_run, v.count, v.worst_status, v.status) == (
                w.opened_run,
                w.count,
                w.worst_status,
                w.status,
            )


def test_ledger_with_resolutions_known_to_its_writer_needs_no_history() -> None:
    t = [T0 + timedelta(hours=i) for i in range(4)]
    runs = [
        {
            "run": f"{when:%Y%m%dT%H%M%SZ}-{i:010x}",
            "time": _iso(when),
            "findings": [{"contract": "c", "term": "t", "status": "fail", "observed": 1.0}],
        }
        for i, when in enumerate(t)
    ]
    first = violation_history(runs[:1], [], {}, date(2026, 12, 1))[0]
    closure = Closure(first.id, "c", "t", "resolved", "x", t[1] + timedelta(minutes=5))
    resolved = _resolved_at([closure])
    fold = Fold()
    for run in runs[:3]:
        fold.add_run(run, resolved)
    data = render_ledger(runs[2]["run"], t[2], fold, {first.id}, set(), {})
    carried = fold_from(parse_ledger(data))
    assert ledger_problem(carried, set(), {first.id}, resolved) is None
    carried.add_run(runs[3], resolved)
    full = Fold()
    for run in runs:
        full.add_run(run, resolved)
    assert _state(carried) == _state(full)
    # split at the run after the resolution: the first episode ended, a second one opened
    assert carried.episodes[first.id].popped_at == t[2] and len(full.episodes) == 2


# --------------------------------------------------------------------------- migration


def test_runs_of_earlier_versions_are_folded_once_by_the_first_signed_run(
    demo_repo: Path,
) -> None:
    before = Workbench(demo_repo, now=FIXED_NOW).evidence
    open_before = sorted(v.id for v in before.open_now())
    assert open_before
    # The repository as earlier versions left it: findings files only, no statements, ever
    # (deleting them in a new commit would be a rollback: `test_attack_findings`).
    subprocess.run(
        ["git", "filter-branch", "-f", "--index-filter",
         "git rm -r -q --cached --ignore-unmatch findings/runs", "HEAD"],
        cwd=demo_repo, check=True, capture_output=True,
        env={**os.environ, "FILTER_BRANCH_SQUELCH_WARNING": "1"},
    )  # fmt: skip
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=demo_repo, check=True)
    old = Workbench(demo_repo, now=FIXED_NOW).evidence
    assert old.book.chain().heads == [] and len(old.book.chain().unsigned_legacy) == 3
    stale = [t for t in old.terms_at_now() if t.state == "not-counted"]
    assert stale and all("is not signed" in t.reason for t in stale)
    # The CI identity's first signed run folds them once: same violations, same ids.
    at = FIXED_NOW + timedelta(hours=1)
    run = Workbench(demo_repo, now=at, actor=CI).evidence.evaluate()
    ledger = parse_ledger((demo_repo / ledger_path(run.run_id)).read_bytes())
    assert sorted(ledger.legacy) == run_ids(demo_repo)[:-1]
    after = Workbench(demo_repo, now=at).evidence
    chain = after.book.chain()
    assert chain.heads == [run.run_id] and len(chain.legacy) == 3 and not chain.rejected
    assert sorted(v.id for v in after.open_now()) == open_before
    assert len(after.runs()) == 4 and after.book.verify().ok
