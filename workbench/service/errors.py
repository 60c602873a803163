"""Errors a front end shows to the user as a message (CLI exit 2, TUI dialog)."""

from __future__ import annotations


class WorkbenchError(Exception):
    """A usage or input problem the user can fix; never shown as a traceback."""


class NotAGovernanceRepo(WorkbenchError):
    pass


class ReadOnlyError(WorkbenchError):
    pass


class WhatIfError(ReadOnlyError):
    """A write asked for at a what-if `--now`: records carry the real time only."""


class UnknownContract(WorkbenchError):
    pass


class InvalidEdit(WorkbenchError):
    def __init__(self, message: str, problems: list) -> None:  # type: ignore[type-arg]
        super().__init__(message)
        self.problems = problems


class InvalidContract(InvalidEdit):
    """An act refused because the committed contract does not validate (problems attached)."""


class WriteRefused(WorkbenchError):
    """The repo is in a state where nothing may be committed (detached HEAD, a merge or
    rebase under way, unresolved conflicts, another write holding the lock too long)."""


class WriteConflict(WorkbenchError):
    """Someone else changed a file this write changes since it was decided."""
