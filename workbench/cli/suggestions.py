""" "Did you mean": a suggestion added to an error that names an unknown id.

The errors come from every room (no contract 'x', 'x' is not a person, no term 'y'); the
closest ids are found here, once, from the repository the command ran on, so no room needs
its own copy. Repo text read here is only compared, and printed through the CLI's
terminal-safe streams like everything else.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

from workbench.model.suggest import did_you_mean

_CONTRACT = re.compile(r"no (?:committed )?contract '([^']+)'")
_PERSON = re.compile(r"'([^']+)' is not a person in keys/people\.toml")
_TERM = re.compile(r"contract '([^']+)' has no term '([^']+)'")


def _root(args: argparse.Namespace | None) -> Path | None:
    from workbench.service.errors import WorkbenchError
    from workbench.service.root import find_root

    try:
        return find_root(Path(getattr(args, "repo", None) or Path.cwd()))
    except (WorkbenchError, OSError):
        return None


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _people(root: Path) -> list[str]:
    people = _toml(root / "keys" / "people.toml").get("people", [])
    if not isinstance(people, list):
        return []
    return [p["id"] for p in people if isinstance(p, dict) and isinstance(p.get("id"), str)]


def _contracts(root: Path) -> list[str]:
    folder = root / "contracts"
    return [p.stem for p in folder.glob("*.toml")] if folder.is_dir() else []


def _terms(root: Path, contract_id: str) -> list[str]:
    if contract_id not in _contracts(root):
        return []
    terms = _toml(root / "contracts" / f"{contract_id}.toml").get("terms", [])
    if not isinstance(terms, list):
        return []
    return [t["id"] for t in terms if isinstance(t, dict) and isinstance(t.get("id"), str)]


def suggestion(message: str, args: argparse.Namespace | None) -> str:
    """The "; did you mean ...?" for `message`, or ''."""
    if "did you mean" in message:
        return ""
    found = _TERM.search(message) or _CONTRACT.search(message) or _PERSON.search(message)
    if found is None:
        return ""
    root = _root(args)
    if root is None:
        return ""
    if found.re is _TERM:
        return did_you_mean(found.group(2), _terms(root, found.group(1)))
    if found.re is _CONTRACT:
        return did_you_mean(found.group(1), _contracts(root))
    return did_you_mean(found.group(1), _people(root))


def command_suggestion(message: str) -> str:
    """For argparse's "invalid choice: 'stauts' (choose from 'status', ...)"."""
    found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if found is None:
        return ""
    choices = re.findall(r"'([^']*)'", found.group(2))
    return did_you_mean(found.group(1), choices)
