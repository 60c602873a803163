"""A drift term's reference, chosen by someone with no authority over the contract.

A distribution-shift term names its reference sample by a stable name
(`reference = "ev-score-reference"`). Which snapshot holds a name is decided by the
registrations: the one registered last, and taking a name from a holder needs authority over
the holder's contract. But the *first* holder needs no authority over anything but its own
contract, and "first" is the registration's signed time, which only has to hold against the
commit that wrote it. So the consumer of the credit model (sofia.marquez, provider of her own
downstream seam) forks from the commit before the provider registered the reference,
registers a sample of her choosing under the same name for her own contract, dated then, and
merges the branch. Her registration is now the first holder; the provider's, a day later,
becomes a "take" without authority and loses the name; and the credit model's drift term is
judged against her sample. Nothing flags the credit model.

The rule now: a term is judged only on evidence registered for its own contract (or
repository-wide, which only a runner registers), references by name included, as live
evidence always was. Real demo repo, real keys and signatures, real git merge, real DuckDB."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import FIXED_NOW
from tests.signing.demo_helpers import signer
from workbench.evidence.manifest import Snapshot, snapshot_id, snapshot_relpath
from workbench.evidence.registrations import registration_path, render_registration
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.signed_records import SignedRecords

CREDIT = "credit-model-to-loan-decisioning"
SHIFT = "score-shift"
NAME = "ev-score-reference"
ATTACKER = "sofia.marquez"  # consumer of CREDIT; provider of loan-decisioning-to-fair-lending
HER_CONTRACT = "loan-decisioning-to-fair-lending"
CI = "ci.pipeline"
LATER = FIXED_NOW + timedelta(hours=1)


def git(repo: Path, *args: str, when: datetime | None = None) -> str:
    env = dict(os.environ)
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        env |= {"GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}
    env |= {"GIT_AUTHOR_NAME": ATTACKER, "GIT_AUTHOR_EMAIL": f"{ATTACKER}@meridian.example"}
    env |= {"GIT_COMMITTER_NAME": ATTACKER, "GIT_COMMITTER_EMAIL": f"{ATTACKER}@meridian.example"}
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def reference_of(run: dict[str, Any]) -> tuple[str, str | None]:
    [f] = [f for f in run["findings"] if (f["contract"], f["term"]) == (CREDIT, SHIFT)]
    ref = next((s["id"] for s in f["snapshots"] if s.get("role") == "reference"), None)
    return f["status"] + ": " + str(f.get("reason")), ref


def register_backdated(repo: Path, fork: str, at: datetime) -> Snapshot:
    """On a branch from `fork`, a signed registration of her own sample under the name,
    for her own contract, dated `at`, committed at `at`; merged into main now."""
    holder = Workbench(repo).evidence.manifest().resolve(NAME)
    assert holder is not None and holder.contract == CREDIT
    rows = (repo / holder.path).read_text().splitlines()
    data = ("\n".join(rows[:-1]) + "\n").encode()  # her choice of sample: other bytes
    digest = hashlib.sha256(data).hexdigest()
    sid = snapshot_id(digest)
    snap = Snapshot(
        id=sid, kind="score_samples", path=snapshot_relpath(sid, "csv"), sha256=digest,
        size=len(data), format="csv", captured_at=at - timedelta(minutes=10),
        source="her export", contract=HER_CONTRACT, name=NAME,
    )  # fmt: skip
    git(repo, "switch", "-q", "-c", "side", fork)
    path = registration_path(sid, at, ATTACKER, "register")
    record = render_registration(snap, sid, ATTACKER, "register", at)
    records = SignedRecords(Workbench(repo, now=at, actor=ATTACKER))
    changes, _fp, _s = records.signed_changes(
        [(path, record, {"snapshot": sid, "act": "register"})], ATTACKER, signer(repo, ATTACKER)
    )
    changes[snap.path] = data
    author = Author(ATTACKER, f"{ATTACKER}@meridian.example")
    GitRepo(repo).commit_files(changes, "Register evidence\n", author, when=at)
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge side", "side", when=FIXED_NOW)
    return snap


def test_a_backdated_first_claim_on_a_reference_name_does_not_judge_another_contract(
    demo_repo: Path,
) -> None:
    holder = Workbench(demo_repo).evidence.manifest().resolve(NAME)
    assert holder is not None
    # The commit that registered the provider's reference, and the one before it.
    [added] = git(
        demo_repo, "log", "--format=%H", "--diff-filter=A", "--",
        f"evidence/registrations/{holder.id}/",
    ).splitlines()  # fmt: skip
    fork = git(demo_repo, "rev-parse", f"{added}^")
    fork_time = datetime.fromisoformat(git(demo_repo, "show", "-s", "--format=%cI", fork))
    theirs = snap = register_backdated(demo_repo, fork, fork_time + timedelta(minutes=30))
    assert theirs.id != holder.id

    assert Workbench(demo_repo, now=LATER, actor=CI).evidence.evaluate().written
    status, ref = reference_of(Workbench(demo_repo, now=LATER).evidence.run())
    # Her sample is never the reference the credit model is judged against...
    assert ref != snap.id, status
    # ...and the term does not pass on a reference nobody with authority chose: it names why.
    assert status.startswith("error"), status
    assert NAME in status and HER_CONTRACT in status, status
    gate = Workbench(demo_repo, now=LATER).obligations.gate.evaluate()
    checks = {(c.contract, c.rule): (c.outcome, c.message) for c in gate.checks}
    assert checks[(CREDIT, "violation_open")][0] == "fail", checks[(CREDIT, "violation_open")]


def test_a_free_reference_name_claimed_for_another_contract_does_not_pass_a_drift_term(
    demo_repo: Path, tmp_path: Path
) -> None:
    """No backdating needed when the name is free: the provider withdraws a bad reference
    sample (the drift term now fails: no reference); the consumer, through the workbench,
    registers the live scores as "the reference" for her own contract under the name. The
    drift term must not pass against it."""
    holder = Workbench(demo_repo).evidence.manifest().resolve(NAME)
    assert holder is not None
    provider = Workbench(demo_repo, now=FIXED_NOW + timedelta(minutes=5), actor="lena.fischer")
    provider.evidence.registrations.withdraw(NAME, "sampled from the wrong model version")
    assert Workbench(demo_repo, now=LATER, actor=CI).evidence.evaluate().written
    status, _ref = reference_of(Workbench(demo_repo, now=LATER).evidence.run())
    assert status.startswith("error"), status  # no reference: the term does not pass

    live = next(
        s for s in Workbench(demo_repo).evidence.manifest().snapshots
        if s.kind == "score_samples" and s.contract == CREDIT and s.id != holder.id
    )  # fmt: skip
    rows = (demo_repo / live.path).read_text().splitlines()
    mine = tmp_path / "reference.csv"
    mine.write_text("\n".join(rows[:-1]) + "\n")  # the live scores: no drift against them
    at = LATER + timedelta(minutes=10)  # after CI's run: an honest, current registration
    attacker = Workbench(demo_repo, now=at, actor=ATTACKER)
    snap = attacker.evidence.add(
        mine, "score_samples", contract=HER_CONTRACT, name=NAME, captured_at=at
    )
    later = LATER + timedelta(hours=1)
    assert Workbench(demo_repo, now=later, actor=CI).evidence.evaluate().written
    status, ref = reference_of(Workbench(demo_repo, now=later).evidence.run())
    assert ref != snap.id and not status.startswith("pass"), status
    assert NAME in status and HER_CONTRACT in status, status


def test_a_refused_name_take_fails_the_takers_contract_not_the_holders(demo_repo: Path) -> None:
    """A registration that tries to take a name without authority over its holder's
    contract counts without the name. It used to fail `records_valid` of the *holder's*
    contract: any member who provides any seam could fail the gate of every contract whose
    evidence has a stable name, at will, by signing one record of their own. The record
    that claims what it cannot is the taker's: its own contract is flagged."""
    holder = Workbench(demo_repo).evidence.manifest().resolve(NAME)
    assert holder is not None
    rows = (demo_repo / holder.path).read_text().splitlines()
    data = ("\n".join(rows[:-2]) + "\n").encode()
    digest = hashlib.sha256(data).hexdigest()
    sid = snapshot_id(digest)
    at = FIXED_NOW + timedelta(minutes=10)
    snap = Snapshot(
        id=sid, kind="score_samples", path=snapshot_relpath(sid, "csv"), sha256=digest,
        size=len(data), format="csv", captured_at=at - timedelta(minutes=10),
        source="her export", contract=HER_CONTRACT, name=NAME,
    )  # fmt: skip
    path = registration_path(sid, at, ATTACKER, "register")
    record = render_registration(snap, sid, ATTACKER, "register", at)
    records = SignedRecords(Workbench(demo_repo, now=at, actor=ATTACKER))
    changes, _fp, _s = records.signed_changes(
        [(path, record, {"snapshot": sid, "act": "register"})],
        ATTACKER,
        signer(demo_repo, ATTACKER),
    )
    changes[snap.path] = data
    author = Author(ATTACKER, f"{ATTACKER}@meridian.example")
    GitRepo(demo_repo).commit_files(changes, "Register evidence\n", author, when=at)

    assert Workbench(demo_repo, now=LATER).evidence.manifest().resolve(NAME) == holder
    gate = Workbench(demo_repo, now=LATER).obligations.gate.evaluate()
    checks = {(c.contract, c.rule): (c.outcome, c.message) for c in gate.checks}
    assert checks[(CREDIT, "records_valid")][0] == "pass", checks[(CREDIT, "records_valid")]
    outcome, message = checks[(HER_CONTRACT, "records_valid")]
    assert outcome == "fail" and f"cannot take the name {NAME!r}" in message, message
