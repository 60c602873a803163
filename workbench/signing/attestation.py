"""Verify detached SSHSIG signatures over a statement against the registry head.

Generic: contract co-signatures, change acknowledgements and review completions all
go through ``verify_attestation``; only the namespace and the required principals
differ.

Counting rules (research note §1.3 rule 2):
* a signature counts only if it verifies over the exact statement bytes, in the
  expected namespace, with a key from the registry head that is allowed for that
  namespace, not revoked and not expired at ``now``;
* the principal comes from the registry's key -> principal match, never from the
  file name or the statement; each key and each principal counts once;
* a revoked key, a signature that does not verify, a wrong namespace or a malformed
  file is *invalid* (loud), whatever else is present.

An attestation is identified by (statement sha256, principal, key fingerprint);
signature bytes are malleable for ssh-keygen < 10.4 and are never used as an id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from workbench.signing import sshsig, verified
from workbench.signing.errors import SignatureFormatError, SigningError
from workbench.signing.registry import MAX_SIGS_PER_STATEMENT, Registry
from workbench.signing.statement import MAX_STATEMENT_BYTES

SigStatus = Literal[
    "valid",  # counts
    "unregistered",  # key never in the registry: does not count
    "retired",  # key of an earlier registry version, rotated out: does not count
    "expired",  # key past its valid-before: does not count
    "not-allowed",  # key not allowed for this namespace: does not count
    "malformed",  # invalid
    "bad",  # invalid: does not verify
    "revoked",  # invalid: revoked key
    "wrong-namespace",  # invalid: made for another purpose
]
INVALID_STATUSES = frozenset({"malformed", "bad", "revoked", "wrong-namespace"})


@dataclass(frozen=True)
class AttestationId:
    """What identifies one attestation. Deliberately no signature bytes."""

    statement_sha256: str
    principal: str
    key_fingerprint: str


@dataclass(frozen=True)
class SignatureCheck:
    file: str
    status: SigStatus
    message: str
    person: str | None = None
    principal: str | None = None
    fingerprint: str | None = None

    @property
    def counts(self) -> bool:
        return self.status == "valid"

    @property
    def invalid(self) -> bool:
        return self.status in INVALID_STATUSES

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "status": self.status,
            "message": self.message,
            "person": self.person,
            "fingerprint": self.fingerprint,
        }


@dataclass
class AttestationResult:
    statement_sha256: str
    checks: list[SignatureCheck]
    signed: set[str] = field(default_factory=set)  # person ids whose signature counts
    required: set[str] = field(default_factory=set)
    ids: set[AttestationId] = field(default_factory=set)

    @property
    def missing(self) -> set[str]:
        return self.required - self.signed

    @property
    def invalid(self) -> list[SignatureCheck]:
        return [c for c in self.checks if c.invalid]

    @property
    def satisfied(self) -> bool:
        return not self.missing and not self.invalid


def verify_attestation(
    statement_bytes: bytes,
    sig_files: Mapping[str, bytes],
    namespace: str,
    registry: Registry,
    required_principals: set[str] | frozenset[str],
    *,
    now: datetime | None = None,
) -> AttestationResult:
    """Check every signature file over ``statement_bytes``; see the module docstring.

    ``required_principals`` may be principals (``id@domain``) or person ids; the
    result's ``signed``/``required`` sets are person ids.
    """
    required = {p.partition("@")[0] for p in required_principals}
    result = AttestationResult("", [], required=required)
    if len(statement_bytes) > MAX_STATEMENT_BYTES:
        result.checks.append(
            SignatureCheck("(statement)", "malformed", "statement is over the 64 KiB limit")
        )
        return result
    result.statement_sha256 = hashlib.sha256(statement_bytes).hexdigest()
    names = sorted(sig_files)
    if len(names) > MAX_SIGS_PER_STATEMENT:
        result.checks.append(
            SignatureCheck(
                "(signatures)",
                "malformed",
                f"{len(names)} signature files, more than {MAX_SIGS_PER_STATEMENT}",
            )
        )
        names = names[:MAX_SIGS_PER_STATEMENT]
    data_by_alg: dict[str, bytes] = {}
    seen_keys: set[str] = set()
    for name in names:
        check = _check_one(
            name, sig_files[name], statement_bytes, namespace, registry, now, data_by_alg
        )
        fingerprint = check.fingerprint
        if check.counts and fingerprint is not None:
            if fingerprint in seen_keys:
                check = SignatureCheck(
                    name,
                    "valid",
                    "same key as another signature file (counted once)",
                    check.person,
                    check.principal,
                    fingerprint,
                )
            seen_keys.add(fingerprint)
            result.signed.add(check.person or "")
            result.ids.add(
                AttestationId(result.statement_sha256, check.principal or "", fingerprint)
            )
        result.checks.append(check)
    return result


def _check_one(
    name: str,
    armored: bytes,
    message: bytes,
    namespace: str,
    registry: Registry,
    now: datetime | None,
    data_by_alg: dict[str, bytes],
) -> SignatureCheck:
    try:
        parsed = sshsig.parse(armored)
    except SignatureFormatError as exc:
        return SignatureCheck(name, "malformed", str(exc))
    key = registry.lookup(parsed.public_key)
    fpr = key.fingerprint if key is not None else sshsig.fingerprint(parsed.public_key)
    if parsed.public_key in registry.revoked:
        return SignatureCheck(
            name,
            "revoked",
            f"signed with revoked key {fpr}: every signature of it is invalid",
            fingerprint=fpr,
        )
    if key is None and parsed.public_key in registry.retired:
        person = registry.retired[parsed.public_key]
        return SignatureCheck(
            name,
            "retired",
            f"{person}'s key {fpr} was retired from the registry (re-attest with the new key)",
            person=person,
            fingerprint=fpr,
        )
    if key is None:
        return SignatureCheck(
            name,
            "unregistered",
            f"key {fpr} is not in registry v{registry.version}",
            fingerprint=fpr,
        )
    person, principal = key.person, key.principal
    if parsed.namespace != namespace:
        return SignatureCheck(
            name,
            "wrong-namespace",
            f"made for namespace {parsed.namespace!r}, not {namespace!r}",
            person,
            principal,
            fpr,
        )
    if namespace not in key.namespaces:
        return SignatureCheck(
            name,
            "not-allowed",
            f"{person}'s key is not allowed to sign {namespace}",
            person,
            principal,
            fpr,
        )
    # The signed data depends only on the statement, namespace and hash algorithm:
    # computed once per statement and algorithm, not per signature.
    data = data_by_alg.get(parsed.hash_alg)
    if data is None:
        data = data_by_alg[parsed.hash_alg] = sshsig.signed_data(
            namespace, parsed.hash_alg, message
        )
    try:
        verified.verify(parsed, data, key.key or key.public_key())
    except SigningError as exc:
        return SignatureCheck(name, "bad", str(exc), person, principal, fpr)
    if now is not None and not key.valid_at(now):
        return SignatureCheck(
            name,
            "expired",
            f"{person}'s key expired at {key.valid_before:%Y-%m-%dT%H:%M:%SZ}",
            person,
            principal,
            fpr,
        )
    return SignatureCheck(name, "valid", f"good signature by {person}", person, principal, fpr)
