"""Export and verify an audit bundle of a generated 1,000-contract repo.

Run: .venv/bin/python benchmarks/bundle_verify.py [--contracts 1000] [--commits 200]

Setup (not timed): `benchmarks.generate` builds the organisation (60 teams, 240 people,
1,000 contracts, a history of --commits commits); every person gets an Ed25519 key; a
key registry v1 signed by two admins and one co-signed statement per contract (both party
leads, and the compliance lead where required) are committed in one commit.
Timed:
* export: `wb.bundles.build` (read HEAD, registry chain, contracts, records,
  evidence, OSCAL, index, snapshot signature, deterministic tar.gz);
* verify: `verify_bundle` from the archive bytes (hardened read, hashes, registry chain,
  snapshot, every contract's chain, subject digest, signatures and required signers).
Target: verify <= 3 s.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# Run as a script (`.venv/bin/python benchmarks/bundle_verify.py`): the repository root is
# not on sys.path then, and `benchmarks` was not importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import NOW, generate  # noqa: E402
from workbench.bundle.verify import verify_bundle  # noqa: E402
from workbench.model.state import load_state  # noqa: E402
from workbench.repo.git import Author, GitRepo
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    ChainLink,
    ContractRef,
    CosignPredicate,
    write_statement,
)
from workbench.signing.verdict import parse_people, required_signers


class KeySigner:
    def __init__(self, key: Ed25519PrivateKey, person: str) -> None:
        self.key = key
        self.person = person
        self.public_key = key.public_key().public_bytes_raw()

    def sign(self, message: bytes, namespace: str) -> bytes:
        return sshsig.sign(self.key, message, namespace)


def sign_repo(root: Path) -> tuple[dict[str, KeySigner], str]:
    git = GitRepo(root)
    files = git.read_files("HEAD")
    state = load_state(files, NOW.date())
    settings = state.settings
    assert settings is not None
    domain, repository = settings.org.domain, settings.org.repository_id
    people = parse_people(files["keys/people.toml"])
    signers = {p.id: KeySigner(Ed25519PrivateKey.generate(), p.id) for p in people.people}
    admins = sorted(signers)[:2]
    source = reg.RegistrySource(
        domain,
        {p: [s.public_key] for p, s in signers.items()},
        {},
        reg.RegistryPolicy(admins=admins, registry_threshold=2),
    )
    changes: dict[str, bytes | None] = dict(source.render())
    new_files = {**files, **changes}
    statement = reg.build_registry_statement(new_files, 1, None, repository, domain)  # type: ignore[arg-type]
    ns = reg.Namespaces.for_domain(domain)
    changes[reg.statement_path(1)] = statement
    for admin in admins:
        changes[reg.sig_path(1, admin)] = signers[admin].sign(statement, ns.registry)
    link = ChainLink(version=1, statementSha256=hashlib.sha256(statement).hexdigest())
    for cid, doc in sorted(state.contracts.items()):
        path = f"contracts/{cid}.toml"
        pred = CosignPredicate(
            repository=repository,
            contract=ContractRef(id=cid, version=1, previous=None),
            registry=link,
            decision="approve",
        )
        st = write_statement(COSIGN_PREDICATE, path, hashlib.sha256(files[path]).hexdigest(), pred)
        changes[f"attestations/{cid}/v1.statement.json"] = st
        for person in required_signers(doc.contract, people, source.policy.approval).roles:
            changes[f"attestations/{cid}/v1.{person}.sig"] = signers[person].sign(st, ns.contract)
    git.commit_files(changes, "Registry v1 and signatures", Author("Bench", "b@bench.example"))
    return signers, admins[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--verify-sh", action="store_true", help="also time VERIFY.sh (sh, once) on the bundle"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        t0 = time.perf_counter()
        generate(root, args.contracts, args.commits)
        signers, exporter = sign_repo(root)
        print(f"setup: {time.perf_counter() - t0:.1f} s ({args.contracts} contracts)")
        wb = Workbench(root, now=NOW + timedelta(hours=1), actor=exporter)
        exports, verifies = [], []
        data = b""
        for _ in range(args.rounds):
            start = time.perf_counter()
            result = Workbench(root, now=wb.now, actor=exporter).bundles.build(
                ExportOptions(record=False), signers[exporter]
            )
            exports.append(time.perf_counter() - start)
            data = result.data
            root_sha = result.root_sha256
            start = time.perf_counter()
            report = verify_bundle(data, root=root_sha, now=wb.now + timedelta(minutes=1))
            verifies.append(time.perf_counter() - start)
            if not report.ok:
                raise SystemExit(
                    "benchmark bundle failed to verify: " + "; ".join(report.failures[:5])
                )
            approved = sum(1 for c in report.contracts if c.state == "approved")
        print(
            f"bundle: {len(data) / 1e6:.2f} MB, {result.files} files, {approved}/"
            f"{len(report.contracts)} contracts approved"
        )
        print(
            f"export: best {min(exports):.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in exports)})"
        )
        print(
            f"verify: best {min(verifies):.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in verifies)})"
            "  target <= 3 s"
        )
        if args.verify_sh:
            import subprocess

            from workbench.bundle.verify_sh import VERIFY_SH

            (Path(tmp) / "VERIFY.sh").write_text(VERIFY_SH)
            (Path(tmp) / "bundle.tar.gz").write_bytes(data)
            start = time.perf_counter()
            done = subprocess.run(
                ["sh", str(Path(tmp) / "VERIFY.sh"), str(Path(tmp) / "bundle.tar.gz"), root_sha],
                capture_output=True,
                text=True,
            )
            took = time.perf_counter() - start
            last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
            print(f"VERIFY.sh: {took:.1f} s, exit {done.returncode}: {last}")


if __name__ == "__main__":
    main()
