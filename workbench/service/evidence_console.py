"""The evidence console: read-only SQL over the registered snapshots, for `workbench evidence
query`, the app's console and a finding's own views (re-verified before any query)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.evidence.errors import QueryFailed
from workbench.evidence.manifest import Snapshot, verify_snapshot
from workbench.evidence.runner import view_name
from workbench.model.findings import Finding
from workbench.service.errors import WorkbenchError
from workbench.service.evaluation import sandbox_file
from workbench.service.evidence import MEMORY_LIMIT, THREADS, ConsoleView, EvidenceConsole

if TYPE_CHECKING:
    from workbench.evidence.sandbox import QueryResult, Sandbox
    from workbench.service.evidence import EvidenceService


def open_console(
    svc: EvidenceService,
    contract: str | None = None,
    *,
    timeout_s: float = 30.0,
    memory_limit: str = MEMORY_LIMIT,
) -> EvidenceConsole:
    """A sandbox with every intact snapshot as a view for read-only SQL.

    Views: one per snapshot (``ev_0123456789ab``; plus its `name` alias with '-'
    as '_') and, per evidence kind, a view named after the kind for the latest
    snapshot (of `contract`, or of the whole repository). Tampered or missing
    files are not exposed; `refused` says why.
    """
    from workbench.evidence.sandbox import VIEW_NAME_RE, Sandbox

    infos = svc.snapshots(verify=True, contract=contract)
    views: list[ConsoleView] = []
    refused: list[tuple[Snapshot, str]] = []
    files = {}
    latest: dict[str, Snapshot] = {}
    for info in infos:
        s, integrity = info.snapshot, info.integrity
        assert integrity is not None
        if not integrity.ok:
            refused.append((s, integrity.reason))
            continue
        name = view_name(s.id)
        files[name] = sandbox_file(s, integrity.path or svc.snapshot_path(s), integrity)
        views.append(ConsoleView(name, s))
        if s.name and VIEW_NAME_RE.match(alias := s.name.replace("-", "_").replace(".", "_")):
            files[alias] = files[name]
            views.append(ConsoleView(alias, s, alias_of=name))
        if s.kind not in latest or (s.captured_at, s.id) > (
            latest[s.kind].captured_at,
            latest[s.kind].id,
        ):
            latest[s.kind] = s
    for kind, s in sorted(latest.items()):
        if kind not in files:
            files[kind] = files[view_name(s.id)]
            views.append(ConsoleView(kind, s, alias_of=view_name(s.id)))
    sb = Sandbox(files, memory_limit=memory_limit, threads=THREADS, timeout_s=timeout_s)
    return EvidenceConsole(sb, views, refused)


def finding_sandbox(svc: EvidenceService, finding: Finding, *, timeout_s: float = 30.0) -> Sandbox:
    """The views a finding was computed on, re-verified, to re-run its SQL or browse rows."""
    from workbench.evidence.sandbox import Sandbox

    manifest = svc.manifest()
    files = {}
    for ref in finding.get("snapshots", []):
        snap = manifest.get(ref["id"])
        if snap is None:
            raise WorkbenchError(f"snapshot {ref['id']} is no longer registered")
        if snap.sha256 != ref["sha256"]:
            raise WorkbenchError(f"snapshot {ref['id']} changed in the manifest")
        check = verify_snapshot(snap, svc.wb.root, svc.roots)
        if not check.ok:
            raise WorkbenchError(f"snapshot {snap.id} not used: {check.reason}")
        file = sandbox_file(snap, check.path or svc.snapshot_path(snap), check)
        files[ref["view"]] = file  # the logical name (freshness_lags, reference…)
        files[view_name(snap.id)] = file  # the name generated SQL binds to
    return Sandbox(files, memory_limit=MEMORY_LIMIT, threads=THREADS, timeout_s=timeout_s)


def run_query(
    svc: EvidenceService, sql: str, contract: str | None = None, *, max_rows: int
) -> QueryResult:
    """One read-only query over the intact snapshots (`workbench evidence query`), run in
    this short-lived process under the run's memory cap like evaluate's worker; values
    come back JSON-ready (`evidence.checks.plain`)."""
    from dataclasses import replace

    from workbench.evidence.checks import plain
    from workbench.evidence.worker import capped_memory

    limits = svc.limits()
    cap = f"the query exceeded the memory cap of {limits.memory_cap_text} ([evidence] memory_cap)"
    with open_console(svc, contract) as console:
        try:
            with capped_memory(limits.memory_cap):
                result = console.sandbox.query(sql, max_rows=max_rows)
        except MemoryError:
            raise QueryFailed(cap, kind="out_of_memory") from None
        except QueryFailed as exc:
            if exc.kind != "out_of_memory":
                raise
            raise QueryFailed(f"{cap}: {exc.message}", kind="out_of_memory") from None
    return replace(result, rows=[tuple(plain(v) for v in row) for row in result.rows])
