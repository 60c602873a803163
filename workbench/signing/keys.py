"""Ed25519 signing keys: generation, loading, agent signing and leak detection.

Private keys are OpenSSH-format files that stock ``ssh-keygen`` reads. Keys
that ``cryptography`` cannot decrypt (chacha20-poly1305, aes128-cbc) or that
live only in an agent, FIDO token or PKCS#11 module are used through
``ssh-keygen -Y sign -U``, which talks to ``ssh-agent``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workbench.repo.guard import contains_private_key_material  # noqa: F401 (re-exported)
from workbench.signing import sshsig
from workbench.signing.errors import (
    AgentSigningError,
    KeyLoadError,
    NeedBcrypt,
    PassphraseRequired,
    SigningError,
    UnsupportedKeyCipher,
    UnsupportedKeyType,
    WrongPassphrase,
)

APP_DIR = "handshake-workbench"
GIT_NAMESPACE = "git"
AGENT_TIMEOUT_SECONDS = 60
MAX_KEY_FILE_BYTES = 64 * 1024

_PERSON_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_OPENSSH_BEGIN = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_OPENSSH_END = b"-----END OPENSSH PRIVATE KEY-----"
_OPENSSH_MAGIC = b"openssh-key-v1\x00"
# Ciphers cryptography 50 can decrypt; anything else needs the agent path.
_SUPPORTED_CIPHERS = frozenset({"none", "aes256-ctr", "aes256-cbc", "aes256-gcm@openssh.com"})
_AGENT_HINT = "load the key into ssh-agent (ssh-add) and sign with --agent"


# --- paths and generation ----------------------------------------------------


def public_key_path(path: Path) -> Path:
    """The ``.pub`` file next to a private key (appended, so dots in names survive)."""
    return Path(f"{path}.pub")


def default_key_path(person_id: str, config_home: Path | None = None) -> Path:
    """``$XDG_CONFIG_HOME/handshake-workbench/keys/<person_id>_ed25519``."""
    if not _PERSON_ID.fullmatch(person_id):
        raise KeyLoadError(
            f"invalid person id {person_id!r}: use lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if config_home is None:
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        # The XDG spec says relative values are invalid and must be ignored.
        config_home = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config"
    return config_home / APP_DIR / "keys" / f"{person_id}_ed25519"


def _ensure_private_dir(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        # mkdir's mode is filtered by the umask; keys deserve exactly 0700.
        os.chmod(directory, 0o700)


@contextlib.contextmanager
def _temp_file(target: Path, mode: int) -> Iterator[tuple[int, Path]]:
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        yield fd, tmp
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)


def _write_new_file(target: Path, data: bytes, mode: int) -> None:
    """Write atomically and never replace an existing file."""
    with _temp_file(target, mode) as (fd, tmp):
        os.write(fd, data)
        os.fsync(fd)
        try:
            # link() fails if the target exists, unlike rename(): no overwrite race.
            os.link(tmp, target)
        except FileExistsError:
            raise KeyLoadError(f"refusing to overwrite existing key file {target}") from None


def generate_keypair(path: Path, passphrase: str | None, comment: str) -> Path:
    """Create an Ed25519 key at ``path`` (0600) and ``path.pub``; return ``path``.

    ``None`` or ``""`` writes an unencrypted key, as ``ssh-keygen -N ''`` does.
    """
    path = Path(path)
    pub_path = public_key_path(path)
    for existing in (path, pub_path):
        if existing.exists():
            raise KeyLoadError(f"refusing to overwrite existing key file {existing}")
    _ensure_private_dir(path.parent)

    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    try:
        private_bytes = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption
        )
    except UnsupportedAlgorithm:
        raise NeedBcrypt(
            "encrypting an OpenSSH key needs the bcrypt package: install bcrypt"
        ) from None
    raw_public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    public_line = sshsig.openssh_public_key(raw_public, comment) + "\n"

    _write_new_file(path, private_bytes, 0o600)
    try:
        _write_new_file(pub_path, public_line.encode(), 0o644)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


# --- loading -----------------------------------------------------------------


def _read_key_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyLoadError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyLoadError(f"{path} is too large to be a key file")
    return data


def _openssh_header(data: bytes, path: Path) -> tuple[str, str]:
    """Return (cipher name, key type) from an OpenSSH private key without decrypting it."""
    text = data.strip()
    if not (text.startswith(_OPENSSH_BEGIN) and text.endswith(_OPENSSH_END)):
        raise KeyLoadError(f"{path} is not an OpenSSH private key")
    body = b"".join(text[len(_OPENSSH_BEGIN) : -len(_OPENSSH_END)].split())
    try:
        blob = base64.b64decode(body, validate=True)
        if not blob.startswith(_OPENSSH_MAGIC):
            raise ValueError("magic")
        pos = len(_OPENSSH_MAGIC)
        fields: list[bytes] = []
        for _ in range(3):  # cipher name, kdf name, kdf options
            (length,) = struct.unpack_from(">I", blob, pos)
            fields.append(blob[pos + 4 : pos + 4 + length])
            pos += 4 + length
        pos += 4  # number of keys
        (pub_len,) = struct.unpack_from(">I", blob, pos)
        (type_len,) = struct.unpack_from(">I", blob, pos + 4)
        key_type = blob[pos + 8 : pos + 8 + min(type_len, pub_len)]
        return fields[0].decode("ascii"), key_type.decode("ascii")
    except (binascii.Error, ValueError, struct.error, UnicodeDecodeError):
        raise KeyLoadError(f"{path} is not a valid OpenSSH private key (corrupt data)") from None


def load_private_key(path: Path, passphrase: str | None) -> Ed25519PrivateKey:
    """Load an OpenSSH Ed25519 private key, with a specific error for each failure."""
    path = Path(path)
    data = _read_key_file(path)
    cipher, key_type = _openssh_header(data, path)
    if key_type != sshsig.KEY_TYPE:
        raise UnsupportedKeyType(f"{path} is a {key_type} key; only ssh-ed25519 keys can sign")
    if cipher not in _SUPPORTED_CIPHERS:
        raise UnsupportedKeyCipher(
            f"{path} is encrypted with {cipher}, which this tool cannot decrypt; {_AGENT_HINT}"
        )
    encrypted = cipher != "none"
    if encrypted and not passphrase:
        raise PassphraseRequired(f"{path} is encrypted: a passphrase is required")
    # A passphrase offered for an unencrypted key is harmless; ignore it.
    password = passphrase.encode() if encrypted and passphrase else None
    try:
        key = serialization.load_ssh_private_key(data, password)
    except UnsupportedAlgorithm as exc:
        raise _unsupported(path, str(exc)) from None
    except ValueError as exc:
        if encrypted and "checksum" in str(exc):
            raise WrongPassphrase(f"wrong passphrase for {path}") from None
        raise KeyLoadError(f"{path} is not a valid OpenSSH private key ({exc})") from None
    except TypeError as exc:
        raise KeyLoadError(f"cannot load {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UnsupportedKeyType(f"{path} is not an Ed25519 key; only ssh-ed25519 keys can sign")
    return key


def _unsupported(path: Path, message: str) -> KeyLoadError:
    if "bcrypt" in message:
        return NeedBcrypt(
            f"{path} is encrypted and reading it needs the bcrypt package: "
            "install bcrypt or sign through ssh-agent with --agent"
        )
    if "cipher" in message.lower():
        return UnsupportedKeyCipher(f"{path}: {message}; {_AGENT_HINT}")
    return KeyLoadError(f"cannot load {path}: {message}")


def load_public_key(path: Path) -> bytes:
    """Read an ``ssh-ed25519 AAAA...`` public key file and return the raw 32 bytes."""
    path = Path(path)
    data = _read_key_file(path)
    try:
        line = data.decode("ascii")
    except UnicodeDecodeError:
        raise KeyLoadError(f"{path} is not an OpenSSH public key file") from None
    try:
        return sshsig.public_key_from_openssh(line)
    except KeyLoadError as exc:
        raise type(exc)(f"{path}: {exc}") from None


# --- agent signing -----------------------------------------------------------


def agent_sign(public_key_path: Path, message: bytes, namespace: str) -> bytes:
    """Sign through ssh-agent by running ``ssh-keygen -Y sign -U``; return the armored SSHSIG."""
    public_key_path = Path(public_key_path)
    if not namespace:
        raise SigningError("signature namespace must not be empty")
    if not os.environ.get("SSH_AUTH_SOCK"):
        raise AgentSigningError("no ssh-agent: SSH_AUTH_SOCK is not set (start one with ssh-agent)")
    ssh_keygen = shutil.which("ssh-keygen")
    if ssh_keygen is None:
        raise AgentSigningError("ssh-keygen was not found on PATH; install openssh-client")
    load_public_key(public_key_path)  # fail early, with a clear message, on a bad .pub
    # -U: the key must be in the agent. Without it ssh-keygen falls back to the
    # private file next to the .pub and may prompt on the terminal.
    command = [ssh_keygen, "-q", "-Y", "sign", "-U", "-f", str(public_key_path), "-n", namespace]
    try:
        result = subprocess.run(
            command,
            input=message,
            capture_output=True,
            timeout=AGENT_TIMEOUT_SECONDS,
            check=False,
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AgentSigningError(f"running ssh-keygen failed: {exc}") from None
    if result.returncode != 0:
        raise AgentSigningError(_agent_failure(result.stderr, public_key_path))
    sshsig.parse(result.stdout)  # never hand on output we would not accept ourselves
    return result.stdout


def agent_public_keys() -> list[bytes]:
    """Raw Ed25519 keys ssh-agent holds (``ssh-add -L``); empty when there is no agent."""
    ssh_add = shutil.which("ssh-add")
    if ssh_add is None or not os.environ.get("SSH_AUTH_SOCK"):
        return []
    try:
        result = subprocess.run(
            [ssh_add, "-L"], capture_output=True, timeout=AGENT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    out = []
    for line in result.stdout.decode("ascii", "replace").splitlines():
        try:
            out.append(sshsig.public_key_from_openssh(line))
        except (KeyLoadError, ValueError):
            continue  # other key types, or the "no identities" message
    return out


def _agent_failure(stderr: bytes, public_key_path: Path) -> str:
    text = stderr.decode("utf-8", "replace")
    if "find key in agent" in text:
        return f"the key {public_key_path} is not loaded in ssh-agent (run ssh-add)"
    if "agent socket" in text:
        return "cannot reach ssh-agent: SSH_AUTH_SOCK points to no running agent"
    lines = text.strip().splitlines()
    return (
        f"ssh-keygen could not sign with {public_key_path}: {lines[-1] if lines else 'no output'}"
    )


# --- signers -----------------------------------------------------------------


class Signer(Protocol):
    """Something that produces armored SSHSIG signatures for one Ed25519 key."""

    public_key: bytes
    # Whose key this is (a person id), when the caller knows: a commit is signed with it
    # only for that person.
    person: str | None

    def sign(self, message: bytes, namespace: str) -> bytes: ...


class FileSigner:
    """Signs in process with a private key file, decrypted once at construction."""

    def __init__(self, path: Path, passphrase: str | None, person: str | None = None) -> None:
        self._key = load_private_key(path, passphrase)
        self.public_key: bytes = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.person = person

    def sign(self, message: bytes, namespace: str) -> bytes:
        return sshsig.sign(self._key, message, namespace)


class AgentSigner:
    """Signs through ssh-agent; the private key never enters this process."""

    def __init__(self, public_key_path: Path, person: str | None = None) -> None:
        self.public_key_path = Path(public_key_path)
        self.public_key: bytes = load_public_key(self.public_key_path)
        self.person = person

    def sign(self, message: bytes, namespace: str) -> bytes:
        return agent_sign(self.public_key_path, message, namespace)


def commit_signature(signer: Signer, commit_content: bytes) -> str:
    """Armored SSHSIG over a commit buffer in namespace ``git``, for pygit2's gpgsig header."""
    armored = signer.sign(commit_content, GIT_NAMESPACE)
    # pygit2's create_commit_with_signature stores the header verbatim; a
    # trailing newline would end up inside the commit object.
    return armored.decode("ascii").rstrip("\n")
