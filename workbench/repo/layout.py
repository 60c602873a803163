"""Where things live in a governance repo (see docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

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


# Governance records beyond the state files: evaluation findings and their closures.
RECORD_DIRS = ("findings/",)


def is_governance_path(path: str) -> bool:
    """State files plus the other committed records the gate judges (findings)."""
    if path.endswith("/"):
        return is_state_path(path) or any(
            path.startswith(d) or d.startswith(path) for d in RECORD_DIRS
        )
    return is_state_path(path) or path.startswith(RECORD_DIRS)


# Inside the git dir: never committed, never cloned.
LOCAL_DIR = ".git/handshake-workbench"
DEMO_INCOMPLETE = "demo-incomplete"


def demo_marker(root: Path) -> Path:
    """Written first and removed last by `workbench demo`: a demo that has it was
    interrupted (killed, a full disk) and only looks complete."""
    return Path(root) / LOCAL_DIR / DEMO_INCOMPLETE


def demo_incomplete(root: Path) -> bool:
    return demo_marker(root).is_file()
