"""The gate's output formats: text (for a person), JSON, JUnit XML and SARIF 2.1.0 (for CI),
each made safe for its medium (see docs/architecture.md, output safety)."""

from __future__ import annotations

from typing import Any

from workbench.governance import gate_ignored, junit_xml, merge_check
from workbench.governance.gate_model import (
    INFO_URI,
    RULES,
    TRUST_FILE,
    TRUST_RULE,
    TRUST_TEXT,
    Check,
    GateResult,
)
from workbench.governance.junit_xml import Element
from workbench.governance.timing import iso
from workbench.model import safe_text
from workbench.model.problems import Problem
from workbench.model.state import (
    GovernanceState,
)


def _names(state: GovernanceState | None, people: list[str]) -> str:
    if state is None:
        return ", ".join(people)
    out = []
    for pid in people:
        p = state.people.get(pid)
        out.append(f"{p.name} ({pid})" if p else pid)
    return ", ".join(out)


def _trust_text(result: GateResult) -> list[str]:
    if not result.shows_trust:
        return []
    outcome = result.trust_outcome
    line = safe_text.line
    if outcome == "pass":
        return [line(result.trust_message), ""]
    mark = "FAIL" if outcome == "fail" else "WARN"
    return [
        f"{mark}  {TRUST_RULE:<22} {line(result.trust_message)}",
        f"        how: {line(result.trust_fix)}",
        "",
    ]


def _policy_text(result: GateResult) -> list[str]:
    """Which policy was applied, and one loud line per loosening workbench.toml asked for
    that the signed floor refused (it changed nothing)."""
    if result.policy is None:
        return []
    line = safe_text.line
    floor = result.policy.floor
    scope = ", ".join(result.policy.gate.contracts) or "none"
    out = [
        f"policy: workbench.toml tightened by {line(floor.describe)}; "
        f"deny {', '.join(result.deny)}; warn {', '.join(result.warn) or 'none'}; "
        f"scope {line(scope)}"
    ]
    out += [f"IGNORED  {line(text)}" for text in result.ignored]
    return [*out, ""]


# Every output format below is made safe for its medium here, in the renderer: messages
# carry contract titles, names and evidence values (see workbench/model/safe_text.py).
def render_text(result: GateResult, state: GovernanceState | None = None) -> str:
    """The text report; each contract id, message, name list and fix is one line."""
    line = safe_text.line
    lines = merge_check.text_lines(result.merge) + _trust_text(result) + _policy_text(result)
    per_contract: dict[str, list[Check]] = {}
    for check in result.checks:
        per_contract.setdefault(check.contract, []).append(check)
    for cid in result.scope:
        lines.append(line(cid))
        for c in per_contract.get(cid, []):
            mark = {
                "pass": "PASS",
                "warn": "WARN",
                "fail": "FAIL" if c.severity == "deny" else "WARN",
            }[c.outcome]
            lines.append(f"  {mark:<4}  {c.rule:<22} {line(c.message)}")
            if c.outcome != "pass":
                if c.fixers:
                    lines.append(f"        who can fix it: {line(_names(state, c.fixers))}")
                if c.fix:
                    lines.append(f"        how: {line(c.fix)}")
    if not result.scope:
        lines.append("no contracts in scope")
    passed = sum(c.outcome == "pass" for c in result.checks)
    verdict = "PASSED" if result.passed else "FAILED"
    lines.append("")
    trust = "; a MERGE IS NOT FINISHED (see the top)" if result.merge is not None else ""
    if result.shows_trust and result.trust_outcome != "pass":
        if result.trust is not None and result.trust.problems:
            trust += "; the KEY REGISTRY HAS PROBLEMS (see the top)"
        else:
            trust += "; trust root NOT pinned" + (" (--strict)" if result.strict else "")
    lines.append(
        f"gate {verdict}: {len(result.scope)} contract(s), {passed} check(s) passed, "
        f"{len(result.failures)} failed, {len(result.warnings)} warning(s){trust}"
    )
    return "\n".join(lines) + "\n"


def render_json(result: GateResult) -> str:
    return safe_text.json_dumps(result.to_json(), indent=2) + "\n"


def render_junit(result: GateResult) -> str:
    """JUnit XML: one testsuite per contract, one testcase per rule.

    Deny failures are <failure>; warnings pass with the warning in <system-out> (JUnit has
    no warning state and a warning must not fail a CI test report). Every text and
    attribute is made safe by the writer (`junit_xml`): XML escaping alone writes control
    characters as they are, which no XML parser accepts and a CI log would replay;
    attributes are kept on one line (a parser folds their newlines into spaces anyway).
    """
    trust_fails = int(result.shows_trust and result.trust_outcome == "fail")
    merge_fails = int(result.merge is not None)
    ignored = _ignored(result)
    stamp = iso(result.now) or ""
    root = Element(
        "testsuites",
        name="workbench gate",
        tests=str(len(result.checks) + int(result.shows_trust) + merge_fails + len(ignored)),
        failures=str(len(result.failures) + trust_fails + merge_fails),
        errors="0",
        skipped=str(len(ignored)),
        timestamp=stamp,
    )
    if result.merge is not None:
        merge_check.junit_suite(root, result.merge, stamp)
    if result.shows_trust:
        _trust_junit(root, result, trust_fails)
    if ignored:
        gate_ignored.junit_suite(root, ignored, stamp)
    # Grouped once: a scan of every check per contract is quadratic (5,000 contracts).
    by_contract: dict[str, list[Check]] = {}
    for c in result.checks:
        by_contract.setdefault(c.contract, []).append(c)
    line = safe_text.line
    for cid in result.scope:
        mine = by_contract.get(cid, [])
        suite = root.add(
            "testsuite",
            name=cid,
            tests=str(len(mine)),
            failures=str(sum(c.blocking for c in mine)),
            errors="0",
            skipped="0",
            timestamp=stamp,
        )
        classname = f"gate.{cid}"
        for c in mine:
            case = suite.add(
                "testcase", classname=classname, name=c.rule, file=c.path, line=str(c.line)
            )
            text = line(c.message)
            if c.fixers:
                text += f"\nwho can fix it: {line(', '.join(c.fixers))}"
            if c.fix:
                text += f"\nhow: {line(c.fix)}"
            if c.blocking:
                case.add("failure", message=c.message, type=c.rule).text = text
            elif c.outcome != "pass":
                case.add("system-out").text = f"WARNING: {text}"
            else:
                case.add("system-out").text = f"PASS: {text}"
    return junit_xml.document(root)


