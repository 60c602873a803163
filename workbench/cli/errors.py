"""Turn exceptions into one clear message and an exit code (never a traceback).

Mapped by class: every error a user can fix is a ``WorkbenchError``
(``workbench.model.errors``) and carries its exit code; libgit2's errors and the
operating system's say what is wrong with the repository or a file.
"""

from __future__ import annotations

import os
import sys
import traceback

from workbench.model.errors import EXIT_USAGE, WorkbenchError


def describe_error(exc: BaseException) -> tuple[str, int]:
    from workbench.service.errors import InvalidEdit

    if isinstance(exc, InvalidEdit):
        lines = [str(exc)] + [p.render() for p in exc.problems]
        return "\n".join(lines), exc.exit_code
    if isinstance(exc, WorkbenchError):
        return str(exc), exc.exit_code
    # pygit2 is loaded only by commands that read git: an error of it cannot come otherwise.
    pygit2 = sys.modules.get("pygit2")
    if pygit2 is not None and isinstance(exc, pygit2.GitError):
        # libgit2 says what is wrong with the repository (a locked index, a corrupt object).
        return f"git: {exc}", EXIT_USAGE
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), EXIT_USAGE
    if os.environ.get("WORKBENCH_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    name = type(exc).__name__
    return f"unexpected error ({name}): {exc}\nset WORKBENCH_DEBUG=1 for details", EXIT_USAGE
