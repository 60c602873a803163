"""Each problem code from a one-line edit of the real sample content: the code, its severity,
and the line of the edit (docs/rules.md names these tests; the codes the other validation
tests already cover are not repeated here)."""

from __future__ import annotations

import pytest

from tests.core.test_validation import TODAY, sample_files
from workbench.governance.actions import load_actions
from workbench.model.problems import Problem
from workbench.model.state import load_state

CREDIT = "contracts/credit-model-to-loan-decisioning.toml"
FAIR = "contracts/loan-decisioning-to-fair-lending.toml"
PEOPLE = "keys/people.toml"
SETTINGS = "workbench.toml"
TERM = '[[terms]]\nid = "score-calibration"'  # a term's problems point at its table
SAM = 'id = "sam.ortiz"\nname = "Sam Ortiz"\nemail = "sam.ortiz@meridian.example"\n'

CASES = [
    # (file, old text, new text, code, severity, the text on the problem's line)
    (CREDIT, 'kind = "calibration"\n', "", "term.missing-kind", "error", TERM),
    (
        CREDIT,
        'title = "Score calibration and valid operating range"\ndescription = "The score is a '
        'calibrated 12-month probability of default; valid only within [0.01, 0.60]."\n',
        "",
        "term.undocumented",
        "warning",
        TERM,
    ),
    (CREDIT, 'backup = "ravi.iyer"', 'backup = "priya.nair"', "escalation.same-person", "warning"),
    (
        CREDIT,
        'provider_lead = "ravi.iyer"',
        'provider_lead = "dana.okafor"',
        "parties.wrong-side",
        "error",
    ),
    (
        CREDIT,
        'title = "Credit-risk model → loan decisioning"',
        'title = "Credit-risk model\u200b→ loan decisioning"',
        "text.invisible",
        "error",
    ),
    (
        FAIR,
        'id = "adverse-action-reasons"',
        'id = "no-protected-features"',
        "assertion.duplicate-id",
        "error",
        'id = "no-protected-features"\nstatement = "Every decline',
    ),
    (
        SETTINGS,
        'provider = "applicant-data"',
        'provider = "applicant-dat"',
        "settings.unknown-team",
        "error",
    ),
    (SETTINGS, ', "page_test"]', "]", "policy.floor-rule-dropped", "warning", 'deny = ["valid"'),
    (SETTINGS, 'contracts = ["*"]', 'contracts = ["credit-*"]', "policy.floor-scope", "warning"),
    (
        SETTINGS,
        'review_cadence = "P3M"',
        'review_cadence = "P6M"',
        "policy.beyond-limit",
        "warning",
    ),
    (
        PEOPLE,
        'id = "credit-risk-model"',
        'id = "applicant-data"',
        "team.duplicate-id",
        "error",
        'id = "applicant-data"\nname = "Credit Risk Modelling"',
    ),
    (PEOPLE, 'lead = "ravi.iyer"', 'lead = "sam.ortiz"', "team.lead-elsewhere", "error"),
    (
        PEOPLE,
        SAM,
        SAM.replace('id = "sam.ortiz"', 'id = "claims-agent"'),
        "person.id-is-team",
        "error",
    ),
    (
        PEOPLE,
        SAM + 'team = "applicant-data"',
        SAM + 'team = "applicant-dat"',
        "person.unknown-team",
        "error",
        'team = "applicant-dat"',
    ),
    (
        PEOPLE,
        'delegate = "dana.okafor"',
        'delegate = "dana.okafro"',
        "person.unknown-person",
        "error",
    ),
    (PEOPLE, 'delegate = "dana.okafor"', 'delegate = "sam.ortiz"', "person.delegate", "error"),
    (
        PEOPLE,
        "joined = 2023-02-06\n",
        "joined = 2023-02-06\nleft = 2023-01-01\n",
        "person.dates",
        "error",
        "left = 2023-01-01",
    ),
]


def _edited(path: str, old: str, new: str, at: str) -> tuple[dict[str, bytes], int]:
    """The sample files with one edit, and the line of ``at`` in the edited file."""
    files = sample_files()
    text = files[path].decode()
    assert text.count(old) == 1, f"fixture text {old!r} is not once in {path}"
    edited = text.replace(old, new)
    assert edited.count(at) == 1, f"{at!r} is not once in the edited {path}"
    files[path] = edited.encode()
    return files, edited[: edited.index(at)].count("\n") + 1


def _with_code(problems: list[Problem], code: str) -> list[Problem]:
    found = [p for p in problems if p.code == code]
    assert found, f"no {code} in: " + "; ".join(p.render() for p in problems)
    return found


@pytest.mark.parametrize(
    "case", [c if len(c) == 6 else (*c, c[2]) for c in CASES], ids=[c[3] for c in CASES]
)
def test_each_problem_code_from_one_edit(case: tuple[str, str, str, str, str, str]) -> None:
    path, old, new, code, severity, at = case
    files, line = _edited(path, old, new, at)
    untouched = [p.code for p in load_state(sample_files(), TODAY).problems]
    assert code not in untouched, "the sample content already has it"
    problems = load_state(files, TODAY).problems_for(path)
    found = _with_code(problems, code)
    assert {p.severity for p in found} == {severity}
    assert line in {p.line for p in found}, [p.render() for p in found]


def test_a_file_under_contracts_that_is_not_a_contract_is_named() -> None:
    files = sample_files()
    files["contracts/approval-notes.md"] = b"Approved in the meeting of 3 March.\n"
    [problem] = _with_code(load_state(files, TODAY).problems, "contract.stray-file")
    assert (problem.file, problem.line, problem.column) == ("contracts/approval-notes.md", 1, 1)
    assert problem.severity == "error" and "move it out of contracts/" in problem.message


def test_an_action_item_that_fails_its_schema_points_at_the_value() -> None:
    text = (
        'title = "Page sam.ortiz when feature-freshness p95 lag exceeds 12h"\n'
        'seam = "applicant-data-to-credit-model"\n'
        'owner = "dana.okafor"\n'
        'due = "next week"\n'
    )
    state = load_state(sample_files(), TODAY)
    [doc] = load_actions({"actions/a1.toml": text.encode()}, state, TODAY)
    [problem] = _with_code(doc.problems, "action.schema")
    assert (problem.file, problem.line, problem.severity) == ("actions/a1.toml", 4, "error")
    assert problem.field == "due"
