"""Editing the key registry: the source people change (public keys, revocations, the
policy) and the statement of a new registry version over the files generated from it.
What makes a version count is ``workbench.signing.registry_chain``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workbench.signing import sshsig
from workbench.signing.registry_files import (
    ALLOWED_SIGNERS,
    POLICY,
    PUB_DIR,
    REGISTRY_FILES,
    REVOKED_KEYS,
    Namespaces,
    RegistryError,
    RegistryPolicy,
    check_person_id,
    parse_allowed_signers,
    parse_key_lines,
    parse_policy,
    person_of,
    principal_of,
    render_allowed_signers,
    render_policy,
    render_revoked,
)
from workbench.signing.statement import (
    REGISTRY_PREDICATE,
    ChainLink,
    RegistryAdmin,
    RegistryPredicate,
    RegistryVersion,
    Statement,
    sha256_hex,
    write_statements_bytes,
)

# --- the editable source -------------------------------------------------------------


@dataclass
class RegistrySource:
    """What `workbench registry` edits; the generated files follow from it."""

    domain: str
    pubkeys: dict[str, list[bytes]]
    revoked: dict[bytes, str]
    policy: RegistryPolicy

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], domain: str) -> RegistrySource:
        pubkeys: dict[str, list[bytes]] = {}
        for path in sorted(files):
            if path.startswith(PUB_DIR) and path.endswith(".pub"):
                person = path.removeprefix(PUB_DIR).removesuffix(".pub")
                if "/" in person:
                    continue
                check_person_id(person)
                pubkeys[person] = [raw for raw, _ in parse_key_lines(files[path], path)]
        revoked = {}
        if REVOKED_KEYS in files:
            revoked = {
                raw: comment for raw, comment in parse_key_lines(files[REVOKED_KEYS], REVOKED_KEYS)
            }
        if POLICY not in files:
            raise RegistryError(
                f"{POLICY} is missing: start the registry with `workbench registry init`"
            )
        return cls(domain, pubkeys, revoked, parse_policy(files[POLICY]))

    def person_of_key(self, raw: bytes) -> str | None:
        return next((p for p, keys in self.pubkeys.items() if raw in keys), None)

    def render(self) -> dict[str, bytes]:
        """Every generated file (and the sources), deterministically."""
        out = {
            ALLOWED_SIGNERS: render_allowed_signers(self.pubkeys, self.policy, self.domain),
            REVOKED_KEYS: render_revoked(self.revoked),
            POLICY: render_policy(self.policy),
        }
        for person, keys in self.pubkeys.items():
            out[f"{PUB_DIR}{person}.pub"] = (
                "".join(
                    sshsig.openssh_public_key(raw, principal_of(person, self.domain)) + "\n"
                    for raw in sorted(keys, key=sshsig.openssh_public_key)
                ).encode()
                if keys
                else b""
            )
        return out

    def add_key(self, person: str, raw: bytes) -> None:
        check_person_id(person)
        if raw in self.revoked:
            raise RegistryError(f"key {sshsig.fingerprint(raw)} is revoked and cannot be added")
        owner = self.person_of_key(raw)
        if owner is not None:
            raise RegistryError(f"key {sshsig.fingerprint(raw)} is already registered for {owner}")
        self.pubkeys.setdefault(person, []).append(raw)

    def remove_key(self, raw: bytes) -> str:
        owner = self.person_of_key(raw)
        if owner is None:
            raise RegistryError(f"key {sshsig.fingerprint(raw)} is not in the registry")
        self.pubkeys[owner].remove(raw)
        return owner

    def keys_of(self, person: str) -> list[bytes]:
        return list(self.pubkeys.get(person, []))

    def find_key(self, ref: str) -> bytes:
        """A key by ``SHA256:...`` fingerprint or by person id (if they have exactly one)."""
        if ref.startswith("SHA256:"):
            for keys in self.pubkeys.values():
                for raw in keys:
                    if sshsig.fingerprint(raw) == ref:
                        return raw
            raise RegistryError(f"no registered key has fingerprint {ref}")
        keys = self.keys_of(check_person_id(ref))
        if not keys:
            raise RegistryError(f"{ref} has no key in the registry")
        if len(keys) > 1:
            raise RegistryError(
                f"{ref} has {len(keys)} keys; name one by fingerprint: "
                + ", ".join(sshsig.fingerprint(k) for k in keys)
            )
        return keys[0]


# --- a new registry version -------------------------------------------------------------


def build_registry_statement(
    files: Mapping[str, bytes],
    version: int,
    previous: Statement | None,
    repository: str,
    domain: str,
) -> bytes:
    """The statement for registry ``version`` over the given (generated) files."""
    missing = [p for p in REGISTRY_FILES if p not in files]
    if missing:
        raise RegistryError(f"registry files missing: {', '.join(missing)}")
    policy = parse_policy(files[POLICY])
    keys = parse_allowed_signers(files[ALLOWED_SIGNERS], domain)
    registry_ns = Namespaces.for_domain(domain).registry
    admins = []
    for key in sorted(keys.values(), key=lambda k: (k.principal, k.openssh)):
        if key.person in policy.admins and registry_ns in key.namespaces:
            admins.append(RegistryAdmin(principal=key.principal, key=key.openssh))
    without_key = sorted(set(policy.admins) - {person_of(a.principal) for a in admins})
    if len({person_of(a.principal) for a in admins}) < policy.registry_threshold:
        raise RegistryError(
            f"only {len({a.principal for a in admins})} admin(s) have a key, fewer than the "
            f"threshold {policy.registry_threshold}; add keys for: {', '.join(without_key)}"
        )
    predicate = RegistryPredicate(
        repository=repository,
        registry=RegistryVersion(
            version=version,
            previous=None
            if previous is None
            else ChainLink(version=version - 1, statementSha256=previous.sha256),
        ),
        admins=admins,
        threshold=policy.registry_threshold,
    )
    subjects = [(path, sha256_hex(files[path])) for path in REGISTRY_FILES]
    return write_statements_bytes(REGISTRY_PREDICATE, subjects, predicate)
