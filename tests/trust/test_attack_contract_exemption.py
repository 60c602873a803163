"""An exemption written into the contract, in the name of an approver who signed nothing.

An exemption recorded as a closure counts only when its approver signs it and may approve
it (never the requester, the term owner or who caused the violation; only a person the
signed policy names): the violator cannot exempt themselves by naming a silent approver.
A contract's `[[exemptions]]` table reached the same result another way: it counted once the
contract version was co-signed by its *required* signers, the two party leads. The approver
it names signed nothing and was never asked whether they may. So the owner of a failing
threshold adds `[[exemptions]] approver = "grace.whitfield"` (the compliance lead, who may
approve exemptions), the other party lead co-signs what reads as a housekeeping edit, and
the violation is `exempt`: the gate passes. Real demo repo, real keys and signatures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import FIXED_NOW
from workbench.cli.main import main
from workbench.service.core import Workbench

CREDIT = "credit-model-to-loan-decisioning"
PATH = f"contracts/{CREDIT}.toml"
TERM = "approval-threshold"  # fails in the demo; owned by sofia.marquez
OWNER = "sofia.marquez"  # loan-decisioning lead: a party lead of CREDIT
OTHER_LEAD = "ravi.iyer"  # credit-model lead
SILENT = "grace.whitfield"  # the compliance lead: may approve exemptions, never asked
NOW = FIXED_NOW + timedelta(hours=1)


def exempt_in_the_contract(
    repo: Path, approver: str, *signers: str, cosigner: str | None = None
) -> None:
    text = (repo / PATH).read_text(encoding="utf-8")
    if cosigner is not None:  # a top-level key, before the first table
        text = text.replace("\n[", f'\ncosigners = ["{cosigner}"]\n\n[', 1)
    expires = (FIXED_NOW + timedelta(days=30)).date().isoformat()
    text += (
        f'\n[[exemptions]]\nterm = "{TERM}"\nreason = "pricing review in progress"\n'
        f'approver = "{approver}"\nexpires = {expires}\n'
    )
    Workbench(repo, now=FIXED_NOW + timedelta(minutes=5), actor=OWNER).commit(
        {PATH: text.encode()}, "Note the pricing review\n"
    )
    for who in signers:
        assert main(["--repo", str(repo), "--as", who, "sign", CREDIT]) == 0
    assert Workbench(repo, now=NOW).signing.verdict(CREDIT).state == "approved"


def violation(repo: Path) -> tuple[str, list[str]]:
    wb = Workbench(repo, now=NOW)
    v = next(v for v in wb.evidence.violations.find() if (v.contract, v.term) == (CREDIT, TERM))
    return v.state, list(v.notes)


def test_a_contract_exemption_naming_a_silent_approver_does_not_count(demo_repo: Path) -> None:
    assert violation(demo_repo)[0] == "open"
    exempt_in_the_contract(demo_repo, SILENT, OWNER, OTHER_LEAD)
    state, notes = violation(demo_repo)
    assert state == "open", notes
    assert any(SILENT in n and "did not co-sign" in n for n in notes), notes
    gate = Workbench(demo_repo, now=NOW).obligations.gate.evaluate()
    [check] = [c for c in gate.checks if (c.contract, c.rule) == (CREDIT, "violation_open")]
    assert check.outcome == "fail", check.message


def test_a_contract_exemption_counts_when_its_approver_co_signs(demo_repo: Path) -> None:
    exempt_in_the_contract(demo_repo, SILENT, OWNER, OTHER_LEAD, SILENT, cosigner=SILENT)
    assert violation(demo_repo)[0] == "exempt"


def test_the_term_owner_cannot_approve_a_contract_exemption_by_co_signing(
    demo_repo: Path,
) -> None:
    exempt_in_the_contract(demo_repo, OWNER, OWNER, OTHER_LEAD)
    state, notes = violation(demo_repo)
    assert state == "open" and any("owns the violated term" in n for n in notes), notes
