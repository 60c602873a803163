"""Every record a person or a run writes is a file of its own, named after its author and
its moment, so two clones never write the same path; the names earlier versions wrote are
still read."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.sync.conftest import APPLICANT, Origin, git
from workbench.governance import diagnostic as diag
from workbench.governance.records import ack_path, receipt_path
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.obligations import notices as notices_module


def session(root: Path, actor: str | None, hours: float) -> Workbench:
    return Workbench(root, now=FIXED_NOW + timedelta(hours=hours), actor=actor)


def test_record_names_carry_person_and_moment() -> None:
    when = FIXED_NOW
    assert ack_path("c", "0123456789abcdef", "ravi.iyer", when) == (
        "acks/c/0123456789ab-20261127T090000Z.ravi.iyer.toml"
    )
    assert receipt_path("2026-W48", "t", "c", "helen.brooks", when) == (
        "reports/receipts/2026-W48/c--t--helen.brooks--20261127T090000Z.toml"
    )
    assert diag.answers_path("c", "tomas.lindqvist", when) == (
        "diagnostics/c/20261127T090000Z.tomas.lindqvist.toml"
    )
    # The names of earlier versions, which readers still accept.
    assert ack_path("c", "0123456789abcdef", "ravi.iyer") == "acks/c/0123456789ab.ravi.iyer.toml"
    assert diag.answers_path("c", "tomas.lindqvist") == "diagnostics/c/tomas.lindqvist.toml"


def test_old_layout_ack_still_counts(
    origin: Origin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = origin.clone(tmp_path / "a")
    # An acknowledgement signed by an earlier version: named <commit12>.<person>.toml.
    monkeypatch.setattr(
        notices_module,
        "ack_path",
        lambda c, commit, person, when=None: ack_path(c, commit, person),
    )
    result = session(a, "ravi.iyer", 1).obligations.notices.acknowledge(APPLICANT)
    monkeypatch.undo()
    assert re.fullmatch(rf"acks/{APPLICANT}/[0-9a-f]{{12}}\.ravi\.iyer\.toml", result.path)
    latest = max(
        session(a, None, 2).obligations.notices.statuses(contract=APPLICANT), key=lambda n: n.number
    )
    [req] = latest.requirements
    assert req.state == "done" and req.record is not None and req.record.path == result.path
    assert req.record.signature == "valid"


def test_old_layout_diagnostic_is_read_and_the_newest_answers_count(demo_repo: Path) -> None:
    seam = "policy-data-to-claims-agent"
    svc = session(demo_repo, None, 0).obligations
    current = svc.diagnostics.get(seam).answers["provider"]
    folder = demo_repo / "diagnostics" / seam
    [written] = [p for p in folder.iterdir() if p.name.endswith(".tomas.lindqvist.toml")]
    assert re.fullmatch(r"\d{8}T\d{6}Z\.tomas\.lindqvist\.toml", written.name)
    older = current.answers.model_dump(mode="json") | {"page_mechanism": "the old mechanism"}
    legacy = diag.render_answers(
        seam,
        "tomas.lindqvist",
        current.answered - timedelta(days=30),
        diag.validate_answers(older)[0],
    )
    GitRepo(demo_repo).commit_files(
        {f"diagnostics/{seam}/tomas.lindqvist.toml": legacy},
        "answers kept from an earlier version\n",
        Author("Tomas Lindqvist", "tomas.lindqvist@meridian.example"),
        when=FIXED_NOW,
    )
    again = session(demo_repo, None, 0).obligations.diagnostics.get(seam)
    assert again.answers["provider"].answered == current.answered  # the newest counts
    assert not any("tomas.lindqvist.toml" in p for p in again.problems)
    written.unlink()
    git(demo_repo, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qam", "drop newer")
    alone = session(demo_repo, None, 0).obligations.diagnostics.get(seam)
    assert alone.answers["provider"].answers.page_mechanism == "the old mechanism"


def test_same_person_acknowledging_in_two_clones_never_collides(
    origin: Origin, tmp_path: Path
) -> None:
    second_hours = 2.0
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    session(a, "ravi.iyer", 1).obligations.notices.acknowledge(APPLICANT)
    assert session(a, "ravi.iyer", 1.1).sync.run().pushed
    session(b, "ravi.iyer", second_hours).obligations.notices.acknowledge(APPLICANT)
    report = session(b, "ravi.iyer", second_hours + 0.1).sync.run()
    assert report.ok and report.pushed and not report.conflicts
    folder = b / "acks" / APPLICANT
    mine = sorted(p.name for p in folder.iterdir() if p.name.endswith(".ravi.iyer.toml"))
    assert len(mine) == 3  # the demo's (old layout) and one per clone
    notices = session(b, None, 3).obligations.notices.statuses(contract=APPLICANT)
    latest = max(notices, key=lambda n: n.number)
    [req] = latest.requirements
    assert req.state == "done" and req.record is not None
    assert req.record.acknowledged == FIXED_NOW + timedelta(hours=1)  # the earliest counts


def test_evidence_registered_in_two_clones_merges_with_plain_git(
    origin: Origin, tmp_path: Path
) -> None:
    """Each registration is a signed file of its own: two clones registering different
    evidence merge with a plain `git pull`, without the manifest's merge driver, and both
    registrations count in the merged clone."""
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    assert "workbench-manifest" not in git(b, "config", "--list").stdout  # no driver here
    before = {s.id for s in session(a, None, 0).evidence.manifest().snapshots}
    rows = "source,updated_at,available_at\nloan-applications,{t},{t}\n"
    first = tmp_path / "first.csv"
    first.write_text(rows.format(t="2026-11-27T07:00:00Z"))
    second = tmp_path / "second.csv"
    second.write_text(rows.format(t="2026-11-27T08:00:00Z"))
    one = session(a, "sam.ortiz", 1).evidence.add(first, "freshness_lags", contract=APPLICANT)
    two = session(b, "dana.okafor", 2).evidence.add(second, "freshness_lags", contract=APPLICANT)
    git(a, "push", "-q", "origin", "HEAD")
    ident = ("-c", "user.name=Dana Okafor", "-c", "user.email=dana.okafor@meridian.example")
    pulled = git(b, *ident, "pull", "-q", "--no-rebase", "origin", "main", check=False)
    assert pulled.returncode == 0, pulled.stderr
    assert git(b, "status", "--porcelain").stdout == ""
    assert not (b / "evidence/manifest.toml").exists()  # nothing shared was written
    after = session(b, None, 3)
    counting = {s.id for s in after.evidence.manifest().snapshots}
    assert counting - before == {one.id, two.id}
    for sid, who in ((one.id, "sam.ortiz"), (two.id, "dana.okafor")):
        [record] = (b / "evidence/registrations" / sid).glob(f"*.{who}.register.toml")
        assert record.with_name(record.stem + ".sig").is_file()
    gate = after.obligations.gate.evaluate()
    [records] = [c for c in gate.checks if c.contract == APPLICANT and c.rule == "records_valid"]
    assert records.outcome == "pass", records.message
