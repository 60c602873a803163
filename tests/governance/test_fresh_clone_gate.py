"""The fresh-clone gate's shortcuts change no verdict (docs/performance.md, issue 18).

Three shortcuts make a gate on a clone with no cache cheaper, and each must give exactly
what the long way gives:

* the history starts from the models the checked state validated at HEAD instead of
  validating the same bytes again (``VersionCache.remember_valid``), and the clone's store
  of parsed versions keeps the parsed data each model was validated from, validated again
  when read;
* a comparison of two versions flattens only the top-level values that differ
  (``model.compare._diff_fields``);
* a delivery or page record's TOML is parsed once for its reader and its statement check
  (``model.toml_cache.record_table``).

Each is checked against the long way (reimplemented here, as the code was before): on
the demo's history, on hostile histories an insider can commit (an invalid version in
the middle, a revert to HEAD's bytes, a file claiming another contract's id, an invalid
HEAD), and, for the comparison, on hostile and random data.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXED_NOW
from workbench.model import compare
from workbench.model.compare import FieldChange
from workbench.model.documents import parse_contract, parse_document
from workbench.service.core import Workbench
from workbench.service.versions import VersionCache

CREDIT = "credit-model-to-loan-decisioning"


# -- the long way, as the code was ------------------------------------------------------------


def _flatten_reference(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten_reference(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        out = {}
        for i, value in enumerate(data):
            key = value.get("id") or value.get("source") or str(i)
            out.update(_flatten_reference(value, f"{prefix}[{key}]"))
        return out
    return {prefix: data}


def _diff_reference(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    a, b = _flatten_reference(old), _flatten_reference(new)
    return [
        FieldChange(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
    ]


def _same_changes(got: list[FieldChange], want: list[FieldChange]) -> bool:
    """Equal, NaN included (a NaN field change is reported on both sides as one)."""

    def norm(v: Any) -> Any:
        return "<nan>" if isinstance(v, float) and math.isnan(v) else repr(v)

    return [(c.field, norm(c.old), norm(c.new)) for c in got] == [
        (c.field, norm(c.old), norm(c.new)) for c in want
    ]


def _long_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shortcut off: validate every version, flatten everything, parse every time."""
    monkeypatch.setattr(VersionCache, "remember_valid", lambda self, validated: None)
    monkeypatch.setattr(compare, "_diff_fields", _diff_reference)
    from workbench.model import toml_cache

    monkeypatch.setattr(
        toml_cache, "record_table", lambda data: toml_cache.tomllib.loads(data.decode("utf-8"))
    )
    import workbench.governance.records as records
    import workbench.signing.record_statement as record_statement

    # Delivery records are read through records.read_record_folder.
    for module in (records, record_statement):
        monkeypatch.setattr(module, "record_table", toml_cache.record_table)


def _gate_outputs(repo: Path) -> dict[str, str]:
    wb = Workbench(repo, now=FIXED_NOW, committed=True)
    gate = wb.obligations.gate
    result = gate.evaluate()
    out = {fmt: gate.render(result, fmt) for fmt in ("json", "junit", "text", "sarif")}
    out["notices"] = json.dumps([n.to_json() for n in wb.obligations.notices.statuses()])
    out["reviews"] = repr(wb.obligations.reviews.statuses())
    return out


def _both_ways(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, str], dict[str, str]]:
    # No clone cache: each run validates and compares from the bytes (the CI case).
    monkeypatch.setenv("WORKBENCH_NO_CACHE", "1")
    fast = _gate_outputs(repo)
    with monkeypatch.context() as slow:
        _long_way(slow)
        reference = _gate_outputs(repo)
    return fast, reference


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _commit(repo: Path, files: dict[str, str | None], message: str) -> None:
    for path, text in files.items():
        target = repo / path
        if text is None:
            target.unlink()
        else:
            target.write_text(text, encoding="utf-8")
    _git(repo, "add", "-A", "contracts")
    _git(
        repo,
        "-c",
        "user.name=Mallory",
        "-c",
        "user.email=mallory@example.com",
        "commit",
        "-q",
        "--no-verify",
        "--no-gpg-sign",
        "-m",
        message,
    )


