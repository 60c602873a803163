"""The contract reference and the JSON Schema are generated from the models; keep them in sync."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.model.reference import BEGIN, END, generate
from workbench.model.schema import contract_schema

PROJECT = Path(__file__).resolve().parents[2]


def test_docs_contracts_contains_the_generated_reference() -> None:
    text = (PROJECT / "docs/contracts.md").read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] + "\n" == generate(), (
        "docs/contracts.md is out of date: regenerate the section with "
        "`python -m workbench.model.reference`"
    )


def test_committed_json_schema_matches_the_models() -> None:
    committed = json.loads((PROJECT / "schema/contract.schema.json").read_text(encoding="utf-8"))
    assert committed == contract_schema()


def test_every_term_kind_and_field_is_documented() -> None:
    text = generate()
    from workbench.model.terms import TERM_KINDS

    for kind, model in TERM_KINDS.items():
        assert f'kind = "{kind}"' in text
        for name in model.model_fields:
            assert f"`{name}`" in text


def test_schema_accepts_the_sample_contracts() -> None:
    import tomllib

    import jsonschema

    schema = contract_schema()
    for path in sorted((PROJECT / "contracts").glob("*.toml")):
        data = json.loads(json.dumps(tomllib.loads(path.read_text()), default=str))
        jsonschema.validate(data, schema)
