"""SSHSIG sign/verify/parse, checked against ssh-keygen 9.2p1 as the oracle."""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.signing.blobs import armor, build_blob, dearmor, string
from tests.signing.oracle import (
    CONTRACT_NS,
    MESSAGE,
    SshKey,
    keygen_check_novalidate,
    keygen_sign,
    keygen_verify,
    make_key,
)
from workbench.signing import sshsig
from workbench.signing.errors import (
    KeyLoadError,
    SignatureFormatError,
    SignatureInvalid,
    SigningError,
    UnsupportedKeyType,
)

# --- interoperability ---------------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize("hash_alg", sshsig.HASH_ALGS)
def test_sign_is_byte_identical_to_ssh_keygen(alice: SshKey, hash_alg: str) -> None:
    ours = sshsig.sign(alice.private, MESSAGE, CONTRACT_NS, hash_alg)
    assert ours == keygen_sign(alice, MESSAGE, CONTRACT_NS, hash_alg)


@pytest.mark.oracle
@pytest.mark.parametrize("hash_alg", sshsig.HASH_ALGS)
def test_our_signature_verifies_with_ssh_keygen(
    alice: SshKey, tmp_path: Path, hash_alg: str
) -> None:
    ours = sshsig.sign(alice.private, MESSAGE, CONTRACT_NS, hash_alg)
    result = keygen_verify(tmp_path, ours, MESSAGE, CONTRACT_NS, alice)
    assert result.returncode == 0, result.stderr
    assert f'Good "{CONTRACT_NS}" signature for {alice.principal}' in result.stdout.decode()


@pytest.mark.oracle
@pytest.mark.parametrize("hash_alg", sshsig.HASH_ALGS)
def test_ssh_keygen_signature_verifies_with_ours(alice: SshKey, hash_alg: str) -> None:
    theirs = keygen_sign(alice, MESSAGE, CONTRACT_NS, hash_alg)
    parsed = sshsig.verify(theirs, MESSAGE, CONTRACT_NS, alice.raw_public)
    assert parsed.public_key == alice.raw_public
    assert parsed.namespace == CONTRACT_NS
    assert parsed.hash_alg == hash_alg
    assert len(parsed.signature) == 64
    assert parsed.blob == dearmor(theirs)


def test_verify_accepts_every_expected_key_form(alice: SshKey) -> None:
    armored = sshsig.sign(alice.private, MESSAGE, CONTRACT_NS)
    for expected in (
        alice.raw_public,
        alice.private.public_key(),
        alice.pub_path.read_text(),  # with comment and newline
        alice.public_line,
    ):
        assert sshsig.verify(armored, MESSAGE, CONTRACT_NS, expected).public_key == (
            alice.raw_public
        )


def test_armor_matches_ssh_keygen_layout(alice: SshKey) -> None:
    armored = sshsig.sign(alice.private, MESSAGE, CONTRACT_NS)
    lines = armored.split(b"\n")
    assert lines[0] == b"-----BEGIN SSH SIGNATURE-----"
    assert lines[-2:] == [b"-----END SSH SIGNATURE-----", b""]
    body = lines[1:-2]
    assert all(len(line) == 70 for line in body[:-1])
    assert 0 < len(body[-1]) <= 70


# --- rejections shared with the oracle ------------------------------------------


@dataclass(frozen=True)
class Tamper:
    name: str
    message: bytes
    namespace: str
    signer: str  # fixture name of the key that really signed


TAMPERS = [
    Tamper("wrong namespace", MESSAGE, "handshake-registry-v1@example.org", "alice"),
    Tamper("wrong message", MESSAGE.replace(b"orders", b"refund"), CONTRACT_NS, "alice"),
    Tamper("message plus newline", MESSAGE + b"\n", CONTRACT_NS, "alice"),
    Tamper("message with CRLF", MESSAGE.replace(b"\n", b"\r\n"), CONTRACT_NS, "alice"),
    Tamper("other key", MESSAGE, CONTRACT_NS, "mallory"),
]


