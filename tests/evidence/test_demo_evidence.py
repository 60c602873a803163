"""The demo's evidence reproduces the article's two failures, paged to named people; docs and
samples stay in sync with the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW, PROJECT, copy_demo
from workbench.cli.main import main
from workbench.service.core import Workbench
from workbench.service.evidence import EvidenceService


@pytest.fixture(scope="module")
def demo(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The shared demo (built at FIXED_NOW, in the same isolation), copied once for this
    # module: one test records a run in it.
    return copy_demo(demo_template, tmp_path_factory.mktemp("demo") / "repo")


def service(root: Path) -> EvidenceService:
    return Workbench(root, now=FIXED_NOW).evidence


def test_demo_two_failures_are_open_violations_paged_to_named_people(demo: Path) -> None:
    s = service(demo)
    open_ = {(v.contract, v.term): v for v in s.violations.find(open_only=True)}
    stale = open_[("policy-data-to-claims-agent", "policy-freshness")]
    assert stale.status == "fail"
    assert stale.last["observed"] == pytest.approx(9 * 86400)
    assert "endorsements-sidecar" in stale.last["reason"]
    assert stale.paged["primary"] == {"id": "yuki.tanaka", "name": "Yuki Tanaka", "departed": False}
    assert stale.paged["ack_sla"] == "PT30M" and stale.owner["id"] == "yuki.tanaka"
    moved = open_[("credit-model-to-loan-decisioning", "approval-threshold")]
    assert moved.last["observed"] == 0.24
    assert "omar.haddad" in moved.last["reason"] and "ravi.iyer" in moved.last["reason"]
    assert moved.paged["primary"]["name"] == "Priya Nair"
    assert moved.owner["id"] == "sofia.marquez"
    # exactly one more: the term with no data
    rest = set(open_) - {(stale.contract, stale.term), (moved.contract, moved.term)}
    assert rest == {("policy-data-to-claims-agent", "policy-lineage")}
    assert open_[("policy-data-to-claims-agent", "policy-lineage")].status == "no-data"
    # three runs: a timeline for the sparklines
    assert len(s.runs()) == 3 and len(stale.points) == 3


def test_demo_healthy_terms_pass(demo: Path) -> None:
    run = service(demo).run()
    status = {(f["contract"], f["term"]): f["status"] for f in run["findings"]}
    for key in [
        ("applicant-data-to-credit-model", "feature-freshness"),
        ("applicant-data-to-credit-model", "age-representation"),
        ("applicant-data-to-credit-model", "source-lineage"),
        ("credit-model-to-loan-decisioning", "score-calibration"),
        ("credit-model-to-loan-decisioning", "score-shift"),
        ("loan-decisioning-to-fair-lending", "fair-lending-assertions"),
        ("loan-decisioning-to-fair-lending", "declines-without-reasons"),
        ("claims-agent-to-claims-product", "auto-settle-threshold"),
        ("claims-agent-to-claims-product", "escalation-behaviour"),
    ]:
        assert status[key] == "pass", key
    shift = next(f for f in run["findings"] if f["term"] == "score-shift")
    ref = next(s for s in shift["snapshots"] if s["role"] == "reference")
    manifest = service(demo).manifest()
    assert manifest.resolve("ev-score-reference").id == ref["id"]  # type: ignore[union-attr]


def test_demo_findings_rerun_gives_same_bytes_and_evidence_is_browsable(demo: Path) -> None:
    s = service(demo)
    latest = s.run()
    again = Workbench(demo, now=FIXED_NOW, actor="priya.nair").evidence.evaluate()
    assert not again.written and again.run_id == latest["run"]
    f = s.finding(latest["run"], "policy-data-to-claims-agent", "policy-freshness")
    with s.finding_sandbox(f) as sb:
        rows = sb.query(f["sql"]).rows
        assert any(r[0] == "endorsements-sidecar" for r in rows)
        assert sb.count_rows("SELECT * FROM freshness_lags") > 10
    with s.console() as console:
        names = {v.name for v in console.views}
        assert {"freshness_lags", "threshold_config", "ev_score_reference"} <= names
        assert console.sandbox.query("SELECT max(value) FROM threshold_config").rows == [(0.92,)]


def test_demo_seam_map_marks_and_cli(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marks = {v.id: v.marks for v in Workbench(demo, now=FIXED_NOW).seam_map()}
    assert marks["policy-data-to-claims-agent"]["violations"] == "2 open"
    assert marks["credit-model-to-loan-decisioning"]["violations"] == "1 open"
    assert marks["applicant-data-to-credit-model"]["violations"] == "ok"
    assert "page" not in marks["policy-data-to-claims-agent"]
    assert main(["--repo", str(demo), "--now", FIXED_NOW.isoformat(), "violations", "--json"]) == 1
    paged = {v["term"]: v["paged"]["primary"]["id"] for v in json.loads(capsys.readouterr().out)}
    assert (
        paged["policy-freshness"] == "yuki.tanaka" and paged["approval-threshold"] == "priya.nair"
    )


def test_samples_are_the_demo_generator_output() -> None:
    from workbench.demo.evidence_steps import sample_files

    files = sample_files(FIXED_NOW)
    folder = PROJECT / "evidence" / "samples"
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    for name, data in files.items():
        assert (folder / name).read_bytes() == data, name


def test_docs_kind_table_is_generated_from_kinds() -> None:
    from workbench.evidence.kinds import kinds_markdown

    text = (PROJECT / "docs" / "evidence.md").read_text(encoding="utf-8")
    table = text.split("<!-- kinds:begin -->\n", 1)[1].split("<!-- kinds:end -->", 1)[0]
    assert table == kinds_markdown()