def _hostile_history(demo_repo: Path) -> None:
    path = f"contracts/{CREDIT}.toml"
    head = (demo_repo / path).read_text(encoding="utf-8")
    # An invalid version in the middle: the notice rules skip pairs with it; then HEAD's
    # own bytes again (a revert), whose model the shortcut takes from the state.
    _commit(demo_repo, {path: head + "\nnot_a_field = 1\n"}, "break it")
    _commit(demo_repo, {path: head.replace("owner", "owner ", 1)}, "editorial")
    _commit(demo_repo, {path: head}, "revert to the approved bytes")
    # A file whose contract claims another contract's id, and a contract invalid at HEAD.
    others = sorted(
        p.name for p in (demo_repo / "contracts").glob("*.toml") if CREDIT not in p.name
    )
    claimant, broken = others[0], others[1]
    _commit(
        demo_repo,
        {f"contracts/copy-{claimant}": head, f"contracts/{broken}": "id = [\n"},
        "a claimant and a broken file",
    )


# -- the gate as a whole ----------------------------------------------------------------------


def test_the_demo_gate_is_the_same_with_and_without_the_shortcuts(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, reference = _both_ways(demo_repo, monkeypatch)
    assert fast == reference
    # The demo has change notices to judge (else this compares nothing).
    assert json.loads(fast["notices"])
    assert "<testcase" in fast["junit"]


def test_hostile_histories_are_judged_the_same_with_and_without_the_shortcuts(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hostile_history(demo_repo)
    fast, reference = _both_ways(demo_repo, monkeypatch)
    assert fast == reference
    notices = [n for n in json.loads(fast["notices"]) if n["contract"] == CREDIT]
    assert notices, "the credit contract's history has notices to judge"


def test_the_seeded_history_holds_exactly_what_validating_each_version_gives(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_NO_CACHE", "1")
    wb = Workbench(demo_repo, now=FIXED_NOW, committed=True)
    history = wb.obligations.history()
    checked = 0
    for cid, hist in history.items():
        path = f"contracts/{cid}.toml"
        for version in hist.versions:
            raw = wb.git.blob_at(version.commit, path)
            assert version.contract == parse_contract(path, raw), (cid, version.short)
            checked += 1
        # The state's model of HEAD's bytes is the one the history holds for them.
        assert hist.versions[-1].contract == wb.state().contracts[cid].contract
    assert checked > len(history)


def test_a_seeded_model_answers_only_for_its_own_bytes(tmp_path: Path) -> None:
    head = (Path(__file__).resolve().parents[2] / f"contracts/{CREDIT}.toml").read_bytes()
    model = parse_contract(f"contracts/{CREDIT}.toml", head)
    assert model is not None
    cache = VersionCache(tmp_path, writable=False)
    source = parse_document(f"contracts/{CREDIT}.toml", head)[0].data
    cache.remember_valid([(head, model, source)])
    assert cache.known(head) is model
    # Other bytes (an invalid edit) are validated on their own, never answered by the seed.
    edited = head + b"\nnot_a_field = 1\n"
    assert cache.known(edited) is None
    assert cache.contract(f"contracts/{CREDIT}.toml", edited) is None


def test_the_versions_store_keeps_parsed_sources_and_a_warm_gate_equals_a_cold_one(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clone's store of parsed versions keeps what each model was validated from and
    validates it again when read: the second gate (from the store) and the first (which
    wrote it) equal a gate with no cache at all, invalid versions included."""
    from workbench.repo import cache_store

    _hostile_history(demo_repo)
    monkeypatch.delenv("WORKBENCH_NO_CACHE", raising=False)
    first = _gate_outputs(demo_repo)
    stored = cache_store.read(demo_repo, "contract-versions")
    assert isinstance(stored, tuple)
    sources = stored[0]
    assert None in sources.values(), "the invalid version is stored as invalid"
    assert all(v is None or type(v) is dict for v in sources.values()), "data, not models"
    second = _gate_outputs(demo_repo)
    with monkeypatch.context() as cold:
        cold.setenv("WORKBENCH_NO_CACHE", "1")
        reference = _gate_outputs(demo_repo)
    assert first == reference
    assert second == reference


def test_a_stored_source_that_does_not_validate_is_parsed_again(tmp_path: Path) -> None:
    """A damaged store (a source that no longer validates, a model where data belongs) is
    never taken as a verdict: the version is parsed from its bytes again."""
    from workbench.repo import cache_store
    from workbench.service.versions import blob_id

    path = f"contracts/{CREDIT}.toml"
    head = (Path(__file__).resolve().parents[2] / path).read_bytes()
    model = parse_contract(path, head)
    assert model is not None
    (tmp_path / ".git").mkdir()
    blob = blob_id(head)
    for damaged in ({"id": ["not", "a", "contract"]}, model, "text", 7):
        cache_store.write(tmp_path, "contract-versions", ({blob: damaged}, {}, {}))
        cache = VersionCache(tmp_path, writable=False)
        assert cache.known(head) is None
        assert cache.contract(path, head) == model


# -- the comparison ---------------------------------------------------------------------------

HOSTILE_PAIRS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {}),
    ({"a": 1}, {"a": 1}),
    ({"a": 1}, {"a": True}),  # equal, yet printed differently: no change either way
    ({"a": [{"id": 1}]}, {"a": [{"id": True}]}),  # equal lists naming items differently
    ({"a": [{"id": 1}]}, {"a": [{"id": 1.0}]}),
    ({"a": [{"id": 0, "x": 1}]}, {"a": [{"id": False, "x": 1}]}),
    ({"a": float("nan")}, {"a": float("nan")}),
    ({"a": [1.0, math.nan]}, {"a": [1.0, math.nan]}),
    ({"a": {"b": 1}, "a.b": 2}, {"a": {"b": 1}, "a.b": 3}),  # keys that collide when flat
    ({"a": {"b": 1}, "a.b": 2}, {"a": {"b": 2}, "a.b": 2}),
    ({"": {"a": 1}}, {"": {"a": 2}}),
    ({"a": [{"id": "x", "v": 1}, {"id": "x", "v": 2}]}, {"a": [{"id": "x", "v": 2}]}),
    ({"a": None}, {}),
    ({"a": []}, {"a": {}}),
    ({"a": {}}, {}),
    ({"a": [{}]}, {"a": []}),
    ({"terms": [{"source": "s", "id": ""}]}, {"terms": [{"source": "s", "id": "t"}]}),
    ({"a": {"b": {"c": [1, 2]}}, "z": 1}, {"a": {"b": {"c": [2, 1]}}, "z": 1}),
    ({"a": {"x": 1, "y": 2}}, {"a": {"y": 2, "x": 1}}),  # order only
    ({1: "int key"}, {"1": "str key"}),
    ({"a b": 1}, {"a b": 2}),
]


@pytest.mark.parametrize("old,new", HOSTILE_PAIRS)
def test_the_comparison_flattens_only_what_differs_and_says_the_same(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    for a, b in ((old, new), (new, old)):
        assert _same_changes(compare._diff_fields(a, b), _diff_reference(a, b))


def _random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(8 if depth < 3 else 4)
    if kind == 0:
        return rng.choice([0, 1, 2, True, False, 1.0, 0.5, None, math.nan, math.inf])
    if kind == 1:
        return rng.choice(["a", "b", "x.y", "", "nan", "1"])
    if kind == 2:
        return [rng.choice([1, "a", 2.0]) for _ in range(rng.randrange(3))]
    if kind == 3:
        return rng.choice([[], {}])
    if kind in (4, 5):
        return {
            rng.choice(["a", "b", "id", "source", "x.y", "c"]): _random_value(rng, depth + 1)
            for _ in range(rng.randrange(4))
        }
    return [
        {
            rng.choice(["id", "source", "v"]): _random_value(rng, depth + 1)
            for _ in range(rng.randrange(3))
        }
        for _ in range(rng.randrange(1, 4))
    ]


def _mutate(rng: random.Random, data: Any, depth: int = 0) -> Any:
    if isinstance(data, dict) and data and rng.random() < 0.8:
        out = dict(data)
        key = rng.choice(list(out))
        choice = rng.randrange(3)
        if choice == 0:
            del out[key]
        elif choice == 1:
            out[key] = _mutate(rng, out[key], depth + 1)
        else:
            out[rng.choice(["new", "a", "id"])] = _random_value(rng, depth + 1)
        return out
    if isinstance(data, list) and data and rng.random() < 0.8:
        out_list = list(data)
        i = rng.randrange(len(out_list))
        out_list[i] = _mutate(rng, out_list[i], depth + 1)
        return out_list
    return _random_value(rng, depth)


def test_the_comparison_agrees_with_the_full_flatten_on_random_versions() -> None:
    rng = random.Random(18)
    keys = ["id", "seam", "parties", "terms", "change_protocol", "escalation", "adopted", "x.y"]
    for _ in range(3000):
        old = {k: _random_value(rng, 1) for k in rng.sample(keys, rng.randrange(1, len(keys)))}
        new = _mutate(rng, old)
        if not isinstance(new, dict):
            new = {"id": new}
        assert _same_changes(compare._diff_fields(old, new), _diff_reference(old, new)), (old, new)


def test_the_comparison_agrees_on_every_consecutive_pair_of_the_demo_history(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_NO_CACHE", "1")
    wb = Workbench(demo_repo, now=FIXED_NOW, committed=True)
    pairs = 0
    for hist in wb.obligations.history().values():
        models = [v.contract for v in hist.versions if v.contract is not None]
        for old, new in zip(models, models[1:], strict=False):
            a = old.model_dump(mode="json", exclude={"terms"})
            b = new.model_dump(mode="json", exclude={"terms"})
            assert _same_changes(compare._diff_fields(a, b), _diff_reference(a, b))
            for before, after in zip(old.terms, new.terms, strict=False):
                x, y = before.model_dump(mode="json"), after.model_dump(mode="json")
                assert _same_changes(compare._diff_fields(x, y), _diff_reference(x, y))
            pairs += 1
    assert pairs > 0


# -- one git status for the merge check and the uncommitted-file note -------------------------


def test_one_status_serves_the_merge_check_and_the_uncommitted_note(demo_repo: Path) -> None:
    from workbench.repo import layout
    from workbench.repo.git import GitRepo
    from workbench.repo.merge_state import merge_state

    marker = "<<<<<<< ours\na = 1\n=======\na = 2\n>>>>>>> theirs\n"
    (demo_repo / ".gitignore").write_text("contracts/ignored-*.toml\n", encoding="utf-8")
    # Ignored: listed as uncommitted (the gate does not see it), never as a conflict, as
    # when the merge check read its own status without ignored files.
    (demo_repo / "contracts/ignored-one.toml").write_text(marker, encoding="utf-8")
    # Untracked and tracked-but-edited files with markers: conflicts, and uncommitted.
    (demo_repo / "contracts/new-one.toml").write_text(marker, encoding="utf-8")
    tracked = demo_repo / f"contracts/{CREDIT}.toml"
    tracked.write_text(tracked.read_text(encoding="utf-8") + "\n" + marker, encoding="utf-8")

    status = GitRepo(demo_repo).status()
    own = merge_state(demo_repo, layout.is_governance_path, with_upstream=False)
    shared = merge_state(demo_repo, layout.is_governance_path, with_upstream=False, status=status)
    assert shared == own
    assert {m.split(":")[0] for m in own.markers} == {
        "contracts/new-one.toml",
        f"contracts/{CREDIT}.toml",
    }
    wb = Workbench(demo_repo, now=FIXED_NOW, committed=True)
    assert wb.uncommitted(status) == wb.uncommitted()
    assert "contracts/ignored-one.toml" in wb.uncommitted(status)
