"""Turn exceptions into one clear message and an exit code (never a traceback)."""

from __future__ import annotations

import os
import sys
import traceback


def describe_error(exc: BaseException) -> tuple[str, int]:
    from workbench.service.errors import InvalidEdit, WorkbenchError

    if isinstance(exc, InvalidEdit):
        lines = [str(exc)] + [p.render() for p in exc.problems]
        return "\n".join(lines), 2
    if isinstance(exc, WorkbenchError):
        return str(exc), 2
    name = type(exc).__name__
    module = type(exc).__module__
    # Library errors with a clear meaning for the user are input errors too.
    known = (
        "RevisionError",
        "EditError",
        "PrivateKeyMaterial",
        "DurationError",
        "UnsafePath",
        # The write door's refusals when a command commits below the service (init, demo).
        "WriteRefused",
        "WriteConflict",
        "WriteBusy",
    )
    if name in known or module.startswith(
        ("workbench.signing", "workbench.evidence", "workbench.bundle")
    ):
        return str(exc), 2
    if module.startswith(("pygit2", "_pygit2")):
        # libgit2 says what is wrong with the repository (a locked index, a corrupt object).
        return f"git: {exc}", 2
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 2
    if os.environ.get("WORKBENCH_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    return f"unexpected error ({name}): {exc}\nset WORKBENCH_DEBUG=1 for details", 2
