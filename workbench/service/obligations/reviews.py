"""Reviews (``wb.obligations.reviews``): which are due at now, and completing one as a
signed record. The cadence and who may review are ``governance.reviews``'s rules."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from workbench.governance import reviews as rv
from workbench.governance.records import review_path
from workbench.repo import layout
from workbench.service.errors import UnknownContract
from workbench.service.obligations.records import ObligationError, RecordResult
from workbench.service.validity import require_valid_contract

if TYPE_CHECKING:
    from workbench.service.obligations import Obligations
    from workbench.signing.keys import Signer

HEAD = "HEAD"


class Reviews:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb

    def triggers(self) -> list[rv.ReviewTrigger]:
        """Term reviews opened by failing terms (``triggers_review_of``), from the evidence
        room's violation history: every episode that reached ``fail``, open or not."""
        state = self._o.state()
        if not any(rv.reviewable_terms(d.contract) for d in state.contracts.values()):
            return []  # nothing names a review: no need to read the findings
        keys = {
            (cid, t.id)
            for cid, d in state.contracts.items()
            for t in d.contract.terms
            if getattr(t, "triggers_review_of", "") in rv.reviewable_terms(d.contract)
        }
        # From the head runs' ledgers (they carry these terms' failures), not the history.
        return rv.review_triggers(state, self.wb.evidence.review_failures(keys))

    def statuses(self, *, overdue_only: bool = False) -> list[rv.ReviewStatus]:
        """Every review's status at now (overdue, due soon, ...)."""
        records = self._o.records
        out = rv.review_statuses(
            self._o.state(),
            self._o.history(),
            records.records(),
            self.wb.now,
            signatures_required=records.signatures_required(),
            triggers=self.triggers(),
        )
        if overdue_only:
            out = [r for r in out if r.state == "overdue"]
        return out

    def complete(
        self,
        contract_id: str,
        *,
        contacts_confirmed: bool = False,
        outcome: str = "no-change",
        notes: str = "",
        signer: Signer | None = None,
        term: str | None = None,
        on_behalf_of: str | None = None,
    ) -> RecordResult:
        """Record (and sign) a completed review of the committed contract by the actor, or
        of one `term` whose review a failing term triggered; as the delegate of
        `on_behalf_of` when given."""
        wb = self.wb
        wb.require_writable("complete a review")
        require_valid_contract(wb, contract_id, "review")
        state = self._o.state()
        doc = state.contracts.get(contract_id)
        if doc is None:
            raise UnknownContract(f"no contract {contract_id!r}")
        actor = wb.actor(state)
        reviewer = self._o.records.principal(state, actor.id, on_behalf_of, "review")
        c = doc.contract
        if term is not None:
            if term not in rv.reviewable_terms(c):
                raise ObligationError(
                    f"no term of {contract_id} names {term!r} in triggers_review_of: a term "
                    f"review is for {', '.join(rv.reviewable_terms(c)) or 'no term here'}"
                )
            if contacts_confirmed:
                raise ObligationError(
                    "the escalation contacts are confirmed with the contract's review, not a term's"
                )
        eligible = rv.eligible_reviewers(c, term)
        if reviewer not in eligible:
            what = f"the review of term {term}" if term else "a review"
            raise ObligationError(
                f"{reviewer} cannot review {contract_id}: {what} is completed by "
                f"{', '.join(eligible)} (or their delegate)"
            )
        if state.people[reviewer].has_left(wb.now.date()):
            raise ObligationError(f"{reviewer} has left the organisation")
        if outcome not in ("no-change", "changes-needed"):
            raise ObligationError("outcome must be 'no-change' or 'changes-needed'")
        blob = wb.git.blob_at(HEAD, layout.contract_path(contract_id))
        if blob is None:
            raise ObligationError(f"{contract_id} is not committed yet: review what is committed")
        if contacts_confirmed:
            departed = [
                d for d in rv.departed_people(state, c, wb.now) if d.role.startswith("escalation")
            ]
            if departed:
                raise ObligationError(
                    "cannot confirm the escalation contacts: "
                    + "; ".join(d.render() for d in departed)
                    + ". Name the successor in [escalation] first."
                )
        when = wb.record_time()
        path = review_path(contract_id, when, reviewer)
        fields = {
            "contract": contract_id,
            "reviewer": reviewer,
            "by": actor.id if reviewer != actor.id else None,
            "term": term,
            "completed": when,
            "contract_sha256": hashlib.sha256(blob).hexdigest(),
            "contacts_confirmed": contacts_confirmed,
            "outcome": outcome,
            "notes": notes,
        }
        what = "review and escalation-contact check" if contacts_confirmed else "review"
        if term is not None:
            what = f"review of term {term}"
        acting = f" for {reviewer}" if reviewer != actor.id else ""
        message = (
            f"Review {contract_id}: {actor.name} completes the {what}{acting}\n\n"
            f"Outcome: {outcome}.\n"
        )
        if notes:
            message += f"\n{notes}\n"
        return self._o.records.write(path, fields, contract_id, actor.id, "review", message, signer)
