"""Every bad input gets a message naming the file, line, column and what is wrong."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workbench.model.problems import Problem
from workbench.model.state import load_state

PROJECT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 27)
CONTRACT = "contracts/credit-model-to-loan-decisioning.toml"


def sample_files() -> dict[str, bytes]:
    files = {
        "workbench.toml": (PROJECT / "workbench.toml").read_bytes(),
        "keys/people.toml": (PROJECT / "keys/people.toml").read_bytes(),
    }
    for path in (PROJECT / "contracts").glob("*.toml"):
        files[f"contracts/{path.name}"] = path.read_bytes()
    return files


def problems_after(path: str, old: str, new: str, count: int = 1) -> list[Problem]:
    files = sample_files()
    text = files[path].decode()
    assert text.count(old) >= 1, f"fixture text {old!r} not in {path}"
    files[path] = text.replace(old, new, count).encode()
    return load_state(files, TODAY).problems_for(path)


def line_of(path: str, needle: str) -> int:
    text = (PROJECT / path).read_text()
    return text[: text.index(needle)].count("\n") + 1


def only_error(problems: list[Problem], code: str) -> Problem:
    errors = [p for p in problems if p.severity == "error"]
    assert [p.code for p in errors] == [code], [p.render() for p in errors]
    return errors[0]


def test_sample_content_has_exactly_the_departed_owner_error() -> None:
    state = load_state(sample_files(), TODAY)
    assert len(state.contracts) == 5
    assert [p.code for p in state.errors] == ["person.departed"]
    problem = state.errors[0]
    assert problem.file == "contracts/policy-data-to-claims-agent.toml"
    assert "Marcus Webb" in problem.message and "yuki.tanaka" in problem.message
    assert problem.line == line_of(problem.file, 'owner = "marcus.webb"')
    assert problem.column == 1
    assert problem.field == "terms[1].owner"


def test_toml_syntax_error_has_line_and_column() -> None:
    problems = problems_after(CONTRACT, 'owner = "ravi.iyer"\n', 'owner = "ravi.iyer\n')
    p = only_error(problems, "toml.syntax")
    assert p.file == CONTRACT
    assert p.line == line_of(CONTRACT, 'owner = "ravi.iyer"')
    assert p.column > 1
    assert "TOML syntax error" in p.message


def test_invalid_duration_points_at_the_value() -> None:
    problems = problems_after(CONTRACT, 'ack_sla = "PT15M"', 'ack_sla = "15 minutes"')
    p = only_error(problems, "schema.duration")
    assert p.line == line_of(CONTRACT, 'ack_sla = "PT15M"')
    assert "'15 minutes' is not an ISO-8601 duration" in p.message
    assert p.field == "escalation.ack_sla"


def test_unknown_field_is_an_error_with_its_line() -> None:
    problems = problems_after(CONTRACT, "bins = 10\n", "bins = 10\nbinz = 12\n")
    p = only_error(problems, "schema.unknown-field")
    assert "unknown field 'binz'" in p.message
    assert p.line == line_of(CONTRACT, "bins = 10") + 1
    assert p.field == "terms[1].binz"


def test_unknown_term_kind_names_the_known_kinds() -> None:
    problems = problems_after(CONTRACT, 'kind = "distribution_shift"', 'kind = "drift"')
    p = only_error(problems, "term.unknown-kind")
    assert "'drift'" in p.message and "distribution_shift" in p.message
    assert p.line == line_of(CONTRACT, 'kind = "distribution_shift"')


def test_missing_required_field_points_at_its_table() -> None:
    problems = problems_after(CONTRACT, 'channel = "pagerduty:loan-decisioning"\n', "")
    p = only_error(problems, "schema.missing")
    assert "missing required field 'channel'" in p.message
    assert p.line == line_of(CONTRACT, "[escalation]")


def test_wrong_type_mentions_the_value() -> None:
    problems = problems_after(CONTRACT, "value = 0.18", 'value = "high"')
    p = only_error(problems, "schema.invalid")
    assert "'high'" in p.message
    assert p.line == line_of(CONTRACT, "value = 0.18")


@pytest.mark.parametrize(
    "placeholder", ["the team", "data team", "TBD", "unassigned", "n/a", "", "Nobody"]
)
def test_placeholder_owner_requires_a_named_individual(placeholder: str) -> None:
    problems = problems_after(CONTRACT, 'owner = "ravi.iyer"\n', f'owner = "{placeholder}"\n')
    p = only_error(problems, "owner.placeholder")
    assert "a named individual is required" in p.message
    assert p.line == line_of(CONTRACT, 'owner = "ravi.iyer"')
    assert p.field == "owner"


@pytest.mark.parametrize("team", ["credit-risk-model", "Credit Risk Modelling"])
def test_team_as_owner_or_contact_is_refused(team: str) -> None:
    problems = problems_after(CONTRACT, 'primary = "priya.nair"', f'primary = "{team}"')
    p = only_error(problems, "owner.team")
    assert "is a team" in p.message and "named individual is required" in p.message
    assert "ravi.iyer" in p.message  # points at the team's lead as a candidate
    assert p.field == "escalation.primary"


def test_team_as_reviewer_is_refused() -> None:
    path = "contracts/loan-decisioning-to-fair-lending.toml"
    problems = problems_after(
        path, 'reviewer = "helen.brooks"', 'reviewer = "fair-lending-compliance"'
    )
    p = only_error(problems, "owner.team")
    assert p.field == "terms[0].reviewer"
    assert p.line == line_of(path, 'reviewer = "helen.brooks"')


def test_unknown_person_is_an_error() -> None:
    problems = problems_after(CONTRACT, 'backup = "ravi.iyer"', 'backup = "ravi.iyr"')
    p = only_error(problems, "person.unknown")
    assert "'ravi.iyr' is not a person" in p.message


def test_departed_person_without_replacement() -> None:
    files = sample_files()
    people = files["keys/people.toml"].decode()
    files["keys/people.toml"] = people.replace(
        'role = "Model validation engineer"\nauthority = "member"\njoined = 2022-05-16',
        'role = "Model validation engineer"\nauthority = "member"\njoined = 2022-05-16\nleft = 2026-11-01',
    ).encode()
    problems = load_state(files, TODAY).problems_for(CONTRACT)
    p = only_error(problems, "person.departed")
    assert p.message == "Lena Fischer (lena.fischer) left on 2026-11-01; no replacement is recorded"


def test_person_leaving_in_the_future_is_still_accountable_today() -> None:
    files = sample_files()
    files["keys/people.toml"] = (
        files["keys/people.toml"]
        .decode()
        .replace("left = 2026-11-23", "left = 2026-12-31")
        .encode()
    )
    assert load_state(files, TODAY).errors == []


def test_duplicate_contract_id_and_file_name_mismatch() -> None:
    files = sample_files()
    files["contracts/copy.toml"] = files[CONTRACT]
    problems = load_state(files, TODAY).problems_for("contracts/copy.toml")
    codes = sorted(p.code for p in problems)
    assert codes == ["contract.duplicate-id", "contract.id-mismatch"]
    dup = next(p for p in problems if p.code == "contract.duplicate-id")
    assert "also used by contracts/credit-model-to-loan-decisioning.toml" in dup.message
    assert dup.line == 3
    # the file named after the id stays the contract
    assert load_state(files, TODAY).problems_for(CONTRACT) == []


def test_id_must_match_file_name() -> None:
    files = sample_files()
    files["contracts/other-name.toml"] = files.pop(CONTRACT)
    problems = load_state(files, TODAY).problems_for("contracts/other-name.toml")
    p = only_error(problems, "contract.id-mismatch")
    assert p.line == 3


def test_duplicate_term_id() -> None:
    problems = problems_after(CONTRACT, 'id = "score-shift"', 'id = "score-calibration"')
    p = only_error(problems, "term.duplicate-id")
    assert p.field == "terms[1].id"
    assert p.line == line_of(CONTRACT, 'id = "score-shift"')


def test_seam_with_the_same_team_on_both_sides() -> None:
    problems = problems_after(
        CONTRACT, 'consumer = "loan-decisioning"', 'consumer = "credit-risk-model"'
    )
    codes = {p.code for p in problems if p.severity == "error"}
    assert "seam.same-team" in codes
    same = next(p for p in problems if p.code == "seam.same-team")
    assert same.line == line_of(CONTRACT, 'consumer = "loan-decisioning"')


def test_unknown_team_in_seam() -> None:
    problems = problems_after(CONTRACT, 'provider = "credit-risk-model"', 'provider = "risk"')
    assert "seam.unknown-team" in {p.code for p in problems}


def test_reference_to_unknown_term() -> None:
    problems = problems_after(
        CONTRACT, 'calibrated_against = "score-calibration"', 'calibrated_against = "calibration"'
    )
    p = only_error(problems, "term.unknown-reference")
    assert "'calibration'" in p.message


def test_exemption_for_unknown_term() -> None:
    text = '\n[[exemptions]]\nterm = "nope"\nreason = "migration"\napprover = "ravi.iyer"\nexpires = 2026-12-31\n'
    files = sample_files()
    files[CONTRACT] = files[CONTRACT] + text.encode()
    problems = load_state(files, TODAY).problems_for(CONTRACT)
    p = only_error(problems, "term.unknown-reference")
    assert p.field == "exemptions[0].term"


def test_duplicate_person_id_in_registry() -> None:
    files = sample_files()
    people = files["keys/people.toml"].decode()
    files["keys/people.toml"] = people.replace('id = "sam.ortiz"', 'id = "dana.okafor"').encode()
    problems = load_state(files, TODAY).problems_for("keys/people.toml")
    assert "person.duplicate-id" in {p.code for p in problems}


@pytest.mark.parametrize(
    ("data", "code", "line", "column"),
    [
        (b'\xef\xbb\xbfid = "x"\n', "text.bom", 1, 1),
        (b'id = "x"\ntitle = "caf\xe9"\n', "text.encoding", 2, 13),
        ('id = "x"\ntitle = "a\u202eb"\n'.encode(), "text.bidi", 2, 11),
        (b'id = "x"\ntitle = "a\x07b"\n', "text.control", 2, 11),
        ('id = "x"\ntitle = "cafe\u0301"\n'.encode(), "text.nfc", 2, 1),
    ],
)
def test_text_hygiene(data: bytes, code: str, line: int, column: int) -> None:
    files = sample_files()
    files["contracts/x.toml"] = data
    problems = load_state(files, TODAY).problems_for("contracts/x.toml")
    assert [(p.code, p.line, p.column) for p in problems] == [(code, line, column)]


def test_crlf_files_are_read() -> None:
    files = sample_files()
    files[CONTRACT] = files[CONTRACT].replace(b"\n", b"\r\n")
    assert load_state(files, TODAY).problems_for(CONTRACT) == []


def test_missing_settings_and_people() -> None:
    state = load_state({}, TODAY)
    assert {p.code for p in state.errors} == {"repo.no-settings", "repo.no-people"}


def test_problem_render_is_file_line_column() -> None:
    p = problems_after(CONTRACT, 'ack_sla = "PT15M"', 'ack_sla = "soon"')[0]
    assert p.render().startswith(f"{CONTRACT}:{p.line}:{p.column}: error: ")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Dana <root@evil> Okafor", "<"),
        ("Dana Okafor\\nSigned-off-by: x", "\\n"),
        ("Dana \\u001b]8;;http://evil\\u0007Okafor", "\\x1b"),
        ("Dana \\u202eOkafor", "\\u202e"),
    ],
)
def test_person_name_is_one_visible_line_git_can_author(name: str, shown: str) -> None:
    # A name git cannot put in a commit's author field would make every commit by that
    # person fail: an insider could block a colleague's signatures by editing people.toml.
    problems = problems_after("keys/people.toml", 'name = "Dana Okafor"', f'name = "{name}"')
    errors = [p for p in problems if p.severity == "error"]
    assert errors, [p.render() for p in problems]
    assert any("one line of visible text" in p.message and shown in p.message for p in errors), [
        p.render() for p in errors
    ]
    assert all(p.line == line_of("keys/people.toml", 'name = "Dana Okafor"') for p in errors)
