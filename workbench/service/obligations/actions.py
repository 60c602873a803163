"""Action items (``wb.obligations.actions``): their state at now, their lint, and saving
one. The rules are ``governance.actions``'s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from workbench.governance import actions as act
from workbench.model.problems import Problem
from workbench.service.errors import InvalidEdit

if TYPE_CHECKING:
    from workbench.service.obligations import Obligations
    from workbench.signing.keys import Signer


class Actions:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb

    def docs(self, files: Mapping[str, bytes] | None = None) -> list[act.ActionDoc]:
        files = self._o.files() if files is None else files
        return act.load_actions(files, self._o.state(), self.wb.now.date())

    def statuses(self, *, overdue_only: bool = False) -> list[act.ActionView]:
        """Every action item with its state at now (overdue, due soon, ...)."""
        out = act.action_statuses(self.docs(), self._o.state(), self.wb.now)
        return [a for a in out if a.overdue] if overdue_only else out

    def lint(self) -> list[Problem]:
        return [p for d in self.docs() for p in d.problems]

    def lint_text(self, action_id: str, text: str) -> list[Problem]:
        """Lint an edited action item before saving it (the TUI's inline lint)."""
        files = {act.action_path(action_id): text.encode("utf-8")}
        return self.docs(files)[0].problems

    def save(
        self,
        action_id: str,
        text: str,
        message: str | None = None,
        *,
        signer: Signer | None = None,
    ) -> str:
        """Save an action item; refused while it has lint errors (they are returned)."""
        self.wb.require_writable("save action items")
        problems = [p for p in self.lint_text(action_id, text) if p.severity == "error"]
        path = act.action_path(action_id)
        if problems:
            raise InvalidEdit(f"{path} has {len(problems)} lint error(s); not saved", problems)
        return self.wb.commit(
            {path: text.encode("utf-8")}, message or f"Action item {action_id}", signer=signer
        )
