"""Attacks on findings runs: a key holder flips a committed failing finding to pass, re-signs
it with their own key, adds an unsigned run, or records a backdated one. Real demo repo (its
runs are signed by the CI identity ci.pipeline), real keys, real signatures, ssh-keygen as
the oracle."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.signing.demo_helpers import key_path, raw_commit, signer
from workbench.cli.main import main
from workbench.evidence.findings import render_run
from workbench.evidence.ledger import ledger_path
from workbench.evidence.run_chain import run_sig_path, statement_path
from workbench.repo.git import GitRepo
from workbench.service.core import Workbench
from workbench.service.runs import RunNotRecorded
from workbench.signing.statement import (
    EVALUATION_PREDICATE,
    EvaluationPredicate,
    parse_statement,
    write_statements_bytes,
)

CLAIMS1 = "policy-data-to-claims-agent"
FRESHNESS = "policy-freshness"  # fails in the demo: the endorsements sidecar lags 9 days
MEMBER = "yuki.tanaka"  # an ordinary member: owns the failing term, has a registered key
CI = "ci.pipeline"
REVIEW_NS = "handshake-review-v1@meridian.example"


def cli(repo: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--repo", str(repo), "--now", FIXED_NOW.isoformat(), *args])
    return code, out.getvalue(), err.getvalue()


def gate_checks(repo: Path) -> dict[tuple[str, str], str]:
    result = Workbench(repo, now=FIXED_NOW).obligations.gate.evaluate()
    return {(c.contract, c.rule): f"{c.outcome}: {c.message}" for c in result.checks}


def latest_run(repo: Path) -> str:
    return sorted(p.stem for p in (repo / "findings").glob("*.json"))[-1]


def flipped(repo: Path, run: str) -> bytes:
    """The run with the failing freshness finding rewritten as a pass."""
    data = json.loads((repo / f"findings/{run}.json").read_bytes())
    for f in data["findings"]:
        if (f["contract"], f["term"]) == (CLAIMS1, FRESHNESS):
            assert f["status"] == "fail"
            f["status"], f["reason"] = "pass", "feed: max lag 1h"
            f.pop("paged", None)
    return render_run(data)


def open_violation(repo: Path) -> str:
    svc = Workbench(repo, now=FIXED_NOW).evidence
    [v] = [v for v in svc.open_now(CLAIMS1) if v.term == FRESHNESS]
    return v.id


def test_flipped_finding_in_committed_run_fails_gate(demo_repo: Path) -> None:
    vid = open_violation(demo_repo)
    assert "fail" in gate_checks(demo_repo)[(CLAIMS1, "violation_open")]
    run = latest_run(demo_repo)
    raw_commit(demo_repo, {f"findings/{run}.json": flipped(demo_repo, run)}, who=MEMBER)
    checks = gate_checks(demo_repo)
    message = checks[(CLAIMS1, "violation_open")]
    assert message.startswith("fail") and vid in message, message
    assert "does not match its signed statement" in message, message
    assert "does not count" in checks[(CLAIMS1, "records_valid")]
    # `violations` still shows it open (the flipped run is left out of the history)
    code, out, _err = cli(demo_repo, "violations", "--json")
    assert code == 1
    entries = json.loads(out)
    [v] = [e for e in entries if e.get("id") == vid]
    assert v["state"] == "open" and v["status"] == "fail"
    stale = [e for e in entries if e["state"] == "not-current" and e["term"] == FRESHNESS]
    assert stale and "does not count" in stale[0]["reason"]


def test_run_resigned_by_ordinary_member_does_not_count(demo_repo: Path) -> None:
    vid = open_violation(demo_repo)
    run = latest_run(demo_repo)
    data = flipped(demo_repo, run)
    # A full forgery: new findings, a ledger claiming nothing is open, a statement over both,
    # a genuine signature by the member's registered key; the runner's signature removed.
    ledger = json.loads((demo_repo / ledger_path(run)).read_bytes())
    ledger["episodes"] = []
    forged_ledger = (json.dumps(ledger, sort_keys=True, separators=(",", ":")) + "\n").encode()
    old = parse_statement((demo_repo / statement_path(run)).read_bytes(), EVALUATION_PREDICATE, 2)
    predicate = EvaluationPredicate(**{**old.predicate.model_dump(), "runner": MEMBER})
    statement = write_statements_bytes(
        EVALUATION_PREDICATE,
        [
            (f"findings/{run}.json", hashlib.sha256(data).hexdigest()),
            (ledger_path(run), hashlib.sha256(forged_ledger).hexdigest()),
        ],
        predicate,
    )
    sig = signer(demo_repo, MEMBER).sign(statement, REVIEW_NS)
    raw_commit(
        demo_repo,
        {
            f"findings/{run}.json": data,
            ledger_path(run): forged_ledger,
            statement_path(run): statement,
            run_sig_path(run, CI): None,
            run_sig_path(run, MEMBER): sig,
        },
        who=MEMBER,
    )
    # The oracle: the member's signature itself is genuine...
    (demo_repo.parent / "member.sig").write_bytes(sig)
    ok = subprocess.run(
        [
            "ssh-keygen", "-Y", "verify", "-f", str(demo_repo / "keys/allowed_signers"),
            "-I", f"{MEMBER}@meridian.example", "-n", REVIEW_NS,
            "-s", str(demo_repo.parent / "member.sig"),
        ],
        input=statement,
        capture_output=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    # ...but a member is not an authorised runner: the run does not count anywhere.
    message = gate_checks(demo_repo)[(CLAIMS1, "violation_open")]
    assert message.startswith("fail") and vid in message, message
    assert f"{MEMBER} is not an authorised evaluation runner" in message, message
    assert vid in [v.id for v in Workbench(demo_repo, now=FIXED_NOW).evidence.open_now()]
    code, out, _err = cli(demo_repo, "violations", "--open")
    assert code == 1 and vid in out
    assert cli(demo_repo, "verify", "--findings")[0] == 1


def test_run_by_authorised_ci_identity_counts(demo_repo: Path) -> None:
    svc = Workbench(demo_repo, now=FIXED_NOW).evidence
    current = svc.current()
    assert current.source == "ledger" and not current.rejected and not current.problems
    assert [t for t in svc.terms_at_now() if t.state == "not-counted"] == []
    # A new run by the CI identity is recorded, signed, and verifies with ssh-keygen.
    later = FIXED_NOW + timedelta(hours=1)
    result = Workbench(demo_repo, now=later, actor=CI).evidence.evaluate()
    assert result.written
    run = result.run_id
    sig = demo_repo / run_sig_path(run, CI)
    statement = (demo_repo / statement_path(run)).read_bytes()
    ok = subprocess.run(
        [
            "ssh-keygen", "-Y", "verify", "-f", str(demo_repo / "keys/allowed_signers"),
            "-I", f"{CI}@meridian.example", "-n", REVIEW_NS, "-s", str(sig),
        ],
        input=statement,
        capture_output=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    st = json.loads(statement)
    assert (
        st["subject"][0]["digest"]["sha256"]
        == hashlib.sha256((demo_repo / f"findings/{run}.json").read_bytes()).hexdigest()
    )
    after = Workbench(demo_repo, now=later).evidence
    assert after.book.chain().heads == [run] and after.current().source == "ledger"
    # An ordinary member may evaluate read-only, but not record a run.
    head = GitRepo(demo_repo).head_id()
    member = Workbench(demo_repo, now=later + timedelta(hours=1), actor=MEMBER).evidence
    with pytest.raises(RunNotRecorded, match="not an authorised evaluation runner") as info:
        member.evaluate()
    assert info.value.result.findings  # the checks ran; only recording is refused
    assert GitRepo(demo_repo).head_id() == head
    assert key_path(demo_repo, MEMBER).is_file()  # refused for authority, not for a key


def test_unsigned_run_in_registry_repo_does_not_count(demo_repo: Path) -> None:
    vid = open_violation(demo_repo)
    run = latest_run(demo_repo)
    data = json.loads(flipped(demo_repo, run))
    # A brand-new run, written as earlier versions did: findings only, no statement.
    new_id = "20261127T100000Z-00000000aa"
    data["run"], data["time"] = new_id, "2026-11-27T10:00:00Z"
    raw_commit(demo_repo, {f"findings/{new_id}.json": render_run(data)}, who=MEMBER)
    at = FIXED_NOW + timedelta(hours=2)
    result = Workbench(demo_repo, now=at).obligations.gate.evaluate()
    checks = {(c.contract, c.rule): c.message for c in result.checks}
    message = checks[(CLAIMS1, "violation_open")]
    assert vid in message and "is not signed" in message, message
    # The same with a statement but no signature.
    ledger = b'{"format":"handshake-workbench/ledger@1"}\n'
    old = parse_statement((demo_repo / statement_path(run)).read_bytes(), EVALUATION_PREDICATE, 2)
    body = render_run(data)
    statement = write_statements_bytes(
        EVALUATION_PREDICATE,
        [
            (f"findings/{new_id}.json", hashlib.sha256(body).hexdigest()),
            (ledger_path(new_id), hashlib.sha256(ledger).hexdigest()),
        ],
        EvaluationPredicate(**{**old.predicate.model_dump(), "run": new_id, "runner": MEMBER}),
    )
    raw_commit(demo_repo, {ledger_path(new_id): ledger, statement_path(new_id): statement})
    result = Workbench(demo_repo, now=at).obligations.gate.evaluate()
    checks = {(c.contract, c.rule): c.message for c in result.checks}
    assert "not signed by its runner" in checks[(CLAIMS1, "violation_open")]


def test_backdated_run_flagged(demo_repo: Path) -> None:
    # The authorised runner, with its clock set two days back: the run's time precedes the
    # commit it builds on.
    early = FIXED_NOW - timedelta(days=2)
    result = Workbench(demo_repo, now=early, actor=CI).evidence.evaluate()
    assert result.written
    checks = gate_checks(demo_repo)
    flags = checks[(CLAIMS1, "records_valid")]
    assert flags.startswith("fail") and "backdated" in flags and result.run_id in flags, flags
    svc = Workbench(demo_repo, now=FIXED_NOW).evidence
    assert result.run_id not in svc.book.chain().counting
    assert result.run_id not in {r["run"] for r in svc.runs()}
    code, out, _err = cli(demo_repo, "verify", "--findings")
    assert code == 1 and "backdated" in out


def test_deleted_newer_run_does_not_bring_back_an_older_pass(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run, once committed, is never deleted: removing the newest (failing) run so that an
    older passing run is the head again is a rollback the gate names and fails on."""
    import workbench.service.evidence as evidence_service

    real_finding = evidence_service.term_finding

    def healthy(state, contract, sha, plan, result, today):  # type: ignore[no-untyped-def]
        finding = real_finding(state, contract, sha, plan, result, today)
        if (contract.id, plan.term.id) == (CLAIMS1, FRESHNESS):
            finding["status"], finding["reason"] = "pass", "feed: max lag 1h"
        return finding

    # An hour later the feed was healthy (the CI identity signed a passing run)...
    with monkeypatch.context() as m:
        m.setattr(evidence_service, "term_finding", healthy)
        good = Workbench(
            demo_repo, now=FIXED_NOW + timedelta(hours=1), actor=CI
        ).evidence.evaluate()
    # ...an hour after that it failed again, and the CI identity recorded that too.
    at = FIXED_NOW + timedelta(hours=2)
    bad = Workbench(demo_repo, now=at, actor=CI).evidence.evaluate()
    assert good.written and bad.written

    def checks() -> dict[tuple[str, str], str]:
        result = Workbench(demo_repo, now=at).obligations.gate.evaluate()
        return {(c.contract, c.rule): f"{c.outcome}: {c.message}" for c in result.checks}

    before = checks()[(CLAIMS1, "violation_open")]
    assert before.startswith("fail") and FRESHNESS in before, before
    # The member deletes the failing run's four files in one plain commit.
    run = bad.run_id
    sigs = [p for p in (demo_repo / "findings/runs").glob(f"{run}.*.sig")]
    assert sigs
    raw_commit(
        demo_repo,
        {
            f"findings/{run}.json": None,
            ledger_path(run): None,
            statement_path(run): None,
            **{f"findings/runs/{p.name}": None for p in sigs},
        },
        who=MEMBER,
    )
    after = checks()
    # Without the rule, the older pass is the head again and the freshness term drops out.
    message = after[(CLAIMS1, "violation_open")]
    assert message.startswith("fail") and FRESHNESS in message, message
    flags = after[(CLAIMS1, "records_valid")]
    assert flags.startswith("fail") and run in flags and "gone" in flags, flags
    code, out, _err = cli(demo_repo, "verify", "--findings")
    assert code == 1 and run in out, out
    # The runner does not build on a history that lost a run (its episodes would be folded
    # away for good): it refuses until the deletion is reverted.
    later = at + timedelta(hours=1)
    with pytest.raises(RunNotRecorded, match="history lost a run"):
        Workbench(demo_repo, now=later, actor=CI).evidence.evaluate()
    subprocess.run(["git", "-c", "user.name=Yuki", "-c", "user.email=y@x", "revert", "--no-edit", "HEAD"], cwd=demo_repo, check=True,
                   capture_output=True)  # fmt: skip
    assert "gone" not in checks()[(CLAIMS1, "records_valid")]
    assert Workbench(demo_repo, now=later, actor=CI).evidence.evaluate().written
