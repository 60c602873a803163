"""A pulled keys/people.toml with a name git cannot author ('<', '>', a newline, an escape):
every command says where the file is wrong (file:line:column and field), none shows a
traceback, and no raw control character reaches the terminal.

The name rule itself is `model/people.plain_name` (tests/core/test_validation.py::
test_person_name_is_one_visible_line_git_can_author); this file is what each front end
does with a repository that breaks it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.writers import git, run_wb

HOSTILE = r'name = "Dana <root@evil> Okafor\nSigned-off-by: x\u001b[2J"'


@pytest.fixture
def hostile_repo(demo_repo: Path) -> tuple[Path, int]:
    """The demo with the hostile name committed by plain git (as a pull brings it)."""
    people = demo_repo / "keys/people.toml"
    lines = people.read_text().splitlines(keepends=True)
    at = next(i for i, text in enumerate(lines) if text.startswith('name = "Dana Okafor"'))
    lines[at] = HOSTILE + "\n"
    people.write_text("".join(lines))
    git(demo_repo, "commit", "-qam", "Rename Dana")
    return demo_repo, at + 1


def _where(line: int) -> str:
    return f"keys/people.toml:{line}:1: error: a name is one line of visible text"


@pytest.mark.parametrize("command", [("validate",), ("status",), ("gate",)])
def test_read_commands_name_the_bad_line(
    hostile_repo: tuple[Path, int], command: tuple[str, ...]
) -> None:
    # `status` failed before: every row said "'dana.okafor' is not a person" and nothing
    # named keys/people.toml's bad line.
    repo, line = hostile_repo
    done = run_wb(repo, *command)
    out = done.out + done.err
    assert done.code == 1, out
    assert _where(line) in out, out
    assert "\x1b" not in out and "Traceback" not in out


def test_a_write_says_people_toml_is_broken_not_that_the_person_is_unknown(
    hostile_repo: tuple[Path, int],
) -> None:
    # Failed before: "--as: 'ravi.iyer' is not a person in keys/people.toml; did you mean
    # 'ravi.iyer'?" for a person plainly in the file.
    repo, line = hostile_repo
    head = git(repo, "rev-parse", "HEAD")
    done = run_wb(repo, "--as", "ravi.iyer", "sign", "credit-model-to-loan-decisioning")
    assert done.code == 2, done.err
    assert "nobody can act while keys/people.toml does not validate" in done.err, done.err
    assert _where(line) in done.err and "did you mean" not in done.err
    assert "\x1b" not in done.err and "Traceback" not in done.err
    assert git(repo, "rev-parse", "HEAD") == head


async def test_the_app_starts_without_a_crash_report(hostile_repo: tuple[Path, int]) -> None:
    from tests.tui.conftest import SIZE, make_app, screen_text, settle

    repo, _line = hostile_repo
    app = make_app(repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "Unexpected error" not in text and "Traceback" not in text, text
        assert app.is_running


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("person", "Foo <x>\nBar"),
        ("team", "New \x1b[31mTeam"),
    ],
)
def test_adding_a_name_git_cannot_author_is_refused_by_line(
    demo_repo: Path, command: str, name: str
) -> None:
    """`person add` / `team add` validate people.toml as changed: exit 2, the line and the
    field, nothing committed, and the name shown in visible notation."""
    head = git(demo_repo, "rev-parse", "HEAD")
    if command == "person":
        args = ("person", "add", "foo.bar", "--name", name, "--email", "foo@meridian.example")
    else:
        args = ("team", "add", "new-team", "--name", name, "--lead", "sam.ortiz")
    done = run_wb(demo_repo, "--as", "dana.okafor", *args)
    assert done.code == 2, done
    # Refused before people.toml is touched, naming the option and each character
    # (tests/cli/test_one_line_text.py).
    assert "--name:" in done.err and "one line of visible text" in done.err, done.err
    assert "\x1b" not in done.err and "Traceback" not in done.err
    assert git(demo_repo, "rev-parse", "HEAD") == head


def test_a_quoted_name_round_trips_exactly(demo_repo: Path) -> None:
    from workbench.service.core import Workbench

    name = 'Jo "JB" O\'Brien \\ Bloggs'
    args = ("person", "add", "jo.bloggs", "--name", name, "--email", "jo@meridian.example")
    done = run_wb(demo_repo, "--as", "dana.okafor", *args)
    assert done.code == 0, done
    assert Workbench(demo_repo).state("HEAD").people["jo.bloggs"].name == name
    assert git(demo_repo, "log", "-1", "--format=%an", "--", "keys/people.toml") == "Dana Okafor"


# --------------------------------------------------------------------------- fail closed


def _entry(repo: Path, person: str) -> int:
    import tomllib

    people = tomllib.loads((repo / "keys/people.toml").read_text())["people"]
    return next(i for i, p in enumerate(people) if p["id"] == person)


def test_validate_names_the_entry_that_voids_the_file_and_what_it_costs(
    hostile_repo: tuple[Path, int],
) -> None:
    # One bad entry voids keys/people.toml (docs/signing.md): the problem says which entry,
    # where, and the consequence; each contract's unknown person says why it is unknown.
    repo, line = hostile_repo
    index = _entry(repo, "dana.okafor")
    done = run_wb(repo, "validate")
    out = done.out + done.err
    assert done.code == 1, out
    void = f"keys/people.toml:{line}:1: error: keys/people.toml does not validate, so none of it counts (fail closed): the entry people[{index}] (id 'dana.okafor') voids it at line {line}, column 1; until it is fixed nobody in it counts: no one can act, sign, review or acknowledge, every contract naming a person fails validation, and the gate fails (people.void)"
    assert void in out, out
    assert (
        f"'ravi.iyer' is not a person in keys/people.toml; keys/people.toml does not validate "
        f"(keys/people.toml:{line}:1), so nobody in it counts" in out
    ), out
    assert "\x1b" not in out


def test_a_write_names_the_entry_that_voids_the_file(hostile_repo: tuple[Path, int]) -> None:
    repo, line = hostile_repo
    done = run_wb(repo, "--as", "ravi.iyer", "sign", "credit-model-to-loan-decisioning")
    assert done.code == 2, done.err
    assert "(id 'dana.okafor') voids it" in done.err and "no one can act, sign" in done.err


def test_a_syntax_error_voids_the_file_too(demo_repo: Path) -> None:
    people = demo_repo / "keys/people.toml"
    people.write_text(people.read_text().replace('name = "Ravi Iyer"', 'name = "Ravi Iyer', 1))
    git(demo_repo, "commit", "-qam", "a quote lost")
    done = run_wb(demo_repo, "status")
    out = done.out + done.err
    assert "a syntax or encoding error voids it" in out and "(people.void)" in out, out
    assert "Traceback" not in out
