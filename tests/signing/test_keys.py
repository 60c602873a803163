"""Key generation, loading, agent signing, leak detection and git commit signatures."""

from __future__ import annotations

import base64
import os
import re
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.signing.oracle import (
    CONTRACT_NS,
    MESSAGE,
    SshKey,
    keygen_sign,
    keygen_verify,
    make_key,
)
from workbench.signing import keys, sshsig
from workbench.signing.errors import (
    AgentSigningError,
    KeyLoadError,
    NeedBcrypt,
    PassphraseRequired,
    UnsupportedKeyCipher,
    UnsupportedKeyType,
    WrongPassphrase,
)

PASSPHRASE = "correct horse battery staple"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _keygen_public(path: Path, passphrase: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["ssh-keygen", "-y", "-P", passphrase, "-f", str(path)], capture_output=True, check=False
    )


# --- generation ------------------------------------------------------------------


@pytest.mark.oracle
def test_generated_key_is_encrypted_private_and_readable_by_ssh_keygen(tmp_path: Path) -> None:
    path = tmp_path / "config" / "keys" / "alice_ed25519"
    assert keys.generate_keypair(path, PASSPHRASE, "alice@team-a") == path

    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    pub_line = Path(f"{path}.pub").read_text()
    assert pub_line.endswith(" alice@team-a\n")

    derived = _keygen_public(path, PASSPHRASE)
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.decode().split()[:2] == pub_line.split()[:2]
    assert _keygen_public(path, "wrong").returncode != 0  # really encrypted

    loaded = keys.load_private_key(path, PASSPHRASE)
    assert keys.load_public_key(Path(f"{path}.pub")) == loaded.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


@pytest.mark.oracle
def test_generated_key_without_passphrase(tmp_path: Path) -> None:
    path = keys.generate_keypair(tmp_path / "bob_ed25519", None, "bob@team-b")
    assert _keygen_public(path, "").returncode == 0
    assert keys.load_private_key(path, None)


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = keys.generate_keypair(tmp_path / "k", None, "c")
    before = path.read_bytes()
    with pytest.raises(KeyLoadError, match="overwrite"):
        keys.generate_keypair(path, None, "c")
    assert path.read_bytes() == before

    orphan_pub = tmp_path / "other.pub"
    orphan_pub.write_text("keep me\n")
    with pytest.raises(KeyLoadError, match="overwrite"):
        keys.generate_keypair(tmp_path / "other", None, "c")
    assert orphan_pub.read_text() == "keep me\n"
    assert not (tmp_path / "other").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k", "k.pub", "other.pub"]


# --- default path ---------------------------------------------------------------------


def test_default_key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected_tail = Path("handshake-workbench", "keys", "alice.smith_ed25519")
    assert keys.default_key_path("alice.smith", tmp_path) == tmp_path / expected_tail

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert keys.default_key_path("alice.smith") == tmp_path / "xdg" / expected_tail

    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert keys.default_key_path("alice.smith") == tmp_path / "home" / ".config" / expected_tail


@pytest.mark.parametrize("person_id", ["", "../etc", "a/b", "Alice", ".hidden", "-x", "a b", "é"])
def test_default_key_path_rejects_unsafe_ids(person_id: str, tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match="invalid person id"):
        keys.default_key_path(person_id, tmp_path)


# --- loading -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def encrypted(key_dir: Path) -> SshKey:
    """ssh-keygen's default encryption: aes256-ctr with the bcrypt KDF."""
    return make_key(key_dir, "enc", "-N", PASSPHRASE)


@pytest.fixture(scope="module")
def chacha(key_dir: Path) -> SshKey:
    return make_key(key_dir, "chacha", "-N", PASSPHRASE, "-Z", "chacha20-poly1305@openssh.com")


def test_loads_ssh_keygen_encrypted_key(encrypted: SshKey) -> None:
    key = keys.load_private_key(encrypted.path, PASSPHRASE)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw == keys.load_public_key(encrypted.pub_path)


