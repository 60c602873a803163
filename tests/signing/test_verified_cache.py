"""The clone's cache of verified signatures (`signing/verified.py`): it saves the Ed25519
verify of a signature already checked, and tampering with it can only cost time.

The attack: someone who can write to a clone's `.git/` (a shared runner, a hostile
checkout script) plants a cache entry saying a forged signature verified, so the gate
counts it. Each planted, edited or foreign entry must be ignored: the signature is verified
again and fails.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.signing.demo_helpers import raw_commit, states
from workbench.repo import cache_store
from workbench.signing import sshsig, verified
from workbench.signing.errors import SignatureInvalid

NS = "contract@bench.example"


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(cache_store.DISABLE_ENV, raising=False)
    root = tmp_path / "clone"
    pygit2.init_repository(str(root))
    verified.forget()
    yield root
    verified.forget()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The Ed25519 verifies actually made (the signature bytes of each)."""
    made: list[bytes] = []
    real = sshsig.verify_parsed

    def counting(parsed: sshsig.SshSignature, data: bytes, key: object) -> None:
        made.append(parsed.signature)
        real(parsed, data, key)  # type: ignore[arg-type]

    monkeypatch.setattr(sshsig, "verify_parsed", counting)
    return made


def _signed(message: bytes) -> tuple[sshsig.SshSignature, bytes, object]:
    key = Ed25519PrivateKey.generate()
    parsed = sshsig.parse(sshsig.sign(key, message, NS))
    return parsed, sshsig.signed_data(NS, parsed.hash_alg, message), key.public_key()


def _forged(message: bytes) -> tuple[sshsig.SshSignature, bytes, object]:
    """A signature whose last byte was changed: it does not verify."""
    parsed, data, public = _signed(message)
    sig = parsed.signature[:-1] + bytes([parsed.signature[-1] ^ 1])
    forged = sshsig.SshSignature(parsed.public_key, parsed.namespace, parsed.hash_alg, sig, b"")
    return forged, data, public


def _new_process(root: Path, writable: bool = True) -> None:
    """What the next command sees: an empty memory, the clone's file on disk."""
    verified.save_all()
    verified.forget()
    verified.attach(root, writable=writable)


def test_a_verified_signature_is_not_verified_again_by_the_next_command(
    clone: Path, calls: list[bytes]
) -> None:
    parsed, data, public = _signed(b"statement v1")
    verified.attach(clone, writable=True)
    verified.verify(parsed, data, public)  # type: ignore[arg-type]
    assert calls == [parsed.signature]
    _new_process(clone)
    verified.verify(parsed, data, public)  # type: ignore[arg-type]
    assert calls == [parsed.signature]  # answered from the clone's cache
    assert cache_store.store_path(clone, verified.STORE).stat().st_mode & 0o777 == 0o600


def test_a_signature_that_fails_is_never_kept(clone: Path, calls: list[bytes]) -> None:
    forged, data, public = _forged(b"statement v1")
    verified.attach(clone, writable=True)
    for _ in range(2):
        with pytest.raises(SignatureInvalid):
            verified.verify(forged, data, public)  # type: ignore[arg-type]
        _new_process(clone)
    assert calls == [forged.signature, forged.signature]
    assert not cache_store.store_path(clone, verified.STORE).exists()


def test_an_entry_vouches_for_its_own_bytes_only(clone: Path, calls: list[bytes]) -> None:
    parsed, data, public = _signed(b"statement v1")
    verified.attach(clone, writable=True)
    verified.verify(parsed, data, public)  # type: ignore[arg-type]
    _new_process(clone)
    other = sshsig.signed_data(NS, parsed.hash_alg, b"statement v2")
    with pytest.raises(SignatureInvalid):
        verified.verify(parsed, other, public)  # type: ignore[arg-type]
    wrong_ns = sshsig.signed_data("review@bench.example", parsed.hash_alg, b"statement v1")
    with pytest.raises(SignatureInvalid):
        verified.verify(parsed, wrong_ns, public)  # type: ignore[arg-type]
    with pytest.raises(SignatureInvalid):
        verified.verify(parsed, data, Ed25519PrivateKey.generate().public_key())


def _plant(root: Path, entries: bytes) -> None:
    cache_store.write(root, verified.STORE, entries)


