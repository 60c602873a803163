"""What an export reads from the repository (the service supplies it: the bundle room
never imports the service, which imports it).

``ExportSource`` is the session's view an export is built from: committed bytes through
git, the checked state, the acting person, and the verdicts of the other rooms, each
computed by its one implementation (the service's ``BundleService`` adapts a
``Workbench`` to it). The offline verifier needs none of this: it reads a bundle's bytes
only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from workbench.evidence.closures import ClosureInputs
    from workbench.evidence.manifest import Manifest
    from workbench.evidence.run_chain import RunChain
    from workbench.model.findings import Run
    from workbench.model.people import Person
    from workbench.model.state import GovernanceState
    from workbench.repo.git import GitRepo
    from workbench.signing.registry import RegistryState
    from workbench.signing.verdict import ContractVerdict


class CountingRuns(Protocol):
    """The findings runs that count at HEAD (the evidence room's signed-run chain)."""

    problems: list[str]  # runs the chain covers whose bytes do not match

    def history(self) -> list[Run]: ...

    def chain(self) -> RunChain: ...


class ExportSource(Protocol):
    """One session's view of the repository, for building a bundle from HEAD."""

    @property
    def git(self) -> GitRepo: ...

    @property
    def now(self) -> datetime: ...

    def state(self, rev: str) -> GovernanceState: ...

    def files(self, rev: str) -> dict[str, bytes]: ...

    def actor(self) -> Person: ...

    def registry_state(self, rev: str, files: dict[str, bytes]) -> RegistryState:
        """The key registry in force at ``rev`` with every chain and history check."""
        ...

    def version_times(self, contract_id: str) -> dict[str, datetime]:
        """sha256 of each committed version of a contract -> when it was first committed."""
        ...

    def counting_runs(self, files: dict[str, bytes]) -> CountingRuns:
        """The runs that count among ``files`` (HEAD's findings folder)."""
        ...

    def verdicts(self) -> list[ContractVerdict]:
        """Every contract's co-signature verdict at HEAD."""
        ...

    def evidence_manifest(self) -> Manifest:
        """The snapshots that count at HEAD (``evidence.registrations``' one rule)."""
        ...

    def closure_inputs(self) -> ClosureInputs:
        """What decides whether a violation is resolved or exempt at HEAD (signed closure
        records, authority, contract exemptions), for ``evidence.closures.fold_violations``."""
        ...

    def clock_index(self, seams: set[str]) -> list[dict[str, object]]:
        """The regulatory clocks of ``seams`` as committed, at the export time
        (``governance.clocks.clock_entry`` of each)."""
        ...

    def page_index(self, seams: set[str]) -> dict[str, object]:
        """The pages of ``seams`` as committed, at the export time
        (``governance.pages.page_entry`` of each), and each paged seam's page test."""
        ...
