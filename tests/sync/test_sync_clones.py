"""`workbench sync` between real clones of one bare origin: records made in parallel never
conflict and a fresh clone sees all of them; a real conflict is named; a history that
rolls back the registry or an attestation is refused before it is merged."""

from __future__ import annotations

import contextlib
import hashlib
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.signing.demo_helpers import signer
from tests.sync.conftest import APPLICANT, CLAIMS, CREDIT, THRESHOLD, Origin, git
from workbench.cli.main import main
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench
from workbench.service.errors import WriteRefused


def at(hours: float) -> datetime:
    return FIXED_NOW + timedelta(hours=hours)


def session(root: Path, actor: str | None, hours: float) -> Workbench:
    return Workbench(root, now=at(hours), actor=actor)


def sync(root: Path, actor: str, hours: float, **kwargs: object):  # type: ignore[no-untyped-def]
    return session(root, actor, hours).sync.run(**kwargs)  # type: ignore[arg-type]


def cli(repo: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--repo", str(repo), *args])
    return code, out.getvalue(), err.getvalue()


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").stdout.strip()


def evidence_file(folder: Path, label: str, after: str = "ev-fff") -> Path:
    """A freshness CSV whose snapshot id sorts after `after`: two of them registered in two
    clones land at the same place at the end of the manifest, which a line merge cannot
    merge."""
    for n in range(100_000):
        data = (
            "source,updated_at,available_at\n"
            f"{label}-{n},2026-11-27T01:00:00Z,2026-11-27T02:00:00Z\n"
        ).encode()
        sid = "ev-" + hashlib.sha256(data).hexdigest()[:12]
        if sid > after:
            path = folder / f"{label}.csv"
            path.write_bytes(data)
            return path
    raise AssertionError("no such snapshot id")


def violation_id(root: Path, ref: str, hours: float) -> str:
    return session(root, None, hours).evidence.violations.get(ref).id


def test_records_made_in_parallel_in_two_clones_sync_without_conflict(
    origin: Origin, tmp_path: Path
) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    policy = "policy-data-to-claims-agent/policy-freshness"
    registered = snapshot_ids(a)

    # Laptop A, an hour in: ravi co-signs v2, acknowledges dana's change, dana resolves a
    # violation, sam registers new evidence.
    session(a, "ravi.iyer", 1).signing.contracts.sign(CREDIT, signer(a, "ravi.iyer"))
    session(a, "ravi.iyer", 1).obligations.notices.acknowledge(APPLICANT)
    session(a, "dana.okafor", 1).evidence.violations.close(
        violation_id(a, THRESHOLD, 1), resolved=True, note="threshold restored upstream"
    )
    session(a, "sam.ortiz", 1).evidence.add(
        evidence_file(tmp_path, "a"), "freshness_lags", contract=APPLICANT
    )
    assert sync(a, "ravi.iyer", 1.1).pushed

    # Laptop B, three hours in and not synced since: sofia co-signs the same version, aisha
    # completes her overdue review, yuki resolves another violation, sam registers other
    # evidence. None of it has seen A's commits.
    session(b, "sofia.marquez", 3).signing.contracts.sign(CREDIT, signer(b, "sofia.marquez"))
    session(b, "aisha.rahman", 3).obligations.reviews.complete(
        CLAIMS, contacts_confirmed=True, notes="contacts still right"
    )
    session(b, "yuki.tanaka", 3).evidence.violations.close(
        violation_id(b, policy, 3), resolved=True, note="sidecar indexed again"
    )
    session(b, "sam.ortiz", 3).evidence.add(
        evidence_file(tmp_path, "b"), "freshness_lags", contract=APPLICANT
    )

    report = sync(b, "sofia.marquez", 3.1)
    assert report.ok and report.pushed and not report.conflicts, report.to_json()
    assert report.merge_commit is not None
    assert report.summary is not None
    came = "\n".join(report.summary.incoming)
    assert "ravi.iyer co-signed credit-model-to-loan-decisioning v2" in came
    assert f"acknowledgement of {APPLICANT} for ravi.iyer" in came
    assert (CREDIT, "pending", "approved") in report.summary.verdicts
    # The manifest was merged by snapshot id: a line merge of it conflicts (tested below).
    assert (
        report.conflicts == []
        and "evidence/manifest.toml" not in git(b, "status", "--short").stdout
    )
    merge = GitRepo(b).repo[report.merge_commit]
    assert len(merge.parents) == 2 and merge.gpg_signature[0] is not None  # signed by sofia

    assert sync(a, "ravi.iyer", 3.2).outcome.startswith("fast-forward")
    assert head(a) == head(b)

    # A fresh clone (the auditor's) sees every record from both laptops, and each counts.
    c = origin.clone(tmp_path / "c")
    assert git(c, "fsck", "--strict").returncode == 0
    judged = session(c, None, 4)
    verdict = judged.signing.verdict(CREDIT)
    assert verdict.state == "approved" and set(verdict.signed) >= {"ravi.iyer", "sofia.marquez"}
    obligations = judged.obligations
    [notice] = [
        n for n in obligations.notices.statuses(contract=APPLICANT) if n.commit == _last_change(c)
    ]
    assert not notice.pending, notice
    review = next(
        r for r in obligations.reviews.statuses() if r.contract == CLAIMS and r.kind == "review"
    )
    assert review.state != "overdue", review
    states = {v.id: v.state for v in judged.evidence.violations.find()}
    assert states[violation_id(c, THRESHOLD, 4)] == "resolved"
    assert states[violation_id(c, policy, 4)] == "resolved"
    assert len(snapshot_ids(c) - registered) == 2
    # Every record still holds its time: A's records, made before B's commits, came in
    # through the merge and are placed in A's own line of commits (not "backdated").
    gate = obligations.gate.evaluate()
    records = {c.contract: c for c in gate.checks if c.rule == "records_valid"}
    for cid in (CREDIT, APPLICANT, CLAIMS):
        assert records[cid].outcome == "pass", records[cid].message


def _last_change(root: Path) -> str:
    return git(root, "log", "-1", "--format=%H", "--", f"contracts/{APPLICANT}.toml").stdout.strip()


def snapshot_ids(root: Path) -> set[str]:
    """The snapshots that count (signed registrations: evidence/registrations/)."""
    return {s.id for s in session(root, None, 4).evidence.manifest().snapshots}


def test_real_content_conflict_is_named_and_nothing_is_pushed(
    origin: Origin, tmp_path: Path
) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    path = f"contracts/{APPLICANT}.toml"
    for root, who, new in ((a, "dana.okafor", "PT11H"), (b, "ravi.iyer", "PT9H")):
        wb = session(root, who, 1)
        text = wb.contract_text(APPLICANT).replace('warn_after = "PT10H"', f'warn_after = "{new}"')
        wb.save_contract(APPLICANT, text, f"warn after {new}\n")
    assert sync(a, "dana.okafor", 1.1).pushed
    before, remote = head(b), git(origin.bare, "rev-parse", "main").stdout.strip()

    code, out, _err = cli(b, "--as", "ravi.iyer", "sync")
    assert code == 1
    assert f"CONFLICT  {path}: both sides changed this contract" in out
    assert git(origin.bare, "rev-parse", "main").stdout.strip() == remote  # nothing pushed
    assert head(b) == before and (b / ".git" / "MERGE_HEAD").is_file()

    # Named as a merge conflict everywhere, with both sides' lines.
    code, _out, err = cli(b, "validate")
    assert code == 1
    assert "merge conflict, lines" in err or "merge conflict, lines" in _out
    shown = _out + err
    assert "HEAD has 'warn_after = \"PT9H\"'" in shown
    assert "origin/main has 'warn_after = \"PT11H\"'" in shown
    assert "TOML syntax error" not in shown
    code, out, err = cli(b, "status")
    assert code == 1
    assert "conflict" in out and "MERGE NOT FINISHED: a merge is in progress" in out
    assert "git merge --abort" in out
    code, out, _err = cli(b, "gate")
    assert code == 1
    assert out.startswith("FAIL  merge_state")
    assert "a MERGE IS NOT FINISHED" in out
    # The write door refuses while it lasts.
    with pytest.raises(WriteRefused, match="a merge is in progress"):
        session(b, "aisha.rahman", 1.2).obligations.reviews.complete(CLAIMS)


def test_registry_rollback_is_refused_before_it_is_merged(origin: Origin, tmp_path: Path) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    # A hostile push: registry v1 loses an admin signature (v1 is then not complete).
    sig = next(p for p in (a / "keys" / "registry").iterdir() if p.name.endswith(".sig"))
    GitRepo(a).commit_files(
        {f"keys/registry/{sig.name}": None},
        "tidy up\n",
        Author("Mallory", "mallory@evil.example"),
        when=at(1),
    )
    git(a, "push", "-q", "origin", "main")
    # B has work of its own: a merge would be needed.
    session(b, "sofia.marquez", 2).signing.contracts.sign(CREDIT, signer(b, "sofia.marquez"))
    before = head(b)
    status_before = git(b, "status", "--porcelain").stdout

    code, out, err = cli(b, "--as", "sofia.marquez", "sync")
    assert code == 1, out + err
    assert "REFUSED  key registry:" in out and "rollback" in out
    assert "nothing was merged or pushed" in out
    assert head(b) == before and not (b / ".git" / "MERGE_HEAD").exists()
    assert git(b, "status", "--porcelain").stdout == status_before
    assert (b / "keys" / "registry" / sig.name).is_file()  # still there
    # The remote-tracking branch does not move to what was refused; it is kept aside.
    tracking = git(b, "rev-parse", "refs/remotes/origin/main").stdout.strip()
    assert tracking != git(origin.bare, "rev-parse", "main").stdout.strip()
    assert git(b, "rev-parse", "refs/handshake-workbench/incoming/origin/main").returncode == 0
    # Nothing of B's went out either.
    assert git(origin.bare, "cat-file", "-e", before, check=False).returncode != 0


def test_attestation_rollback_is_refused_by_a_fast_forward_too(
    origin: Origin, tmp_path: Path
) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    v1 = git(a, "log", "--format=%H", "--", f"attestations/{CREDIT}/v1.statement.json")
    signed_at = v1.stdout.split()[-1]
    for person in ("ravi.iyer", "sofia.marquez"):
        session(a, person, 1).signing.contracts.sign(CREDIT, signer(a, person))
    assert sync(a, "ravi.iyer", 1.1).pushed
    assert sync(b, "ravi.iyer", 1.2).outcome.startswith("fast-forward")
    # A hostile push rolls the contract back to its v1 bytes and deletes the v2 attestation:
    # v1's signatures would make the old text "approved" again.
    folder = f"attestations/{CREDIT}/"
    gone = {folder + p.name: None for p in (a / folder).iterdir() if p.name.startswith("v2.")}
    old = git(a, "show", f"{signed_at}:contracts/{CREDIT}.toml").stdout.encode()
    GitRepo(a).commit_files(
        {**gone, f"contracts/{CREDIT}.toml": old},
        "restore the reviewed text\n",
        Author("Mallory", "mallory@evil.example"),
        when=at(2),
    )
    git(a, "push", "-q", "origin", "main")
    before = head(b)
    report = sync(b, "ravi.iyer", 3)
    assert not report.ok
    assert any(r.startswith(f"{CREDIT}: ") and "rollback" in r for r in report.refusals), (
        report.refusals
    )
    assert head(b) == before
    assert (b / folder / "v2.statement.json").is_file()


def test_unrelated_history_is_refused(origin: Origin, tmp_path: Path) -> None:
    b = origin.clone(tmp_path / "b")
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "workbench.toml").write_text('[org]\nname = "Elsewhere"\n')
    git(other, "add", "-A")
    git(other, "-c", "user.name=M", "-c", "user.email=m@x", "commit", "-qm", "new root")
    git(other, "push", "-q", "--force", str(origin.bare), "main")
    before = head(b)
    report = sync(b, "ravi.iyer", 1)
    assert not report.ok and "shares no history" in report.refusals[0]
    assert head(b) == before


