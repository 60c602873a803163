"""The seam diagnostic (``wb.obligations.diagnostics``): both leads' answers to the six
questions, compared, and answering them. The rules are ``governance.diagnostic``'s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from workbench.governance import diagnostic as diag
from workbench.service.obligations.records import ObligationError

if TYPE_CHECKING:
    from workbench.service.obligations import Obligations
    from workbench.signing.keys import Signer


class Diagnostics:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb

    @staticmethod
    def questions() -> tuple[diag.Question, ...]:
        """The six questions, in order (a question may have several parts)."""
        return diag.QUESTIONS

    def by_seam(self) -> dict[str, diag.SeamDiagnostic]:
        return diag.seam_diagnostics(self._o.state(), self._o.files())

    def get(self, seam: str) -> diag.SeamDiagnostic:
        seam = diag.normalise_seam_id(seam)
        found = self.by_seam().get(seam)
        if found is None:
            raise ObligationError(f"no seam {seam!r} (a contract id, or PROVIDER--CONSUMER)")
        return found

    def answer(
        self, seam: str, answers: Mapping[str, object], *, signer: Signer | None = None
    ) -> str:
        """Store the acting lead's answers to the six questions; returns the commit id."""
        wb = self.wb
        wb.require_writable("answer the diagnostic")
        seam = diag.normalise_seam_id(seam)
        state = self._o.state()
        refs = diag.seam_refs(state)
        ref = refs.get(seam)
        if ref is None:
            raise ObligationError(f"no seam {seam!r} (a contract id, or PROVIDER--CONSUMER)")
        actor = wb.actor(state)
        side = ref.side_of(actor.id)
        if side is None:
            raise ObligationError(
                f"{actor.id} is not a lead of {seam}: the diagnostic is answered separately by "
                f"{ref.provider_lead} (provider) and {ref.consumer_lead} (consumer)"
            )
        parsed, errors = diag.validate_answers(answers)
        if parsed is None:
            raise ObligationError(
                "the answers are incomplete or invalid:\n  " + "\n  ".join(errors)
            )
        when = wb.record_time()
        path = diag.answers_path(seam, actor.id, when)
        data = diag.render_answers(seam, actor.id, when, parsed)
        return wb.commit(
            {path: data},
            f"Seam diagnostic for {seam}: answers of {actor.name} ({side} lead)\n",
            signer=signer,
        )
