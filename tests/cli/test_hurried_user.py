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


def test_a_new_lead_signing_before_the_registry_carries_the_team_is_told_why(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The new team's lead signs at once, before the admins signed the registry version that
    makes them lead: refused (the registry in force decides who signs), and told that, not
    only "grace is not a required signer (required: alan)"."""
    for args in (
        ("person", "add", "grace", "--name", "Grace", "--email", "grace@acme.example"),
        ("keygen", "--person", "grace", "--no-passphrase"),
        ("team", "add", "product", "--name", "Product", "--lead", "grace"),
        ("contract", "new", "product-to-model", "--template", "data-model", "--provider",
         "product", "--consumer", "model", "--set", "source=a", "--set", "attribute=b",
         "--set", "groups=1,2"),
    ):  # fmt: skip
        code, _, err = wb(repo, *args, capsys=capsys)
        assert code == 0, (args, err)
    head = git(repo, "rev-parse", "HEAD")
    code, _, err = wb(repo, "--as", "grace", "sign", "product-to-model", capsys=capsys)
    assert code == 2
    assert "grace is not a required signer of product-to-model" in err
    assert "keys/people.toml makes grace the lead of team product" in err
    assert "registry v2" in err and "workbench registry sign" in err
    assert "not yet signed by ada, alan" in err
    assert git(repo, "rev-parse", "HEAD") == head


def test_contract_new_twice_says_what_to_do_and_keeps_the_draft(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The first `contract new` leaves placeholders (an uncommitted draft); the hurried user
    runs it again with --set. The draft is never overwritten, and the message says how to
    go on; a committed contract gets its own message."""
    args = ("contract", "new", "data-to-model", "--template", "data-model",
            "--provider", "data", "--consumer", "model")  # fmt: skip
    code, _, _ = wb(repo, *args, capsys=capsys)
    assert code == 1  # written, not committed: placeholders to fill
    draft = repo / "contracts" / "data-to-model.toml"
    draft.write_text(draft.read_text() + "# my notes\n")
    full = (*args, "--set", "source=a", "--set", "attribute=b", "--set", "groups=1,2")
    code, _, err = wb(repo, *full, capsys=capsys)
    assert code == 2
    assert "contracts/data-to-model.toml exists already, not committed" in err
    assert "`workbench contract save data-to-model`, or delete the file to start again" in err
    assert draft.read_text().endswith("# my notes\n")
    draft.unlink()
    code, _, err = wb(repo, *full, capsys=capsys)
    assert code == 0, err
    code, _, err = wb(repo, *full, capsys=capsys)
    assert code == 2
    assert "contract data-to-model exists already (contracts/data-to-model.toml, committed)" in err


def test_export_bundle_without_out_names_the_file_it_wrote_beside_the_repo(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`workbench export-bundle` with no --out wrote beside the repo but said "wrote None"."""
    code, out, err = wb(repo, "export-bundle", capsys=capsys)
    assert code == 0, err
    written = list(repo.parent.glob(f"{repo.name}-audit-*.tar.gz"))
    assert len(written) == 1
    assert f"wrote {written[0]} (" in out and "None" not in out
    assert git(repo, "status", "--porcelain") == ""


def test_signing_a_typo_or_a_draft_says_what_to_do(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`sign` of a mistyped id said "has uncommitted changes"; of a draft never committed,
    the same. Now: did you mean, and how a draft gets signable."""
    code, _, err = wb(repo, "contract", "new", "data-to-model", "--template", "data-model",
                      "--provider", "data", "--consumer", "model", capsys=capsys)  # fmt: skip
    assert code == 1  # a draft with placeholders, not committed
    code, _, err = wb(repo, "sign", "data-to-model", capsys=capsys)
    assert code == 2
    assert "contracts/data-to-model.toml is not committed yet" in err
    assert "`workbench contract save data-to-model`" in err
    code, _, err = wb(repo, "contract", "new", "orders", "--template", "data-model",
                      "--provider", "data", "--consumer", "model", "--set", "source=a",
                      "--set", "attribute=b", "--set", "groups=1,2", capsys=capsys)  # fmt: skip
    assert code == 0, err
    code, _, err = wb(repo, "sign", "order", capsys=capsys)
    assert code == 2
    assert "no contract 'order'" in err and "did you mean 'orders'?" in err
    assert "uncommitted" not in err


def test_signing_before_registry_v1_is_signed_names_who_has_to_sign_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second lead's key is on another machine (`init --pubkey`): registry v1 waits for
    their signature. Signing a contract meanwhile said only "the key registry is not usable:
    it has no signed version yet"; now it says who has to sign registry v1, and how."""
    import shutil

    from workbench.cli.main import main

    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen makes the other lead's key")
    key = tmp_path / "alan_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    target = tmp_path / "acme"
    code = main(
        ["init", str(target), "--org", "Acme", "--domain", "acme.example",
         "--team", "data", "--lead", "ada", "--lead-name", "Ada Lovelace",
         "--team", "model", "--lead", "alan", "--lead-name", "Alan Turing",
         "--no-passphrase", "--pubkey", f"alan={key}.pub"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    code, _, err = wb(target, "contract", "new", "data-to-model", "--template", "data-model",
                      "--provider", "data", "--consumer", "model", "--set", "source=a",
                      "--set", "attribute=b", "--set", "groups=1,2", capsys=capsys)  # fmt: skip
    assert code == 0, err
    code, _, err = wb(target, "sign", "data-to-model", capsys=capsys)
    assert code == 2
    assert "key registry v1 is not signed yet: it waits for alan" in err
    assert "`workbench registry sign` in their clone" in err


def test_init_run_twice_says_the_repo_exists_not_that_a_key_does(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Pasting the README's init line again (its keys now exist) was answered with "ada's
    key exists already: register it with --pubkey", advice that leads nowhere: the repo is
    what exists."""
    from workbench.cli.main import main

    code = main(["init", str(repo), "--org", "Acme", "--domain", "acme.example",
                 "--team", "data", "--lead", "ada", "--team", "model", "--lead", "alan",
                 "--no-passphrase"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert f"{repo} already has a workbench.toml" in err and "--pubkey" not in err


def test_a_mistyped_as_is_refused_by_read_only_commands_too(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--as` names whose view a read-only command shows (`due`, `status`, the gate's
    message). A typo used to be ignored in silence: the user read a view and believed it
    was that person's. Now every command refuses a person people.toml does not have."""
    for command in (["status"], ["validate"], ["due"], ["gate"], ["log", "data-to-model"]):
        code, out, err = wb(repo, "--as", "ada.lovelase", *command, capsys=capsys)
        assert code == 2, (command, out, err)
        assert "--as: 'ada.lovelase' is not a person in keys/people.toml" in err, command
        assert out == "", command
    code, out, err = wb(repo, "--as", "ada", "status", capsys=capsys)
    assert code in (0, 1), err  # 1: the template contract is a draft, not a refusal
    assert out.startswith("SEAM")


def test_evaluate_with_committed_settings_that_do_not_validate_names_the_field(
    repo: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A repository id typed as a number used to crash a recording `evaluate` with a
    pydantic traceback about the run's statement. The settings carry the limits and engines a
    run is judged under, so the run is refused before any check runs, naming the field. The
    gate said only "missing or invalid"; it names the field too."""
    settings = repo / "workbench.toml"
    lines = settings.read_text().splitlines()
    at = next(i for i, text in enumerate(lines) if text.startswith("repository_id"))
    lines[at] = "repository_id = 42"
    settings.write_text("\n".join(lines) + "\n")
    git(repo, "commit", "-qam", "a repository id typed as a number")
    head = git(repo, "rev-parse", "HEAD")
    for args in (["evaluate"], ["evaluate", "--json"], ["--readonly", "evaluate"], ["gate"]):
        code, out, err = wb(repo, *args, capsys=capsys)
        assert code == 2, (args, out, err)
        assert f"workbench.toml:{at + 1}:" in err and "[org.repository_id]" in err, err
        assert "unexpected error" not in err and "Traceback" not in err
        assert "recorded in" not in err
    assert git(repo, "rev-parse", "HEAD") == head
    assert not git(repo, "status", "--porcelain")
