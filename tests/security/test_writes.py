"""Write safety (issue 13): concurrent writers, odd branch states, what a kill -9 leaves.

Every test drives real `workbench` processes (or the real app) against a real git repo;
git itself is the oracle (`rev-parse`, `ls-tree`, `status`, `fsck`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.security.writers import (
    assert_fsck_clean,
    barrier_race,
    git,
    head_files,
    kill9,
    run_wb,
    ssh_agent,
    status_paths,
    trapped,
    wait_holding,
)

STALE = "credit-model-to-loan-decisioning"  # both leads must sign v2
LEADS = ("ravi.iyer", "sofia.marquez")
REVIEWED = "claims-agent-to-claims-product"  # review overdue; ben.carter may do it
REVIEW = ("--as", "ben.carter", "review", REVIEWED)
ACK = ("--as", "aisha.rahman", "ack", "policy-data-to-claims-agent", "--notice", "1")
# Each racer meets the others at its last fsync before committing (the folder its last
# file was renamed into) and all go on together: every round is the worst case, so a few
# rounds show what twenty free-running ones would (the unfixed code lost one of the two
# updates in most rounds, or crashed on git's ref lock).
ROUNDS = 3
SIGN_AT = (f"/attestations/{STALE}$", 2)  # statement, then signature
REVIEW_AT = (f"/reviews/{REVIEWED}$", 3)  # record, statement, signature
ACK_AT = ("/acks/policy-data-to-claims-agent$", 3)


def _hand_over_lineage(repo: Path) -> None:
    """The demo's policy seam still names a departed term owner, so it does not validate and
    cannot be acknowledged: the provider lead names the successor first."""
    from workbench.service.core import Workbench

    Workbench(repo, actor="tomas.lindqvist").set_contract_value(
        "policy-data-to-claims-agent",
        ("terms", 1, "owner"),
        "yuki.tanaka",
        "Hand the lineage term to Yuki Tanaka\n",
    )


def _reset(repo: Path, commit: str) -> None:
    git(repo, "reset", "-q", "--hard", commit)
    git(repo, "clean", "-qfd")


def _reviews(paths: set[str] | list[str]) -> list[str]:
    """ben.carter's review records of REVIEWED among `paths` (named by the real time)."""
    return [
        p for p in paths if p.startswith(f"reviews/{REVIEWED}/") and p.endswith(".ben.carter.toml")
    ]


def _review_written(repo: Path) -> bool:
    return any((repo / "reviews" / REVIEWED).glob("*.ben.carter.toml"))


def _keys(repo: Path) -> Path:
    return repo / ".git" / "handshake-workbench" / "demo-keys"


# --- concurrent writers ---------------------------------------------------------------------


def _assert_both_signed(repo: Path, base: str, results: list, round_: int) -> None:  # type: ignore[type-arg]
    assert all(r.code == 0 for r in results), f"round {round_}: " + "\n".join(map(str, results))
    sigs = head_files(repo, f"attestations/{STALE}/")
    missing = {f"attestations/{STALE}/v2.{p}.sig" for p in LEADS} - sigs
    assert not missing, f"round {round_}: {missing} lost from HEAD ({results})"
    assert git(repo, "rev-list", "--count", f"{base}..HEAD") == "2", f"round {round_}"
    # Index and working tree agree with HEAD: nothing half-committed is left behind.
    assert git(repo, "status", "--porcelain") == "", f"round {round_}"


@pytest.mark.oracle
def test_concurrent_sign_keeps_both_signatures(demo_repo: Path) -> None:
    base = git(demo_repo, "rev-parse", "HEAD")
    for round_ in range(ROUNDS):
        _reset(demo_repo, base)
        results = barrier_race(demo_repo, [(("--as", p, "sign", STALE), *SIGN_AT) for p in LEADS])
        _assert_both_signed(demo_repo, base, results, round_)
    assert run_wb(demo_repo, "verify", STALE).code == 0
    assert_fsck_clean(demo_repo)


