"""The errors of the service's interface: its own refusals, and those of the rooms behind
it that a front end must tell apart (a key that needs a passphrase, a query that was
cancelled). Each is a ``WorkbenchError`` (``workbench.model.errors``), shown to the user
as a message (CLI exit 2, TUI dialog); front ends import them from here, never from the
rooms (``tests/test_architecture.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.evidence.errors import (
    EvidenceError,
    QueryCancelled,
    QueryFailed,
    QueryTimeout,
    SandboxError,
    SqlRefused,
)
from workbench.model.errors import Position, WorkbenchError
from workbench.repo.errors import WriteConflict, WriteRefused
from workbench.signing.errors import (
    AgentSigningError,
    KeyLoadError,
    PassphraseRequired,
    SigningError,
    WrongPassphrase,
)

if TYPE_CHECKING:
    from workbench.model.documents import GovernanceState
    from workbench.model.problems import Problem

__all__ = [
    "AgentSigningError",
    "EvidenceError",
    "InvalidContract",
    "InvalidEdit",
    "KeyLoadError",
    "NotAGovernanceRepo",
    "PassphraseRequired",
    "QueryCancelled",
    "QueryFailed",
    "QueryTimeout",
    "ReadOnlyError",
    "SandboxError",
    "SettingsInvalid",
    "SigningError",
    "SigningRefused",
    "SqlRefused",
    "UnknownContract",
    "WhatIfError",
    "WorkbenchError",
    "WriteConflict",
    "WriteRefused",
    "WrongPassphrase",
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


def settings_refusal(state: GovernanceState, doing: str) -> SettingsInvalid:
    """Why `doing` cannot start: the committed workbench.toml's own errors, each at its line,
    column and field (the settings carry the limits, engines and [org] it would run under)."""
    from workbench.model.documents import SETTINGS_PATH

    errors = [p.render() for p in state.errors if p.file == SETTINGS_PATH]
    why = "; ".join(errors) if errors else f"{SETTINGS_PATH}: missing at HEAD"
    return SettingsInvalid(f"cannot {doing}: {why}; run `workbench validate`")


class SigningRefused(WorkbenchError):
    """A signing act that is not allowed in this state (the message says why and what to do)."""


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
