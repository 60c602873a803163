"""Property tests: the parser never fails with anything but SignatureFormatError."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.signing.blobs import armor
from workbench.signing import sshsig
from workbench.signing.errors import SignatureFormatError, SignatureInvalid

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A fixed key keeps examples reproducible and shrinkable.
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VALID = sshsig.sign(KEY, b"statement bytes\n", "handshake-contract-v1@example.org")
VALID_BLOB = sshsig.parse(VALID).blob


def _parse_or_format_error(armored: bytes) -> sshsig.SshSignature | None:
    try:
        parsed = sshsig.parse(armored)
    except SignatureFormatError:
        return None
    assert len(parsed.public_key) == 32
    assert len(parsed.signature) == 64
    assert parsed.namespace
    assert parsed.hash_alg in sshsig.HASH_ALGS
    # Whatever was accepted must survive a canonical re-armor unchanged.
    assert sshsig.parse(armor(parsed.blob)) == parsed
    return parsed


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes(data: bytes) -> None:
    _parse_or_format_error(data)


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes_inside_armor(data: bytes) -> None:
    _parse_or_format_error(armor(data))


@FUZZ
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n\r -"))
def test_base64ish_text_inside_armor(body: str) -> None:
    armored = (
        b"-----BEGIN SSH SIGNATURE-----\n" + body.encode() + b"\n-----END SSH SIGNATURE-----\n"
    )
    _parse_or_format_error(armored)


def _mutate(data: bytes, position: int, edit: str, value: int) -> bytes:
    position %= len(data)
    if edit == "flip":
        return data[:position] + bytes([data[position] ^ (value or 1)]) + data[position + 1 :]
    if edit == "insert":
        return data[:position] + bytes([value]) + data[position:]
    if edit == "delete":
        return data[:position] + data[position + 1 :]
    return data[:position]  # truncate


MUTATION = st.tuples(
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["flip", "insert", "delete", "truncate"]),
    st.integers(min_value=0, max_value=255),
)


@FUZZ
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_valid_blob(mutations: list[tuple[int, str, int]]) -> None:
    blob = VALID_BLOB
    for position, edit, value in mutations:
        blob = _mutate(blob, position, edit, value) or b"\x00"
    parsed = _parse_or_format_error(armor(blob))
    if parsed is not None and blob != VALID_BLOB:
        # A mutated blob that still parses must not verify as the original approval.
        try:
            sshsig.verify(
                armor(blob),
                b"statement bytes\n",
                "handshake-contract-v1@example.org",
                KEY.public_key(),
            )
        except SignatureInvalid:
            return
        raise AssertionError("a mutated signature still verified")


@FUZZ
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_valid_armor(mutations: list[tuple[int, str, int]]) -> None:
    armored = VALID
    for position, edit, value in mutations:
        armored = _mutate(armored, position, edit, value) or b"-"
    _parse_or_format_error(armored)


@FUZZ
@given(
    message=st.binary(max_size=256),
    namespace=st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64
    ),
    hash_alg=st.sampled_from(sshsig.HASH_ALGS),
)
def test_sign_parse_verify_round_trip(message: bytes, namespace: str, hash_alg: str) -> None:
    armored = sshsig.sign(KEY, message, namespace, hash_alg)
    parsed = sshsig.verify(armored, message, namespace, KEY.public_key())
    assert (parsed.namespace, parsed.hash_alg) == (namespace, hash_alg)
    assert base64.b64encode(parsed.blob) == b"".join(armored.split(b"\n")[1:-2])
