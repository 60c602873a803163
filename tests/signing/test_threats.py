"""Every item of the threat checklist (research note §3), against real keys and repos.

Each test is named test_threat_NN_... after the checklist item it covers. Oracle tests
run the stock ssh-keygen and git on the same files and assert the same verdict (or the
documented divergence).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.signing.demo_helpers import (
    APPROVED,
    APPROVED2,
    CONTRACT_NS,
    PENDING,
    REGISTRY_NS,
    STALE,
    blob_versions,
    keygen_verify_file,
    raw_commit,
    read,
    sha256,
    signer,
    states,
    svc,
    verdict,
    wb,
)
from tests.signing.oracle import make_key
from workbench.repo.guard import PrivateKeyMaterial, contains_private_key_material
from workbench.service.errors import InvalidContract, SigningRefused
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing.attestation import AttestationId, verify_attestation
from workbench.signing.canonical import CanonicalError, canonical_json
from workbench.signing.errors import WrongPassphrase
from workbench.signing.snapshot import check_snapshot, write_snapshot
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    StatementError,
    parse_statement,
)

A_DIR = f"attestations/{APPROVED}"
A_STATEMENT = f"{A_DIR}/v1.statement.json"
RAVI = "ravi.iyer@meridian.example"
L = 2**252 + 27742317777372353535851937790883648493


def head_registry(root: Path):  # type: ignore[no-untyped-def]
    return svc(root).registry_state().head


def check(root: Path, statement: bytes, sigs: dict[str, bytes], required=("ravi.iyer",)):  # type: ignore[no-untyped-def]
    return verify_attestation(statement, sigs, CONTRACT_NS, head_registry(root), set(required))


@pytest.mark.oracle
def test_threat_01_contract_byte_tampered_after_approval(demo: Path) -> None:
    path = f"contracts/{APPROVED}.toml"
    data = bytearray(read(demo, path))
    data[-2] ^= 0x01
    raw_commit(demo, {path: bytes(data)})
    v = verdict(demo, APPROVED)
    assert v.state == "stale" and v.current_sha256 != v.subject_sha256
    blob = subprocess.run(
        ["git", "-C", str(demo), "show", f"HEAD:{path}"], capture_output=True, check=True
    ).stdout
    summed = subprocess.run(["sha256sum"], input=blob, capture_output=True, check=True)
    subject = subprocess.run(
        ["jq", "-r", ".subject[0].digest.sha256", str(demo / A_STATEMENT)],
        capture_output=True,
        check=True,
    )
    assert summed.stdout[:64] != subject.stdout.strip()


@pytest.mark.oracle
def test_threat_02_statement_tampered(demo: Path) -> None:
    statement = read(demo, A_STATEMENT)
    sig = read(demo, f"{A_DIR}/v1.ravi.iyer.sig")
    assert check(demo, statement, {"s": sig}).signed == {"ravi.iyer"}
    for pos in range(0, len(statement), max(1, len(statement) // 9)):
        tampered = bytearray(statement)
        tampered[pos] ^= 0x20
        res = check(demo, bytes(tampered), {"s": sig})
        assert res.invalid and not res.signed
        assert keygen_verify_file(demo, sig, bytes(tampered), RAVI).returncode != 0
    # And the service: a tampered statement in the repo makes the contract invalid.
    tampered = statement.replace(b'"approve"', b'"approvE"')
    raw_commit(demo, {A_STATEMENT: tampered})
    assert verdict(demo, APPROVED).state == "invalid"


@pytest.mark.oracle
def test_threat_03_signature_tampered_or_malleated(demo: Path) -> None:
    statement = read(demo, A_STATEMENT)
    armored = read(demo, f"{A_DIR}/v1.ravi.iyer.sig")
    parsed = sshsig.parse(armored)
    # Bit flips in the signature value.
    for i in (0, 31, 32, 63):
        raw = bytearray(parsed.signature)
        raw[i] ^= 1
        blob = parsed.blob.replace(parsed.signature, bytes(raw))
        assert check(demo, statement, {"s": sshsig._armor(blob)}).invalid
    # S + L: same signer and message, different bytes.
    s = int.from_bytes(parsed.signature[32:], "little") + L
    malleated = parsed.signature[:32] + s.to_bytes(32, "little")
    mall_armor = sshsig._armor(parsed.blob.replace(parsed.signature, malleated))
    assert check(demo, statement, {"s": mall_armor}).invalid  # ours: rejected (S < L)
    oracle = keygen_verify_file(demo, mall_armor, statement, RAVI)
    version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr
    if "OpenSSH_9." in version or "OpenSSH_8." in version:
        assert oracle.returncode == 0  # documented divergence (fixed in OpenSSH 10.4)
    # Nothing identifies an attestation by signature bytes.
    fields = {f.name for f in dataclasses.fields(AttestationId)}
    assert fields == {"statement_sha256", "principal", "key_fingerprint"}
    res = check(demo, statement, {"a.sig": armored, "b.sig": armored})
    assert len(res.ids) == 1 and res.signed == {"ravi.iyer"}


@pytest.mark.oracle
def test_threat_04_namespace_confusion(demo: Path) -> None:
    statement = read(demo, A_STATEMENT)
    key = signer(demo, "ravi.iyer")
    for ns in ("git", "file", REGISTRY_NS):
        sig = key.sign(statement, ns)
        res = check(demo, statement, {"x": sig})
        assert [c.status for c in res.checks] == ["wrong-namespace"] and res.invalid
        assert keygen_verify_file(demo, sig, statement, RAVI).returncode == 255
    # ravi is not an admin: his key is not allowed in the registry namespace at all.
    sig = key.sign(statement, REGISTRY_NS)
    out = keygen_verify_file(demo, sig, statement, RAVI, REGISTRY_NS)
    assert out.returncode == 255 and b"not permitted" in out.stderr


@pytest.mark.oracle
def test_threat_05_key_substitution(demo: Path, mallory) -> None:  # type: ignore[no-untyped-def]
    statement = read(demo, A_STATEMENT)
    forged = sshsig.sign(mallory.private, statement, CONTRACT_NS)
    novalidate = subprocess.run(
        ["ssh-keygen", "-Y", "check-novalidate", "-n", CONTRACT_NS, "-s", "/dev/stdin"],
        input=b"",
        capture_output=True,
        check=False,
    )
    sig_file = demo.parent / "forged.sig"
    sig_file.write_bytes(forged)
    ok = subprocess.run(
        ["ssh-keygen", "-Y", "check-novalidate", "-n", CONTRACT_NS, "-s", str(sig_file)],
        input=statement,
        capture_output=True,
        check=False,
    )
    assert ok.returncode == 0, novalidate
    assert keygen_verify_file(demo, sig_file, statement, RAVI).returncode == 255
    res = check(demo, statement, {"v1.ravi.iyer.sig": forged})
    assert res.checks[0].status == "unregistered" and not res.signed
    raw_commit(demo, {f"{A_DIR}/v1.ravi.iyer.sig": forged})
    v = verdict(demo, APPROVED)
    assert v.state != "approved" and "ravi.iyer" in v.missing


def test_threat_06_principal_confusion(demo: Path) -> None:
    sig = read(demo, f"attestations/{STALE}/v1.sofia.marquez.sig")
    raw_commit(demo, {f"{A_DIR}/v1.ravi.iyer.sig": read(demo, f"{A_DIR}/v1.dana.okafor.sig")})
    v = verdict(demo, APPROVED)
    assert v.state == "pending" and v.missing == ["ravi.iyer"]
    assert any("holds a signature by dana.okafor" in n for n in v.notes)
    assert sig  # the principal comes from the key, never the file name


@pytest.mark.oracle
def test_threat_07_principal_pattern_injection(demo: Path, tmp_path: Path) -> None:
    line = read(demo, reg.ALLOWED_SIGNERS).decode().splitlines()[-1]
    key = line.split(" ", 2)[2]
    for principal in ("*@meridian.example", "a,b@meridian.example", "a b@meridian.example"):
        bad = f'{principal} namespaces="{CONTRACT_NS}" {key}\n'.encode()
        with pytest.raises(reg.RegistryError):
            reg.parse_allowed_signers(bad, "meridian.example")
    for person in ("*", "a,b", "../../x", "A"):
        with pytest.raises(reg.RegistryError):
            reg.principal_of(person, "meridian.example")
    with pytest.raises(reg.RegistryError):
        svc(demo, "grace.whitfield").registry.add_key("a,b", key)
    # The oracle shows why: ssh-keygen treats the field as a pattern list.
    k = make_key(tmp_path, "alice")
    (tmp_path / "as").write_text(f'*@team namespaces="{CONTRACT_NS}" {k.public_line}\n')
    sig = sshsig.sign(k.private, b"m", CONTRACT_NS)
    out = keygen_verify_file(demo, sig, b"m", "alice@team", CONTRACT_NS, allowed=tmp_path / "as")
    assert out.returncode == 0


@pytest.mark.oracle
def test_threat_08_threshold_inflation(demo: Path, tmp_path: Path) -> None:
    statement = read(demo, A_STATEMENT)
    ravi = read(demo, f"{A_DIR}/v1.ravi.iyer.sig")
    # Same signature twice: one key, one principal, counted once.
    res = check(
        demo,
        statement,
        {"v1.ravi.iyer.sig": ravi, "v1.dana.okafor.sig": ravi},
        required=("ravi.iyer", "dana.okafor"),
    )
    assert res.signed == {"ravi.iyer"} and res.missing == {"dana.okafor"}
    # Same key under two principals: refused when generating and when loading.
    key = signer(demo, "ravi.iyer").public_key
    policy = reg.RegistryPolicy(admins=["a"], registry_threshold=1)
    with pytest.raises(reg.RegistryError, match="one key belongs to exactly one person"):
        reg.render_allowed_signers({"a": [key], "b": [key]}, policy, "meridian.example")
    text = read(demo, reg.ALLOWED_SIGNERS).decode()
    ravi_line = next(x for x in text.splitlines() if x.startswith(RAVI))
    doubled = text + ravi_line.replace(RAVI, "sofia.marquez@meridian.example") + "\n"
    with pytest.raises(reg.RegistryError, match="listed twice"):
        reg.parse_allowed_signers(doubled.encode(), "meridian.example")
    # ... which stock ssh-keygen would happily accept for both principals.
    (tmp_path / "as").write_text(doubled)
    for principal in (RAVI, "sofia.marquez@meridian.example"):
        out = keygen_verify_file(demo, ravi, statement, principal, allowed=tmp_path / "as")
        assert out.returncode == 0
    # Two keys of one person count once: ravi's second key does not stand in for sofia.
    second = make_key(tmp_path, "ravi2")
    s = svc(demo, "grace.whitfield")
    s.registry.add_key("ravi.iyer", second.public_line)
    s.registry.sign(signer(demo, "grace.whitfield"))
    svc(demo, "erin.walsh").registry.sign(signer(demo, "erin.walsh"))
    stale_st = read(demo, f"attestations/{STALE}/v1.statement.json")
    res = check(
        demo,
        stale_st,
        {
            "a": sshsig.sign(second.private, stale_st, CONTRACT_NS),
            "b": read(demo, f"attestations/{STALE}/v1.ravi.iyer.sig"),
        },
        required=("ravi.iyer", "sofia.marquez"),
    )
    assert res.signed == {"ravi.iyer"} and res.missing == {"sofia.marquez"}
    # A signer from a non-party team does not count, and cannot sign through the service.
    with pytest.raises(SigningRefused, match="not a required signer"):
        svc(demo, "ben.carter").contracts.sign(PENDING, signer(demo, "ben.carter"))
    ben = signer(demo, "ben.carter").sign(
        read(demo, f"attestations/{PENDING}/v1.statement.json"), CONTRACT_NS
    )
    raw_commit(demo, {f"attestations/{PENDING}/v1.aisha.rahman.sig": ben})
    assert verdict(demo, PENDING).state != "approved"


@pytest.mark.oracle
def test_threat_09_staleness_and_aba_revert(demo: Path) -> None:
    path = f"contracts/{STALE}.toml"
    old = blob_versions(demo, path)[1]  # the text v1 was signed over
    assert verdict(demo, STALE).state == "stale"
    for person in ("ravi.iyer", "sofia.marquez"):
        svc(demo, person).contracts.sign(STALE, signer(demo, person))
    v = verdict(demo, STALE)
    assert v.state == "approved" and v.version == 2
    # Revert to the v1 text: v1's signatures must not come back to life.
    w = wb(demo, "sofia.marquez")
    w.commit({path: old}, "revert\n")
    v = verdict(demo, STALE)
    assert v.state == "stale" and v.version == 2
    v1_sig = demo / f"attestations/{STALE}/v1.ravi.iyer.sig"
    v2_statement = read(demo, f"attestations/{STALE}/v2.statement.json")
    assert keygen_verify_file(demo, v1_sig, v2_statement, RAVI).returncode == 255
    result = svc(demo, "ravi.iyer").contracts.sign(STALE, signer(demo, "ravi.iyer"))
    st = parse_statement(read(demo, f"attestations/{STALE}/v3.statement.json"), COSIGN_PREDICATE)
    assert result.version == 3 and st.predicate.contract.previous.version == 2
    assert verdict(demo, STALE).state == "pending"


def test_threat_10_replay_to_another_contract_or_repo(demo: Path) -> None:
    # Another contract's attestations copied over this one's.
    changes = {
        f"attestations/{APPROVED2}/{p.name}": p.read_bytes() for p in (demo / A_DIR).iterdir()
    }
    raw_commit(demo, changes)
    v = verdict(demo, APPROVED2)
    assert v.state == "invalid" and "statement for" in v.reason
    # The same repository content under another repository id.
    settings = read(demo, "workbench.toml").replace(
        b"5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58", b"00000000-0000-4000-8000-000000000000"
    )
    raw_commit(demo, {"workbench.toml": settings})
    assert set(states(demo).values()) == {"invalid"}


def test_threat_11_rollback(demo: Path) -> None:
    for person in ("ravi.iyer", "sofia.marquez"):
        svc(demo, person).contracts.sign(STALE, signer(demo, person))
    path = f"contracts/{STALE}.toml"
    v1_text = blob_versions(demo, path)[1]
    # Delete v2 and put the v1 text back: v1 looks fully signed again...
    d = f"attestations/{STALE}"
    raw_commit(
        demo,
        {
            path: v1_text,
            f"{d}/v2.statement.json": None,
            f"{d}/v2.ravi.iyer.sig": None,
            f"{d}/v2.sofia.marquez.sig": None,
        },
    )
    # The files alone look approved, but history shows a statement was deleted: rollback,
    # loudly, in every verdict (there is no way to ask for one without history).
    v = verdict(demo, STALE)
    assert v.state == "invalid" and "rollback" in v.reason
    # Snapshot rollback: an auditor who kept the last snapshot rejects an older one.
    heads = {"a": b"1"}
    s1 = write_snapshot(
        heads,
        "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58",
        1,
        None,
        wb(demo).now,
        wb(demo, days_later=30).now,
    )
    s2 = write_snapshot(
        heads,
        "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58",
        2,
        s1,
        wb(demo).now,
        wb(demo, days_later=30).now,
    )
    assert check_snapshot(s2, heads, wb(demo).now, last_seen=s1).ok
    assert "rollback" in check_snapshot(s1, heads, wb(demo).now, last_seen=s2).problems[0]


def test_threat_12_fork(demo: Path) -> None:
    statement = read(demo, A_STATEMENT)
    obj = json.loads(statement)
    obj["subject"][0]["digest"]["sha256"] = "0" * 64
    forked = canonical_json(obj)
    raw_commit(demo, {A_STATEMENT: forked})
    raw_commit(demo, {A_STATEMENT: statement})  # even put back, the rewrite is seen
    v = verdict(demo, APPROVED)
    assert v.state == "invalid" and "fork" in v.reason


def test_threat_13_freeze_expired_snapshot(demo: Path) -> None:
    now = wb(demo).now
    snap = write_snapshot(
        {"a": b"1"},
        "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58",
        1,
        None,
        now,
        wb(demo, days_later=7).now,
    )
    assert check_snapshot(snap, {"a": b"1"}, wb(demo, days_later=6.99).now).current
    at_expiry = check_snapshot(snap, {"a": b"1"}, wb(demo, days_later=7).now)
    assert not at_expiry.current and at_expiry.ok  # history still verifies


def test_threat_14_mix_and_match(demo: Path) -> None:
    heads = {
        A_STATEMENT: read(demo, A_STATEMENT),
        f"attestations/{APPROVED2}/v1.statement.json": read(
            demo, f"attestations/{APPROVED2}/v1.statement.json"
        ),
    }
    snap = write_snapshot(
        heads,
        "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58",
        1,
        None,
        wb(demo).now,
        wb(demo, days_later=7).now,
    )
    mixed = {**heads, A_STATEMENT: read(demo, f"attestations/{STALE}/v1.statement.json")}
    problems = check_snapshot(snap, mixed, wb(demo).now).problems
    assert problems and "does not match" in problems[0]


@pytest.mark.oracle
def test_threat_15_registry_self_authorisation(demo: Path, tmp_path: Path) -> None:
    mallory = make_key(tmp_path, "mallory")
    # Mallory (as helen) adds her key, makes herself an admin and signs the new version.
    files = svc(demo).wb.files("HEAD")
    source = reg.RegistrySource.from_files(files, "meridian.example")
    source.add_key("helen.brooks", mallory.raw_public)
    for old in source.keys_of("helen.brooks")[:-1]:
        source.remove_key(old)
    source.policy = reg.RegistryPolicy(
        admins=["grace.whitfield", "erin.walsh", "helen.brooks"], registry_threshold=1
    )
    rendered = source.render()
    head = svc(demo).registry_state().head
    statement = reg.build_registry_statement(
        {**files, **rendered},
        2,
        head.statement,
        "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58",
        "meridian.example",
    )
    changes = {
        **rendered,
        reg.statement_path(2): statement,
        reg.sig_path(2, "helen.brooks"): sshsig.sign(mallory.private, statement, REGISTRY_NS),
    }
    raw_commit(demo, changes)
    rs = svc(demo).registry_state()
    assert rs.head.version == 1 and rs.pending.version == 2 and not rs.pending.old.met
    assert rs.pending.new.met  # it would authorise itself...
    # ...and her contract signature does not count: v1 is still the registry in force.
    st_bytes = read(demo, f"attestations/{PENDING}/v1.statement.json")
    forged = sshsig.sign(mallory.private, st_bytes, CONTRACT_NS)
    raw_commit(demo, {f"attestations/{PENDING}/v1.aisha.rahman.sig": forged})
    assert verdict(demo, PENDING).state == "pending"
    # git's in-repo allowedSignersFile lets the commit authorise itself; the parent's does not.
    git_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(
        [
            "git",
            "-C",
            str(demo),
            "-c",
            "user.name=M",
            "-c",
            "user.email=m@x",
            "-c",
            "gpg.format=ssh",
            "-c",
            f"user.signingkey={mallory.path}",
            "commit",
            "-q",
            "--allow-empty",
            "-S",
            "-m",
            "self",
        ],
        check=True,
        env=git_env,
    )
    own = subprocess.run(["git", "-C", str(demo), "verify-commit", "HEAD"], capture_output=True)
    assert own.returncode == 0
    parent = tmp_path / "parent_allowed"
    parent.write_bytes(blob_versions(demo, "keys/allowed_signers")[1])
    theirs = subprocess.run(
        [
            "git",
            "-C",
            str(demo),
            "-c",
            f"gpg.ssh.allowedSignersFile={parent}",
            "verify-commit",
            "HEAD",
        ],
        capture_output=True,
    )
    assert theirs.returncode != 0


def test_threat_16_registry_rollback_or_version_skip(demo: Path) -> None:
    files = svc(demo).wb.files("HEAD")
    head = svc(demo).registry_state().head
    grace, erin = signer(demo, "grace.whitfield"), signer(demo, "erin.walsh")

    def attempt(version_in_name: int, version_claimed: int, previous) -> list[str]:  # type: ignore[no-untyped-def]
        repo_copy = demo.parent / f"skip{version_in_name}{version_claimed}"
        subprocess.run(["cp", "-a", str(demo), str(repo_copy)], check=True)
        st = reg.build_registry_statement(
            files,
            version_claimed,
            previous,
            "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58",
            "meridian.example",
        )
        changes = {reg.statement_path(version_in_name): st}
        for name, s in (("grace.whitfield", grace), ("erin.walsh", erin)):
            changes[reg.sig_path(version_in_name, name)] = s.sign(st, REGISTRY_NS)
        raw_commit(repo_copy, changes)
        return svc(repo_copy).registry_state().problems

    assert any("missing" in p for p in attempt(3, 3, head.statement))  # skip v2
    assert any("statement says version 5" in p for p in attempt(2, 5, head.statement))
    assert any("must not name" in p or "must name v1" in p for p in attempt(2, 2, None))
    assert any("version 1" in p for p in attempt(2, 1, None))


@pytest.mark.oracle
def test_threat_17_revoked_key(demo: Path) -> None:
    assert verdict(demo, APPROVED).state == "approved"
    change = svc(demo, "grace.whitfield").registry.revoke("ravi.iyer")
    assert change.version == 2
    # Not in force until both admins signed.
    assert verdict(demo, APPROVED).state == "approved"
    svc(demo, "grace.whitfield").registry.sign(signer(demo, "grace.whitfield"))
    svc(demo, "erin.walsh").registry.sign(signer(demo, "erin.walsh"))
    v = verdict(demo, APPROVED)
    assert v.state == "invalid" and "revoked" in v.reason
    assert verdict(demo, STALE).state == "invalid"  # every signature of the key, any version
    sig = demo / f"{A_DIR}/v1.ravi.iyer.sig"
    statement = read(demo, A_STATEMENT)
    old_allowed = demo.parent / "old_allowed"
    old_allowed.write_bytes(blob_versions(demo, "keys/allowed_signers")[1])
    revoked = demo / "keys" / "revoked_keys"
    out = keygen_verify_file(
        demo, sig, statement, RAVI, CONTRACT_NS, "-r", str(revoked), allowed=old_allowed
    )
    assert out.returncode == 255
    missing = keygen_verify_file(
        demo, sig, statement, RAVI, CONTRACT_NS, "-r", str(demo / "nope"), allowed=old_allowed
    )
    assert missing.returncode == 255  # a missing revocation file fails closed
    with pytest.raises(SigningRefused, match="revoked|not ravi"):
        svc(demo, "ravi.iyer").contracts.sign(STALE, signer(demo, "ravi.iyer"))


@pytest.mark.oracle
def test_threat_18_expired_key_and_timezones(demo: Path) -> None:
    policy = reg.parse_policy(read(demo, reg.POLICY))
    expiry = "2026-11-20T00:00:00Z"
    files = svc(demo).wb.files("HEAD")
    source = reg.RegistrySource.from_files(files, "meridian.example")
    source.policy = reg.RegistryPolicy(
        admins=policy.admins, registry_threshold=2, key_expiry={"ravi.iyer": expiry}
    )
    rendered = source.render()
    assert b'valid-before="20261120000000Z"' in rendered[reg.ALLOWED_SIGNERS]
    head = svc(demo).registry_state().head
    st = reg.build_registry_statement(
        {**files, **rendered},
        2,
        head.statement,
        "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58",
        "meridian.example",
    )
    changes = {**rendered, reg.statement_path(2): st}
    for who in ("grace.whitfield", "erin.walsh"):
        changes[reg.sig_path(2, who)] = signer(demo, who).sign(st, REGISTRY_NS)
    raw_commit(demo, changes)
    v = verdict(demo, APPROVED)  # now = 2026-11-27, after the expiry
    assert v.state == "stale" and "expired" in v.reason
    assert verdict(demo, APPROVED, days_later=-10).state == "approved"  # before it
    sig = demo / f"{A_DIR}/v1.ravi.iyer.sig"
    statement = read(demo, A_STATEMENT)
    for tz in ("UTC", "Pacific/Pago_Pago", "Pacific/Kiritimati"):
        env = {**os.environ, "TZ": tz}
        after = keygen_verify_file(
            demo, sig, statement, RAVI, CONTRACT_NS, "-Overify-time=20261120000001Z", env=env
        )
        before = keygen_verify_file(
            demo, sig, statement, RAVI, CONTRACT_NS, "-Overify-time=20261120000000Z", env=env
        )
        assert (after.returncode, before.returncode) == (255, 0), tz
    with pytest.raises(reg.RegistryError, match="with Z"):
        reg.parse_allowed_signers(
            rendered[reg.ALLOWED_SIGNERS].replace(b"20261120000000Z", b"20261120000000"),
            "meridian.example",
        )


def test_threat_19_backdating_does_not_change_status(demo: Path) -> None:
    # Commit dates are claimed by the signer: signing "in 1990" changes nothing.
    for person, days in (("aisha.rahman", -13000.0),):
        svc(demo, person, days_later=days).contracts.sign(PENDING, signer(demo, person))
    assert verdict(demo, PENDING).state == "approved"
    assert verdict(demo, PENDING, days_later=3650).state == "approved"
    # A claimed createdAt is not part of the format: a statement carrying one is refused.
    obj = json.loads(read(demo, A_STATEMENT))
    obj["predicate"]["createdAt"] = "1990-01-01T00:00:00Z"
    with pytest.raises(StatementError):
        parse_statement(canonical_json(obj), COSIGN_PREDICATE)


MALFORMED = {
    "wrong magic": lambda b: b"SSHSIX" + b[6:],
    "version 2": lambda b: b[:6] + b"\x00\x00\x00\x02" + b[10:],
    "truncated": lambda b: b[:-5],
    "trailing bytes": lambda b: b + b"\x00",
    "huge length": lambda b: b[:10] + b"\xff\xff\xff\xff" + b[14:],
}


def test_threat_20_malformed_sshsig(demo: Path) -> None:
    statement = read(demo, A_STATEMENT)
    armored = read(demo, f"{A_DIR}/v1.ravi.iyer.sig")
    blob = sshsig.parse(armored).blob
    cases = {name: sshsig._armor(f(blob)) for name, f in MALFORMED.items()}
    cases["CRLF armor"] = armored.replace(b"\n", b"\r\n")
    cases["bad base64"] = armored.replace(b"A", b"!", 1)
    cases["empty"] = b""
    for name, data in cases.items():
        res = check(demo, statement, {"v1.ravi.iyer.sig": data})
        assert [c.status for c in res.checks] == ["malformed"], name
    raw_commit(demo, {f"{A_DIR}/v1.ravi.iyer.sig": cases["truncated"]})
    assert verdict(demo, APPROVED).state == "invalid"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600) | st.from_regex(rb'\{"_type":.{0,200}\}', fullmatch=True))
def test_threat_20_statement_parser_fuzz(data: bytes) -> None:
    with contextlib.suppress(StatementError):
        parse_statement(data, COSIGN_PREDICATE)


def test_threat_21_oversize_inputs(demo: Path) -> None:
    statement = read(demo, A_STATEMENT)
    big_sig = b"-----BEGIN SSH SIGNATURE-----\n" + b"A" * 5000 + b"\n-----END SSH SIGNATURE-----\n"
    res = check(demo, statement, {"x": big_sig})
    assert res.checks[0].status == "malformed" and "limit" in res.checks[0].message
    big_statement = statement[:-1] + b"," + b'"x":"' + b"a" * 70000 + b'"}'
    with pytest.raises(StatementError, match="limit"):
        parse_statement(big_statement, COSIGN_PREDICATE)
    assert check(demo, big_statement, {"x": read(demo, f"{A_DIR}/v1.ravi.iyer.sig")}).invalid
    many = {f"v1.p{i}.sig": b"" for i in range(100)}
    assert check(demo, statement, many).checks[0].message.startswith("100 signature files")


def test_threat_22_statement_parser_differentials(demo: Path) -> None:
    statement = read(demo, A_STATEMENT)
    dup = statement.replace(b'{"_type":', b'{"_type":"x","_type":', 1)
    with pytest.raises(StatementError, match="duplicate"):
        parse_statement(dup, COSIGN_PREDICATE)
    obj = json.loads(statement)
    two = dict(obj, subject=obj["subject"] * 2)
    with pytest.raises(StatementError):
        parse_statement(canonical_json(two), COSIGN_PREDICATE)
    for key, value in (
        ("_type", "https://in-toto.io/Statement/v0.1"),
        ("predicateType", "https://slsa.dev/provenance/v1"),
    ):
        with pytest.raises(StatementError):
            parse_statement(canonical_json(dict(obj, **{key: value})), COSIGN_PREDICATE)
    with pytest.raises(StatementError):  # "1" is not 1
        bad = json.loads(statement)
        bad["predicate"]["contract"]["version"] = "1"
        parse_statement(canonical_json(bad), COSIGN_PREDICATE)


def test_threat_23_digest_downgrade(demo: Path) -> None:
    obj = json.loads(read(demo, A_STATEMENT))
    digest = obj["subject"][0]["digest"]
    for replacement in ({"gitBlob": "a" * 40}, {"sha1": "a" * 40}, {**digest, "gitBlob": "a" * 40}):
        obj["subject"][0]["digest"] = replacement
        with pytest.raises(StatementError):
            parse_statement(canonical_json(obj), COSIGN_PREDICATE)


def test_threat_24_canonicalisation_collisions() -> None:
    with pytest.raises(CanonicalError):
        canonical_json({"n": 2**53 + 1})
    with pytest.raises(CanonicalError):
        canonical_json({"n": 1.0})
    assert canonical_json({"n": 2**53 - 1}) == b'{"n":9007199254740991}'
    # The anchor is the raw bytes: data-equal TOML texts never share a digest.
    assert sha256(b"a = 1.0\n") != sha256(b"a = 1\n")
    assert sha256(b"n = 9007199254740992\n") != sha256(b"n = 9007199254740993\n")
    # RFC 8785 key order is by UTF-16 code units.
    assert canonical_json({"\U0001f600": 1, "\ufb01": 2}) == '{"\U0001f600":1,"\ufb01":2}'.encode()


def test_threat_25_unicode_spoofing(demo: Path) -> None:
    path = f"contracts/{APPROVED}.toml"
    nfd = read(demo, path).replace(b'title = "', b'title = "Cafe\xcc\x81 ', 1)
    raw_commit(demo, {path: nfd})
    state = wb(demo).state("HEAD")
    assert any(p.code == "text.nfc" for p in state.problems_for(path))
    assert verdict(demo, APPROVED).state != "approved"
    with pytest.raises(InvalidContract, match="does not validate"):
        svc(demo, "ravi.iyer").contracts.sign(APPROVED, signer(demo, "ravi.iyer"))


@pytest.mark.oracle
def test_threat_26_line_endings_and_filters(demo: Path) -> None:
    path = demo / f"contracts/{APPROVED}.toml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # a CRLF checkout
    assert verdict(demo, APPROVED).state == "approved"  # the blob is what counts
    with pytest.raises(SigningRefused, match="uncommitted"):
        svc(demo, "ravi.iyer").contracts.sign(APPROVED, signer(demo, "ravi.iyer"))
    sig = read(demo, f"{A_DIR}/v1.ravi.iyer.sig").replace(b"\n", b"\r\n")
    assert check(demo, read(demo, A_STATEMENT), {"s": sig}).invalid
    assert keygen_verify_file(demo, sig, read(demo, A_STATEMENT), RAVI).returncode == 255
    assert b"*.sig -text" in read(demo, ".gitattributes")


def test_threat_27_path_traversal_in_names(demo: Path) -> None:
    with pytest.raises(reg.RegistryError):
        reg.sig_path(1, "../../x")
    with pytest.raises(reg.RegistryError):
        svc(demo, "grace.whitfield").registry.add_key(
            "../../x", signer(demo, "ravi.iyer").public_key.hex()
        )
    with pytest.raises(ValueError):
        raw_commit(demo, {f"{A_DIR}/../../x.sig": b"x"})
    files = {f"{A_DIR}/v1.../../x.sig": b"x", f"{A_DIR}/v1.a/b.sig": b"x"}
    from workbench.signing.verdict import attestation_files

    assert (
        not attestation_files(files).get(APPROVED, None)
        or not attestation_files(files)[APPROVED].sigs
    )


def test_threat_28_private_key_never_enters_the_repo(demo: Path) -> None:
    private = read(demo, str(Path(".git/handshake-workbench/demo-keys/ravi.iyer_ed25519")))
    with pytest.raises(PrivateKeyMaterial):
        wb(demo, "ravi.iyer").commit({"keys/pub/ravi.iyer.pub": private}, "oops\n")
    tracked = wb(demo).files("HEAD")
    tracked.update(svc(demo).wb.git.read_files("HEAD"))
    assert not [p for p, data in tracked.items() if contains_private_key_material(data)]


def test_threat_29_encrypted_key_handling(demo: Path, tmp_path: Path) -> None:
    s = svc(demo, "ravi.iyer")
    result = s.keys.keygen("ravi.iyer", "right horse", tmp_path / "k" / "ravi_ed25519")
    with pytest.raises(WrongPassphrase):
        s.keys.make_signer("ravi.iyer", key_path=result.path, passphrase="wrong")
    from workbench.cli.main import main

    code = main(
        ["--repo", str(demo), "--as", "ravi.iyer", "sign", STALE, "--key", str(result.path)]
    )
    assert code == 2  # PassphraseRequired, no terminal: a clear message, not a traceback


@pytest.mark.oracle
def test_threat_30_commit_signature_parity(demo: Path) -> None:
    log = subprocess.run(
        ["git", "-C", str(demo), "log", "--format=%H %G? %ae"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    signed = [line for line in log if " G " in line]
    assert len(signed) >= 13
    assert not [line for line in log if " B " in line or " E " in line]
    head = subprocess.run(["git", "-C", str(demo), "verify-commit", "HEAD"], capture_output=True)
    assert head.returncode == 0 and b'Good "git" signature' in head.stderr
    subprocess.run(["git", "-C", str(demo), "fsck", "--strict"], check=True, capture_output=True)
