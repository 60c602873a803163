"""Red team, evidence limits (issue 13): hostile contract SQL and hostile manifests against
the evaluation's memory cap, run budget, result checks and evidence roots. Real git repos,
real DuckDB over real CSV files, a real child process whose RSS is measured."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.evidence.files import contract_head, declare_channels, lags_csv
from tests.evidence.files import hours_ago as ts
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.init import init_repo

NOW = FIXED_NOW
LEAD = "data.lead"
AUTHOR = Author("Data Lead", "data.lead@example.org")

HEAD = contract_head("hostile", "Hostile SQL")


def sql_term(term_id: str, query: str, fail: float = 100) -> str:
    return (
        f'\n[[terms]]\nid = "{term_id}"\ntitle = "{term_id}"\nkind = "sql"\nowner = "data.lead"\n'
        f'views = ["freshness_lags"]\nquery = """{query}"""\nfail = {fail}\n'
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """init + one registered freshness_lags CSV (contract-wide for `hostile`)."""
    base = tmp_path_factory.mktemp("limits")
    root = init_repo(base / "repo", now=NOW - timedelta(days=10))
    declare_channels(root, NOW - timedelta(days=10) + timedelta(minutes=1))
    GitRepo(root).commit_files(
        {"contracts/hostile.toml": (HEAD + sql_term("ok", "SELECT 1 AS value")).encode()},
        "contract",
        AUTHOR,
        when=NOW - timedelta(days=5),
    )
    lags = lags_csv(base / "lags.csv", [("feed", ts(3), ts(2.5)), ("feed", ts(2), ts(1.5))])
    Workbench(root, now=NOW - timedelta(hours=1), actor=LEAD).evidence.add(
        lags, "freshness_lags", contract="hostile", captured_at=NOW - timedelta(hours=1)
    )
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    return root


def with_terms(root: Path, *terms: str, settings: str = "") -> None:
    changes = {"contracts/hostile.toml": (HEAD + "".join(terms)).encode()}
    if settings:
        text = (root / "workbench.toml").read_text(encoding="utf-8")
        changes["workbench.toml"] = (text + "\n" + settings).encode()
    GitRepo(root).commit_files(changes, "terms", AUTHOR, when=NOW - timedelta(minutes=30))


def findings(root: Path) -> dict[str, dict[str, object]]:
    run = Workbench(root, now=NOW, actor=LEAD).evidence.evaluate().run
    return {f["term"]: f for f in run["findings"] if f["contract"] == "hostile"}


def evaluate_cli(root: Path, *, env: dict[str, str] | None = None) -> tuple[int, str, str, int]:
    """Evaluate in a real process; returns (code, stdout, stderr, peak RSS in bytes of that
    process and everything it waited for: the evaluation's worker)."""
    # The service with the fixed clock (the CLI records at the real time only), in a real
    # process whose peak RSS is measured: what `workbench evaluate --json` prints.
    script = (
        "import json, sys; from datetime import datetime; from pathlib import Path;"
        "from workbench.service.core import Workbench;"
        f"r = Workbench(Path(sys.argv[1]), now=datetime.fromisoformat("
        f"{NOW.isoformat()!r}), actor={LEAD!r}).evidence.evaluate();"
        "print(json.dumps(r.run)); sys.exit(1 if r.violations else 0)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    # wait4 reports this child's own rusage, whose ru_maxrss covers its waited-for children.
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out, err, usage.ru_maxrss * 1024


# --------------------------------------------------------------------------- memory cap


def test_repeat_bomb_memory_cap_holds(repo: Path) -> None:
    """A 3 GB string from repeat() (DuckDB's memory_limit does not bound it: ≈ 5.8 GB RSS
    before) must stop at the cap; the term is `error` naming the cap; the next term runs."""
    cap_mib = 1024
    with_terms(
        repo,
        sql_term("a-bomb", "SELECT length(repeat('x', 3000000000)) AS value FROM freshness_lags"),
        sql_term("b-after", "SELECT count(*) AS value FROM freshness_lags"),
        settings=f'[evidence]\nmemory_cap = "{cap_mib}MiB"\n',
    )
    code, out, err, peak = evaluate_cli(repo)
    assert "Traceback" not in err, err
    assert code == 1, err
    got = {f["term"]: f for f in json.loads(out)["findings"] if f["contract"] == "hostile"}
    assert got["a-bomb"]["status"] == "error"
    assert "memory cap of 1 GiB" in got["a-bomb"]["reason"], got["a-bomb"]["reason"]
    assert got["b-after"]["status"] == "pass", got["b-after"]
    margin = 200 * 1024 * 1024  # the CLI process itself (Python, pygit2, pydantic)
    print(f"repeat bomb: peak RSS {peak / 2**20:.0f} MiB under a {cap_mib} MiB cap")
    assert peak < cap_mib * 1024 * 1024 + margin, f"peak RSS {peak / 2**20:.0f} MiB"


def test_result_bomb_many_rows_memory_cap_holds(repo: Path) -> None:
    """Many large strings fetched into Python (not one allocation) hit the cap too."""
    with_terms(
        repo,
        sql_term("a-rows", "SELECT repeat('x', 100000000) AS value FROM range(40)"),
        sql_term("b-after", "SELECT count(*) AS value FROM freshness_lags"),
        settings='[evidence]\nmemory_cap = "1GiB"\n',
    )
    code, out, err, peak = evaluate_cli(repo)
    assert "Traceback" not in err and code == 1, err
    got = {f["term"]: f for f in json.loads(out)["findings"] if f["contract"] == "hostile"}
    assert got["a-rows"]["status"] == "error"
    assert got["b-after"]["status"] == "pass"
    print(f"result bomb: peak RSS {peak / 2**20:.0f} MiB under a 1024 MiB cap")
    assert peak < (1024 + 200) * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB"


# --------------------------------------------------------------------------- run budget


def test_run_budget_errors_remaining_terms(repo: Path) -> None:
    """A run whose budget is used up by one slow term: that term and every term after it
    are `error`, named, and the run still ends with a findings file."""
    with_terms(
        repo,
        sql_term("a-slow", "SELECT sum(r) AS value FROM range(100000000000) t(r)"),
        sql_term("b-next", "SELECT count(*) AS value FROM freshness_lags"),
        sql_term("c-last", "SELECT 1 AS value"),
        settings='[evidence]\nrun_budget = "PT2S"\n',
    )
    got = findings(repo)
    assert got["a-slow"]["status"] == "error"
    assert "run budget of 2s" in str(got["a-slow"]["reason"]), got["a-slow"]["reason"]
    for term in ("b-next", "c-last"):
        assert got[term]["status"] == "error"
        assert "budget exhausted" in str(got[term]["reason"]), got[term]["reason"]
    # The page test needs no query and is still judged.
    assert got["page-test"]["status"] == "pass"


# --------------------------------------------------------------------------- non-finite results


@pytest.mark.parametrize(
    ("test_id", "query", "word"),
    [
        ("nan", "SELECT 'nan'::DOUBLE AS value", "NaN"),
        ("inf", "SELECT 'inf'::DOUBLE AS value", "infinite"),
        ("minus-inf", "SELECT '-inf'::DOUBLE AS value", "infinite"),
        ("null", "SELECT NULL::DOUBLE AS value", "NULL"),
    ],
)
def test_non_finite_custom_sql_result_is_error(
    repo: Path, test_id: str, query: str, word: str
) -> None:
    with_terms(repo, sql_term("custom", query))
    got = findings(repo)["custom"]
    assert got["status"] == "error", got
    assert word in str(got["reason"]), got["reason"]


def test_nan_result_is_error(repo: Path) -> None:
    with_terms(
        repo, sql_term("custom", "SELECT sqrt(-1.0 * count(*)) AS value FROM freshness_lags")
    )
    got = findings(repo)["custom"]
    assert got["status"] == "error" and "NaN" in str(got["reason"]), got


def test_inf_result_is_error(repo: Path) -> None:
    with_terms(repo, sql_term("custom", "SELECT max(1e308) * 10 AS value FROM freshness_lags"))
    got = findings(repo)["custom"]
    assert got["status"] == "error" and "infinite" in str(got["reason"]), got


def test_null_result_is_error(repo: Path) -> None:
    with_terms(repo, sql_term("custom", "SELECT max(NULL::DOUBLE) AS value FROM freshness_lags"))
    got = findings(repo)["custom"]
    assert got["status"] == "error" and "NULL" in str(got["reason"]), got


# --------------------------------------------------------------------------- evidence roots


def plant_manifest_entry(root: Path, path: str, data: bytes) -> str:
    """Append a [[snapshot]] naming `path` (with the sha256 of `data`) to the manifest."""
    digest = hashlib.sha256(data).hexdigest()
    sid = "ev-" + digest[:12]
    entry = (
        f'\n[[snapshot]]\nid = "{sid}"\nkind = "freshness_lags"\npath = "{path}"\n'
        f'sha256 = "{digest}"\nsize = {len(data)}\nformat = "csv"\n'
        f'captured_at = {NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}\nsource = "planted"\n'
        'contract = "hostile"\n'
    )
    text = (root / "evidence/manifest.toml").read_text(encoding="utf-8") + entry
    GitRepo(root).commit_files(
        {"evidence/manifest.toml": text.encode()}, "plant", AUTHOR, when=NOW - timedelta(minutes=5)
    )
    return sid


def test_manifest_path_outside_roots_refused(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`/etc/shadow` (here /etc/passwd, readable everywhere) in a committed manifest: refused
    before any stat, read or hash, with the manifest's file:line:column; its size and sha256
    never reach findings."""
    target = Path("/etc/passwd")
    real = target.read_bytes()
    planted = plant_manifest_entry(repo, str(target), b"not the file")
    with_terms(repo, sql_term("custom", "SELECT count(*) AS value FROM freshness_lags"))
    touched: list[str] = []
    import workbench.evidence.manifest as manifest_mod

    real_sha = manifest_mod.sha256_file
    monkeypatch.setattr(
        manifest_mod, "sha256_file", lambda p, **kw: touched.append(str(p)) or real_sha(p, **kw)
    )
    got = findings(repo)["custom"]
    assert got["status"] == "error", got
    reason = str(got["reason"])
    assert "outside the evidence roots" in reason and "evidence/manifest.toml:" in reason, reason
    assert planted in reason
    run_text = "".join(p.read_text() for p in (repo / "findings").glob("*.json"))
    assert hashlib.sha256(real).hexdigest() not in run_text
    assert f"is {len(real)} bytes" not in run_text
    assert str(target) not in touched
    # `evidence list --verify` refuses it the same way, without reading it.
    infos = Workbench(repo, now=NOW).evidence.snapshots(verify=True)
    bad = next(i for i in infos if i.snapshot.id == planted)
    assert bad.integrity is not None and bad.integrity.status == "outside_roots"
    assert str(target) not in touched


def test_symlink_escape_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("source,updated_at,available_at\nx,2026-11-27 07:00:00,\n")
    link = repo / "evidence/snapshots/ev-link.csv"
    link.symlink_to(secret)
    planted = plant_manifest_entry(repo, "evidence/snapshots/ev-link.csv", secret.read_bytes())
    with_terms(repo, sql_term("custom", "SELECT count(*) AS value FROM freshness_lags"))
    got = findings(repo)["custom"]
    assert got["status"] == "error", got
    assert "outside the evidence roots" in str(got["reason"]) and planted in str(got["reason"])


def test_repository_file_outside_evidence_dir_refused(repo: Path) -> None:
    """Inside the repository but outside `evidence/`: e.g. a demo private key under .git."""
    data = (repo / "keys/people.toml").read_bytes()
    plant_manifest_entry(repo, "keys/people.toml", data)
    with_terms(repo, sql_term("custom", "SELECT count(*) AS value FROM freshness_lags"))
    got = findings(repo)["custom"]
    assert got["status"] == "error" and "outside the evidence roots" in str(got["reason"]), got


def test_configured_root_admits_a_data_mount(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data mount named in the machine's config (never in a commit) is an evidence root."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    lags = lags_csv(mount / "lags.csv", [("feed", ts(2), ts(1.5))])
    refused = Workbench(repo, now=NOW, actor=LEAD).evidence
    from workbench.service.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="outside the evidence roots"):
        refused.add(lags, "freshness_lags", contract="hostile", external=True)
    config = tmp_path / "xdg" / "handshake-workbench"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f'[evidence]\nroots = ["{mount}"]\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    snap = Workbench(repo, now=NOW, actor=LEAD).evidence.add(
        lags, "freshness_lags", contract="hostile", external=True
    )
    with_terms(repo, sql_term("custom", "SELECT count(*) AS value FROM freshness_lags"))
    got = findings(repo)["custom"]
    assert got["status"] == "pass" and got["snapshots"][0]["id"] == snap.id, got


def test_console_query_repeat_bomb_memory_cap_holds(repo: Path) -> None:
    """`workbench evidence query` runs one untrusted query in the CLI process: capped too."""
    argv = [sys.executable, "-m", "workbench", "--now", NOW.isoformat(), "--repo", str(repo)]
    query = "SELECT length(repeat('x', 3000000000)) AS n FROM freshness_lags"
    proc = subprocess.Popen(
        [*argv, "evidence", "query", query], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _out, err = proc.communicate()
    text = err.decode()
    assert proc.returncode == 2 and "Traceback" not in text, text
    assert "memory cap of 2 GiB" in text, text
    import resource

    # The largest child this test process has waited for (this one used the most).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    assert peak < (2048 + 300) * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_worker_that_dies_errors_its_terms_and_names_why(tmp_path: Path) -> None:
    """A worker that cannot even start (a 1 MiB cap: below what its imports need, compiled
    or not) gives every term an `error` naming why, and no traceback reaches the caller."""
    from workbench.evidence.runner import CheckJob, Limits, ViewFile
    from workbench.evidence.worker import run_isolated
    from workbench.model.terms import SqlTerm

    lags = lags_csv(tmp_path / "lags.csv", [("feed", ts(2), ts(1))])
    term = SqlTerm.model_validate(
        {
            "id": "t",
            "owner": "data.lead",
            "kind": "sql",
            "views": ["freshness_lags"],
            "query": "SELECT 1 AS value",
            "fail": 2,
        }
    )
    view = {"freshness_lags": ViewFile("ev-000000000000", str(lags), "freshness_lags", "csv")}
    jobs = [CheckJob(i, term, NOW, view) for i in range(3)]
    results, stats = run_isolated(jobs, Limits(2**20, 10.0, 60.0))
    assert sorted(results) == [0, 1, 2]
    for r in results.values():
        # Dying at start-up names the worker; getting as far as DuckDB names the cap.
        assert r.status == "error" and (
            "evaluation worker" in r.reason or "exceeded the memory cap" in r.reason
        ), r.reason
    assert stats.workers >= 1 and stats.restarts
    # With room to run, the same jobs pass, in one worker.
    results, stats = run_isolated(jobs, Limits(2**30, 10.0, 60.0))
    assert {r.status for r in results.values()} == {"pass"} and stats.workers == 1


def test_worker_started_ahead_gets_the_cap_and_is_never_left_running(tmp_path: Path) -> None:
    """`evaluate` starts its worker before it has planned the run (its imports overlap the
    planning). Such a worker reads nothing but its request: the cap applies before any
    check runs (a 1 MiB cap fails every term, named), and a worker that no run used is
    stopped."""
    from workbench.evidence import worker
    from workbench.evidence.runner import CheckJob, Limits, ViewFile
    from workbench.model.terms import SqlTerm

    worker.prestart()
    spare = worker._spare
    assert spare is not None
    worker.discard_spare()
    assert spare[0].poll() is not None and worker._spare is None

    lags = tmp_path / "lags.csv"
    lags.write_text(f"source,updated_at,available_at\nfeed,{ts(2)},{ts(1)}\n")
    term = SqlTerm.model_validate(
        {
            "id": "t",
            "owner": "data.lead",
            "kind": "sql",
            "views": ["freshness_lags"],
            "query": "SELECT 1 AS value",
            "fail": 2,
        }
    )
    view = {"freshness_lags": ViewFile("ev-000000000000", str(lags), "freshness_lags", "csv")}
    jobs = [CheckJob(i, term, NOW, view) for i in range(2)]
    worker.prestart()
    ahead = worker._spare
    results, stats = worker.run_isolated(jobs, Limits(2**20, 10.0, 60.0))
    assert ahead is not None and ahead[0].poll() is not None and worker._spare is None
    for r in results.values():
        assert r.status == "error" and (
            "evaluation worker" in r.reason or "exceeded the memory cap" in r.reason
        ), r.reason
