"""For each open violation the gate names who can fix it: the term owner and the person paged."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIXED_NOW
from workbench.service.core import Workbench


def test_gate_names_owner_and_paged_person_for_open_violations(demo_repo: Path) -> None:
    result = Workbench(demo_repo, now=FIXED_NOW).obligations.gate.evaluate()
    failing = {
        c.contract: list(c.fixers)
        for c in result.checks
        if c.rule == "violation_open" and c.outcome == "fail"
    }
    # The threshold moved without the model lead's co-signature: Sofia owns the term, Priya is paged.
    assert failing["credit-model-to-loan-decisioning"] == ["sofia.marquez", "priya.nair"]
    # The stale policy data: Yuki owns the term and is the one paged.
    assert failing["policy-data-to-claims-agent"] == ["yuki.tanaka"]