def test_dry_run_fetches_and_verifies_but_changes_nothing(origin: Origin, tmp_path: Path) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    session(a, "ravi.iyer", 1).signing.contracts.sign(CREDIT, signer(a, "ravi.iyer"))
    assert sync(a, "ravi.iyer", 1.1).pushed
    session(b, "sofia.marquez", 2).signing.contracts.sign(CREDIT, signer(b, "sofia.marquez"))
    before, remote = head(b), git(origin.bare, "rev-parse", "main").stdout.strip()
    code, out, err = cli(b, "--as", "sofia.marquez", "--readonly", "sync", "--dry-run")
    assert code == 0, err
    assert "dry run: would merge 1 commit(s) of origin/main and push 2" in out
    assert "would come in: 1 commit(s)" in out
    assert "verdict credit-model-to-loan-decisioning: pending -> approved" in out
    assert head(b) == before and git(origin.bare, "rev-parse", "main").stdout.strip() == remote
    assert git(b, "rev-parse", "refs/remotes/origin/main").stdout.strip() != remote


def test_sync_refused_mid_merge_with_the_way_out(origin: Origin, tmp_path: Path) -> None:
    b = origin.clone(tmp_path / "b")
    git(b, "checkout", "-q", "-b", "side")
    (b / "notes.txt").write_text("side\n")
    git(b, "add", "notes.txt")
    git(b, "-c", "user.name=x", "-c", "user.email=x@y", "commit", "-qm", "side")
    git(b, "checkout", "-q", "main")
    (b / "notes.txt").write_text("main\n")
    git(b, "add", "notes.txt")
    git(b, "-c", "user.name=x", "-c", "user.email=x@y", "commit", "-qm", "main")
    git(b, "-c", "user.name=x", "-c", "user.email=x@y", "merge", "side", check=False)
    code, _out, err = cli(b, "--as", "ravi.iyer", "sync")
    assert code == 2
    assert "a merge is in progress" in err and "git merge --abort" in err


