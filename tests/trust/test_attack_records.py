"""Attacks on signed records: exemptions and closures that are only claims, and recorded
times that are backdated or from the future. Real demo repo, real keys and signatures."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.signing.demo_helpers import key_path, raw_commit, signer
from workbench.cli.main import main
from workbench.repo.git import GitRepo
from workbench.service.core import Workbench
from workbench.service.errors import WorkbenchError
from workbench.service.evidence import EvidenceService

THRESHOLD = "credit-model-to-loan-decisioning/approval-threshold"  # omar moved it
CREDIT2 = "credit-model-to-loan-decisioning"
CLAIMS1 = "policy-data-to-claims-agent"  # aisha's notice is overdue in the demo


def cli(repo: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--repo", str(repo), *args])
    return code, out.getvalue(), err.getvalue()


def evidence(repo: Path, actor: str | None = None, at: datetime | None = None) -> EvidenceService:
    return Workbench(repo, now=at, actor=actor).evidence


def threshold(repo: Path, at: datetime | None = None):  # type: ignore[no-untyped-def]
    return evidence(repo, at=at).violations.get(THRESHOLD)


def gate_checks(repo: Path, at: datetime | None = None) -> dict[tuple[str, str], str]:
    result = Workbench(repo, now=at).obligations.gate.evaluate()
    return {(c.contract, c.rule): f"{c.outcome}: {c.message}" for c in result.checks}


def in_days(n: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=n)).isoformat()


# --------------------------------------------------------------------------- exemptions


def test_exemption_by_the_violator_naming_a_silent_approver_does_not_count(
    demo_repo: Path,
) -> None:
    vid = threshold(demo_repo).id
    # The article's move: the person who caused it names an approver who signs nothing.
    code, _out, err = cli(
        demo_repo,
        "--as",
        "omar.haddad",
        "violations",
        "close",
        vid,
        "--exempt",
        "--reason",
        "pricing pilot",
        "--approver",
        "helen.brooks",
        "--expires",
        in_days(210),
    )
    assert code == 2 and "no authority" in err, err
    assert threshold(demo_repo).state == "open"
    # Naming someone who may approve only files a request: still open until they sign.
    code, out, err = cli(
        demo_repo,
        "--as",
        "omar.haddad",
        "violations",
        "close",
        vid,
        "--exempt",
        "--reason",
        "pricing pilot",
        "--approver",
        "grace.whitfield",
        "--expires",
        in_days(30),
    )
    assert code == 0, err
    assert "counts once grace.whitfield approves" in out
    v = threshold(demo_repo)
    assert v.state == "open"
    assert any(n.startswith("pending:") and "grace.whitfield" in n for n in v.notes)
    assert "approval-threshold fail" in gate_checks(demo_repo)[(CREDIT2, "violation_open")]
    # The authorised approver signs: now it counts, until the expiry.
    code, out, err = cli(demo_repo, "--as", "grace.whitfield", "violations", "approve", vid)
    assert code == 0, err
    v = threshold(demo_repo)
    assert v.state == "exempt" and v.exemption["approver"] == "grace.whitfield"  # type: ignore[index]
    # The exemption counts: the threshold no longer fails the gate. (At the real clock the
    # demo's other evidence, captured at its fixed moment, is stale: those terms fail as
    # not current, docs/evidence.md 5a; the exempt threshold's stale finding stays exempt.)
    check = gate_checks(demo_repo)[(CREDIT2, "violation_open")]
    assert "approval-threshold" not in check, check
    approval = next(
        p
        for p in GitRepo(demo_repo).read_files("HEAD")
        if p.startswith(f"findings/closures/{vid}/") and p.endswith(".exempt-approve.sig")
    )
    # The approval's signature verifies with stock ssh-keygen as grace.whitfield.
    ssh = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(demo_repo / "keys/allowed_signers"),
            "-I",
            "grace.whitfield@meridian.example",
            "-n",
            "handshake-review-v1@meridian.example",
            "-s",
            str(demo_repo / approval),
        ],
        input=(demo_repo / approval.replace(".sig", ".statement.json")).read_bytes(),
        capture_output=True,
    )
    assert ssh.returncode == 0, ssh.stderr


def test_exemption_approved_by_term_owner_alone_does_not_count(demo_repo: Path) -> None:
    v = threshold(demo_repo)
    assert v.owner["id"] == "sofia.marquez"
    code, _out, err = cli(
        demo_repo,
        "--as",
        "omar.haddad",
        "violations",
        "close",
        v.id,
        "--exempt",
        "--reason",
        "pilot",
        "--approver",
        "sofia.marquez",
        "--expires",
        in_days(30),
    )
    assert code == 2 and "owns the violated term" in err, err
    # A request to grace, then an approval signed by the term owner (made by hand, past the
    # CLI's check): a good signature, but no authority.
    assert evidence(demo_repo, "omar.haddad").violations.close(
        v.id,
        exempt=True,
        reason="pilot",
        approver="grace.whitfield",
        expires=date.today() + timedelta(days=30),
    )
    request = next(
        p
        for p in (demo_repo / f"findings/closures/{v.id}").iterdir()
        if p.name.endswith("request.toml")
    )
    wb = Workbench(demo_repo, actor="sofia.marquez")
    when = wb.now.replace(microsecond=0)
    path = f"findings/closures/{v.id}/{when:%Y%m%dT%H%M%SZ}.sofia.marquez.exempt-approve.toml"
    import hashlib

    fields = {
        "violation": v.id,
        "contract": v.contract,
        "term": v.term,
        "person": "sofia.marquez",
        "act": "exempt-approve",
        "recorded": when,
        "request": f"findings/closures/{v.id}/{request.name}",
        "request_sha256": hashlib.sha256(request.read_bytes()).hexdigest(),
        "expires": date.today() + timedelta(days=30),
    }
    wb.obligations.records.write(
        path,
        fields,
        v.contract,
        "sofia.marquez",
        "exempt-approve",
        "approve\n",
        signer(demo_repo, "sofia.marquez"),
    )
    after = threshold(demo_repo)
    assert after.state == "open"
    assert any("owns the violated term" in n for n in after.notes)
    checks = gate_checks(demo_repo)
    assert checks[(CREDIT2, "violation_open")].startswith("fail")
    assert checks[(CREDIT2, "records_valid")].startswith("fail")
    assert "owns the violated term" in checks[(CREDIT2, "records_valid")]


def test_exemption_expiry_beyond_policy_max_refused(demo_repo: Path) -> None:
    vid = threshold(demo_repo).id
    code, _out, err = cli(
        demo_repo,
        "--as",
        "omar.haddad",
        "violations",
        "close",
        vid,
        "--exempt",
        "--reason",
        "pilot",
        "--approver",
        "grace.whitfield",
        "--expires",
        in_days(210),
    )
    assert code == 2 and "90 days" in err, err
    assert threshold(demo_repo).state == "open"
    # The approver cannot stretch it either.
    assert (
        cli(
            demo_repo,
            "--as",
            "omar.haddad",
            "violations",
            "close",
            vid,
            "--exempt",
            "--reason",
            "pilot",
            "--approver",
            "grace.whitfield",
            "--expires",
            in_days(60),
        )[0]
        == 0
    )
    code, _out, err = cli(
        demo_repo,
        "--as",
        "grace.whitfield",
        "violations",
        "approve",
        vid,
        "--expires",
        in_days(120),
    )
    assert code == 2 and "later than requested" in err
    assert threshold(demo_repo).state == "open"


def test_approved_exemption_lapses_at_its_expiry(demo_repo: Path) -> None:
    """An approved exemption is time-boxed: past its expiry the violation is open again and
    the gate fails on it, with no further act by anyone."""
    vid = threshold(demo_repo).id
    close = ("violations", "close", vid, "--exempt", "--reason", "pilot")
    code, _out, err = cli(
        demo_repo,
        "--as",
        "omar.haddad",
        *close,
        "--approver",
        "grace.whitfield",
        "--expires",
        in_days(30),
    )
    assert code == 0, err
    code, _out, err = cli(demo_repo, "--as", "grace.whitfield", "violations", "approve", vid)
    assert code == 0, err
    today = datetime.now(UTC).replace(microsecond=0)
    assert threshold(demo_repo, at=today + timedelta(days=29)).state == "exempt"
    later = today + timedelta(days=32)
    assert threshold(demo_repo, at=later).state == "open"
    assert gate_checks(demo_repo, at=later)[(CREDIT2, "violation_open")].startswith("fail")


# --------------------------------------------------------------------------- closures


def test_unsigned_legacy_closure_ignored_with_registry(demo_repo: Path) -> None:
    v = threshold(demo_repo)
    legacy = (
        "[[closure]]\n"
        f'violation = "{v.id}"\ncontract = "{v.contract}"\nterm = "{v.term}"\n'
        'action = "exempt"\nclosed_by = "omar.haddad"\nclosed_at = 2026-11-27T10:00:00Z\n'
        'reason = "pilot"\napprover = "helen.brooks"\nexpires = 2027-06-30\n\n'
        "[[closure]]\n"
        f'violation = "{v.id}"\ncontract = "{v.contract}"\nterm = "{v.term}"\n'
        'action = "resolved"\nclosed_by = "omar.haddad"\nclosed_at = 2026-11-27T10:00:00Z\n'
        'note = "nothing to see"\n'
    )
    raw_commit(demo_repo, {"findings/closures.toml": legacy.encode()})
    after = threshold(demo_repo)
    assert after.state == "open"
    assert any("signed nothing" in n for n in after.notes)
    assert any("unsigned resolution" in n for n in after.notes)
    assert gate_checks(demo_repo)[(CREDIT2, "violation_open")].startswith("fail")


def test_closure_signed_by_someone_else_does_not_count(demo_repo: Path) -> None:
    v = threshold(demo_repo)
    # dana signs a resolution as herself; the same bytes then claim to be omar's.
    evidence(demo_repo, "dana.okafor").violations.close(v.id, resolved=True, note="fixed upstream")
    folder = demo_repo / f"findings/closures/{v.id}"
    [record] = [p for p in folder.iterdir() if p.suffix == ".toml"]
    assert threshold(demo_repo).state == "resolved"  # a signed resolution counts
    forged = {}
    for p in folder.iterdir():
        new = p.name.replace("dana.okafor", "omar.haddad")
        data = p.read_bytes()
        if p.suffix == ".toml":
            data = data.replace(b'person = "dana.okafor"', b'person = "omar.haddad"')
        forged[f"findings/closures/{v.id}/{new}"] = data
        forged[f"findings/closures/{v.id}/{p.name}"] = None
    raw_commit(demo_repo, forged)
    assert not record.exists()
    after = threshold(demo_repo)
    assert after.state == "open"
    assert any("signature does not verify as omar.haddad" in n for n in after.notes)
    assert "signature does not verify" in gate_checks(demo_repo)[(CREDIT2, "records_valid")]


# --------------------------------------------------------------------------- time


def test_now_refused_for_write_commands(demo_repo: Path) -> None:
    head = GitRepo(demo_repo).head_id()
    early = (FIXED_NOW - timedelta(days=20)).isoformat()
    for argv in (
        ["--as", "aisha.rahman", "ack", CLAIMS1, "--notice", "1"],
        ["--as", "aisha.rahman", "review", CLAIMS1],
        ["--as", "omar.haddad", "violations", "close", THRESHOLD, "--resolved", "--note", "x"],
        ["--as", "grace.whitfield", "violations", "approve", THRESHOLD],
        ["--as", "aisha.rahman", "sign", CLAIMS1],
        ["--as", "ravi.iyer", "evaluate"],
    ):
        code, _out, err = cli(demo_repo, "--now", early, *argv)
        assert code == 2, argv
        assert "--now is a what-if" in err and "real time" in err, err
    assert GitRepo(demo_repo).head_id() == head  # nothing was written
    # Reading at a chosen moment still works (a what-if), and a what-if session refuses
    # to record even when called past the CLI.
    assert cli(demo_repo, "--now", early, "notices")[0] in (0, 1)
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="aisha.rahman", what_if=True)
    with pytest.raises(WorkbenchError, match="what-if"):
        wb.obligations.notices.acknowledge(CLAIMS1, "1")


def test_backdated_ack_before_parent_commit_flagged(demo_repo: Path) -> None:
    notice = next(
        n
        for n in Workbench(demo_repo, now=FIXED_NOW).obligations.notices.statuses()
        if n.contract == CLAIMS1
    )
    assert notice.state == "overdue"
    # aisha acknowledges today, but writes the time it would have had to be (before the
    # deadline), with a clock of her own choosing: the record precedes its parent commit.
    backdated = notice.requirements[0].deadline - timedelta(hours=1)
    Workbench(demo_repo, now=backdated, actor="aisha.rahman").obligations.notices.acknowledge(
        CLAIMS1, "1", note="acknowledged on time, honest"
    )
    later = FIXED_NOW + timedelta(hours=1)
    svc = Workbench(demo_repo, now=later).obligations
    again = next(n for n in svc.notices.statuses() if n.contract == CLAIMS1)
    assert again.state == "overdue"  # the backdated ack does not count
    problems = [p.message for p in svc.records.records().problems]
    assert any("before its parent commit" in m and "backdated" in m for m in problems)
    checks = gate_checks(demo_repo, later)
    assert checks[(CLAIMS1, "notice_unacknowledged")].startswith("fail")
    assert checks[(CLAIMS1, "records_valid")].startswith("fail")
    assert "before its parent commit" in checks[(CLAIMS1, "records_valid")]


def hand_over_lineage(repo: Path) -> None:
    """The demo's policy seam still names a departed term owner, so it does not validate and
    cannot be acknowledged: the provider lead names the successor first."""
    Workbench(repo, actor="tomas.lindqvist").set_contract_value(
        CLAIMS1, ("terms", 1, "owner"), "yuki.tanaka", "Hand the lineage term to Yuki Tanaka\n"
    )


def test_future_dated_record_flagged(demo_repo: Path) -> None:
    hand_over_lineage(demo_repo)
    future = datetime.now(UTC) + timedelta(days=30)
    Workbench(demo_repo, now=future, actor="aisha.rahman").obligations.notices.acknowledge(
        CLAIMS1, "1"
    )
    # At the real clock the record is from the future: flagged, not counted.
    checks = gate_checks(demo_repo)
    assert checks[(CLAIMS1, "records_valid")].startswith("fail")
    assert "after now" in checks[(CLAIMS1, "records_valid")]
    assert checks[(CLAIMS1, "notice_unacknowledged")].startswith("fail")
    # At a what-if moment before it, the same record is simply not made yet: not flagged.
    checks = gate_checks(demo_repo, FIXED_NOW + timedelta(hours=1))
    assert checks[(CLAIMS1, "records_valid")].startswith("pass")


def test_honest_ack_through_the_cli_counts_and_commits_at_the_real_time(demo_repo: Path) -> None:
    hand_over_lineage(demo_repo)
    before = datetime.now(UTC).replace(microsecond=0)
    code, _out, err = cli(demo_repo, "--as", "aisha.rahman", "ack", CLAIMS1, "--notice", "1")
    assert code == 0, err
    info = GitRepo(demo_repo).commit_info("HEAD")
    assert before - timedelta(seconds=1) <= info.time <= datetime.now(UTC) + timedelta(seconds=1)
    code, out, _err = cli(demo_repo, "gate", "--format", "json")
    rows = {(c["contract"], c["rule"]): c for c in json.loads(out)["checks"]}
    assert rows[(CLAIMS1, "records_valid")]["outcome"] == "pass"
    assert key_path(demo_repo, "aisha.rahman").is_file()
