"""Each verify-bundle check names itself when it fails: one attack per check on a real
bundle, and the untouched bundle passes each (docs/rules.md lists the checks and names
these tests). Tampering in general is tests/bundle/test_tamper.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.bundle.conftest import APPROVED, Exported, members, pack, verify
from workbench.signing.canonical import canonical_json

Files = dict[str, bytes]


def _json_edit(f: Files, path: str, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    doc = json.loads(f[path])
    change(doc)
    f[path] = canonical_json(doc) + (b"\n" if f[path].endswith(b"\n") else b"")


def changed_file(f: Files) -> None:
    path = f"contracts/{APPROVED}/v1/contract.toml"
    f[path] = f[path].replace(b"=", b"= ", 1)


def no_index(f: Files) -> None:
    del f["bundle.json"]


def broken_settings(f: Files) -> None:
    f["workbench.toml"] = b"[org\nname = 'no closing bracket'\n"


def earlier_snapshot_gone(f: Files) -> None:
    del f["exports/v1.snapshot.json"]


def head_map_disagrees(f: Files) -> None:
    def bump(doc: dict) -> None:  # type: ignore[type-arg]
        doc["contracts"][APPROVED]["version"] = 9

    _json_edit(f, "heads.json", bump)


def review_signature_gone(f: Files) -> None:
    del f[sorted(p for p in f if p.startswith("reviews/") and p.endswith(".sig"))[0]]


def record_time_unplaced(f: Files) -> None:
    def unplace(doc: dict) -> None:  # type: ignore[type-arg]
        doc["records"][0]["commit_time"] = None

    _json_edit(f, "bundle.json", unplace)


def unreadable_closures(f: Files) -> None:
    f["findings/closures.toml"] = b"[[closures]\nviolation = 'no closing bracket'\n"


def findings_not_json(f: Files) -> None:
    f[sorted(p for p in f if p.startswith("findings/2") and p.endswith(".json"))[0]] = b"{"


def registry_file_changed(f: Files) -> None:
    f["registry/v1/allowed_signers"] += b"# a line the admins never signed\n"


def snapshot_signature_flipped(f: Files) -> None:
    path = next(p for p in f if p.startswith("snapshot.") and p.endswith(".sig"))
    lines = f[path].split(b"\n")
    lines[2] = lines[2][:10] + (b"A" if lines[2][10:11] != b"A" else b"B") + lines[2][11:]
    f[path] = b"\n".join(lines)


def file_not_in_the_index(f: Files) -> None:
    f["notes.txt"] = b"approved in a meeting\n"


def contract_not_in_the_index(f: Files) -> None:
    f["contracts/side-deal/v1/statement.json"] = f[f"contracts/{APPROVED}/v1/statement.json"]


def manifest_not_toml(f: Files) -> None:
    f["evidence/manifest.toml"] = b"[[snapshots]\nid = 'no closing bracket'\n"


# (check, the attack that makes that check fail; others may fail too)
ATTACKS: list[tuple[str, Callable[[Files], None]]] = [
    ("SHA256SUMS", changed_file),
    ("registry", registry_file_changed),
    ("snapshot", snapshot_signature_flipped),
    ("signed index", file_not_in_the_index),
    ("contracts", contract_not_in_the_index),
    ("structure", no_index),
    ("settings", broken_settings),
    ("snapshot chain", earlier_snapshot_gone),
    ("heads", head_map_disagrees),
    ("records", review_signature_gone),
    ("record-times", record_time_unplaced),
    # An unreadable findings, closures or manifest file is a failed check, not an aborted
    # verification (it used to stop verify-bundle with an input error, the rest unreported).
    ("closures", unreadable_closures),
    ("evidence", findings_not_json),
    ("evidence", manifest_not_toml),
]


@pytest.mark.parametrize(("check", "attack"), ATTACKS, ids=[a.__name__ for _c, a in ATTACKS])
def test_each_check_fails_by_name_on_its_attack(
    exported: Exported, check: str, attack: Callable[[Files], None]
) -> None:
    files = members(exported.second)
    before = dict(files)
    attack(files)
    assert files != before, "the attack changed nothing"
    report = verify(pack(files), exported.trust_root)
    failed = {c.name for c in report.checks if c.severity == "fail"}
    assert check in failed, [f"{c.name}: {c.severity}: {c.message}" for c in report.checks]
    assert not report.ok
    assert any(line.startswith(f"{check}: ") for line in report.failures)


def test_recompute_reports_an_unreadable_findings_file(exported: Exported) -> None:
    files = members(exported.second)
    findings_not_json(files)
    report = verify(pack(files), exported.trust_root, recompute=True)
    assert any(c.name == "recompute" and c.severity == "fail" for c in report.checks)


def test_the_untouched_bundle_passes_each_check(exported: Exported) -> None:
    report = verify(exported.second, exported.trust_root)
    severities = {c.name: c.severity for c in report.checks}
    for check in (
        "SHA256SUMS",
        "registry",
        "snapshot",
        "signed index",
        "snapshot chain",
        "heads",
        "records",
        "record-times",
        "evidence",
    ):
        assert severities[check] == "ok", (check, severities)
    assert report.ok, report.failures
