"""Every class of file and every structural change in a real bundle is caught by
`verify-bundle` and by VERIFY.sh run for real; the untouched bundles pass both."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bundle.conftest import (
    APPROVED,
    STALE,
    Exported,
    members,
    pack,
    run_verify_sh,
    sha,
    verify,
)

Files = dict[str, bytes]


def _flip(data: bytes, at: int | None = None) -> bytes:
    i = len(data) // 2 if at is None else at
    ch = data[i : i + 1]
    new = b"A" if ch != b"A" else b"B"
    return data[:i] + new + data[i + 1 :]


def _first(files: Files, prefix: str, suffix: str = "") -> str:
    return sorted(p for p in files if p.startswith(prefix) and p.endswith(suffix))[0]


def contract_byte(f: Files) -> None:
    p = f"contracts/{APPROVED}/v1/contract.toml"
    f[p] = f[p].replace(b"=", b"= ", 1)


def statement(f: Files) -> None:
    p = f"contracts/{APPROVED}/v1/statement.json"
    f[p] = _flip(f[p])


def signature(f: Files) -> None:
    p = _first(f, f"contracts/{APPROVED}/v1/statement.", ".sig")
    lines = f[p].split(b"\n")
    lines[2] = _flip(lines[2], 10)  # inside the base64 body
    f[p] = b"\n".join(lines)


def registry_file(f: Files) -> None:
    f["registry/v1/allowed_signers"] += b"# an extra line\n"


def evidence_file(f: Files) -> None:
    p = _first(f, "evidence/snapshots/")
    f[p] = _flip(f[p])


def findings(f: Files) -> None:
    p = _first(f, "findings/", ".json")
    f[p] = f[p].replace(b'"fail"', b'"pass"', 1)


def manifest(f: Files) -> None:
    f["evidence/manifest.toml"] = (
        f["evidence/manifest.toml"].replace(b"registered_by", b"registered_by", 1) + b"# note\n"
    )


def missing_file(f: Files) -> None:
    del f[_first(f, f"contracts/{APPROVED}/v1/statement.", ".sig")]


def extra_file(f: Files) -> None:
    f[f"contracts/{APPROVED}/v1/notes.txt"] = b"approved in a meeting\n"


def swapped_versions(f: Files) -> None:
    for name in list(f):
        if name.startswith(f"contracts/{STALE}/v1/"):
            other = name.replace("/v1/", "/v2/")
            if other in f:
                f[name], f[other] = f[other], f[name]


def snapshot_sig(f: Files) -> None:
    p = _first(f, "snapshot.", ".sig")
    lines = f[p].split(b"\n")
    lines[2] = _flip(lines[2], 10)
    f[p] = b"\n".join(lines)


def index_edit(f: Files) -> None:
    f["bundle.json"] = f["bundle.json"].replace(b'"evidence_files":true', b'"evidence_files":1')


CASES: dict[str, Callable[[Files], None]] = {
    "contract-byte": contract_byte,
    "statement": statement,
    "signature": signature,
    "registry-file": registry_file,
    "evidence-file": evidence_file,
    "findings": findings,
    "manifest": manifest,
    "missing-file": missing_file,
    "extra-file": extra_file,
    "swapped-versions": swapped_versions,
    "snapshot-signature": snapshot_sig,
    "index": index_edit,
}
# An attacker who also rewrites SHA256SUMS is still caught by the signed index.
RESUMMED = ["contract-byte", "evidence-file", "findings", "manifest", "missing-file", "extra-file"]


def test_untouched_bundles_pass_both(exported: Exported, tmp_path: Path) -> None:
    for name, data in (("first", exported.first), ("second", exported.second)):
        report = verify(data, exported.trust_root)
        assert report.ok, (name, report.failures)
        assert {c.contract_id: c.state for c in report.contracts}[APPROVED] == "approved"
        result = run_verify_sh(data, exported.trust_root)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "RESULT: OK" in result.stdout
        # who must sign, derived from the signed files: the same verdicts as verify-bundle
        assert f"contract {APPROVED}: v1 approved" in result.stdout
        assert (
            "contract policy-data-to-claims-agent: chain v1..v1 intact; pending "
            "(missing: aisha.rahman@meridian.example; blocked requirements: 0)"
        ) in result.stdout
    second = {c.contract_id: c for c in verify(exported.second, exported.trust_root).contracts}
    assert second[STALE].state == "approved" and second[STALE].head == 2
    assert [v.state for v in second[STALE].versions] == ["approved", "approved"]


@pytest.mark.parametrize(
    ("case", "resum"),
    [(c, False) for c in CASES] + [(c, True) for c in RESUMMED],
    ids=[c for c in CASES] + [f"{c}+sums" for c in RESUMMED],
)
def test_tampering_is_detected_by_both(
    exported: Exported, tmp_path: Path, case: str, resum: bool
) -> None:
    files = members(exported.second)
    before = dict(files)
    CASES[case](files)
    assert files != before, "the tamper function changed nothing"
    report = verify(pack(files, resum), exported.trust_root)
    assert not report.ok, f"verify-bundle missed {case}"
    result = run_verify_sh(pack(files, resum), exported.trust_root)
    assert result.returncode == 1, f"VERIFY.sh missed {case}:\n{result.stdout}{result.stderr}"
    assert "FAIL" in result.stdout and "RESULT: FAIL" in result.stdout


def test_older_snapshot_is_rejected_by_both(exported: Exported, tmp_path: Path) -> None:
    newer = members(exported.second)["snapshot.json"]
    older = members(exported.first)["snapshot.json"]
    # The auditor kept v2; someone hands them the v1 bundle.
    report = verify(exported.first, exported.trust_root, previous=sha(newer))
    assert not report.ok
    assert any(c.name == "rollback" and c.severity == "fail" for c in report.checks)
    report = verify(exported.first, exported.trust_root, previous=newer)
    assert any("OLDER" in c.message for c in report.checks)
    report = verify(exported.first, exported.trust_root, previous=exported.second)
    assert any(c.name == "forks" and c.severity == "fail" for c in report.checks)
    result = run_verify_sh(exported.first, exported.trust_root, sha(newer))
    assert result.returncode == 1 and "ROLLBACK" in result.stdout
    # The other way round is fine: v2 extends the v1 the auditor kept.
    assert verify(exported.second, exported.trust_root, previous=sha(older)).ok
    assert verify(exported.second, exported.trust_root, previous=exported.first).ok
    assert run_verify_sh(exported.second, exported.trust_root, sha(older)).returncode == 0


def test_wrong_or_missing_trust_root(exported: Exported, tmp_path: Path) -> None:
    wrong = "0" * 64
    report = verify(exported.second, wrong)
    assert not report.ok
    assert any("pinned" in f for f in report.failures)
    unpinned = verify(exported.second, None)  # type: ignore[arg-type]
    assert not unpinned.ok and any(c.name == "trust root" for c in unpinned.checks)
    trusted = verify(exported.second, None, trust_bundle_root=True)  # type: ignore[arg-type]
    assert trusted.ok
    assert any(c.name == "trust root" and c.severity == "warn" for c in trusted.checks)
    result = run_verify_sh(exported.second, wrong)
    assert result.returncode == 1 and "not the pinned root" in result.stdout


def test_expiry_is_a_warning_unless_strict(exported: Exported) -> None:
    from datetime import timedelta

    from tests.bundle.conftest import VERIFY_AT
    from workbench.bundle.verify import verify_bundle

    later = VERIFY_AT + timedelta(days=31)
    report = verify_bundle(exported.second, root=exported.trust_root, now=later)
    assert report.ok and not report.current
    assert any(c.name == "expiry" and c.severity == "warn" for c in report.checks)
    strict = verify_bundle(exported.second, root=exported.trust_root, now=later, strict=True)
    assert not strict.ok
