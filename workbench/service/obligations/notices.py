"""Change notices (``wb.obligations.notices``): what each committed change asks of whom
at now, and acknowledging one as a signed record. Classification, recipients and
deadlines are ``governance.notices``'s rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.governance import notices as nt
from workbench.governance.records import ack_path
from workbench.repo import layout
from workbench.service.errors import UnknownContract
from workbench.service.obligations.records import ObligationError, RecordResult
from workbench.service.validity import require_valid_contract

if TYPE_CHECKING:
    from workbench.service.obligations import Obligations
    from workbench.signing.keys import Signer


class Notices:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb

    def statuses(
        self, *, pending_only: bool = False, contract: str | None = None
    ) -> list[nt.Notice]:
        """Every change notice with its requirements' state at now (of one contract)."""
        records = self._o.records
        out = nt.change_notices(
            self._o.state(),
            self._o.history(),
            records.records(),
            self.wb.now,
            approved=self._o.signatures.approved(),
            signatures_required=records.signatures_required(),
            compare=self._compare,
        )
        self.wb.versions.save()
        if contract is not None:
            out = [n for n in out if n.contract == contract]
        if pending_only:
            out = [n for n in out if n.pending]
        return out

    def _compare(self, contract_id: str, old: Any, new: Any) -> Any:
        path = layout.contract_path(contract_id)
        git = self.wb.git
        return self.wb.versions.compare_blobs(
            path,
            old.blob,
            new.blob,
            lambda: git.blob_at(old.commit, path),
            lambda: git.blob_at(new.commit, path),
        )

    def findings(self) -> list[str]:
        """Overdue acknowledgements as findings, each naming the escalation person."""
        return [f for n in self.statuses() if (f := n.finding())]

    def acknowledge(
        self,
        contract_id: str,
        notice: str | None = None,
        *,
        coverage: bool = False,
        note: str = "",
        signer: Signer | None = None,
        on_behalf_of: str | None = None,
    ) -> RecordResult:
        """Acknowledge (and sign) a change notice as the acting person, or as the delegate
        of `on_behalf_of`."""
        wb = self.wb
        wb.require_writable("acknowledge a notice")
        require_valid_contract(wb, contract_id, "acknowledge a change to")
        state = self._o.state()
        if contract_id not in state.contracts:
            raise UnknownContract(f"no contract {contract_id!r}")
        actor = wb.actor(state)
        person = self._o.records.principal(state, actor.id, on_behalf_of, "acknowledge")
        notices = self.statuses(contract=contract_id)
        if notice is None:
            mine = [
                n for n in notices if any(r.open and r.person == person for r in n.requirements)
            ]
            if not mine:
                raise ObligationError(
                    f"{person} has no pending notice on {contract_id}; list them with "
                    f"`workbench notices --pending`"
                )
            found = mine[0]
        else:
            found_notice = nt.find_notice(notices, contract_id, notice)
            if found_notice is None:
                raise ObligationError(
                    f"no notice {notice!r} on {contract_id} (`workbench notices`)"
                )
            found = found_notice
        kinds = {r.kind for r in found.requirements if r.person == person}
        if person != actor.id and found.author == actor.id:
            raise ObligationError(
                f"{actor.id} made the change of notice {found.id} and cannot acknowledge it "
                f"for {person}"
            )
        if found.classification == "loosening" and not kinds:
            raise ObligationError(
                f"notice {found.id} loosens a bound: it is settled by both leads co-signing the new "
                f"version (`workbench sign {contract_id}`), not by an acknowledgement"
            )
        if not kinds:
            who = ", ".join(sorted({r.person for r in found.requirements})) or "nobody"
            raise ObligationError(
                f"{person} is not asked to acknowledge notice {found.id} (recipients: {who})"
            )
        if coverage and "coverage" not in kinds:
            raise ObligationError(
                f"{person} is not the engineering lead asked to confirm test coverage for {found.id}"
            )
        if "ack" not in kinds and "coverage" in kinds and not coverage:
            raise ObligationError(
                f"notice {found.id} changes a living-compliance assertion: confirm that automated test "
                "coverage reflects it with --coverage"
            )
        when = wb.record_time()
        path = ack_path(contract_id, found.commit, person, when)
        fields = {
            "contract": contract_id,
            "commit": found.commit,
            "person": person,
            "by": actor.id if person != actor.id else None,
            "acknowledged": when,
            "coverage_confirmed": coverage,
            "note": note,
        }
        what = "confirms test coverage for" if coverage else "acknowledges"
        acting = f" for {person}" if person != actor.id else ""
        message = (
            f"Acknowledge {found.id}: {actor.name} {what} {found.short}{acting}\n\n"
            f"Change: {found.summary}\nClass: {found.classification}\n"
        )
        return self._o.records.write(
            path, fields, contract_id, actor.id, "acknowledge", message, signer
        )
