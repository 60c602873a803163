"""Who must co-sign is signed with the key registry: a plain commit cannot drop a co-signer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.conftest import FIXED_NOW
from workbench.model.state import load_state
from workbench.service.core import Workbench
from workbench.service.signing import approval_policy

CREDIT1 = "applicant-data-to-credit-model"


def required(wb: Workbench, contract_id: str) -> set[str]:
    return set(wb.signing.verdict(contract_id).required)


def test_compliance_cosigner_comes_from_the_signed_registry(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor")
    assert approval_policy(wb).compliance_team == "fair-lending-compliance"
    assert "grace.whitfield" in required(wb, CREDIT1)  # representation term → compliance lead
    policy = (demo_repo / "keys/policy.toml").read_text()
    assert "[approval]" in policy and 'compliance_team = "fair-lending-compliance"' in policy


def test_an_unsigned_policy_edit_changes_nothing(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor")
    before = wb.signing.verdict(CREDIT1).state
    path = demo_repo / "keys/policy.toml"
    edited = path.read_text().replace('compliance_team = "fair-lending-compliance"\n', "")
    wb.commit({"keys/policy.toml": edited.encode()}, "Drop the compliance co-signer")
    wb = Workbench(demo_repo, now=FIXED_NOW, actor="dana.okafor")
    # Until admins sign a new registry version, the last signed policy is in force.
    assert approval_policy(wb).compliance_team == "fair-lending-compliance"
    assert "grace.whitfield" in required(wb, CREDIT1)
    assert wb.signing.verdict(CREDIT1).state == before
    view = wb.signing.registry_view()
    assert any(
        "keys/policy.toml" in note and "not yet in a registry version" in note
        for note in view.notes
    )


def test_policy_in_workbench_toml_is_refused_with_where_it_moved() -> None:
    project = Path(__file__).resolve().parents[2]
    files = {
        "workbench.toml": (project / "workbench.toml").read_bytes()
        + b"\n[policy]\nno_self_approval = false\n",
        "keys/people.toml": (project / "keys/people.toml").read_bytes(),
    }
    problems = load_state(files, date(2026, 11, 27)).problems_for("workbench.toml")
    assert [p.code for p in problems] == ["settings.policy-moved"]
    assert "keys/policy.toml [approval]" in problems[0].message
    text = files["workbench.toml"].decode()
    assert problems[0].line == text[: text.index("[policy]")].count("\n") + 1
