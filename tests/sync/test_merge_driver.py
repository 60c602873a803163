"""The legacy shared record file, `evidence/manifest.toml` (written by earlier versions and
by repositories without a key registry), through a real `git merge`: its merge driver
merges two clones' deliveries by snapshot id; a real clash stays a conflict. (Signed
registrations need no driver: tests/sync/test_record_layout.py.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import FIXED_NOW
from tests.sync.conftest import APPLICANT, Origin, git
from tests.sync.test_sync_clones import evidence_file
from workbench.cli.main import main
from workbench.evidence.manifest import (
    MANIFEST_PATH,
    Manifest,
    Snapshot,
    parse_manifest,
    render_manifest,
    sha256_file,
    snapshot_id,
    snapshot_relpath,
)
from workbench.service.core import Workbench

GIT_ID = ("-c", "user.name=Sam Ortiz", "-c", "user.email=sam.ortiz@meridian.example")


def register(root: Path, file: Path, hours: float, captured_at: object = None) -> str:
    """A delivery as earlier versions recorded it: a [[snapshot]] in the shared manifest."""
    wb = Workbench(root, now=FIXED_NOW + timedelta(hours=hours), actor="sam.ortiz")
    digest, size = sha256_file(file)
    sid = snapshot_id(digest)
    snap = Snapshot(
        id=sid, kind="freshness_lags", path=snapshot_relpath(sid, "csv"), sha256=digest,
        size=size, format="csv", captured_at=captured_at or wb.now, source=f"file {file.name}",
        contract=APPLICANT, registered_by="sam.ortiz", registered_at=wb.now,
    )  # fmt: skip
    legacy = wb.evidence.registrations.legacy() or Manifest()
    manifest = render_manifest(legacy.with_snapshot(snap)).encode()
    wb.commit({snap.path: file.read_bytes(), MANIFEST_PATH: manifest}, f"Register {sid}\n")
    return sid


def snapshot_ids(root: Path) -> set[str]:
    return {s.id for s in parse_manifest((root / MANIFEST_PATH).read_text()).snapshots}


def two_deliveries(origin: Origin, tmp_path: Path) -> tuple[Path, Path, str, str]:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    first = register(a, evidence_file(tmp_path, "a"), 1)
    git(a, "push", "-q", "origin", "main")
    second = register(b, evidence_file(tmp_path, "b"), 2)
    return a, b, first, second


def test_line_merge_of_two_deliveries_conflicts_without_the_driver(
    origin: Origin, tmp_path: Path
) -> None:
    _a, b, _first, _second = two_deliveries(origin, tmp_path)
    pulled = git(b, *GIT_ID, "pull", "--no-rebase", "--no-edit", "origin", "main", check=False)
    said = pulled.stdout + pulled.stderr
    assert pulled.returncode != 0 and "CONFLICT (" in said
    assert f"Merge conflict in {MANIFEST_PATH}" in said


def test_merge_driver_merges_two_deliveries_through_git_merge(
    origin: Origin, tmp_path: Path
) -> None:
    _a, b, first, second = two_deliveries(origin, tmp_path)
    assert main(["--repo", str(b), "merge-driver", "install"]) == 0
    assert "merge=workbench-manifest" in (b / ".git" / "info" / "attributes").read_text()
    pulled = git(b, *GIT_ID, "pull", "--no-rebase", "--no-edit", "origin", "main", check=False)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    merged = (b / MANIFEST_PATH).read_text()
    assert {first, second} <= snapshot_ids(b)
    assert merged == render_manifest(parse_manifest(merged))  # canonical: sorted by id
    assert git(b, "status", "--porcelain").stdout == ""
    assert len(git(b, "rev-list", "--parents", "-1", "HEAD").stdout.split()) == 3  # a merge


def test_merge_driver_leaves_a_real_clash_as_a_conflict(origin: Origin, tmp_path: Path) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    same = evidence_file(tmp_path, "same")
    # The same bytes delivered on both laptops with a different capture time: one snapshot,
    # two claims about it. The merge must not pick one silently.
    sid = register(a, same, 1, captured_at=FIXED_NOW - timedelta(hours=6))
    git(a, "push", "-q", "origin", "main")
    assert register(b, same, 2, captured_at=FIXED_NOW - timedelta(hours=5)) == sid
    assert main(["--repo", str(b), "merge-driver", "install"]) == 0
    pulled = git(b, *GIT_ID, "pull", "--no-rebase", "--no-edit", "origin", "main", check=False)
    assert pulled.returncode != 0
    assert f"{sid}: registered with different details on each side" in pulled.stderr
    text = (b / MANIFEST_PATH).read_text()
    assert text.count("<<<<<<< ours") == 1 and text.count(f'id = "{sid}"') == 2
    assert "captured_at = 2026-11-27T03:00:00Z" in text and "2026-11-27T04:00:00Z" in text


def test_conflicted_manifest_is_named_as_a_merge_conflict() -> None:
    import pytest

    from workbench.evidence.errors import ManifestError

    text = render_manifest(Manifest()) + "<<<<<<< ours\n[[snapshot]]\n=======\n>>>>>>> theirs\n"
    with pytest.raises(ManifestError, match="merge conflict, lines"):
        parse_manifest(text)
