"""Issue 12, items 1, 2 and 9: the key registry's history, one verdict for every front end,
and the trust root in CI.

Each test is an attack that once ended in a false "approved" or "passed". The attacker's
steps are plain `git` commands (or files signed with keys they hold); the verdicts come
from the CLI's real entry point, as a user or a CI job would see them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.signing.demo_helpers import (
    APPROVED,
    APPROVED2,
    CONTRACT_NS,
    DOMAIN,
    REGISTRY_NS,
    STALE,
    sha256,
    signer,
)
from workbench.signing import registry as reg
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    REGISTRY_PREDICATE,
    ChainLink,
    ContractRef,
    CosignPredicate,
    parse_statement,
    write_statement,
)

REPOSITORY = "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58"
ADMINS = ("grace.whitfield", "erin.walsh")
ATTACKER_ENV = {
    "GIT_AUTHOR_NAME": "Mallory",
    "GIT_AUTHOR_EMAIL": "mallory@evil.example",
    "GIT_COMMITTER_NAME": "Mallory",
    "GIT_COMMITTER_EMAIL": "mallory@evil.example",
}


@pytest.fixture(autouse=True)
def _no_root_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_TRUST_ROOT", raising=False)
    monkeypatch.delenv("WORKBENCH_KEY_PASSPHRASE", raising=False)


# --- driving the CLI and git ------------------------------------------------------------


def run(repo: Path, *args: str, who: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in-process (same argv, exit code, stdout and stderr as a real run), at the
    real clock: commands that sign or record refuse a what-if --now."""
    from workbench.cli.main import main

    actor = ["--as", who] if who else []
    argv = ["--repo", str(repo), *actor, *args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def git(repo: Path, *args: str) -> str:
    """A real git command, as the attacker (an ordinary member with push access) runs it."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **ATTACKER_ENV},
    )
    return result.stdout.strip()


def show(repo: Path, rev: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), "show", f"{rev}:{path}"], capture_output=True, check=True
    ).stdout


def verify(repo: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run(repo, "verify", "--json", *args)
    return result.returncode, json.loads(result.stdout)


def gate(repo: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run(repo, "gate", "--format", "json", *args)
    return result.returncode, json.loads(result.stdout)


def states(data: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {c["contract"]: c["state"] for c in data["contracts"]}


def check(gate_data: dict, contract: str, rule: str = "approved") -> dict:  # type: ignore[type-arg]
    return next(c for c in gate_data["checks"] if c["contract"] == contract and c["rule"] == rule)


def root_of(repo: Path) -> str:
    return (repo / ".git" / "handshake-workbench" / "trust-root").read_text().strip()


# --- the registry change the attacks try to undo ------------------------------------------


def revoke_ravi(repo: Path) -> str:
    """Revoke Ravi's key in registry v2, signed by both admins; return the commit before it."""
    before = git(repo, "rev-parse", "HEAD")
    assert run(repo, "registry", "revoke", "ravi.iyer", who="grace.whitfield").returncode == 0
    for admin in ADMINS:
        assert run(repo, "registry", "sign", who=admin).returncode == 0
    code, data = verify(repo)
    assert data["registry"]["version"] == 2 and data["registry"]["problems"] == []
    assert states(data)[APPROVED] == "invalid"  # every signature of Ravi's key died with it
    assert states(data)[APPROVED2] == "approved"
    return before


def assert_registry_attack_is_loud(repo: Path, word: str) -> None:
    """verify, status, show and the gate all refuse, naming what happened."""
    code, data = verify(repo)
    assert code == 1 and data["ok"] is False
    assert any(word in p for p in data["registry"]["problems"]), data["registry"]
    # Every contract verdict is invalid: nothing signed can be trusted on this registry.
    assert set(states(data).values()) == {"invalid"}, states(data)
    text = run(repo, "verify")
    assert text.returncode == 1 and "REGISTRY PROBLEM" in text.stdout and word in text.stdout
    status = run(repo, "status")
    assert status.returncode == 1
    assert "signature:approved" not in status.stdout
    assert "signature:invalid" in status.stdout
    assert word in status.stdout + status.stderr
    shown = run(repo, "show", APPROVED2)
    assert "signature    invalid" in shown.stdout
    code, result = gate(repo)
    assert code == 1 and result["passed"] is False
    approved2 = check(result, APPROVED2)
    assert approved2["outcome"] == "fail" and word in approved2["message"]
    # Signing again cannot fix it: the registry's admins restore it.
    assert "admins restore" in approved2["fix"] and "grace.whitfield" in approved2["fixers"]
    assert result["trust_root"]["outcome"] == "fail" and result["trust_root"]["problems"]


# --- item 1: a registry version once complete stays in force -----------------------------------


def test_registry_rollback_by_removing_an_admin_signature(demo_repo: Path) -> None:
    revoke_ravi(demo_repo)
    git(demo_repo, "rm", "-q", "keys/registry/v2.erin.walsh.sig")
    git(demo_repo, "commit", "-qm", "Remove a stray signature")
    assert_registry_attack_is_loud(demo_repo, "rollback")


def test_registry_rollback_by_deleting_the_statement(demo_repo: Path) -> None:
    revoke_ravi(demo_repo)
    git(demo_repo, "rm", "-q", "keys/registry/v2.statement.json")
    git(demo_repo, "commit", "-qm", "Drop an unused file")
    assert_registry_attack_is_loud(demo_repo, "rollback")


def test_registry_rollback_by_renaming_a_signature(demo_repo: Path) -> None:
    revoke_ravi(demo_repo)
    # Now it looks like a signature made early for a future v3.
    git(demo_repo, "mv", "keys/registry/v2.erin.walsh.sig", "keys/registry/v3.erin.walsh.sig")
    git(demo_repo, "commit", "-qm", "Rename")
    assert_registry_attack_is_loud(demo_repo, "rollback")


def test_registry_rollback_by_restoring_v1_files(demo_repo: Path) -> None:
    before = revoke_ravi(demo_repo)
    git(demo_repo, "restore", f"--source={before}", "--staged", "--worktree", "keys/")
    assert not (demo_repo / "keys/registry/v2.statement.json").exists()
    git(demo_repo, "commit", "-qm", "Restore the keys as they were")
    assert_registry_attack_is_loud(demo_repo, "rollback")


def _registry_statement(repo: Path, rev: str, version: int, previous: bytes | None) -> bytes:
    files = {p: show(repo, rev, p) for p in reg.REGISTRY_FILES}
    prev = None if previous is None else parse_statement(previous, REGISTRY_PREDICATE, subjects=4)
    return reg.build_registry_statement(files, version, prev, REPOSITORY, DOMAIN)


def test_registry_fork_resigned_by_admins(demo_repo: Path) -> None:
    before = revoke_ravi(demo_repo)
    # Both admins (or whoever holds their keys) sign a second v2 that revokes nothing,
    # and the files go back to v1's: a perfectly signed chain v1 -> v2', a fork of v2.
    v1 = show(demo_repo, before, reg.statement_path(1))
    forked = _registry_statement(demo_repo, before, 2, v1)
    git(demo_repo, "restore", f"--source={before}", "--staged", "--worktree", "keys/")
    (demo_repo / reg.statement_path(2)).write_bytes(forked)
    for admin in ADMINS:
        sig = signer(demo_repo, admin).sign(forked, REGISTRY_NS)
        (demo_repo / reg.sig_path(2, admin)).write_bytes(sig)
    git(demo_repo, "add", "keys/")
    git(demo_repo, "commit", "-qm", "Registry v2: corrected")
    assert_registry_attack_is_loud(demo_repo, "fork")


def test_registry_root_fork_resigned_by_admins(demo_repo: Path) -> None:
    # A new v1 (threshold 1, so one admin alone rules from now on), signed by both admins.
    head = git(demo_repo, "rev-parse", "HEAD")
    policy = reg.parse_policy(show(demo_repo, head, reg.POLICY))
    policy = policy.model_copy(update={"registry_threshold": 1})
    (demo_repo / reg.POLICY).write_bytes(reg.render_policy(policy))
    files = {p: (demo_repo / p).read_bytes() for p in reg.REGISTRY_FILES}
    new_root = reg.build_registry_statement(files, 1, None, REPOSITORY, DOMAIN)
    (demo_repo / reg.statement_path(1)).write_bytes(new_root)
    for admin in ADMINS:
        (demo_repo / reg.sig_path(1, admin)).write_bytes(
            signer(demo_repo, admin).sign(new_root, REGISTRY_NS)
        )
    git(demo_repo, "add", "keys/")
    git(demo_repo, "commit", "-qm", "Registry v1: simplify")
    # The clone's pin catches it...
    code, data = verify(demo_repo)
    assert code == 1 and any("pinned trust root" in p for p in data["registry"]["problems"])
    # ...and so does history, in a clone that never pinned.
    (demo_repo / ".git" / "handshake-workbench" / "trust-root").unlink()
    assert_registry_attack_is_loud(demo_repo, "fork")


def test_revoked_key_cannot_sign_after_rollback(demo_repo: Path) -> None:
    revoke_ravi(demo_repo)
    git(demo_repo, "rm", "-q", "keys/registry/v2.erin.walsh.sig")
    git(demo_repo, "commit", "-qm", "Remove a stray signature")
    # The workbench refuses to sign on a rolled-back registry...
    refused = run(demo_repo, "sign", STALE, who="ravi.iyer")
    assert refused.returncode == 2 and "rollback" in refused.stderr
    # So is every other signed act on it: no acknowledgement recorded unsigned, no bundle.
    ack = run(demo_repo, "ack", APPROVED, "--notice", "1", who="ravi.iyer")
    assert ack.returncode == 2 and "rollback" in ack.stderr
    bundle = run(
        demo_repo, "export-bundle", "--out", str(demo_repo.parent / "b.tar.gz"), who=ADMINS[0]
    )
    assert bundle.returncode == 2 and "rollback" in bundle.stderr
    # ...and signatures made by hand with the revoked key do not count either.
    head = git(demo_repo, "rev-parse", "HEAD")
    contract = show(demo_repo, head, f"contracts/{STALE}.toml")
    v1 = show(demo_repo, head, f"attestations/{STALE}/v1.statement.json")
    registry_v1 = show(demo_repo, head, reg.statement_path(1))
    statement = write_statement(
        COSIGN_PREDICATE,
        f"contracts/{STALE}.toml",
        sha256(contract),
        CosignPredicate(
            repository=REPOSITORY,
            contract=ContractRef(
                id=STALE, version=2, previous=ChainLink(version=1, statementSha256=sha256(v1))
            ),
            registry=ChainLink(version=1, statementSha256=sha256(registry_v1)),
            decision="approve",
        ),
    )
    folder = demo_repo / "attestations" / STALE
    (folder / "v2.statement.json").write_bytes(statement)
    for person in ("ravi.iyer", "sofia.marquez"):
        (folder / f"v2.{person}.sig").write_bytes(
            signer(demo_repo, person).sign(statement, CONTRACT_NS)
        )
    git(demo_repo, "add", "attestations/")
    git(demo_repo, "commit", "-qm", f"Co-sign {STALE} v2")
    code, data = verify(demo_repo)
    assert code == 1 and states(data)[STALE] == "invalid"
    code, result = gate(demo_repo)
    assert code == 1 and check(result, STALE)["outcome"] == "fail"
    assert "rollback" in check(result, STALE)["message"]


# --- item 2: one verdict for verify, status, show, the app and the gate ---------------------------


def test_status_and_gate_see_attestation_rollback(demo_repo: Path) -> None:
    before = git(demo_repo, "rev-parse", "HEAD")
    path = demo_repo / "contracts" / f"{APPROVED}.toml"
    path.write_bytes(path.read_bytes() + b"# Reviewed with the fraud team, no change.\n")
    git(demo_repo, "commit", "-qam", "Note the fraud team review")
    for person in ("dana.okafor", "ravi.iyer", "grace.whitfield"):
        assert run(demo_repo, "sign", APPROVED, who=person).returncode == 0
    signed = git(demo_repo, "rev-parse", "HEAD")
    assert states(verify(demo_repo)[1])[APPROVED] == "approved"
    # The attacker puts the v1 text back and deletes the v2 attestations: v1 looks approved.
    path.write_bytes(show(demo_repo, before, f"contracts/{APPROVED}.toml"))
    git(demo_repo, "rm", "-q", "--", f"attestations/{APPROVED}/v2.*")
    git(demo_repo, "commit", "-qam", "Revert the note")

    code, data = verify(demo_repo, APPROVED)
    assert code == 1 and states(data)[APPROVED] == "invalid"
    status = json.loads(run(demo_repo, "status", "--json").stdout)
    seam = next(v for v in status if v["id"] == APPROVED)
    assert seam["marks"]["signature"] == "invalid"
    assert "signature    invalid" in run(demo_repo, "show", APPROVED).stdout
    # CI on the attacker's branch: only the changed contract is in scope.
    code, result = gate(demo_repo, "--changed-since", signed)
    assert result["scope"] == [APPROVED]
    assert code == 1 and check(result, APPROVED)["outcome"] == "fail"
    assert "rollback" in check(result, APPROVED)["message"]

    # The app's seam map, its contract screen and the gate's inputs: the same verdict.
    from workbench.service.core import Workbench

    app = Workbench(demo_repo, now=None)  # a long-lived session, as the TUI holds it
    marks = {v.id: v.marks.get("signature") for v in app.seam_map()}
    assert marks[APPROVED] == "invalid"
    assert app.signing.verdict(APPROVED).state == "invalid"
    verdicts = app.obligations.signatures.verdicts()
    assert verdicts is not None and verdicts[APPROVED].state == "invalid"


# --- item 9: the trust root in a fresh clone ---------------------------------------------------


def test_gate_unpinned_root_is_loud(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = root_of(demo_repo)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(demo_repo), str(clone)], check=True)
    assert not (clone / ".git" / "handshake-workbench").exists()
    # Nothing in scope, so only the trust root can fail it.
    scope = ("--changed-since", "HEAD")
    text = run(clone, "gate", *scope)
    assert text.returncode == 0
    assert "trust root NOT pinned" in text.stdout
    code, data = gate(clone, *scope)
    assert code == 0 and data["trust_root"]["pinned"] is False
    assert "NOT pinned" in data["trust_root"]["warning"]
    junit = ET.fromstring(run(clone, "gate", "--format", "junit", *scope).stdout)
    case = junit.find(".//testcase[@name='trust_root']")
    assert case is not None and "NOT pinned" in (case.findtext("system-out") or "")
    sarif = json.loads(run(clone, "gate", "--format", "sarif", *scope).stdout)
    notes = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "trust_root"]
    assert notes and notes[0]["level"] == "warning" and "NOT pinned" in notes[0]["message"]["text"]
    # verify and status say it too.
    assert "NOT pinned" in run(clone, "verify").stdout
    assert "NOT pinned" in run(clone, "status").stderr
    # --strict fails when not pinned, in every format.
    strict = run(clone, "gate", "--strict", *scope)
    assert strict.returncode == 1 and "trust root NOT pinned" in strict.stdout
    code, data = gate(clone, "--strict", *scope)
    assert code == 1 and data["passed"] is False
    junit = ET.fromstring(run(clone, "gate", "--strict", "--format", "junit", *scope).stdout)
    assert junit.find(".//testcase[@name='trust_root']/failure") is not None
    # Pinned by each source: --root, the environment, the clone's pin. No warning then.
    pinned = run(clone, "gate", "--strict", "--root", root, *scope)
    assert pinned.returncode == 0 and "NOT pinned" not in pinned.stdout
    assert "trust root pinned (--root)" in pinned.stdout
    monkeypatch.setenv("WORKBENCH_TRUST_ROOT", root)
    code, data = gate(clone, "--strict", *scope)
    assert code == 0 and data["trust_root"]["source"] == "WORKBENCH_TRUST_ROOT"
    monkeypatch.delenv("WORKBENCH_TRUST_ROOT")
    assert run(clone, "registry", "root", "--pin").returncode == 0
    code, data = gate(clone, "--strict", *scope)
    assert code == 0 and data["trust_root"]["source"] == "clone pin"
    assert "NOT pinned" not in run(clone, "status").stderr


