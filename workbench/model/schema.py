"""JSON Schema for contracts, for editors (Taplo / Even Better TOML read `#:schema`)."""

from __future__ import annotations

from typing import Any

from workbench.model.contract import Contract


def contract_schema() -> dict[str, Any]:
    schema = Contract.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Handshake contract"
    schema["description"] = (
        "One handshake contract per seam between two teams. Reference: docs/contracts.md"
    )
    return schema
