from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.evidence.conftest import copy_to
from workbench.evidence.errors import ManifestError, UnsafePath
from workbench.evidence.manifest import (
    Manifest,
    Snapshot,
    parse_manifest,
    render_manifest,
    resolve_snapshot_path,
    sha256_file,
    snapshot_id,
    snapshot_relpath,
    verify_snapshot,
)


def by_kind(manifest: Manifest, kind: str) -> Snapshot:
    return next(s for s in manifest.snapshots if s.kind == kind)


def register(root: Path, src: Path, kind: str, fmt: str, **extra) -> Snapshot:
    """Copy `src` into the repo the way the CLI will, and describe it."""
    digest, size = sha256_file(src)
    sid = snapshot_id(digest)
    rel = snapshot_relpath(sid, fmt)
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(src.read_bytes())
    return Snapshot(
        id=sid,
        kind=kind,
        path=rel,
        sha256=digest,
        size=size,
        format=fmt,
        captured_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        source="prometheus export",
        **extra,
    )


@pytest.fixture
def repo(tmp_path: Path, evidence_dir: Path) -> tuple[Path, Manifest]:
    root = tmp_path / "repo"
    root.mkdir()
    snaps = (
        register(root, evidence_dir / "scores.csv", "score_samples", "csv", term="drift"),
        register(
            root,
            evidence_dir / "groups.parquet",
            "group_counts",
            "parquet",
            contract="ranking",
            term="representation",
            registered_by="p-ann",
            registered_at=datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
        ),
        register(root, evidence_dir / "assertions.jsonl", "assertion_results", "jsonl"),
    )
    return root, Manifest(snapshots=snaps)


def test_sha256_file_streams_and_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    data = os.urandom(3 * (1 << 20) + 17)
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    assert sha256_file(f) == (hashlib.sha256(data).hexdigest(), len(data))
    assert sha256_file(f, chunk_size=7) == (hashlib.sha256(data).hexdigest(), len(data))


def test_round_trip_is_byte_identical_and_sorted(repo: tuple[Path, Manifest]) -> None:
    _, manifest = repo
    text = render_manifest(manifest)
    parsed = parse_manifest(text)
    assert parsed == manifest
    assert render_manifest(parsed) == text
    # Order of registration does not matter: sorted by id.
    reversed_manifest = Manifest(snapshots=tuple(reversed(manifest.snapshots)))
    assert render_manifest(reversed_manifest) == text
    ids = [line.split('"')[1] for line in text.splitlines() if line.startswith("id = ")]
    assert ids == sorted(ids) and len(ids) == 3
    # Optional fields are omitted, not rendered empty.
    assert "contract = " in text and text.count("contract = ") == 1
    # Other TOML readers agree (tomlkit is what other modules edit TOML with).
    doc = tomlkit.parse(text)
    assert len(doc["snapshot"]) == 3
    assert "captured_at = 2026-03-01T10:00:00Z" in text


def test_rendering_is_stable_text(repo: tuple[Path, Manifest]) -> None:
    _, manifest = repo
    snap = by_kind(manifest, "group_counts")
    text = render_manifest(Manifest(snapshots=(snap,)))
    assert text == (
        "# Evidence snapshots registered in this repository.\n"
        "# Written by workbench: one [[snapshot]] per file, sorted by id.\n"
        "version = 1\n"
        "\n"
        "[[snapshot]]\n"
        f'id = "{snap.id}"\n'
        'kind = "group_counts"\n'
        f'path = "evidence/snapshots/{snap.id}.parquet"\n'
        f'sha256 = "{snap.sha256}"\n'
        f"size = {snap.size}\n"
        'format = "parquet"\n'
        "captured_at = 2026-03-01T10:00:00Z\n"
        'source = "prometheus export"\n'
        'contract = "ranking"\n'
        'term = "representation"\n'
        'registered_by = "p-ann"\n'
        "registered_at = 2026-03-02T08:30:00Z\n"
    )
    assert render_manifest(Manifest()) == (
        "# Evidence snapshots registered in this repository.\n"
        "# Written by workbench: one [[snapshot]] per file, sorted by id.\n"
        "version = 1\n"
    )


def test_timestamps_are_normalised_to_utc(repo: tuple[Path, Manifest]) -> None:
    _, manifest = repo
    snap = manifest.snapshots[0].model_copy(
        update={"captured_at": datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))}
    )
    # model_copy skips validation: go through the validator like the CLI will.
    snap = Snapshot.model_validate(snap.model_dump())
    text = render_manifest(Manifest(snapshots=(snap,)))
    assert "captured_at = 2026-03-01T10:00:00Z" in text
    assert parse_manifest(text).snapshots[0].captured_at == datetime(2026, 3, 1, 10, tzinfo=UTC)


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30
).filter(lambda s: s.strip() != "")