@pytest.mark.oracle
@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.name)
def test_tampered_inputs_rejected_by_both(
    request: pytest.FixtureRequest, alice: SshKey, tmp_path: Path, tamper: Tamper
) -> None:
    signer: SshKey = request.getfixturevalue(tamper.signer)
    armored = keygen_sign(signer, MESSAGE, CONTRACT_NS)
    # The registry says alice; the verifier asks for the namespace of the case.
    with pytest.raises(SignatureInvalid):
        sshsig.verify(armored, tamper.message, tamper.namespace, alice.raw_public)
    result = keygen_verify(tmp_path, armored, tamper.message, tamper.namespace, alice)
    assert result.returncode != 0


@pytest.mark.oracle
@pytest.mark.parametrize("foreign_ns", ["git", "file"])
def test_signature_from_another_namespace_is_not_an_approval(
    alice: SshKey, tmp_path: Path, foreign_ns: str
) -> None:
    armored = keygen_sign(alice, MESSAGE, foreign_ns)
    with pytest.raises(SignatureInvalid, match="namespace"):
        sshsig.verify(armored, MESSAGE, CONTRACT_NS, alice.raw_public)
    # Asked for the contract namespace, ssh-keygen refuses the mismatch.
    asked_contract = keygen_verify(tmp_path, armored, MESSAGE, CONTRACT_NS, alice)
    assert asked_contract.returncode != 0
    # Asked for the signature's own namespace, the allowed_signers restriction bites.
    asked_foreign = keygen_verify(
        tmp_path, armored, MESSAGE, foreign_ns, alice, allowed_namespaces=CONTRACT_NS
    )
    assert asked_foreign.returncode != 0
    assert b"not permitted for use in signature namespace" in asked_foreign.stderr


@pytest.mark.oracle
def test_key_substitution_is_rejected(alice: SshKey, mallory: SshKey, tmp_path: Path) -> None:
    """A signature by an unregistered key is well formed, but never alice's approval."""
    forged = sshsig.sign(mallory.private, MESSAGE, CONTRACT_NS)
    # check-novalidate only checks the signature against its own embedded key.
    assert keygen_check_novalidate(tmp_path, forged, MESSAGE, CONTRACT_NS).returncode == 0
    assert sshsig.verify(forged, MESSAGE, CONTRACT_NS, mallory.raw_public)
    with pytest.raises(SignatureInvalid, match="not the expected key"):
        sshsig.verify(forged, MESSAGE, CONTRACT_NS, alice.raw_public)
    assert keygen_verify(tmp_path, forged, MESSAGE, CONTRACT_NS, alice).returncode != 0


# --- malformed signatures: parity table -----------------------------------------

ACCEPT, REJECT = True, False


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Ed25519PrivateKey], bytes]  # armored bytes
    keygen: bool  # what ssh-keygen 9.2p1 does
    ours: bool  # what we do; differs from keygen only for documented divergences


def _blob(**kwargs: object) -> Callable[[Ed25519PrivateKey], bytes]:
    return lambda key: armor(build_blob(key, MESSAGE, CONTRACT_NS, **kwargs))  # type: ignore[arg-type]


def _huge_namespace_length(key: Ed25519PrivateKey) -> bytes:
    blob = build_blob(key, MESSAGE, CONTRACT_NS)
    offset = 6 + 4 + len(string(string(b"ssh-ed25519") + string(b"\x00" * 32)))
    return armor(blob[:offset] + struct.pack(">I", 0xFFFFFFF0) + blob[offset + 4 :])


def _good(key: Ed25519PrivateKey) -> bytes:
    return sshsig.sign(key, MESSAGE, CONTRACT_NS)


def _replace(old: bytes, new: bytes) -> Callable[[Ed25519PrivateKey], bytes]:
    return lambda key: _good(key).replace(old, new, 1)


def _bad_base64(key: Ed25519PrivateKey) -> bytes:
    lines = _good(key).split(b"\n")
    lines[2] = lines[2][:10] + b"!" + lines[2][11:]
    return b"\n".join(lines)


