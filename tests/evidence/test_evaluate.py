"""The evaluate path end to end: registration, selection, no-data, tampering, findings bytes,
sandboxing of contract SQL, violation history, closures, exemptions, page test, CLI codes."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.evidence.files import declare_channels, lags_csv, stamp, thresholds_csv
from tests.evidence.hostile_sql import THROUGH_EVALUATE
from workbench.cli.main import main
from workbench.evidence.errors import EvidenceSchemaError
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.errors import WorkbenchError
from workbench.service.evidence import EvidenceService
from workbench.service.init import init_repo

NOW = FIXED_NOW
LEAD = "data.lead"

CONTRACT = """\
id = "data-to-model"
title = "Data → model"
status = "active"
adopted = 2026-06-01
owner = "data.lead"

[seam]
provider = "data"
consumer = "model"
kind = "data-model"

[parties]
provider_lead = "data.lead"
consumer_lead = "model.lead"

[escalation]
primary = "data.lead"
backup = "model.lead"
channel = "pagerduty:data"
ack_sla = "{ack}"

[[terms]]
id = "freshness"
kind = "freshness"
owner = "data.lead"
fail_after = "PT24H"
warn_after = "PT12H"

[[terms]]
id = "threshold"
kind = "decision_threshold"
owner = "model.lead"
name = "cut"
value = 0.5
change_cosigner = "data.lead"

[[terms]]
id = "custom"
kind = "sql"
owner = "data.lead"
views = ["freshness_lags"]
query = \"\"\"{query}\"\"\"
fail = 100
{extra}"""

OTHER = """\
id = "other"
title = "Other seam"
owner = "model.lead"

[seam]
provider = "model"
consumer = "data"
kind = "custom"

[parties]
provider_lead = "model.lead"
consumer_lead = "data.lead"

[escalation]
primary = "model.lead"
backup = "data.lead"
channel = "pagerduty:model"
ack_sla = "PT30M"

[[terms]]
id = "other-fresh"
kind = "freshness"
owner = "model.lead"
fail_after = "PT1H"
"""


def write_contract(root: Path, *, ack: str = "PT30M", query: str = "", extra: str = "") -> None:
    query = query or "SELECT count(*) AS value FROM freshness_lags"
    text = CONTRACT.format(ack=ack, query=query, extra=extra)
    GitRepo(root).commit_files(
        {"contracts/data-to-model.toml": text.encode(), "contracts/other.toml": OTHER.encode()},
        "contracts",
        Author("Data Lead", "data.lead@example.org"),
        when=NOW - timedelta(days=5),
    )


def svc(root: Path, now: datetime = NOW, actor: str = LEAD) -> EvidenceService:
    return Workbench(root, now=now, actor=actor).evidence


def lags_file(path: Path, lag_hours: float, captured: datetime = NOW) -> Path:
    # The update happened a quarter hour before it became accessible + lag: its heartbeat
    # (the newest update's age at the capture) stays within the shortest SLA used (1 h).
    upd = captured - timedelta(hours=lag_hours + 0.25)
    return lags_csv(path, [("app", upd, upd + timedelta(hours=lag_hours))])


def config_file(path: Path, by: str = "model.lead", cosigned: str = "data.lead") -> Path:
    return thresholds_csv(path, [("cut", "0.5", NOW - timedelta(days=20), by, cosigned)])


@pytest.fixture(scope="module")
def repo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per module (init + contracts + two registered snapshots, all in git);
    each test gets its own copy from `repo`."""
    return repo_with_custom_query(tmp_path_factory.mktemp("evaluate-template"), "")


def repo_with_custom_query(base: Path, query: str) -> Path:
    """The `repo` of these tests with `query` as the custom SQL term (other engines' tests)."""
    root = init_repo(base / "repo", now=NOW - timedelta(days=10))
    declare_channels(root, NOW - timedelta(days=10) + timedelta(minutes=1))
    write_contract(root, query=query)
    s = svc(root, NOW - timedelta(hours=1))
    s.add(
        lags_file(base / "lags.csv", 2, NOW - timedelta(hours=2)),
        "freshness_lags",
        contract="data-to-model",
        captured_at=NOW - timedelta(hours=2),
        source="ingest log",
    )
    s.add(
        config_file(base / "cfg.csv"),
        "threshold_config",
        contract="data-to-model",
        captured_at=NOW - timedelta(hours=2),
    )
    return root


