"""docs/rules.md is the index of every problem code, finding status, gate rule, contract
verdict and verify-bundle check the code emits. It is generated from the source by
scripts/rules_index.py; this test regenerates it, so a new code, rule or check that is not
in the page (or has no test) fails here, by name."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "rules.md"


@pytest.fixture(scope="module")
def index() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "rules_index", ROOT / "scripts" / "rules_index.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rules_index"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sections(index: ModuleType) -> list:  # type: ignore[type-arg]
    return index.collect()


def test_every_emitted_name_is_in_the_page_and_nothing_else(
    index: ModuleType,
    sections: list,  # type: ignore[type-arg]
) -> None:
    missing, gone = index.name_differences(sections, DOC.read_text(encoding="utf-8"))
    assert not missing, (
        "emitted by the code but missing from docs/rules.md (run "
        f"`.venv/bin/python scripts/rules_index.py`): {missing}"
    )
    assert not gone, f"in docs/rules.md but no longer emitted: {gone}"


def test_the_page_is_what_the_generator_writes(index: ModuleType, sections: list) -> None:  # type: ignore[type-arg]
    expected = index.render(sections)
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is out of date (a location, meaning or covering test changed): run "
        "`.venv/bin/python scripts/rules_index.py`"
    )


def test_everything_in_the_index_has_a_test(index: ModuleType, sections: list) -> None:  # type: ignore[type-arg]
    untested = index.untested(sections)
    assert not untested, f"no test names these (add one that asserts on it): {untested}"


def test_the_collector_reads_every_way_a_code_is_emitted(sections: list) -> None:  # type: ignore[type-arg]
    from workbench.evidence.check_base import STATUSES
    from workbench.governance.gate import RULES, TRUST_RULE

    found = {title: items for _kind, title, _intro, items in sections}
    codes = found["Problem codes"]
    # Problem(...) positional, TextIssue(...), <document>.problem(...), a code in a variable
    # (set in one branch, the message beside it), a warning, and a nested function.
    assert codes["toml.syntax"].severities == {"error"}
    assert "workbench/model/text.py::decode" in codes["text.bom"].where
    assert codes["person.unknown"].where == {"workbench/model/cross_checks.py::_person_problem"}
    assert codes["term.missing-kind"].meaning.startswith("term has no 'kind'")
    assert codes["policy.floor-deny"].severities == {"warning"}
    assert "workbench/model/state_floor.py::_contract_beyond_limits.beyond" in (
        codes["contract.beyond-limit"].where
    )
    assert len(codes) > 50
    assert set(found["Finding statuses"]) == set(STATUSES)
    assert set(found["Gate rules"]) == {*RULES, TRUST_RULE}
    assert set(found["Contract verdicts"]) == {"draft", "pending", "approved", "stale", "invalid"}
    checks = found["verify-bundle checks"]
    assert {"archive", "SHA256SUMS", "registry", "snapshot", "expiry", "evidence"} <= set(checks)
    assert checks["trust root"].severities == {"ok", "fail", "warn"}
