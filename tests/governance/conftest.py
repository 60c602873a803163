"""Governance rules on the sample content, with hand-built histories and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.governance.history import ContractHistory, ContractVersion
from workbench.model.contract import Contract
from workbench.model.state import GovernanceState, load_state, parse_document

PROJECT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CREDIT1 = "applicant-data-to-credit-model"
FAIR = "loan-decisioning-to-fair-lending"


def sample_files(**overrides: bytes | None) -> dict[str, bytes]:
    files = {
        "workbench.toml": (PROJECT / "workbench.toml").read_bytes(),
        "keys/people.toml": (PROJECT / "keys/people.toml").read_bytes(),
    }
    for path in sorted((PROJECT / "contracts").glob("*.toml")):
        files[f"contracts/{path.name}"] = path.read_bytes()
    for path, data in overrides.items():
        if data is None:
            files.pop(path, None)
        else:
            files[path] = data
    return files


def state_of(files: dict[str, bytes] | None = None, now: datetime = NOW) -> GovernanceState:
    return load_state(files or sample_files(), now.date())


def contract_text(cid: str) -> str:
    return (PROJECT / "contracts" / f"{cid}.toml").read_text(encoding="utf-8")


def parse(cid: str, text: str) -> Contract:
    doc, problems = parse_document(f"contracts/{cid}.toml", text.encode())
    assert not problems and doc.data is not None
    return Contract.model_validate(doc.data)


def version(
    cid: str, text: str, when: datetime, email: str, commit: str, msg: str = "change"
) -> ContractVersion:
    return ContractVersion(commit * 5, "Author", email, when, msg, text.encode(), parse(cid, text))


def history(cid: str, *versions: ContractVersion) -> dict[str, ContractHistory]:
    return {cid: ContractHistory(cid, list(versions))}


@pytest.fixture
def state() -> GovernanceState:
    return state_of()
