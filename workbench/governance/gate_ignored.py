"""The gate's report of what workbench.toml asked for beyond the signed floor (``IGNORED``):
in JUnit a skipped testcase each, in SARIF a warning result each (and a configuration
notification), so a CI reader of either report sees that someone tried to loosen the policy.

A loosening changes nothing (the signed floor applies), so it never fails a report: JUnit's
own word for "not run, on purpose" is *skipped* (JUnit's ``@Ignore`` is reported as
skipped), which every CI test view counts and lists on the summary, where a
``<system-out>`` is only seen by whoever opens the testcase; SARIF's ``warning`` level is
shown as an alert at its line of workbench.toml and fails no check that gates on errors.
docs/obligations.md, "The signed floor", records the decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.governance.junit_xml import Element
from workbench.model import safe_text
from workbench.model.problems import Problem

IGNORED_RULE = "policy_ignored"
IGNORED_TEXT = (
    "workbench.toml asks for nothing looser than the signed floor (keys/policy.toml as "
    "signed in the key registry); a looser ask is ignored and changes nothing."
)
IGNORED_URI = (
    "https://handshake-workbench.dev/docs/obligations"
    "#the-signed-floor-what-an-unsigned-commit-cannot-loosen"
)
CHANGED_NOTHING = (
    "it changed nothing: the signed floor applies. Remove it from workbench.toml, or ask "
    "the registry admins for a signed keys/policy.toml that allows it"
)


def where(p: Problem) -> str:
    return f"{p.file}:{p.line}:{p.column}"


def junit_suite(root: Element, ignored: tuple[Problem, ...], timestamp: str) -> None:
    """A `policy` testsuite with one skipped testcase per ignored loosening (the writer
    makes every text and attribute safe)."""
    count = str(len(ignored))
    suite = root.add(
        "testsuite",
        name="policy",
        tests=count,
        failures="0",
        errors="0",
        skipped=count,
        timestamp=timestamp,
    )
    for number, p in enumerate(ignored, 1):
        # Numbered: one line of workbench.toml can drop several rules, and a CI view that
        # keys testcases by name would fold same-named ones into one.
        case = suite.add(
            "testcase",
            classname=f"gate.{IGNORED_RULE}",
            name=f"{p.code} #{number}",
            file=p.file,
            line=str(p.line),
        )
        message = f"IGNORED {where(p)}: {p.message}"
        case.add("skipped", message=message).text = f"{message}\n{CHANGED_NOTHING}"


def sarif_rule() -> dict[str, Any]:
    return {
        "id": IGNORED_RULE,
        "name": "PolicyIgnored",
        "shortDescription": {"text": IGNORED_TEXT},
        "fullDescription": {"text": IGNORED_TEXT},
        "helpUri": IGNORED_URI,
        "defaultConfiguration": {"level": "warning"},
    }


def _location(p: Problem) -> list[dict[str, Any]]:
    return [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": safe_text.line(p.file), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": max(p.line, 1), "startColumn": max(p.column, 1)},
            }
        }
    ]


def sarif_results(
    ignored: tuple[Problem, ...], index: int, text: Callable[[str], str]
) -> list[dict[str, Any]]:
    """One warning result per ignored loosening, at its line of workbench.toml; `text`
    makes a message SARIF-safe."""
    return [
        {
            "ruleId": IGNORED_RULE,
            "ruleIndex": index,
            "kind": "fail",
            "level": "warning",
            "message": {"text": text(f"IGNORED {p.message}; {CHANGED_NOTHING}.")},
            "locations": _location(p),
            "properties": {"code": safe_text.line(p.code), "field": safe_text.line(p.field)},
        }
        for p in ignored
    ]


def sarif_notifications(
    ignored: tuple[Problem, ...], text: Callable[[str], str]
) -> list[dict[str, Any]]:
    """The same, as SARIF's own place for a problem with the tool's configuration
    (`invocations[].toolConfigurationNotifications`), for viewers that list those."""
    return [
        {
            "descriptor": {"id": IGNORED_RULE},
            "level": "warning",
            "message": {"text": text(f"IGNORED {where(p)}: {p.message}")},
            "locations": _location(p),
        }
        for p in ignored
    ]
