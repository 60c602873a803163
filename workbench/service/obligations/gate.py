"""The deployment gate (``wb.obligations.gate``): every rule of ``governance.gate`` over
the inputs the other parts gather, judged at now, rendered for people and for CI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.governance import gate as gate_mod
from workbench.service.errors import settings_refusal

if TYPE_CHECKING:
    from workbench.service.obligations import Obligations


class Gate:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb
        # git's status as the last `evaluate` read it (the merge check), for the note on
        # uncommitted files the command prints after it: one status of the clone, not two.
        self.status: dict[str, int] | None = None

    def changed_since(self, rev: str) -> set[str]:
        """Gate ids of every file under contracts/ that differs between `rev` and what this
        session reads (HEAD for the gate's committed view): changed, added, deleted, and
        files that are not contracts at all."""
        from workbench.model.state import (
            contract_file_id,
            is_contract_path,
            is_stray_contract_file,
        )

        old = self.wb.files(rev)
        new = self._o.files()
        paths = {p for p in set(old) | set(new) if is_contract_path(p) or is_stray_contract_file(p)}
        return {contract_file_id(p) for p in paths if old.get(p) != new.get(p)}

    def inputs(self) -> gate_mod.GateInputs:
        o = self._o
        # One save of the parsed versions for the whole gate (verdicts, history, notices).
        with o.wb.action(obligations=o), o.wb.versions.held():
            return gate_mod.GateInputs(
                reviews=o.reviews.statuses(),
                notices=o.notices.statuses(),
                actions=o.actions.statuses(),
                diagnostics=o.diagnostics.by_seam(),
                verdicts=o.signatures.verdicts(),
                violations=o.violations.open(),
                record_flags=o.record_flags(),
                clocks=o.wb.clocks.verdicts().by_seam(),
                pages=o.wb.notify.pages(),
            )

    def evaluate(
        self, changed_since: str | None = None, strict: bool = False
    ) -> gate_mod.GateResult:
        """The gate's verdict at now (`workbench gate`): `changed_since` limits the
        contract rules to the contracts changed since that revision."""
        state = self._o.state()
        if state.settings is None:
            raise settings_refusal(state, "run the gate")
        from workbench.service.repo_state import unfinished_merge

        changed = self.changed_since(changed_since) if changed_since else None
        inputs = self.inputs()
        self.status = self.wb.git.status()
        return gate_mod.evaluate_gate(
            state,
            inputs,
            self.wb.now,
            changed=changed,
            changed_since=changed_since,
            trust=self._o.signatures.trust_root(),
            strict=strict,
            merge=unfinished_merge(self.wb, self.status),
        )

    def render(self, result: gate_mod.GateResult, fmt: str = "text") -> str:
        from workbench import __version__

        if fmt == "json":
            return gate_mod.render_json(result)
        if fmt == "junit":
            return gate_mod.render_junit(result)
        if fmt == "sarif":
            return gate_mod.render_sarif(result, __version__)
        return gate_mod.render_text(result, self._o.state())
