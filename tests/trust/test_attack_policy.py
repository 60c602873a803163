"""Issue 12: an unsigned commit to workbench.toml cannot weaken the gate or a verdict.

`workbench.toml` is a plain file any member can commit. What the gate always checks and
the loosest windows a verdict may use are the *signed floor*, `keys/policy.toml` `[gate]`
and `[limits]`, signed by the registry admins with every registry version; the policy in
force is workbench.toml tightened by the floor of the verified registry head.

Each attack is a plain `git commit` by an ordinary member (omar.haddad); the verdicts come
from the CLI's real entry point, judged at a fixed moment (`--now`), as CI would see them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from workbench.cli.main import main

ADMINS = ("grace.whitfield", "erin.walsh")
OMAR = {
    "GIT_AUTHOR_NAME": "Omar Haddad",
    "GIT_AUTHOR_EMAIL": "omar@x.example",
    "GIT_COMMITTER_NAME": "Omar Haddad",
    "GIT_COMMITTER_EMAIL": "omar@x.example",
}
APPLICANT = "applicant-data-to-credit-model"  # approved, current evidence at FIXED_NOW
CLAIMS = "claims-agent-to-claims-product"  # its first review and contact check are overdue
POLICY = "policy-data-to-claims-agent"  # aisha's notice is overdue
RULES = (
    "valid",
    "approved",
    "review_overdue",
    "notice_unacknowledged",
    "violation_open",
    "page_test",
    "action_overdue",
    "diagnostic_mismatch",
    "records_valid",
    "clock_expired",
)


@pytest.fixture(autouse=True)
def _no_root_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_TRUST_ROOT", raising=False)
    monkeypatch.delenv("WORKBENCH_KEY_PASSPHRASE", raising=False)


def at(days: float = 0.0) -> str:
    return (FIXED_NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cli(repo: Path, *args: str, who: str | None = None) -> tuple[int, str, str]:
    """The CLI in-process: same argv, exit code, stdout and stderr as a real run."""
    actor = ["--as", who] if who else []
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--repo", str(repo), *actor, *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def gate(repo: Path, now: str = at()) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, _err = cli(repo, "--now", now, "gate", "--format", "json")
    return code, json.loads(out)


def gate_text(repo: Path, now: str = at()) -> tuple[int, str]:
    code, out, _err = cli(repo, "--now", now, "gate")
    return code, out


def check(data: dict, contract: str, rule: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in data["checks"] if c["contract"] == contract and c["rule"] == rule)


def blocking(data: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {
        (c["contract"], c["rule"])
        for c in data["checks"]
        if c["outcome"] == "fail" and c["severity"] == "deny"
    }


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **OMAR, **(env or {})},
    )
    return result.stdout.strip()


def set_key(text: str, key: str, value: str) -> str:
    """Set `key = value` in workbench.toml text: the line replaced, or added to its table."""
    table, _, name = key.rpartition(".")
    pattern = re.compile(rf"^{re.escape(name)} = .*$", re.M)
    header = f"[{table}]\n"
    start = text.index(header) + len(header)
    end = text.find("\n[", start)
    end = len(text) if end < 0 else end + 1
    section = text[start:end]
    if pattern.search(section):
        section = pattern.sub(f"{name} = {value}", section, count=1)
    else:
        section = f"{name} = {value}\n" + section
    return text[:start] + section + text[end:]


def commit_settings(repo: Path, message: str = "tidy gate", **values: str) -> None:
    """An ordinary member edits workbench.toml and commits it with plain git."""
    path = repo / "workbench.toml"
    text = path.read_text()
    for key, value in values.items():
        text = set_key(text, key.replace("__", "."), value)
    path.write_text(text)
    git(repo, "commit", "-qam", message)


def settings_warnings(repo: Path) -> list[dict]:  # type: ignore[type-arg]
    _code, out, _err = cli(repo, "validate", "--json")
    return [
        p
        for p in json.loads(out)["problems"]
        if p["file"] == "workbench.toml" and p["severity"] == "warning"
    ]


# --- the gate's rules and scope ---------------------------------------------------------------


def test_unsigned_workbench_toml_cannot_drop_gate_rules(demo_repo: Path) -> None:
    code, before = gate(demo_repo)
    assert code == 1 and before["summary"]["failed"] == 7
    # The lead's finding, verbatim: keep only `valid`, warn about nothing, scope nothing.
    commit_settings(demo_repo, gate__deny='["valid"]', gate__warn="[]")
    code, after = gate(demo_repo)
    assert code == 1 and after["passed"] is False
    assert blocking(after) == blocking(before)
    # Every rule is still checked, with the severity the signed floor gives it.
    assert {c["rule"] for c in after["checks"]} == set(RULES)
    policy = after["policy"]
    assert policy["deny"] == before["policy"]["deny"]
    assert set(policy["warn"]) == {"action_overdue", "diagnostic_mismatch"}
    assert policy["floor"]["source"] == "registry v1"
    assert policy["rules"]["approved"] == {"severity": "deny", "from": ["signed floor"]}
    assert policy["rules"]["valid"]["from"] == ["built in", "signed floor", "workbench.toml"]
    dropped = [i["message"] for i in policy["ignored"]]
    assert any("approved" in m and "signed" in m for m in dropped), dropped
    # The text report says so, one line per ignored loosening, before anything else.
    code, text = gate_text(demo_repo)
    assert code == 1
    ignored = [line for line in text.splitlines() if line.startswith("IGNORED")]
    for rule in ("approved", "review_overdue", "notice_unacknowledged", "violation_open"):
        assert any(rule in line for line in ignored), (rule, ignored)
    assert "gate FAILED" in text
    # Whatever the report format CI reads, its log shows them too.
    code, _junit, err = cli(demo_repo, "--now", at(), "gate", "--format", "junit")
    assert code == 1 and err.count("IGNORED") == len(ignored)


def test_ignored_loosenings_are_in_every_report_ci_reads(demo_repo: Path) -> None:
    """A CI that reads only the JUnit or SARIF file must see that workbench.toml asked to
    loosen the gate: JUnit lists each one as a skipped testcase (counted on the summary),
    SARIF as a warning result at its line of workbench.toml and a configuration
    notification. Before, both files were silent; only stderr said IGNORED."""
    from xml.etree import ElementTree as ET

    _code, before, _err = cli(demo_repo, "--now", at(), "gate", "--format", "junit")
    commit_settings(
        demo_repo, gate__contracts='["nothing-*"]', gate__deny='["valid"]', gate__warn="[]"
    )
    code, data = gate(demo_repo)
    ignored = data["policy"]["ignored"]
    assert code == 1 and len(ignored) >= 5, ignored  # json had them already
    assert all(i["file"] == "workbench.toml" and i["line"] > 1 for i in ignored)
    code, junit, _err = cli(demo_repo, "--now", at(), "gate", "--format", "junit")
    root = ET.fromstring(junit)
    assert code == 1 and root.get("skipped") == str(len(ignored))
    suite = root.find("testsuite[@name='policy']")
    assert suite is not None and suite.get("skipped") == str(len(ignored))
    assert suite.get("failures") == "0"
    skipped = [(case, case.find("skipped")) for case in suite.findall("testcase")]
    assert [s.get("message") for _c, s in skipped if s is not None] == [
        f"IGNORED workbench.toml:{i['line']}:{i['column']}: {i['message']}" for i in ignored
    ]
    assert len({c.get("name") for c, _s in skipped}) == len(ignored)  # none folds into another
    assert all(c.get("file") == "workbench.toml" for c, _s in skipped)
    # Every other testsuite is as before: the loosening changed no verdict.
    was = ET.fromstring(before)
    assert was.get("skipped") == "0" and was.find("testsuite[@name='policy']") is None
    assert (root.get("failures"), root.get("tests")) == (
        was.get("failures"),
        str(int(was.get("tests") or 0) + len(ignored)),
    )
    code, sarif, _err = cli(demo_repo, "--now", at(), "gate", "--format", "sarif")
    run = json.loads(sarif)["runs"][0]
    warned = [r for r in run["results"] if r["ruleId"] == "policy_ignored"]
    assert code == 1 and len(warned) == len(ignored)
    assert {r["level"] for r in warned} == {"warning"} and {r["kind"] for r in warned} == {"fail"}
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == "policy_ignored" for r in warned)
    regions = [r["locations"][0]["physicalLocation"] for r in warned]
    assert [(p["artifactLocation"]["uri"], p["region"]["startLine"]) for p in regions] == [
        ("workbench.toml", i["line"]) for i in ignored
    ]
    # SARIF plain text escapes square brackets ("[gate] deny"), so no text becomes a link.
    said = [i["message"].replace("[", "\\[").replace("]", "\\]") for i in ignored]
    assert all(m in r["message"]["text"] for m, r in zip(said, warned, strict=True))
    notes = run["invocations"][0]["toolConfigurationNotifications"]
    assert [n["level"] for n in notes] == ["warning"] * len(ignored)
    assert run["invocations"][0]["properties"] == {"gatePassed": False}


def test_unsigned_workbench_toml_cannot_narrow_gate_scope(demo_repo: Path) -> None:
    code, before = gate(demo_repo)
    commit_settings(
        demo_repo, gate__contracts='["nothing-*"]', gate__deny='["valid"]', gate__warn="[]"
    )
    code, after = gate(demo_repo)
    assert code == 1 and after["passed"] is False
    assert after["scope"] == before["scope"] and len(after["scope"]) == 5
    assert blocking(after) == blocking(before)
    assert after["policy"]["scope"] == [
        {"glob": "*", "from": ["signed floor"]},
        {"glob": "nothing-*", "from": ["workbench.toml"]},
    ]
    code, text = gate_text(demo_repo)
    assert "no contracts in scope" not in text and "gate PASSED" not in text
    scope_lines = [x for x in text.splitlines() if x.startswith("IGNORED") and "contracts" in x]
    assert scope_lines and "5 contract(s)" in scope_lines[0], text
    # `validate` points at the line that asked for it.
    warned = [w for w in settings_warnings(demo_repo) if w["field"] == "gate.contracts"]
    assert warned and warned[0]["line"] > 1


def test_unsigned_workbench_toml_cannot_demote_deny_to_warn(demo_repo: Path) -> None:
    code, before = gate(demo_repo)
    demoted = (
        '["approved", "review_overdue", "notice_unacknowledged", "violation_open", "page_test"]'
    )
    commit_settings(demo_repo, gate__deny='["valid"]', gate__warn=demoted)
    code, after = gate(demo_repo)
    assert code == 1 and blocking(after) == blocking(before)
    for rule in ("approved", "review_overdue", "notice_unacknowledged", "violation_open"):
        assert rule in after["policy"]["deny"] and rule not in after["policy"]["warn"]
    assert check(after, CLAIMS, "review_overdue")["severity"] == "deny"
    # Reported at its position in workbench.toml, as a warning: it changes nothing.
    warned = [w for w in settings_warnings(demo_repo) if w["code"] == "policy.floor-deny"]
    assert {w["message"].split()[0] for w in warned} >= {"approved", "review_overdue"}
    line = (demo_repo / "workbench.toml").read_text().splitlines()
    assert all(line[w["line"] - 1].startswith("warn = ") for w in warned)


# --- the defaults that decide verdicts ---------------------------------------------------------


def test_unsigned_evidence_max_age_loosening_is_clamped(demo_repo: Path) -> None:
    later = at(days=6)  # the demo's evidence is six days old: stale under P2D
    code, before = gate(demo_repo, later)
    stale = check(before, APPLICANT, "violation_open")
    assert stale["outcome"] == "fail" and "within 2d" in stale["message"]
    commit_settings(demo_repo, defaults__evidence_max_age='"P3650D"')
    code, after = gate(demo_repo, later)
    assert code == 1
    assert check(after, APPLICANT, "violation_open") == stale
    limits = after["policy"]["defaults"]["evidence_max_age"]
    assert limits == {
        "value": "P2D",
        "workbench_toml": "P3650D",
        "limit": "P2D",
        "from": "signed floor",
    }
    warned = [w for w in settings_warnings(demo_repo) if w["field"] == "defaults.evidence_max_age"]
    assert warned and "P2D" in warned[0]["message"]


def test_unsigned_page_sla_max_loosening_is_clamped(demo_repo: Path) -> None:
    path = demo_repo / "contracts" / f"{APPLICANT}.toml"
    path.write_text(path.read_text().replace('ack_sla = "PT30M"', 'ack_sla = "P30D"'))
    commit_settings(demo_repo, defaults__page_ack_sla_max='"P30D"')
    code, after = gate(demo_repo)
    page = check(after, APPLICANT, "page_test")
    assert page["outcome"] == "fail" and page["severity"] == "deny", page
    assert "longer than 1h" in page["message"]
    _code, out, _err = cli(demo_repo, "validate", "--json")
    slow = [p for p in json.loads(out)["problems"] if p["code"] == "escalation.slow"]
    assert slow and slow[0]["file"] == f"contracts/{APPLICANT}.toml"


def test_unsigned_ack_window_default_loosening_is_clamped(demo_repo: Path) -> None:
    # A tightening of the claims contract (no ack_window of its own: the default applies),
    # committed an hour after FIXED_NOW: ben.carter must acknowledge within 48 h.
    when = {"GIT_AUTHOR_DATE": at(1 / 24), "GIT_COMMITTER_DATE": at(1 / 24)}
    path = demo_repo / "contracts" / f"{CLAIMS}.toml"
    path.write_text(path.read_text().replace("min_pass_rate = 0.98", "min_pass_rate = 0.99"))
    git(demo_repo, "commit", "-qam", "Raise the escalation pass rate", env=when)
    later = at(days=4)
    code, before = gate(demo_repo, later)
    overdue = check(before, CLAIMS, "notice_unacknowledged")
    assert overdue["outcome"] == "fail" and "PT48H" in overdue["message"], overdue
    # Then the window is stretched after the fact, which would move the deadline back.
    commit_settings(demo_repo, defaults__ack_window='"P365D"')
    code, after = gate(demo_repo, later)
    assert check(after, CLAIMS, "notice_unacknowledged") == overdue
    _code, out, _err = cli(demo_repo, "--now", later, "notices", "--contract", CLAIMS, "--json")
    assert '"PT48H"' in out and "P365D" not in out


def test_unsigned_review_cadence_loosening_is_clamped(demo_repo: Path) -> None:
    code, before = gate(demo_repo)
    overdue = check(before, CLAIMS, "review_overdue")
    assert overdue["outcome"] == "fail"
    commit_settings(
        demo_repo,
        defaults__review_cadence='"P100Y"',
        defaults__first_review_after='"P100Y"',
        defaults__contact_check='"P100Y"',
    )
    code, after = gate(demo_repo)
    assert check(after, CLAIMS, "review_overdue") == overdue
    fields = {w["field"] for w in settings_warnings(demo_repo)}
    assert {
        "defaults.review_cadence",
        "defaults.first_review_after",
        "defaults.contact_check",
    } <= fields
    _code, out, _err = cli(demo_repo, "--now", at(), "reviews", "--json")
    claims = [r for r in json.loads(out) if r["contract"] == CLAIMS]
    assert claims and all(r["state"] == "overdue" for r in claims)


def test_unsigned_contract_value_beyond_the_limit_is_clamped(demo_repo: Path) -> None:
    """A contract's own window is co-signed, but still never looser than the signed limit:
    the same rule as the defaults, flagged at the contract's key."""
    path = demo_repo / "contracts" / f"{CLAIMS}.toml"
    text = path.read_text().replace(
        "[change_protocol]\n",
        '[review]\nfirst_after = "P100Y"\ncontact_check = "P100Y"\n\n[change_protocol]\n',
    )
    path.write_text(text)
    git(demo_repo, "commit", "-qam", "Review the claims seam less often")
    code, after = gate(demo_repo)
    assert check(after, CLAIMS, "review_overdue")["outcome"] == "fail"
    _code, out, _err = cli(demo_repo, "validate", "--json")
    limited = [p for p in json.loads(out)["problems"] if p["code"] == "contract.beyond-limit"]
    assert {p["field"] for p in limited} == {"review.first_after", "review.contact_check"}


