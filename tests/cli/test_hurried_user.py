"""The newcomer path walked by a hurried user: copied lines, typos, steps out of order.
Each finding was reproduced here first (the test failed), then fixed with a clear error
naming the file and field, exit 2, and nothing committed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.test_authoring import git, repo, wb  # noqa: F401  (the fixture)


def test_a_second_person_with_the_acting_leads_email_is_refused(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Pasting the lead's email for a new person used to be committed, and from then on the
    clone (which acts as the person with git's user.email) no longer knew who was acting:
    every later command failed with "who is acting?"."""
    head = git(repo, "rev-parse", "HEAD")
    code, out, err = wb(
        repo, "person", "add", "grace.hopper", "--name", "Grace Hopper",
        "--email", "Ada@Acme.example", capsys=capsys,
    )  # fmt: skip
    assert code == 2, (out, err)
    assert "keys/people.toml:" in err and "[people[2].email]" in err
    assert "also the email of ada" in err and "person.duplicate-email" in err
    assert git(repo, "rev-parse", "HEAD") == head
    # The clone still acts as ada.
    code, out, err = wb(repo, "person", "add", "grace.hopper", "--name", "Grace Hopper",
                        "--email", "grace@acme.example", capsys=capsys)  # fmt: skip
    assert code == 0, err


def test_a_committed_duplicate_email_is_named_where_it_is(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Committed by hand (or by a hostile insider, to make a commit's author ambiguous): the
    registry is invalid at the line, and the acting-person error says why it cannot tell."""
    people = repo / "keys" / "people.toml"
    people.write_text(
        people.read_text()
        + '\n[[people]]\nid = "mallory"\nname = "Mallory"\nemail = "alan@acme.example"\n'
        'team = "model"\n'
    )
    git(repo, "commit", "-qam", "a second alan")
    code, out, err = wb(repo, "validate", capsys=capsys)
    assert code != 0
    lines = people.read_text().splitlines()
    line = len(lines) - lines[::-1].index('email = "alan@acme.example"')  # mallory's
    assert f"keys/people.toml:{line}:" in out + err
    assert "mallory: email 'alan@acme.example' is also the email of alan" in out + err
    subprocess.run(["git", "config", "user.email", "alan@acme.example"], cwd=repo, check=True)
    code, out, err = wb(repo, "person", "add", "x", "--name", "X", "--email",
                        "x@acme.example", capsys=capsys)  # fmt: skip
    assert code == 2
    assert "alan@acme.example is the email of alan and mallory" in err