def test_wrong_passphrase(encrypted: SshKey) -> None:
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        keys.load_private_key(encrypted.path, "nope")


@pytest.mark.parametrize("passphrase", [None, ""])
def test_passphrase_required(encrypted: SshKey, passphrase: str | None) -> None:
    with pytest.raises(PassphraseRequired, match=str(encrypted.path)):
        keys.load_private_key(encrypted.path, passphrase)


@pytest.mark.parametrize("cipher", ["chacha20-poly1305@openssh.com", "aes128-cbc"])
def test_unsupported_cipher_suggests_agent(key_dir: Path, cipher: str) -> None:
    key = make_key(key_dir, f"cipher-{cipher[:6]}", "-N", PASSPHRASE, "-Z", cipher)
    for passphrase in (PASSPHRASE, None):
        with pytest.raises(UnsupportedKeyCipher, match="--agent") as info:
            keys.load_private_key(key.path, passphrase)
        assert cipher in str(info.value)


def test_non_ed25519_key_is_refused(key_dir: Path) -> None:
    key = make_key(key_dir, "ecdsa-user", "-N", PASSPHRASE, key_type="ecdsa")
    with pytest.raises(UnsupportedKeyType, match="ecdsa"):
        keys.load_private_key(key.path, PASSPHRASE)
    with pytest.raises(UnsupportedKeyType):
        keys.load_public_key(key.pub_path)


def test_passphrase_for_unencrypted_key_is_ignored(alice: SshKey) -> None:
    assert (
        keys.load_private_key(alice.path, "unused")
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        == alice.raw_public
    )


@pytest.mark.parametrize(
    "content",
    [
        b"garbage",
        b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        b"-----BEGIN OPENSSH PRIVATE KEY-----\n!!!\n-----END OPENSSH PRIVATE KEY-----\n",
    ],
)
def test_garbage_key_names_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken_key"
    path.write_bytes(content)
    with pytest.raises(KeyLoadError, match="broken_key") as info:
        keys.load_private_key(path, None)
    assert type(info.value) is KeyLoadError


def test_truncated_key_is_a_load_error(alice: SshKey, tmp_path: Path) -> None:
    lines = alice.path.read_bytes().splitlines(keepends=True)
    path = tmp_path / "truncated"
    path.write_bytes(b"".join(lines[:3] + lines[-1:]))
    with pytest.raises(KeyLoadError, match="not a valid OpenSSH private key") as info:
        keys.load_private_key(path, None)
    assert str(path) in str(info.value)


def test_missing_and_unreadable_paths(tmp_path: Path, alice: SshKey) -> None:
    with pytest.raises(KeyLoadError, match="missing_key"):
        keys.load_private_key(tmp_path / "missing_key", None)
    with pytest.raises(KeyLoadError, match="cannot read"):
        keys.load_private_key(tmp_path, None)  # a directory
    with pytest.raises(KeyLoadError, match="not an OpenSSH private key"):
        keys.load_private_key(alice.pub_path, None)
    with pytest.raises(KeyLoadError, match="alice"):
        keys.load_public_key(alice.path)


@pytest.mark.parametrize("blocked_encrypted", [True, False])
def test_missing_bcrypt(encrypted: SshKey, alice: SshKey, blocked_encrypted: bool) -> None:
    """Without bcrypt encrypted keys fail with advice; unencrypted keys still load."""
    path = encrypted.path if blocked_encrypted else alice.path
    passphrase = PASSPHRASE if blocked_encrypted else None
    script = (
        "import sys; sys.modules['bcrypt'] = None\n"
        "from pathlib import Path\n"
        "from workbench.signing import keys\n"
        "try:\n"
        f"    keys.load_private_key(Path({str(path)!r}), {passphrase!r})\n"
        "    print('LOADED')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, cwd=Path.cwd()
    )
    out = result.stdout.decode()
    if blocked_encrypted:
        assert out.startswith(NeedBcrypt.__name__), out
        assert "install bcrypt" in out and "--agent" in out
    else:
        assert out.strip() == "LOADED"


