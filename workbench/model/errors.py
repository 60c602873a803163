"""The one root of every error a person can fix (pure: no I/O).

Bad input, a refused act, a repository in a state that forbids a write: each is a
``WorkbenchError``. Front ends show it as a message, never a traceback: the CLI prints
it and exits with ``exit_code`` (2), the app shows it in a dialog. Every room's errors
derive from it (``signing.errors.SigningError``, ``evidence.errors.EvidenceError``,
the service's refusals, the repo's write refusals, the bundle's format errors), so a
front end maps an error by its class (``isinstance``), never by its name.

``position`` says where the problem is when the raiser knows it (file, line, column, or
the field); the message already names it for a person, the attribute is for programs.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_USAGE = 2  # the CLI's exit code for a usage or input error


@dataclass(frozen=True)
class Position:
    """Where in the input a problem is: a file, with a line and column, or a field."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def render(self) -> str:
        """``file:line:column`` (as far as known), then ``(field)``."""
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        if self.field:
            where = f"{where} ({self.field})" if where else self.field
        return where


class WorkbenchError(Exception):
    """A usage or input problem the user can fix; never shown as a traceback."""

    exit_code: int = EXIT_USAGE
    position: Position | None = None

    def __init__(self, *args: object, position: Position | None = None) -> None:
        super().__init__(*args)
        if position is not None:
            self.position = position
