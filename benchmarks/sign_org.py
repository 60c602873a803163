"""Add a signed key registry and co-signatures to an organisation made by `generate.py`.

    python -m benchmarks.generate OUT --contracts 1000 --commits 2000
    python -m benchmarks.sign_org OUT

Registry v1 (every team lead's key but one; admins p000-0 and p001-0, threshold 2), then v2
(the last lead's key) written in one commit and signed by each admin in its own, then v1
statements for every contract co-signed by both party leads, committed 300 files at a time.
`workbench verify` then says every contract is approved. Keys are made fresh each run and
thrown away: the repository is for timing `verify`, `status` and `gate`, not for signing.
"""

from __future__ import annotations

import argparse
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workbench.model.settings import EvaluationPolicy, ExportPolicy
from workbench.repo.git import Author, GitRepo
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    REGISTRY_PREDICATE,
    ChainLink,
    ContractRef,
    CosignPredicate,
    parse_statement,
    sha256_hex,
    write_statement,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ADMINS = ["p000-0", "p001-0"]
RUNNER_KEYS: dict[str, Ed25519PrivateKey] = {}
# The exporter's key (`exporter=`): registered, and named by the signed policy's [export].
EXPORTER_KEYS: dict[str, Ed25519PrivateKey] = {}
WHO = Author("Bench", "bench@bench.example")


def sign_org(root: Path, runner: str | None = None, exporter: str | None = None) -> int:
    """Sign the organisation; `runner`: a person of people.toml (a CI identity) whose key is
    registered and whom the policy names as the evaluation runner (its key: `RUNNER_KEYS`);
    `exporter`: a person whose key is registered and whom the policy's `[export] exporters`
    names, as an organisation authorises its auditor-facing exporter (`EXPORTER_KEYS`)."""
    settings = tomllib.loads((root / "workbench.toml").read_text())
    domain, repository = settings["org"]["domain"], settings["org"]["repository_id"]
    people = tomllib.loads((root / reg.PEOPLE).read_text())
    leads = {t["id"]: t["lead"] for t in people["teams"]}
    keys = {p: Ed25519PrivateKey.generate() for p in leads.values()}
    if runner is not None:
        keys[runner] = RUNNER_KEYS[runner] = Ed25519PrivateKey.generate()
    if exporter is not None:
        keys[exporter] = EXPORTER_KEYS[exporter] = Ed25519PrivateKey.generate()
    raw = {p: k.public_key().public_bytes_raw() for p, k in keys.items()}
    last = sorted(r for r in raw if r not in (runner, exporter))[-1]
    ns = reg.Namespaces.for_domain(domain)
    git = GitRepo(root)

    source = reg.RegistrySource(
        domain,
        {p: [r] for p, r in raw.items() if p != last},
        {},
        reg.RegistryPolicy(
            admins=ADMINS,
            registry_threshold=2,
            evaluation=EvaluationPolicy(runners=[runner] if runner else []),
            **({"export": ExportPolicy(exporters=[exporter])} if exporter else {}),
        ),
    )
    rendered = source.render()
    v1 = reg.build_registry_statement(
        {**git.read_files("HEAD"), **rendered}, 1, None, repository, domain
    )
    changes: dict[str, bytes | None] = {**rendered, reg.statement_path(1): v1}
    for admin in ADMINS:
        changes[reg.sig_path(1, admin)] = sshsig.sign(keys[admin], v1, ns.registry)
    git.commit_files(changes, "Registry v1\n", WHO, when=NOW)

    source.add_key(last, raw[last])
    rendered = source.render()
    previous = parse_statement(v1, REGISTRY_PREDICATE, subjects=len(reg.REGISTRY_FILES))
    v2 = reg.build_registry_statement(
        {**git.read_files("HEAD"), **rendered}, 2, previous, repository, domain
    )
    git.commit_files({**rendered, reg.statement_path(2): v2}, "Registry v2\n", WHO, when=NOW)
    for admin in ADMINS:
        sig = sshsig.sign(keys[admin], v2, ns.registry)
        git.commit_files({reg.sig_path(2, admin): sig}, f"Sign v2 as {admin}\n", WHO, when=NOW)

    link = ChainLink(version=2, statementSha256=sha256_hex(v2))
    files = git.read_files("HEAD")
    contracts = sorted(p for p in files if p.startswith("contracts/") and p.endswith(".toml"))
    batch: dict[str, bytes | None] = {}
    for n, path in enumerate(contracts):
        contract = tomllib.loads(files[path].decode())
        cid = contract["id"]
        predicate = CosignPredicate(
            repository=repository,
            contract=ContractRef(id=cid, version=1, previous=None),
            registry=link,
            decision="approve",
        )
        statement = write_statement(COSIGN_PREDICATE, path, sha256_hex(files[path]), predicate)
        batch[f"attestations/{cid}/v1.statement.json"] = statement
        for side in ("provider", "consumer"):
            lead = leads[contract["seam"][side]]
            batch[f"attestations/{cid}/v1.{lead}.sig"] = sshsig.sign(
                keys[lead], statement, ns.contract
            )
        if len(batch) > 300 or n == len(contracts) - 1:
            git.commit_files(batch, "Co-sign contracts\n", WHO, when=NOW)
            batch = {}
    return len(contracts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("repo", type=Path, help="a repository made by benchmarks.generate")
    args = parser.parse_args()
    print(f"co-signed {sign_org(args.repo)} contracts in {args.repo}")


if __name__ == "__main__":
    main()
