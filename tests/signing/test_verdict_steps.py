"""The verdict's first steps, before any signature is read: a contract with no statement is
a draft (or says why it cannot be signed yet), whatever the registry holds."""

from __future__ import annotations

from pathlib import Path

from tests.signing.test_registry_chain import DOMAIN, REPOSITORY, registry_files, signed_v1
from workbench.model.settings import Policy
from workbench.model.state import parse_contract
from workbench.signing import registry as reg
from workbench.signing.verdict import AttestationFiles, contract_verdict, parse_people

PROJECT = Path(__file__).resolve().parents[2]
CONTRACT = "contracts/credit-model-to-loan-decisioning.toml"


def test_a_contract_never_signed_is_a_draft_and_says_how_to_sign() -> None:
    files = registry_files(["ada", "bo"])
    v1, sigs = signed_v1(files, ["ada", "bo"])
    tree = {**files, reg.statement_path(1): v1}
    tree.update({f"{reg.REGISTRY_DIR}{name}": sig for name, sig in sigs.items()})
    registry = reg.resolve_registry(tree, REPOSITORY, DOMAIN)
    assert registry.ok
    blob = (PROJECT / CONTRACT).read_bytes()
    people = parse_people((PROJECT / "keys" / "people.toml").read_bytes())

    verdict = contract_verdict(
        "credit-model-to-loan-decisioning",
        parse_contract(CONTRACT, blob),
        blob,
        AttestationFiles(),
        registry,
        REPOSITORY,
        Policy(),
        people=people,
    )

    assert verdict.state == "draft"
    assert (
        verdict.reason
        == "not signed yet: `workbench sign credit-model-to-loan-decisioning` creates v1"
    )
    assert verdict.version is None and verdict.signed == []
    assert verdict.missing == sorted(verdict.required) and "ravi.iyer" in verdict.required

    unparsed = contract_verdict(
        "credit-model-to-loan-decisioning",
        None,
        b"title = ",
        AttestationFiles(),
        registry,
        REPOSITORY,
        Policy(),
        people=people,
    )
    assert unparsed.state == "draft"
    assert unparsed.reason == "the contract does not validate; fix it before signing"


def test_admin_signatures_with_different_hash_algorithms_all_count(demo_repo: Path) -> None:
    """ssh-keygen signs with sha512 by default and with sha256 on request
    (`-O hashalg=sha256`): a registry version signed one way by one admin and the other way
    by the next must count both (the signed data differs per hash algorithm)."""
    import subprocess

    from workbench.signing import sshsig
    from workbench.signing.registry_chain import count_admin_signatures
    from workbench.signing.statement import REGISTRY_PREDICATE, parse_statement

    folder = demo_repo / "keys" / "registry"
    raw = (folder / "v1.statement.json").read_bytes()
    statement = parse_statement(raw, REGISTRY_PREDICATE, subjects=None)
    grace = (folder / "v1.grace.whitfield.sig").read_bytes()
    namespace = sshsig.parse(grace).namespace
    key = demo_repo / ".git" / "handshake-workbench" / "demo-keys" / "erin.walsh_ed25519"
    message = demo_repo / "message"
    message.write_bytes(raw)
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-Y",
            "sign",
            "-n",
            namespace,
            "-O",
            "hashalg=sha256",
            "-f",
            str(key),
            str(message),
        ],
        check=True,
        capture_output=True,
    )
    sha256_sig = (demo_repo / "message.sig").read_bytes()
    assert sshsig.parse(sha256_sig).hash_alg == "sha256"
    assert sshsig.parse(grace).hash_alg == "sha512"
    sigs = {
        "v1.erin.walsh.sig": sha256_sig,  # sorts first: sha256
        "v1.grace.whitfield.sig": grace,  # sha512, ssh-keygen's default
    }
    count = count_admin_signatures(statement, sigs, statement, namespace)
    assert count.bad == []
    assert count.signed == ["erin.walsh", "grace.whitfield"]
    # The other order (sha512 verified first, then sha256) counts both too.
    swapped = {"v1.erin.walsh.sig": grace, "v1.grace.whitfield.sig": sha256_sig}
    count = count_admin_signatures(statement, swapped, statement, namespace)
    assert count.bad == [] and count.signed == ["erin.walsh", "grace.whitfield"]
    # A signature relabelled as the other algorithm (same length, so it still parses) is
    # checked over the data of the algorithm it names, and fails: never counted under a
    # digest made with the other one.
    blob = sshsig._dearmor(sha256_sig)
    relabelled = sshsig._armor(blob.replace(b"\0\0\0\x06sha256", b"\0\0\0\x06sha512", 1))
    assert sshsig.parse(relabelled).hash_alg == "sha512"
    sigs = {"v1.erin.walsh.sig": relabelled, "v1.grace.whitfield.sig": grace}
    count = count_admin_signatures(statement, sigs, statement, namespace)
    assert count.signed == ["grace.whitfield"]
    assert len(count.bad) == 1 and count.bad[0].startswith("v1.erin.walsh.sig: ")