def test_load_public_key_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "x.pub"
    path.write_bytes(b"\xff\xfe not a key")
    with pytest.raises(KeyLoadError, match="x.pub"):
        keys.load_public_key(path)


# --- private key leak detection --------------------------------------------------------


def _private_key_samples(alice: SshKey) -> dict[str, bytes]:
    openssh = alice.path.read_bytes()
    body = b"".join(openssh.splitlines()[1:-1])
    raw_blob = base64.b64decode(body)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = serialization.Encoding.PEM
    return {
        "openssh file": openssh,
        "openssh base64 without armor": body,
        "openssh base64 rewrapped at 76": b"\n".join(
            body[i : i + 76] for i in range(0, len(body), 76)
        ),
        "openssh base64 at offset 1": base64.b64encode(b"x" + raw_blob),
        "openssh raw blob": raw_blob,
        "pkcs8": ec_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "encrypted pkcs8": ec_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
        ),
        "ec traditional": ec_key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ),
        "rsa traditional": rsa_key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ),
        "embedded in toml": b'note = """\n' + openssh + b'"""\n',
    }


def test_detects_private_key_material(alice: SshKey) -> None:
    for name, data in _private_key_samples(alice).items():
        assert keys.contains_private_key_material(data), name


def test_public_material_is_not_flagged(alice: SshKey) -> None:
    armored = sshsig.sign(alice.private, MESSAGE, CONTRACT_NS)
    for data in (
        alice.pub_path.read_bytes(),
        f'alice@team-a namespaces="{CONTRACT_NS}" {alice.public_line}\n'.encode(),
        armored,
        b"# Never commit a private key here.\n[team]\nlead = 'alice'\n",
    ):
        assert not keys.contains_private_key_material(data), data


# --- in-process and agent signers ----------------------------------------------------------


