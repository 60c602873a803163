"""`export-bundle` streams (issue 18: 1.69 GiB peak at 5,000 contracts): each member is
spooled and hashed as its stage produces it, the archive is written into a temp file beside
the target and renamed over it. These tests hold it to what it promises: the same bytes as
the in-memory writer, never the archive (or a large member twice over) in memory, and never
half a bundle at the target."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import tarfile
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import EXPORT_AT, EXPORTER, members, signer
from tests.conftest import copy_demo
from workbench.bundle import layout as bl
from workbench.bundle.archive import BundleCancelled, PrivateKeyInBundle, write_archive
from workbench.bundle.writer import SPOOL_IN_MEMORY, BundleMembers
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench

CONTRACT = "credit-model-to-loan-decisioning"


def _mtime(data: bytes, tmp: Path) -> int:
    (tmp / "m.tar.gz").write_bytes(data)
    with tarfile.open(tmp / "m.tar.gz") as tar:
        return int(tar.getmembers()[0].mtime)


def test_spooled_members_write_the_in_memory_archive_byte_for_byte(tmp_path: Path) -> None:
    rng = random.Random(7)
    files = {
        f"contracts/c{i:03d}/v1/statement.json": rng.randbytes(rng.randrange(0, 5000))
        for i in range(200)
    }
    files[bl.VERIFY_SH] = b"#!/bin/sh\necho ok\n"  # mode 0755 in both
    # Larger than the in-memory spool: the spool moves to disk before it is appended.
    files["evidence/snapshots/big.parquet"] = rng.randbytes(SPOOL_IN_MEMORY + 12345)
    spool = BundleMembers(tmp_path)
    for path in reversed(sorted(files)):  # stages add in their own order, not sorted
        spool[path] = files[path]
    spool["contracts/c000/v1/statement.json"] = files["contracts/c000/v1/statement.json"] = b"x"
    assert spool["evidence/snapshots/big.parquet"] == files["evidence/snapshots/big.parquet"]
    assert spool.sums(bl.SUMS) == bl.render_sums(files)
    with (tmp_path / "out.tar.gz").open("wb") as handle:
        written = spool.write(handle, 1_790_000_000)
    spool.close()
    expected = write_archive(files, 1_790_000_000)
    assert (tmp_path / "out.tar.gz").read_bytes() == expected
    assert written.sha256 == hashlib.sha256(expected).hexdigest() and written.size == len(expected)


def test_a_private_key_is_refused_as_it_is_added(tmp_path: Path) -> None:
    spool = BundleMembers(tmp_path)
    key = subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True
    )
    assert key.returncode == 0
    with pytest.raises(PrivateKeyInBundle, match="reviews/x.toml"):
        spool["reviews/x.toml"] = (tmp_path / "k").read_bytes()
    assert "reviews/x.toml" not in spool
    spool.close()


def test_the_private_key_scan_finds_a_key_across_its_chunks() -> None:
    """The scan compacts a member a chunk at a time (no whole copy of a large evidence
    file): a key's base64 body wrapped at any column and split by the chunk boundary, or
    separated from it by whitespace, is still found."""
    import base64

    from workbench.repo.guard import _CHUNK, contains_private_key_material

    body = base64.b64encode(b"\0openssh-key-v1\0" + b"k" * 40)
    for shift in range(-30, 5):
        for space in (b"", b"\n", b" \r\n\t"):
            wrapped = space.join(body[i : i + 3] for i in range(0, len(body), 3))
            assert contains_private_key_material(b"a" * (_CHUNK + shift) + wrapped)
            assert contains_private_key_material(b"a" * (_CHUNK - 40) + b"\n" * 99 + wrapped)
    assert not contains_private_key_material(b"a" * (3 * _CHUNK))


def test_the_streamed_export_is_the_in_memory_archive_byte_for_byte(
    demo_template: Path, tmp_path: Path, exported
) -> None:  # type: ignore[no-untyped-def]
    # The fixture's bundles were exported through the streaming path (wb.bundles.export):
    # their members, re-packed by the in-memory writer, give the same bytes.
    for data in (exported.first, exported.second):
        assert write_archive(members(data), _mtime(data, tmp_path)) == data
    # And the same repository state gives the same archive through both APIs.
    root = copy_demo(demo_template, tmp_path / "demo")
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    built = wb.bundles.build(ExportOptions(record=False), signer(root, EXPORTER))
    out = tmp_path / "streamed.tar.gz"
    streamed = wb.bundles.export(out, ExportOptions(record=False), signer=signer(root, EXPORTER))
    assert out.read_bytes() == built.data
    assert streamed.data == b"" and streamed.size == len(built.data)
    assert streamed.sha256 == built.sha256 == hashlib.sha256(built.data).hexdigest()
    assert os.stat(out).st_mode & 0o777 == 0o644


def _large_evidence(root: Path, tmp: Path) -> tuple[str, bytes]:
    """A 40 MB Parquet file of scores (timestamps, random doubles and a random feature
    vector per row, no compression) registered as the contract's evidence and committed, as
    a team ships a large sample. Most of its bytes are random: 40 MB of sorted timestamps
    alone kept the export's gzip (then at level 9) busy for 15 CPU seconds, which a test of the export's
    memory does not need."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 200_000
    width = 200
    rng = random.Random(3)
    start = int((EXPORT_AT - timedelta(days=2)).timestamp() * 1_000_000)
    table = pa.table(
        {
            "scored_at": pa.array(
                [start + i * 1000 for i in range(rows)], pa.timestamp("us", tz="UTC")
            ),
            "score": pa.array([rng.random() for _ in range(rows)], pa.float64()),
            "features": pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(width), rows, [None, pa.py_buffer(rng.randbytes(rows * width))]
            ),
        }
    )
    path = tmp / "scores.parquet"
    pq.write_table(table, path, compression="none", use_dictionary=False)
    del table
    wb = Workbench(root, now=EXPORT_AT - timedelta(minutes=30), actor="ravi.iyer")
    snap = wb.evidence.add(
        path, "score_samples", contract=CONTRACT, captured_at=EXPORT_AT - timedelta(hours=1)
    )
    return snap.path, path.read_bytes()


