"""The types of what the session hands the front ends: the results its capabilities return
and the rooms' values inside them (a violation, a merge state, a bundle report), so that the
app's messages and screens name them without importing a room that reads the repository,
signs or verifies (the `front-ends` contract in pyproject.toml; docs/architecture.md).

Names only, for type checking: nothing here is imported at run time, so naming a type costs
the front end no import of duckdb, pygit2 or the bundle room.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.bundle.export import ExportResult as ExportResult
    from workbench.bundle.report import BundleReport as BundleReport
    from workbench.evidence.findings import Closure as Closure
    from workbench.evidence.findings import Point as Point
    from workbench.evidence.findings import Violation as Violation
    from workbench.evidence.sandbox import Sandbox as Sandbox
    from workbench.repo.git import CommitInfo as CommitInfo
    from workbench.repo.merge_state import MergeState as MergeState
    from workbench.service.authoring import AuthoringResult as AuthoringResult
    from workbench.service.conflicts import ConflictedFile as ConflictedFile
    from workbench.service.conflicts import Resolution as Resolution
    from workbench.service.core import ContractDiff as ContractDiff
    from workbench.service.core import Workbench as Workbench
    from workbench.service.cosign import SignPreview as SignPreview
    from workbench.service.cosign import SignResult as SignResult
    from workbench.service.evidence import EvidenceConsole as EvidenceConsole
    from workbench.service.obligations.records import RecordResult as RecordResult
    from workbench.service.registry_edits import RegistryChange as RegistryChange
    from workbench.service.signing import RegistryView as RegistryView
    from workbench.service.sync import SyncReport as SyncReport
    from workbench.signing.keys import Signer as Signer
    from workbench.signing.trust import TrustRoot as TrustRoot
    from workbench.signing.verdict import ContractVerdict as ContractVerdict
