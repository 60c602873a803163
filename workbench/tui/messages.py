"""Results of service work, posted by thread workers (named in the past tense).

Workers never touch widgets: they post one of these to the node that asked, whose handler
applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message

if TYPE_CHECKING:
    import threading
    from pathlib import Path

    from workbench.governance.actions import ActionView
    from workbench.governance.diagnostic import SeamDiagnostic
    from workbench.governance.due import DueItem
    from workbench.governance.gate import GateResult
    from workbench.governance.notices import Notice
    from workbench.governance.people import PersonUsage
    from workbench.governance.seam_view import MapSnapshot
    from workbench.governance.seams import SeamView
    from workbench.model.findings import Finding
    from workbench.model.people import Person
    from workbench.model.problems import Problem
    from workbench.model.state import GovernanceState
    from workbench.service.results import (
        AuthoringResult,
        BundleReport,
        Closure,
        CommitInfo,
        ConflictedFile,
        ContractDiff,
        ContractVerdict,
        EvidenceConsole,
        ExportResult,
        MergeState,
        Point,
        RegistryChange,
        RegistryView,
        Resolution,
        Sandbox,
        SignPreview,
        SignResult,
        SyncReport,
        Violation,
    )


@dataclass
class StateLoaded(Message):
    """The governance state of the working tree, its seam views and the acting person."""

    state: GovernanceState
    views: list[SeamView]
    actor: Person | None
    actor_error: str | None = None


@dataclass
class MapSnapshotLoaded(Message):
    """The seam map stored by the last session for these bytes; `go` starts the state load."""

    snapshot: MapSnapshot
    go: threading.Event


@dataclass
class ContractTextLoaded(Message):
    contract_id: str
    text: str
    draft: str | None
    head: str | None = None  # the commit the text was read at: what a save is based on
    new: bool = False  # HEAD has no such contract yet: the whole text is unsaved


@dataclass
class ContractChecked(Message):
    contract_id: str
    text: str
    problems: list[Problem]
    draft_saved: bool


@dataclass
class DiffPrepared(Message):
    """The diff a pending edit would make, ready for the commit dialog."""

    contract_id: str
    text: str
    diff: ContractDiff


@dataclass
class ContractSaved(Message):
    contract_id: str
    commit: str
    message: str


@dataclass
class DraftDiscarded(Message):
    contract_id: str


@dataclass
class HistoryLoaded(Message):
    contract_id: str
    commits: list[CommitInfo]


@dataclass
class DiffLoaded(Message):
    contract_id: str
    diff: ContractDiff


@dataclass
class PeopleLoaded(Message):
    """What each person owns, leads and is paged for, in `state`."""

    state: GovernanceState
    usage: list[PersonUsage]


@dataclass
class AuthoringDone(Message):
    """A people, team or new-contract change went through (an `AuthoringResult`)."""

    result: AuthoringResult


@dataclass
class AuthoringRefused(Message):
    """The service refused the change: the reason, with each problem's file:line:column."""

    reason: str


@dataclass
class ExternalEditFinished(Message):
    contract_id: str
    text: str
    problems: list[Problem]


@dataclass
class MarksLoaded(Message):
    """The seam views again, now with every capability's marks (signatures, reviews, …),
    and the pages per contract they were judged with at `now` (a contract's screen shows
    them instead of working out every seam's pages again)."""

    views: list[SeamView]
    pages: Any = None
    now: Any = None


@dataclass
class MarksFailed(Message):
    """The marks could not be worked out (the marks process failed, hung, died or answered
    garbage): `reason` says why, in words for the user (untrusted text: shown as text)."""

    reason: str


# -- signing, key registry, audit bundles (issues 4 and 7) ---------------------------------
@dataclass
class VerdictLoaded(Message):
    """The signature verdict of one contract at HEAD, and the pages of its seam at `now`
    (``governance.pages.PageView``s, for the page test with what happened)."""

    contract_id: str
    verdict: ContractVerdict
    pages: Any = None
    now: Any = None


@dataclass
class SignPrepared(Message):
    """What a signature would sign (a `SignPreview`, or registry details) and the key's needs."""

    # What is signed: a contract version, the registry, or (an export) the bundle's snapshot.
    subject: SignPreview | RegistryView | None
    needs_passphrase: bool
    key_note: str | None = None
    key_file: Path | None = None  # the key file used when the dialog names none