@settings(max_examples=60, deadline=None)
@given(
    digests=st.lists(st.binary(min_size=1, max_size=8), min_size=0, max_size=4, unique=True),
    source=_text,
    term=st.none() | _text,
    micro=st.integers(0, 999_999),
)
def test_property_render_parse_render_is_identity(digests, source, term, micro) -> None:
    import hashlib

    snaps = []
    for raw in digests:
        digest = hashlib.sha256(raw).hexdigest()
        sid = snapshot_id(digest)
        snaps.append(
            Snapshot(
                id=sid,
                kind="custom",
                path=snapshot_relpath(sid, "csv"),
                sha256=digest,
                size=len(raw),
                format="csv",
                captured_at=datetime(2026, 1, 2, 3, 4, 5, micro, tzinfo=UTC),
                source=source,
                term=term,
            )
        )
    manifest = Manifest(snapshots=tuple(snaps))
    text = render_manifest(manifest)
    assert parse_manifest(text) == manifest
    assert render_manifest(parse_manifest(text)) == text


# ---------------------------------------------------------------- errors


def test_parse_errors_name_snapshot_and_field(repo: tuple[Path, Manifest]) -> None:
    _, manifest = repo
    text = render_manifest(manifest)
    scores = by_kind(manifest, "score_samples")
    bad = text.replace('kind = "score_samples"', 'kind = "latency"').replace(
        'format = "jsonl"', 'format = "xlsx"'
    )
    bad += '\n[[snapshot]]\nid = "ev-zz"\nsize = "12"\ncolour = "blue"\n'
    with pytest.raises(ManifestError) as info:
        parse_manifest(bad, filename="evidence/manifest.toml")
    problems = info.value.problems
    assert any(
        f"({scores.id}) field 'kind': unknown evidence kind 'latency'" in p for p in problems
    )
    assert any("field 'format'" in p and "'csv'" in p for p in problems)
    assert any("snapshot[3] (ev-zz) field 'id': must be 'ev-'" in p for p in problems)
    assert any("snapshot[3] (ev-zz) field 'size'" in p for p in problems)
    assert any("snapshot[3] (ev-zz) field 'colour': unknown field" in p for p in problems)
    assert any("snapshot[3] (ev-zz) field 'sha256': missing (required)" in p for p in problems)
    assert str(info.value).startswith("evidence/manifest.toml: invalid evidence manifest")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t + "oops = [", "not valid TOML"),
        (lambda t: t.replace("version = 1", "version = 2"), "unsupported manifest version 2"),
        (
            lambda t: t.replace("version = 1", "extra = 1\nversion = 1"),
            "top-level key 'extra': unknown",
        ),
        (
            lambda t: t.replace(
                "captured_at = 2026-03-01T10:00:00Z", "captured_at = 2026-03-01T10:00:00", 1
            ),
            "must carry a UTC offset",
        ),
        (
            lambda t: t.replace(
                "captured_at = 2026-03-01T10:00:00Z", 'captured_at = "last week"', 1
            ),
            "RFC 3339",
        ),
        (
            lambda t: t.replace('path = "evidence/', 'path = "../evidence/', 1),
            "must not contain '..'",
        ),
        (lambda t: t.replace('path = "evidence/', 'path = "evidence\\\\', 1), "POSIX"),
        (
            lambda t: t.replace('source = "prometheus export"', 'source = "  "', 1),
            "must not be empty",
        ),
    ],
)
def test_parse_rejects(repo: tuple[Path, Manifest], mutate, expected: str) -> None:
    _, manifest = repo
    with pytest.raises(ManifestError, match=expected.replace("[", r"\[")):
        parse_manifest(mutate(render_manifest(manifest)))


def test_id_must_match_sha256_and_duplicates_are_refused(repo: tuple[Path, Manifest]) -> None:
    _, manifest = repo
    snap = manifest.snapshots[0]
    text = render_manifest(Manifest(snapshots=(snap,)))
    forged = text.replace(f'sha256 = "{snap.sha256}"', f'sha256 = "{"0" * 64}"')
    with pytest.raises(ManifestError, match="does not match sha256"):
        parse_manifest(forged)
    dup = text + "\n" + text.split("\n\n", 1)[1]
    with pytest.raises(ManifestError, match="duplicate snapshot id"):
        parse_manifest(dup)


