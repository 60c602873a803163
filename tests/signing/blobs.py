"""Hand-built SSHSIG blobs, for malformed and adversarial cases the real tools never emit."""

from __future__ import annotations

import base64
import hashlib
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# Order of the Ed25519 base point; S and S+L are the same scalar mod L.
GROUP_ORDER_L = 2**252 + 27742317777372353535851937790883648493


def string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def build_blob(
    key: Ed25519PrivateKey,
    message: bytes,
    namespace: str,
    *,
    magic: bytes = b"SSHSIG",
    version: int = 1,
    reserved: bytes = b"",
    signed_reserved: bytes | None = None,
    hash_alg: str = "sha512",
    key_type: bytes = b"ssh-ed25519",
    sig_type: bytes = b"ssh-ed25519",
    malleate: bool = False,
    trailing: bytes = b"",
) -> bytes:
    """A really signed SSHSIG blob with any field set as asked.

    ``signed_reserved`` is the reserved value covered by the signature; by
    default it equals ``reserved`` (an honest signer that set the field).
    """
    covered_reserved = reserved if signed_reserved is None else signed_reserved
    signed = (
        b"SSHSIG"
        + string(namespace.encode())
        + string(covered_reserved)
        + string(hash_alg.encode())
        + string(hashlib.new(hash_alg, message).digest())
    )
    raw_sig = key.sign(signed)
    if malleate:
        raw_sig = raw_sig[:32] + add_group_order(raw_sig[32:])
    raw_pub = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return (
        magic
        + struct.pack(">I", version)
        + string(string(key_type) + string(raw_pub))
        + string(namespace.encode())
        + string(reserved)
        + string(hash_alg.encode())
        + string(string(sig_type) + string(raw_sig))
        + trailing
    )


def add_group_order(s_le: bytes) -> bytes:
    """S + L, little-endian: a different encoding of the same Ed25519 scalar."""
    return (int.from_bytes(s_le, "little") + GROUP_ORDER_L).to_bytes(32, "little")


def armor(blob: bytes, width: int | None = 70, newline: bytes = b"\n") -> bytes:
    b64 = base64.b64encode(blob)
    step = width or len(b64)
    lines = [b64[i : i + step] for i in range(0, len(b64), step)]
    return newline.join(
        [b"-----BEGIN SSH SIGNATURE-----", *lines, b"-----END SSH SIGNATURE-----", b""]
    )


def dearmor(armored: bytes) -> bytes:
    return base64.b64decode(b"".join(armored.splitlines()[1:-1]))
