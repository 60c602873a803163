"""`workbench` with no command: open the terminal app on the governance repo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.service.core import Workbench
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.preload import Preload

ESCAPE_DELAY_MS = 50

NOT_A_REPO = """\
workbench: {reason}

The terminal app opens on a governance repo (a git work tree with a workbench.toml).
  • start one:        workbench init DIR   (then: cd DIR && workbench)
  • try the demo:     workbench demo       (builds a sample repo and opens it)
  • point at one:     workbench --repo DIR
"""


def run(args: argparse.Namespace) -> int:
    from workbench.service.core import Workbench
    from workbench.service.errors import NotAGovernanceRepo, WorkbenchError
    from workbench.service.root import find_root, unfinished_demo_warning

    start = Path(args.repo) if getattr(args, "repo", None) else Path.cwd()
    try:
        root = find_root(start)
        warning = unfinished_demo_warning(root)
        if warning is not None:
            print(warning, file=sys.stderr)
        service = Workbench(
            root,
            now=getattr(args, "now", None),
            readonly=bool(getattr(args, "readonly", False)),
            actor=getattr(args, "actor", None),
            # --now is a what-if: the app judges at it and refuses to record anything.
            what_if=getattr(args, "now", None) is not None,
        )
    except NotAGovernanceRepo as exc:
        print(NOT_A_REPO.format(reason=str(exc).splitlines()[0]), file=sys.stderr, end="")
        return 2
    except WorkbenchError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 2
    # Load the state while Textual is imported and the first screen is built.
    from workbench.tui import preload

    started = preload.start(service)
    app = build_app(service, preload=started)
    result = app.run()
    started.finish(timeout=1.0)
    code = int(result or app.return_code or 0)
    _exit_without_waiting_for_background_work(code)
    return code


def _exit_without_waiting_for_background_work(code: int) -> None:
    """A still-running background computation (e.g. seam marks on a huge repo) cannot be
    interrupted and would hold the process open after the user quit; edits are already
    committed or kept as drafts by then, so leave at once."""
    import os
    import threading

    if any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def build_app(
    service: Workbench, *, cursor_blink: bool = True, preload: Preload | None = None
) -> WorkbenchApp:
    """The app with the user's theme and keymap (from the XDG config dir)."""
    import os

    # A terminal sends Escape as the first byte of other keys too, so a lone Escape is only
    # known after a pause: Textual waits 100 ms, which alone is a keystroke's whole budget
    # for "back" (neovim waits 50 ms, tmux 3.5 10 ms). Read when Textual is first imported;
    # the user's own ESCDELAY (milliseconds) wins, and an editor started from the app does
    # not inherit ours.
    ours = "ESCDELAY" not in os.environ
    if ours:
        os.environ["ESCDELAY"] = str(ESCAPE_DELAY_MS)
    try:
        from workbench.tui.app import WorkbenchApp
    finally:
        if ours:
            os.environ.pop("ESCDELAY", None)
    from workbench.tui.bindings import load_keymap
    from workbench.tui.config import load_theme

    keymap, notices = load_keymap()
    theme, theme_notices = load_theme()
    return WorkbenchApp(
        service,
        theme=theme,
        keymap=keymap,
        notices=notices + theme_notices,
        cursor_blink=cursor_blink,
        preload=preload,
    )
