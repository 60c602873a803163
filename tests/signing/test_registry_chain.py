"""The registry chain walk returns one typed step per version (python-tuf's shape): what it
decided for that version and why. Pure: keys, statements and signatures made here."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workbench.signing import registry as reg
from workbench.signing import sshsig

DOMAIN = "chain.example"
REPOSITORY = "0b6f1c9e-6a57-4f4c-9d0e-3c1a2b4d5e6f"
NS = reg.Namespaces.for_domain(DOMAIN)
KEYS = {p: Ed25519PrivateKey.generate() for p in ("ada", "bo", "cy")}


def registry_files(admins: list[str]) -> dict[str, bytes]:
    source = reg.RegistrySource(
        DOMAIN,
        {p: [k.public_key().public_bytes_raw()] for p, k in KEYS.items()},
        {},
        reg.RegistryPolicy(admins=admins, registry_threshold=2),
    )
    return {**source.render(), reg.PEOPLE: b"# who leads which team\n"}


def signed_v1(files: dict[str, bytes], signers: list[str]) -> tuple[bytes, dict[str, bytes]]:
    """Registry v1 over ``files``, signed by ``signers``."""
    statement = reg.build_registry_statement(files, 1, None, REPOSITORY, DOMAIN)
    return statement, {f"v1.{p}.sig": sshsig.sign(KEYS[p], statement, NS.registry) for p in signers}


def test_each_version_has_a_typed_step_complete_then_pending() -> None:
    v1, s1 = signed_v1(registry_files(["ada", "bo"]), ["ada", "bo"])
    files2 = registry_files(["ada", "bo", "cy"])
    prev = reg.walk_chain({1: v1}, {1: s1}, REPOSITORY, DOMAIN).accepted
    v2 = reg.build_registry_statement(files2, 2, prev, REPOSITORY, DOMAIN)
    s2 = {"v2.ada.sig": sshsig.sign(KEYS["ada"], v2, NS.registry)}

    walk = reg.walk_chain({1: v1, 2: v2}, {1: s1, 2: s2}, REPOSITORY, DOMAIN)

    assert [(s.version, s.outcome) for s in walk.steps] == [(1, "complete"), (2, "pending")]
    first, second = walk.steps
    assert first.old is not None and first.old.signed == ["ada", "bo"]  # v1: its own admins
    assert second.old is not None and second.old.missing == ["bo"]
    assert second.new is not None and second.new.missing == ["bo", "cy"]
    assert walk.pending is not None and walk.pending.version == 2
    assert walk.accepted is not None and walk.accepted.sha256 == first.statement.sha256  # type: ignore[union-attr]
    assert not walk.problems


def test_an_unsigned_version_with_a_later_one_breaks_the_chain() -> None:
    files = registry_files(["ada", "bo"])
    v1, s1 = signed_v1(files, ["ada", "bo"])
    accepted = reg.walk_chain({1: v1}, {1: s1}, REPOSITORY, DOMAIN).accepted
    v2 = reg.build_registry_statement(files, 2, accepted, REPOSITORY, DOMAIN)
    s2 = {"v2.ada.sig": sshsig.sign(KEYS["ada"], v2, NS.registry)}
    v3 = reg.build_registry_statement(files, 3, None, REPOSITORY, DOMAIN)

    walk = reg.walk_chain({1: v1, 2: v2, 3: v3}, {1: s1, 2: s2}, REPOSITORY, DOMAIN)

    assert [(s.version, s.outcome) for s in walk.steps] == [(1, "complete"), (2, "broken")]
    assert walk.steps[1].problems == (
        "registry v2 is not signed by enough admins, but later versions exist",
    )
    assert walk.pending is None and list(walk.complete) == [1]
    assert walk.problems == list(walk.steps[1].problems)


def test_a_version_that_does_not_link_to_the_accepted_one_is_broken_when_read() -> None:
    files = registry_files(["ada", "bo"])
    v1, s1 = signed_v1(files, ["ada", "bo"])
    forked = reg.build_registry_statement(files, 2, None, REPOSITORY, DOMAIN)  # no previous

    step = reg.read_version(
        forked, 2, reg.walk_chain({1: v1}, {1: s1}, REPOSITORY, DOMAIN).accepted, REPOSITORY
    )

    assert step.outcome == "broken" and step.statement is None
    assert step.problems == ("registry v2 must name v1 as previous",)


def test_resolve_registry_loads_the_head_from_the_files_it_signed() -> None:
    files = registry_files(["ada", "bo"])
    v1, s1 = signed_v1(files, ["ada", "bo"])
    tree = {**files, reg.statement_path(1): v1}
    tree.update({f"{reg.REGISTRY_DIR}{name}": sig for name, sig in s1.items()})

    paths = reg.registry_paths(tree)
    signed = reg.head_files(
        reg.walk_chain(paths.statements, paths.sigs, REPOSITORY, DOMAIN).accepted, tree, None
    )  # type: ignore[arg-type]
    state = reg.resolve_registry(tree, REPOSITORY, DOMAIN)

    assert list(paths.statements) == [1] and sorted(paths.sigs[1]) == ["v1.ada.sig", "v1.bo.sig"]
    assert signed.missing == [] and set(signed.files) == set(reg.REGISTRY_FILES)
    assert state.ok and state.head is not None and state.head.version == 1
    assert state.head.admins == ["ada", "bo"]
