"""`workbench`: the command line. Every capability, headless, with stable exit codes.

Exit codes: 0 ok, 1 the check found problems, 2 usage or input error.
Heavy libraries (textual, duckdb, pygit2) are imported inside commands, never here, so
`workbench --help` and scripts stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from types import ModuleType

from workbench import __version__

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def command_modules() -> list[ModuleType]:
    """The command modules, in the order of `--help`: each has `register(subparsers)`, and
    its commands set `func(args) -> int`."""
    from workbench.cli import (
        authoring,
        bundle,
        completion,
        core,
        evidence,
        interop,
        notify,
        obligations,
        signing,
        sync,
    )

    return [
        core,
        authoring,
        signing,
        evidence,
        obligations,
        bundle,
        interop,
        completion,
        notify,
        sync,
    ]


def parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--now {text!r}: expected an ISO-8601 time such as 2026-11-27T09:00:00Z"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        from workbench.cli.suggestions import command_suggestion

        message += command_suggestion(message)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="workbench",
        description=(
            "Handshake Workbench: version-controlled contracts for the seams between teams. "
            "Run without a command to open the terminal app."
        ),
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument(
        "--repo",
        metavar="DIR",
        help="governance repo (default: the one containing the current directory)",
    )
    parser.add_argument(
        "--as", dest="actor", metavar="PERSON", help="act as this person from keys/people.toml"
    )
    parser.add_argument(
        "--now",
        type=parse_now,
        metavar="TIME",
        help=(
            "what-if: judge time rules at this moment (ISO-8601; default: now). Read-only: "
            "commands that record something refuse it, records carry the real time"
        ),
    )
    parser.add_argument(
        "--readonly", action="store_true", help="refuse every action that would change the repo"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in command_modules():
        module.register(sub)
    from workbench.cli.help import finish_parsers

    finish_parsers(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from workbench.cli.output import terminal_streams

    # One door for everything printed, usage errors included: repo, bundle and evidence
    # text reaches the terminal only with its control characters made visible.
    with terminal_streams():
        parser = build_parser()
        from workbench.cli.completion import autocomplete

        autocomplete(parser)
        args = parser.parse_args(argv)  # --help, --version and usage errors exit here
        if args.command is None:
            from workbench.cli.core import open_tui

            args.func = open_tui
        refusal = what_if_refusal(args)
        if refusal:
            print(f"workbench: {refusal}", file=sys.stderr)
            return EXIT_USAGE
        from workbench.service.process import one_shot_process

        try:
            try:
                # A command ends with its process; the app opts out (`open_tui`).
                with one_shot_process():
                    return int(args.func(args) or 0)
            finally:
                # Only a command that opened a session (and so imported the service)
                # verified anything worth keeping.
                if "workbench.service.core" in sys.modules:
                    from workbench.service.core import keep_verified_signatures

                    keep_verified_signatures()
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return EXIT_OK
        except Exception as exc:  # noqa: BLE001 - translated into a message, never a traceback
            return report_error(exc, args)


def what_if_refusal(args: argparse.Namespace) -> str | None:
    """Why this command may not run with --now, or None.

    A command that records something (a review, an acknowledgement, a closure, a commit)
    stamps the real time: a chosen `--now` would let anyone make a record "before" its
    deadline after the fact. `--readonly` turns such a command into a dry run at `--now`.
    """
    if args.now is None or args.readonly:
        return None
    writes = getattr(args, "writes", False)
    if callable(writes):
        writes = writes(args)
    if not writes:
        return None
    return (
        f"--now is a what-if for reading and cannot be used with `{args.command}`, which "
        "records something: records and commits carry the real time. Run it without --now "
        "(or add --readonly for a dry run where the command has one)."
    )


def report_error(exc: BaseException, args: argparse.Namespace | None = None) -> int:
    from workbench.cli.errors import describe_error
    from workbench.cli.suggestions import suggestion

    message, code = describe_error(exc)
    if code == EXIT_USAGE:
        message += suggestion(message, args)
    print(f"workbench: {message}", file=sys.stderr)
    return code