def _ignored(result: GateResult) -> tuple[Problem, ...]:
    """What workbench.toml asked for beyond the signed floor (`IGNORED`): in every format."""
    return result.policy.ignored if result.policy is not None else ()


def _sarif_text(text: str) -> str:
    """A SARIF plain-text message: one line, visible controls, and square brackets escaped
    (SARIF 3.11.6), so a name cannot become an embedded link in the viewer."""
    return safe_text.line(text).replace("[", "\\[").replace("]", "\\]")


def _trust_junit(root: Element, result: GateResult, fails: int) -> None:
    suite = root.add(
        "testsuite",
        name="trust root",
        tests="1",
        failures=str(fails),
        errors="0",
        skipped="0",
        timestamp=iso(result.now) or "",
    )
    case = suite.add(
        "testcase", classname="gate.trust_root", name=TRUST_RULE, file=TRUST_FILE, line="1"
    )
    text = result.trust_message + (f"\nhow: {result.trust_fix}" if result.trust_fix else "")
    if result.trust_outcome == "fail":
        case.add("failure", message=result.trust_message, type=TRUST_RULE).text = text
    elif result.trust_outcome == "warn":
        case.add("system-out").text = f"WARNING: {text}"
    else:
        case.add("system-out").text = f"PASS: {text}"


def _trust_sarif(result: GateResult, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    rule = {
        "id": TRUST_RULE,
        "name": "TrustRoot",
        "shortDescription": {"text": TRUST_TEXT},
        "fullDescription": {"text": TRUST_TEXT},
        "helpUri": INFO_URI,
        "defaultConfiguration": {"level": "error" if result.strict else "warning"},
    }
    outcome = result.trust_outcome
    text = result.trust_message + (f" How: {result.trust_fix}" if result.trust_fix else "")
    found = {
        "ruleId": TRUST_RULE,
        "ruleIndex": index,
        "kind": "pass" if outcome == "pass" else "fail",
        "level": {"pass": "none", "warn": "warning", "fail": "error"}[outcome],
        "message": {"text": _sarif_text(text)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": TRUST_FILE, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 1, "startColumn": 1},
                }
            }
        ],
        "properties": {"pinned": bool(result.trust and result.trust.pinned)},
    }
    return rule, found


def render_sarif(result: GateResult, version: str = "0") -> str:
    """SARIF 2.1.0: one result per check; passing checks are ``kind: pass``."""
    rule_ids: list[str] = [r for r in RULES if r in result.deny or r in result.warn]
    rules = [
        {
            "id": r,
            "name": "".join(p.capitalize() for p in r.split("_")),
            "shortDescription": {"text": RULES[r]},
            "fullDescription": {"text": RULES[r]},
            "helpUri": INFO_URI,
            "defaultConfiguration": {"level": "error" if r in result.deny else "warning"},
        }
        for r in rule_ids
    ]
    results = []
    if result.merge is not None:
        merge_rule, merge_result = merge_check.sarif_rule_and_result(
            result.merge, len(rules), _sarif_text
        )
        rules.append(merge_rule)
        results.append(merge_result)
    if result.shows_trust:
        trust_rule, trust_result = _trust_sarif(result, len(rules))
        rules.append(trust_rule)
        results.append(trust_result)
    ignored = _ignored(result)
    if ignored:
        results += gate_ignored.sarif_results(ignored, len(rules), _sarif_text)
        rules.append(gate_ignored.sarif_rule())
    for c in result.checks:
        text = c.message
        if c.outcome != "pass" and c.fixers:
            text += f" Who can fix it: {', '.join(c.fixers)}."
        if c.outcome != "pass" and c.fix:
            text += f" How: {c.fix}"
        level = "none"
        if c.blocking:
            level = "error"
        elif c.outcome != "pass":
            level = "warning"
        results.append(
            {
                "ruleId": c.rule,
                "ruleIndex": rule_ids.index(c.rule),
                "kind": "pass" if c.outcome == "pass" else "fail",
                "level": level,
                "message": {"text": _sarif_text(f"{c.contract}: {text}")},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": c.path, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": c.line, "startColumn": c.column},
                        }
                    }
                ],
                "properties": {"contract": c.contract, "fixers": c.fixers},
            }
        )
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "endTimeUtc": iso(result.now),
        "properties": {"gatePassed": result.passed},
    }
    if ignored:
        invocation["toolConfigurationNotifications"] = gate_ignored.sarif_notifications(
            ignored, _sarif_text
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "workbench gate",
                        "informationUri": INFO_URI,
                        "version": version,
                        "rules": rules,
                    }
                },
                "invocations": [invocation],
                "results": results,
            }
        ],
    }
    return safe_text.json_dumps(doc, indent=2) + "\n"