def _replaced_history(demo: Path, target: Path) -> Path:
    """A wholly new history of the same files: a new registry v1 by two other admins, who
    approve the one contract the gate looks at."""
    shutil.copytree(demo, target, ignore=shutil.ignore_patterns(".git"))
    # The attacker starts clean: no registry, no attestations, no signed records (findings
    # runs are signed records too).
    for folder in ("keys/registry", "attestations", "reviews", "acks", "reports", "findings"):
        shutil.rmtree(target / folder, ignore_errors=True)
    for name in ("policy.toml", "allowed_signers", "revoked_keys", "trust-root"):
        (target / "keys" / name).unlink(missing_ok=True)
    settings = target / "workbench.toml"
    text = settings.read_text()
    start = text.index("[gate]")
    end = text.index("\n\n", start)
    settings.write_text(
        text[:start]
        + '[gate]\ncontracts = ["loan-decisioning-to-fair-lending"]\ndeny = ["approved"]\nwarn = []'
        + text[end:]
    )
    git(target.parent, "init", "-q", "-b", "main", str(target))
    git(target, "add", "-A")
    git(target, "commit", "-qm", "Governance repo")
    shutil.copytree(
        demo / ".git" / "handshake-workbench" / "demo-keys",
        target / ".git" / "handshake-workbench" / "demo-keys",
    )
    admins = ("tomas.lindqvist", "aisha.rahman")
    init = run(
        target, "registry", "init", "--admin", admins[0], "--admin", admins[1], who=admins[0]
    )
    assert init.returncode == 0, init.stderr
    # Their own admins sign their own floor too: nothing but the narrowed workbench.toml.
    floor = run(
        target,
        *("registry", "floor", "--deny", "none", "--warn", "none", "--contracts", "none"),
        who=admins[0],
    )
    assert floor.returncode == 0, floor.stderr
    for admin in admins:
        assert run(target, "registry", "sign", who=admin).returncode == 0
    for person in ("sofia.marquez", "grace.whitfield"):
        signed = run(target, "sign", "loan-decisioning-to-fair-lending", who=person)
        assert signed.returncode == 0, signed.stderr
    return target