@pytest.fixture
def repo(repo_template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(repo_template, root, symlinks=True)
    lags_file(tmp_path / "lags.csv", 2, NOW - timedelta(hours=2))
    config_file(tmp_path / "cfg.csv")
    return root


def statuses(run: dict) -> dict[tuple[str, str], str]:  # type: ignore[type-arg]
    return {(f["contract"], f["term"]): f["status"] for f in run["findings"]}


# --------------------------------------------------------------------------- registration


def test_add_copies_file_into_git_and_commits_manifest(repo: Path) -> None:
    s = svc(repo)
    snaps = s.snapshots(verify=True)
    assert len(snaps) == 2 and all(i.integrity.ok for i in snaps)  # type: ignore[union-attr]
    snap = next(i.snapshot for i in snaps if i.snapshot.kind == "freshness_lags")
    assert snap.path == f"evidence/snapshots/{snap.id}.csv"
    assert snap.registered_by == LEAD and snap.source == "ingest log"
    git = GitRepo(repo)
    assert git.blob_at("HEAD", snap.path) == (repo / snap.path).read_bytes()
    assert git.commit_info("HEAD").author_name == "Example Data Lead"


def test_add_refuses_bad_schema_naming_the_column(repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("source,updated\napp,2026-11-01 00:00:00\n", encoding="utf-8")
    with pytest.raises(EvidenceSchemaError, match="updated_at"):
        svc(repo).add(bad, "freshness_lags")
    assert (
        main(
            [
                "--repo",
                str(repo),
                "--as",
                LEAD,
                "evidence",
                "add",
                str(bad),
                "--kind",
                "freshness_lags",
            ]
        )
        == 2
    )
    typed = tmp_path / "typed.csv"
    typed.write_text("scored_at,score\n2026-11-01 00:00:00,high\n", encoding="utf-8")
    with pytest.raises(EvidenceSchemaError, match="'score': expected DOUBLE"):
        svc(repo).add(typed, "score_samples")


def test_add_usage_errors(repo: Path, tmp_path: Path) -> None:
    s = svc(repo)
    f = lags_file(tmp_path / "x.csv", 1)
    with pytest.raises(WorkbenchError, match="--term needs --contract"):
        s.add(f, "freshness_lags", term="freshness")
    with pytest.raises(WorkbenchError, match="reads freshness_lags, not 'score_samples'"):
        s.add(f, "score_samples", contract="data-to-model", term="freshness")
    with pytest.raises(WorkbenchError, match="in the future"):
        s.add(f, "freshness_lags", captured_at=NOW + timedelta(hours=1))
    s.add(f, "freshness_lags")
    with pytest.raises(WorkbenchError, match="already registered"):
        s.add(f, "freshness_lags")


def test_external_snapshot_is_pinned_by_absolute_path_and_hash(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # External files live under an evidence root this machine names (docs: Evidence roots).
    monkeypatch.setenv("WORKBENCH_EVIDENCE_ROOTS", str(tmp_path))
    big = lags_file(tmp_path / "big.csv", 30)
    snap = svc(repo).add(
        big, "freshness_lags", contract="data-to-model", term="freshness", external=True
    )
    assert snap.path == str(big.resolve())
    assert GitRepo(repo).blob_at("HEAD", f"evidence/snapshots/{snap.id}.csv") is None
    # term-level evidence wins over the contract-level snapshot
    run = svc(repo).evaluate().run
    assert statuses(run)[("data-to-model", "freshness")] == "fail"


# --------------------------------------------------------------------------- evaluate


def test_evaluate_writes_committed_deterministic_findings(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone)
    first = svc(repo).evaluate()
    assert first.written and first.commit
    data = (repo / first.path).read_bytes()
    assert GitRepo(repo).blob_at("HEAD", first.path) == data
    run = json.loads(data)
    assert statuses(run) == {
        ("data-to-model", "custom"): "pass",
        ("data-to-model", "freshness"): "pass",
        ("data-to-model", "page-test"): "pass",
        ("data-to-model", "threshold"): "pass",
        # data-to-model's contract-level evidence is not other's
        ("other", "other-fresh"): "no-data",
        ("other", "page-test"): "pass",
    }
    f = next(f for f in run["findings"] if f["term"] == "freshness")
    assert f["contract_sha256"] and len(f["snapshots"]) == 1 and "quantile_cont" in f["sql"]
    assert f["owner"]["id"] == LEAD and "paged" not in f
    # same inputs → same bytes: again in the same repo (nothing new) and in a copy
    again = svc(repo).evaluate()
    assert not again.written and again.run_id == first.run_id
    other = svc(clone).evaluate()
    assert other.run_id == first.run_id
    assert (clone / other.path).read_bytes() == data
    # a different time is a different run
    later = svc(repo, NOW + timedelta(hours=1)).evaluate()
    assert later.run_id != first.run_id


def test_no_evidence_and_stale_evidence_are_no_data_violations(repo: Path) -> None:
    run = svc(repo).evaluate().run
    other = next(f for f in run["findings"] if f["term"] == "other-fresh")
    assert other["status"] == "no-data" and "no freshness_lags evidence" in other["reason"]
    assert other["paged"]["primary"]["id"] == "model.lead"
    # three days later every snapshot is older than evidence_max_age (P2D)
    late = svc(repo, NOW + timedelta(days=3)).evaluate().run
    assert statuses(late)[("data-to-model", "freshness")] == "no-data"
    f = next(f for f in late["findings"] if f["term"] == "freshness")
    assert "evidence_max_age P2D" in f["reason"] and f["limit"]
    # a snapshot captured after `now` is not used
    early = svc(repo, NOW - timedelta(hours=3)).evaluate(write=False).run
    assert statuses(early)[("data-to-model", "freshness")] == "no-data"


def test_tampered_snapshot_is_an_error_and_never_used(repo: Path) -> None:
    s = svc(repo)
    snap = next(i.snapshot for i in s.snapshots() if i.snapshot.kind == "freshness_lags")
    path = repo / snap.path
    path.write_text(path.read_text().replace("app,", "app2,"), encoding="utf-8")
    run = s.evaluate().run
    f = next(f for f in run["findings"] if f["term"] == "freshness")
    assert f["status"] == "error" and "tampered" in f["reason"]
    assert f["observed"] is None and f["details"] == []
    assert run["inputs"]["snapshots"][snap.id] == "tampered"
    assert (
        main(["--repo", str(repo), "--now", NOW.isoformat(), "evidence", "list", "--verify"]) == 1
    )
    with pytest.raises(WorkbenchError, match="tampered"):
        s.finding_sandbox(f)


@pytest.mark.parametrize("query", THROUGH_EVALUATE)
def test_contract_sql_cannot_read_write_or_attach_through_evaluate(
    repo: Path, tmp_path: Path, query: str
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n", encoding="utf-8")
    q = query.format(secret=secret, dir=tmp_path)
    write_contract(repo, query=q)
    run = svc(repo).evaluate().run
    f = next(f for f in run["findings"] if f["term"] == "custom")
    assert f["status"] == "error", f
    assert "hunter2" not in json.dumps(run)
    assert not (tmp_path / "written.csv").exists() and not (tmp_path / "x.duckdb").exists()
    if "threshold_config" in q:  # a view the term did not declare does not exist
        assert "threshold_config" in f["reason"]
    else:
        assert f["reason"].startswith("SQL refused")


def test_snapshot_of_another_contract_is_not_visible(repo: Path, tmp_path: Path) -> None:
    s = svc(repo)
    s.add(lags_file(tmp_path / "o.csv", 0.5), "freshness_lags", contract="other")
    run = s.evaluate().run
    mine = next(f for f in run["findings"] if f["term"] == "freshness")
    theirs = next(f for f in run["findings"] if f["term"] == "other-fresh")
    assert mine["snapshots"][0]["id"] != theirs["snapshots"][0]["id"]
    assert theirs["status"] == "pass"


# --------------------------------------------------------------------------- history


def break_threshold(repo: Path, tmp_path: Path, now: datetime) -> None:
    svc(repo, now).add(
        config_file(tmp_path / f"bad{now:%H%M%S%d}.csv", by="model.lead", cosigned=""),
        "threshold_config",
        contract="data-to-model",
        captured_at=now - timedelta(minutes=5),
    )


def test_violation_history_resolve_and_reopen(repo: Path, tmp_path: Path) -> None:
    break_threshold(repo, tmp_path, NOW)
    svc(repo).evaluate()
    svc(repo, NOW + timedelta(hours=6)).evaluate()
    s = svc(repo, NOW + timedelta(hours=7))
    [v] = [v for v in s.violations.find(open_only=True) if v.term == "threshold"]
    assert v.state == "open" and [p.status for p in v.points] == ["fail", "fail"]
    assert v.paged["primary"]["id"] == LEAD and v.paged["ack_sla"] == "PT30M"
    assert v.owner["id"] == "model.lead" and "without data.lead's co-signature" in v.last["reason"]
    assert s.violations.get(v.id[:6]).id == v.id
    assert s.violations.get("data-to-model/threshold").id == v.id
    with pytest.raises(WorkbenchError, match="--note"):
        s.violations.close(v.id, resolved=True, note=" ")
    s.violations.close(v.id, resolved=True, note="re-set by the model lead")
    closed = s.violations.get(v.id)
    assert closed.state == "resolved" and closed.closure.closed_by == LEAD  # type: ignore[union-attr]
    assert GitRepo(repo).log(1)[0].summary.startswith(f"Resolve violation {v.id}")
    assert [
        p for p in GitRepo(repo).read_files("HEAD") if p.startswith(f"findings/closures/{v.id}/")
    ] == [f"findings/closures/{v.id}/20261127T160000Z.{LEAD}.resolve.toml"]
    # still failing in a later run: a new violation, the resolved one stays resolved
    svc(repo, NOW + timedelta(hours=8)).evaluate()
    history = [
        v2 for v2 in svc(repo, NOW + timedelta(hours=8)).violations.find() if v2.term == "threshold"
    ]
    assert [h.state for h in history] == ["resolved", "open"]


def test_recovered_violation_is_not_open(repo: Path, tmp_path: Path) -> None:
    break_threshold(repo, tmp_path, NOW)
    svc(repo).evaluate()
    fixed = thresholds_csv(
        tmp_path / "fixed.csv",
        [("cut", "0.5", NOW + timedelta(minutes=10), "model.lead", "data.lead")],
    )
    svc(repo, NOW + timedelta(hours=1)).add(
        fixed, "threshold_config", contract="data-to-model", captured_at=NOW + timedelta(minutes=30)
    )
    svc(repo, NOW + timedelta(hours=1)).evaluate()
    [v] = [
        v for v in svc(repo, NOW + timedelta(hours=1)).violations.find() if v.term == "threshold"
    ]
    assert v.state == "recovered" and [p.status for p in v.points] == ["fail", "pass"]


def test_exemption_requests_are_refused_without_an_authorised_approver(
    repo: Path, tmp_path: Path
) -> None:
    break_threshold(repo, tmp_path, NOW)
    svc(repo).evaluate()
    s = svc(repo)
    v = s.violations.get("data-to-model/threshold")
    with pytest.raises(WorkbenchError, match="own exemption"):
        s.violations.close(v.id, exempt=True, reason="r", approver=LEAD, expires=date(2026, 12, 1))
    # model.lead owns the term; nobody else is authorised by the default policy (this repo
    # has no compliance team): the request is refused and the violation stays open.
    with pytest.raises(WorkbenchError, match="owns the violated term"):
        s.violations.close(
            v.id, exempt=True, reason="r", approver="model.lead", expires=date(2026, 11, 30)
        )
    assert s.violations.get(v.id).state == "open"
    # (the full request -> approval -> expiry flow: tests/trust/test_attack_records.py)


def test_contract_exemptions_apply(repo: Path, tmp_path: Path) -> None:
    break_threshold(repo, tmp_path, NOW)
    write_contract(
        repo,
        extra='\n[[exemptions]]\nterm = "threshold"\nreason = "migration"\napprover = "model.lead"\nexpires = 2026-11-28\n',
    )
    svc(repo).evaluate()
    # Without co-signatures (this repo has no key registry) the contract is not approved at
    # its current version, so its [[exemptions]] do not count: listed as ignored.
    v = svc(repo).violations.get("data-to-model/threshold")
    assert v.state == "open"
    assert any("not approved (co-signed)" in n for n in v.notes)


def test_page_test_fails_without_a_reachable_person_within_an_hour(repo: Path) -> None:
    write_contract(repo, ack="PT2H")
    run = svc(repo).evaluate().run
    f = next(
        f for f in run["findings"] if f["contract"] == "data-to-model" and f["term"] == "page-test"
    )
    assert f["status"] == "fail" and "longer than 1h" in f["reason"]
    wb = Workbench(repo, now=NOW)
    marks = {v.id: v.marks for v in wb.seam_map()}
    assert marks["data-to-model"]["page"] == "fails"
    assert marks["data-to-model"]["violations"] == "1 open"
    assert "page" not in marks["other"]


# --------------------------------------------------------------------------- CLI


def cli(repo: Path, *args: str, now: datetime | None = NOW) -> int:
    # now=None: the real clock (commands that record refuse a what-if --now).
    clock = ["--now", now.isoformat()] if now is not None else []
    return main(["--repo", str(repo), "--as", LEAD, *clock, *args])


def test_cli_exit_codes_and_json(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(repo, "evaluate", "--contract", "data-to-model") == 2  # refuses --now
    # Recording runs at a chosen moment goes through the service's explicit clock.
    assert not svc(repo).evaluate(contract="data-to-model").violations
    assert svc(repo).evaluate().violations  # other/other-fresh has no data
    capsys.readouterr()
    assert cli(repo, "violations", "--json") == 1
    [v] = json.loads(capsys.readouterr().out)
    assert v["term"] == "other-fresh" and v["paged"]["primary"]["name"] == "Example Model Lead"
    assert cli(repo, "violations", "--contract", "data-to-model") == 0
    assert cli(repo, "violations", "--since", "2026-12-01") == 0
    assert cli(repo, "violations", "show", v["id"]) == 0
    assert "freshness" in capsys.readouterr().out
    assert cli(repo, "violations", "close", v["id"], "--resolved") == 2
    assert cli(repo, "violations", "close", v["id"], "--resolved", "--note", "x") == 2  # --now
    note = ("--note", "evidence now exported")
    assert cli(repo, "violations", "close", v["id"], "--resolved", *note, now=None) == 0
    capsys.readouterr()
    # At the real clock the evidence (captured at NOW) is stale: its terms are listed as not
    # current (docs/evidence.md 5a), but the resolved violation is no longer open.
    assert cli(repo, "violations", "--open", "--json", now=None) == 1
    listed = json.loads(capsys.readouterr().out)
    assert listed and all(x["state"] == "not-current" for x in listed), listed
    assert cli(repo, "violations", "--open") == 1  # at NOW the resolution is not made yet
    assert cli(repo, "evaluate", "--contract", "nope", now=None) == 2
    missing = str(tmp_path / "missing.csv")
    assert cli(repo, "evidence", "add", missing, "--kind", "custom", now=None) == 2
    capsys.readouterr()
    assert cli(repo, "evidence", "query", "SELECT count(*) AS n FROM freshness_lags", "--json") == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[1]]
    assert cli(repo, "evidence", "query", "DROP TABLE freshness_lags") == 2
    assert cli(repo, "--readonly", "evaluate", now=NOW + timedelta(hours=2)) == 1
    assert len(list((repo / "findings").glob("*.json"))) == 2


def test_a_term_left_out_of_its_batch_is_said_in_the_result_and_the_commit(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both contracts' freshness terms read Parquet: one batch query, each at its own
    # capture time. One file lies in a folder named like a column it reads (hive
    # partitioning), so that term runs its own query. Never silently: the run's result and
    # its commit message say which term left the batch and why. (A batch query that
    # fails and is split: tests/evidence/test_generated_sql.py.)
    from tests.evidence.conftest import copy_to
    from workbench.service.evidence import ROOTS_ENV

    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))

    def lags(path: Path, captured: datetime) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        upd = stamp(captured - timedelta(hours=3))
        avail = stamp(captured - timedelta(hours=2))
        return copy_to(
            path,
            f"SELECT 'app' AS source, TIMESTAMP '{upd}' AS updated_at,"
            f" TIMESTAMP '{avail}' AS available_at FROM range(5) t(r)",
        )

    s = svc(repo, NOW - timedelta(minutes=30))
    for cid, hours, folder in (("data-to-model", 1, "plain"), ("other", 2, "source=web")):
        s.add(
            lags(tmp_path / folder / f"{cid}.parquet", NOW - timedelta(hours=hours)),
            "freshness_lags",
            contract=cid,
            captured_at=NOW - timedelta(hours=hours),
            external=True,
        )
    result = svc(repo).evaluate()
    said = [n for n in result.notes if "'other-fresh' runs its own query" in n]
    assert said and "hive partitioning" in said[0]
    assert statuses(result.run)[("data-to-model", "freshness")] == "pass"
    assert statuses(result.run)[("other", "other-fresh")] == "fail"  # 3 h > 1 h: judged
    message = GitRepo(repo).log(limit=1)[0].message
    assert "Notes:" in message and said[0] in message