@pytest.mark.oracle
def test_concurrent_sign_via_ssh_agent_keeps_both(demo_repo: Path) -> None:
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent is not installed (scripts/ensure-tools.sh installs it)")
    with ssh_agent() as env:
        for person in LEADS:
            private = _keys(demo_repo) / f"{person}_ed25519"
            subprocess.run(
                ["ssh-add", "-q", str(private)],
                env=env,
                check=True,
                capture_output=True,
                stdin=subprocess.DEVNULL,
            )
            # Only the agent can sign from now on (the workbench finds the .pub by this name).
            private.write_text("moved into ssh-agent\n")
        base = git(demo_repo, "rev-parse", "HEAD")
        for round_ in range(ROUNDS):
            _reset(demo_repo, base)
            racers = [(("--as", p, "sign", STALE, "--agent"), *SIGN_AT) for p in LEADS]
            results = barrier_race(demo_repo, racers, env=env)
            _assert_both_signed(demo_repo, base, results, round_)
    assert_fsck_clean(demo_repo)


@pytest.mark.oracle
def test_sign_with_a_key_that_lives_only_in_the_agent(demo_repo: Path) -> None:
    """A hardware or agent-only key has no file on disk: `--agent` signs with the key the
    verified registry lists for the person, and `--key X.pub` names one explicitly."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent is not installed (scripts/ensure-tools.sh installs it)")
    with ssh_agent() as env:
        keep = {}
        for person in LEADS:
            private = _keys(demo_repo) / f"{person}_ed25519"
            subprocess.run(
                ["ssh-add", "-q", str(private)], env=env, check=True, capture_output=True
            )
            keep[person] = Path(f"{private}.pub").read_text()
            private.unlink()
            Path(f"{private}.pub").unlink()
        first = run_wb(demo_repo, "--as", LEADS[0], "sign", STALE, "--agent", env=env)
        assert first.code == 0, first
        pub = demo_repo.parent / "sofia.pub"
        pub.write_text(keep[LEADS[1]])
        second = run_wb(
            demo_repo, "--as", LEADS[1], "sign", STALE, "--agent", "--key", str(pub), env=env
        )
        assert second.code == 0, second
    assert run_wb(demo_repo, "verify", STALE).code == 0
    assert git(demo_repo, "status", "--porcelain") == ""


@pytest.mark.oracle
def test_concurrent_review_and_ack_keep_both(demo_repo: Path) -> None:
    _hand_over_lineage(demo_repo)
    base = git(demo_repo, "rev-parse", "HEAD")
    for round_ in range(ROUNDS):
        _reset(demo_repo, base)
        results = barrier_race(demo_repo, [(REVIEW, *REVIEW_AT), (ACK, *ACK_AT)])
        assert all(r.code == 0 for r in results), "\n".join(map(str, results))
        assert _reviews(head_files(demo_repo, "reviews/")), f"round {round_}: review lost"
        acks = head_files(demo_repo, "acks/policy-data-to-claims-agent/")
        assert any(p.endswith(".aisha.rahman.toml") for p in acks), f"round {round_}: ack lost"
        assert git(demo_repo, "rev-list", "--count", f"{base}..HEAD") == "2"
        assert git(demo_repo, "status", "--porcelain") == "", f"round {round_}"
    assert_fsck_clean(demo_repo)


def test_killed_writer_does_not_leave_lock_stuck(demo_repo: Path) -> None:
    _hand_over_lineage(demo_repo)
    before = git(demo_repo, "rev-parse", "HEAD")
    writer = trapped(demo_repo, REVIEW, action="hold")
    try:
        where = wait_holding(writer)
        # It stopped mid-write, with its temp file where git never looks.
        assert "/.git/handshake-workbench/tmp/" in where
        assert not [p for p in status_paths(demo_repo) if p.endswith(".tmp")]
        # While it holds the write lock, another writer waits, then says who holds it.
        blocked = run_wb(demo_repo, *ACK, env=dict(os.environ, WORKBENCH_WRITE_LOCK_TIMEOUT="0.5"))
        assert blocked.code == 2, blocked
        assert f"pid {writer.pid}" in blocked.err and "Traceback" not in blocked.err
        assert git(demo_repo, "rev-parse", "HEAD") == before
    finally:
        kill9(writer)
    # The kernel released the lock with the process: the next writer goes straight on.
    after = run_wb(demo_repo, *ACK)
    assert after.code == 0, after
    assert git(demo_repo, "rev-parse", "HEAD~1") == before
    assert not _reviews(head_files(demo_repo, "reviews/"))
    # ... and swept the dead writer's temp file.
    leftovers = list((demo_repo / ".git" / "handshake-workbench" / "tmp").iterdir())
    assert not [p for p in leftovers if p.name.startswith(f"{writer.pid}.")], leftovers
    assert_fsck_clean(demo_repo)


def test_lost_race_with_plain_git_is_rebuilt_on_top_or_refused(demo_repo: Path) -> None:
    """Someone outside the workbench (plain `git commit`, which knows nothing of its lock)
    moves the branch while a write is between reading HEAD and updating the branch."""
    from workbench.repo.git import Author, GitRepo, WriteConflict
    from workbench.signing import keys

    signer = keys.FileSigner(_keys(demo_repo) / "ben.carter_ed25519", None)

    def meddling(touch: str):  # type: ignore[no-untyped-def]
        calls = []

        def sign(buffer: bytes) -> str:
            if not calls:  # the first attempt: the branch moves under it
                (demo_repo / touch).write_text(f"plain git was here {touch}\n")
                git(demo_repo, "add", touch)
                git(demo_repo, "commit", "-q", "-m", "plain commit", "--no-gpg-sign")
            calls.append(buffer)
            return keys.commit_signature(signer, buffer)

        return sign, calls

    author = Author("Ben Carter", "ben.carter@meridian.example")
    sign, calls = meddling("NOTES.md")
    plain_before = git(demo_repo, "rev-parse", "HEAD")
    ours = GitRepo(demo_repo).commit_files(
        {"reviews/x.toml": b"ok = 1\n"}, "ours\n", author, signer=sign
    )
    # Other paths changed: rebuilt on top of the plain commit, both kept, re-signed.
    assert len(calls) == 2
    assert git(demo_repo, "rev-parse", "HEAD") == ours
    assert git(demo_repo, "rev-parse", "HEAD~2") == plain_before
    assert {"NOTES.md", "reviews/x.toml"} <= set(
        git(demo_repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    )
    assert git(demo_repo, "status", "--porcelain") == ""

    # The same path changed under it: no silent overwrite, the plain commit stays.
    sign, calls = meddling("reviews/y.toml")
    with pytest.raises(WriteConflict, match=r"reviews/y\.toml"):
        GitRepo(demo_repo).commit_files(
            {"reviews/y.toml": b"ok = 2\n"}, "ours\n", author, signer=sign
        )
    assert git(demo_repo, "log", "-1", "--format=%s") == "plain commit"
    assert git(demo_repo, "show", "HEAD:reviews/y.toml").startswith("plain git was here")
    assert_fsck_clean(demo_repo)


def test_write_based_on_an_old_head_does_not_overwrite_a_newer_change(demo_repo: Path) -> None:
    """A session that read the repo before another writer changed the same file must not
    write its stale copy over that change (the classic lost update)."""
    from workbench.service.core import Workbench
    from workbench.service.errors import WriteConflict

    stale = Workbench(demo_repo, actor="erin.walsh")
    path = "actions/inc-2041-ownership.toml"
    text = stale.files()[path].decode()
    fresh = Workbench(demo_repo, actor="erin.walsh")
    fresh.commit({path: (text + "# newer\n").encode()}, "newer change\n")
    with pytest.raises(WriteConflict, match=path):
        stale.commit({path: (text + "# stale\n").encode()}, "stale change\n")
    assert git(demo_repo, "log", "-1", "--format=%s") == "newer change"
    # A file nobody else touched goes on top of the newer change.
    stale.commit({"actions/other-note.toml": b'note = "x"\n'}, "other file\n")
    assert git(demo_repo, "log", "-2", "--format=%s").splitlines() == ["other file", "newer change"]


# --- the checked-out branch only, never mid-operation ----------------------------------------


@pytest.mark.oracle
def test_detached_head_write_refused_and_main_intact(demo_repo: Path) -> None:
    main = git(demo_repo, "rev-parse", "main")
    git(demo_repo, "checkout", "-q", "--detach", "HEAD~3")
    detached = git(demo_repo, "rev-parse", "HEAD")
    result = run_wb(demo_repo, "--as", "sofia.marquez", "sign", STALE)
    assert result.code == 2, result
    assert "detached" in result.err and "git switch main" in result.err
    assert "Traceback" not in result.err
    assert git(demo_repo, "rev-parse", "main") == main
    assert git(demo_repo, "rev-parse", "HEAD") == detached
    assert git(demo_repo, "status", "--porcelain") == ""
    # Back on the branch, the same command works.
    git(demo_repo, "switch", "-q", "main")
    assert run_wb(demo_repo, "--as", "sofia.marquez", "sign", STALE).code == 0
    assert git(demo_repo, "rev-parse", "HEAD~1") == main


def _diverge(repo: Path) -> None:
    """`side` and `main` change NOTES.md differently after a common commit; `clean` only
    adds a file (it merges without a conflict)."""
    (repo / "NOTES.md").write_text("common\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-q", "-m", "notes")
    git(repo, "branch", "side")
    git(repo, "switch", "-q", "-c", "clean")
    (repo / "CLEAN.md").write_text("only on clean\n")
    git(repo, "add", "CLEAN.md")
    git(repo, "commit", "-q", "-m", "clean notes")
    git(repo, "switch", "-q", "main")
    git(repo, "switch", "-q", "side")
    (repo / "NOTES.md").write_text("side\n")
    (repo / "SIDE.md").write_text("only on side\n")
    git(repo, "add", "NOTES.md", "SIDE.md")
    git(repo, "commit", "-q", "-m", "side notes")
    git(repo, "switch", "-q", "main")
    (repo / "NOTES.md").write_text("main\n")
    git(repo, "commit", "-q", "-am", "main notes")


OPERATIONS = {
    # name: (git commands that stop half-way, what the refusal tells you to run)
    "merge": ([("merge", "side")], "git merge --abort"),
    # A merge with no conflict, stopped before its commit: only MERGE_HEAD says so.
    "merge-clean": ([("merge", "--no-commit", "--no-ff", "clean")], "git merge --abort"),
    "rebase": ([("rebase", "side")], "git rebase --abort"),
    "cherry-pick": ([("cherry-pick", "side")], "git cherry-pick --abort"),
    "revert": ([("revert", "--no-edit", "HEAD~1")], "git revert --abort"),
    "bisect": ([("bisect", "start", "HEAD", "HEAD~4")], "git bisect reset"),
}


@pytest.mark.oracle
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_write_refused_mid_operation(demo_repo: Path, operation: str) -> None:
    """Mid merge, rebase, cherry-pick, revert or bisect, nothing is written anywhere."""
    _diverge(demo_repo)
    commands, advice = OPERATIONS[operation]
    for command in commands:
        git(demo_repo, *command, check=False)
    refs = git(demo_repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads")
    head = git(demo_repo, "rev-parse", "HEAD")
    status = status_paths(demo_repo)
    result = run_wb(demo_repo, *REVIEW)
    assert result.code == 2, result
    assert advice in result.err, result.err
    assert "Traceback" not in result.err
    assert git(demo_repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads") == refs
    assert git(demo_repo, "rev-parse", "HEAD") == head
    assert status_paths(demo_repo) == status
    assert not _review_written(demo_repo)


@pytest.mark.oracle
def test_write_refused_with_conflict_markers(demo_repo: Path) -> None:
    contract = "contracts/applicant-data-to-credit-model.toml"
    text = (demo_repo / contract).read_text()
    (demo_repo / contract).write_text(text.replace('fail_after = "PT24H"', 'fail_after = "PT20H"'))
    git(demo_repo, "stash", "-q")
    (demo_repo / contract).write_text(text.replace('fail_after = "PT24H"', 'fail_after = "PT12H"'))
    git(demo_repo, "commit", "-q", "-am", "freshness 12h")
    git(demo_repo, "stash", "pop", check=False)  # conflicts: markers, unmerged index entries
    head = git(demo_repo, "rev-parse", "HEAD")

    unmerged = run_wb(demo_repo, *REVIEW)
    assert unmerged.code == 2 and contract in unmerged.err and "unmerged" in unmerged.err
    # Marked resolved with the markers still in: the workbench still refuses, naming the line.
    git(demo_repo, "add", contract)
    marked = run_wb(demo_repo, *REVIEW)
    line = 1 + (demo_repo / contract).read_text().splitlines().index("<<<<<<< Updated upstream")
    assert marked.code == 2 and f"{contract}:{line}" in marked.err, marked
    assert "conflict marker" in marked.err
    assert git(demo_repo, "rev-parse", "HEAD") == head
    assert not _review_written(demo_repo)

    # Nor is a marker ever written by the workbench itself.
    from workbench.service.core import Workbench
    from workbench.service.errors import WriteRefused

    git(demo_repo, "checkout", "-q", "HEAD", "--", contract)
    with pytest.raises(WriteRefused, match="conflict marker"):
        Workbench(demo_repo, actor="erin.walsh").commit(
            {"actions/x.toml": b"<<<<<<< ours\na = 1\n=======\na = 2\n>>>>>>> theirs\n"}, "x\n"
        )
    # Resolved, the same write goes through.
    assert run_wb(demo_repo, *REVIEW).code == 0


# --- what a killed writer leaves behind ------------------------------------------------------


def test_killed_evaluate_leaves_no_tmp_in_git_status(demo_repo: Path) -> None:
    # The demo's runs are recorded by its CI identity, the one runner its signed policy names.
    proc = trapped(demo_repo, ["--as", "ci.pipeline", "evaluate"], action="kill")
    proc.wait(timeout=120)
    assert proc.returncode == -9, proc.stderr.read()  # type: ignore[union-attr]
    assert not [p for p in status_paths(demo_repo) if p.endswith(".tmp")], status_paths(demo_repo)
    # The next write sweeps the dead writer's temp file.
    again = run_wb(demo_repo, "--as", "ci.pipeline", "evaluate")
    assert again.code in (0, 1), again
    tmp = demo_repo / ".git" / "handshake-workbench" / "tmp"
    assert not [p for p in tmp.iterdir() if p.name.startswith(f"{proc.pid}.")]
    assert git(demo_repo, "status", "--porcelain") == ""


def _gate_check(repo: Path, contract: str, rule: str) -> tuple[str, str]:
    result = run_wb(repo, "gate", "--format", "json")
    checks = json.loads(result.out)["checks"]
    hit = next(c for c in checks if c["contract"] == contract and c["rule"] == rule)
    return hit["outcome"], result.err


def test_uncommitted_review_not_counted_by_gate(demo_repo: Path) -> None:
    assert _gate_check(demo_repo, REVIEWED, "review_overdue")[0] == "fail"
    # A review killed after writing its three files and before committing them.
    folder = f"/reviews/{REVIEWED}$"
    review = (*REVIEW, "--contacts-confirmed")  # the gate rule covers both
    proc = trapped(demo_repo, review, action="kill", match=folder, at=3)
    proc.wait(timeout=120)
    assert proc.returncode == -9, proc.stderr.read()  # type: ignore[union-attr]
    left = _reviews(status_paths(demo_repo))
    assert left, status_paths(demo_repo)

    outcome, note = _gate_check(demo_repo, REVIEWED, "review_overdue")
    assert outcome == "fail"  # the gate judges committed records only
    assert "working tree" in note and left[0] in note, note

    git(demo_repo, "add", "reviews")
    git(demo_repo, "commit", "-q", "-m", "commit the review the killed command left")
    outcome, note = _gate_check(demo_repo, REVIEWED, "review_overdue")
    assert outcome == "pass" and "working tree" not in note


def test_killed_demo_is_marked_and_rebuilt(demo_template: Path, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    proc = trapped(None, ["demo", str(target), "--no-tui"], action="kill", at=12)
    proc.wait(timeout=120)
    assert proc.returncode == -9, proc.stderr.read()  # type: ignore[union-attr]
    assert (target / ".git" / "handshake-workbench" / "demo-incomplete").is_file()

    warned = run_wb(target, "status")
    assert "unfinished demo" in warned.err and f"workbench demo {target}" in warned.err, warned

    rebuilt = subprocess.run([*run_args_demo(target)], capture_output=True, text=True, check=False)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert not (target / ".git" / "handshake-workbench" / "demo-incomplete").exists()
    assert git(target, "rev-list", "--count", "HEAD") == git(
        demo_template, "rev-list", "--count", "HEAD"
    )
    assert git(target, "status", "--porcelain") == ""
    assert "unfinished" not in run_wb(target, "status").err
    # A finished demo is never rebuilt over without --force.
    again = subprocess.run([*run_args_demo(target)], capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "not empty" in again.stderr


def run_args_demo(target: Path) -> list[str]:
    from tests.security.writers import NOW, WORKBENCH

    return [str(WORKBENCH), "--now", NOW, "demo", str(target), "--no-tui"]


# --- the terminal app ------------------------------------------------------------------------


async def test_tui_editor_refuses_save_mid_merge(demo_repo: Path) -> None:
    from tests.tui.conftest import SIZE, make_app, wait_until
    from tests.tui.test_app import APPLICANT, open_editor
    from workbench.tui.modals.commit import CommitModal
    from workbench.tui.modals.error import ErrorModal

    _diverge(demo_repo)
    git(demo_repo, "merge", "--no-commit", "--no-ff", "clean")
    head = git(demo_repo, "rev-parse", "HEAD")
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        editor = await open_editor(app, pilot)
        editor.editor.text = editor.text.replace('fail_after = "PT24H"', 'fail_after = "PT20H"')
        await wait_until(pilot, lambda: editor.checked_text == editor.text)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, CommitModal))
        app.screen.query_one("#commit-message").value = ""
        await pilot.press(*"Tighten freshness", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorModal))
        dialog = app.screen
        assert "merge" in dialog.message and "git merge --abort" in dialog.message
        assert dialog.details == ""  # a refusal, not a crash report
        text = editor.text
        assert app.service.drafts.load(APPLICANT) == text
    assert git(demo_repo, "rev-parse", "HEAD") == head
    assert (demo_repo / ".git" / "MERGE_HEAD").is_file()


# --- details of the write door ---------------------------------------------------------------


@pytest.mark.oracle
def test_base_head_is_read_like_git(tmp_path: Path) -> None:
    """The head a session's reads were based on is read from the git dir's files (no
    pygit2 on the app's first screen): it must agree with `git rev-parse HEAD` however
    the refs are stored."""
    from workbench.repo.head import read_head_id

    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    assert read_head_id(repo) is None  # unborn
    for n in range(3):
        (repo / "f.txt").write_text(f"{n}\n")
        git(repo, "add", "f.txt")
        git(repo, "commit", "-q", "-m", f"c{n}")
    assert read_head_id(repo) == git(repo, "rev-parse", "HEAD")
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert read_head_id(repo) == git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    assert read_head_id(repo) == git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "main")
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "other", str(linked), "HEAD~2")
    assert read_head_id(linked) == git(linked, "rev-parse", "HEAD") != read_head_id(repo)


def test_write_through_a_committed_symlinked_folder_is_refused(
    demo_repo: Path, tmp_path: Path
) -> None:
    """A hostile commit makes a record folder a link to somewhere else on the machine:
    the next review must not write there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = demo_repo / "reviews" / REVIEWED
    shutil.rmtree(folder, ignore_errors=True)
    folder.symlink_to(elsewhere)
    git(demo_repo, "add", "-A", "reviews")
    git(demo_repo, "commit", "-q", "-m", "innocent-looking tidy-up")
    head = git(demo_repo, "rev-parse", "HEAD")
    result = run_wb(demo_repo, *REVIEW)
    assert result.code == 2 and "symbolic link" in result.err, result
    assert list(elsewhere.iterdir()) == []
    assert git(demo_repo, "rev-parse", "HEAD") == head


def test_sweep_removes_only_temp_files_of_writers_that_are_gone(tmp_path: Path) -> None:
    from workbench.repo.atomic import sweep_temp

    dead = subprocess.Popen(["true"])
    dead.wait()
    folder = tmp_path / "tmp"
    folder.mkdir()
    names = {
        "live": f"{os.getpid()}.abc.x.toml.tmp",  # a writer still at work: kept
        "live-but-old": f"{os.getpid()}.def.x.toml.tmp",  # its pid was reused: removed
        "dead": f"{dead.pid}.ghi.x.toml.tmp",
        "nameless": "leftover.tmp",
        "other": "notes.txt",  # not a temp file: kept
    }
    for name in names.values():
        (folder / name).write_text("x")
    os.utime(folder / names["live-but-old"], (0, 0))
    target = tmp_path / "precious"
    target.write_text("keep me")
    (folder / f"{dead.pid}.jkl.tmp").symlink_to(target)  # never followed: kept as is
    removed = sweep_temp(folder)
    assert sorted(removed) == sorted([names["live-but-old"], names["dead"], names["nameless"]])
    assert (folder / names["live"]).exists() and (folder / names["other"]).exists()
    assert target.read_text() == "keep me"


async def test_tui_editor_refuses_save_over_a_change_made_since_it_opened(demo_repo: Path) -> None:
    from tests.tui.conftest import SIZE, make_app, wait_until
    from tests.tui.test_app import APPLICANT, open_editor
    from workbench.service.core import Workbench
    from workbench.tui.modals.commit import CommitModal
    from workbench.tui.modals.error import ErrorModal

    path = f"contracts/{APPLICANT}.toml"
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        editor = await open_editor(app, pilot)
        # Someone else in this clone commits a change to the same contract meanwhile.
        theirs = editor.text.replace('warn_after = "PT12H"', 'warn_after = "PT6H"')
        Workbench(demo_repo, actor="ravi.iyer").save_contract(APPLICANT, theirs, "warn at 6h\n")
        head = git(demo_repo, "rev-parse", "HEAD")
        editor.editor.text = editor.text.replace('fail_after = "PT24H"', 'fail_after = "PT20H"')
        await wait_until(pilot, lambda: editor.checked_text == editor.text)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, CommitModal))
        app.screen.query_one("#commit-message").value = ""
        await pilot.press(*"Tighten freshness", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorModal))
        assert path in app.screen.message and "warn at 6h" in app.screen.message
        assert app.service.drafts.load(APPLICANT) == editor.text
    assert git(demo_repo, "rev-parse", "HEAD") == head
    assert 'warn_after = "PT6H"' in git(demo_repo, "show", f"HEAD:{path}")