def test_gate_accepts_wholly_replaced_history_only_unpinned_and_loudly(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = root_of(demo_repo)
    replaced = _replaced_history(demo_repo, tmp_path / "replaced")
    clone = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", str(replaced), str(clone)], check=True)
    # Unpinned, the new history passes: nothing in it can tell. But it says so, loudly.
    unpinned = run(clone, "gate")
    assert unpinned.returncode == 0, unpinned.stdout
    assert "trust root NOT pinned" in unpinned.stdout
    assert run(clone, "gate", "--strict").returncode == 1
    # Pinned to the original root (flag or CI variable): not the registry CI trusts.
    pinned = run(clone, "gate", "--root", original)
    assert pinned.returncode == 1
    assert "not the pinned trust root" in pinned.stdout
    monkeypatch.setenv("WORKBENCH_TRUST_ROOT", original)
    code, data = gate(clone)
    assert code == 1 and data["trust_root"]["problems"]


def test_committed_pin_is_checked_against_the_root_given_out_of_band(
    demo_repo: Path, tmp_path: Path
) -> None:
    original = root_of(demo_repo)
    committed = run(demo_repo, "registry", "root", "--commit", who="grace.whitfield")
    assert committed.returncode == 0, committed.stderr
    assert (demo_repo / "keys" / "trust-root").read_text().strip() == original
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(demo_repo), str(clone)], check=True)
    scope = ("--changed-since", "HEAD")
    # A pin in the repository vouches only for itself: still NOT pinned, --strict fails.
    code, data = gate(clone, *scope)
    assert code == 0 and data["trust_root"]["pinned"] is False
    assert "keys/trust-root" in data["trust_root"]["warning"]
    assert run(clone, "gate", "--strict", *scope).returncode == 1
    assert run(clone, "gate", "--strict", "--root", original, *scope).returncode == 0
    # The replaced history carries a committed pin of its own: CI's root exposes it.
    replaced = _replaced_history(demo_repo, tmp_path / "replaced")
    fake_root = run(replaced, "registry", "root").stdout.strip()
    (replaced / "keys" / "trust-root").write_text(fake_root + "\n")
    git(replaced, "add", "keys/trust-root")
    git(replaced, "commit", "-qm", "Pin the trust root")
    code, data = gate(replaced, "--root", original)
    assert code == 1
    assert any("keys/trust-root" in p for p in data["trust_root"]["problems"])
    # A committed pin that does not match the repository's own v1 is an error by itself.
    (clone / "keys" / "trust-root").write_text("0" * 64 + "\n")
    git(clone, "commit", "-qam", "Pin")
    code, data = verify(clone)
    assert code == 1 and any("keys/trust-root" in p for p in data["registry"]["problems"])