# --- what still works: the admins' signed change, and tightening ---------------------------


def test_signed_policy_change_by_admins_takes_effect(demo_repo: Path) -> None:
    code, out, err = cli(
        demo_repo,
        "registry",
        "floor",
        "--deny",
        "approved",
        "--deny",
        "review_overdue",
        "--deny",
        "violation_open",
        "--deny",
        "page_test",
        "--warn",
        "notice_unacknowledged",
        "--limit",
        "first_review_after=P365D",
        "--limit",
        "contact_check=P365D",
        who=ADMINS[0],
    )
    assert code == 0, err
    # Proposed but not signed: nothing changes yet.
    commit_settings(
        demo_repo,
        gate__deny='["valid", "approved", "review_overdue", "violation_open", "page_test"]',
        gate__warn='["notice_unacknowledged", "action_overdue", "diagnostic_mismatch"]',
        defaults__first_review_after='"P365D"',
        defaults__contact_check='"P365D"',
    )
    code, pending = gate(demo_repo)
    assert check(pending, POLICY, "notice_unacknowledged")["severity"] == "deny"
    assert check(pending, CLAIMS, "review_overdue")["outcome"] == "fail"
    assert pending["policy"]["floor"]["source"] == "registry v1"
    for admin in ADMINS:
        code, _out, err = cli(demo_repo, "registry", "sign", who=admin)
        assert code == 0, err
    code, after = gate(demo_repo)
    assert after["policy"]["floor"]["source"] == "registry v2"
    notice = check(after, POLICY, "notice_unacknowledged")
    assert notice["severity"] == "warn" and notice["outcome"] == "fail"
    assert after["policy"]["rules"]["notice_unacknowledged"] == {
        "severity": "warn",
        "from": ["signed floor", "workbench.toml"],
    }
    assert check(after, CLAIMS, "review_overdue")["outcome"] == "pass"
    assert after["policy"]["ignored"] == []
    assert (POLICY, "notice_unacknowledged") not in blocking(after)
    # The floor is part of the signed registry: shown, and verifiable like the rest.
    code, out, _err = cli(demo_repo, "registry", "show", "--json")
    shown = json.loads(out)
    assert shown["floor"]["gate"]["warn"] == ["notice_unacknowledged"]
    assert shown["floor"]["limits"]["first_review_after"] == "P365D"


