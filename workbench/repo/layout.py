"""Where things live in a governance repo (see docs/architecture.md)."""

from __future__ import annotations

SETTINGS = "workbench.toml"
PEOPLE = "keys/people.toml"
CONTRACTS = "contracts/"
SCHEMA = "schema/contract.schema.json"
SCHEMA_LINE = "#:schema ../schema/contract.schema.json"

# Directories whose small text files make up the governance state. Evidence snapshot
# files themselves are not loaded here (they can be large); only the manifest is.
STATE_DIRS = (
    "contracts/",
    "keys/",
    "attestations/",
    "actions/",
    "diagnostics/",
    "reviews/",
    "acks/",
    "reports/",
)
STATE_FILES = (SETTINGS, "evidence/manifest.toml")


def is_state_path(path: str) -> bool:
    if path.endswith("/"):
        return any(path.startswith(d) or d.startswith(path) for d in STATE_DIRS)
    return path in STATE_FILES or path.startswith(STATE_DIRS)


def contract_path(contract_id: str) -> str:
    return f"{CONTRACTS}{contract_id}.toml"