CASES = [
    Case("baseline", _good, ACCEPT, ACCEPT),
    Case("hash sha256", _blob(hash_alg="sha256"), ACCEPT, ACCEPT),
    Case("single-line base64", lambda k: armor(dearmor(_good(k)), width=None), ACCEPT, ACCEPT),
    Case("76-column base64", lambda k: armor(dearmor(_good(k)), width=76), ACCEPT, ACCEPT),
    Case("no final newline", lambda k: _good(k).rstrip(b"\n"), ACCEPT, ACCEPT),
    Case("version 2", _blob(version=2), REJECT, REJECT),
    Case("wrong magic", _blob(magic=b"SSHSIH"), REJECT, REJECT),
    Case("reserved set and signed", _blob(reserved=b"x"), REJECT, REJECT),
    Case("trailing byte after blob", _blob(trailing=b"\x00"), REJECT, REJECT),
    Case("CRLF armor", lambda k: armor(dearmor(_good(k)), newline=b"\r\n"), REJECT, REJECT),
    Case("truncated blob", lambda k: armor(dearmor(_good(k))[:-10]), REJECT, REJECT),
    Case("huge length prefix", _huge_namespace_length, REJECT, REJECT),
    Case("bad base64 character", _bad_base64, REJECT, REJECT),
    Case("missing footer", _replace(b"-----END SSH SIGNATURE-----\n", b""), REJECT, REJECT),
    Case("missing header", _replace(b"-----BEGIN SSH SIGNATURE-----\n", b""), REJECT, REJECT),
    Case("empty namespace", lambda k: armor(build_blob(k, MESSAGE, "")), REJECT, REJECT),
    Case("hash sha1", _blob(hash_alg="sha1"), REJECT, REJECT),
    Case("signature type mismatch", _blob(sig_type=b"ssh-rsa"), REJECT, REJECT),
    # Documented divergences (see workbench/signing/sshsig.py docstring).
    Case("malleated S+L", _blob(malleate=True), ACCEPT, REJECT),
    Case("version 0", _blob(version=0), ACCEPT, REJECT),
    Case("reserved set, signed empty", _blob(reserved=b"x", signed_reserved=b""), ACCEPT, REJECT),
    Case("junk after END line", lambda k: _good(k) + b"junk\n", ACCEPT, REJECT),
]


def _ours_accepts(armored: bytes, key: SshKey) -> bool:
    try:
        sshsig.verify(armored, MESSAGE, CONTRACT_NS, key.raw_public)
    except (SignatureFormatError, SignatureInvalid):
        return False
    return True


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_malformed_signature_parity(alice: SshKey, tmp_path: Path, case: Case) -> None:
    armored = case.make(alice.private)
    oracle = keygen_verify(tmp_path, armored, MESSAGE, CONTRACT_NS, alice)
    assert (oracle.returncode == 0) is case.keygen, oracle.stderr
    assert _ours_accepts(armored, alice) is case.ours


def test_malleated_signature_is_a_format_or_validity_error(alice: SshKey) -> None:
    """S+L keeps the scalar but changes the bytes: never identify approvals by signature bytes."""
    good = build_blob(alice.private, MESSAGE, CONTRACT_NS)
    malleated = build_blob(alice.private, MESSAGE, CONTRACT_NS, malleate=True)
    assert good != malleated
    parsed = sshsig.parse(armor(malleated))  # well formed ...
    assert parsed.signature[:32] == sshsig.parse(armor(good)).signature[:32]
    with pytest.raises(SignatureInvalid):  # ... but OpenSSL enforces S < L
        sshsig.verify(armor(malleated), MESSAGE, CONTRACT_NS, alice.raw_public)


@pytest.mark.parametrize(
    ("armored", "reason"),
    [
        (b"x" * (sshsig.MAX_ARMORED_BYTES + 1), "limit"),
        (b"", "BEGIN"),
        (b"-----BEGIN SSH SIGNATURE-----\n" * 2 + b"-----END SSH SIGNATURE-----\n", "exactly one"),
        (b"-----BEGIN SSH SIGNATURE-----\n\n-----END SSH SIGNATURE-----\n", "base64"),
    ],
)
def test_parse_reasons(armored: bytes, reason: str) -> None:
    with pytest.raises(SignatureFormatError, match=reason):
        sshsig.parse(armored)


def test_parse_rejects_text(alice: SshKey) -> None:
    text = sshsig.sign(alice.private, MESSAGE, CONTRACT_NS).decode()
    with pytest.raises(SignatureFormatError, match="binary"):
        sshsig.parse(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        b"QR==",  # stray low bits: decodes like "QQ==", a hidden channel OpenSSH refuses
        b"QQ==QUJD",  # padding in the middle
    ],
)
def test_non_canonical_base64_is_rejected(body: bytes) -> None:
    armored = b"-----BEGIN SSH SIGNATURE-----\n" + body + b"\n-----END SSH SIGNATURE-----\n"
    with pytest.raises(SignatureFormatError, match="base64"):
        sshsig.parse(armored)