def test_hand_edited_policy_floor_without_signatures_changes_nothing(demo_repo: Path) -> None:
    """keys/policy.toml is read from the verified registry head, never from the live file."""
    policy = demo_repo / "keys" / "policy.toml"
    policy.write_text(
        policy.read_text() + "\n[gate]\ndeny = []\nwarn = []\ncontracts = []\n\n"
        '[limits]\nevidence_max_age = "P3650D"\n'
    )
    git(demo_repo, "commit", "-qam", "Relax the policy")
    commit_settings(demo_repo, gate__deny='["valid"]', gate__warn="[]")
    code, after = gate(demo_repo, at(days=6))
    assert code == 1
    assert after["policy"]["floor"]["source"] == "registry v1"
    assert "approved" in after["policy"]["deny"]
    assert check(after, APPLICANT, "violation_open")["outcome"] == "fail"


def test_workbench_toml_may_tighten(demo_repo: Path) -> None:
    commit_settings(
        demo_repo,
        gate__deny='["valid", "approved", "review_overdue", "notice_unacknowledged", '
        '"violation_open", "page_test", "clock_expired", "diagnostic_mismatch"]',
        gate__warn='["action_overdue"]',
        defaults__evidence_max_age='"PT1H"',
    )
    code, after = gate(demo_repo)
    assert code == 1
    diag = check(after, POLICY, "diagnostic_mismatch")
    assert diag["severity"] == "deny" and diag["outcome"] == "fail"
    assert after["policy"]["rules"]["diagnostic_mismatch"] == {
        "severity": "deny",
        "from": ["workbench.toml"],
    }
    # The demo's evidence is more than an hour old at FIXED_NOW: no longer current.
    stale = check(after, APPLICANT, "violation_open")
    assert stale["outcome"] == "fail" and "within 1h" in stale["message"], stale
    assert after["policy"]["defaults"]["evidence_max_age"]["from"] == "workbench.toml"
    assert after["policy"]["ignored"] == []
    assert settings_warnings(demo_repo) == []