def test_git_program_transports_only_known_remotes(origin: Origin, tmp_path: Path) -> None:
    b = origin.clone(tmp_path / "b")
    code, _out, err = cli(b, "--as", "ravi.iyer", "sync", "--remote=--upload-pack=touch")
    assert code == 2 and "no remote '--upload-pack=touch'" in err
    assert not (b / "touch").exists()


def test_resolution_is_committed_as_the_merge_and_then_synced(
    origin: Origin, tmp_path: Path
) -> None:
    from workbench.service.errors import InvalidEdit

    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    path = f"contracts/{APPLICANT}.toml"
    for root, who, new in ((a, "dana.okafor", "PT11H"), (b, "ravi.iyer", "PT9H")):
        wb = session(root, who, 1)
        text = wb.contract_text(APPLICANT).replace('warn_after = "PT10H"', f'warn_after = "{new}"')
        wb.save_contract(APPLICANT, text, f"warn after {new}\n")
    assert sync(a, "dana.okafor", 1.1).pushed
    ours_head = head(b)
    assert sync(b, "ravi.iyer", 1.2).conflicts

    svc = session(b, "ravi.iyer", 1.3).conflicts
    assert svc.conflicted() == [path]
    both = svc.file(path)
    assert both.ours_label == "HEAD" and both.theirs_label == "origin/main"
    assert 'warn_after = "PT9H"' in both.ours and 'warn_after = "PT11H"' in both.theirs
    assert both.base is not None and 'warn_after = "PT10H"' in both.base
    # A resolution that still holds a marker, or does not validate, is refused.
    with pytest.raises(WriteRefused, match="conflict marker"):
        svc.resolve(path, both.text)
    with pytest.raises(InvalidEdit):
        svc.resolve(path, both.theirs.replace('owner = "dana.okafor"', 'owner = "the team"', 1))
    assert (b / ".git" / "MERGE_HEAD").is_file()

    done = svc.resolve(path, both.theirs)
    assert done.commit is not None and done.left == []
    merge = GitRepo(b).repo[done.commit]
    assert [str(p) for p in merge.parent_ids] == [
        ours_head,
        git(b, "rev-parse", "refs/remotes/origin/main").stdout.strip(),
    ]
    assert merge.gpg_signature[0] is not None  # signed by ravi, like every workbench commit
    assert not (b / ".git" / "MERGE_HEAD").exists()
    assert git(b, "status", "--porcelain").stdout == ""
    report = sync(b, "ravi.iyer", 1.4)
    assert report.pushed and report.outcome.startswith("pushed"), report.to_json()
    assert git(origin.bare, "rev-parse", "main").stdout.strip() == done.commit


