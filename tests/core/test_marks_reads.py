"""The app's seam marks read the working tree once per computation, and say what a one-shot
command says (issue 18: at 1,000 contracts with delivery records every signed record re-read
and re-hashed every state file, and the marks took minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench.service.core as core
from workbench.service.core import Workbench


def _marks(wb: Workbench) -> dict[str, dict[str, str]]:
    return {v.id: dict(v.marks) for v in wb.seam_map()}


def test_marks_read_the_working_tree_once_and_match_a_one_shot_command(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_shot = _marks(Workbench(demo_repo, hold_worktree=True))
    reads: list[int] = []
    real = core.read_worktree

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(core, "read_worktree", counting)
    app = Workbench(demo_repo)  # long-lived, as the app's: it never holds the working tree
    assert _marks(app) == one_shot
    # The plain state for the views, then one read for every capability's marks.
    assert len(reads) <= 2, f"the working tree was read {len(reads)} times"


def test_a_file_changed_after_the_computation_is_read_again(demo_repo: Path) -> None:
    app = Workbench(demo_repo)
    path = next(iter(sorted((demo_repo / "contracts").glob("*.toml"))))
    key = f"contracts/{path.name}"
    with app.worktree_read_once():
        held = app.files()[key]
        state = app.state()
        path.write_bytes(held + b"\n# edited meanwhile\n")
        # Within one computation: one picture of the working tree.
        assert app.files()[key] == held
        assert app.state() is state
    assert app.files()[key] == held + b"\n# edited meanwhile\n"
    assert app.state() is not state
