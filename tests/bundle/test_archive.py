"""Determinism, no private keys, the hardened reader, and the CLI's exit codes."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.bundle.conftest import (
    EXPORT_AT,
    Exported,
    members,
    raw_tar,
    signer,
    verify,
)
from workbench.bundle.archive import (
    BundleFormatError,
    Limits,
    PrivateKeyInBundle,
    read_archive,
    write_archive,
)
from workbench.repo.guard import contains_private_key_material
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench


def _build(root: Path, **options: object) -> bytes:
    wb = Workbench(root, now=EXPORT_AT, actor="grace.whitfield")
    opts = ExportOptions(record=False, **options)  # type: ignore[arg-type]
    return wb.bundles.build(opts, signer(root, "grace.whitfield")).data


def test_same_state_and_options_give_the_same_bytes(demo_repo: Path) -> None:
    a = _build(demo_repo)
    b = _build(demo_repo)
    assert a == b
    assert a[4:8] == b"\0\0\0\0"  # gzip mtime 0
    with tarfile.open(fileobj=io.BytesIO(a), mode="r:gz") as tar:
        infos = tar.getmembers()
    names = [i.name for i in infos]
    assert names == sorted(names)
    assert all(i.uid == 0 and i.gid == 0 and i.uname == "" and i.gname == "" for i in infos)
    assert {i.mtime for i in infos} == {int(EXPORT_AT.timestamp())}
    assert {i.name: i.mode for i in infos}["VERIFY.sh"] == 0o755
    assert all(i.mode == 0o644 for i in infos if i.name != "VERIFY.sh")
    assert all(i.isreg() for i in infos)
    scoped = _build(demo_repo, contracts=["applicant-data-to-credit-model"])
    assert scoped != a
    index = json.loads(members(scoped)["bundle.json"])
    assert list(index["contracts"]) == ["applicant-data-to-credit-model"]


def test_no_private_key_material_in_a_bundle(exported: Exported) -> None:
    for data in (exported.first, exported.second, exported.no_evidence):
        files = members(data)
        assert not [p for p, d in files.items() if contains_private_key_material(d)]
    key = (
        exported.root / ".git" / "handshake-workbench" / "demo-keys" / "dana.okafor_ed25519"
    ).read_bytes()
    assert contains_private_key_material(key)
    with pytest.raises(PrivateKeyInBundle):
        write_archive({"README.txt": b"x", "evidence/snapshots/leak.csv": key}, 0)


def test_no_evidence_files_keeps_hashes_and_metadata(exported: Exported) -> None:
    files = members(exported.no_evidence)
    assert not [p for p in files if p.startswith("evidence/snapshots/")]
    index = json.loads(files["bundle.json"])
    assert index["evidence"]["files_included"] is False
    assert index["evidence"]["snapshots"]
    assert all(len(s["sha256"]) == 64 and not s["included"] for s in index["evidence"]["snapshots"])
    report = verify(exported.no_evidence, exported.trust_root)
    assert report.ok, report.failures
    assert any(c.name == "evidence" and "by hash only" in c.message for c in report.checks)
    assert "sql" in json.loads(files[index["findings"][0]["path"]])["findings"][0]


def _info(name: str, kind: bytes = tarfile.REGTYPE, **kw: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for k, v in kw.items():
        setattr(info, k, v)
    return info


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([(_info("/etc/passwd"), b"x")], "absolute"),
        ([(_info("../escape.txt"), b"x")], ".."),
        ([(_info("a/../../b"), b"x")], ".."),
        ([_info("link", tarfile.SYMTYPE, linkname="/etc/passwd")], "links"),
        ([(_info("a.txt"), b"x"), _info("hard", tarfile.LNKTYPE, linkname="a.txt")], "links"),
        ([_info("dev", tarfile.CHRTYPE, devmajor=1, devminor=3)], "devices"),
        ([_info("fifo", tarfile.FIFOTYPE)], "FIFO"),
        ([_info("dir", tarfile.DIRTYPE)], "regular files"),
        ([(_info("a.txt"), b"x"), (_info("a.txt"), b"y")], "twice"),
        ([(_info("we ird.txt"), b"x")], "only letters"),
    ],
    ids=[
        "absolute",
        "dotdot",
        "dotdot-inner",
        "symlink",
        "hardlink",
        "device",
        "fifo",
        "dir",
        "duplicate",
        "odd-name",
    ],
)
def test_hardened_reader_refuses(entries: list, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(BundleFormatError, match=message):
        read_archive(raw_tar(entries))


def test_hardened_reader_caps() -> None:
    big = raw_tar([(_info("big.bin"), b"x" * 5000)])
    with pytest.raises(BundleFormatError, match="per-file cap"):
        read_archive(big, Limits(max_file=4096))
    many = raw_tar([(_info(f"f{i}.txt"), b"x") for i in range(20)])
    with pytest.raises(BundleFormatError, match="members"):
        read_archive(many, Limits(max_members=10))
    with pytest.raises(BundleFormatError, match="over the"):
        read_archive(big, Limits(max_compressed=20))
    # a bomb: 64 MiB of zeros compress to ~64 KiB
    bomb = gzip.compress(b"\0" * (64 << 20), mtime=0)
    with pytest.raises(BundleFormatError, match="decompression bomb|more than"):
        read_archive(bomb, Limits(max_ratio=100, ratio_floor=1 << 20))
    with pytest.raises(BundleFormatError, match="after the end of the tar archive"):
        read_archive(bomb, Limits(max_total=8 << 20))  # zeros are no tar member
    zeros = raw_tar([(_info("zeros.bin"), b"\0" * (16 << 20))])
    with pytest.raises(BundleFormatError, match="more than"):
        read_archive(zeros, Limits(max_total=8 << 20))
    with pytest.raises(BundleFormatError, match="gzip"):
        read_archive(b"PK\x03\x04 not a tarball")
    ok = raw_tar([(_info("a.txt"), b"x")])
    with pytest.raises(BundleFormatError, match="after the end"):
        read_archive(ok + b"trailing garbage")
    with pytest.raises(BundleFormatError, match="truncated"):
        read_archive(ok[: len(ok) // 2])
    assert read_archive(ok) == {"a.txt": b"x"}


def test_verify_reports_a_malformed_bundle_instead_of_crashing(tmp_path: Path) -> None:
    report = verify(raw_tar([_info("link", tarfile.SYMTYPE, linkname="x")]), "0" * 64)
    assert not report.ok and report.checks[0].name == "archive"
    report = verify(raw_tar([(_info("README.txt"), b"hello")]), "0" * 64)
    assert not report.ok


def test_cli_exit_codes(
    exported: Exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    good = tmp_path / "good.tar.gz"
    good.write_bytes(exported.second)
    now = ["--now", "2026-11-27T12:00:00Z"]
    assert main([*now, "verify-bundle", str(good), "--root", exported.trust_root]) == 0
    out = capsys.readouterr().out
    assert "RESULT: OK" in out and "credit-model-to-loan-decisioning v2: approved" in out
    assert main([*now, "verify-bundle", str(good)]) == 1  # no pinned root
    capsys.readouterr()
    assert main([*now, "verify-bundle", str(good), "--trust-bundle-root", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["root_pinned"] is False
    assert {c["contract"] for c in data["contracts"]} >= {"credit-model-to-loan-decisioning"}
    files = members(exported.second)
    files["registry/v1/people.toml"] += b"\n"
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(write_archive(files, 0))
    assert main([*now, "verify-bundle", str(bad), "--root", exported.trust_root]) == 1
    assert main([*now, "verify-bundle", str(tmp_path / "nope.tar.gz")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["--repo", str(exported.root), "export-bundle", "--valid-days", "soon"])
    assert exc.value.code == 2
