"""Names the user types (`init --org`, `--team-name`, `--lead-name`, `--name`, `person add
--name`, `team add --name`) are one line of visible text: a newline,
tab, escape sequence, bidirectional override or invisible character is refused with exit 2
before anything is written, naming the option and the character (docs/contracts.md,
"People and teams from the command line"). Real repositories, the real CLI in-process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from workbench.cli.main import main

BAD = [
    ("Acme\nEvil", "\\n (U+000A)"),
    ("Acme\tCo", "\\t (U+0009)"),
    ("Acme\x1b[31m", "\\x1b (U+001B)"),
    ("Acme\u202eoC", "\\u202e (U+202E)"),
    ("Acme\u200bCo", "\\u200b (U+200B)"),
    ("Acme\rCo", "\\r (U+000D)"),
]


def wb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def init_args(target: Path, **over: str) -> list[str]:
    values = {
        "--org": "Acme",
        "--team-name": "Data",
        "--lead-name": "Ada Lovelace",
    }
    values.update(over)
    return [
        "init",
        str(target),
        "--org",
        values["--org"],
        "--domain",
        "acme.example",
        "--team",
        "data",
        "--team-name",
        values["--team-name"],
        "--lead",
        "ada",
        "--lead-name",
        values["--lead-name"],
        "--team",
        "model",
        "--team-name",
        "Model",
        "--lead",
        "alan",
        "--lead-name",
        "Alan Turing",
        "--no-passphrase",
    ]


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_init_refuses_a_control_character_in_org(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, shown: str
) -> None:
    target = tmp_path / "gov"
    code, _out, err = wb(capsys, *init_args(target, **{"--org": value}))
    assert code == 2, err
    assert err.count("\n") == 1, err  # one line: the character is shown, not printed
    assert "--org:" in err and shown in err and "one line of visible text" in err, err
    assert "\x1b" not in err and "\u202e" not in err and "Traceback" not in err
    assert not target.exists()  # nothing written, no key made


@pytest.mark.parametrize("option", ["--team-name", "--lead-name"])
def test_init_refuses_a_control_character_in_a_team_or_lead_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    target = tmp_path / "gov"
    code, _out, err = wb(capsys, *init_args(target, **{option: "Data\x07Team"}))
    assert code == 2 and f"{option}:" in err and "\\x07 (U+0007)" in err, err
    assert not target.exists()


def test_the_one_person_init_refuses_it_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `init --person` (the one-person example repo of earlier versions).
    target = tmp_path / "gov"
    args = ["init", str(target), "--person", "jo.bloggs", "--domain", "acme.example"]
    code, _out, err = wb(capsys, *args, "--org", "Acme\nX")
    assert code == 2 and "--org:" in err and "\\n (U+000A)" in err, err
    code, _out, err = wb(capsys, *args, "--name", "Jo\x1bBloggs")
    assert code == 2 and "--name:" in err and "\\x1b (U+001B)" in err, err
    assert not (target / "workbench.toml").exists()


@pytest.fixture
def repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "acme"
    code, _out, err = wb(capsys, *init_args(target))
    assert code == 0, err
    return target


def _head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["person", "add", "bob", "--name", "Bob\nX", "--email", "bob@acme.example"], "--name"),
        (["team", "add", "ops", "--name", "Ops\u202e", "--lead", "bob"], "--name"),
    ],
)
def test_person_and_team_refuse_it_naming_the_option(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], option: str
) -> None:
    if args[0] == "team":  # a team needs a lead who leads nothing yet
        code, _out, err = wb(
            capsys,
            "--repo",
            str(repo),
            "person",
            "add",
            "bob",
            "--name",
            "Bob",
            "--email",
            "bob@acme.example",
        )
        assert code == 0, err
    before = _head(repo)
    code, _out, err = wb(capsys, "--repo", str(repo), *args)
    assert code == 2 and f"{option}:" in err and "one line of visible text" in err, err
    assert "U+" in err and "Traceback" not in err
    assert _head(repo) == before  # nothing committed


def test_a_committed_org_name_is_shown_in_visible_notation(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Committed text is untrusted input, not a typed option: a repository whose [org] name
    # holds a control character (escaped in TOML) stays readable, and the terminal gets
    # the visible notation only (tests/security/test_output.py walks every command).
    path = repo / "workbench.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('name = "Acme"', 'name = "Acme\\u001b[2J"', 1), encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "org"], check=True)
    code, out, err = wb(capsys, "--repo", str(repo), "validate")
    assert code == 0, out + err
    code, out, err = wb(capsys, "--repo", str(repo), "status")
    assert code == 0 and "\x1b" not in out + err and "Traceback" not in err, out + err
