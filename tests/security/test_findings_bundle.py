"""Findings runs in audit bundles: both verifiers (verify-bundle and VERIFY.sh, run for real
under sh with ssh-keygen) check each run's signature and its runner's authority; a bundle
re-sealed by a dishonest exporter around a run a member flipped and re-signed fails both."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from tests.bundle.conftest import (
    EXPORT_AT,
    EXPORTER,
    Exported,
    members,
    pack,
    run_verify_sh,
    signer,
    verify,
)
from tests.conftest import FIXED_NOW
from tests.signing.demo_helpers import raw_commit
from workbench.bundle import layout as bl
from workbench.evidence.findings import render_run
from workbench.evidence.ledger import ledger_path
from workbench.evidence.run_chain import run_sig_path, statement_path
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench
from workbench.signing.canonical import canonical_json
from workbench.signing.snapshot import write_snapshot
from workbench.signing.statement import (
    EVALUATION_PREDICATE,
    SNAPSHOT_PREDICATE,
    EvaluationPredicate,
    parse_statement,
    write_statements_bytes,
)

DOMAIN = "meridian.example"
REVIEW_NS = f"handshake-review-v1@{DOMAIN}"
SNAPSHOT_NS = f"handshake-snapshot-v1@{DOMAIN}"
MEMBER = "yuki.tanaka"
Files = dict[str, bytes]


def checks(report) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    out: dict[str, tuple[str, str]] = {}
    for c in report.checks:
        severity, message = out.get(c.name, ("ok", ""))
        if c.severity in ("fail", "warn") or c.name not in out:
            out[c.name] = (c.severity, message + " " + c.message)
    return out


def latest_run(files: Files) -> str:
    return sorted(p for p in files if p.startswith("findings/") and p.count("/") == 1)[-1][9:-5]


def flip(data: bytes) -> bytes:
    run = json.loads(data)
    for f in run["findings"]:
        if f["status"] == "fail":
            f["status"], f["reason"] = "pass", "ok"
            f.pop("paged", None)
    return render_run(run)


def reseal(files: Files, root: Path, exporter: str = EXPORTER) -> Files:
    """What a dishonest exporter (a key holder) can do: sign a new index over changed files."""
    files = dict(files)
    index = json.loads(files[bl.INDEX])
    index["files"] = {
        p: hashlib.sha256(d).hexdigest()
        for p, d in sorted(files.items())
        if p in index["files"] and p != bl.INDEX
    }
    files[bl.INDEX] = canonical_json(index) + b"\n"
    old = parse_statement(files[bl.SNAPSHOT], SNAPSHOT_PREDICATE, subjects=None)
    p = old.predicate
    snapshot = write_snapshot(
        {name: files[name] for name, _digest in old.subjects},
        p.repository,
        p.snapshotVersion,
        files.get(f"exports/v{p.snapshotVersion - 1}.snapshot.json"),
        datetime.fromisoformat(p.exportedAt.replace("Z", "+00:00")),
        datetime.fromisoformat(p.expires.replace("Z", "+00:00")),
    )
    files[bl.SNAPSHOT] = snapshot
    files[bl.snapshot_sig(f"{exporter}@{DOMAIN}")] = signer(root, exporter).sign(
        snapshot, SNAPSHOT_NS
    )
    return members(pack(files, resum=True))


def forged_by_member(files: Files, root: Path) -> Files:
    """A member flips the latest run's failures to pass and signs it with their own key."""
    files = dict(files)
    run = latest_run(files)
    data = flip(files[f"findings/{run}.json"])
    st = parse_statement(files[statement_path(run)], EVALUATION_PREDICATE, 2)
    statement = write_statements_bytes(
        EVALUATION_PREDICATE,
        [
            (f"findings/{run}.json", hashlib.sha256(data).hexdigest()),
            (ledger_path(run), hashlib.sha256(files[ledger_path(run)]).hexdigest()),
        ],
        EvaluationPredicate(**{**st.predicate.model_dump(), "runner": MEMBER}),
    )
    files[f"findings/{run}.json"] = data
    files[statement_path(run)] = statement
    del files[run_sig_path(run, "ci.pipeline")]
    files[run_sig_path(run, MEMBER)] = signer(root, MEMBER).sign(statement, REVIEW_NS)
    index = json.loads(files[bl.INDEX])
    for entry in index["findings"]:
        if entry["run"] == run:
            entry["runner"], entry["signature"] = MEMBER, run_sig_path(run, MEMBER)
    index["files"].pop(run_sig_path(run, "ci.pipeline"))
    index["files"][run_sig_path(run, MEMBER)] = ""
    files[bl.INDEX] = canonical_json(index) + b"\n"
    return files