def test_export_streams_a_large_evidence_file_without_holding_the_archive(
    demo_template: Path, tmp_path: Path
) -> None:
    """Python's allocations during the whole export stay under 1.5 times the large file:
    the file itself, read from git once, plus the bounded spool and the demo's own. Holding
    the archive as before (the tar, its copy, the gzip and its copy, beside the member)
    cost five times the file."""
    root = copy_demo(demo_template, tmp_path / "demo")
    member, data = _large_evidence(root, tmp_path)
    assert len(data) > 39 << 20
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    out = tmp_path / "bundle.tar.gz"
    tracemalloc.start()
    try:
        result = wb.bundles.export(out, ExportOptions(record=False), signer=signer(root, EXPORTER))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == out.stat().st_size > len(data) // 2
    shipped = members(out.read_bytes())
    assert hashlib.sha256(shipped[member]).digest() == hashlib.sha256(data).digest()
    assert peak < 1.5 * len(data), f"peak {peak >> 20} MiB for a {len(data) >> 20} MiB member"


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def previous(demo_template: Path, tmp_path: Path) -> tuple[Workbench, Path, bytes, str]:
    root = copy_demo(demo_template, tmp_path / "demo")
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    out = tmp_path / "out" / "bundle.tar.gz"
    wb.bundles.export(out, ExportOptions(), signer=signer(root, EXPORTER))
    wb = Workbench(root, now=EXPORT_AT + timedelta(minutes=5), actor=EXPORTER)
    return wb, out, out.read_bytes(), wb.git.head_id() or ""


def test_an_export_failing_in_a_stage_leaves_the_previous_bundle_untouched(
    previous: tuple[Workbench, Path, bytes, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wb, out, before, head = previous

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr("workbench.bundle.oscal.build_documents", broken)
    with pytest.raises(OSError, match="disk on fire"):
        wb.bundles.export(out, ExportOptions(), signer=signer(wb.root, EXPORTER))
    assert out.read_bytes() == before
    assert _temp_files(out.parent) == []
    assert wb.git.head_id() == head  # no snapshot recorded for a bundle never written
    fresh = out.parent / "fresh.tar.gz"
    with pytest.raises(OSError, match="disk on fire"):
        wb.bundles.export(fresh, ExportOptions(), signer=signer(wb.root, EXPORTER))
    assert not fresh.exists() and _temp_files(out.parent) == []


def test_an_export_failing_half_way_through_the_archive_leaves_no_half_bundle(
    previous: tuple[Workbench, Path, bytes, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive is being written member by member when it fails: the temp file holds
    half a bundle, which must never reach the target."""
    from workbench.bundle import writer

    wb, out, before, head = previous
    real = writer.tar_info
    calls: list[str] = []

    def failing(path: str, size: int, mtime: int):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 60:
            raise OSError("no space left on device")
        return real(path, size, mtime)

    monkeypatch.setattr(writer, "tar_info", failing)
    with pytest.raises(OSError, match="no space left"):
        wb.bundles.export(out, ExportOptions(), signer=signer(wb.root, EXPORTER))
    assert len(calls) == 60  # it failed mid-archive, with members already written
    assert out.read_bytes() == before
    assert _temp_files(out.parent) == []
    assert wb.git.head_id() == head


def test_a_cancelled_export_writes_and_records_nothing(
    previous: tuple[Workbench, Path, bytes, str],
) -> None:
    wb, out, before, head = previous
    stages: list[str] = []

    def cancel() -> bool:
        return "evidence" in stages

    with pytest.raises(BundleCancelled):
        wb.bundles.export(
            out,
            ExportOptions(),
            signer=signer(wb.root, EXPORTER),
            progress=lambda stage, _d, _t: stages.append(stage),
            cancel=cancel,
        )
    assert out.read_bytes() == before
    assert _temp_files(out.parent) == [] and wb.git.head_id() == head


def _views_left(demo: Path, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The committed views an export's clock and page indexes make, still alive after."""
    import weakref

    from workbench.service import bundle as service_bundle
    from workbench.service import core

    made: list[weakref.ref[Workbench]] = []

    class Tracked(core.Workbench):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    wb = Workbench(demo, now=EXPORT_AT, actor=EXPORTER)
    wb.state("HEAD")  # the clone's cache is written: each view reads it back (and freezes)
    source = service_bundle._SessionSource(wb)
    monkeypatch.setattr(core, "Workbench", Tracked)
    seams = set(wb.state("HEAD").contracts)
    assert source.clock_index(seams) is not None and source.page_index(seams)
    assert len(made) == 2
    return [ref() for ref in made if ref() is not None]


def test_the_views_of_the_clock_and_page_indexes_are_freed(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each view is a whole session; frozen by the cache reader's gc.freeze, a dropped one
    was never collected and held its state for the rest of the export (≈ 350 MiB at
    5,000 contracts)."""
    demo = copy_demo(demo_template, tmp_path / "demo")
    assert _views_left(demo, monkeypatch) == []