def test_bundle_recompute_judges_the_page_test_under_the_floor_the_run_used(
    demo_repo: Path, tmp_path: Path
) -> None:
    """An evaluation under a signed, looser page SLA records which signed policy it used;
    `verify-bundle --recompute` judges the page test again under that same floor."""
    code, _out, err = cli(
        demo_repo, "registry", "floor", "--limit", "page_ack_sla_max=PT4H", who=ADMINS[0]
    )
    assert code == 0, err
    for admin in ADMINS:
        assert cli(demo_repo, "registry", "sign", who=admin)[0] == 0
    path = demo_repo / "contracts" / f"{APPLICANT}.toml"
    path.write_text(path.read_text().replace('ack_sla = "PT30M"', 'ack_sla = "PT2H"'))
    commit_settings(demo_repo, "Page within two hours", defaults__page_ack_sla_max='"PT4H"')
    code, out, err = cli(demo_repo, "evaluate", who="ci.pipeline")  # the demo's runner
    run = re.search(r"findings/(\S+\.json)", out + err)
    assert run, out + err
    bundle = tmp_path / "b.tar.gz"
    code, _out, err = cli(demo_repo, "export-bundle", "--out", str(bundle), who=ADMINS[0])
    assert code == 0, err
    root = cli(demo_repo, "registry", "root")[1].strip()
    code, out, err = cli(demo_repo, "verify-bundle", str(bundle), "--root", root, "--recompute")
    line = next(x for x in out.splitlines() if run.group(1) in x and f"{APPLICANT}/page-test" in x)
    assert line.startswith("OK") and ": pass (the page test" in line, line
