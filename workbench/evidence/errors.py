"""Errors raised by the evidence room (sandbox, evidence kinds, manifest).

Every error carries a message meant for a person reading the CLI or the TUI:
it names what was refused or what is wrong, never a Python traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.model.errors import Position, WorkbenchError

if TYPE_CHECKING:
    from workbench.evidence.kinds import SchemaProblem


class EvidenceError(WorkbenchError):
    """Base class for every error of `workbench.evidence`."""


class SandboxError(EvidenceError):
    """The sandbox could not be set up (bad view name, unreadable evidence file...)."""


class SqlRefused(EvidenceError):
    """Contract SQL was refused before execution by the read-only guard."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"SQL refused: {reason}")
        self.reason = reason


class QueryFailed(EvidenceError):
    """DuckDB reported an error while running an accepted query.

    `message` is DuckDB's first paragraph (the cause); `detail` is its whole text,
    which for CSV errors includes the sniffer dump.
    """

    def __init__(self, message: str, *, detail: str | None = None, kind: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail if detail is not None else message
        # "error", "out_of_memory", "permission", "cancelled", "timeout"
        self.kind = kind


class QueryTimeout(QueryFailed):
    """The query ran longer than the sandbox's time limit and was interrupted."""

    def __init__(self, timeout_s: float, elapsed_s: float) -> None:
        super().__init__(
            f"query interrupted: time limit of {timeout_s:g} s exceeded", kind="timeout"
        )
        self.timeout_s = timeout_s
        self.elapsed_s = elapsed_s


class BudgetExhausted(QueryFailed):
    """The run's time budget ran out before or while this query ran (it was interrupted)."""

    def __init__(self, elapsed_s: float) -> None:
        super().__init__("the run's time budget is used up", kind="budget")
        self.elapsed_s = elapsed_s


class QueryCancelled(QueryFailed):
    """The query was interrupted by `Sandbox.cancel()` (e.g. Esc in the evidence console)."""

    def __init__(self, elapsed_s: float) -> None:
        super().__init__("query cancelled", kind="cancelled")
        self.elapsed_s = elapsed_s


class UnknownFormat(EvidenceError):
    """An evidence file's suffix does not name a supported format."""


class ManifestError(EvidenceError):
    """`evidence/manifest.toml` could not be parsed or is invalid.

    `problems` lists every problem found, each naming the snapshot and field.
    """

    def __init__(self, filename: str, problems: list[str]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{filename}: invalid evidence manifest\n{lines}", position=Position(filename)
        )
        self.filename = filename
        self.problems = problems


class UnknownKind(EvidenceError):
    """An evidence kind name is not one of `workbench.evidence.kinds.KINDS`."""


class UnsafePath(EvidenceError):
    """A snapshot path would leave the repository (`..`, symlink escape) or is malformed."""


class NotRegularFile(UnsafePath):
    """An evidence path names a directory, FIFO, socket or device (found when it is opened):
    never read, since a FIFO would block the read and a device would never end it."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path} is {what}, not a regular file; not read")
        self.path = path
        self.what = what


class EvidenceSchemaError(EvidenceError):
    """A file offered as evidence does not match its kind's schema; `problems` name columns."""

    def __init__(self, path: object, kind: str, problems: list[SchemaProblem]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{path} does not match evidence kind {kind!r}:\n{lines}", position=Position(str(path))
        )
        self.problems = problems
