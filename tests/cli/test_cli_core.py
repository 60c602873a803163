"""The CLI as scripts use it: real processes, exit codes, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
NOW = "2026-11-27T09:00:00Z"


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, now: str | None = NOW
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    clock = ["--now", now] if now else []  # commands that record refuse a what-if --now
    return subprocess.run(
        [sys.executable, "-m", "workbench", *clock, *args],
        cwd=cwd or PROJECT,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "demo"
    result = run("demo", str(root), "--no-tui")
    assert result.returncode == 0, result.stderr
    assert "applicant-data-to-credit-model" in result.stdout
    return root


def test_validate_reports_file_line_and_exit_1(demo: Path) -> None:
    result = run("validate", cwd=demo / "contracts")
    assert result.returncode == 1
    assert "contracts/policy-data-to-claims-agent.toml:43:1: error: Marcus Webb" in result.stdout


def test_validate_json(demo: Path) -> None:
    result = run("--repo", str(demo), "validate", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 1
    assert data["valid"] is False and data["errors"] == 1 and data["contracts"] == 5
    assert data["problems"][0]["line"] == 43 and data["problems"][0]["code"] == "person.departed"


def test_validate_at_an_old_revision(demo: Path) -> None:
    result = run("--repo", str(demo), "validate", "--rev", "HEAD~3", "--json")
    data = json.loads(result.stdout)
    # before the hand-over commit, marcus.webb owned more, all still errors at `now`
    assert data["errors"] >= 1


def test_status_one_line_per_seam(demo: Path) -> None:
    result = run("--repo", str(demo), "status")
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["SEAM", "KIND", "TEAMS"]
    assert len(lines) == 1 + 6  # five contracts and one ungoverned exchange
    assert any("ungoverned" in line for line in lines)
    assert result.returncode == 1


def test_status_json(demo: Path) -> None:
    data = json.loads(run("--repo", str(demo), "status", "--json").stdout)
    by_id = {d["id"]: d for d in data}
    assert by_id["policy-data-to-claims-agent"]["state"] == "owner-departed"
    assert by_id["policy-data-to-claims-agent"]["departed"] == ["marcus.webb"]
    assert by_id["applicant-data->loan-decisioning"]["governed"] is False
    assert by_id["credit-model-to-loan-decisioning"]["owner"] == "ravi.iyer"


def test_show_log_diff(demo: Path) -> None:
    show = run("--repo", str(demo), "show", "policy-data-to-claims-agent")
    assert show.returncode == 0
    assert "Marcus Webb (marcus.webb, Data engineer, LEFT 2026-11-23 → yuki.tanaka)" in show.stdout
    assert "page Yuki Tanaka" in show.stdout
    raw = run("--repo", str(demo), "show", "policy-data-to-claims-agent", "--raw")
    assert raw.stdout == (demo / "contracts/policy-data-to-claims-agent.toml").read_text()
    log = run("--repo", str(demo), "log", "applicant-data-to-credit-model", "--json")
    commits = json.loads(log.stdout)
    assert [c["author"] for c in commits] == ["Dana Okafor", "Dana Okafor"]
    diff = run(
        "--repo",
        str(demo),
        "diff",
        "applicant-data-to-credit-model",
        commits[1]["id"],
        commits[0]["id"],
    )
    assert '+fail_after = "PT24H"' in diff.stdout
    assert "fail_after: PT48H → PT24H" in diff.stdout


def test_unknown_contract_and_revision_are_usage_errors(demo: Path) -> None:
    result = run("--repo", str(demo), "show", "nope")
    assert result.returncode == 2 and "no contract 'nope'" in result.stderr
    result = run("--repo", str(demo), "diff", "applicant-data-to-credit-model", "no-such-rev")
    assert result.returncode == 2 and "unknown revision 'no-such-rev'" in result.stderr
    assert "Traceback" not in result.stderr


def test_outside_a_governance_repo(tmp_path: Path) -> None:
    result = run("status", cwd=tmp_path)
    assert result.returncode == 2
    assert "workbench init DIR" in result.stderr and "workbench demo" in result.stderr


def test_bad_arguments_exit_2() -> None:
    assert run("no-such-command").returncode == 2
    result = run("--now", "yesterday", "status")
    assert result.returncode == 2 and "ISO-8601" in result.stderr


def test_init_then_validate(tmp_path: Path) -> None:
    target = tmp_path / "gov"
    result = run(
        "init",
        str(target),
        "--org",
        "Acme",
        "--domain",
        "acme.example",
        "--person",
        "jo.bloggs",
        "--name",
        "Jo Bloggs",
        now=None,
    )
    assert result.returncode == 0, result.stderr
    assert run("validate", cwd=target).returncode == 0
    again = run("init", str(target), now=None)
    assert again.returncode == 2 and "already has a workbench.toml" in again.stderr


def test_init_keeps_quotes_in_names_and_refuses_what_git_cannot_author(tmp_path: Path) -> None:
    target = tmp_path / "gov"
    args = ("init", str(target), "--person", "jo.bloggs", "--domain", "acme.example")
    quoted = run(*args, "--org", 'Acme "Labs" \\ Co', "--name", 'Jo "JB" Bloggs', now=None)
    assert quoted.returncode == 0, quoted.stderr
    assert run("validate", cwd=target).returncode == 0
    assert 'name = "Acme \\"Labs\\" \\\\ Co"' in (target / "workbench.toml").read_text()
    other = ("init", str(tmp_path / "other"), *args[2:])
    refused = run(*other, "--name", "Jo <x> B", now=None)
    assert refused.returncode == 2 and "--name" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "other" / "workbench.toml").exists()


def test_init_with_teams_round_trips_quoted_names_exactly(tmp_path: Path) -> None:
    """The documented init (teams and their leads): what the user typed reaches the TOML
    escaped and comes back byte for byte, in the files, the registry and git's author."""
    from workbench.service.core import Workbench

    org, team, lead = 'Acme "Labs" \\ Co', 'Data "D" \\ Team', 'Ada "A" O\'Neil \\ L'
    target = tmp_path / "gov"
    teams = ("--team", "data", "--team-name", team, "--lead", "ada", "--lead-name", lead)
    others = ("--team", "model", "--team-name", "Model", "--lead", "alan", "--lead-name", "Alan T")
    base = ("init", "--org", org, "--domain", "acme.example", "--no-passphrase")
    made = run(*base[:1], str(target), *base[1:], *teams, *others, now=None)
    assert made.returncode == 0, made.stderr
    assert run("validate", cwd=target).returncode == 0
    state = Workbench(target).state("HEAD")
    assert state.settings is not None and state.settings.org.name == org
    assert state.teams["data"].name == team and state.people["ada"].name == lead
    authors = subprocess.run(
        ["git", "-C", str(target), "log", "--format=%an"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert lead in authors, authors  # the repository's first commit is the first lead's
    # A newline in a name is refused before anything is made, naming the options to check.
    bad = ("--team", "data", "--team-name", "Data\nTeam", "--lead", "bea", "--lead-name", "B")
    other = tmp_path / "other"
    fresh = ("--team", "model", "--team-name", "Model", "--lead", "carl", "--lead-name", "C")
    refused = run(*base[:1], str(other), *base[1:], *bad, *fresh, now=None)
    assert refused.returncode == 2 and "--team-name:" in refused.stderr, refused.stderr
    assert "\\n (U+000A)" in refused.stderr  # the option and the character, before any file
    assert "Traceback" not in refused.stderr and not other.exists()


def test_demo_refuses_to_overwrite_a_non_demo_directory(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/thesis.txt").write_text("precious")
    result = run("demo", str(tmp_path / "mine"), "--no-tui", "--force")
    assert result.returncode == 2
    assert (tmp_path / "mine/thesis.txt").read_text() == "precious"


def test_demo_opens_the_app_acting_as_a_demo_lead(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import copy_demo
    from workbench.cli import core
    from workbench.cli.main import main
    from workbench.demo import build

    seen: list[str | None] = []
    monkeypatch.setattr(core, "open_tui", lambda args: seen.append(args.actor) or 0)
    # Who the app acts as is the question here; building the demo is the `demo` fixture's
    # (`workbench demo --no-tui`): the shared one is copied instead of built twice more.
    monkeypatch.setattr(build, "build_demo", lambda target, **_: copy_demo(demo_template, target))
    assert main(["--now", NOW, "demo", str(tmp_path / "d")]) == 0
    assert seen == ["dana.okafor"]
    seen.clear()
    assert main(["--now", NOW, "--as", "ravi.iyer", "demo", str(tmp_path / "e")]) == 0
    assert seen == ["ravi.iyer"]


def test_a_git_error_is_named_as_git_not_unexpected(demo: Path, tmp_path: Path) -> None:
    # A corrupt object: libgit2 refuses to read it, and the user is told so plainly.
    clone = tmp_path / "clone"
    # --no-hardlinks: the damage must stay in this clone, never reach the shared demo.
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(demo), str(clone)], check=True)
    head = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "HEAD^{tree}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    obj = clone / ".git/objects" / head[:2] / head[2:]
    if not obj.exists():  # packed by the clone: unpack so one object can be damaged
        pytest.skip("objects are packed")
    obj.chmod(0o644)
    obj.write_bytes(b"not a zlib stream")
    result = run("status", cwd=clone)
    assert result.returncode == 2, result
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip(), result
