"""Results of service work, posted by thread workers (named in the past tense).

Workers never touch widgets: they post one of these to the node that asked, whose handler
applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from workbench.governance.gate import GateResult
    from workbench.governance.seams import SeamView
    from workbench.model.findings import Finding
    from workbench.model.people import Person
    from workbench.model.problems import Problem
    from workbench.model.state import GovernanceState


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

    snapshot: Any
    go: Any


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
    diff: Any


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
    commits: list[Any]


@dataclass
class DiffLoaded(Message):
    contract_id: str
    diff: Any


@dataclass
class PeopleLoaded(Message):
    """What each person owns, leads and is paged for, in `state`."""

    state: Any
    usage: list[Any]


@dataclass
class AuthoringDone(Message):
    """A people, team or new-contract change went through (an `AuthoringResult`)."""

    result: Any


@dataclass
class AuthoringRefused(Message):
    """The service refused the change: the reason, with each problem's file:line:column."""

    reason: str


@dataclass
class ExternalEditFinished(Message):
    contract_id: str
    text: str
    problems: list[Any]


@dataclass
class MarksLoaded(Message):
    """The seam views again, now with every capability's marks (signatures, reviews, …)."""

    views: list[SeamView]


# -- signing, key registry, audit bundles (issues 4 and 7) ---------------------------------
@dataclass
class VerdictLoaded(Message):
    """The signature verdict of one contract at HEAD, and the pages of its seam at `now`
    (``governance.pages.PageView``s, for the page test with what happened)."""

    contract_id: str
    verdict: Any
    pages: Any = None
    now: Any = None


@dataclass
class SignPrepared(Message):
    """What a signature would sign (a `SignPreview`, or registry details) and the key's needs."""

    subject: Any
    needs_passphrase: bool
    key_note: str | None = None
    key_file: Any = None  # the key file used when the dialog names none (a Path)


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
    result: Any


@dataclass
class RegistryLoaded(Message):
    view: Any


@dataclass
class RegistrySigned(Message):
    change: Any


@dataclass
class BundleProgressed(Message):
    """A step of a bundle export or verification (from the service's progress callback)."""

    stage: str
    done: int
    total: int


@dataclass
class BundleExported(Message):
    path: Any
    result: Any


@dataclass
class BundleCancelledByUser(Message):
    """An export or verification stopped at the user's request: nothing was written."""

    what: str


@dataclass
class BundleVerified(Message):
    path: Any
    report: Any


# -- evidence, violations and obligations (issues 5 and 6) -------------------------------------
@dataclass
class ViolationsLoaded(Message):
    """Every violation episode, plus each term's status/observed series across runs."""

    violations: list[Any]
    series: dict[Any, list[Any]]
    runs: int


@dataclass
class FindingLoaded(Message):
    """One term's finding (the run of a violation, or the latest run) and the violation."""

    key: tuple[str, str]
    finding: Finding | None
    violation: Any | None
    views: list[str]
    sandbox: Any = None  # a re-verified Sandbox over the finding's snapshots (or None)


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
    closure: Any


@dataclass
class ConsoleOpened(Message):
    console: Any


@dataclass
class DueLoaded(Message):
    items: list[Any]
    notices: list[Any]


@dataclass
class RecordSigned(Message):
    """A review, acknowledgement or receipt was recorded (signed when there is a registry)."""

    what: str
    results: list[Any]


@dataclass
class ActionsLoaded(Message):
    actions: list[Any]
    texts: dict[str, str]


@dataclass
class ActionLinted(Message):
    action_id: str
    text: str
    problems: list[Any]


@dataclass
class ActionSaved(Message):
    action_id: str
    commit: str


@dataclass
class DiagnosticLoaded(Message):
    diagnostic: Any


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

    state: Any


@dataclass
class SyncProgressed(Message):
    stage: str
    done: int
    total: int


@dataclass
class SyncFinished(Message):
    report: Any  # SyncReport


@dataclass
class SyncStopped(Message):
    reason: str


@dataclass
class ConflictLoaded(Message):
    """Both sides of a conflicted file (ConflictedFile), or why they cannot be shown."""

    path: str
    conflict: Any
    error: str | None = None


@dataclass
class ConflictResolved(Message):
    resolution: Any  # Resolution
