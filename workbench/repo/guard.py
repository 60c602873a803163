"""The write door refuses private key material: keys live in the user's config dir only."""

from __future__ import annotations

import re

_PEM_PRIVATE = re.compile(rb"-----BEGIN (?:[A-Z0-9 ]+ )?PRIVATE KEY-----")
# "openssh-key-v1\0" is the magic of OpenSSH private keys; b64 of it starts "b3BlbnNzaC1rZXktdjE".
_OPENSSH_MAGIC = (b"openssh-key-v1\x00", b"b3BlbnNzaC1rZXktdjE")


class PrivateKeyMaterial(ValueError):
    pass


def contains_private_key_material(data: bytes) -> bool:
    return bool(_PEM_PRIVATE.search(data)) or any(magic in data for magic in _OPENSSH_MAGIC)


def refuse_private_keys(path: str, data: bytes) -> None:
    if contains_private_key_material(data):
        raise PrivateKeyMaterial(
            f"{path}: refusing to write private key material into the governance repo; "
            "private keys stay in your config directory (see `workbench keygen`)"
        )