def test_sync_prints_hostile_text_as_text(origin: Origin, tmp_path: Path) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    # A pushed record whose file name carries an escape sequence and a forged line.
    forged = f"attestations/{CREDIT}/v1.\x1b]8;;e.vil\x07x\nREFUSED nothing.sig"
    GitRepo(a).commit_files(
        {forged: b"-----BEGIN SSH SIGNATURE-----\n"},
        "\x1b[2J tidy\n",
        Author("\x1b[31mMallory", "mallory@evil.example"),
        when=at(1),
    )
    git(a, "push", "-q", "origin", "main")
    code, out, err = cli(b, "--as", "ravi.iyer", "sync")
    assert code in (0, 1), err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\x1b]8;;e.vil\\x07x\\nREFUSED nothing co-signed" in out
    assert not any(line.startswith("REFUSED nothing") for line in out.splitlines())


def test_remote_that_moves_during_the_push_is_synced_again(origin: Origin, tmp_path: Path) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    session(a, "ravi.iyer", 1).signing.contracts.sign(CREDIT, signer(a, "ravi.iyer"))
    session(b, "sofia.marquez", 2).signing.contracts.sign(CREDIT, signer(b, "sofia.marquez"))
    # A's push lands exactly between B's fetch and B's push (B's pre-push hook makes it so,
    # once), as when two leads sync at the same moment.
    hook = b / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        f'if [ ! -f "{b}/raced" ]; then\n'
        f'  touch "{b}/raced"\n'
        f"  env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE git -C {a} push -q origin main\n"
        "fi\n"
    )
    hook.chmod(0o755)
    report = sync(b, "sofia.marquez", 2.1)
    assert report.ok and report.pushed, report.to_json()
    assert (b / "raced").is_file()
    assert any("moved while syncing (attempt 1)" in n for n in report.notes)
    assert head(b) == git(origin.bare, "rev-parse", "main").stdout.strip()
    assert git(b, "merge-base", "--is-ancestor", head(a), head(b)).returncode == 0
    verdict = session(b, None, 3).signing.verdict(CREDIT)
    assert verdict.state == "approved", verdict.reason


