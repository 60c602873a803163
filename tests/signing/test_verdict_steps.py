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
