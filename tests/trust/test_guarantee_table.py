"""docs/guarantees.md is the executable table of the attacks: every test it names exists,
and every rule of the gate has its row. A renamed test or a new rule fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from workbench.governance.gate import RULES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "guarantees.md"


def _test_functions() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
    return names


def test_every_test_the_table_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", text))
    assert len(named) > 40, "the table names the attack tests"
    missing = sorted(named - _test_functions())
    assert not missing, f"docs/guarantees.md names tests that do not exist: {missing}"
    for path in re.findall(r"`(tests/[a-z0-9_/]+\.py)`", text):
        assert (ROOT / path).is_file(), path


def test_every_gate_rule_has_a_row() -> None:
    rows = {
        m.group(1)
        for m in re.finditer(r"^\| `([a-z_]+)`", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    }
    missing = sorted(set(RULES) - rows)
    assert not missing, f"gate rules without a row in docs/guarantees.md: {missing}"