@dataclass
class SignerRejected(Message):
    """The key could not be used (wrong passphrase, no key, ssh-agent failed): ask again."""

    message: str


@dataclass
class SignRefused(Message):
    """The service refused to sign (the reason says why and what to do)."""

    reason: str


@dataclass
class ContractSigned(Message):
    result: SignResult


@dataclass
class RegistryLoaded(Message):
    view: RegistryView


@dataclass
class RegistrySigned(Message):
    change: RegistryChange


@dataclass
class BundleProgressed(Message):
    """A step of a bundle export or verification (from the service's progress callback)."""

    stage: str
    done: int
    total: int


@dataclass
class BundleExported(Message):
    path: Path
    result: ExportResult


@dataclass
class BundleCancelledByUser(Message):
    """An export or verification stopped at the user's request: nothing was written."""

    what: str


@dataclass
class BundleVerified(Message):
    path: Path
    report: BundleReport


# -- evidence, violations and obligations (issues 5 and 6) -------------------------------------
@dataclass
class ViolationsLoaded(Message):
    """Every violation episode, plus each term's status/observed series across runs."""

    violations: list[Violation]
    series: dict[tuple[str, str], list[Point]]
    runs: int


@dataclass
class FindingLoaded(Message):
    """One term's finding (the run of a violation, or the latest run) and the violation."""

    key: tuple[str, str]
    finding: Finding | None
    violation: Violation | None
    views: list[str]
    sandbox: Sandbox | None = None  # re-verified over the finding's snapshots


@dataclass
class RowsFetched(Message):
    """The first page of a query's result and its row count (evidence rows, the console)."""

    request: int
    columns: list[str]
    rows: list[tuple[Any, ...]]
    total: int
    elapsed: float


@dataclass
class PageFetched(Message):
    request: int
    offset: int
    rows: list[tuple[Any, ...]]


@dataclass
class QueryStopped(Message):
    """A query that produced no result: refused, cancelled, timed out or failed."""

    request: int
    outcome: str  # refused | cancelled | timeout | failed
    reason: str


@dataclass
class ViolationClosed(Message):
    closure: Closure


@dataclass
class ConsoleOpened(Message):
    console: EvidenceConsole


@dataclass
class DueLoaded(Message):
    items: list[DueItem]
    notices: list[Notice]


class SignedAct(Protocol):
    """A signed act's outcome as `RecordSigned` shows it: a review's, acknowledgement's or
    receipt's `RecordResult`, or a page acknowledgement's."""

    @property
    def commit(self) -> str: ...

    @property
    def signed(self) -> bool: ...

    @property
    def message(self) -> str: ...


@dataclass
class RecordSigned(Message):
    """A review, acknowledgement or receipt was recorded (signed when there is a registry)."""

    what: str
    results: list[SignedAct]


@dataclass
class ActionsLoaded(Message):
    actions: list[ActionView]
    texts: dict[str, str]


@dataclass
class ActionLinted(Message):
    action_id: str
    text: str
    problems: list[Problem]


@dataclass
class ActionSaved(Message):
    action_id: str
    commit: str


@dataclass
class DiagnosticLoaded(Message):
    diagnostic: SeamDiagnostic


@dataclass
class DiagnosticAnswered(Message):
    seam: str
    commit: str


@dataclass
class GatePreviewed(Message):
    result: GateResult
    # Governance files the working tree has and HEAD has not: the gate does not count them.
    uncommitted: list[str] = field(default_factory=list)


@dataclass
class ReportRendered(Message):
    which: str  # weekly | boundary
    title: str
    text: str


# -- working across clones: sync, merge state, conflicts -------------------------------------


@dataclass
class RepoStateLoaded(Message):
    """Where the clone stands: a merge in progress, conflicts, ahead/behind (MergeState)."""

    state: MergeState


@dataclass
class SyncProgressed(Message):
    stage: str
    done: int
    total: int


@dataclass
class SyncFinished(Message):
    report: SyncReport


@dataclass
class SyncStopped(Message):
    reason: str


@dataclass
class ConflictLoaded(Message):
    """Both sides of a conflicted file (ConflictedFile), or why they cannot be shown."""

    path: str
    conflict: ConflictedFile | None
    error: str | None = None


@dataclass
class ConflictResolved(Message):
    resolution: Resolution
