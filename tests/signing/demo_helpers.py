"""Helpers over the signed demo repo: services, signers, raw (attacker) commits."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta
from pathlib import Path

from tests.signing.conftest import FIXED_NOW
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.signing import SigningService
from workbench.signing import keys as keymod

DOMAIN = "meridian.example"
CONTRACT_NS = f"handshake-contract-v1@{DOMAIN}"
REGISTRY_NS = f"handshake-registry-v1@{DOMAIN}"
APPROVED = "applicant-data-to-credit-model"  # dana, ravi, grace (compliance)
APPROVED2 = "claims-agent-to-claims-product"  # aisha, ben
STALE = "credit-model-to-loan-decisioning"  # ravi, sofia; edited after signing
PENDING = "policy-data-to-claims-agent"  # tomas signed, aisha missing


def wb(root: Path, actor: str | None = None, days_later: float = 0.0) -> Workbench:
    return Workbench(root, now=FIXED_NOW + timedelta(days=days_later), actor=actor)


def svc(root: Path, actor: str | None = None, days_later: float = 0.0) -> SigningService:
    return wb(root, actor, days_later).signing


def key_path(root: Path, person: str) -> Path:
    return root / ".git" / "handshake-workbench" / "demo-keys" / f"{person}_ed25519"


def signer(root: Path, person: str) -> keymod.FileSigner:
    s = keymod.FileSigner(key_path(root, person), None)
    s.person = person  # type: ignore[attr-defined]
    return s


def verdict(root: Path, contract_id: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return svc(root, **kwargs).verdict(contract_id)  # type: ignore[arg-type]


def states(root: Path) -> dict[str, str]:
    return {v.contract_id: v.state for v in svc(root).verdicts()}


def raw_commit(root: Path, changes: dict[str, bytes | None], who: str = "Mallory") -> str:
    """A commit that bypasses the service, as an attacker with push access would make."""
    return GitRepo(root).commit_files(
        changes, "tamper\n", Author(who, "mallory@evil.example"), when=FIXED_NOW
    )


def read(root: Path, path: str) -> bytes:
    return (root / path).read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keygen_verify_file(
    root: Path,
    sig: Path | bytes,
    message: bytes,
    principal: str,
    namespace: str = CONTRACT_NS,
    *extra: str,
    env: dict[str, str] | None = None,
    allowed: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    if isinstance(sig, bytes):
        path = root.parent / "candidate.sig"
        path.write_bytes(sig)
        sig = path
    return subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(allowed or root / "keys" / "allowed_signers")]
        + ["-I", principal, "-n", namespace, "-s", str(sig), *extra],
        input=message,
        capture_output=True,
        check=False,
        env=env,
    )


def blob_versions(root: Path, path: str) -> list[bytes]:
    """The bytes of ``path`` at each commit that changed it, newest first."""
    ids = subprocess.run(
        ["git", "-C", str(root), "log", "--format=%H", "--", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        subprocess.run(
            ["git", "-C", str(root), "show", f"{c}:{path}"], capture_output=True, check=True
        ).stdout
        for c in ids
    ]
