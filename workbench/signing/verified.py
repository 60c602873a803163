"""Signatures this machine has already verified, so a clone checks each one once.

Every command re-judges every signed record: co-signatures, registry versions, findings
runs, reviews, clocks, page acknowledgements and delivery records. Their bytes rarely
change, and an Ed25519 verify (≈ 0.15 ms) is the largest part of checking one. What is kept
is only the outcome of that one computation, as a fact about bytes:

    "the Ed25519 signature S by the public key K is valid over the SSHSIG signed data D"

keyed by sha256(K, S, D). D carries the namespace, the hash algorithm and the statement's
hash, so an entry can never vouch for another statement, another purpose or another key,
whichever repository or registry it is met in. Everything else — whose key K is, whether it
is revoked, retired, expired or allowed for the namespace, whether the statement says what
the record needs — is judged on every run, from the bytes, as before (`attestation.py`).
Only successes are kept; a signature that fails is verified (and fails) again every time.

On disk the facts live in the clone's cache, written when a command ends (`.git/handshake-workbench/cache/signatures-v2
.pickle`), each with an HMAC-SHA256 tag under a secret of this user
(`$XDG_CONFIG_HOME/handshake-workbench/cache-secret`, 32 random bytes, mode 0600) that never
enters a repository. An entry without a valid tag (planted, edited, copied from another
user's clone, or the secret is gone) is ignored, so tampering with the file can at worst
cost the time of verifying again, never a verdict. `WORKBENCH_NO_CACHE=1` neither reads nor
writes it; a fresh CI clone starts without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.repo import cache_store
from workbench.repo.user_config import config_home

if TYPE_CHECKING:  # imported by every session: cryptography only once something is verified
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from workbench.signing.sshsig import SshSignature

STORE = "signatures"
SECRET_FILE = "cache-secret"
TAG_BYTES = 16
# A clone with 100,000 signed records keeps them all; beyond that the file stops growing
# (the oldest entries go), which costs time, never a verdict.
MAX_ENTRIES = 200_000

_lock = threading.Lock()
_verified: set[bytes] = set()  # digests verified in this process or loaded with a valid tag
_new: dict[bytes, None] = {}  # verified here and not yet saved (ordered)
_unloaded: set[Path] = set()  # attached clones whose file is not read yet
_writable: dict[Path, None] = {}  # clones to save to, in the order they were attached
# A process that opened many clones (a test run) saves to the last few only.
SAVE_TO = 4


def digest(public_key: bytes, signature: bytes, data: bytes) -> bytes:
    """The fact's key: length-prefixed, so no two (K, S, D) share an encoding."""
    h = hashlib.sha256(b"workbench-verified-ed25519-v1\0")
    for part in (public_key, signature, data):
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()


def verify(parsed: SshSignature, data: bytes, key: Ed25519PublicKey) -> None:
    """`sshsig.verify_parsed`, answered from what this machine has verified before.

    `key` is the registry's key the caller matched with `parsed.public_key`; the fact is
    keyed by that key's bytes, so an entry made for another key never applies."""
    raw = key.public_bytes_raw()
    d = digest(raw, parsed.signature, data)
    _load_pending()
    if d in _verified:
        return
    from workbench.signing import sshsig

    sshsig.verify_parsed(parsed, data, key)  # raises SignatureInvalid: never kept
    with _lock:
        _verified.add(d)
        _new[d] = None


_loaded: set[Path] = set()


def attach(root: Path, writable: bool) -> None:
    """Use (and, if `writable`, keep) the verified signatures of the clone at `root`. Read
    on the first verify; written by `save_all`, which the command line calls when a command
    ends."""
    root = Path(root)
    with _lock:
        if root not in _loaded:
            _unloaded.add(root)
        if writable:
            _writable.pop(root, None)
            _writable[root] = None


def _load_pending() -> None:
    if not _unloaded:
        return
    with _lock:
        pending = list(_unloaded)
        _unloaded.clear()
        _loaded.update(pending)
    for root in pending:
        found = load(root)
        with _lock:
            _verified.update(found)


def user_secret(create: bool) -> bytes | None:
    """This user's 32-byte cache secret (None: none, and not `create`d or not writable);
    also tags the evidence hash cache (`workbench.evidence.hash_cache`)."""
    return _secret(create)


def _secret(create: bool) -> bytes | None:
    path = config_home() / SECRET_FILE
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        if len(data) == 32:
            return data
    if not create:
        return None
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        if len(data) == 32:
            return data
    return None


def _tag(secret: bytes, d: bytes) -> bytes:
    return hmac.new(secret, d, hashlib.sha256).digest()[:TAG_BYTES]


def load(root: Path) -> set[bytes]:
    """The digests of `root`'s cache file whose tag is valid under this user's secret."""
    secret = _secret(create=False)
    stored = cache_store.read(root, STORE)
    if secret is None or not isinstance(stored, bytes):
        return set()
    size = 32 + TAG_BYTES
    out: set[bytes] = set()
    for i in range(0, len(stored) - size + 1, size):
        d, tag = stored[i : i + 32], stored[i + 32 : i + size]
        if hmac.compare_digest(_tag(secret, d), tag):
            out.add(d)
    return out


def save(root: Path) -> None:
    """Add what this process verified to `root`'s file (only entries with a valid tag are
    carried over: a damaged file is rewritten clean)."""
    with _lock:
        new = list(_new)
    if not new or os.environ.get(cache_store.DISABLE_ENV):
        return
    secret = _secret(create=True)
    if secret is None:
        return
    kept = [d for d in load(root) if d not in _new]
    entries = (kept + new)[-MAX_ENTRIES:]
    cache_store.write(root, STORE, b"".join(d + _tag(secret, d) for d in entries))


def save_all() -> None:
    """Save what this process verified to the clones it opened writable (the last few)."""
    with _lock:
        roots = list(_writable)[-SAVE_TO:]
    for root in roots:
        with contextlib.suppress(Exception):  # only a cache: never fail an exit over it
            if (root / ".git").is_dir():
                save(root)
    with _lock:
        _new.clear()


def forget() -> None:
    """Forget every verified signature and attached clone, as a new process would start
    (tests)."""
    with _lock:
        _verified.clear()
        _new.clear()
        _unloaded.clear()
        _loaded.clear()
        _writable.clear()
