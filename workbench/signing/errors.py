"""Exceptions raised by the signing layer.

Every message is written for a person reading it in a terminal: it says what
went wrong and, where there is one, what to do next.
"""

from __future__ import annotations

from workbench.model.errors import WorkbenchError


class SigningError(WorkbenchError):
    """Base class for every signing-layer failure."""


class SignatureFormatError(SigningError):
    """The bytes are not a well-formed SSHSIG signature."""


class SignatureInvalid(SigningError):
    """The signature is well formed but does not verify for this key, namespace and message."""


class KeyLoadError(SigningError):
    """A key file could not be read or used."""


class WrongPassphrase(KeyLoadError):
    """The passphrase does not decrypt the private key."""


class PassphraseRequired(KeyLoadError):
    """The private key is encrypted and no passphrase was given."""


class NeedBcrypt(KeyLoadError):
    """Encrypted OpenSSH keys need the bcrypt package, which is not importable."""


class UnsupportedKeyCipher(KeyLoadError):
    """The key is encrypted with a cipher that cryptography cannot decrypt."""


class UnsupportedKeyType(KeyLoadError):
    """The key is not Ed25519."""


class AgentSigningError(SigningError):
    """Signing through ssh-keygen and ssh-agent failed."""