def test_demo_bundle_runs_verify_in_both(exported: Exported, tmp_path: Path) -> None:
    files = members(exported.second)
    index = json.loads(files[bl.INDEX])
    assert index["findings"] and all(e["runner"] == "ci.pipeline" for e in index["findings"])
    found = checks(verify(exported.second, exported.trust_root))
    assert found["runs"][0] == "ok" and "authorised" in found["runs"][1], found["runs"]
    assert found["ledger"][0] == "ok", found["ledger"]
    out = run_verify_sh(exported.second, exported.trust_root)
    assert out.returncode == 0, out.stdout
    n = len(index["findings"])
    assert f"OK    {n} findings run(s)" in out.stdout and f"{n} of them by a runner" in out.stdout


def test_run_forged_by_member_fails_both_verifiers(exported: Exported, tmp_path: Path) -> None:
    forged = reseal(forged_by_member(members(exported.second), exported.root), exported.root)
    data = pack(forged)
    found = checks(verify(data, exported.trust_root))
    # Everything the exporter vouches for holds; the run's authority does not.
    assert found["snapshot"][0] == "ok" and found["signed index"][0] == "ok", found
    assert found["runs"][0] == "fail", found["runs"]
    assert f"{MEMBER} is not an authorised evaluation runner" in found["runs"][1]
    assert not verify(data, exported.trust_root).ok
    out = run_verify_sh(forged, exported.trust_root)
    assert out.returncode == 1, out.stdout
    assert f"{MEMBER} is not an authorised runner" in out.stdout, out.stdout
    assert "RESULT: FAIL" in out.stdout


def test_run_changed_after_signing_fails_both_verifiers(exported: Exported, tmp_path: Path) -> None:
    files = members(exported.second)
    run = latest_run(files)
    files[f"findings/{run}.json"] = flip(files[f"findings/{run}.json"])
    forged = reseal(files, exported.root)
    found = checks(verify(pack(forged), exported.trust_root))
    assert found["runs"][0] == "fail" and "does not match its signed statement" in found["runs"][1]
    out = run_verify_sh(forged, exported.trust_root)
    assert out.returncode == 1 and "do not match the signed statement" in out.stdout, out.stdout


def test_runner_authority_by_team_is_a_warning_in_verify_sh(
    demo_template: Path, tmp_path: Path
) -> None:
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root, symlinks=True)
    at = FIXED_NOW + timedelta(minutes=10)
    Workbench(root, now=at, actor="grace.whitfield").signing.registry.set_runners(
        ["team:engineering-leadership"]
    )
    for admin in ("grace.whitfield", "erin.walsh"):
        Workbench(root, now=at, actor=admin).signing.registry.sign(signer(root, admin))
    run = Workbench(root, now=at + timedelta(minutes=5), actor="erin.walsh").evidence
    assert run.evaluate().written
    # ci.pipeline is in the team: its earlier runs count too, by the version they name.
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    data = wb.bundles.build(ExportOptions(record=False), signer(root, EXPORTER)).data
    trust = wb.signing.registry_state().root_sha256 or ""
    found = checks(verify(data, trust))
    assert found["runs"][0] == "ok", found["runs"]
    out = run_verify_sh(data, trust)
    assert out.returncode == 0, out.stdout
    assert (
        "whether a team the policy of registry v2 names includes erin.walsh is not derived with stock tools"
        in out.stdout
    )
    assert "WARN" in out.stdout


def test_exporter_leaves_out_a_run_that_does_not_count(demo_template: Path, tmp_path: Path) -> None:
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root, symlinks=True)
    run = sorted(p.stem for p in (root / "findings").glob("*.json"))[-1]
    raw_commit(root, {f"findings/{run}.json": flip((root / f"findings/{run}.json").read_bytes())})
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    result = wb.bundles.build(ExportOptions(record=False), signer(root, EXPORTER))
    assert any(run in n and "does not count" in n for n in result.notes), result.notes
    files = members(result.data)
    assert f"findings/{run}.json" not in files
    trust = wb.signing.registry_state().root_sha256 or ""
    report = verify(result.data, trust)
    assert checks(report)["runs"][0] == "ok" and report.ok, checks(report)
