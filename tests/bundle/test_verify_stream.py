"""`verify-bundle` keeps a bundle's members as it reads them: each hashed on the way, large
ones compressed, evidence files by their digest alone (`bundle.read_members`). The report
is the same as from every member's bytes held in a plain dict, for the untouched bundles
and for every tampered one; the archive's refusals are the reader's, unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import Exported, members, pack, verify
from tests.bundle.test_tamper import CASES, RESUMMED
from workbench.bundle import read_members as rm
from workbench.bundle import verify as verify_module
from workbench.bundle.archive import read_archive
from workbench.bundle.report import BundleReport


def _whole(source: Any, limits: Any, cancel: Any = None, hash_only: Any = None) -> Any:
    """Every member's bytes in a dict, as `verify-bundle` kept them before it streamed."""
    return read_archive(source, limits, cancel)


def _text(report: BundleReport) -> str:
    return json.dumps(report.to_json(), sort_keys=True, default=str)


def _both(
    monkeypatch: pytest.MonkeyPatch, data: bytes, root: str, **kwargs: object
) -> tuple[str, str, str]:
    """(streamed, streamed with every member compressed, from whole bytes) reports."""
    streamed = _text(verify(data, root, **kwargs))
    with monkeypatch.context() as mp:
        mp.setattr(rm, "COMPACT_FROM", 0)
        compacted = _text(verify(data, root, **kwargs))
    with monkeypatch.context() as mp:
        mp.setattr(verify_module, "read_members", _whole)
        whole = _text(verify(data, root, **kwargs))
    return streamed, compacted, whole


def test_untouched_bundles_give_the_same_report_streamed(
    exported: Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    for data, kwargs in (
        (exported.first, {}),
        (exported.second, {}),
        (exported.second, {"previous": exported.first}),
        (exported.second, {"recompute": True}),
        (exported.no_evidence, {}),
    ):
        streamed, compacted, whole = _both(monkeypatch, data, exported.trust_root, **kwargs)
        assert streamed == whole
        assert compacted == whole
        assert json.loads(whole)["ok"] is True


@pytest.mark.parametrize(
    ("case", "resum"),
    [(c, False) for c in CASES] + [(c, True) for c in RESUMMED],
    ids=[c for c in CASES] + [f"{c}+sums" for c in RESUMMED],
)
def test_tampered_bundles_give_the_same_report_streamed(
    exported: Exported, monkeypatch: pytest.MonkeyPatch, case: str, resum: bool
) -> None:
    files = members(exported.second)
    CASES[case](files)
    streamed, compacted, whole = _both(monkeypatch, pack(files, resum), exported.trust_root)
    assert streamed == whole
    assert compacted == whole
    assert json.loads(whole)["ok"] is False


def test_members_are_hashed_as_read_and_evidence_files_kept_by_digest(
    exported: Exported,
) -> None:
    whole = read_archive(exported.second)
    kept = rm.read_members(exported.second, hash_only=rm.evidence_file)
    assert list(kept) == list(whole)
    evidence = [p for p in whole if rm.evidence_file(p)]
    assert evidence, "the demo bundle ships evidence files"
    for path, data in whole.items():
        assert rm.digest_of(kept, path) == rm.digest_of(whole, path)
        if path in evidence:
            with pytest.raises(RuntimeError, match="sha256 only"):
                kept[path]
        else:
            assert kept[path] == data
    assert kept.get("no/such/member") is None


def test_a_large_member_is_kept_compressed(tmp_path: Path) -> None:
    from workbench.bundle.archive import write_archive

    big = json.dumps([{"finding": i, "status": "pass"} for i in range(40_000)]).encode()
    assert len(big) > rm.COMPACT_FROM
    kept = rm.read_members(write_archive({"findings/x.json": big, "a.txt": b"a"}, 0))
    assert kept["findings/x.json"] == big and kept["a.txt"] == b"a"
    assert len(kept._packed["findings/x.json"]) < len(big) // 10
    assert "findings/x.json" not in kept._plain
