"""Verdicts that cannot be fooled: invalid contracts and inert rules (issue 12, items 3 and 7).

Each test is an attack or a rule that used to be ignored, reproduced against the demo repo
through the real CLI entry point (and the service the app calls), with real keys, git and
DuckDB. Commands run at the real clock, after the demo's (fixed, earlier) history: acts are
stamped with the real time, and a what-if `--now` refuses them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import FIXED_NOW
from workbench.repo.git import Author, GitRepo
from workbench.service.core import Workbench

CLAIMS = "claims-agent-to-claims-product"  # aisha.rahman (provider lead) / ben.carter
CREDIT = "credit-model-to-loan-decisioning"  # ravi.iyer / sofia.marquez; threshold term
APPLICANT = "applicant-data-to-credit-model"  # dana.okafor / ravi.iyer; sam.ortiz is paged
POLICY = "policy-data-to-claims-agent"  # its lineage term is owned by marcus.webb, who left
RULES = {
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
}


# --- helpers ---------------------------------------------------------------------------------


def run(repo: Path, *args: str, who: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in-process (same argv, exit code, stdout and stderr as a real run)."""
    from workbench.cli.main import main

    actor = ["--as", who] if who else []
    argv = ["--repo", str(repo), *actor, *args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def path_of(cid: str) -> str:
    return f"contracts/{cid}.toml"


def read(repo: Path, path: str) -> str:
    return (repo / path).read_text(encoding="utf-8")


def replaced(repo: Path, path: str, old: str, new: str) -> bytes:
    text = read(repo, path)
    assert old in text, f"{old!r} not in {path}"
    return text.replace(old, new, 1).encode("utf-8")


def raw_commit(repo: Path, changes: dict[str, bytes | None]) -> str:
    """A commit made with plain git, bypassing every check of the service (an insider)."""
    commit = GitRepo(repo).commit_files(
        changes, "tamper\n", Author("Mallory", "mallory@evil.example"), when=datetime.now(UTC)
    )
    for path, data in changes.items():
        target = repo / path
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return commit


def commit_as(repo: Path, person: str, changes: dict[str, bytes | None], message: str) -> str:
    """A commit through the one write door, as `person` (signed with their demo key)."""
    return Workbench(repo, actor=person).commit(changes, message + "\n")


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first `needle` in `text`."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def gate_json(repo: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = run(repo, "gate", "--format", "json", *args)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def checks_of(data: dict, cid: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["rule"]: c for c in data["checks"] if c["contract"] == cid}


def verdict_of(repo: Path, cid: str) -> dict:  # type: ignore[type-arg]
    """`workbench verify ID --json`: the contract's co-signature verdict."""
    [verdict] = json.loads(run(repo, "verify", cid, "--json").stdout)["contracts"]
    return verdict


def problems_of(repo: Path, path: str) -> list[dict]:  # type: ignore[type-arg]
    r = run(repo, "validate", "--json")
    return [p for p in json.loads(r.stdout)["problems"] if p["file"] == path]


# --- item 3: invalid contracts never leave the gate ---------------------------------------------


def test_unparseable_contract_fails_gate_not_drops_out(demo_repo: Path) -> None:
    path = path_of(CLAIMS)
    broken = replaced(demo_repo, path, 'title = "Claims agent', 'title = "Claims agent\n')
    raw_commit(demo_repo, {path: broken})
    [problem] = problems_of(demo_repo, path)
    where = f"{path}:{problem['line']}:{problem['column']}"

    code, data = gate_json(demo_repo, "--changed-since", "HEAD~1")
    assert code == 1 and data["passed"] is False
    assert data["scope"] == [CLAIMS]
    checks = checks_of(data, CLAIMS)
    assert set(checks) == RULES
    valid = checks["valid"]
    assert valid["outcome"] == "fail" and valid["severity"] == "deny"
    assert where in valid["message"] and "TOML syntax error" in valid["message"]
    assert valid["location"] == {
        "path": path,
        "line": problem["line"],
        "column": problem["column"],
    }
    # The other rules cannot be judged on a file that does not parse: they fail closed.
    for rule in RULES - {"valid"}:
        assert checks[rule]["outcome"] == "fail", rule
        assert "cannot evaluate" in checks[rule]["message"], rule

    text = run(demo_repo, "gate", "--changed-since", "HEAD~1")
    assert text.returncode == 1 and "No contracts in scope" not in text.stdout
    assert "FAIL  valid" in text.stdout and where in text.stdout
    junit = ET.fromstring(run(demo_repo, "gate", "--format", "junit").stdout)
    [case] = [
        c
        for c in junit.iter("testcase")
        if c.get("name") == "valid" and CLAIMS in c.get("classname")
    ]
    assert case.find("failure") is not None and case.get("line") == str(problem["line"])
    sarif = json.loads(run(demo_repo, "gate", "--format", "sarif").stdout)
    [result] = [
        r
        for r in sarif["runs"][0]["results"]
        if r["ruleId"] == "valid" and r["properties"]["contract"] == CLAIMS
    ]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert result["level"] == "error" and region["startLine"] == problem["line"]
    assert region["startColumn"] == problem["column"]

    # Without --changed-since the broken file is in scope too.
    code, full = gate_json(demo_repo)
    assert CLAIMS in full["scope"] and checks_of(full, CLAIMS)["valid"]["outcome"] == "fail"


def test_schema_invalid_ack_window_fails_gate(demo_repo: Path) -> None:
    path = path_of(APPLICANT)
    data = replaced(demo_repo, path, 'ack_window = "PT48H"', 'ack_window = "48 hours"')
    raw_commit(demo_repo, {path: data})
    line, column = position(data.decode(), '"48 hours"')
    [problem] = problems_of(demo_repo, path)
    assert (problem["line"], problem["field"]) == (line, "change_protocol.ack_window")

    code, gate = gate_json(demo_repo, "--changed-since", "HEAD~1")
    assert code == 1 and gate["scope"] == [APPLICANT]
    valid = checks_of(gate, APPLICANT)["valid"]
    assert valid["outcome"] == "fail"
    assert f"{path}:{problem['line']}:{problem['column']}" in valid["message"]
    assert "change_protocol.ack_window" in valid["message"]
    assert valid["location"]["line"] == line
    # the file fails the schema, yet still names who can fix it: its owner and leads
    assert valid["fixers"] == ["dana.okafor", "ravi.iyer"]


def test_team_as_owner_cannot_be_cosigned(demo_repo: Path) -> None:
    from workbench.signing import keys as keymod
    from workbench.signing.statement import (
        COSIGN_PREDICATE,
        ChainLink,
        ContractRef,
        CosignPredicate,
        write_statement,
    )

    path = path_of(CLAIMS)
    text = read(demo_repo, path)
    text = text.replace('owner = "aisha.rahman"', 'owner = "claims-agent"', 1)  # a team
    text = text.replace('primary = "noah.kim"', 'primary = "the team"')
    text = text.replace('owner = "ben.carter"', 'owner = "TBD"')
    commit_as(demo_repo, "aisha.rahman", {path: text.encode()}, "Hand the seam to the team")
    problems = problems_of(demo_repo, path)
    assert {(p["field"], p["code"]) for p in problems} == {
        ("owner", "owner.team"),
        ("escalation.primary", "owner.placeholder"),
        ("terms[0].owner", "owner.placeholder"),
    }
    wheres = [f"{path}:{p['line']}:{p['column']}" for p in problems]

    # The leads are refused, with every problem and its position.
    for lead in ("aisha.rahman", "ben.carter"):
        r = run(demo_repo, "sign", CLAIMS, who=lead)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "does not validate" in r.stderr
        assert all(w in r.stderr for w in wheres), r.stderr

    # A hostile lead signs by hand anyway (the statement and both signatures are real):
    # the co-signature verdict is approved, and the gate still fails on `valid`.
    svc = Workbench(demo_repo).signing
    head = svc.registry_state().head
    v1 = (demo_repo / f"attestations/{CLAIMS}/v1.statement.json").read_bytes()
    blob = (demo_repo / path).read_bytes()
    predicate = CosignPredicate(
        repository="5f0c2a4e-8d1b-4c7a-9e36-2b7d4f1a9c58",
        contract=ContractRef(
            id=CLAIMS,
            version=2,
            previous=ChainLink(version=1, statementSha256=hashlib.sha256(v1).hexdigest()),
        ),
        registry=head.link(),
        decision="approve",
    )
    statement = write_statement(COSIGN_PREDICATE, path, hashlib.sha256(blob).hexdigest(), predicate)
    changes: dict[str, bytes | None] = {f"attestations/{CLAIMS}/v2.statement.json": statement}
    for lead in ("aisha.rahman", "ben.carter"):
        key = demo_repo / ".git/handshake-workbench/demo-keys" / f"{lead}_ed25519"
        changes[f"attestations/{CLAIMS}/v2.{lead}.sig"] = keymod.FileSigner(key, None).sign(
            statement, head.namespaces.contract
        )
    raw_commit(demo_repo, changes)
    assert verdict_of(demo_repo, CLAIMS)["state"] == "approved"

    code, gate = gate_json(demo_repo)
    checks = checks_of(gate, CLAIMS)
    assert code == 1 and checks["approved"]["outcome"] == "pass"
    assert checks["valid"]["outcome"] == "fail" and checks["valid"]["severity"] == "deny"
    assert all(w in checks["valid"]["message"] for w in wheres)
    assert checks["valid"]["fixers"]  # named people, never "the team"
    assert "claims-agent" not in checks["valid"]["fixers"]


def test_sign_refuses_invalid_contract(demo_repo: Path) -> None:
    """The demo's policy seam still names marcus.webb, who left, as a term owner."""
    from workbench.service.errors import InvalidContract

    path = path_of(POLICY)
    [problem] = problems_of(demo_repo, path)
    where = f"{path}:{problem['line']}:{problem['column']}"
    before = subprocess.run(
        ["git", "-C", str(demo_repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout

    for args, who in (
        (("sign", POLICY), "aisha.rahman"),
        (("ack", POLICY, "--notice", "1"), "aisha.rahman"),
        (("review", POLICY), "tomas.lindqvist"),
    ):
        r = run(demo_repo, *args, who=who)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "does not validate" in r.stderr and where in r.stderr, r.stderr
        assert "marcus.webb" in r.stderr and "Traceback" not in r.stderr

    # The service methods the app calls refuse the same way, with the problems attached.
    wb = Workbench(demo_repo, actor="aisha.rahman")
    with pytest.raises(InvalidContract) as refused:
        wb.signing.contracts.preview(POLICY)
    assert [p.line for p in refused.value.problems] == [problem["line"]]
    with pytest.raises(InvalidContract):
        wb.obligations.notices.acknowledge(POLICY, "1")
    tomas = Workbench(demo_repo, actor="tomas.lindqvist")
    with pytest.raises(InvalidContract):
        tomas.obligations.reviews.complete(POLICY)
    after = subprocess.run(
        ["git", "-C", str(demo_repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    assert before == after  # nothing was written

    # Once the lineage term is handed to the successor, the same acts go through.
    fixed = replaced(demo_repo, path, 'owner = "marcus.webb"', 'owner = "yuki.tanaka"')
    commit_as(demo_repo, "tomas.lindqvist", {path: fixed}, "Hand the lineage term to Yuki")
    assert run(demo_repo, "sign", POLICY, who="tomas.lindqvist").returncode == 0
    assert run(demo_repo, "sign", POLICY, who="aisha.rahman").returncode == 0
    assert run(demo_repo, "ack", POLICY, "--notice", "1", who="aisha.rahman").returncode == 0


def test_valid_rule_is_enforced_whatever_the_policy_says(demo_repo: Path) -> None:
    # A [gate] deny list written before the rule existed does not name it.
    settings = replaced(demo_repo, "workbench.toml", 'deny = ["valid", ', "deny = [")
    commit_as(demo_repo, "erin.walsh", {"workbench.toml": settings}, "Gate policy")
    assert '"valid"' not in read(demo_repo, "workbench.toml")
    code, data = gate_json(demo_repo)
    assert code == 1 and data["policy"]["deny"][0] == "valid"
    for cid in data["scope"]:
        assert checks_of(data, cid)["valid"]["severity"] == "deny"
    assert checks_of(data, POLICY)["valid"]["outcome"] == "fail"
    assert checks_of(data, CREDIT)["valid"]["outcome"] == "pass"
    assert "marcus.webb" in checks_of(data, POLICY)["valid"]["message"]

    # Demoting it to a warning is refused with the position of the setting.
    settings = replaced(
        demo_repo,
        "workbench.toml",
        'warn = ["action_overdue", "diagnostic_mismatch"]',
        'warn = ["action_overdue", "diagnostic_mismatch", "valid"]',
    )
    raw_commit(demo_repo, {"workbench.toml": settings})
    r = run(demo_repo, "validate", "--json")
    [problem] = [p for p in json.loads(r.stdout)["problems"] if p["file"] == "workbench.toml"]
    assert problem["field"].startswith("gate.warn") and "valid" in problem["message"]
    assert run(demo_repo, "gate").returncode == 2


def test_changed_since_keeps_deleted_and_stray_contract_files_in_scope(demo_repo: Path) -> None:
    raw_commit(demo_repo, {path_of(CLAIMS): None, "contracts/notes.md": b"# not a contract\n"})
    code, data = gate_json(demo_repo, "--changed-since", "HEAD~1")
    assert code == 1 and sorted(data["scope"]) == sorted([CLAIMS, "notes.md"])
    assert "deleted" in checks_of(data, CLAIMS)["valid"]["message"]
    assert "not a contract" in checks_of(data, "notes.md")["valid"]["message"]
    [problem] = problems_of(demo_repo, "contracts/notes.md")
    assert problem["severity"] == "error"


def test_validator_names_individuals_only(demo_repo: Path) -> None:
    """Every field that names someone accountable resolves to one current individual."""
    from workbench.model.state import load_state

    files = Workbench(demo_repo, now=FIXED_NOW).files()
    people = files["keys/people.toml"].decode()
    people += (
        '\n[[people]]\nid = "claims-oncall"\nname = "Claims Agent ML"\n'
        'email = "claims-oncall@meridian.example"\nteam = "claims-agent"\n'
        '\n[[people]]\nid = "nobody"\nname = "Nobody"\n'
        'email = "nobody@meridian.example"\nteam = "claims-agent"\n'
    )
    people = people.replace(
        'id = "lena.fischer"', 'id = "lena.fischer"\nleft = 2026-11-01\nreplaced_by = "ravi.iyer"'
    )
    files["keys/people.toml"] = people.encode()
    credit = (
        files[path_of(CREDIT)]
        .decode()
        .replace('change_cosigner = "ravi.iyer"', 'change_cosigner = "lena.fischer"')
    )
    files[path_of(CREDIT)] = credit.encode()
    state = load_state(files, FIXED_NOW.date())
    errors = [(p.file, p.field, p.code, p.message) for p in state.errors]
    # a "person" who is really a team, or a placeholder with an entry in the registry
    assert any(c == "person.not-individual" and "claims-oncall" in m for _f, _x, c, m in errors)
    assert any(c == "person.not-individual" and "nobody" in m for _f, _x, c, m in errors)
    # a change co-signer who has left can no longer co-sign: an error naming the successor
    [cosigner] = [e for e in errors if e[1] == "terms[2].change_cosigner"]
    assert cosigner[2] == "person.departed" and "ravi.iyer" in cosigner[3]


# --- item 7: rules that are written but inert -------------------------------------------------


def required_roles(repo: Path, cid: str) -> dict[str, list[str]]:
    return verdict_of(repo, cid)["required"]


def sign(repo: Path, cid: str, *people: str) -> None:
    for person in people:
        r = run(repo, "sign", cid, who=person)
        assert r.returncode == 0, r.stdout + r.stderr


def test_change_cosigner_required_for_term_change(demo_repo: Path, tmp_path: Path) -> None:
    path = path_of(CREDIT)
    # v2: the product lead names the model's validation engineer as the threshold's change
    # co-signer. She is not a lead, so before this rule nobody asked for her signature.
    v2 = replaced(
        demo_repo, path, 'change_cosigner = "ravi.iyer"', 'change_cosigner = "lena.fischer"'
    )
    commit_as(demo_repo, "sofia.marquez", {path: v2}, "Lena co-signs threshold changes")
    roles = required_roles(demo_repo, CREDIT)
    assert any("change co-signer" in r and "approval-threshold" in r for r in roles["lena.fischer"])
    # the co-signer named by the approved version must agree to being replaced
    assert any("change co-signer" in r for r in roles["ravi.iyer"])
    sign(demo_repo, CREDIT, "ravi.iyer", "sofia.marquez")
    v = verdict_of(demo_repo, CREDIT)
    assert v["state"] == "pending" and v["missing"] == ["lena.fischer"]

    # Attack: bury the unsigned change under a comment-only version; the leads sign it.
    v3 = (demo_repo / path).read_bytes() + b"# reviewed\n"
    commit_as(demo_repo, "sofia.marquez", {path: v3}, "Comment")
    sign(demo_repo, CREDIT, "ravi.iyer", "sofia.marquez")
    v = verdict_of(demo_repo, CREDIT)
    assert v["state"] == "pending" and v["missing"] == ["lena.fischer"], v["reason"]
    sign(demo_repo, CREDIT, "lena.fischer")
    assert verdict_of(demo_repo, CREDIT)["state"] == "approved"

    # A version that leaves the term alone does not need her...
    v4 = (demo_repo / path).read_bytes() + b"# reviewed again\n"
    commit_as(demo_repo, "sofia.marquez", {path: v4}, "Comment")
    assert "lena.fischer" not in required_roles(demo_repo, CREDIT)
    sign(demo_repo, CREDIT, "ravi.iyer", "sofia.marquez")
    assert verdict_of(demo_repo, CREDIT)["state"] == "approved"

    # ...and one that moves the threshold does, although she leads nothing.
    v5 = replaced(demo_repo, path, "value = 0.18", "value = 0.24")
    commit_as(demo_repo, "sofia.marquez", {path: v5}, "Move the threshold")
    sign(demo_repo, CREDIT, "ravi.iyer", "sofia.marquez")
    v = verdict_of(demo_repo, CREDIT)
    assert v["state"] == "pending" and v["missing"] == ["lena.fischer"]
    code, gate = gate_json(demo_repo)
    assert checks_of(gate, CREDIT)["approved"]["fixers"] == ["lena.fischer"]

    # An audit bundle carries each version's required signers; both verifiers recompute
    # them from the exported versions and agree (v2, v3 and v5 need her, v4 does not).
    from tests.bundle.conftest import run_verify_sh, signer
    from workbench.bundle.verify import verify_bundle
    from workbench.service.bundle import ExportOptions

    wb = Workbench(demo_repo, actor="grace.whitfield")
    out = demo_repo.parent / "audit.tar.gz"
    wb.bundles.export(out, ExportOptions(), signer=signer(demo_repo, "grace.whitfield"))
    root = wb.signing.registry_state().root_sha256
    report = verify_bundle(out.read_bytes(), root=root)
    assert report.ok, [c for c in report.checks if c.severity == "fail"]
    [credit] = [c for c in report.contracts if c.contract_id == CREDIT]
    lena = "lena.fischer@meridian.example"
    assert [lena in v.required for v in credit.versions] == [False, True, True, False, True]
    assert credit.state == "pending" and credit.versions[-1].missing == [lena]
    checked = run_verify_sh(out.read_bytes(), root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{CREDIT}: chain v1..v5 intact; pending (missing: {lena}" in checked.stdout


def shifted_scores(captured: datetime) -> str:
    """A live score sample far from the reference distribution (PSI well above 0.25)."""
    rows = [
        f"{(captured - timedelta(minutes=2 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')},"
        f"{0.45 + (i % 10) / 100:.4f},retail\n"
        for i in range(300)
    ]
    return "scored_at,score,segment\n" + "".join(rows)


def test_drift_failure_opens_named_threshold_review(demo_repo: Path, tmp_path: Path) -> None:
    # Before: the threshold review is not due (the shift term passes in the demo).
    reviews = json.loads(run(demo_repo, "reviews", "--json").stdout)
    assert not [r for r in reviews if r["contract"] == CREDIT and r["kind"] == "term-review"]

    captured = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    samples = tmp_path / "shifted.csv"
    samples.write_text(shifted_scores(captured), encoding="utf-8")
    r = run(
        demo_repo,
        "evidence",
        "add",
        str(samples),
        "--kind",
        "score_samples",
        "--contract",
        CREDIT,
        "--term",
        "score-shift",
        "--captured-at",
        captured.strftime("%Y-%m-%dT%H:%M:%SZ"),
        who="lena.fischer",
    )
    assert r.returncode == 0, r.stderr
    r = run(demo_repo, "evaluate", "--contract", CREDIT, who="ci.pipeline")  # the runner
    assert "score-shift" in r.stdout and r.returncode == 1

    reviews = json.loads(run(demo_repo, "reviews", "--json").stdout)
    [review] = [r for r in reviews if r["contract"] == CREDIT and r["kind"] == "term-review"]
    assert review["term"] == "approval-threshold" and review["state"] == "overdue"
    assert "score-shift" in review["basis"]
    assert "--term approval-threshold" in review["action"]
    assert set(review["reviewers"]) >= {"sofia.marquez", "ravi.iyer"}
    due = json.loads(run(demo_repo, "due", "--json").stdout)
    assert any(i["kind"] == "term-review" and i["ref"] == "approval-threshold" for i in due)
    code, gate = gate_json(demo_repo)
    check = checks_of(gate, CREDIT)["review_overdue"]
    assert check["outcome"] == "fail" and "approval-threshold" in check["message"]

    # The product lead reviews the threshold: the review is settled, the gate's rule passes.
    r = run(demo_repo, "review", CREDIT, "--term", "approval-threshold", who="sofia.marquez")
    assert r.returncode == 0, r.stderr
    record = tomllib_load(demo_repo, json.loads(run(demo_repo, "reviews", "--json").stdout))
    assert record["term"] == "approval-threshold"
    code, gate = gate_json(demo_repo)
    assert checks_of(gate, CREDIT)["review_overdue"]["outcome"] == "pass"
    # Someone who is neither a lead, the owner nor the term's owner or co-signer may not.
    r = run(demo_repo, "review", CREDIT, "--term", "approval-threshold", who="omar.haddad")
    assert r.returncode == 2


def tomllib_load(repo: Path, reviews: list[dict]) -> dict:  # type: ignore[type-arg]
    import tomllib

    [review] = [r for r in reviews if r["contract"] == CREDIT and r["kind"] == "term-review"]
    assert review["state"] == "ok"
    return tomllib.loads(read(repo, review["last"]["path"]))


def test_delegate_acknowledges_for_the_person_they_stand_in_for(demo_repo: Path) -> None:

    path = path_of(APPLICANT)
    # The model lead asks the data side's on-call engineer to acknowledge changes too.
    data = replaced(
        demo_repo, path, 'notify = ["ravi.iyer"]', 'notify = ["ravi.iyer", "sam.ortiz"]'
    )
    commit_as(demo_repo, "ravi.iyer", {path: data}, "Notify the on-call engineer of changes")
    notices = json.loads(run(demo_repo, "notices", "--json", "--contract", APPLICANT).stdout)
    latest = notices[-1]
    assert {r["person"] for r in latest["requirements"]} == {"dana.okafor", "sam.ortiz"}
    number = str(latest["number"])

    # Someone who is not sam's delegate is refused.
    r = run(
        demo_repo, "ack", APPLICANT, "--notice", number, "--for", "sam.ortiz", who="lena.fischer"
    )
    assert r.returncode == 2 and "delegate" in r.stderr
    # dana.okafor is sam.ortiz's delegate (keys/people.toml) and holds more authority.
    r = run(
        demo_repo, "ack", APPLICANT, "--notice", number, "--for", "sam.ortiz", who="dana.okafor"
    )
    assert r.returncode == 0, r.stderr
    notices = json.loads(run(demo_repo, "notices", "--json", "--contract", APPLICANT).stdout)
    [sam] = [r for r in notices[-1]["requirements"] if r["person"] == "sam.ortiz"]
    assert sam["state"] == "done" and sam["record"]["by"] == "dana.okafor"
    [dana] = [r for r in notices[-1]["requirements"] if r["person"] == "dana.okafor"]
    assert dana["state"] == "pending"  # acting for sam is not acknowledging for herself
    code, gate = gate_json(demo_repo)
    assert checks_of(gate, APPLICANT)["records_valid"]["outcome"] == "pass"

    # A record in sam's name signed by someone he never delegated to does not count (the
    # valid one is withdrawn first: records are one file per author and moment, so the
    # forgery no longer overwrites it).
    stem = sam["record"]["path"].removesuffix(".toml")
    commit_as(
        demo_repo,
        "dana.okafor",
        {f"{stem}{ext}": None for ext in (".toml", ".statement.json", ".sig")},
        "Withdraw the acknowledgement for sam",
    )
    wb = Workbench(demo_repo, actor="lena.fischer")
    svc = wb.obligations
    commit = notices[-1]["commit"]
    svc.records.write(
        f"acks/{APPLICANT}/{commit[:12]}.sam.ortiz.toml",
        {
            "contract": APPLICANT,
            "commit": commit,
            "person": "sam.ortiz",
            "by": "lena.fischer",
            "acknowledged": datetime.now(UTC),
        },
        APPLICANT,
        "lena.fischer",
        "acknowledge",
        "forged\n",
        None,
    )
    notices = json.loads(run(demo_repo, "notices", "--json", "--contract", APPLICANT).stdout)
    [sam] = [r for r in notices[-1]["requirements"] if r["person"] == "sam.ortiz"]
    assert sam["state"] == "pending"
    assert any("lena.fischer" in i and "delegate" in i for i in notices[-1]["ignored"])
    # ...and the gate says so: a record that claims a delegation it does not have.
    code, gate = gate_json(demo_repo)
    records = checks_of(gate, APPLICANT)["records_valid"]
    assert records["outcome"] == "fail" and "not sam.ortiz's delegate" in records["message"]


def test_delegation_needs_authority_and_a_current_principal(demo_repo: Path) -> None:
    from workbench.governance.delegation import delegation_problem
    from workbench.model.state import load_state

    files = Workbench(demo_repo, now=FIXED_NOW).files()
    people = files["keys/people.toml"].decode()
    # omar.haddad (member) as the delegate of sofia.marquez (lead): not enough authority.
    people = people.replace(
        'id = "sofia.marquez"', 'id = "sofia.marquez"\ndelegate = "omar.haddad"'
    )
    files["keys/people.toml"] = people.encode()
    state = load_state(files, FIXED_NOW.date())
    assert any(p.code == "person.delegate-authority" for p in state.errors)
    assert "authority" in (
        delegation_problem(state, "omar.haddad", "sofia.marquez", FIXED_NOW) or ""
    )
    assert delegation_problem(state, "dana.okafor", "sam.ortiz", FIXED_NOW) is None
    assert "delegate" in (delegation_problem(state, "ravi.iyer", "sam.ortiz", FIXED_NOW) or "")
    later = FIXED_NOW + timedelta(days=400)
    files["keys/people.toml"] = people.replace(
        'id = "sam.ortiz"', 'id = "sam.ortiz"\nleft = 2027-01-01'
    ).encode()
    gone = load_state(files, later.date())
    assert "left" in (delegation_problem(gone, "dana.okafor", "sam.ortiz", later) or "")


def test_delegate_review_counts_only_with_authority() -> None:
    from workbench.governance.records import ReviewRecord
    from workbench.governance.reviews import counting_reviews
    from workbench.model.state import load_state

    root = Path(__file__).resolve().parents[2]
    files = {
        p: (root / p).read_bytes()
        for p in ("workbench.toml", "keys/people.toml", path_of(APPLICANT))
    }
    # dana.okafor owns the seam; sam.ortiz's delegate is dana, not the other way round.
    files["keys/people.toml"] = (
        files["keys/people.toml"]
        .decode()
        .replace('id = "ravi.iyer"', 'id = "ravi.iyer"\ndelegate = "grace.whitfield"')
        .encode()
    )
    state = load_state(files, FIXED_NOW.date())
    contract = state.contracts[APPLICANT].contract

    def record(reviewer: str, by: str) -> ReviewRecord:
        return ReviewRecord(
            f"reviews/{APPLICANT}/x.{reviewer}.toml",
            APPLICANT,
            reviewer,
            FIXED_NOW,
            "",
            False,
            "no-change",
            "",
            "valid",
            by=by,
        )

    counted, ignored = counting_reviews(
        contract,
        [record("ravi.iyer", "grace.whitfield"), record("dana.okafor", "sam.ortiz")],
        state,
        True,
    )
    assert [r.by for r in counted] == ["grace.whitfield"]
    assert len(ignored) == 1 and "sam.ortiz" in ignored[0]


def test_defaults_ack_window_sets_notice_deadline(demo_repo: Path) -> None:
    settings = replaced(demo_repo, "workbench.toml", 'ack_window = "PT48H"', 'ack_window = "PT24H"')
    commit_as(demo_repo, "erin.walsh", {"workbench.toml": settings}, "Acknowledge within a day")
    # The claims seam sets no ack_window of its own: the repo's default applies.
    path = path_of(CLAIMS)
    assert "ack_window" not in read(demo_repo, path)
    data = replaced(demo_repo, path, 'ack_sla = "PT30M"', 'ack_sla = "PT15M"')
    commit_as(demo_repo, "aisha.rahman", {path: data}, "Page acknowledged within 15 minutes")
    [notice] = json.loads(run(demo_repo, "notices", "--json", "--contract", CLAIMS).stdout)
    assert notice["ack_window"] == "PT24H"
    made = datetime.fromisoformat(notice["time"].replace("Z", "+00:00"))
    assert notice["deadline"] == (made + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # A contract that names its own window keeps it.
    shown = run(demo_repo, "show", CLAIMS).stdout
    assert "acknowledge within 1d" in shown or "acknowledge within 24h" in shown


def test_page_test_backup_only_warns_everywhere(demo_repo: Path) -> None:
    from workbench.governance.paging import page_test

    people = replaced(
        demo_repo,
        "keys/people.toml",
        "joined = 2023-02-06",
        "joined = 2023-02-06\nleft = 2026-11-20",
    )
    commit_as(demo_repo, "erin.walsh", {"keys/people.toml": people}, "Sam Ortiz left")
    wb = Workbench(demo_repo)
    state = wb.state()
    pure = page_test(state, state.contracts[APPLICANT].contract, wb.now.date())
    assert pure.status == "warn" and pure.reachable == "dana.okafor"

    # the gate: a warning, not a pass and not a blocking failure
    code, gate = gate_json(demo_repo)
    check = checks_of(gate, APPLICANT)["page_test"]
    assert check["outcome"] == "warn" and "dana.okafor" in check["message"]
    assert check in [c for c in gate["checks"] if c["outcome"] != "pass"]
    assert "WARN  page_test" in run(demo_repo, "gate").stdout
    # evaluate's page finding
    r = run(demo_repo, "evaluate", "--contract", APPLICANT, "--json", who="ci.pipeline")
    run_data = json.loads(r.stdout)
    findings = run_data["findings"] if "findings" in run_data else run_data["run"]["findings"]
    [finding] = [f for f in findings if f["term"] == "page-test"]
    assert finding["status"] == "warn"
    assert wb.evidence.page_test(APPLICANT).status == "warn"
    # the seam map and `show`
    [view] = [v for v in wb.seam_map() if v.id == APPLICANT]
    assert view.marks.get("page") == "warn"
    shown = run(demo_repo, "show", APPLICANT).stdout
    assert "page test" in shown and "warn" in shown
    # the app: the contract screen and the gate preview
    from workbench.tui.screens.contracts import contract_content
    from workbench.tui.screens.gate import outcome_word

    doc = state.contracts[APPLICANT]
    screen = contract_content(doc, state, wb.now.date(), []).plain
    assert "page test" in screen and "warn" in screen and "dana.okafor" in screen
    [check] = [
        c
        for c in wb.obligations.gate.evaluate().checks
        if c.contract == APPLICANT and c.rule == "page_test"
    ]
    assert outcome_word(check) == "! warn" and not check.blocking


def test_page_test_has_one_implementation() -> None:
    import workbench.governance.gate as gate
    import workbench.service.evidence as evidence

    assert not hasattr(gate, "static_page_test")
    assert not hasattr(evidence, "_page_test")
