"""`workbench import odcs FILE` without --provider/--consumer: the two teams from the ODCS
document (customProperties, team.name, dataProduct, its registered members) and the
registry (the only other team), and a clear exit-2 error naming the flag to pass when they
cannot be decided. Real ODCS documents (each validated by the open-data-contract-standard
package here), real repos, real keys."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from open_data_contract_standard.model import OpenDataContractStandard

from tests.cli.test_authoring import git, people, wb
from workbench.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "data" / "odcs"


@pytest.fixture
def repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "acme"
    code = main(
        ["init", str(target), "--org", "Acme", "--domain", "acme.example",
         "--team", "data", "--team-name", "Data Engineering", "--lead", "ada",
         "--lead-name", "Ada Lovelace",
         "--team", "model", "--team-name", "Modelling", "--lead", "alan",
         "--lead-name", "Alan Turing", "--no-passphrase"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    return target


def document(name: str) -> Path:
    path = DATA / name
    # Each test document is a valid ODCS v3 document by the package's own model.
    OpenDataContractStandard(**yaml.safe_load(path.read_text(encoding="utf-8")))
    return path


def seam(repo: Path, contract_id: str) -> dict[str, str]:
    contract = tomllib.loads((repo / "contracts" / f"{contract_id}.toml").read_text())
    return contract["seam"]


def test_teams_from_custom_properties_top_level_and_on_a_server(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = wb(
        repo, "import", "odcs", str(document("parties-in-custom-properties.odcs.yaml")),
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert seam(repo, "payments-to-risk")["provider"] == "data"  # by its name
    assert seam(repo, "payments-to-risk")["consumer"] == "model"
    assert "provider data: from customProperties[0]" in out
    assert "consumer model: from servers[0].customProperties[0]" in out
    # The properties read are no longer unmapped; the rest of the server still is.
    assert "UNMAPPED  customProperties[0]" not in out
    assert "UNMAPPED  servers[0].customProperties" not in out
    assert "UNMAPPED  servers[0].host" in out and "UNMAPPED  dataProduct" in out


def test_orders_document_team_name_and_the_only_other_team(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = wb(repo, "import", "odcs", str(document("orders.odcs.yaml")), capsys=capsys)
    assert code == 0, err
    assert seam(repo, "orders-to-model") == {
        "provider": "data", "consumer": "model", "kind": "data-model"
    }  # fmt: skip
    assert "provider data: from team.name" in out
    assert "consumer model: the only other team in keys/people.toml" in out


def test_provider_from_the_registered_members(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb(repo, "person", "add", "grace.hopper", "--name", "Grace Hopper", "--email",
       "grace@acme.example", "--team", "data", capsys=capsys)  # fmt: skip
    path = document("parties-from-members.odcs.yaml")
    code, out, err = wb(repo, "import", "odcs", str(path), "--id", "customer-events",
                        capsys=capsys)  # fmt: skip
    assert code == 0, err
    assert seam(repo, "customer-events")["provider"] == "data"
    assert "provider data: 2 of its current members are registered in team data" in out
    # The leaver is imported with the succession; the unmapped SLA is reported.
    leaver = next(p for p in people(repo)["people"] if p["id"] == "cw")
    assert leaver["replaced_by"] == "grace.hopper" and leaver["team"] == "data"
    assert "UNMAPPED  slaProperties[1].property" in out


def test_a_team_the_registry_does_not_have_is_an_error_naming_the_flag(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    path = document("parties-unknown-team.odcs.yaml")
    code, out, err = wb(repo, "import", "odcs", str(path), capsys=capsys)
    assert code == 2, (out, err)
    assert "customProperties[0].value names the provider team 'payments-platform'" in err
    assert "pass --provider TEAM (teams: data, model)" in err
    assert "Traceback" not in err
    assert git(repo, "rev-parse", "HEAD") == head
    # The flag decides it.
    code, _, err = wb(repo, "import", "odcs", str(path), "--provider", "data", capsys=capsys)
    assert code == 0, err
    assert seam(repo, "ledger-to-finance") == {
        "provider": "data", "consumer": "model", "kind": "data-model"
    }  # fmt: skip


def test_nothing_to_go_by_is_an_error_naming_the_flag(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = document("parties-none.odcs.yaml")
    code, _, err = wb(repo, "import", "odcs", str(path), capsys=capsys)
    assert code == 2
    assert "cannot tell the provider (data) team" in err
    assert "none of its current members is registered" in err
    assert "pass --provider TEAM (teams: data, model)" in err
    # With a third team, the consumer is no longer the only other one.
    wb(repo, "person", "add", "joan", "--name", "Joan", "--email", "joan@acme.example",
       capsys=capsys)  # fmt: skip
    code, _, err = wb(repo, "team", "add", "product", "--name", "Product", "--lead", "joan",
                      capsys=capsys)  # fmt: skip
    assert code == 0, err
    head = git(repo, "rev-parse", "HEAD")
    code, _, err = wb(repo, "import", "odcs", str(path), "--provider", "data", capsys=capsys)
    assert code == 2
    assert "cannot tell the consumer team" in err
    assert "pass --consumer TEAM (teams: model, product)" in err
    assert git(repo, "rev-parse", "HEAD") == head


def test_two_places_naming_different_teams_is_an_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = document("parties-in-conflict.odcs.yaml")
    code, _, err = wb(repo, "import", "odcs", str(path), capsys=capsys)
    assert code == 2
    assert "names more than one provider team" in err
    assert "customProperties[0] names model" in err and "team.name names data" in err
    assert "pass --provider TEAM" in err


def test_a_document_naming_one_team_on_both_sides_is_refused(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = yaml.safe_load(document("orders.odcs.yaml").read_text())
    raw["customProperties"] = [{"property": "consumer", "value": "Data Engineering"}]
    path = tmp_path / "same.odcs.yaml"
    path.write_text(yaml.safe_dump(raw))
    OpenDataContractStandard(**raw)
    code, _, err = wb(repo, "import", "odcs", str(path), capsys=capsys)
    assert code == 2
    assert "both team data" in err and "--consumer TEAM" in err


def test_a_mistyped_flag_gets_did_you_mean_before_the_file_is_read(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = wb(repo, "import", "odcs", "no-such-file.yaml", "--consumer", "modle",
                      capsys=capsys)  # fmt: skip
    assert code == 2 and "did you mean 'model'" in err
    code, _, err = wb(repo, "import", "odcs", "no-such-file.yaml", capsys=capsys)
    assert code == 2 and "no-such-file.yaml: cannot read it" in err
