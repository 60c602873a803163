"""The pure rules behind sync: conflict markers named with both sides, the manifest's
three-way merge by snapshot id, what refuses incoming history, the gate's merge check in
every output format."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from workbench.evidence.manifest import (
    Manifest,
    Snapshot,
    parse_manifest,
    render_manifest,
)
from workbench.evidence.manifest_merge import merge_manifests
from workbench.governance import gate as gate_mod
from workbench.governance.merge_check import UnfinishedMerge
from workbench.governance.sync_summary import Picture, describe_path, refusals, summarise
from workbench.model.conflict import conflict_hunks, conflict_problems, side_text
from workbench.model.state import load_state

MERGED = """id = "x"
<<<<<<< HEAD
title = "ours"
=======
title = "theirs"
>>>>>>> origin/main
status = "active"
"""

DIFF3 = """a = 1
<<<<<<< HEAD
b = 2
||||||| base
b = 1
=======
b = 3
>>>>>>> 0123456789abcdef0123456789abcdef01234567
"""


def test_conflict_hunks_and_both_sides() -> None:
    [hunk] = conflict_hunks(MERGED)
    assert (hunk.start, hunk.end) == (2, 6)
    assert hunk.ours == ('title = "ours"',) and hunk.theirs == ('title = "theirs"',)
    assert (hunk.ours_label, hunk.theirs_label) == ("HEAD", "origin/main")
    assert side_text(MERGED, "ours") == 'id = "x"\ntitle = "ours"\nstatus = "active"\n'
    assert side_text(MERGED, "theirs") == 'id = "x"\ntitle = "theirs"\nstatus = "active"\n'
    [diff3] = conflict_hunks(DIFF3)
    assert diff3.base == ("b = 1",) and diff3.theirs == ("b = 3",)
    assert "01234567 has 'b = 3'" in diff3.describe()  # a commit id is abbreviated
    [broken] = conflict_hunks("<<<<<<< HEAD\nx = 1\n=======\n")
    assert not broken.complete and "no closing" in broken.describe()
    assert conflict_hunks('title = "======="\n=======\n') == []


def test_a_conflicted_contract_is_a_merge_conflict_not_a_syntax_error() -> None:
    [problem] = conflict_problems("contracts/x.toml", MERGED)
    assert problem.code == "merge.conflict" and problem.line == 2
    assert "HEAD has 'title = \"ours\"'; origin/main has 'title = \"theirs\"'" in problem.message
    state = load_state({"contracts/x.toml": MERGED.encode()}, datetime.now(UTC).date())
    codes = {p.code for p in state.problems_for("contracts/x.toml")}
    assert codes == {"merge.conflict"}


def snap(n: int, **changes: object) -> Snapshot:
    import hashlib

    sha = hashlib.sha256(f"file {n}".encode()).hexdigest()
    fields: dict[str, object] = {
        "id": "ev-" + sha[:12],
        "kind": "freshness_lags",
        "path": f"evidence/snapshots/ev-{sha[:12]}.csv",
        "sha256": sha,
        "size": 10,
        "format": "csv",
        "captured_at": datetime(2026, 11, 27, tzinfo=UTC),
        "source": "export",
    }
    fields.update(changes)
    return Snapshot.model_validate(fields)


def text(*snaps: Snapshot) -> str:
    return render_manifest(Manifest(snapshots=snaps))


def test_manifest_merge_by_snapshot_id() -> None:
    base = text(snap(1))
    ours = text(snap(1), snap(2))
    theirs = text(snap(1), snap(3))
    merged = merge_manifests(base, ours, theirs)
    assert merged is not None and merged.clean
    assert merged.text == text(snap(1), snap(2), snap(3))  # canonical, both deliveries
    # One side removed an entry the other kept as it was: removed.
    gone = merge_manifests(base, text(), text(snap(1), snap(3)))
    assert gone is not None and gone.clean and gone.text == text(snap(3))
    # Added identically on both sides: once.
    same = merge_manifests(base, ours, ours)
    assert same is not None and same.text == ours


def test_manifest_merge_leaves_real_clashes_marked() -> None:
    base = text(snap(1))
    ours = text(snap(1), snap(2, source="laptop a"))
    theirs = text(snap(1), snap(2, source="laptop b"))
    merged = merge_manifests(base, ours, theirs)
    assert merged is not None and not merged.clean
    assert merged.conflicts == [f"{snap(2).id}: registered with different details on each side"]
    assert merged.text.count("<<<<<<< ours") == 1
    assert 'source = "laptop a"' in merged.text and 'source = "laptop b"' in merged.text
    clash = merge_manifests(
        base, text(snap(1), snap(2, name="ref")), text(snap(1), snap(3, name="ref"))
    )
    assert clash is not None and "name 'ref' given to both" in clash.conflicts[0]
    assert merge_manifests(base, "not [ toml", theirs) is None  # left to a line merge
    assert parse_manifest(merge_manifests(base, ours, ours).text)  # type: ignore[union-attr]


def test_refusal_is_what_the_incoming_history_adds() -> None:
    here = Picture({"a": ("approved", "ok"), "b": ("invalid", "bad sig")}, ("old",))
    same = Picture({"a": ("approved", "ok"), "b": ("invalid", "bad sig")}, ("old",))
    assert refusals(here, same) == []
    worse = Picture(
        {"a": ("invalid", "v2 rollback"), "b": ("invalid", "bad sig")}, ("old", "rollback v2")
    )
    assert refusals(here, worse) == ["key registry: rollback v2", "a: v2 rollback"]
    summary = summarise(here, worse, ["attestations/a/v2.ravi.iyer.sig"], [], 1, 0)
    assert summary.incoming == ["ravi.iyer co-signed a v2"]
    assert summary.verdicts == [("a", "approved", "invalid")]


def test_record_kinds_are_named() -> None:
    assert describe_path("acks/c/0123456789ab-20261127T090000Z.ravi.iyer.toml") == (
        "acknowledgement",
        "acknowledgement of c for ravi.iyer",
    )
    assert describe_path("reviews/c/20261127T090000Z.aisha.rahman.toml")[1] == (  # type: ignore[index]
        "review of c for aisha.rahman"
    )
    assert describe_path("findings/closures/v-1/20261127T090000Z.dana.okafor.resolve.toml") == (
        "closure",
        "resolve of v-1 by dana.okafor",
    )
    assert describe_path("acks/c/x.ravi.iyer.statement.json") is None  # named with its record


def _gate(merge: UnfinishedMerge | None) -> gate_mod.GateResult:
    state = load_state({}, datetime.now(UTC).date())
    return gate_mod.evaluate_gate(state, gate_mod.GateInputs(), datetime.now(UTC), merge=merge)


def test_unfinished_merge_fails_the_gate_in_every_format() -> None:
    merge = UnfinishedMerge(
        "a merge is in progress; 1 unresolved conflict: contracts/x.toml",
        "finish it or `git merge --abort`",
        ("contracts/x.toml",),
    )
    result = _gate(merge)
    assert not result.passed and _gate(None).passed
    text = gate_mod.render_text(result)
    assert text.startswith("FAIL  merge_state") and "a MERGE IS NOT FINISHED" in text
    data = json.loads(gate_mod.render_json(result))
    assert data["passed"] is False and data["merge_state"]["outcome"] == "fail"
    assert data["merge_state"]["conflicts"] == ["contracts/x.toml"]
    assert json.loads(gate_mod.render_json(_gate(None)))["merge_state"]["outcome"] == "pass"
    junit = ET.fromstring(gate_mod.render_junit(result))
    assert junit.get("failures") == "1"
    [case] = junit.iter("testcase")
    assert case.get("name") == "merge_state" and case.find("failure") is not None
    sarif = json.loads(gate_mod.render_sarif(result))
    [found] = sarif["runs"][0]["results"]
    assert found["ruleId"] == "merge_state" and found["level"] == "error"
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert rules[found["ruleIndex"]]["id"] == "merge_state"
