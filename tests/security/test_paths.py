"""Red-team class: path traversal through ids and symlinks.

A contract, action or person id becomes a path in the repo (``contracts/<id>.toml``).
An id like ``../../outside/secret`` or a symlinked file or folder must never make the
workbench read or write outside the repository. Every command that takes an id (found
from the argparse tree, so a new one fails here until listed) is run with traversal ids.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import copy_demo
from tests.security.conftest import A, Hostile, git, run_cli
from tests.security.test_output import leaf_commands

SENTINEL = "sentinel-outside-the-repo-5d1f"
# From <repo>/contracts/ (and actions/) to <tmp>/outside/secret.toml.
TRAVERSAL = "../../outside/secret"
ABSOLUTE = "/etc/passwd"


@pytest.fixture
def outside(hostile: Hostile) -> Path:
    folder = hostile.root.parent / "outside"
    folder.mkdir()
    (folder / "secret.toml").write_text(f'id = "secret"\ntitle = "{SENTINEL}"\n')
    return folder


def assert_refused(code: int, out: str, err: str, *, what: str = "") -> None:
    assert code == 2, f"{what}: exit {code}\n{out}\n{err}"
    assert SENTINEL not in out + err, f"{what} read a file outside the repo"
    assert "unexpected error" not in err and "Traceback" not in err, err
    assert re.search(r"not a (contract|action item|person) id|no such|unknown|not in", err), err


def test_show_raw_refuses_traversal(hostile: Hostile, outside: Path) -> None:
    for args in (["show", TRAVERSAL, "--raw"], ["show", TRAVERSAL], ["log", TRAVERSAL]):
        code, out, err = run_cli(hostile.root, *args)
        assert_refused(code, out, err, what=" ".join(args))
        assert "not a contract id" in err


def test_diff_refuses_path_outside_repo(hostile: Hostile, outside: Path) -> None:
    for args in (["diff", TRAVERSAL], ["diff", TRAVERSAL, "HEAD", "HEAD"], ["diff", ABSOLUTE]):
        code, out, err = run_cli(hostile.root, *args)
        assert_refused(code, out, err, what=" ".join(args))


def test_symlinked_contract_outside_repo_refused(hostile: Hostile, outside: Path) -> None:
    contracts = hostile.root / "contracts"
    (contracts / "linked.toml").symlink_to(outside / "secret.toml")
    for args in (["show", "linked", "--raw"], ["diff", "linked"], ["show", "linked"]):
        code, out, err = run_cli(hostile.root, *args)
        assert code == 2 and SENTINEL not in out + err, (args, out, err)
    # A symlinked folder: contracts/ itself points outside.
    (contracts / "linked.toml").unlink()
    real = hostile.root / "contracts.real"
    contracts.rename(real)
    contracts.symlink_to(outside)
    for args in (["show", "secret", "--raw"], ["diff", "secret"], ["validate"]):
        code, out, err = run_cli(hostile.root, *args)
        assert SENTINEL not in out + err, (args, out, err)


def test_drafts_and_action_items_stay_in_their_folders(hostile: Hostile, outside: Path) -> None:
    from tests.conftest import FIXED_NOW
    from workbench.repo.layout import UnsafePath
    from workbench.service.core import Workbench

    wb = Workbench(hostile.root, now=FIXED_NOW, actor="erin.walsh")
    with pytest.raises(UnsafePath):
        wb.drafts.save(TRAVERSAL, "x")
    with pytest.raises(UnsafePath):
        wb.drafts.load(TRAVERSAL)
    action = hostile.root.parent / "action.toml"
    action.write_text((hostile.root / "actions" / "inc-2041-ownership.toml").read_text())
    code, out, err = run_cli(
        hostile.root, "actions", "save", TRAVERSAL, str(action), who="erin.walsh"
    )
    assert_refused(code, out, err, what="actions save")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.toml"]


# Every argument that names something the workbench looks up by id. {T} is the traversal.
ID_ARGS: dict[tuple[str, ...], list[list[str]]] = {
    ("init",): [["{tmp}/new", "--person", "{T}"]],
    ("show",): [["{T}"], ["{T}", "--raw"]],
    ("log",): [["{T}"]],
    ("diff",): [["{T}"], ["{T}", "HEAD", "HEAD"]],
    ("sign",): [["{T}", "--key", "{key}"]],
    ("verify",): [["{T}"]],
    ("keygen",): [["--person", "{T}", "--no-passphrase"]],
    ("registry", "init"): [["--admin", "{T}"]],
    ("registry", "add-key"): [["{T}", "{pub}"]],
    ("registry", "revoke"): [["{T}"]],
    ("registry", "rotate"): [["{T}", "{pub}"]],
    ("registry", "floor"): [["--contracts", "{T}"]],
    ("evidence", "add"): [["{csv}", "--kind", "group_counts", "--contract", "{T}"]],
    ("evidence", "list"): [["--contract", "{T}"]],
    ("evidence", "query"): [["SELECT 1", "--contract", "{T}"]],
    ("evaluate",): [["--contract", "{T}"]],
    ("violations",): [["--contract", "{T}"]],
    ("violations", "show"): [["{T}"], [A + "/{T}"]],
    ("violations", "close"): [["{T}", "--resolved", "--note", "x"]],
    ("violations", "approve"): [["{T}"]],
    ("review",): [["{T}", "--key", "{key}"]],
    ("notices",): [["--contract", "{T}"]],
    ("ack",): [["{T}", "--key", "{key}"]],
    ("actions",): [["save", "{T}", "{action}"]],
    ("diagnose",): [["{T}", "--show"], ["{T}", "--answers", "{action}"]],
    ("report", "weekly"): [["--reviewer", "{T}"]],
    ("person", "add"): [["{T}", "--name", "X", "--email", "x@a.example"]],
    ("person", "leave"): [
        ["{T}", "--on", "2030-01-01"],
        ["yuki.tanaka", "--on", "2030-01-01", "--replaced-by", "{T}"],
    ],
    ("team", "add"): [
        ["{T}", "--name", "X", "--lead", "yuki.tanaka"],
        ["t", "--name", "X", "--lead", "{T}"],
    ],
    ("team", "lead"): [["{T}", "dana.okafor"], ["applicant-data", "{T}"]],
    ("contract", "new"): [
        [
            "{T}",
            "--template",
            "data-model",
            "--provider",
            "applicant-data",
            "--consumer",
            "loan-decisioning",
        ],
        ["x", "--template", "data-model", "--provider", "{T}", "--consumer", "loan-decisioning"],
    ],
    ("contract", "save"): [["{T}"]],
    ("export", "odcs"): [["{T}"]],
    ("import", "odcs"): [
        ["{csv}", "--provider", "applicant-data", "--consumer", "x", "--id", "{T}"]
    ],
    # as an exporter the signed policy names, so the id is what is refused
    ("export-bundle",): [["--out", "{tmp}/b.tar.gz", "--contracts", "{T}", "--key", "{gkey}"]],
}
# Arguments that name ids (the guard below finds commands that take one and are not listed).
ID_DESTS = {"id", "violation", "person", "key", "contract", "contracts", "reviewer", "admin"}
# Filters that select among what exists: an unknown value finds nothing, it opens nothing.
FILTERS = {("evidence", "list"), ("evidence", "query"), ("violations",), ("notices",)}


def test_every_command_refuses_traversal_ids(hostile: Hostile, outside: Path) -> None:
    from workbench.cli.main import build_parser

    commands = dict(leaf_commands(build_parser()))
    takes_id = {
        path
        for path, parser in commands.items()
        if any(
            a.dest in ID_DESTS and a.dest != "key" or a.dest == "key" and not a.option_strings
            for a in parser._actions
        )
    }
    assert takes_id - {("sign",), ("registry", "sign"), ("report", "weekly")} <= set(ID_ARGS), (
        sorted(takes_id - set(ID_ARGS))
    )
    action = hostile.root.parent / "action.toml"
    action.write_text((hostile.root / "actions" / "inc-2041-ownership.toml").read_text())
    head = git(hostile.root, "rev-parse", "HEAD")
    failures = []
    for path, variants in ID_ARGS.items():
        for n, variant in enumerate(variants):
            for traversal in (TRAVERSAL, ABSOLUTE, "../../etc/x"):
                tmp = (
                    hostile.root.parent
                    / f"t-{'-'.join(path)}-{n}-{traversal.count('/')}-{len(traversal)}"
                )
                tmp.mkdir()
                values = {
                    "T": traversal,
                    "key": str(
                        hostile.root / ".git/handshake-workbench/demo-keys/dana.okafor_ed25519"
                    ),
                    "gkey": str(
                        hostile.root / ".git/handshake-workbench/demo-keys/grace.whitfield_ed25519"
                    ),
                    "pub": str(hostile.root / "keys/pub/dana.okafor.pub"),
                    "csv": str(hostile.csv),
                    "action": str(action),
                    "tmp": str(tmp),
                }
                args = [a.format(**values) for a in variant]
                env_before = set(os.listdir(outside))
                who = "grace.whitfield" if path == ("export-bundle",) else "dana.okafor"
                code, out, err = run_cli(hostile.root, *path, *args, who=who)
                name = f"{' '.join(path)} {' '.join(args)}"
                if SENTINEL in out + err:
                    failures.append(f"{name}: read outside the repo")
                if "unexpected error" in err or "Traceback" in err:
                    failures.append(f"{name}: crashed: {err.strip()[-200:]}")
                if path not in FILTERS and code != 2:
                    failures.append(f"{name}: exit {code}, expected a refusal (2)\n{out}{err}")
                if set(os.listdir(outside)) != env_before:
                    failures.append(f"{name}: wrote outside the repo")
                if git(hostile.root, "rev-parse", "HEAD") != head:
                    failures.append(f"{name}: committed something")
                    head = git(hostile.root, "rev-parse", "HEAD")
    assert not failures, "\n".join(failures)
    assert not (hostile.root.parent / "etc").exists()


def test_export_out_is_the_users_choice(hostile: Hostile, tmp_path: Path) -> None:
    """--out, --output and FILE arguments are paths the user typed: written where asked."""
    repo = copy_demo(hostile.root, tmp_path / "copy")
    elsewhere = tmp_path / "elsewhere" / "gate.xml"
    elsewhere.parent.mkdir()
    code, _, err = run_cli(repo, "gate", "--format", "junit", "--output", str(elsewhere))
    assert code == 1 and elsewhere.is_file(), err
