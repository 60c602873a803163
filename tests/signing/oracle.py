"""Helpers that make keys with ssh-keygen and ask the stock tools for their verdict."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CONTRACT_NS = "handshake-contract-v1@example.org"
MESSAGE = b'{"_type":"https://in-toto.io/Statement/v1","contract":"orders-api"}\n'


@dataclass(frozen=True)
class SshKey:
    principal: str
    path: Path
    pub_path: Path

    @property
    def private(self) -> Ed25519PrivateKey:
        key = serialization.load_ssh_private_key(self.path.read_bytes(), None)
        assert isinstance(key, Ed25519PrivateKey)
        return key

    @property
    def raw_public(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_line(self) -> str:
        """``ssh-ed25519 AAAA...`` without the comment."""
        return " ".join(self.pub_path.read_text().split()[:2])


def make_key(directory: Path, name: str, *extra: str, key_type: str = "ed25519") -> SshKey:
    path = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", key_type, "-C", f"{name}@team", "-f", str(path), *extra],
        check=True,
        capture_output=True,
    )
    return SshKey(f"{name}@team", path, Path(f"{path}.pub"))


def keygen_sign(key: SshKey, message: bytes, namespace: str, hash_alg: str | None = None) -> bytes:
    """``ssh-keygen -Y sign`` in stdin/stdout mode (no .sig file, so no overwrite prompt)."""
    options = ["-O", f"hashalg={hash_alg}"] if hash_alg else []
    result = subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-f", str(key.path), "-n", namespace, *options],
        input=message,
        capture_output=True,
        check=True,
    )
    return result.stdout


def keygen_verify(
    tmp: Path,
    armored: bytes,
    message: bytes,
    namespace: str,
    key: SshKey,
    allowed_namespaces: str | None = None,
    public_line: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``ssh-keygen -Y verify`` against an allowed_signers file holding only ``key``."""
    allowed = tmp / "allowed_signers"
    line = public_line or key.public_line
    namespaces = allowed_namespaces or namespace
    allowed.write_text(f'{key.principal} namespaces="{namespaces}" {line}\n')
    sig = tmp / "candidate.sig"
    sig.write_bytes(armored)
    return subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", key.principal]
        + ["-n", namespace, "-s", str(sig)],
        input=message,
        capture_output=True,
        check=False,
    )


def keygen_check_novalidate(
    tmp: Path, armored: bytes, message: bytes, namespace: str
) -> subprocess.CompletedProcess[bytes]:
    sig = tmp / "novalidate.sig"
    sig.write_bytes(armored)
    return subprocess.run(
        ["ssh-keygen", "-Y", "check-novalidate", "-n", namespace, "-s", str(sig)],
        input=message,
        capture_output=True,
        check=False,
    )