def test_a_malformed_trust_root_is_an_input_error(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in (("gate",), ("verify",), ("status",)):
        result = run(demo_repo, *command, "--root", "0" * 63)
        assert result.returncode == 2 and "not a sha256" in result.stderr, command
    monkeypatch.setenv("WORKBENCH_TRUST_ROOT", "the root we trust")
    result = run(demo_repo, "gate")
    assert result.returncode == 2 and "$WORKBENCH_TRUST_ROOT" in result.stderr


def test_a_malformed_registry_statement_in_history_is_no_crash(demo_repo: Path) -> None:
    """A statement whose admin key is no key, committed once and removed: the history walk
    reads it again on every run, and must report it, not fail on it."""
    from workbench.signing.canonical import canonical_json

    obj = json.loads((demo_repo / reg.statement_path(1)).read_bytes())
    obj["predicate"]["admins"][0]["key"] = "ssh-ed25519 AAAA"
    (demo_repo / reg.statement_path(1)).write_bytes(canonical_json(obj))
    git(demo_repo, "commit", "-qam", "Registry v1: typo")
    broken = run(demo_repo, "verify", "--json")
    assert broken.returncode == 1 and json.loads(broken.stdout)["registry"]["problems"]
    git(demo_repo, "revert", "--no-edit", "HEAD")
    code, data = verify(demo_repo)
    assert data["registry"]["problems"] == [] and states(data)[APPROVED] == "approved"
