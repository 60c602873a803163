"""The service's refusals: each a ``WorkbenchError`` (``workbench.model.errors``), shown
to the user as a message (CLI exit 2, TUI dialog)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.model.errors import Position, WorkbenchError
from workbench.repo.errors import WriteConflict, WriteRefused

if TYPE_CHECKING:
    from workbench.model.problems import Problem

__all__ = [
    "InvalidContract",
    "InvalidEdit",
    "NotAGovernanceRepo",
    "ReadOnlyError",
    "SettingsInvalid",
    "UnknownContract",
    "WhatIfError",
    "WorkbenchError",
    "WriteConflict",
    "WriteRefused",
]


class NotAGovernanceRepo(WorkbenchError):
    pass


class ReadOnlyError(WorkbenchError):
    pass


class WhatIfError(ReadOnlyError):
    """A write asked for at a what-if `--now`: records carry the real time only."""


class UnknownContract(WorkbenchError):
    pass


class SettingsInvalid(WorkbenchError):
    """workbench.toml is missing or does not validate: nothing that needs [org] can be
    judged (callers that degrade, e.g. to "no key registry", catch exactly this)."""


class InvalidEdit(WorkbenchError):
    """An edit refused for its problems, each with file, line and column (listed after
    the message)."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        first = problems[0] if problems else None
        position = (
            Position(first.file, first.line, first.column, first.field or None) if first else None
        )
        super().__init__(message, position=position)
        self.problems = problems


class InvalidContract(InvalidEdit):
    """An act refused because the committed contract does not validate (problems attached)."""