@pytest.mark.oracle
def test_rsa_signature_is_rejected_although_ssh_keygen_accepts(
    key_dir: Path, tmp_path: Path
) -> None:
    """Divergence by design: registry keys are Ed25519 only."""
    rsa = make_key(key_dir, "rsa-user", "-N", "", "-b", "2048", key_type="rsa")
    armored = keygen_sign(rsa, MESSAGE, CONTRACT_NS)
    assert keygen_verify(tmp_path, armored, MESSAGE, CONTRACT_NS, rsa).returncode == 0
    with pytest.raises(SignatureFormatError, match="ssh-ed25519"):
        sshsig.parse(armored)


# --- keys and fingerprints ----------------------------------------------------------


@pytest.mark.oracle
def test_fingerprint_matches_ssh_keygen(alice: SshKey) -> None:
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(alice.pub_path)], capture_output=True, check=True
    ).stdout.decode()
    assert listed.split()[1] == sshsig.fingerprint(alice.raw_public)


def test_openssh_public_key_round_trip(alice: SshKey) -> None:
    assert sshsig.openssh_public_key(alice.raw_public) == alice.public_line
    with_comment = sshsig.openssh_public_key(alice.raw_public, "alice@team")
    assert with_comment == alice.pub_path.read_text().strip()
    assert sshsig.public_key_from_openssh(with_comment) == alice.raw_public
    parsed = sshsig.parse(sshsig.sign(alice.private, MESSAGE, CONTRACT_NS))
    assert parsed.public_key_openssh() == alice.public_line


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user", UnsupportedKeyType),
        ("ssh-ed25519", KeyLoadError),
        ("ssh-ed25519 not*base64", KeyLoadError),
        # Blob says ssh-rsa while the line says ssh-ed25519.
        (
            "ssh-ed25519 AAAAB3NzaC1yc2EAAAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            KeyLoadError,
        ),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAEAAAAAAAAAAAAAAAAAAAAAA=", KeyLoadError),
    ],
)
def test_public_key_from_openssh_rejects(line: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        sshsig.public_key_from_openssh(line)


# --- caller errors ---------------------------------------------------------------


def test_sign_refuses_empty_namespace(alice: SshKey) -> None:
    with pytest.raises(SigningError, match="empty"):
        sshsig.sign(alice.private, MESSAGE, "")


def test_sign_refuses_unknown_hash(alice: SshKey) -> None:
    with pytest.raises(SigningError, match="sha1"):
        sshsig.sign(alice.private, MESSAGE, CONTRACT_NS, "sha1")


def test_verify_refuses_empty_namespace_and_bad_expected_key(alice: SshKey) -> None:
    armored = sshsig.sign(alice.private, MESSAGE, CONTRACT_NS)
    with pytest.raises(SigningError, match="empty"):
        sshsig.verify(armored, MESSAGE, "", alice.raw_public)
    with pytest.raises(KeyLoadError):
        sshsig.verify(armored, MESSAGE, CONTRACT_NS, alice.raw_public[:31])


def test_large_message_is_hashed(alice: SshKey) -> None:
    big = b"a" * (8 * 1024 * 1024)
    armored = sshsig.sign(alice.private, big, CONTRACT_NS)
    assert len(armored) < 400
    assert sshsig.verify(armored, big, CONTRACT_NS, alice.raw_public)
    with pytest.raises(SignatureInvalid):
        sshsig.verify(armored, big[:-1], CONTRACT_NS, alice.raw_public)


@pytest.mark.oracle
def test_every_flipped_byte_is_rejected_by_both(alice: SshKey, tmp_path: Path) -> None:
    """Threat 3: no single-byte change anywhere in the blob survives either verifier.

    XOR 0x80 avoids turning version 1 into 0, a documented divergence.
    """
    blob = dearmor(sshsig.sign(alice.private, MESSAGE, CONTRACT_NS))
    for position in range(len(blob)):
        tampered = armor(blob[:position] + bytes([blob[position] ^ 0x80]) + blob[position + 1 :])
        assert not _ours_accepts(tampered, alice), position
        oracle = keygen_verify(tmp_path, tampered, MESSAGE, CONTRACT_NS, alice)
        assert oracle.returncode != 0, position
