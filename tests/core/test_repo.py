"""The governance repo in real git: read any revision, history, diffs, safe writes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pygit2
import pytest

from tests.conftest import FIXED_NOW
from workbench.repo.git import Author, GitRepo
from workbench.repo.guard import PrivateKeyMaterial
from workbench.service.core import Workbench
from workbench.service.errors import InvalidEdit, NotAGovernanceRepo, ReadOnlyError
from workbench.service.init import init_repo

CREDIT1 = "applicant-data-to-credit-model"
CLAIMS1 = "policy-data-to-claims-agent"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def fsck(root: Path) -> None:
    result = subprocess.run(
        ["git", "-C", str(root), "fsck", "--strict"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_demo_history_is_believable(demo_repo: Path) -> None:
    fsck(demo_repo)
    log = git(demo_repo, "log", "--format=%an|%s").splitlines()
    assert len(log) >= 5
    assert len({line.split("|")[0] for line in log}) >= 3
    messages = "\n".join(log)
    assert "Tighten the feature freshness SLA" in messages  # a term change
    assert "no change to terms" in messages  # a comment-only edit
    assert git(demo_repo, "status", "--porcelain") == ""


def test_reading_an_old_revision_gives_the_old_contract(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW)
    commits = wb.history(CREDIT1)
    assert [c.summary for c in commits] == [
        "Tighten the feature freshness SLA from 48h to 24h",
        "Propose the applicant data → credit-risk model contract",
    ]
    assert all(c.author_name == "Dana Okafor" for c in commits)
    old = wb.contract(CREDIT1, commits[1].id).contract
    new = wb.contract(CREDIT1, "HEAD").contract
    assert old.term("feature-freshness").fail_after.text == "PT48H"
    assert new.term("feature-freshness").fail_after.text == "PT24H"
    # reading a revision never touches the working tree
    assert git(demo_repo, "status", "--porcelain") == ""


def test_diff_has_text_and_term_level_summary(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW)
    commits = wb.history(CREDIT1)
    diff = wb.diff(CREDIT1, commits[1].id, commits[0].id)
    assert '-fail_after = "PT48H"' in diff.text and '+fail_after = "PT24H"' in diff.text
    lines = diff.comparison.lines()
    assert (
        "term feature-freshness (freshness) changed: fail_after: PT48H → PT24H; warn_after: PT24H → PT12H"
        in lines
    )


def test_comment_only_edit_has_no_semantic_change(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW)
    commits = wb.history("credit-model-to-loan-decisioning")
    edit = next(i for i, c in enumerate(commits) if c.summary.startswith("Clarify the seam"))
    diff = wb.diff("credit-model-to-loan-decisioning", commits[edit + 1].id, commits[edit].id)
    assert diff.text.count("\n-#") == 1
    assert diff.comparison.empty


def test_structured_edit_keeps_the_rest_byte_identical(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="tomas.lindqvist")
    path = demo_repo / f"contracts/{CLAIMS1}.toml"
    before = path.read_bytes()
    commit = wb.set_contract_value(
        CLAIMS1, ("terms", 1, "owner"), "yuki.tanaka", "Hand lineage to Yuki"
    )
    after = path.read_bytes()
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        (
            b'owner = "marcus.webb"  # not handed over when Marcus left',
            b'owner = "yuki.tanaka"  # not handed over when Marcus left',
        )
    ]
    info = wb.git.commit_info(commit)
    assert (info.author_name, info.author_email) == (
        "Tomas Lindqvist",
        "tomas.lindqvist@meridian.example",
    )
    assert (
        git(demo_repo, "show", "--stat", "--format=", commit)
        .strip()
        .startswith(f"contracts/{CLAIMS1}.toml")
    )
    assert wb.state().errors == []
    assert git(demo_repo, "status", "--porcelain") == ""
    fsck(demo_repo)


def test_invalid_edit_is_never_written(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="ravi.iyer")
    path = demo_repo / "contracts/credit-model-to-loan-decisioning.toml"
    before, head = path.read_bytes(), git(demo_repo, "rev-parse", "HEAD")
    bad = before.decode().replace('owner = "ravi.iyer"\n', 'owner = "the team"\n', 1)
    with pytest.raises(InvalidEdit) as exc:
        wb.save_contract("credit-model-to-loan-decisioning", bad, "make it a team")
    assert exc.value.problems[0].code == "owner.placeholder"
    assert path.read_bytes() == before
    assert git(demo_repo, "rev-parse", "HEAD") == head


def test_drafts_survive_and_stay_out_of_git(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW)
    wb.drafts.save(CLAIMS1, "half-typed = [\n")
    assert Workbench(demo_repo, now=FIXED_NOW).drafts.load(CLAIMS1) == "half-typed = [\n"
    assert wb.drafts.ids() == [CLAIMS1]
    assert git(demo_repo, "status", "--porcelain") == ""
    wb.drafts.discard(CLAIMS1)
    assert wb.drafts.load(CLAIMS1) is None


def test_save_normalises_line_endings_and_commits_only_that_file(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="ravi.iyer")
    other = demo_repo / f"contracts/{CREDIT1}.toml"
    other.write_text(other.read_text() + "# my unrelated local edit\n")
    cid = "credit-model-to-loan-decisioning"
    text = wb.contract_text(cid).replace("value = 0.18", "value = 0.17").replace("\n", "\r\n")
    commit = wb.save_contract(cid, text, "Lower the decline threshold")
    saved = (demo_repo / f"contracts/{cid}.toml").read_bytes()
    assert b"\r\n" not in saved and saved.endswith(b"\n")
    assert wb.git.blob_at(commit, f"contracts/{cid}.toml") == saved
    status = git(demo_repo, "status", "--porcelain")
    assert status.strip() == f"M contracts/{CREDIT1}.toml"
    fsck(demo_repo)


def test_readonly_refuses_every_write(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="ravi.iyer", readonly=True)
    head = git(demo_repo, "rev-parse", "HEAD")
    with pytest.raises(ReadOnlyError):
        wb.set_contract_value(CLAIMS1, ("owner",), "aisha.rahman", "x")
    with pytest.raises(ReadOnlyError):
        wb.commit({"x.txt": b"x"}, "x")
    assert git(demo_repo, "rev-parse", "HEAD") == head


def test_private_key_material_is_refused(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    with pytest.raises(PrivateKeyMaterial):
        repo.commit_files({"keys/alice": key}, "oops", Author("A", "a@x.org"), when=FIXED_NOW)
    assert not (tmp_path / "r/keys/alice").exists()
    assert repo.is_empty


def test_paths_outside_the_repo_are_refused(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    for bad in ("../evil", "/etc/passwd", "a/../../b", ".git/config"):
        with pytest.raises(ValueError):
            repo.commit_files({bad: b"x"}, "x", Author("A", "a@x.org"), when=FIXED_NOW)


def test_atomic_write_leaves_the_old_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.repo.atomic import atomic_write

    target = tmp_path / "c.toml"
    target.write_bytes(b"old\n")

    def boom(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["c.toml"]


def test_same_input_gives_the_same_bytes_and_commits(tmp_path: Path) -> None:
    from workbench.demo.build import build_demo

    # The history alone (keys are random by design, so signed steps are left out here).
    a = build_demo(tmp_path / "a", now=FIXED_NOW, steps=[])
    b = build_demo(tmp_path / "b", now=FIXED_NOW, steps=[])
    ra, rb = pygit2.Repository(str(a)), pygit2.Repository(str(b))
    for path in ("contracts", "keys/people.toml", "workbench.toml"):
        assert ra.revparse_single(f"HEAD:{path}").id == rb.revparse_single(f"HEAD:{path}").id
    assert ra.head.target == rb.head.target  # same authors, times and trees: same commits


def test_init_creates_a_valid_governance_repo(tmp_path: Path) -> None:
    root = init_repo(
        tmp_path / "gov",
        org="Acme",
        domain="acme.example",
        person="jo.bloggs",
        name="Jo Bloggs",
        now=FIXED_NOW,
    )
    fsck(root)
    wb = Workbench(root, now=FIXED_NOW)
    state = wb.state("HEAD")
    assert state.errors == []
    assert list(state.contracts) == ["data-to-model"]
    assert state.settings is not None and state.settings.org.name == "Acme"
    assert wb.git.commit_info("HEAD").author_name == "Jo Bloggs"
    assert (root / "schema/contract.schema.json").is_file()
    assert (
        (root / "contracts/data-to-model.toml")
        .read_text()
        .startswith("#:schema ../schema/contract.schema.json\n")
    )


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d/notes.txt").write_text("mine")
    from workbench.service.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="not empty"):
        init_repo(tmp_path / "d")
    assert (tmp_path / "d/notes.txt").read_text() == "mine"


def test_discovery_from_a_subdirectory_and_outside(demo_repo: Path, tmp_path: Path) -> None:
    assert Workbench.discover(demo_repo / "contracts").root == demo_repo.resolve()
    with pytest.raises(NotAGovernanceRepo, match="workbench init"):
        Workbench.discover(tmp_path)


def test_symlinks_in_the_working_tree_are_not_followed(demo_repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.toml"
    secret.write_text('id = "secret"\n')
    (demo_repo / "contracts/linked.toml").symlink_to(secret)
    wb = Workbench(demo_repo, now=FIXED_NOW)
    assert "contracts/linked.toml" not in wb.files()


def test_toml_written_through_the_service_is_normalised(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="grace.whitfield")
    commit = wb.commit(
        {"actions/x.toml": b'title = "a"\r\nowner = "b"', "notes/raw.bin": b"a\r\nb"}, "add"
    )
    assert wb.git.blob_at(commit, "actions/x.toml") == b'title = "a"\nowner = "b"\n'
    assert wb.git.blob_at(commit, "notes/raw.bin") == b"a\r\nb"


def test_history_matches_git_log_for_every_contract(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW)
    for path in sorted((demo_repo / "contracts").glob("*.toml")):
        rel = f"contracts/{path.name}"
        ours = [c.id for c in wb.git.history(rel)]
        theirs = git(demo_repo, "log", "--format=%H", "--", rel).split()
        assert ours == theirs, rel


def test_history_of_a_deleted_file_and_a_merge(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    a = Author("A", "a@x.org")
    repo.commit_files(
        {"contracts/x.toml": b"1\n", "contracts/y.toml": b"1\n"}, "add", a, when=FIXED_NOW
    )
    repo.commit_files({"contracts/x.toml": None}, "drop x", a, when=FIXED_NOW)
    git(tmp_path / "r", "checkout", "-q", "-b", "side", "HEAD~1")
    (tmp_path / "r/contracts/y.toml").write_text("2\n")
    git(
        tmp_path / "r",
        "-c",
        "user.name=B",
        "-c",
        "user.email=b@x.org",
        "commit",
        "-qam",
        "y on side",
    )
    git(tmp_path / "r", "checkout", "-q", "main")
    # The history index stored now must not be extended across the merge below.
    assert [c.message for c in GitRepo(tmp_path / "r").history("contracts/y.toml")] == ["add"]
    git(
        tmp_path / "r",
        "-c",
        "user.name=B",
        "-c",
        "user.email=b@x.org",
        "merge",
        "-q",
        "--no-edit",
        "side",
    )
    repo = GitRepo(tmp_path / "r")
    for rel in ("contracts/x.toml", "contracts/y.toml"):
        assert [c.id for c in repo.history(rel)] == git(
            tmp_path / "r", "log", "--format=%H", "--", rel
        ).split()
