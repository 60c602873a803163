"""The signing workflow end to end: keygen, registry, sign, verify, rotate, re-attest."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.signing.conftest import FIXED_NOW
from tests.signing.demo_helpers import (
    APPROVED,
    PENDING,
    STALE,
    read,
    signer,
    states,
    svc,
    verdict,
    wb,
)
from tests.signing.oracle import make_key
from workbench.cli.main import main
from workbench.model.settings import Policy
from workbench.signing import registry as reg
from workbench.signing.verdict import parse_people, required_signers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.oracle
def test_fresh_repo_from_keygen_to_approved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.service.init import init_repo

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    root = init_repo(tmp_path / "gov", domain="example.org", now=FIXED_NOW)
    r = ["--repo", str(root)]  # the real clock: commands that record refuse a what-if --now
    for person in ("data.lead", "model.lead"):
        code, out = run(capsys, *r, "keygen", "--person", person, "--no-passphrase")
        assert code == 0, out
    key = tmp_path / "config" / "handshake-workbench" / "keys" / "data.lead_ed25519"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    code, out = run(
        capsys,
        *r,
        "--as",
        "data.lead",
        "registry",
        "init",
        "--admin",
        "data.lead",
        "--admin",
        "model.lead",
        "--threshold",
        "2",
    )
    assert code == 0 and "not written yet" in out, out
    for person in ("data.lead", "model.lead"):
        code, out = run(
            capsys,
            *r,
            "--as",
            "data.lead",
            "registry",
            "add-key",
            person,
            str(tmp_path / "config/handshake-workbench/keys" / f"{person}_ed25519.pub"),
        )
        assert code == 0, out
    assert "registry v1 written" in out
    code, out = run(capsys, *r, "verify")
    assert code == 1 and "draft" in out  # nothing approved yet; the registry is pending
    for person in ("data.lead", "model.lead"):
        code, out = run(capsys, *r, "--as", person, "registry", "sign")
        assert code == 0, out
    assert "now in force" in out
    code, root_sha = run(capsys, *r, "registry", "root", "--pin")
    assert code == 0 and len(root_sha.strip()) == 64
    code, out = run(capsys, *r, "sign", "data-to-model", "--as", "data.lead")
    assert code == 0 and "pending" in out, out
    code, out = run(capsys, *r, "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["contracts"][0]["missing"] == ["model.lead"]
    code, out = run(capsys, *r, "sign", "data-to-model", "--as", "model.lead")
    assert code == 0 and "approved" in out, out
    code, out = run(capsys, *r, "sign", "data-to-model", "--as", "model.lead")
    assert code == 0 and "already signed" in out
    code, out = run(capsys, *r, "verify", "data-to-model")
    assert code == 0 and "approved" in out
    code, out = run(capsys, *r, "verify", "--root", "0" * 64)
    assert code == 1 and "trust root" in out
    code, out = run(capsys, *r, "registry", "show", "--json")
    assert code == 0 and json.loads(out)["head_version"] == 1
    verify = subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            f"gpg.ssh.allowedSignersFile={root}/keys/allowed_signers",
            "verify-commit",
            "HEAD",
        ],
        capture_output=True,
    )
    assert verify.returncode == 0, verify.stderr
    subprocess.run(["git", "-C", str(root), "fsck", "--strict"], check=True, capture_output=True)
    # The registry files are deterministic: regenerating them gives the same bytes.
    files = wb(root).files("HEAD")
    source = reg.RegistrySource.from_files(files, "example.org")
    assert all(files[p] == data for p, data in source.render().items())


def test_rotation_and_reattest(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = make_key(tmp_path, "ravi-new")
    svc(demo, "grace.whitfield").registry.rotate("ravi.iyer", new.public_line)
    assert verdict(demo, APPROVED).state == "approved"  # not in force until signed
    svc(demo, "grace.whitfield").registry.sign(signer(demo, "grace.whitfield"))
    svc(demo, "erin.walsh").registry.sign(signer(demo, "erin.walsh"))
    v = verdict(demo, APPROVED)
    assert v.state == "stale" and "retired" in v.reason
    assert svc(demo, "ravi.iyer").contracts.reattest_candidates() == [APPROVED]
    code, out = run(
        capsys,
        "--repo",
        str(demo),
        "sign",
        "--reattest",
        "--as",
        "ravi.iyer",
        "--key",
        str(new.path),
    )
    assert code == 0 and APPROVED in out, out
    assert verdict(demo, APPROVED).state == "approved"
    assert states(demo)[STALE] == "stale"  # stale for its own reason: not re-attested


def test_no_self_approval(demo: Path) -> None:
    state = wb(demo).state("HEAD")
    people = parse_people(read(demo, "keys/people.toml"))
    contract = state.contracts["loan-decisioning-to-fair-lending"].contract
    # Pretend its living-attestation term needs compliance sign-off: grace leads both.
    strict = Policy(
        compliance_team="fair-lending-compliance",
        compliance_term_kinds=["living_attestation"],
        no_self_approval=True,
    )
    req = required_signers(contract, people, strict)
    assert req.blocked and "no self-approval" in req.blocked[0]
    with_helen = contract.model_copy(update={"cosigners": ["helen.brooks"]})
    req = required_signers(with_helen, people, strict)
    assert not req.blocked
    assert req.roles["helen.brooks"] == ["co-signer", "independent compliance sign-off"]
    relaxed = strict.model_copy(update={"no_self_approval": False})
    req = required_signers(contract, people, relaxed)
    assert req.roles["grace.whitfield"] == [
        "consumer lead (fair-lending-compliance)",
        "compliance lead (fair-lending-compliance)",
    ]


def test_preview_shows_what_you_sign(demo: Path) -> None:
    preview = svc(demo, "ravi.iyer").contracts.preview(STALE)
    assert preview.version == 2 and preview.new_statement and not preview.already_signed
    assert preview.roles == ["provider lead (credit-risk-model)"]
    assert preview.last_signed_version == 1
    added = [
        line for line in preview.diff.splitlines() if line.startswith("+") and "pricing" in line
    ]
    assert added, preview.diff
    # Ten days ago the policy seam still validated (its lineage owner had not left yet).
    assert svc(demo, "tomas.lindqvist", days_later=-10).contracts.preview(PENDING).already_signed


def test_demo_marks_and_signed_commits(demo: Path) -> None:
    views = wb(demo).seam_map()
    marks = {v.id: v.marks.get("signature") for v in views}
    assert marks[APPROVED] == "approved" and marks[STALE] == "stale"
    assert marks[PENDING] == "pending" and "none" in marks.values()
    # The service's write door signs with the actor's demo key.
    commit = wb(demo, "aisha.rahman").commit({"actions/note.md": b"x\n"}, "note\n")
    assert wb(demo).git.commit_info(commit).signed


def test_statement_bytes_are_deterministic(demo: Path) -> None:
    statement = read(demo, f"attestations/{APPROVED}/v1.statement.json")
    from workbench.signing.canonical import canonical_json

    assert canonical_json(json.loads(statement)) == statement
    assert b" " not in statement and not statement.endswith(b"\n")
