"""People, teams and contracts from the CLI: validated, committed as the acting person, and
the registry change prepared where who leads a team changes (real repos, real keys)."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from workbench.cli.main import main


def wb(repo: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--repo", str(repo), *args])
    out, err = capsys.readouterr()
    return code, out, err


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "acme"
    code = main(
        [
            "init",
            str(target),
            "--org",
            "Acme",
            "--domain",
            "acme.example",
            "--team",
            "data",
            "--lead",
            "ada",
            "--lead-name",
            "Ada Lovelace",
            "--team",
            "model",
            "--lead",
            "alan",
            "--lead-name",
            "Alan Turing",
            "--no-passphrase",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "key registry v1 signed by both leads" in out
    return target


def people(repo: Path) -> dict:  # type: ignore[type-arg]
    return tomllib.loads((repo / "keys/people.toml").read_text())


def test_init_makes_a_signed_registry_and_acts_as_the_first_lead(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = wb(repo, "registry", "show", "--json", capsys=capsys)
    assert code == 0
    assert '"version": 1' in out or '"head": 1' in out or "v1" in out
    assert git(repo, "config", "user.email").strip() == "ada@acme.example"
    assert (repo / ".git/handshake-workbench/trust-root").is_file()
    # Both leads signed v1; both are the evaluation runners.
    assert (repo / "keys/registry/v1.ada.sig").is_file()
    assert (repo / "keys/registry/v1.alan.sig").is_file()
    assert 'runners = ["ada", "alan"]' in (repo / "keys/policy.toml").read_text()


def test_init_with_a_lead_key_from_elsewhere_waits_for_their_signature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.signing.keys import generate_keypair

    pub = generate_keypair(tmp_path / "alan_ed25519", None, "alan@acme.example")
    code = main(
        [
            "init",
            str(tmp_path / "r"),
            "--team",
            "data",
            "--lead",
            "ada",
            "--team",
            "model",
            "--lead",
            "alan",
            "--pubkey",
            f"alan={pub}.pub",
            "--no-passphrase",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "waits for: alan" in out
    assert not (tmp_path / "r/keys/registry/v1.alan.sig").exists()


def test_init_refuses_one_team(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["init", str(tmp_path / "r"), "--team", "data", "--lead", "ada"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "two teams" in err
    assert not (tmp_path / "r").exists()


def test_person_add_is_committed_by_the_acting_person(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = wb(
        repo,
        "person",
        "add",
        "grace.hopper",
        "--name",
        "Grace Hopper",
        "--email",
        "grace@acme.example",
        "--role",
        "Data engineer",
        capsys=capsys,
    )
    assert code == 0, err
    assert "added grace.hopper to team data" in out  # the acting person's team by default
    grace = next(p for p in people(repo)["people"] if p["id"] == "grace.hopper")
    assert grace["team"] == "data" and grace["role"] == "Data engineer"
    assert git(repo, "log", "-1", "--format=%ae").strip() == "ada@acme.example"
    assert git(repo, "status", "--porcelain") == ""
    # Again: refused, nothing committed.
    head = git(repo, "rev-parse", "HEAD")
    code, _, err = wb(
        repo,
        "person",
        "add",
        "grace.hopper",
        "--name",
        "G",
        "--email",
        "g@a.example",
        capsys=capsys,
    )
    assert code == 2 and "already a person" in err
    assert git(repo, "rev-parse", "HEAD") == head


def test_person_add_with_an_invalid_name_names_the_file_line_and_field(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    code, _, err = wb(
        repo,
        "person",
        "add",
        "x.y",
        "--name",
        "TBD",
        "--email",
        "x@a.example",
        capsys=capsys,
    )
    assert code == 2
    assert "keys/people.toml:" in err and "not a named individual" in err
    assert git(repo, "rev-parse", "HEAD") == head


def test_unknown_team_gets_a_did_you_mean(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = wb(
        repo,
        "person",
        "add",
        "kim",
        "--name",
        "Kim",
        "--email",
        "k@a.example",
        "--team",
        "modle",
        capsys=capsys,
    )
    assert code == 2
    assert "did you mean 'model'?" in err


def test_team_add_moves_its_lead_and_prepares_the_registry_version(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb(
        repo,
        "person",
        "add",
        "joan",
        "--name",
        "Joan Clarke",
        "--email",
        "j@a.example",
        capsys=capsys,
    )
    code, out, err = wb(
        repo, "team", "add", "product", "--name", "Loan Product", "--lead", "joan", capsys=capsys
    )
    assert code == 0, err
    assert "joan moved from team data to product" in out
    assert "registry v2 prepared" in out
    data = people(repo)
    assert {"id": "product", "name": "Loan Product", "lead": "joan"} in data["teams"]
    assert next(p for p in data["people"] if p["id"] == "joan")["team"] == "product"
    assert (repo / "keys/registry/v2.statement.json").is_file()
    # The admins sign it; then the new lead counts.
    code, out, err = wb(repo, "--as", "alan", "registry", "sign", capsys=capsys)
    assert code == 0, err
    code, out, err = wb(repo, "registry", "sign", capsys=capsys)
    assert code == 0 and "v2 is now in force" in out, out + err


def test_team_lead_must_be_a_member(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = wb(repo, "team", "lead", "data", "alan", capsys=capsys)
    assert code == 2 and "alan is in team model, not data" in err
    wb(repo, "person", "add", "grace", "--name", "Grace", "--email", "g@a.example", capsys=capsys)
    code, out, err = wb(repo, "team", "lead", "data", "grace", capsys=capsys)
    assert code == 0, err
    assert next(t for t in people(repo)["teams"] if t["id"] == "data")["lead"] == "grace"


def test_person_leave_hands_their_team_to_the_successor(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb(repo, "person", "add", "grace", "--name", "Grace", "--email", "g@a.example", capsys=capsys)
    code, out, err = wb(
        repo,
        "person",
        "leave",
        "ada",
        "--on",
        "2030-01-31",
        "--replaced-by",
        "grace",
        capsys=capsys,
    )
    assert code == 0, err
    assert "team data is now led by grace" in out
    ada = next(p for p in people(repo)["people"] if p["id"] == "ada")
    assert str(ada["left"]) == "2030-01-31" and ada["replaced_by"] == "grace"


@pytest.mark.parametrize(
    ("template", "values", "terms"),
    [
        (
            "data-model",
            ["source=warehouse.orders", "attribute=age_band", "groups=a,b"],
            ["freshness", "representation", "lineage"],
        ),
        (
            "model-product",
            [
                "calibration_reference=https://wiki/cal",
                "reference=ref-q4",
                "threshold_name=approve",
            ],
            ["calibration", "shift", "threshold"],
        ),
        (
            "product-compliance",
            ["assertion=no protected attribute is a feature", "test=tests/test_features.py"],
            ["attestation"],
        ),
    ],
)
def test_each_seam_template_fills_owners_from_the_teams(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    template: str,
    values: list[str],
    terms: list[str],
) -> None:
    sets = [arg for v in values for arg in ("--set", v)]
    code, out, err = wb(
        repo,
        "contract",
        "new",
        "seam",
        "--template",
        template,
        "--provider",
        "data",
        "--consumer",
        "model",
        *sets,
        capsys=capsys,
    )
    assert code == 0, out + err
    contract = tomllib.loads((repo / "contracts/seam.toml").read_text())
    assert [t["id"] for t in contract["terms"]] == terms
    assert contract["owner"] == "ada"
    assert contract["parties"] == {"provider_lead": "ada", "consumer_lead": "alan"}
    assert contract["escalation"]["primary"] == "ada"
    assert contract["seam"]["kind"] == template
    assert git(repo, "status", "--porcelain") == ""
    code, _, err = wb(repo, "validate", capsys=capsys)
    assert code == 0, err


def test_the_threshold_change_needs_the_model_lead(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb(
        repo,
        "contract",
        "new",
        "mp",
        "--template",
        "model-product",
        "--provider",
        "data",
        "--consumer",
        "model",
        "--set",
        "calibration_reference=x",
        "--set",
        "reference=r",
        "--set",
        "threshold_name=t",
        capsys=capsys,
    )
    threshold = tomllib.loads((repo / "contracts/mp.toml").read_text())["terms"][2]
    assert threshold["change_cosigner"] == "ada"  # the provider (model side) lead
    assert threshold["owner"] == "alan"


def test_placeholders_are_left_uncommitted_and_validate_explains_them(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    code, out, err = wb(
        repo,
        "contract",
        "new",
        "data-to-model",
        "--template",
        "data-model",
        "--provider",
        "data",
        "--consumer",
        "model",
        capsys=capsys,
    )
    assert code == 1
    assert "not committed" in out
    assert "placeholder left by the seam template: the upstream source" in err
    assert git(repo, "rev-parse", "HEAD") == head
    code, out, _ = wb(repo, "validate", capsys=capsys)
    assert code == 1
    assert "contracts/data-to-model.toml:44:12: error: placeholder" in out
    # Signing is refused until they are filled in: save refuses too, naming each.
    code, _, err = wb(repo, "contract", "save", "data-to-model", capsys=capsys)
    assert code == 2 and "template.placeholder" in err
    path = repo / "contracts/data-to-model.toml"
    text = path.read_text()
    text = text.replace('"TODO: the upstream source"', '"warehouse.orders"')
    text = text.replace('"TODO: the protected-class proxy attribute, e.g. age_band"', '"age"')
    text = text.replace('"TODO: a group of the attribute"', '"adult"')
    path.write_text(text)
    code, out, err = wb(repo, "contract", "save", "data-to-model", "-m", "Fill in", capsys=capsys)
    assert code == 0, err
    assert git(repo, "log", "-1", "--format=%s").strip() == "Fill in"


def test_unknown_template_parameter_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = wb(
        repo,
        "contract",
        "new",
        "x",
        "--template",
        "data-model",
        "--provider",
        "data",
        "--consumer",
        "model",
        "--set",
        "sauce=y",
        capsys=capsys,
    )
    assert code == 2 and "has no parameter sauce" in err


def test_did_you_mean_for_commands_contracts_people_and_terms(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--repo", str(demo_repo), "stauts"])
    assert exit_info.value.code == 2
    assert "did you mean 'status'?" in capsys.readouterr().err
    code, _, err = wb(demo_repo, "show", "applicant-data-to-credit-modle", capsys=capsys)
    assert code == 2 and "did you mean 'applicant-data-to-credit-model'?" in err
    code, _, err = wb(demo_repo, "--as", "dana.okafr", "due", capsys=capsys)
    assert code in (1, 2)
    code, _, err = wb(demo_repo, "--as", "dana.okafr", "sign", "x", capsys=capsys)
    assert "did you mean 'dana.okafor'?" in err
    csv = demo_repo.parent / "g.csv"
    csv.write_text("attribute,group,count\nage,a,1\n")
    code, _, err = wb(
        demo_repo,
        "--as",
        "dana.okafor",
        "evidence",
        "add",
        str(csv),
        "--kind",
        "group_counts",
        "--contract",
        "applicant-data-to-credit-model",
        "--term",
        "age-representatoin",
        capsys=capsys,
    )
    assert code == 2 and "did you mean 'age-representation'?" in err


def test_every_command_help_has_examples() -> None:
    from workbench.cli.help import subparsers
    from workbench.cli.main import build_parser

    parser = build_parser()
    assert "examples:" in parser.format_help()
    missing = [path for path, p in subparsers(parser) if "examples:" not in p.format_help()]
    assert missing == []


def test_global_options_work_after_the_command(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["evaluate", "--readonly", "--repo", str(demo_repo)])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "recorded" not in out


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_for_each_shell(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "workbench" in script and "_ARGCOMPLETE" in script


def test_completion_offers_contract_ids(demo_repo: Path) -> None:
    import os
    import sys

    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_IFS": "\n",
        "COMP_LINE": "workbench show applicant",
        "COMP_POINT": "24",
    }
    # argcomplete answers the shell on fd 8, as the completion script arranges.
    workbench = Path(sys.executable).with_name("workbench")
    proc = subprocess.run(
        ["bash", "-c", f"{workbench} 8>&1 9>/dev/null"],
        cwd=demo_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout.split() == ["applicant-data-to-credit-model"], proc.stderr


ODCS = Path(__file__).resolve().parents[1] / "data" / "odcs" / "orders.odcs.yaml"


def test_import_odcs_maps_terms_and_people_and_reports_the_rest(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb(repo, "person", "add", "grace.hopper", "--name", "Grace Hopper", "--email",
       "grace@acme.example", capsys=capsys)  # fmt: skip
    code, out, err = wb(
        repo, "import", "odcs", str(ODCS), "--provider", "data", "--consumer", "model",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    contract = tomllib.loads((repo / "contracts/orders-to-model.toml").read_text())
    terms = {t["id"]: t for t in contract["terms"]}
    assert terms["freshness-orders"]["fail_after"] == "PT4H"
    assert terms["freshness-orders"]["sources"] == ["orders"]
    assert terms["orders-amount-bounds"]["kind"] == "bounds"
    assert (terms["orders-amount-bounds"]["min"], terms["orders-amount-bounds"]["max"]) == (
        0.0,
        100000.0,
    )
    assert terms["no-negative-totals"]["kind"] == "sql"
    assert terms["no-negative-totals"]["direction"] == "at_most"
    # Members: the one already registered (same email) is matched, the leaver is added
    # with their succession.
    data = people(repo)
    old = next(p for p in data["people"] if p["id"] == "old.hand")
    assert old["replaced_by"] == "grace.hopper" and str(old["left"]) == "2026-01-31"
    assert [p["id"] for p in data["people"]].count("grace") == 0
    # Nothing dropped silently: each unmapped key is reported.
    for unmapped in (
        "UNMAPPED  slaProperties[1].property",
        "UNMAPPED  schema[0].quality[1].metric",
        "UNMAPPED  price.priceAmount",
        "UNMAPPED  schema[0].properties[1].classification",
    ):
        assert unmapped in out
    # Export gives the data-side terms back, validated by the ODCS package.
    code, out, err = wb(repo, "export", "odcs", "orders-to-model", capsys=capsys)
    assert code == 0, err
    import yaml
    from open_data_contract_standard.model import OpenDataContractStandard

    doc = OpenDataContractStandard.from_string(out)
    assert doc.slaProperties[0].property == "latency" and doc.slaProperties[0].value == 4.0
    assert doc.schema_[0].properties[0].logicalTypeOptions == {"minimum": 0.0, "maximum": 100000.0}
    assert doc.schema_[0].quality[0].mustBeLessOrEqualTo == 0.0
    assert yaml.safe_load(out)["id"] == "orders-to-model"


def test_import_odcs_refuses_a_file_that_is_not_odcs(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v3.0.2\nunknownTopLevel: 1\n")
    head = git(repo, "rev-parse", "HEAD")
    code, _, err = wb(
        repo, "import", "odcs", str(bad), "--provider", "data", "--consumer", "model",
        capsys=capsys,
    )  # fmt: skip
    assert code == 2 and "not a valid ODCS v3 document" in err
    assert git(repo, "rev-parse", "HEAD") == head


def test_bounds_term_fails_values_outside_and_non_numbers(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from workbench.evidence.checks import judge_rows
    from workbench.model.terms import BoundsTerm

    term = BoundsTerm(id="b", kind="bounds", owner="ada", view="custom", column="x", min=0, max=10)
    now = datetime.now(UTC)
    row = {"n": 4, "outside": 1, "min_value": -1.0, "max_value": 5.0}
    assert judge_rows(term, [row], now).status == "fail"
    assert judge_rows(term, [{**row, "outside": 0}], now).status == "pass"
    assert judge_rows(term, [{**row, "n": 0, "outside": 0}], now).status == "no-data"
    with pytest.raises(ValueError, match="give min, max or both"):
        BoundsTerm(id="b", kind="bounds", owner="ada", view="custom", column="x")
