"""Finishing touches on the argparse tree: global options after the command, examples in
every `--help`, and "did you mean" for a mistyped command."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

# Options of `workbench` itself that a user naturally types after the command too
# (`workbench evaluate --readonly`). Given after it, they override the ones before.
GLOBAL_OPTIONS = ("--repo", "--as", "--now", "--readonly")


def subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every (command path, parser) below `parser`, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                path = f"{parser.prog.removeprefix('workbench').strip()} {name}".strip()
                yield path, child
                yield from subparsers(child)


def leaf(parser: argparse.ArgumentParser) -> bool:
    return not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


class ExamplesFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual; keeps the examples' lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def finish_parsers(parser: argparse.ArgumentParser) -> None:
    from workbench.cli.examples import EXAMPLES

    top = {opt: a for a in parser._actions for opt in a.option_strings}
    parser.formatter_class = ExamplesFormatter
    parser.epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[""])
    from workbench.cli.completion import attach_completers

    attach_completers(parser, "")
    for path, child in subparsers(parser):
        attach_completers(child, path)
        if leaf(child):
            for option in GLOBAL_OPTIONS:
                if option in child._option_string_actions:
                    continue  # the command has its own meaning for it (e.g. `sign --as`)
                original = top[option]
                kwargs: dict[str, object] = {
                    "dest": original.dest,
                    "default": argparse.SUPPRESS,
                    "help": argparse.SUPPRESS,
                }
                if isinstance(original, argparse._StoreTrueAction):
                    kwargs["action"] = "store_true"
                else:
                    kwargs["metavar"] = original.metavar
                    if original.type is not None:
                        kwargs["type"] = original.type
                child.add_argument(option, **kwargs)  # type: ignore[arg-type]
        examples = EXAMPLES.get(path)
        if examples:
            child.formatter_class = ExamplesFormatter
            child.epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
