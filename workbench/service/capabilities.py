"""The session's capabilities: each room's service as a typed attribute of `Workbench`
(`wb.signing`, `wb.evidence`, `wb.obligations`, `wb.authoring`, `wb.bundles`, `wb.clocks`,
`wb.notify`, `wb.sync`, `wb.conflicts`), made on first use. A mixin of `Workbench`
(service/core.py), kept apart so that the session's basics and its list of capabilities each
stay one readable module.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from workbench.service.authoring import AuthoringService
    from workbench.service.bundle import BundleService
    from workbench.service.clocks import ClocksService
    from workbench.service.conflicts import ConflictService
    from workbench.service.evidence import EvidenceService
    from workbench.service.notify import NotifyService
    from workbench.service.obligations import Obligations
    from workbench.service.signing import SigningService
    from workbench.service.sync import SyncService

C = TypeVar("C")


class Capabilities:
    # Set by Workbench.__init__.
    hold_worktree: bool
    _lock: threading.Lock
    _local: threading.local
    _capabilities: dict[str, object]

    # Each room's service, made on first use. A one-shot command keeps each one (one
    # decision: they share what they verified, e.g. the key registry) until it commits; a
    # long-lived session (the app) makes a fresh one at each use, because the files and the
    # clock move under it, except within one action (`with wb.action():`), which holds
    # each one it uses until it ends.
    @property
    def signing(self) -> SigningService:
        """Keys, co-signatures, the key registry and signature verdicts."""
        from workbench.service.signing import SigningService

        return self._capability("signing", SigningService)

    @property
    def evidence(self) -> EvidenceService:
        """Evidence snapshots, evaluations, findings runs and violations."""
        from workbench.service.evidence import EvidenceService

        return self._capability("evidence", EvidenceService)

    @property
    def obligations(self) -> Obligations:
        """Reviews, notices, action items, the diagnostic, the gate and reports."""
        from workbench.service.obligations import Obligations

        return self._capability("obligations", Obligations)

    @property
    def authoring(self) -> AuthoringService:
        """Editing people, teams and contracts from templates (`workbench person`, ...)."""
        from workbench.service.authoring import AuthoringService

        return self._capability("authoring", AuthoringService)

    @property
    def bundles(self) -> BundleService:
        """Audit bundles: export one, verify one."""
        from workbench.service.bundle import BundleService

        return self._capability("bundles", BundleService)

    @property
    def clocks(self) -> ClocksService:
        """Regulatory clocks: starting and stopping one, their verdicts at now."""
        from workbench.service.clocks import ClocksService

        return self._capability("clocks", ClocksService)

    @property
    def notify(self) -> NotifyService:
        """`workbench notify`: deliveries, pages and their acknowledgements (the process
        environment's secrets; make a `NotifyService(wb, env=...)` for another)."""
        from workbench.service.notify import NotifyService

        return self._capability("notify", NotifyService)

    @property
    def sync(self) -> SyncService:
        """Syncing with the remote: fetch, verify what came in, merge, push (docs/sync.md)."""
        from workbench.service.sync import SyncService

        return self._capability("sync", SyncService)

    @property
    def conflicts(self) -> ConflictService:
        """A merge that stopped on conflicts: both sides, the resolution as the merge commit."""
        from workbench.service.conflicts import ConflictService

        return self._capability("conflicts", ConflictService)

    @contextlib.contextmanager
    def action(self, **held: object) -> Iterator[None]:
        """One action of a long-lived session (in this thread): each capability it uses is
        made once and held until it ends, so its parts share what they verified (the key
        registry, the contracts' history) as a one-shot command's do. Without it the app
        made the obligations three times for one Due list, each verifying the registry
        again (`wb.clocks` and `wb.notify` sign through the obligations). `held` names a
        capability the caller already holds (``obligations=self``). Nested actions share
        the outermost one; a commit ends the sharing (what was verified is read again).
        A one-shot command holds its capabilities anyway: this changes nothing there."""
        outer = getattr(self._local, "action", None)
        if outer is None:
            self._local.action = dict(held)
        else:
            for name, capability in held.items():
                outer.setdefault(name, capability)
        try:
            yield
        finally:
            if outer is None:
                self._local.action = None

    def _capability(self, name: str, make: Callable[[Any], C]) -> C:
        if not self.hold_worktree:
            action: dict[str, object] | None = getattr(self._local, "action", None)
            if action is None:
                return make(self)
            if name not in action:
                action[name] = make(self)
            return action[name]  # type: ignore[return-value]
        with self._lock:
            found = self._capabilities.get(name)
        if found is None:
            found = make(self)
            with self._lock:
                found = self._capabilities.setdefault(name, found)
        return found  # type: ignore[return-value]
