"""The evidence-root check on strings (`resolve_snapshot_path`, `verify_snapshot`) against
the pathlib implementation it replaced, kept here as the oracle: the same path or the same
refusal for every path and root layout a hostile manifest or a careless operator can make
(relative, absolute, file: URLs, ``//`` paths, ``/`` as a root, roots given with a trailing
slash or through a symlink, files that are symlinks inside and out of the roots, dangling
links, symlink loops, directories, missing files)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest

from workbench.evidence.errors import UnsafePath
from workbench.evidence.manifest import (
    OutsideRoots,
    Snapshot,
    check_path_syntax,
    default_roots,
    resolve_snapshot_path,
    sha256_file,
    snapshot_id,
    verify_snapshot,
)


def _oracle(path: str, root: Path, roots: tuple[Path, ...] | None = None) -> Path:
    """resolve_snapshot_path as it was written with pathlib (before 2026-12-04)."""
    try:
        check_path_syntax(path)
    except ValueError as exc:
        raise UnsafePath(f"{path!r}: {exc}") from None
    roots = default_roots(root) if roots is None else roots
    if path.startswith("file:"):
        written = Path(unquote(urlsplit(path).path))
    elif path.startswith("/"):
        written = Path(path)
    else:
        written = Path(root).absolute() / PurePosixPath(path)
    written = Path(os.path.normpath(written))
    lexical = tuple(Path(os.path.normpath(Path(r).absolute())) for r in roots)

    def under(p: Path, rs: tuple[Path, ...]) -> bool:
        return any(p == r or p.is_relative_to(r) for r in rs)

    if not under(written, lexical):
        raise OutsideRoots("lexical")
    target = written.resolve()
    if not under(target, tuple(r.resolve() for r in lexical)):
        raise OutsideRoots("symlink")
    return target


def _outcome(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return ("ok", fn(*args))
    except OutsideRoots as exc:
        return ("outside", "symlink" in str(exc))
    except UnsafePath as exc:
        # pathlib raised RuntimeError on a loop; the string check refuses it as an unsafe
        # path (tests/evidence/test_unsafe_snapshot_files.py) at the same point.
        return ("loop", None) if "symlink loop" in str(exc) else ("unsafe", None)
    except RuntimeError:
        return ("loop", None)


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    repo = tmp_path / "repo"
    data = tmp_path / "data"
    other = tmp_path / "other"
    for d in (repo / "evidence" / "sub", data / "in", other):
        d.mkdir(parents=True)
    (repo / "evidence" / "a.csv").write_text("x\n1\n")
    (data / "in" / "b.parquet").write_bytes(b"PAR1")
    (other / "c.csv").write_text("x\n2\n")
    (repo / "evidence" / "out.csv").symlink_to(other / "c.csv")
    (repo / "evidence" / "in.csv").symlink_to(repo / "evidence" / "a.csv")
    (repo / "evidence" / "dangling.csv").symlink_to(other / "gone.csv")
    (repo / "evidence" / "loop1").symlink_to(repo / "evidence" / "loop2")
    (repo / "evidence" / "loop2").symlink_to(repo / "evidence" / "loop1")
    (data / "dirlink").symlink_to(other)
    (tmp_path / "datalink").symlink_to(data)
    return repo, data, other


def test_root_check_on_strings_is_the_pathlib_check(layout: tuple[Path, Path, Path]) -> None:
    repo, data, other = layout
    paths = [
        "evidence/a.csv",
        "evidence/sub/../a.csv",
        "evidence/out.csv",
        "evidence/in.csv",
        "evidence/dangling.csv",
        "evidence/loop1",
        "evidence/sub",
        "evidence/missing.csv",
        "contracts/x.toml",
        str(data / "in" / "b.parquet"),
        str(data / "in" / ".." / "in" / "b.parquet"),
        str(data / "in" / "."),
        str(data),
        str(data / "dirlink" / "c.csv"),
        str(data) + "x/in/b.parquet",  # a sibling whose name starts like the root
        "/" + str(data / "in" / "b.parquet"),  # a '//' path
        "///" + str(data / "in" / "b.parquet").lstrip("/"),
        (data / "in" / "b.parquet").as_uri(),
        str(other / "c.csv"),
        "/etc/hostname",
        "a/../b.csv",
        "",
    ]
    root_sets: list[tuple[Path, ...] | None] = [
        None,
        (repo / "evidence", data),
        (Path(str(data) + "/"),),
        (data.parent / "datalink",),
        (Path("/"),),
        (Path("//" + str(data).lstrip("/")),),
        (),
    ]
    for roots in root_sets:
        for path in paths:
            want = _outcome(_oracle, path, repo, roots)
            got = _outcome(resolve_snapshot_path, path, repo, roots)
            assert got == want, (path, roots)


def test_verify_snapshot_reads_one_stat_with_the_same_verdicts(
    layout: tuple[Path, Path, Path],
) -> None:
    # One stat answers "exists", "regular file" and "size": the same statuses as the
    # pathlib calls it replaced, for a file, a directory, a dangling link and a missing
    # file, a wrong size and a wrong digest.
    repo, data, _other = layout
    good = repo / "evidence" / "a.csv"
    digest, size = sha256_file(good)

    def snap(path: str, size: int = size, sha: str = digest) -> Snapshot:
        return Snapshot(
            id=snapshot_id(sha),
            kind="score_samples",
            path=path,
            sha256=sha,
            size=size,
            format="csv",
            captured_at=datetime(2026, 3, 1, tzinfo=UTC),
            source="test",
        )

    def status(s: Snapshot) -> tuple[bool, str]:
        r = verify_snapshot(s, repo, (repo / "evidence", data))
        return r.ok, r.status

    assert status(snap("evidence/a.csv")) == (True, "ok")
    assert status(snap("evidence/in.csv")) == (True, "ok")
    assert status(snap("evidence/sub")) == (False, "unsafe_path")  # a directory
    assert status(snap("evidence/dangling.csv")) == (False, "outside_roots")
    assert status(snap("evidence/missing.csv")) == (False, "missing")
    assert status(snap("evidence/a.csv", size=size + 1)) == (False, "tampered")
    assert status(snap("evidence/a.csv", sha="0" * 64)) == (False, "tampered")
    assert status(snap("evidence/out.csv")) == (False, "outside_roots")
    # pathlib's resolve() raised RuntimeError, which ended the whole run: now this
    # snapshot's own refusal.
    assert status(snap("evidence/loop1")) == (False, "unsafe_path")


def test_every_refused_snapshot_is_named_by_its_line_from_one_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A run on a machine without the evidence roots refuses every snapshot and names each
    # one's line in the manifest: the manifest is parsed once for all of them (it was
    # parsed once per snapshot: minutes at 3,000), and each gets its own entry's line.
    import tomllib

    from workbench.evidence import manifest as manifest_module
    from workbench.evidence.manifest import Manifest, manifest_position, render_manifest

    snaps = []
    for i in range(200):
        digest = f"{i + 1:012x}" + "0" * 52
        snaps.append(
            Snapshot(
                id=snapshot_id(digest),
                kind="score_samples",
                path=f"/data/s{i}.csv",
                sha256=digest,
                size=1,
                format="csv",
                captured_at=datetime(2026, 3, 1, tzinfo=UTC),
                source="test",
            )
        )
    text = render_manifest(Manifest(snapshots=tuple(snaps)))
    data = text.encode()
    parses = 0
    real = tomllib.loads

    def counting(s: str) -> object:
        nonlocal parses
        parses += 1
        return real(s)

    monkeypatch.setattr(manifest_module.tomllib, "loads", counting)
    manifest_module.manifest_positions.cache_clear()
    lines = text.splitlines()
    for s in snaps:
        line, column = manifest_module.manifest_positions(data).get(s.id, (1, 1))
        assert lines[line - 1][column - 1 :].startswith("path = "), (s.id, line, column)
        assert lines[line - 1].endswith(f'"{s.path}"')
    assert parses == 1
    assert (
        manifest_position(text, snaps[7].id)
        == manifest_module.manifest_positions(data)[snaps[7].id]
    )
    assert manifest_module.manifest_positions(data).get("ev-000000000000") is None