def test_uncommitted_change_is_never_overwritten(origin: Origin, tmp_path: Path) -> None:
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    wb = session(a, "dana.okafor", 1)
    text = wb.contract_text(APPLICANT).replace('warn_after = "PT10H"', 'warn_after = "PT11H"')
    wb.save_contract(APPLICANT, text, "warn after 11h\n")
    assert sync(a, "dana.okafor", 1.1).pushed
    path = b / "contracts" / f"{APPLICANT}.toml"
    typed = path.read_text().replace("Applicant data", "Applicant data (draft)")
    path.write_text(typed)
    before = head(b)
    code, _out, err = cli(b, "--as", "ravi.iyer", "sync")
    assert code == 2 and "uncommitted changes would be overwritten" in err, err
    assert path.read_text() == typed and head(b) == before
    # Without a pinned root, sync says so (as verify does).
    (b / ".git" / "handshake-workbench" / "trust-root").unlink()
    path.write_text(git(b, "show", f"HEAD:contracts/{APPLICANT}.toml").stdout)
    code, _out, err = cli(b, "--as", "ravi.iyer", "sync")
    assert code == 0 and "trust root NOT pinned" in err


def test_first_sync_creates_the_remote_branch(origin: Origin, tmp_path: Path) -> None:
    a = origin.clone(tmp_path / "a")
    empty = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(empty))
    git(a, "remote", "add", "team", str(empty))
    code, out, err = cli(a, "--as", "ravi.iyer", "sync", "--remote", "team", "--dry-run")
    assert code == 0, err
    assert "dry run: would push" in out and git(empty, "rev-parse", "main", check=False).returncode
    report = sync(a, "ravi.iyer", 1, remote="team")
    assert report.pushed and report.outcome.startswith("pushed"), report.to_json()
    assert git(empty, "rev-parse", "main").stdout.strip() == head(a)
    assert report.summary is not None and report.summary.outgoing_commits > 10
    assert any("co-signed" in line for line in report.summary.outgoing)
    # The upstream stays origin; ahead/behind of team is now known to the clone.
    assert git(a, "rev-parse", "refs/remotes/team/main").stdout.strip() == head(a)
    assert git(a, "rev-parse", "--abbrev-ref", "main@{upstream}").stdout.strip() == "origin/main"


