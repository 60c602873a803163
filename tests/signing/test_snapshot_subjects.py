"""An audit snapshot's subjects against the files at hand: each difference said as what it
is (extra, missing, displaced by an extra file, different bytes), never an extra file
reported as a missing one. Real snapshot statements (`write_snapshot`), pure checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workbench.signing.snapshot import check_snapshot, write_snapshot

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
REPO = "5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58"
V1 = "registry/v1/statement.json"
V2 = "registry/v2/statement.json"
INDEX = "bundle.json"
HEADS = "heads.json"


def snapshot(heads: dict[str, bytes]) -> bytes:
    return write_snapshot(heads, REPO, 1, None, NOW, NOW + timedelta(days=7))


def problems(raw: bytes, heads: dict[str, bytes], present: set[str] | None = None) -> list[str]:
    held = set(heads) if present is None else present
    return check_snapshot(raw, heads, NOW, present=held).problems


EXPORTED = {V1: b'{"registry": 1}', INDEX: b'{"files": {}}'}


def test_untouched_subjects_have_no_problem() -> None:
    assert problems(snapshot(EXPORTED), EXPORTED) == []


def test_an_extra_file_is_reported_as_extra() -> None:
    # Failed before: "heads.json is not in the snapshot" did not say the file is an
    # addition to the bundle.
    held = {**EXPORTED, HEADS: b"{}"}
    [problem] = problems(snapshot(EXPORTED), held)
    assert problem.startswith(f"{HEADS} is in the bundle but not in the snapshot"), problem
    assert "missing" not in problem


def test_a_missing_file_is_reported_as_missing() -> None:
    raw = snapshot({**EXPORTED, HEADS: b"{}"})
    [problem] = problems(raw, EXPORTED)
    assert problem == f"{HEADS} is listed in the snapshot but missing from the bundle"


def test_a_file_displaced_by_an_extra_one_is_not_called_missing() -> None:
    # Failed before: a newer registry version added to the bundle (v2, the head now) made
    # the v1 statement the snapshot lists read "listed in the snapshot but is not one of
    # the files it covers (missing from the bundle, ...)" although v1 is in the bundle:
    # the problem is the extra v2.
    held = {V2: b'{"registry": 2}', INDEX: EXPORTED[INDEX]}
    found = problems(snapshot(EXPORTED), held, present={V1, V2, INDEX})
    assert found[0].startswith(f"{V2} is in the bundle but not in the snapshot"), found
    assert found[1] == (
        f"{V1} is listed in the snapshot and is in the bundle, but is no longer the file the "
        f"snapshot covers ({V2} took its place)"
    ), found
    assert not any("missing" in p for p in found), found


def test_different_bytes_are_reported_with_both_digests() -> None:
    import hashlib

    changed = {**EXPORTED, INDEX: b'{"files": {"x": "y"}}'}
    [problem] = problems(snapshot(EXPORTED), changed)
    actual = hashlib.sha256(changed[INDEX]).hexdigest()[:16]
    listed = hashlib.sha256(EXPORTED[INDEX]).hexdigest()[:16]
    assert problem.startswith(f"{INDEX} does not match the snapshot: its sha256 is {actual}")
    assert f"the snapshot lists {listed}" in problem
    assert "missing" not in problem
