"""Verify 5,000 attestations over 1,000 contracts against a bare Ed25519 verify loop.

Run: .venv/bin/python benchmarks/signing_verify.py [--contracts 1000] [--signers 5]

Setup (not timed): a registry of 50 people, 1,000 contract statements (canonical
in-toto bytes) each signed by 5 of them (SSHSIG, namespace handshake-contract-v1).
Timed:
* bare:  cryptography Ed25519PublicKey.verify over the same 5,000 signatures, with
         keys already loaded and the signed blobs precomputed (the floor);
* ours:  verify_attestation() per statement from the armored .sig bytes: strict
         armor parse, registry lookup, revocation/namespace/expiry checks, the
         SSHSIG signed-data hash (once per statement) and the Ed25519 verify.
Target: ours <= 1.3x bare.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing.attestation import verify_attestation
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    ChainLink,
    ContractRef,
    CosignPredicate,
    Statement,
    write_statement,
)

DOMAIN = "bench.example"
REPO = "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58"


def build(contracts: int, signers: int, people: int = 50):  # type: ignore[no-untyped-def]
    keys = {f"p{i:03d}": Ed25519PrivateKey.generate() for i in range(people)}
    raw = {p: k.public_key().public_bytes_raw() for p, k in keys.items()}
    policy = reg.RegistryPolicy(admins=["p000", "p001"], registry_threshold=2)
    allowed = reg.render_allowed_signers({p: [r] for p, r in raw.items()}, policy, DOMAIN)
    registry = reg.Registry(
        version=1,
        statement=Statement(b"", "0" * 64, "", (), None),
        domain=DOMAIN,
        repository=REPO,
        files={},
        keys=reg.parse_allowed_signers(allowed, DOMAIN),
        revoked=frozenset(),
        policy=policy,
    )
    ns = registry.namespaces.contract
    items = []
    names = sorted(keys)
    for c in range(contracts):
        cid = f"contract-{c:04d}"
        body = f'id = "{cid}"\n'.encode() * 40
        predicate = CosignPredicate(
            repository=REPO,
            contract=ContractRef(id=cid, version=1, previous=None),
            registry=ChainLink(version=1, statementSha256="0" * 64),
            decision="approve",
        )
        statement = write_statement(
            COSIGN_PREDICATE, f"contracts/{cid}.toml", hashlib.sha256(body).hexdigest(), predicate
        )
        who = [names[(c * 7 + j * 11) % people] for j in range(signers)]
        sigs = {f"v1.{p}.sig": sshsig.sign(keys[p], statement, ns) for p in who}
        items.append((statement, sigs, set(who)))
    return registry, ns, items


def bare_inputs(registry, ns, items):  # type: ignore[no-untyped-def]
    out = []
    for statement, sigs, _who in items:
        data = sshsig.signed_data(ns, "sha512", statement)
        for armored in sigs.values():
            parsed = sshsig.parse(armored)
            out.append((registry.keys[parsed.public_key].public_key(), parsed.signature, data))
    return out


def time_bare(inputs) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for key, signature, data in inputs:
        key.verify(signature, data)
    return time.perf_counter() - start


def time_ours(registry, ns, items) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for statement, sigs, who in items:
        result = verify_attestation(statement, sigs, ns, registry, who)
        if not result.satisfied:
            raise SystemExit("benchmark data failed to verify")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--signers", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    registry, ns, items = build(args.contracts, args.signers)
    inputs = bare_inputs(registry, ns, items)
    bare, ours = [], []
    for _ in range(args.rounds):  # interleaved, best of N: robust to a noisy machine
        bare.append(time_bare(inputs))
        ours.append(time_ours(registry, ns, items))
    n = len(inputs)
    b, o = min(bare), min(ours)
    print(f"attestations: {n} over {args.contracts} contracts ({args.signers} signers each)")
    print(
        f"bare Ed25519 verify loop: {b * 1000:8.1f} ms  ({b / n * 1e6:6.1f} us/sig)  "
        f"median {statistics.median(bare) * 1000:.1f} ms"
    )
    print(
        f"verify_attestation:      {o * 1000:8.1f} ms  ({o / n * 1e6:6.1f} us/sig)  "
        f"median {statistics.median(ours) * 1000:.1f} ms"
    )
    per_round = sorted(oo / bb for oo, bb in zip(ours, bare, strict=True))
    print(f"ratio (best of {args.rounds}): {o / b:.3f}x  (target <= 1.3x)")
    print(
        f"ratio per round (same round): min {per_round[0]:.3f}x  "
        f"median {statistics.median(per_round):.3f}x  max {per_round[-1]:.3f}x"
    )


if __name__ == "__main__":
    main()
