"""OpenSSH SSHSIG signatures (``ssh-keygen -Y sign``) for Ed25519 keys.

Layout follows PROTOCOL.sshsig v1.4. The signer signs

    "SSHSIG" || string(namespace) || string("") || string(hash_alg) || string(H(message))

and the armored blob carries magic, version, public key, namespace, reserved
field, hash algorithm and the signature. ``sign`` produces output that is
byte-for-byte identical to ``ssh-keygen -Y sign`` (Ed25519 is deterministic).

Deliberate divergences from ssh-keygen 9.2p1 (all stricter, tested):

* Non-canonical Ed25519 signatures (S >= L, e.g. S+L) are rejected because
  OpenSSL checks S < L; ssh-keygen 9.2 accepts them (fixed in OpenSSH 10.4).
  Signature bytes are therefore malleable for stock tools: never use them, or
  ``SshSignature`` equality/hash, as an identity or a dedupe key.
* Only ``ssh-ed25519`` keys are accepted; ssh-keygen also accepts RSA, ECDSA
  and FIDO keys.
* Version 0 is rejected (ssh-keygen only rejects versions above 1).
* A non-empty reserved field is rejected even when the signature covers an
  empty one; ssh-keygen ignores the field's content and accepts that blob.
* Namespaces and hash names must be ASCII.
* Anything after the END armor line other than one final newline is rejected;
  ssh-keygen ignores it. Base64 must be canonical and contain no blank lines.
* Armored input above 4 KiB is rejected before any parsing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from workbench.signing.errors import (
    KeyLoadError,
    SignatureFormatError,
    SignatureInvalid,
    SigningError,
    UnsupportedKeyType,
)

HASH_ALGS: tuple[str, ...] = ("sha512", "sha256")
MAX_ARMORED_BYTES = 4 * 1024

KEY_TYPE = "ssh-ed25519"
MAGIC = b"SSHSIG"
SIG_VERSION = 1
ED25519_PUBLIC_LEN = 32
ED25519_SIG_LEN = 64

ARMOR_BEGIN = b"-----BEGIN SSH SIGNATURE-----"
ARMOR_END = b"-----END SSH SIGNATURE-----"
# ssh-keygen wraps at 70 columns (sshbuf_dtob64(..., 1)); matching it keeps
# our output byte-identical so golden tests can compare with the stock tool.
ARMOR_WIDTH = 70

_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/=]+")


@dataclass(frozen=True)
class SshSignature:
    """A parsed SSHSIG signature.

    Equality and hashing compare every field, including the signature bytes,
    which are malleable for ssh-keygen 9.2 (see module docstring). Callers must
    identify approvals by (signer key from the registry, signed message), never
    by this object or its bytes.
    """

    public_key: bytes  # raw 32-byte Ed25519 key, as embedded in the signature (untrusted)
    namespace: str
    hash_alg: str
    signature: bytes  # raw 64 bytes R || S
    blob: bytes  # the decoded binary SSHSIG blob

    def public_key_openssh(self) -> str:
        return openssh_public_key(self.public_key)


# --- wire encoding -----------------------------------------------------------


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


class _Reader:
    """Bounds-checked reader for RFC 4251 fields; every failure is a format error.

    Field names are only formatted into messages on failure: this is the hot path
    of bulk verification.
    """

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    def _fail(self, n: int, field: str) -> SignatureFormatError:
        return SignatureFormatError(
            f"{self._what}: truncated or oversized {field} "
            f"(needs {n} bytes, {len(self._data) - self._pos} left)"
        )

    def take(self, n: int, field: str) -> bytes:
        pos = self._pos
        end = pos + n
        if end > len(self._data):
            raise self._fail(n, field)
        self._pos = end
        return self._data[pos:end]

    def u32(self, field: str) -> int:
        pos = self._pos
        if pos + 4 > len(self._data):
            raise self._fail(4, field)
        self._pos = pos + 4
        return int.from_bytes(self._data[pos : pos + 4], "big")

    def string(self, field: str) -> bytes:
        pos = self._pos
        data = self._data
        if pos + 4 > len(data):
            raise self._fail(4, field + " length")
        n = int.from_bytes(data[pos : pos + 4], "big")
        start = pos + 4
        if start + n > len(data):
            self._pos = start
            raise self._fail(n, field)
        self._pos = start + n
        return data[start : start + n]

    def text(self, field: str) -> str:
        raw = self.string(field)
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise SignatureFormatError(f"{self._what}: {field} is not ASCII") from None

    def end(self) -> None:
        left = len(self._data) - self._pos
        if left:
            raise SignatureFormatError(f"{self._what}: {left} trailing byte(s) after the data")


def _hash(hash_alg: str, message: bytes) -> bytes:
    if hash_alg not in HASH_ALGS:
        raise SignatureFormatError(
            f"unsupported hash algorithm {hash_alg!r} (expected one of {', '.join(HASH_ALGS)})"
        )
    return hashlib.new(hash_alg, message).digest()


def _signed_data(namespace: str, hash_alg: str, message: bytes) -> bytes:
    # The reserved field is always signed empty, as ssh-keygen rebuilds it
    # empty regardless of the blob; a blob with a non-empty one is refused.
    return (
        MAGIC
        + _string(namespace.encode("ascii"))
        + _string(b"")
        + _string(hash_alg.encode("ascii"))
        + _string(_hash(hash_alg, message))
    )


def _public_key_blob(raw: bytes) -> bytes:
    return _string(KEY_TYPE.encode()) + _string(raw)


def _check_namespace(namespace: str) -> None:
    # A bad namespace is a caller or user error, so it is reported as such
    # rather than as a verdict on the signature.
    if not namespace:
        raise SigningError("signature namespace must not be empty")
    if not namespace.isascii() or not namespace.isprintable():
        raise SigningError(f"signature namespace must be printable ASCII: {namespace!r}")


# --- public keys -------------------------------------------------------------


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def openssh_public_key(raw: bytes, comment: str = "") -> str:
    """Return ``ssh-ed25519 AAAA... [comment]`` for a raw 32-byte key."""
    if len(raw) != ED25519_PUBLIC_LEN:
        raise KeyLoadError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    line = f"{KEY_TYPE} {base64.b64encode(_public_key_blob(raw)).decode()}"
    return f"{line} {comment}" if comment else line


def public_key_from_openssh(line: str) -> bytes:
    """Parse ``ssh-ed25519 AAAA... [comment]`` into the raw 32-byte key."""
    parts = line.strip().split(maxsplit=2)
    if len(parts) < 2:
        raise KeyLoadError("not an OpenSSH public key line (expected 'ssh-ed25519 AAAA...')")
    key_type, b64 = parts[0], parts[1]
    if key_type != KEY_TYPE:
        raise UnsupportedKeyType(f"only ssh-ed25519 keys are supported, got {key_type!r}")
    try:
        blob = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise KeyLoadError("public key line has invalid base64") from None
    reader = _Reader(blob, "public key")
    try:
        inner_type = reader.string("key type")
        raw = reader.string("key")
        reader.end()
    except SignatureFormatError as exc:
        raise KeyLoadError(str(exc)) from None
    if inner_type != KEY_TYPE.encode():
        raise KeyLoadError(f"public key blob type {inner_type!r} does not match {key_type!r}")
    if len(raw) != ED25519_PUBLIC_LEN:
        raise KeyLoadError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    return raw


def fingerprint(raw: bytes) -> str:
    """``SHA256:<base64 without padding>``, the same string ``ssh-keygen -l`` prints."""
    if len(raw) != ED25519_PUBLIC_LEN:
        raise KeyLoadError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    digest = hashlib.sha256(_public_key_blob(raw)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _expected_key(public_key: bytes | Ed25519PublicKey | str) -> bytes:
    if isinstance(public_key, Ed25519PublicKey):
        return _raw_public(public_key)
    if isinstance(public_key, str):
        return public_key_from_openssh(public_key)
    if isinstance(public_key, bytes) and len(public_key) == ED25519_PUBLIC_LEN:
        return public_key
    raise KeyLoadError(
        "expected key must be raw 32 bytes, an Ed25519PublicKey or an 'ssh-ed25519 AAAA...' line"
    )


# --- armor -------------------------------------------------------------------


def _armor(blob: bytes) -> bytes:
    b64 = base64.b64encode(blob)
    lines = [b64[i : i + ARMOR_WIDTH] for i in range(0, len(b64), ARMOR_WIDTH)]
    return ARMOR_BEGIN + b"\n" + b"\n".join(lines) + b"\n" + ARMOR_END + b"\n"


_ARMOR_FAST = re.compile(
    rb"-----BEGIN SSH SIGNATURE-----\n((?:[A-Za-z0-9+/=]+\n)+)-----END SSH SIGNATURE-----\n?"
)


def _dearmor(armored: bytes) -> bytes:
    # Fast path for well-formed armor (the common case in bulk verification); any
    # input it does not accept goes through the detailed checks below for the message.
    if len(armored) <= MAX_ARMORED_BYTES and (m := _ARMOR_FAST.fullmatch(armored)):
        # The pattern admits only base64 characters, and the re-encoding must give the
        # same text back: together, exactly what the checked path accepts.
        joined = m.group(1).replace(b"\n", b"")
        try:
            blob = binascii.a2b_base64(joined)
        except (binascii.Error, ValueError):
            blob = None
        if blob is not None and binascii.b2a_base64(blob, newline=False) == joined:
            return blob
    return _dearmor_checked(armored)


def _dearmor_checked(armored: bytes) -> bytes:
    if len(armored) > MAX_ARMORED_BYTES:
        raise SignatureFormatError(
            f"signature is {len(armored)} bytes, over the {MAX_ARMORED_BYTES}-byte limit"
        )
    if b"\r" in armored:
        # ssh-keygen rejects CRLF armor; accepting it would let a file that
        # stock tools refuse count as a valid approval here.
        raise SignatureFormatError("signature contains a carriage return (CRLF line endings?)")
    if armored.count(ARMOR_BEGIN) != 1 or armored.count(ARMOR_END) != 1:
        raise SignatureFormatError(
            "signature must contain exactly one BEGIN and one END SSH SIGNATURE line"
        )
    if not armored.startswith(ARMOR_BEGIN + b"\n"):
        raise SignatureFormatError("signature does not start with '-----BEGIN SSH SIGNATURE-----'")
    body, sep, tail = armored[len(ARMOR_BEGIN) + 1 :].partition(b"\n" + ARMOR_END)
    if not sep:
        raise SignatureFormatError("signature is missing the '-----END SSH SIGNATURE-----' line")
    if tail not in (b"", b"\n"):
        raise SignatureFormatError("unexpected data after '-----END SSH SIGNATURE-----'")
    lines = body.split(b"\n")
    if not all(_BASE64_LINE.fullmatch(line) for line in lines):
        raise SignatureFormatError("signature body is not base64 (bad character or blank line)")
    joined = b"".join(lines)
    try:
        blob = base64.b64decode(joined, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureFormatError("signature body is not valid base64") from None
    # Re-encoding catches padding in the middle and non-zero trailing bits,
    # which b64decode tolerates but OpenSSH's b64_pton refuses.
    if base64.b64encode(blob) != joined:
        raise SignatureFormatError("signature body is not canonical base64")
    return blob


# --- parse / sign / verify ---------------------------------------------------


# Fixed parts of the only layout ``sign`` (and ssh-keygen, for an Ed25519 key) produces:
# magic, version 1, the 51-byte key blob header, ... and the 83-byte signature blob.
_FAST_KEY_PREFIX = (
    MAGIC
    + struct.pack(">II", SIG_VERSION, 4 + len(KEY_TYPE) + 4 + ED25519_PUBLIC_LEN)
    + _string(KEY_TYPE.encode())
    + struct.pack(">I", ED25519_PUBLIC_LEN)
)
_FAST_KEY_END = len(_FAST_KEY_PREFIX) + ED25519_PUBLIC_LEN
_FAST_SIG_PREFIX = (
    struct.pack(">I", 4 + len(KEY_TYPE) + 4 + ED25519_SIG_LEN)
    + _string(KEY_TYPE.encode())
    + struct.pack(">I", ED25519_SIG_LEN)
)
_FAST_SIG_TAIL = len(_FAST_SIG_PREFIX) + ED25519_SIG_LEN
_FAST_HASH_ALGS = {alg.encode(): alg for alg in HASH_ALGS}
_U32 = struct.Struct(">I").unpack_from


def _parse_blob_fast(blob: bytes) -> SshSignature | None:
    """The fixed Ed25519 layout in a few slices, or None for anything else.

    Accepts exactly the blobs ``_parse_blob_strict`` accepts that have this layout, with
    the same result; every other blob (including every malformed one) returns None and
    goes through the strict parser, which produces the rejection.
    """
    if not blob.startswith(_FAST_KEY_PREFIX) or len(blob) < _FAST_KEY_END + 4:
        return None
    (ns_len,) = _U32(blob, _FAST_KEY_END)
    pos = _FAST_KEY_END + 4 + ns_len
    # namespace | reserved (must be empty) | hash algorithm length
    if ns_len == 0 or len(blob) < pos + 8 or blob[pos : pos + 4] != b"\0\0\0\0":
        return None
    (hash_len,) = _U32(blob, pos + 4)
    end = pos + 8 + hash_len
    if len(blob) != end + _FAST_SIG_TAIL or not blob.startswith(_FAST_SIG_PREFIX, end):
        return None
    hash_alg = _FAST_HASH_ALGS.get(blob[pos + 8 : end])
    namespace = blob[_FAST_KEY_END + 4 : pos]
    if hash_alg is None or not namespace.isascii():
        return None
    return SshSignature(
        blob[len(_FAST_KEY_PREFIX) : _FAST_KEY_END],
        namespace.decode("ascii"),
        hash_alg,
        blob[end + len(_FAST_SIG_PREFIX) :],
        blob,
    )


def _parse_blob(blob: bytes) -> SshSignature:
    return _parse_blob_fast(blob) or _parse_blob_strict(blob)


def _parse_blob_strict(blob: bytes) -> SshSignature:
    reader = _Reader(blob, "SSHSIG")
    if reader.take(len(MAGIC), "magic") != MAGIC:
        raise SignatureFormatError("not an SSHSIG signature (wrong magic)")
    version = reader.u32("version")
    if version != SIG_VERSION:
        raise SignatureFormatError(f"unsupported SSHSIG version {version} (expected 1)")

    key_blob = reader.string("public key")
    namespace = reader.text("namespace")
    reserved = reader.string("reserved field")
    hash_alg = reader.text("hash algorithm")
    sig_blob = reader.string("signature")
    reader.end()

    public_key = _parse_key_blob(key_blob)
    if not namespace:
        raise SignatureFormatError("signature namespace is empty")
    if reserved:
        raise SignatureFormatError("signature reserved field is not empty")
    if hash_alg not in HASH_ALGS:
        raise SignatureFormatError(
            f"unsupported hash algorithm {hash_alg!r} (expected one of {', '.join(HASH_ALGS)})"
        )
    signature = _parse_sig_blob(sig_blob)
    return SshSignature(public_key, namespace, hash_alg, signature, blob)


def _parse_key_blob(key_blob: bytes) -> bytes:
    reader = _Reader(key_blob, "SSHSIG public key")
    key_type = reader.string("key type")
    if key_type != KEY_TYPE.encode():
        raise SignatureFormatError(f"only ssh-ed25519 signatures are supported, got {key_type!r}")
    raw = reader.string("key")
    reader.end()
    if len(raw) != ED25519_PUBLIC_LEN:
        raise SignatureFormatError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    return raw


def _parse_sig_blob(sig_blob: bytes) -> bytes:
    reader = _Reader(sig_blob, "SSHSIG signature")
    sig_type = reader.string("signature type")
    if sig_type != KEY_TYPE.encode():
        raise SignatureFormatError(f"signature type {sig_type!r} does not match ssh-ed25519 key")
    raw = reader.string("signature")
    reader.end()
    if len(raw) != ED25519_SIG_LEN:
        raise SignatureFormatError(f"Ed25519 signature must be 64 bytes, got {len(raw)}")
    return raw


def parse(armored: bytes) -> SshSignature:
    """Strictly parse an armored SSHSIG signature; raise ``SignatureFormatError`` otherwise."""
    if not isinstance(armored, bytes):
        raise SignatureFormatError("signature must be bytes (read the file in binary mode)")
    return _parse_blob(_dearmor(armored))


def sign(
    private_key: Ed25519PrivateKey, message: bytes, namespace: str, hash_alg: str = "sha512"
) -> bytes:
    """Return an armored SSHSIG, byte-identical to ``ssh-keygen -Y sign``."""
    _check_namespace(namespace)
    if hash_alg not in HASH_ALGS:
        raise SigningError(f"unsupported hash algorithm {hash_alg!r}")
    raw_sig = private_key.sign(_signed_data(namespace, hash_alg, message))
    blob = (
        MAGIC
        + struct.pack(">I", SIG_VERSION)
        + _string(_public_key_blob(_raw_public(private_key.public_key())))
        + _string(namespace.encode("ascii"))
        + _string(b"")
        + _string(hash_alg.encode("ascii"))
        + _string(_string(KEY_TYPE.encode()) + _string(raw_sig))
    )
    return _armor(blob)


def verify(
    armored: bytes,
    message: bytes,
    namespace: str,
    public_key: bytes | Ed25519PublicKey | str,
) -> SshSignature:
    """Verify ``armored`` over ``message`` in ``namespace`` by ``public_key``.

    ``public_key`` must come from the caller's registry. The key embedded in
    the signature is only compared against it, never trusted on its own.
    """
    _check_namespace(namespace)
    expected = _expected_key(public_key)
    parsed = parse(armored)
    if not hmac.compare_digest(parsed.public_key, expected):
        raise SignatureInvalid(
            f"signature was made by key {fingerprint(parsed.public_key)}, "
            f"not the expected key {fingerprint(expected)}"
        )
    if parsed.namespace != namespace:
        raise SignatureInvalid(
            f"signature namespace {parsed.namespace!r} does not match expected {namespace!r}"
        )
    try:
        Ed25519PublicKey.from_public_bytes(expected).verify(
            parsed.signature, _signed_data(namespace, parsed.hash_alg, message)
        )
    except (InvalidSignature, ValueError):
        raise SignatureInvalid(
            f"signature by {fingerprint(expected)} does not match the message"
        ) from None
    return parsed


def signed_data(namespace: str, hash_alg: str, message: bytes) -> bytes:
    """The exact bytes an SSHSIG key signs for ``message`` (compute once per message)."""
    _check_namespace(namespace)
    return _signed_data(namespace, hash_alg, message)


def verify_parsed(parsed: SshSignature, data_to_verify: bytes, key: Ed25519PublicKey) -> None:
    """Check a parsed signature's Ed25519 bytes over ``signed_data(...)`` with a registry key.

    The caller has already matched ``parsed.public_key`` and ``parsed.namespace``
    against its registry; this is the hot path of bulk verification.
    """
    try:
        key.verify(parsed.signature, data_to_verify)
    except (InvalidSignature, ValueError):
        raise SignatureInvalid(
            f"signature by {fingerprint(parsed.public_key)} does not match the message"
        ) from None
