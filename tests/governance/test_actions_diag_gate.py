"""Action-item lint (with line/column), the diagnostic, and the gate's output formats."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from tests.governance.conftest import CREDIT1, NOW, state_of
from workbench.governance import gate as g
from workbench.governance.actions import action_statuses, load_actions, vague_reason
from workbench.governance.diagnostic import seam_diagnostics
from workbench.governance.reports import md_to_html, parse_quarter, parse_week
from workbench.model.policy_floor import GateFloor, SignedFloor

GOOD = """title = "Page sam.ortiz when feature-freshness p95 lag exceeds 12h"
seam = "applicant-data-to-credit-model"
term = "feature-freshness"
owner = "dana.okafor"
due = 2026-12-15
cadence = "P14D"
"""


def lint(text: str) -> list:  # type: ignore[type-arg]
    docs = load_actions({"actions/a1.toml": text.encode()}, state_of(), NOW.date())
    return docs[0].problems


def codes(text: str) -> list[tuple[str, int, int]]:
    return [(p.code, p.line, p.column) for p in lint(text)]


def test_a_good_item_lints_clean() -> None:
    assert lint(GOOD) == []


@pytest.mark.parametrize(
    ("old", "new", "code", "line", "column"),
    [
        ('owner = "dana.okafor"', 'owner = "the data team"', "owner.placeholder", 4, 1),
        ('owner = "dana.okafor"', 'owner = "applicant-data"', "owner.team", 4, 1),
        ('owner = "dana.okafor"', 'owner = "marcus.webb"', "person.departed", 4, 1),
        ('owner = "dana.okafor"', 'owner = "sam.ortiz"', "action.authority", 4, 1),
        ("due = 2026-12-15\n", "", "action.no-due", 1, 1),
        ('cadence = "P14D"\n', "", "action.no-cadence", 1, 1),
        (
            'title = "Page sam.ortiz when feature-freshness p95 lag exceeds 12h"',
            'title = "Resolve ownership ambiguity between data and model teams"',
            "action.vague",
            1,
            10,
        ),
        (
            'title = "Page sam.ortiz when feature-freshness p95 lag exceeds 12h"',
            'title = "Ensure alignment and improve monitoring"',
            "action.vague",
            1,
            10,
        ),
        ('seam = "applicant-data-to-credit-model"', 'seam = "nope"', "action.unknown-seam", 2, 1),
        ('term = "feature-freshness"', 'term = "nope"', "action.unknown-term", 3, 1),
    ],
)
def test_lint_errors_with_line_and_column(
    old: str, new: str, code: str, line: int, column: int
) -> None:
    found = codes(GOOD.replace(old, new))
    assert (code, line, column) in found, found


def test_authority_needed_is_checked_against_the_owner() -> None:
    text = GOOD + 'authority = "vp"\n'
    assert [p.code for p in lint(text)] == ["action.authority"]
    assert lint(text.replace("dana.okafor", "erin.walsh")) == []


def test_vague_heuristic() -> None:
    named = {"dana.okafor"}
    assert vague_reason("Improve monitoring", named) is not None
    assert vague_reason("Improve monitoring: alert when RISK-142 lag > 12h", named) is None
    assert vague_reason("Ensure alignment with dana.okafor", named) is None
    assert vague_reason("Add the `freshness_lag` alert", named) is None
    assert vague_reason("Add an alert on the lag", named) is None  # no vague verb


def test_conscious_closure() -> None:
    done = GOOD + 'status = "done"\n'
    assert [p.code for p in lint(done)] == ["action.closure"]
    done += '\n[closure]\nclosed = 2026-12-01\nevidence = "https://tickets.example/RISK-142"\n'
    assert lint(done) == []
    not_doing = GOOD + 'status = "not-doing"\n\n[closure]\nclosed = 2026-12-01\n'
    assert sorted(p.message.split(" ")[1] for p in lint(not_doing)) == ["needs", "needs"]
    ok = not_doing + 'reason = "superseded by INC-2050 item"\napprover = "erin.walsh"\n'
    assert lint(ok) == []


def test_an_item_is_overdue_from_the_day_after_its_due_date() -> None:
    st = state_of()
    docs = load_actions({"actions/a1.toml": GOOD.encode()}, st, NOW.date())
    edge = datetime(2026, 12, 16, 0, 0, tzinfo=NOW.tzinfo)
    assert action_statuses(docs, st, edge - timedelta(seconds=1))[0].state == "due-soon"
    assert action_statuses(docs, st, edge)[0].state == "overdue"
    assert action_statuses(docs, st, edge - timedelta(days=8))[0].state == "open"


ANSWERS = {
    "interface_owner": "dana.okafor",
    "promises": "features within 24h",
    "paged": "sam.ortiz",
    "page_within": "PT30M",
    "page_mechanism": "pagerduty:applicant-data-oncall",
    "violation_surfaces": "alert",
    "watched_by": "our-side",
    "change_channel": "slack:#seam",
    "change_ack_by": "ravi.iyer",
    "change_ack_within": "PT48H",
    "last_reviewed": "2026-09-01",
    "people_still_right": "yes",
}


def _answers(person: str, **changes: str) -> tuple[str, bytes]:
    from workbench.governance.diagnostic import render_answers, validate_answers

    parsed, errors = validate_answers({**ANSWERS, **changes})
    assert parsed is not None, errors
    return f"diagnostics/{CREDIT1}/{person}.toml", render_answers(CREDIT1, person, NOW, parsed)


def test_diagnostic_states() -> None:
    st = state_of()
    assert seam_diagnostics(st, {})[CREDIT1].state == "not-started"
    p = _answers("dana.okafor")
    assert seam_diagnostics(st, dict([p]))[CREDIT1].state == "incomplete"
    c = _answers("ravi.iyer", watched_by="other-side")  # Ravi: Dana's side watches it
    assert seam_diagnostics(st, dict([p, c]))[CREDIT1].state == "agrees"
    both_other = dict([_answers("dana.okafor", watched_by="other-side"), c])
    d = seam_diagnostics(st, both_other)[CREDIT1]
    assert d.state == "mismatch"
    assert "each side says the other side watches" in d.flags[0].message
    paged = dict([p, _answers("ravi.iyer", watched_by="other-side", paged="lena.fischer")])
    assert seam_diagnostics(st, paged)[CREDIT1].flags[0].key == "paged"
    stranger = dict([_answers("helen.brooks")])
    assert seam_diagnostics(st, stranger)[CREDIT1].problems


# SARIF 2.1.0: the required fields of the OASIS schema (sarifLog, run, tool, result).
SARIF_SHAPE = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "rules": {
                                        "type": "array",
                                        "items": {"type": "object", "required": ["id"]},
                                    }
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "message": {
                                    "type": "object",
                                    "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
                                },
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "kind": {
                                    "enum": [
                                        "notApplicable",
                                        "pass",
                                        "fail",
                                        "review",
                                        "open",
                                        "informational",
                                    ]
                                },
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "properties": {
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                            "startColumn": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                        },
                                                    }
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def _gate(**inputs):  # type: ignore[no-untyped-def]
    st = state_of()
    verdicts = {cid: g.VerdictInfo("approved", "ok") for cid in st.contracts}
    verdicts[CREDIT1] = g.VerdictInfo("stale", "changed", ("ravi.iyer",))
    base = {"verdicts": verdicts, "violations": {}, "record_flags": {}}
    base.update(inputs)
    return st, g.evaluate_gate(st, g.GateInputs(**base), NOW)


def test_gate_lists_passing_checks_and_names_who_can_fix_failures() -> None:
    st, result = _gate()
    assert not result.passed
    [invalid, failure] = sorted(result.failures, key=lambda c: c.rule != "valid")
    # the policy seam's lineage term is still owned by marcus.webb, who has left
    assert invalid.contract == "policy-data-to-claims-agent" and invalid.rule == "valid"
    assert "marcus.webb" in invalid.message and invalid.line == 43
    assert failure.contract == CREDIT1 and failure.rule == "approved"
    assert failure.fixers == ["ravi.iyer"]
    assert sum(c.outcome == "pass" for c in result.checks) > 20
    text = g.render_text(result, st)
    assert "PASS" in text and "who can fix it: Ravi Iyer (ravi.iyer)" in text


def test_gate_fails_closed_without_signing_or_evidence() -> None:
    _st, result = _gate(verdicts=None, violations=None, record_flags=None)
    failures = [c for c in result.failures if c.rule != "valid"]
    assert {c.rule for c in failures} == {"approved", "violation_open", "records_valid"}
    assert all("cannot evaluate" in c.message for c in failures)


def test_gate_scope_and_policy() -> None:
    st = state_of()
    policy = g.Gate(contracts=["applicant-*"], deny=["approved"], warn=["review_overdue"])
    inputs = g.GateInputs(
        verdicts={CREDIT1: g.VerdictInfo("approved", "ok")}, violations={}, record_flags={}
    )
    # The built-in floor: every contract in scope and every rule checked, whatever the
    # unsigned policy narrows or demotes.
    strict = g.evaluate_gate(st, inputs, NOW, policy=policy)
    assert len(strict.scope) == len(st.contracts) and not strict.passed
    assert {c.rule for c in strict.checks} == set(g.RULES)
    assert all(c.severity == "deny" for c in strict.checks if c.rule == "review_overdue")
    # A floor the admins signed that leaves scope and rules to workbench.toml.
    open_floor = SignedFloor(GateFloor(deny=[], warn=[], contracts=[]), source="registry v9")
    result = g.evaluate_gate(st, inputs, NOW, policy=policy, floor=open_floor)
    assert result.scope == [CREDIT1] and result.passed
    # `valid` and records_valid are always deny rules: not even a signed floor drops them.
    assert {c.rule: c.severity for c in result.checks} == {
        "valid": "deny",
        "approved": "deny",
        "review_overdue": "warn",
        "records_valid": "deny",
    }
    assert result.to_json()["policy"]["rules"]["review_overdue"] == {
        "severity": "warn",
        "from": ["workbench.toml"],
    }
    empty = g.evaluate_gate(st, inputs, NOW, policy=policy, floor=open_floor, changed=set())
    assert empty.scope == []


def test_junit_is_well_formed_with_one_failure_per_blocking_check() -> None:
    _st, result = _gate()
    root = ET.fromstring(g.render_junit(result))
    assert root.tag == "testsuites"
    assert int(root.get("failures")) == len(result.failures)
    assert len(root.findall(".//testcase")) == len(result.checks)
    assert len(root.findall(".//failure")) == len(result.failures)


def test_sarif_has_the_2_1_0_shape_and_passing_results() -> None:
    _st, result = _gate()
    doc = json.loads(g.render_sarif(result, "0.1.0"))
    jsonschema.validate(doc, SARIF_SHAPE)
    kinds = [r["kind"] for r in doc["runs"][0]["results"]]
    assert kinds.count("fail") == len(result.failures) and "pass" in kinds
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    for r in doc["runs"][0]["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_periods_and_html_escaping() -> None:
    assert parse_week("2026-W48")[0].date().isoformat() == "2026-11-23"
    assert parse_quarter("2026-Q4")[1].date().isoformat() == "2027-01-01"
    with pytest.raises(ValueError):
        parse_week("2026-48")
    out = md_to_html("# <script>x</script>\n- a & `<b>` | **<i>**\n", "t<")
    assert "<script>" not in out and "&lt;script&gt;" in out and "&lt;b&gt;" in out


def test_follow_up_is_due_at_the_end_of_the_cadence_day_after_the_last_report() -> None:
    st = state_of()
    text = GOOD + "opened = 2026-11-20\n"
    docs = load_actions({"actions/a1.toml": text.encode()}, st, NOW.date())
    # P14D after 2026-11-20 is 2026-12-04; the follow-up falls due when that day ends.
    edge = datetime(2026, 12, 5, 0, 0, tzinfo=NOW.tzinfo)
    before = action_statuses(docs, st, edge - timedelta(seconds=1))[0]
    at = action_statuses(docs, st, edge)[0]
    assert not before.follow_up_due and at.follow_up_due
    # A report resets the clock: the next follow-up is a cadence after it.
    docs = load_actions(
        {"actions/a1.toml": (text + "last_follow_up = 2026-12-03\n").encode()}, st, NOW.date()
    )
    assert not action_statuses(docs, st, edge)[0].follow_up_due
    later = datetime(2026, 12, 18, 0, 0, tzinfo=NOW.tzinfo)
    assert not action_statuses(docs, st, later - timedelta(seconds=1))[0].follow_up_due
    assert action_statuses(docs, st, later)[0].follow_up_due


def test_each_check_points_at_its_rule_key_in_the_contract() -> None:
    # Positions are found only when an output asks (the text report never does): they must
    # still name the key's own line and column.
    st, result = _gate()
    text = st.contracts[CREDIT1].document.text
    assert text is not None
    lines = text.splitlines()
    for check in (c for c in result.checks if c.contract == CREDIT1):
        key = g.RULE_KEYS[check.rule][0]
        row = lines[check.line - 1]
        at = row[check.column - 1 :]
        assert at.startswith(key) or at.lstrip("[").startswith(key), (
            check.rule,
            check.line,
            row,
        )
        assert check.to_json()["location"] == {
            "path": check.path,
            "line": check.line,
            "column": check.column,
        }
