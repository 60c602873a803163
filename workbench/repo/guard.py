"""The write door refuses private key material: keys live in the user's config dir only.

This is the one detector of private key material in the project; the signing room
(`workbench.signing.keys`) re-exports it.
"""

from __future__ import annotations

import base64
import re

from workbench.model.errors import WorkbenchError

# Covers OPENSSH, RSA, EC, DSA, ENCRYPTED, PKCS#8, SSH2 and PGP armor lines.
_PEM_PRIVATE = re.compile(rb"BEGIN [A-Z0-9 ]*PRIVATE KEY")


class PrivateKeyMaterial(WorkbenchError, ValueError):
    pass


def _base64_forms(magic: bytes) -> tuple[bytes, ...]:
    """Substrings present in any base64 text that encodes ``magic`` at any alignment."""
    forms = []
    for shift in range(3):
        encoded = base64.b64encode(b"\x00" * shift + magic)
        # Keep only characters whose 6 bits all come from ``magic``.
        start = -(-8 * shift // 6)
        end = 8 * (shift + len(magic)) // 6
        forms.append(encoded[start:end])
    return tuple(forms)


_OPENSSH_MAGIC_B64 = _base64_forms(b"openssh-key-v1")
_WHITESPACE = b" \t\n\r\x0b\x0c"
_CHUNK = 1 << 20
_SPAN = max(len(form) for form in _OPENSSH_MAGIC_B64) - 1  # a form across two chunks


def contains_private_key_material(data: bytes) -> bool:
    """True if ``data`` looks like it holds a private key in any common encoding."""
    if _PEM_PRIVATE.search(data) or b"openssh-key-v1" in data:
        return True
    if b"PuTTY-User-Key-File" in data:
        return True
    # Armor may have been stripped; base64 of the OpenSSH magic still shows,
    # including when wrapped at any column.
    # bytes.translate deletes exactly what rb"\s" matches (ASCII whitespace), in C: a run's
    # 10 MB findings file costs milliseconds instead of a regex pass. A chunk at a time,
    # carrying the compacted tail a form could span, so a large evidence file is not
    # copied whole (an export scans every member it ships).
    tail = b""
    for start in range(0, len(data), _CHUNK):
        compact = tail + data[start : start + _CHUNK].translate(None, _WHITESPACE)
        if any(form in compact for form in _OPENSSH_MAGIC_B64):
            return True
        tail = compact[-_SPAN:]
    return False


def refuse_private_keys(path: str, data: bytes) -> None:
    if contains_private_key_material(data):
        raise PrivateKeyMaterial(
            f"{path}: refusing to write private key material into the governance repo; "
            "private keys stay in your config directory (see `workbench keygen`)"
        )
