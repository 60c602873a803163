"""The gate's SARIF report of ignored loosenings (`governance/gate_ignored.py`) with hostile
strings where workbench.toml's problems carry text: every message one visible line, square
brackets escaped (no link in a viewer), the document valid JSON and the same bytes twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.governance.test_junit_xml import HOSTILE
from workbench.governance.gate_model import GateResult
from workbench.governance.gate_render import render_sarif
from workbench.model import safe_text
from workbench.model.policy_floor import DEFAULT_FLOOR, EffectivePolicy
from workbench.model.problems import Problem
from workbench.model.settings import Defaults, Gate

NOW = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)


def _result(text: str) -> GateResult:
    ignored = (
        Problem(text, 0, 0, "warning", text, f"[gate] deny {text}", text),
        Problem("workbench.toml", 21, 1, "warning", "policy.floor-rule-dropped", text, "gate"),
    )
    policy = EffectivePolicy(DEFAULT_FLOOR, Gate(), Defaults(), Gate(), Defaults(), ignored)
    return GateResult(now=NOW, scope=[], checks=[], deny=[], warn=[], policy=policy)


def test_hostile_ignored_loosenings_give_safe_deterministic_sarif() -> None:
    for text in HOSTILE:
        written = render_sarif(_result(text), "1.0")
        assert written == render_sarif(_result(text), "1.0")
        run = json.loads(written)["runs"][0]
        found = [r for r in run["results"] if r["ruleId"] == "policy_ignored"]
        notes = run["invocations"][0]["toolConfigurationNotifications"]
        assert len(found) == len(notes) == 2
        assert [r["level"] for r in found] == ["warning", "warning"]
        for item in [*found, *notes]:
            message = item["message"]["text"]
            assert message == safe_text.line(message) and "\n" not in message
            region = item["locations"][0]["physicalLocation"]["region"]
            assert region["startLine"] >= 1 and region["startColumn"] >= 1  # SARIF: from 1
            uri = item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert uri == safe_text.line(uri)
        assert "\\[gate\\] deny" in found[0]["message"]["text"]  # not a link
        assert "[gate]" not in found[0]["message"]["text"].replace("\\[gate\\]", "")
        assert found[1]["locations"][0]["physicalLocation"]["region"]["startLine"] == 21


def test_no_loosening_adds_nothing() -> None:
    policy = EffectivePolicy(DEFAULT_FLOOR, Gate(), Defaults(), Gate(), Defaults(), ())
    run = json.loads(
        render_sarif(GateResult(now=NOW, scope=[], checks=[], deny=[], warn=[], policy=policy))
    )["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert "toolConfigurationNotifications" not in run["invocations"][0]