def test_threat_planted_entry_for_a_forged_signature_is_ignored(
    clone: Path, calls: list[bytes]
) -> None:
    forged, data, public = _forged(b"statement v1")
    d = verified.digest(public.public_bytes_raw(), forged.signature, data)  # type: ignore[attr-defined]
    # Without the user's secret the attacker can only guess a tag, or tag with their own.
    _plant(
        clone, d + b"\0" * verified.TAG_BYTES + d + hmac.new(b"k" * 32, d, "sha256").digest()[:16]
    )
    _new_process(clone, writable=False)
    with pytest.raises(SignatureInvalid):
        verified.verify(forged, data, public)  # type: ignore[arg-type]
    assert calls == [forged.signature]


def test_threat_cache_copied_from_another_user_is_ignored(
    clone: Path, calls: list[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed, data, public = _signed(b"statement v1")
    verified.attach(clone, writable=True)
    verified.verify(parsed, data, public)  # type: ignore[arg-type]
    verified.save_all()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "someone-else"))
    _new_process(clone)
    verified.verify(parsed, data, public)  # type: ignore[arg-type]
    assert calls == [parsed.signature, parsed.signature]  # verified again, not trusted


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-7],  # truncated
        lambda raw: raw[:-5] + bytes([raw[-5] ^ 0xFF]) + raw[-4:],  # a tag byte flipped
        lambda raw: b"not a pickle at all",
    ],
    ids=["truncated", "tag-flipped", "garbage"],
)
def test_a_damaged_cache_file_costs_a_verify_never_a_verdict(
    clone: Path, calls: list[bytes], damage: object
) -> None:
    parsed, data, public = _signed(b"statement v1")
    verified.attach(clone, writable=True)
    verified.verify(parsed, data, public)  # type: ignore[arg-type]
    verified.save_all()
    path = cache_store.store_path(clone, verified.STORE)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    _new_process(clone)
    verified.verify(parsed, data, public)  # type: ignore[arg-type]
    assert calls == [parsed.signature, parsed.signature]
    forged, fdata, fpublic = _forged(b"statement v1")
    with pytest.raises(SignatureInvalid):
        verified.verify(forged, fdata, fpublic)  # type: ignore[arg-type]


def test_no_cache_switch_neither_reads_nor_writes(
    clone: Path, calls: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache_store.DISABLE_ENV, "1")
    parsed, data, public = _signed(b"statement v1")
    verified.attach(clone, writable=True)
    verified.verify(parsed, data, public)  # type: ignore[arg-type]
    _new_process(clone)
    assert not cache_store.store_path(clone, verified.STORE).exists()


def test_verdicts_with_a_warm_or_tampered_cache_equal_verdicts_without(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signed demo: every contract's verdict is the same cold, warm, and with every
    cache entry's tag damaged; a signature forged after the cache was warmed is caught."""
    verified.forget()
    cold = states(demo)
    verified.save_all()
    path = cache_store.store_path(demo, verified.STORE)
    assert path.exists()
    verified.forget()
    assert states(demo) == cold  # warm: read back from the clone's cache
    sig = next(p for p in sorted((demo / "attestations").rglob("*.sig")))
    contract = sig.parent.name
    assert cold[contract] == "approved"
    # The attacker replaces an approving signature with a forged one and plants a cache
    # entry for it with a made-up tag.
    parsed = sshsig.parse(sig.read_bytes())
    bad = parsed.signature[:-1] + bytes([parsed.signature[-1] ^ 1])
    forged_blob = parsed.blob[: -len(bad)] + bad
    armored = sshsig._armor(forged_blob)
    raw_commit(demo, {str(sig.relative_to(demo)): armored})
    statement = (sig.parent / (sig.name.split(".")[0] + ".statement.json")).read_bytes()
    data = sshsig.signed_data(parsed.namespace, parsed.hash_alg, statement)
    d = verified.digest(parsed.public_key, bad, data)
    raw = path.read_bytes()
    stored = cache_store.read(demo, verified.STORE)
    assert isinstance(stored, bytes)
    _plant(demo, stored + d + hashlib.sha256(d).digest()[: verified.TAG_BYTES])
    assert raw != path.read_bytes()
    verified.forget()
    tampered = states(demo)
    assert tampered[contract] != "approved"
    monkeypatch.setenv(cache_store.DISABLE_ENV, "1")
    verified.forget()
    assert states(demo) == tampered  # the same verdicts as with no cache at all


def test_a_command_keeps_what_it_verified_for_the_next_one(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    verified.forget()
    path = cache_store.store_path(demo, verified.STORE)
    assert not path.exists()
    first = main(["--repo", str(demo), "verify"])
    out = capsys.readouterr().out
    assert path.exists()  # saved when the command ended
    verified.forget()
    assert main(["--repo", str(demo), "verify"]) == first
    assert capsys.readouterr().out == out
    assert verified.load(demo)  # every entry carries a valid tag