def test_first_push_sets_the_branch_upstream(origin: Origin, tmp_path: Path) -> None:
    """A repo made on one machine and pushed by its first sync tracks what it pushed to, as
    `git push -u` would: `git status`, `git pull` and the app's ahead/behind then know it."""
    a = origin.clone(tmp_path / "a")
    git(a, "remote", "remove", "origin")  # as if made here: no remote, no upstream
    empty = tmp_path / "new-home.git"
    git(tmp_path, "init", "-q", "--bare", str(empty))
    git(a, "remote", "add", "origin", str(empty))
    assert git(a, "rev-parse", "--abbrev-ref", "main@{upstream}", check=False).returncode
    code, out, err = cli(a, "--as", "ravi.iyer", "sync")
    assert code == 0, err
    assert "main now tracks origin/main" in out + err
    assert git(a, "rev-parse", "--abbrev-ref", "main@{upstream}").stdout.strip() == "origin/main"
    assert git(a, "status", "-sb").stdout.startswith("## main...origin/main\n")


def test_first_push_to_a_named_remote_is_where_the_next_sync_goes(
    origin: Origin, tmp_path: Path
) -> None:
    """A clone with no origin and no upstream, pushed once with `sync --remote team`: the
    next plain `workbench sync` knows where to pull and push (as after `git push -u team`),
    instead of "main has no upstream and this clone has no remote 'origin'"."""
    a = origin.clone(tmp_path / "a")
    git(a, "remote", "remove", "origin")
    team = tmp_path / "team.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(team))
    git(a, "remote", "add", "team", str(team))
    code, out, err = cli(a, "--as", "ravi.iyer", "sync", "--remote", "team")
    assert code == 0 and "main now tracks team/main" in out + err, out + err
    assert git(a, "rev-parse", "--abbrev-ref", "main@{upstream}").stdout.strip() == "team/main"
    # A second clone of team moves it; the plain sync of the first pulls that.
    b = origin.clone(tmp_path / "b", url=str(team))
    (b / "notes.md").write_text("a note\n")
    git(b, "add", "notes.md")
    git(b, "-c", "user.name=Ravi", "-c", "user.email=ravi@x.example", "commit", "-qm", "note")
    git(b, "push", "-q", "origin", "main")
    code, out, err = cli(a, "--as", "ravi.iyer", "sync")
    assert code == 0, out + err
    assert "sync main with team" in out and head(a) == head(b)
    assert "now tracks" not in out + err  # set once, never changed


def test_a_signature_deleted_upstream_is_named_as_removed(origin: Origin, tmp_path: Path) -> None:
    """Deleting someone's signature only moves a verdict the safe way (approved -> pending),
    so sync accepts it; but it must say which signed record went, not only the verdict."""
    a = origin.clone(tmp_path / "a")
    b = origin.clone(tmp_path / "b")
    for person in ("ravi.iyer", "sofia.marquez"):
        session(a, person, 1).signing.contracts.sign(CREDIT, signer(a, person))
    assert sync(a, "ravi.iyer", 1.1).pushed
    assert sync(b, "ravi.iyer", 1.2).outcome.startswith("fast-forward")
    gone = f"attestations/{CREDIT}/v2.ravi.iyer.sig"
    GitRepo(a).commit_files(
        {gone: None}, "tidy\n", Author("Mallory", "mallory@evil.example"), when=at(2)
    )
    git(a, "push", "-q", "origin", "main")
    report = sync(b, "sofia.marquez", 3)
    assert report.ok
    summary = report.summary
    assert summary.removed == [f"ravi.iyer co-signed {CREDIT} v2"]
    assert (CREDIT, "approved", "pending") in summary.verdicts
    lines = summary.lines()
    assert f"  - removed: ravi.iyer co-signed {CREDIT} v2" in lines
    assert summary.to_json()["removed_incoming"] == [f"ravi.iyer co-signed {CREDIT} v2"]
