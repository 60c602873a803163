"""Shell completion (bash, zsh, fish) with argcomplete, from the argparse tree itself.

argcomplete reads the same parser the CLI runs, so a new command or option completes without
a hand-kept script; ids complete from the repo in the current directory (contract ids for
`id`, person ids for `--as`, `--lead`, `--replaced-by`, team ids for `--team`, `--provider`,
`--consumer`). It is imported only when the shell asks ($_ARGCOMPLETE is set) or for
`workbench completion`, so ordinary commands pay nothing for it.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "completion",
        help="print the shell completion script for bash, zsh or fish",
        description="Load it in your shell's start-up file, e.g. for bash: "
        'eval "$(workbench completion bash)"; for zsh: eval "$(workbench completion zsh)"; '
        "for fish: workbench completion fish | source",
    )
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(func=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:

    from argcomplete.shell_integration import shellcode

    print(shellcode(["workbench"], shell=args.shell))
    return 0


def _people_file() -> dict[str, object]:
    from workbench.service.root import find_root

    try:
        root = find_root(Path.cwd())
        return tomllib.loads((root / "keys" / "people.toml").read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - completion never fails loudly
        return {}


def contract_ids(**_: object) -> list[str]:
    from workbench.service.root import find_root

    try:
        return sorted(p.stem for p in (find_root(Path.cwd()) / "contracts").glob("*.toml"))
    except Exception:  # noqa: BLE001
        return []


def person_ids(**_: object) -> list[str]:
    people = _people_file().get("people", [])
    if not isinstance(people, list):
        return []
    return [p["id"] for p in people if isinstance(p, dict) and isinstance(p.get("id"), str)]


def team_ids(**_: object) -> list[str]:
    teams = _people_file().get("teams", [])
    if not isinstance(teams, list):
        return []
    return [t["id"] for t in teams if isinstance(t, dict) and isinstance(t.get("id"), str)]


PERSON_OPTIONS = {"--as", "--lead", "--replaced-by", "--person", "--for", "--approver"}
TEAM_OPTIONS = {"--team", "--provider", "--consumer"}


def attach_completers(parser: argparse.ArgumentParser, path: str) -> None:
    """Id completers on the arguments that take ids."""
    for action in parser._actions:
        if action.choices is not None:
            continue
        options = set(action.option_strings)
        if options & PERSON_OPTIONS or (not options and action.dest == "person"):
            action.completer = person_ids  # type: ignore[attr-defined]
        elif options & TEAM_OPTIONS or (path.startswith("team ") and action.dest == "id"):
            action.completer = team_ids  # type: ignore[attr-defined]
        elif path.startswith("person ") and action.dest == "id":
            action.completer = person_ids  # type: ignore[attr-defined]
        elif action.dest == "id" or options & {"--contract"}:
            action.completer = contract_ids  # type: ignore[attr-defined]


def autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit, when there is one."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)