@pytest.mark.oracle
def test_file_signer_matches_ssh_keygen(alice: SshKey, encrypted: SshKey, tmp_path: Path) -> None:
    signer = keys.FileSigner(alice.path, None)
    assert signer.public_key == alice.raw_public
    assert signer.sign(MESSAGE, CONTRACT_NS) == keygen_sign(alice, MESSAGE, CONTRACT_NS)

    enc_signer = keys.FileSigner(encrypted.path, PASSPHRASE)
    armored = enc_signer.sign(MESSAGE, CONTRACT_NS)
    assert keygen_verify(tmp_path, armored, MESSAGE, CONTRACT_NS, encrypted).returncode == 0


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A private ssh-agent for one test, killed afterwards by its pid."""
    # Unix socket paths are limited to ~108 bytes; pytest's tmp paths can exceed that.
    sock_dir = tempfile.mkdtemp(prefix="wb-agent-", dir="/tmp")
    sock = os.path.join(sock_dir, "agent.sock")
    out = subprocess.run(
        ["ssh-agent", "-s", "-a", sock], capture_output=True, check=True
    ).stdout.decode()
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", out).group(1))  # type: ignore[union-attr]
    monkeypatch.setenv("SSH_AUTH_SOCK", sock)
    try:
        yield {"SSH_AUTH_SOCK": sock, "SSH_AGENT_PID": str(pid)}
    finally:
        os.kill(pid, 15)
        Path(sock).unlink(missing_ok=True)
        os.rmdir(sock_dir)


def _ssh_add(key: SshKey, passphrase: str | None = None, tmp: Path | None = None) -> None:
    env = dict(os.environ)
    if passphrase is not None:
        assert tmp is not None
        askpass = tmp / "askpass.sh"
        askpass.write_text(f"#!/bin/sh\necho '{passphrase}'\n")
        askpass.chmod(0o700)
        env.update(SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
    subprocess.run(
        ["ssh-add", "-q", str(key.path)],
        env=env,
        capture_output=True,
        check=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.mark.oracle
def test_agent_signature_is_byte_identical(agent: dict[str, str], alice: SshKey) -> None:
    _ssh_add(alice)
    armored = keys.agent_sign(alice.pub_path, MESSAGE, CONTRACT_NS)
    assert armored == sshsig.sign(alice.private, MESSAGE, CONTRACT_NS)

    signer = keys.AgentSigner(alice.pub_path)
    assert signer.public_key == alice.raw_public
    assert signer.sign(MESSAGE, "git") == sshsig.sign(alice.private, MESSAGE, "git")


@pytest.mark.oracle
def test_agent_signs_with_key_cryptography_cannot_decrypt(
    agent: dict[str, str], chacha: SshKey, tmp_path: Path
) -> None:
    """The documented fallback for chacha20 keys really works."""
    _ssh_add(chacha, PASSPHRASE, tmp_path)
    armored = keys.AgentSigner(chacha.pub_path).sign(MESSAGE, CONTRACT_NS)
    assert sshsig.verify(armored, MESSAGE, CONTRACT_NS, chacha.public_line)


@pytest.mark.oracle
def test_agent_without_the_key(agent: dict[str, str], mallory: SshKey) -> None:
    # mallory's private file sits next to the .pub: -U must stop ssh-keygen using it.
    with pytest.raises(AgentSigningError, match="not loaded in ssh-agent"):
        keys.agent_sign(mallory.pub_path, MESSAGE, CONTRACT_NS)


def test_agent_errors(alice: SshKey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(AgentSigningError, match="SSH_AUTH_SOCK is not set"):
        keys.agent_sign(alice.pub_path, MESSAGE, CONTRACT_NS)

    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "dead.sock"))
    with pytest.raises(AgentSigningError, match="cannot reach ssh-agent"):
        keys.agent_sign(alice.pub_path, MESSAGE, CONTRACT_NS)

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AgentSigningError, match="ssh-keygen was not found"):
        keys.agent_sign(alice.pub_path, MESSAGE, CONTRACT_NS)


# --- git commit signatures ----------------------------------------------------------------


def _signed_commit(repo_dir: Path, signer: keys.Signer) -> None:
    repo = pygit2.init_repository(str(repo_dir), initial_head="main")
    (repo_dir / "contract.toml").write_text('id = "orders-api"\n')
    repo.index.add("contract.toml")
    repo.index.write()
    tree = repo.index.write_tree()
    who = pygit2.Signature("Alice", "alice@team-a", 1_800_000_000, 0)
    buf = repo.create_commit_string(who, who, "contract: orders-api v1\n", tree, [])
    signature = keys.commit_signature(signer, buf.encode())
    assert not signature.endswith("\n")
    oid = repo.create_commit_with_signature(buf, signature, "gpgsig")
    # create_commit_with_signature writes the object only; the branch must be moved.
    repo.references.create("refs/heads/main", oid)


def _git_verify(repo_dir: Path, allowed: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(
        ["git", "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", "HEAD"],
        cwd=repo_dir,
        env=env,
        capture_output=True,
        check=False,
    )


@pytest.mark.oracle
def test_pygit2_commit_signature_verifies_with_git(alice: SshKey, tmp_path: Path) -> None:
    repo_dir = tmp_path / "repo"
    _signed_commit(repo_dir, keys.FileSigner(alice.path, None))

    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'alice@team-a namespaces="git" {alice.public_line}\n')
    result = _git_verify(repo_dir, allowed)
    assert result.returncode == 0, result.stderr
    assert b'Good "git" signature for alice@team-a' in result.stderr

    # A key allowed only for contract approvals cannot vouch for commits.
    allowed.write_text(f'alice@team-a namespaces="handshake-contract-v1@x" {alice.public_line}\n')
    refused = _git_verify(repo_dir, allowed)
    assert refused.returncode != 0
    assert b"not permitted for use in signature namespace" in refused.stderr