def test_with_snapshot_replaces_by_id(repo: tuple[Path, Manifest]) -> None:
    _, manifest = repo
    snap = manifest.snapshots[0]
    updated = manifest.with_snapshot(snap.model_copy(update={"term": "other"}))
    assert len(updated.snapshots) == 3
    assert updated.get(snap.id).term == "other"
    assert len(updated.without(snap.id).snapshots) == 2


# ---------------------------------------------------------------- integrity


def test_verify_ok(repo: tuple[Path, Manifest]) -> None:
    root, manifest = repo
    for snap in manifest.snapshots:
        result = verify_snapshot(snap, root)
        assert result.ok and result.status == "ok", result.reason
        assert result.path == (root / snap.path).resolve()


def test_modified_snapshot_is_tampered(repo: tuple[Path, Manifest]) -> None:
    root, manifest = repo
    scores = next(s for s in manifest.snapshots if s.format == "csv")
    f = root / scores.path
    data = bytearray(f.read_bytes())
    data[-3] = ord("9") if data[-3] != ord("9") else ord("8")  # same size, different bytes
    f.write_bytes(bytes(data))
    result = verify_snapshot(scores, root)
    assert not result.ok and result.status == "tampered"
    assert "sha256" in result.reason and scores.sha256 in result.reason

    f.write_bytes(bytes(data) + b"extra,1,c\n")
    result = verify_snapshot(scores, root)
    assert result.status == "tampered" and "bytes" in result.reason


def test_rewritten_parquet_is_tampered(repo: tuple[Path, Manifest]) -> None:
    root, manifest = repo
    groups = next(s for s in manifest.snapshots if s.format == "parquet")
    copy_to(root / groups.path, "SELECT 'sex' AS attribute, 'f' AS \"group\", 99::BIGINT AS count")
    assert verify_snapshot(groups, root).status == "tampered"


def test_missing_snapshot(repo: tuple[Path, Manifest]) -> None:
    root, manifest = repo
    snap = manifest.snapshots[0]
    (root / snap.path).unlink()
    result = verify_snapshot(snap, root)
    assert (result.ok, result.status) == (False, "missing")
    assert snap.path in result.reason


def test_symlink_escaping_the_repo_is_refused(repo: tuple[Path, Manifest], tmp_path: Path) -> None:
    root, manifest = repo
    snap = manifest.snapshots[0]
    outside = tmp_path / "outside.csv"
    outside.write_bytes((root / snap.path).read_bytes())  # identical bytes, still refused
    (root / snap.path).unlink()
    (root / snap.path).symlink_to(outside)
    result = verify_snapshot(snap, root)
    assert (result.ok, result.status) == (False, "outside_roots")
    assert "outside the evidence roots" in result.reason and "through a symlink" in result.reason
    # A symlinked directory inside the repo that points outside is refused too.
    with pytest.raises(UnsafePath):
        resolve_snapshot_path(snap.path, root)


def test_symlink_inside_the_repo_is_fine(repo: tuple[Path, Manifest]) -> None:
    root, manifest = repo
    snap = manifest.snapshots[0]
    real = root / "evidence" / "real.csv"
    (root / snap.path).rename(real)
    (root / snap.path).symlink_to(real)
    assert verify_snapshot(snap, root).ok


def test_external_absolute_and_file_url_paths(tmp_path: Path, evidence_dir: Path) -> None:
    big = evidence_dir / "scores.csv"
    digest, size = sha256_file(big)
    for path in (str(big), big.as_uri()):
        snap = Snapshot(
            id=snapshot_id(digest),
            kind="score_samples",
            path=path,
            sha256=digest,
            size=size,
            format="csv",
            captured_at=datetime(2026, 3, 1, tzinfo=UTC),
            source="warehouse export (kept outside git)",
        )
        assert parse_manifest(render_manifest(Manifest(snapshots=(snap,)))) == Manifest(
            snapshots=(snap,)
        )
        # Outside the evidence roots (by default only the repository's evidence/): refused.
        refused = verify_snapshot(snap, tmp_path)
        assert (refused.ok, refused.status) == (False, "outside_roots"), refused.reason
        # Under a configured root (a data mount on this machine): pinned by path and hash.
        result = verify_snapshot(snap, tmp_path, (tmp_path / "evidence", evidence_dir))
        assert result.ok, result.reason
        assert result.path == big


@pytest.mark.parametrize(
    "path",
    ["", "a/../b.csv", "./a.csv", "a//b.csv", "C:/x.csv", "file://host/x.csv", "a\\b.csv"],
)
def test_bad_paths_are_refused(path: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafePath):
        resolve_snapshot_path(path, tmp_path)
