"""Where things live in a governance repo (see docs/architecture.md).

Every path built from an id someone typed or committed goes through `checked_id` first:
ids are slugs (no "/", no "..", no leading dot), so a path made from one cannot leave its
folder, let alone the repository (``workbench show ../../etc/x`` is refused).
"""

from __future__ import annotations

from pathlib import Path

from workbench.model.ids import UnsafePath as UnsafePath
from workbench.model.ids import checked_id as checked_id
from workbench.model.safe_text import line

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
    return f"{CONTRACTS}{checked_id(contract_id)}.toml"


def checked_relative(path: str) -> str:
    """A repo-relative path that stays inside the repo: no absolute path, no '..', '.' or
    empty component, no backslash or NUL (UnsafePath otherwise)."""
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\0" in path
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise UnsafePath(f"'{line(path)}': not a path inside the repository")
    return path


# Governance records beyond the state files: evaluation findings and their closures,
# regulatory clocks, page acknowledgements and delivery records.
RECORD_DIRS = ("findings/", "clocks/", "notify/")

# Signed records, one file per act and author, each with its statement and signature
# beside it (`workbench.signing.record_statement`); their folders are named once, in
# `workbench.model.record_folders`.


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