async def test_tui_gate_preview_judges_committed_records(demo_repo: Path) -> None:
    """The app's gate preview says what `workbench gate` says: uncommitted records left by
    a killed command are not counted, and it says they are there."""
    from tests.tui.conftest import SIZE, screen_text, wait_until
    from workbench.service.core import Workbench
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.gate import GateScreen

    review = (*REVIEW, "--contacts-confirmed")
    proc = trapped(demo_repo, review, action="kill", match=f"/reviews/{REVIEWED}$", at=3)
    proc.wait(timeout=120)
    assert proc.returncode == -9 and _reviews(status_paths(demo_repo))
    # At the real clock, as the record was made (at a what-if time before it, it would
    # not count anyway).
    service = Workbench(demo_repo, actor="dana.okafor")
    app = WorkbenchApp(service, cursor_blink=False, theme="textual-dark")
    async with app.run_test(size=SIZE) as pilot:
        app.show_gate()
        await wait_until(pilot, lambda: isinstance(app.screen, GateScreen) and app.screen.result)
        screen = app.screen
        check = next(
            c for c in screen.result.checks if c.contract == REVIEWED and c.rule == "review_overdue"
        )
        assert check.outcome == "fail"
        assert _reviews(screen.uncommitted)
        assert "uncommitted file(s) not counted" in screen_text(app)
