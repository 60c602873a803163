"""Attacks on evidence registration: a member who is not on the provider side registers a
doctored "good" file as the evidence a failing term reads (through the workbench, or by
editing the shared manifest by hand), or re-points a snapshot name at it. CI's signed
evaluation must not judge that file and the gate must fail, naming why. Real demo repo,
real keys and signatures, real DuckDB over real CSV, ssh-keygen as the oracle."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from tests.signing.demo_helpers import raw_commit, signer
from workbench.evidence.manifest import (
    MANIFEST_PATH,
    Snapshot,
    parse_manifest,
    render_manifest,
    snapshot_id,
    snapshot_relpath,
)
from workbench.evidence.registrations import registration_path, render_registration
from workbench.model.errors import WorkbenchError
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.signed_records import SignedRecords

POLICY = "policy-data-to-claims-agent"
FRESHNESS = "policy-freshness"  # fails in the demo: the endorsements sidecar lags 9 days
OUTSIDER = "aisha.rahman"  # claims-agent: the consumer of POLICY, not its provider
PROVIDER = "yuki.tanaka"  # policy-data: the provider team of POLICY
CI = "ci.pipeline"
REVIEW_NS = "handshake-review-v1@meridian.example"
LATER = FIXED_NOW + timedelta(hours=1)


def healthy_lags(path: Path, captured: datetime) -> Path:
    """A freshness export in which every source is current: what a doctored file says."""
    rows = ["source,updated_at,available_at"]
    for source in ("policy-admin", "endorsements-sidecar"):
        for hours in range(48, 0, -3):
            t = captured - timedelta(hours=hours)
            a = t + timedelta(minutes=20)
            rows.append(f"{source},{t:%Y-%m-%d %H:%M:%S},{a:%Y-%m-%d %H:%M:%S}")
    path.write_text("\n".join(rows) + "\n")
    return path


def forged_registration(repo: Path, file: Path, at: datetime, who: str) -> Snapshot:
    """A signed registration of `file` for the failing term, committed around the door."""
    data = file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    sid = snapshot_id(digest)
    snap = Snapshot(
        id=sid, kind="freshness_lags", path=snapshot_relpath(sid, "csv"), sha256=digest,
        size=len(data), format="csv", captured_at=at - timedelta(minutes=10),
        source="ingest log", contract=POLICY, term=FRESHNESS,
    )  # fmt: skip
    path = registration_path(sid, at, who, "register")
    record = render_registration(snap, sid, who, "register", at)
    records = SignedRecords(Workbench(repo, now=at, actor=who))
    changes, _fp, _s = records.signed_changes(
        [(path, record, {"snapshot": sid, "act": "register"})], who, signer(repo, who)
    )
    changes[snap.path] = data
    GitRepo(repo).commit_files(changes, "Register evidence\n", Author(who, f"{who}@x"), when=at)
    return snap


def freshness_finding(repo: Path) -> Any:
    run = Workbench(repo, now=LATER).evidence.run()
    [f] = [f for f in run["findings"] if (f["contract"], f["term"]) == (POLICY, FRESHNESS)]
    return f


def gate_checks(repo: Path) -> dict[tuple[str, str], str]:
    result = Workbench(repo, now=LATER).obligations.gate.evaluate()
    return {(c.contract, c.rule): f"{c.outcome}: {c.message}" for c in result.checks}


def test_outsider_registration_of_doctored_evidence_does_not_count(
    demo_repo: Path, tmp_path: Path
) -> None:
    doctored = healthy_lags(tmp_path / "lags.csv", FIXED_NOW + timedelta(minutes=30))
    at = FIXED_NOW + timedelta(minutes=40)
    attacker = Workbench(demo_repo, now=at, actor=OUTSIDER)
    # The workbench refuses her at the door...
    with pytest.raises(WorkbenchError, match=f"{OUTSIDER} may not register evidence for {POLICY}"):
        attacker.evidence.add(doctored, "freshness_lags", contract=POLICY, term=FRESHNESS)
    # ...so she writes the record herself, signed with her own (valid) key, and pushes it.
    snap = forged_registration(demo_repo, doctored, at, OUTSIDER)
    # CI's signed evaluation does not read the doctored file: the term still fails.
    assert Workbench(demo_repo, now=LATER, actor=CI).evidence.evaluate().written
    finding = freshness_finding(demo_repo)
    assert snap.id not in [s["id"] for s in finding["snapshots"]]
    assert finding["status"] == "fail"
    checks = gate_checks(demo_repo)
    records = checks[(POLICY, "records_valid")]
    assert records.startswith("fail"), records
    assert f"{OUTSIDER} may not register evidence for {POLICY}" in records, records
    assert "evidence/registrations/" in records and snap.id in records
    assert FRESHNESS in checks[(POLICY, "violation_open")]
    # The registration is signed, but by someone without authority: ssh-keygen agrees the
    # signature is hers; authority is what makes it not count.
    [sig] = (demo_repo / "evidence/registrations" / snap.id).glob(f"*.{OUTSIDER}.register.sig")
    statement = sig.with_name(sig.name.removesuffix(".sig") + ".statement.json")
    ok = subprocess.run(
        [
            "ssh-keygen", "-Y", "verify", "-f", str(demo_repo / "keys/allowed_signers"),
            "-I", f"{OUTSIDER}@meridian.example", "-n", REVIEW_NS, "-s", str(sig),
        ],
        input=statement.read_bytes(),
        capture_output=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr


def test_hand_edited_manifest_entry_does_not_count(demo_repo: Path, tmp_path: Path) -> None:
    """The old way in: a commit that adds a [[snapshot]] to evidence/manifest.toml naming
    the provider as `registered_by`. In a repository with a key registry it is unsigned."""
    captured = FIXED_NOW + timedelta(minutes=30)
    data = healthy_lags(tmp_path / "lags.csv", captured).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    sid = snapshot_id(digest)
    path = snapshot_relpath(sid, "csv")
    existing = (
        (demo_repo / MANIFEST_PATH).read_bytes() if (demo_repo / MANIFEST_PATH).exists() else b""
    )
    manifest = parse_manifest(existing.decode())
    forged = Snapshot(
        id=sid, kind="freshness_lags", path=path, sha256=digest, size=len(data),
        format="csv", captured_at=captured, source="ingest log", contract=POLICY,
        term=FRESHNESS, registered_by=PROVIDER, registered_at=captured,
    )  # fmt: skip
    changes: dict[str, bytes | None] = {
        path: data,
        MANIFEST_PATH: render_manifest(manifest.with_snapshot(forged)).encode(),
    }
    raw_commit(demo_repo, changes, who=OUTSIDER)
    assert Workbench(demo_repo, now=LATER, actor=CI).evidence.evaluate().written
    finding = freshness_finding(demo_repo)
    assert sid not in [s["id"] for s in finding["snapshots"]]
    assert finding["status"] == "fail"
    checks = gate_checks(demo_repo)
    records = checks[(POLICY, "records_valid")]
    assert records.startswith("fail") and sid in records, records
    assert "unsigned" in records and "workbench evidence register" in records, records
    assert FRESHNESS in checks[(POLICY, "violation_open")]


def test_provider_registration_counts(demo_repo: Path, tmp_path: Path) -> None:
    """The same file registered by a member of the provider team is the evidence."""
    good = healthy_lags(tmp_path / "lags.csv", FIXED_NOW + timedelta(minutes=30))
    provider = Workbench(demo_repo, now=FIXED_NOW + timedelta(minutes=40), actor=PROVIDER)
    snap = provider.evidence.add(good, "freshness_lags", contract=POLICY, term=FRESHNESS)
    assert Workbench(demo_repo, now=LATER, actor=CI).evidence.evaluate().written
    finding = freshness_finding(demo_repo)
    assert snap.id in [s["id"] for s in finding["snapshots"]]
    assert finding["status"] == "pass"
    checks = gate_checks(demo_repo)
    assert checks[(POLICY, "records_valid")].startswith("pass"), checks[(POLICY, "records_valid")]
    assert FRESHNESS not in checks[(POLICY, "violation_open")]


def test_legacy_entry_counts_once_its_provider_signs_it(demo_repo: Path, tmp_path: Path) -> None:
    """The migration: `workbench evidence register ID` by the provider makes a legacy
    manifest entry a signed registration; an outsider's attempt is refused."""
    captured = FIXED_NOW + timedelta(minutes=30)
    data = healthy_lags(tmp_path / "lags.csv", captured).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    sid = snapshot_id(digest)
    legacy = Snapshot(
        id=sid, kind="freshness_lags", path=snapshot_relpath(sid, "csv"), sha256=digest,
        size=len(data), format="csv", captured_at=captured, source="ingest log",
        contract=POLICY, term=FRESHNESS,
    )  # fmt: skip
    manifest = parse_manifest("version = 1\n").with_snapshot(legacy)
    raw_commit(demo_repo, {legacy.path: data, MANIFEST_PATH: render_manifest(manifest).encode()})
    at = FIXED_NOW + timedelta(minutes=40)
    # On the command line (real clock), an outsider is refused: exit 2, nothing written.
    head = GitRepo(demo_repo).head_id()
    code, _out, err = cli(demo_repo, "--as", OUTSIDER, "evidence", "register", sid)
    assert code == 2 and f"{OUTSIDER} may not register evidence for {POLICY}" in err, err
    assert GitRepo(demo_repo).head_id() == head
    assert Workbench(demo_repo, now=at).evidence.manifest().get(sid) is None
    provider = Workbench(demo_repo, now=at, actor=PROVIDER).evidence.registrations
    assert [s.id for s in provider.register_legacy([sid])] == [sid]
    assert Workbench(demo_repo, now=at).evidence.manifest().get(sid) is not None
    checks = gate_checks(demo_repo)
    assert sid not in checks[(POLICY, "records_valid")], checks[(POLICY, "records_valid")]
    # ...and withdrawing it (signed, by the provider) takes it out of use again.
    later = at + timedelta(minutes=5)
    provider = Workbench(demo_repo, now=later, actor=PROVIDER).evidence.registrations
    provider.withdraw(sid, "exported from the wrong cluster")
    assert Workbench(demo_repo, now=later).evidence.manifest().get(sid) is None


def cli(repo: Path, *args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from workbench.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--repo", str(repo), *args])
    return code, out.getvalue(), err.getvalue()
