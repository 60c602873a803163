"""The head findings runs in the head map (heads.json @2): which runs the verdicts stand
on, signed with the snapshot; both verifiers check them against the runs' statements and
bundle.json, and against a kept snapshot (a findings rollback or fork fails)."""

from __future__ import annotations

import json

from tests.bundle.conftest import Exported, members, sha
from tests.security.forge import extend, pack, resign
from tests.security.test_bundles import both
from workbench.bundle import layout as bl
from workbench.signing.canonical import canonical_json

SIGNER = "erin.walsh"  # a registry admin: may export


def _heads(files: dict[str, bytes]) -> dict:  # type: ignore[type-arg]
    return json.loads(files[bl.HEADS])


def _put(files: dict[str, bytes], heads: dict) -> None:  # type: ignore[type-arg]
    files[bl.HEADS] = canonical_json(heads) + b"\n"


def test_heads_json_names_the_head_runs_and_both_verifiers_check_them(exported: Exported) -> None:
    files = members(exported.second)
    heads = _heads(files)
    assert heads["format"] == "handshake-workbench/heads@2"
    assert heads["runs"], "the demo has signed findings runs"
    for run, entry in heads["runs"].items():
        statement = files[f"findings/runs/{run}.statement.json"]
        assert entry == {"statementSha256": sha(statement)}
    newest = max(e["run"] for e in json.loads(files[bl.INDEX])["findings"] if e["statement"])
    assert newest in heads["runs"]
    v = both(exported.second, exported.trust_root)
    assert v.py.ok
    check = next(c for c in v.py.checks if c.name == "heads")
    assert f"{len(heads['runs'])} head findings run(s) ({newest}" in check.message
    assert f"and {len(heads['runs'])} head findings run(s), consistent" in v.sh.stdout


def test_a_head_run_digest_edited_fails_both(exported: Exported) -> None:
    files = members(exported.second)
    heads = _heads(files)
    run = next(iter(heads["runs"]))
    heads["runs"][run] = {"statementSha256": "0" * 64}
    _put(files, heads)
    v = both(pack(resign(files, exported.root, SIGNER)), exported.trust_root)
    want = f"head findings run {run}: another statement than heads.json names"
    assert not v.py.ok and any(want in f for f in v.py.failures), v.py.failures
    assert want in v.sh.stdout


def test_the_newest_run_left_out_of_the_head_map_fails_both(exported: Exported) -> None:
    """An exporter naming an older run as the head (so the verdicts look to stand on it)."""
    files = members(exported.second)
    heads = _heads(files)
    newest = max(heads["runs"])
    del heads["runs"][newest]
    _put(files, heads)
    v = both(pack(resign(files, exported.root, SIGNER)), exported.trust_root)
    want = "findings run(s) newer than every head run heads.json names: "
    assert not v.py.ok and any(want in f and newest in f for f in v.py.failures), v.py.failures
    assert want in v.sh.stdout and newest in v.sh.stdout


def test_a_head_map_that_is_not_one_fails_both(exported: Exported) -> None:
    files = members(exported.second)
    heads = _heads(files)
    heads["runs"] = {"not-a-run": {"statementSha256": "0" * 64}}
    _put(files, heads)
    v = both(pack(resign(files, exported.root, SIGNER)), exported.trust_root)
    assert not v.py.ok and any("heads.json: runs: 'not-a-run'" in f for f in v.py.failures)
    assert "heads.json: runs: not a head run entry" in v.sh.stdout


def test_findings_rolled_back_since_the_kept_snapshot_fail_both(exported: Exported) -> None:
    """The auditor kept snapshot v2's digest. The next bundle drops the head run v2 saw (its
    files, its bundle.json entry, its place in the head map): both verifiers find that the
    findings went back."""
    second = members(exported.second)
    files = extend(second, exported.root, SIGNER)
    heads = _heads(files)
    newest = max(heads["runs"])
    del heads["runs"][newest]
    _put(files, heads)
    for path in [p for p in files if newest in p and p.startswith("findings/")]:
        del files[path]
    index = json.loads(files[bl.INDEX])
    index["findings"] = [e for e in index["findings"] if e["run"] != newest]
    files[bl.INDEX] = canonical_json(index) + b"\n"
    rolled = pack(resign(files, exported.root, SIGNER))
    v = both(rolled, exported.trust_root, sha(second[bl.SNAPSHOT]))
    want = f"findings run {newest} was a head in the snapshot v2 you kept; no later head run now"
    assert not v.py.ok and any(want in f for f in v.py.failures), v.py.failures
    assert want in v.sh.stdout
