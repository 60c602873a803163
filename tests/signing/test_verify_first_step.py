"""`verify` on a fresh clone reads only the first step of the declared state
(`Workbench.declared_contracts`: workbench.toml and every contract parsed and validated,
ids resolved), not the people, stray files and rules across files no verdict reads.

What must hold: its verdicts are exactly those the checked state gives — on the signed demo
and on hostile commits that break a contract in each way validation knows (syntax, schema,
a duplicate or mismatched id, a stray file, a person or team that does not exist, a
placeholder, broken people or settings files) — the first step is finished, never parsed
again, when a later room asks for the checked state, and it is never stored in the
clone's cache where a checking command could take it for the whole state.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.signing.demo_helpers import APPROVED, PENDING, STALE, raw_commit, wb
from workbench.model import state as state_mod
from workbench.repo import cache_store
from workbench.service.errors import SettingsInvalid

CONTRACT = f"contracts/{APPROVED}.toml"


def _edit(old: str, new: str) -> Any:
    def apply(files: dict[str, bytes]) -> dict[str, bytes | None]:
        text = files[CONTRACT].decode()
        assert old in text, old
        return {CONTRACT: text.replace(old, new, 1).encode()}

    return apply


HOSTILE: dict[str, Any] = {
    "as signed": lambda files: {},
    "toml syntax": _edit("\n[seam]", "\n[seam"),
    "duplicate key": _edit("\n[seam]\n", '\n[seam]\nkind = "custom"\n'),
    "schema: missing field": _edit("\n[escalation]\n", "\n[escalation]\nextra = 1\n"),
    "not utf-8": lambda files: {CONTRACT: files[CONTRACT] + b"\xff\n"},
    "carriage returns": lambda files: {CONTRACT: files[CONTRACT].replace(b"\n", b"\r\n")},
    "unknown person (a rule across files)": _edit('owner = "', 'owner = "nobody.here'),
    "placeholder": _edit('title = "', 'title = "TODO: '),
    "escaped placeholder": _edit('title = "', 'title = "\\u0054ODO '),
    "id is another contract's": lambda files: {
        CONTRACT: files[CONTRACT].replace(APPROVED.encode(), STALE.encode(), 1)
    },
    "a copy under another name": lambda files: {"contracts/copy.toml": files[CONTRACT]},
    "stray files": lambda files: {"contracts/notes.md": b"x", "contracts/sub/a.toml": b"y"},
    "people file broken": lambda files: {"keys/people.toml": b"[[people]]\nid = 3\n"},
    "people file gone": lambda files: {"keys/people.toml": None},
}


def _verdicts(root: Path, *, checked_first: bool) -> tuple[list[dict[str, object]], bool]:
    """The verdict set of a new session at HEAD, and whether it read the checked state."""
    session = wb(root)
    if checked_first:
        session.declared_state("HEAD")  # what a gate or status asks for first
    found = session.signing.verdict_set("HEAD")
    read = session.declared_contracts("HEAD")
    out = [v.to_json() for v in found.verdicts]
    return out, read.checked


@pytest.mark.parametrize("edit", HOSTILE.values(), ids=HOSTILE.keys())
def test_verdicts_from_the_first_step_are_those_of_the_checked_state(
    demo: Path, monkeypatch: pytest.MonkeyPatch, edit: Any
) -> None:
    monkeypatch.setenv(cache_store.DISABLE_ENV, "1")  # every session starts cold
    changes = edit(wb(demo).files("HEAD"))
    if changes:
        raw_commit(demo, changes)
    cold, cold_checked = _verdicts(demo, checked_first=False)
    warm, warm_checked = _verdicts(demo, checked_first=True)
    assert (cold_checked, warm_checked) == (False, True)  # the two paths were taken
    assert cold == warm
    states = {v["contract"]: v["state"] for v in cold}
    assert states[PENDING] == "pending" and states[STALE] == "stale"
    changed = any(path == CONTRACT for path in changes)
    assert (states[APPROVED] == "approved") == (not changed or changes[CONTRACT] is None)


def test_settings_that_do_not_validate_are_refused_on_both_paths(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache_store.DISABLE_ENV, "1")
    raw_commit(demo, {"workbench.toml": b"[org]\nname = 1\n"})
    with pytest.raises(SettingsInvalid):
        wb(demo).signing.verdict_set("HEAD")
    session = wb(demo)
    session.declared_state("HEAD")
    with pytest.raises(SettingsInvalid):
        session.signing.verdict_set("HEAD")


def _dump(state: state_mod.GovernanceState) -> tuple[object, ...]:
    problems = [
        (p.file, p.line, p.column, p.severity, p.code, p.message, p.field) for p in state.problems
    ]
    contracts = {k: (d.path, d.contract) for k, d in state.contracts.items()}
    return problems, list(state.documents), contracts, state.people, state.teams, state.settings


@pytest.mark.parametrize("edit", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_first_step_is_finished_into_the_same_checked_state(
    demo: Path, monkeypatch: pytest.MonkeyPatch, edit: Any
) -> None:
    monkeypatch.setenv(cache_store.DISABLE_ENV, "1")
    changes = edit(wb(demo).files("HEAD"))
    if changes:
        raw_commit(demo, changes)
    validated: list[str] = []
    real = state_mod._validate

    def counting(doc: Any, model: Any) -> Any:
        validated.append(doc.path)
        return real(doc, model)

    monkeypatch.setattr(state_mod, "_validate", counting)
    two_steps = wb(demo)
    first = two_steps.declared_contracts("HEAD")
    assert first.checked is False and not first.people
    after_first = list(validated)
    finished = two_steps.declared_state("HEAD")
    # Only the people file is validated by the second step: no contract again.
    assert [p for p in validated[len(after_first) :] if p.startswith("contracts/")] == []
    assert finished.checked is True
    assert two_steps.declared_contracts("HEAD") is finished  # the checked one from now on
    one_step = wb(demo).declared_state("HEAD")
    assert _dump(finished) == _dump(one_step)
    assert [p.code for p in finished.problems] == [p.code for p in one_step.problems]


def test_the_first_step_is_never_stored_in_the_clone_s_cache(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(cache_store.DISABLE_ENV, raising=False)
    shutil.rmtree(cache_store.cache_dir(demo), ignore_errors=True)
    wb(demo).signing.verdict_set("HEAD")
    assert wb(demo).declared_contracts("HEAD").checked is False  # nothing was stored
    wb(demo).declared_state("HEAD")  # a checking command stores the checked state
    reread = wb(demo).declared_contracts("HEAD")
    assert reread.checked is True and reread.people
