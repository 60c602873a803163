"""Obligations over time (``wb.obligations``): reviews, change notices and their
acknowledgements, action items, the seam diagnostic, the Due list, the gate and reports.

Every rule lives in ``workbench.governance`` as a pure function of (state, history,
records, findings, now); this package gathers those inputs from the repository, checks
signatures, and writes signed records through the one write door (``Workbench.commit``).

One part per job, each a typed attribute of ``Obligations``:

=================  ==================================================================
``records``        signed records: the registry they are signed under, their
                   signatures and times, writing one (``records.py``)
``signatures``     the signing room's verdicts in the gate's terms (``signatures.py``)
``violations``     the evidence room's violations in the gate's terms (``violations.py``)
``reviews``        review statuses and completing a review (``reviews.py``)
``notices``        change notices and acknowledging one (``notices.py``)
``actions``        action items (``actions.py``)
``diagnostics``    the seam diagnostic (``diagnostics.py``)
``gate``           the deployment gate (``gate.py``)
``reports``        weekly and boundary reports, receipts (``reports.py``)
=================  ==================================================================

Read methods evaluate at ``wb.now``; write methods act as ``wb.actor()`` and sign with
that person's key when the repository has a key registry (see docs/obligations.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.evidence.errors import EvidenceError
from workbench.governance import diagnostic as diag
from workbench.governance.due import DueItem, due_items
from workbench.governance.history import ContractHistory, ContractVersion, History
from workbench.model.errors import WorkbenchError
from workbench.repo import layout
from workbench.service.obligations.actions import Actions
from workbench.service.obligations.diagnostics import Diagnostics
from workbench.service.obligations.gate import Gate
from workbench.service.obligations.notices import Notices
from workbench.service.obligations.records import ObligationError, RecordResult, SignedRecords
from workbench.service.obligations.reports import Reports
from workbench.service.obligations.reviews import Reviews
from workbench.service.obligations.signatures import Signatures
from workbench.service.obligations.violations import Violations
from workbench.signing.errors import SigningError

if TYPE_CHECKING:
    from workbench.governance.seams import SeamView
    from workbench.model.state import GovernanceState
    from workbench.service.core import Workbench

__all__ = ["DueItem", "ObligationError", "Obligations", "RecordResult", "contract_history"]


class Obligations:
    """The obligations of one session (``wb.obligations``); its parts share what they
    verified (the key registry, the contracts' history) until a record is written."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self._history: tuple[str | None, History] | None = None
        self.records = SignedRecords(self)
        self.signatures = Signatures(self)
        self.violations = Violations(self)
        self.reviews = Reviews(self)
        self.notices = Notices(self)
        self.actions = Actions(self)
        self.diagnostics = Diagnostics(self)
        self.gate = Gate(self)
        self.reports = Reports(self)

    # -- inputs every part reads ------------------------------------------------------------
    def state(self) -> GovernanceState:
        return self.wb.state()

    def files(self) -> dict[str, bytes]:
        return self.wb.files()

    def history(self) -> History:
        """Every contract's committed versions (kept while HEAD stays where it was)."""
        head = self.wb.git.head_id()
        if self._history is not None and self._history[0] == head:
            return self._history[1]
        state = self.state()
        # The state validated every contract it read: its history starts from those models
        # instead of validating the same bytes again (keyed by content, never by path).
        self.wb.versions.remember_valid(
            (d.raw, d.contract, d.document.data) for d in state.contracts.values()
        )
        ids = set(state.contracts)
        hist = {cid: contract_history(self.wb, cid) for cid in sorted(ids)} if head else {}
        self.wb.versions.save()
        self._history = (head, hist)
        return hist

    def forget(self) -> None:
        """Drop what the parts verified: a record was just written."""
        self._history = None
        self.records.forget()
        self.signatures.forget()

    # -- across the parts -----------------------------------------------------------------
    def record_flags(self) -> dict[str, list[str]]:
        """Per contract: records that claim what they cannot (a signature that does not
        verify, a time that does not hold, an approval without authority, a run or a
        closure that does not count)."""
        out = self.records.flags()
        # Clock starts and stops, page acknowledgements and delivery records (the
        # regulatory clocks and `workbench notify`): the same rule, their own records,
        # signed under the registry this session verified (one action).
        with self.wb.action(obligations=self):
            others = (
                self.violations.flags(),
                self.wb.clocks.flags(),
                self.wb.notify.flags(),
                self.wb.evidence.registrations.flags(),
            )
        for flags in others:
            for contract, messages in flags.items():
                out.setdefault(contract, []).extend(messages)
        return out

    def due(self) -> list[DueItem]:
        """What somebody must do, most urgent first (`workbench due`, the Due screen)."""
        with self.wb.action(obligations=self):
            return due_items(
                self.state(),
                self.reviews.statuses(),
                self.notices.statuses(pending_only=True),
                self.actions.statuses(),
                self.diagnostics.by_seam(),
                self.wb.now,
                self.wb.clocks.due_items() + self.wb.notify.due_items(),
            )

    def mark_seams(self, views: list[SeamView]) -> None:
        """``marks["review"]``, ``marks["notices"]`` and ``marks["diagnostic"]`` per seam."""
        try:
            reviews = self.reviews.statuses()
            notices = self.notices.statuses()
            diagnostics = self.diagnostics.by_seam()
        except ValueError:
            return  # e.g. a malformed trust root: the signature marks say so
        except (SigningError, EvidenceError):
            raise  # a record or a finding that cannot be read stops the map, as anywhere
        except WorkbenchError:
            return  # e.g. workbench.toml does not validate: the map says so itself
        # Group once: a list scan per seam is quadratic at 1,000 contracts.
        due_reviews: dict[str, list[str]] = {}
        for r in reviews:
            if r.state in ("overdue", "due-soon"):
                due_reviews.setdefault(r.contract, []).append(r.state)
        open_notices: dict[str, list[str]] = {}
        for n in notices:
            if n.state in ("pending", "overdue"):
                open_notices.setdefault(n.contract, []).append(n.state)
        for view in views:
            key = diag.normalise_seam_id(view.id)
            mine = due_reviews.get(view.id, [])
            if "overdue" in mine:
                view.marks["review"] = "overdue"
            elif mine:
                view.marks["review"] = "due-soon"
            pending = open_notices.get(view.id, [])
            if pending:
                late = pending.count("overdue")
                view.marks["notices"] = f"{len(pending)} unacknowledged" + (
                    f" ({late} overdue)" if late else ""
                )
            d = diagnostics.get(key)
            if d is not None and d.state == "mismatch":
                view.marks["diagnostic"] = "mismatch"


def contract_history(wb: Workbench, contract_id: str) -> ContractHistory:
    """The committed versions of one contract, oldest first, each parsed once per clone."""
    path = layout.contract_path(contract_id)
    out = ContractHistory(contract_id)
    for info in reversed(wb.git.history(path)):
        blob = wb.git.blob_id(info.id, path)
        contract = None
        if blob is not None:
            # Read the bytes only if this version was never parsed in this clone.
            contract = wb.versions.contract_of_blob(
                path, blob, lambda rev=info.id: wb.git.blob_at(rev, path)
            )
        out.versions.append(
            ContractVersion(
                info.id,
                info.author_name,
                info.author_email,
                info.time,
                info.message,
                None,
                contract,
                blob,
            )
        )
    return out
