"""`evidence add --name` on a name another snapshot holds: refused without `--replace`
(naming the holder's bytes and registration), moved with it; the earlier snapshot stays
registered under its id (docs/evidence.md, "Stable names").

On the demo repo (signed registrations: the name moves by the one registration rule) and
on a repo without a key registry (the legacy manifest, which holds each name once).
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from tests.evidence.test_evaluate import NOW, lags_file, repo_with_custom_query, svc
from workbench.cli.main import main
from workbench.evidence.manifest import Snapshot

REFERENCE = "ev-score-reference"  # the demo's drift reference
ADD = (
    "--as", "lena.fischer", "evidence", "add", "--kind", "score_samples",
    "--contract", "credit-model-to-loan-decisioning", "--term", "score-shift",
    "--name", REFERENCE,
)  # fmt: skip


def _head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _holder(demo_repo: Path) -> Snapshot:
    from workbench.service.core import Workbench

    held = Workbench(demo_repo).evidence.manifest().resolve(REFERENCE)
    assert held is not None
    return held


def _new_reference(demo_repo: Path, tmp_path: Path) -> Path:
    """The demo's reference sample without its last row: other bytes, same schema."""
    rows = (demo_repo / _holder(demo_repo).path).read_text().splitlines()
    new = tmp_path / "reference-v2.csv"
    new.write_text("\n".join(rows[:-1]) + "\n")
    return new


def test_a_name_in_use_is_refused_naming_its_holder(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Failed before: "snapshot name 'ev-score-reference' is already used by another
    # snapshot" (which one, registered when, and no way to move the name at all).
    new = _new_reference(demo_repo, tmp_path)
    holder = _holder(demo_repo)
    head = _head(demo_repo)
    assert main(["--repo", str(demo_repo), *ADD, str(new)]) == 2
    err = capsys.readouterr().err
    assert f"is held by {holder.id} (sha256 {holder.sha256[:16]}" in err, err
    assert holder.registered_at is not None
    assert f"registered {holder.registered_at:%Y-%m-%d %H:%MZ} by lena.fischer" in err, err
    assert "--replace" in err and "Traceback" not in err
    assert _head(demo_repo) == head


def test_replace_moves_the_name_and_keeps_the_earlier_snapshot(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _new_reference(demo_repo, tmp_path)
    holder = _holder(demo_repo).id
    assert main(["--repo", str(demo_repo), *ADD, str(new), "--replace", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["name"] == REFERENCE and added["id"] != holder
    assert main(["--repo", str(demo_repo), "evidence", "list", "--json"]) == 0
    listed = {s["id"]: s for s in json.loads(capsys.readouterr().out)}
    assert listed[added["id"]]["name"] == REFERENCE
    assert holder in listed and listed[holder]["name"] is None  # still registered, by id


def test_replace_needs_a_name(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _new_reference(demo_repo, tmp_path)
    args = [a for a in ADD if a not in ("--name", REFERENCE)]
    assert main(["--repo", str(demo_repo), *args, str(new), "--replace"]) == 2
    assert "--replace needs --name" in capsys.readouterr().err


def test_replace_in_the_legacy_manifest_keeps_each_name_once(tmp_path: Path) -> None:
    """Without a key registry `evidence add` writes evidence/manifest.toml, which refuses a
    name held twice: the earlier snapshot gives the name up there, and keeps its entry."""
    from workbench.model.errors import WorkbenchError

    root = repo_with_custom_query(tmp_path / "base", "")
    s = svc(root, NOW - timedelta(minutes=30))
    at = NOW - timedelta(hours=1)
    first = s.add(lags_file(tmp_path / "a.csv", 1, at), "freshness_lags", name="lags-ref")
    with pytest.raises(WorkbenchError, match=f"is held by {first.id}"):
        s.add(lags_file(tmp_path / "b.csv", 3, at), "freshness_lags", name="lags-ref")
    second = s.add(
        lags_file(tmp_path / "b.csv", 3, at), "freshness_lags", name="lags-ref", replace=True
    )
    manifest = svc(root, NOW).manifest()
    assert manifest.resolve("lags-ref") == manifest.get(second.id)
    held = manifest.get(first.id)
    assert held is not None and held.name is None


def test_replace_needs_authority_over_the_contract_that_holds_the_name(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The consumer of the credit model (sofia.marquez, provider of her own downstream
    seam) may not re-point the reference its provider's drift is judged against."""
    new = _new_reference(demo_repo, tmp_path)
    holder = _holder(demo_repo)
    head = _head(demo_repo)
    args = ["--as", "sofia.marquez", "evidence", "add", str(new), "--kind", "score_samples"]
    args += ["--contract", "loan-decisioning-to-fair-lending", "--name", REFERENCE, "--replace"]
    assert main(["--repo", str(demo_repo), *args]) == 2
    err = capsys.readouterr().err
    assert f"--replace: the name is {holder.id}'s, and sofia.marquez may not register" in err
    assert "credit-model-to-loan-decisioning" in err, err
    assert _head(demo_repo) == head
