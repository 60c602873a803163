"""Evidence service: register snapshots, evaluate terms, keep the violation history.

The CLI (`workbench evidence`, `evaluate`, `violations`) and the TUI (violations screen,
evidence console) call this; nothing here prints. All SQL runs through `Sandbox.query`
(the read-only guard), every time comes from `wb.now`, and every write goes through
`Workbench.commit` (read-only check, acting person, one commit).

Entry point: ``EvidenceService(wb)``. See docs/evidence.md for the rules.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.evidence.checks import (
    VIOLATING,
    CheckResult,
    ViewNeed,
    human_seconds,
    iso,
    limit_for,
    needs,
)
from workbench.evidence.closures import (
    CLOSURES_DIR,
    Authority,
    ClosureInputs,
    ClosureRecord,
    ClosureVerdicts,
    ContractExemption,
    caused_by,
    closure_record_path,
    fold_violations,
    parse_closure_records,
    resolve_approvers,
    term_owner,
)
from workbench.evidence.errors import (
    EvidenceError,
    EvidenceSchemaError,
    UnsafePath,
)
from workbench.evidence.findings import (
    CLOSURES_PATH,
    FORMAT,
    PAGE_TEST,
    Closure,
    Point,
    Violation,
    findings_path,
    make_run_id,
    parse_closures,
    parse_run,
    render_run,
    term_series,
)
from workbench.evidence.manifest import (
    MANIFEST_PATH,
    Manifest,
    Snapshot,
    SnapshotIntegrity,
    manifest_position,
    parse_manifest,
    render_manifest,
    resolve_snapshot_path,
    sha256_file,
    snapshot_id,
    snapshot_relpath,
    verify_snapshot,
)
from workbench.evidence.runner import Limits, view_name
from workbench.governance.currency import TermAt
from workbench.governance.paging import PageTest, page_test
from workbench.model.contract import Contract
from workbench.model.terms import DecisionThresholdTerm, DistributionShiftTerm, TermBase
from workbench.repo import layout
from workbench.service.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.evidence.sandbox import Sandbox
    from workbench.evidence.worker import WorkerStats
    from workbench.governance.seams import SeamView
    from workbench.model.policy_floor import EffectivePolicy
    from workbench.model.settings import Settings
    from workbench.model.state import GovernanceState
    from workbench.service.core import Workbench
    from workbench.service.runs import CurrentFindings, RunBook

# Bumped when a check's semantics change: part of every run id.
ENGINE = "evidence-checks/3"
# The console and re-runs of a finding's SQL (interactive, in this process).
MEMORY_LIMIT = "512MB"
THREADS = 2


# --------------------------------------------------------------------------- results


@dataclass
class SnapshotInfo:
    snapshot: Snapshot
    integrity: SnapshotIntegrity | None = None  # only when verified

    def to_json(self) -> dict[str, Any]:
        data = self.snapshot.model_dump(mode="json")
        if self.integrity is not None:
            data["integrity"] = self.integrity.status
            data["integrity_reason"] = self.integrity.reason
        return data


@dataclass
class EvaluateResult:
    run: dict[str, Any]
    path: str
    written: bool  # False when the same findings already existed, or read-only
    commit: str | None = None

    @property
    def run_id(self) -> str:
        return self.run["run"]

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.run["findings"]

    @property
    def violations(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["status"] in VIOLATING]


@dataclass
class ConsoleView:
    name: str
    snapshot: Snapshot
    alias_of: str | None = None  # kind alias: the view name of the snapshot it points to


@dataclass
class EvidenceConsole:
    """A sandbox over registered snapshots for interactive read-only SQL."""

    sandbox: Sandbox
    views: list[ConsoleView]
    refused: list[tuple[Snapshot, str]] = field(default_factory=list)  # not exposed, why

    def close(self) -> None:
        self.sandbox.close()

    def __enter__(self) -> EvidenceConsole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _TermPlan:
    contract: Contract
    term: TermBase
    views: dict[str, Snapshot] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    status: str | None = None  # set when the plan itself decides (no-data / error)
    reason: str = ""
    clock: datetime | None = None


def evidence_limits(state: GovernanceState) -> Limits:
    """The run's limits from ``[evidence]`` in workbench.toml (defaults without one)."""
    return limits_for(state.settings)


def limits_for(settings: Settings | None) -> Limits:
    """`evidence_limits` from the settings alone (a bundle's workbench.toml)."""
    from workbench.model.settings import EvidenceLimits, memory_bytes

    cfg = settings.evidence if settings else EvidenceLimits()
    return Limits(
        memory_cap=memory_bytes(cfg.memory_cap),
        query_timeout_s=cfg.query_timeout.total_seconds(),
        run_budget_s=cfg.run_budget.total_seconds(),
        threads=THREADS,
    )


# --------------------------------------------------------------------------- service


ROOTS_ENV = "WORKBENCH_EVIDENCE_ROOTS"


def evidence_roots(root: Path) -> tuple[Path, ...]:
    """Where evidence files may live: the repository's `evidence/`, plus the directories
    this machine names in `$WORKBENCH_EVIDENCE_ROOTS` (separated by ':') and in
    ``[evidence] roots`` of the user's config.toml. Never from a commit: a root listed in
    the repository could be widened (to ``/``) by the same commit that plants the path."""
    import os

    from workbench.evidence.manifest import default_roots
    from workbench.service.identity import config_home, user_config

    extra: list[tuple[str, str]] = []
    for part in os.environ.get(ROOTS_ENV, "").split(os.pathsep):
        if part.strip():
            extra.append((ROOTS_ENV, part.strip()))
    section = user_config().get("evidence")
    configured = section.get("roots", []) if isinstance(section, dict) else []
    where = str(config_home() / "config.toml")
    if not isinstance(configured, list) or not all(isinstance(r, str) for r in configured):
        raise WorkbenchError(f"{where}: [evidence] roots must be a list of directory paths")
    extra += [(f"{where} [evidence] roots", r) for r in configured]
    roots = list(default_roots(root))
    for source, text in extra:
        path = Path(text).expanduser()
        if not path.is_absolute():
            raise WorkbenchError(f"{source}: evidence root {text!r} must be an absolute directory")
        roots.append(path)
    return tuple(dict.fromkeys(roots))


class EvidenceService:
    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self.roots = evidence_roots(wb.root)
        self.last_stats: WorkerStats | None = None  # the last evaluate's worker figures
        self._runs_cache: dict[str, tuple[str, dict[str, Any]]] = {}
        self._book: RunBook | None = None
        self._closure_problems: list[str] = []
        self._index_cache: tuple[Manifest, datetime, dict[Any, list[Snapshot]]] | None = None
        self._refs_cache: tuple[Manifest, dict[str, Snapshot]] | None = None

    # -- manifest ---------------------------------------------------------------------
    def manifest(self, rev: str = "WORKTREE") -> Manifest:
        data = self.wb.git.blob_at(rev, MANIFEST_PATH)
        if data is None:
            return Manifest()
        return parse_manifest(data.decode("utf-8"), MANIFEST_PATH)

    def snapshots(self, *, verify: bool = False, contract: str | None = None) -> list[SnapshotInfo]:
        """Registered snapshots (newest capture first), with integrity when `verify`."""
        snaps = [
            s
            for s in self.manifest().snapshots
            if contract is None or s.contract in (None, contract)
        ]
        snaps.sort(key=lambda s: (s.captured_at, s.id), reverse=True)
        if not verify:
            return [SnapshotInfo(s) for s in snaps]
        checks = self._verify_many(snaps)
        return [SnapshotInfo(s, checks[s.id]) for s in snaps]

    def snapshot(self, ref: str) -> Snapshot:
        snap = self.manifest().resolve(ref)
        if snap is None:
            raise WorkbenchError(f"no evidence snapshot {ref!r} in {MANIFEST_PATH}")
        return snap

    def snapshot_path(self, snap: Snapshot) -> Path:
        return resolve_snapshot_path(snap.path, self.wb.root, self.roots)

    def _verify_many(self, snaps: list[Snapshot]) -> dict[str, SnapshotIntegrity]:
        unique = {s.id: s for s in snaps}
        if not unique:
            return {}
        workers = min(4, len(unique))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = pool.map(
                lambda s: (s.id, verify_snapshot(s, self.wb.root, self.roots)), unique.values()
            )
            return dict(results)

    def add(
        self,
        file: Path,
        kind: str,
        *,
        contract: str | None = None,
        term: str | None = None,
        captured_at: datetime | None = None,
        source: str | None = None,
        external: bool = False,
        name: str | None = None,
    ) -> Snapshot:
        """Check `file` against its kind's schema, register it and commit.

        Kept in git under evidence/snapshots/<id>.<ext>, or with `external` pinned by
        absolute path and sha256 (for large files). The file itself is never modified.
        """
        from workbench.evidence.kinds import check_schema, detect_format, get_kind

        wb = self.wb
        wb.require_writable("register evidence")
        get_kind(kind)
        file = Path(file)
        if not file.is_file():
            raise WorkbenchError(f"{file}: no such file")
        if term is not None and contract is None:
            raise WorkbenchError("--term needs --contract (term ids are unique per contract)")
        if contract is not None:
            doc = wb.contract(contract)
            if term is not None:
                t = doc.contract.term(term)
                if t is None:
                    known = ", ".join(x.id for x in doc.contract.terms) or "none"
                    raise WorkbenchError(
                        f"contract {contract!r} has no term {term!r} (terms: {known})"
                    )
                kinds = {n.kind for n in needs(t)}
                if kind not in kinds:
                    raise WorkbenchError(
                        f"term {term!r} ({t.kind}) reads {', '.join(sorted(kinds)) or 'no evidence'}, "
                        f"not {kind!r}"
                    )
        captured = (captured_at or wb.now).astimezone(UTC)
        if captured > wb.now:
            raise WorkbenchError(
                f"--captured-at {iso(captured)} is in the future (now {iso(wb.now)})"
            )
        fmt = detect_format(file)
        problems = check_schema(file, kind)
        if problems:
            raise EvidenceSchemaError(file, kind, problems)
        digest, size = sha256_file(file)
        sid = snapshot_id(digest)
        manifest = self.manifest()
        if (existing := manifest.get(sid)) is not None:
            raise WorkbenchError(
                f"{file} is already registered as {sid} ({existing.kind}, captured "
                f"{iso(existing.captured_at)})"
            )
        if name is not None and manifest.resolve(name) is not None:
            raise WorkbenchError(f"snapshot name {name!r} is already used in {MANIFEST_PATH}")
        changes: dict[str, bytes | None] = {}
        if external:
            path = str(file.resolve())
            try:
                resolve_snapshot_path(path, wb.root, self.roots)
            except UnsafePath as exc:
                raise WorkbenchError(
                    f"{exc}. Name its directory as an evidence root on this machine: "
                    f"`roots = [...]` under [evidence] in your config.toml, or "
                    f"${ROOTS_ENV} (docs/evidence.md, 'Evidence roots')"
                ) from None
        else:
            path = snapshot_relpath(sid, fmt)
            data = file.read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                raise WorkbenchError(f"{file} changed while it was being registered")
            changes[path] = data
        actor = wb.actor()
        snap = Snapshot(
            id=sid,
            name=name,
            kind=kind,
            path=path,
            sha256=digest,
            size=size,
            format=fmt,  # type: ignore[arg-type]
            captured_at=captured,
            source=source or f"file {file.name}",
            contract=contract,
            term=term,
            registered_by=actor.id,
            registered_at=wb.now.astimezone(UTC),
        )
        manifest = manifest.with_snapshot(snap)
        changes[MANIFEST_PATH] = render_manifest(manifest).encode("utf-8")
        target = f" for {contract}" + (f" / {term}" if term else "") if contract else ""
        where = "pinned outside git" if external else "kept in git"
        wb.commit(
            changes, f"Register {kind} evidence {sid}{target}\n\nSource: {snap.source}; {where}."
        )
        return snap

    # -- evaluation -------------------------------------------------------------------
    def _select(
        self,
        manifest: Manifest,
        contract_id: str,
        term_id: str,
        kind: str,
        exclude: set[str],
    ) -> Snapshot | None:
        """The newest snapshot of `kind` captured by now: the term's own, else the
        contract's, else a shared one (never one in `exclude`, the contract's references)."""
        index = self._snapshot_index(manifest)
        for key in ((kind, contract_id, term_id), (kind, contract_id, None), (kind, None, None)):
            for s in index.get(key, ()):
                if s.id not in exclude:
                    return s
        return None

    def _resolve_ref(self, manifest: Manifest, ref: str) -> Snapshot | None:
        """`manifest.resolve(ref)` (id or name; the first in id order), from a dict built
        once per manifest instead of a scan per term."""
        cached = self._refs_cache
        if cached is None or cached[0] is not manifest:
            refs: dict[str, Snapshot] = {}
            for s in manifest.snapshots:
                refs.setdefault(s.id, s)
                if s.name is not None:
                    refs.setdefault(s.name, s)
            cached = self._refs_cache = (manifest, refs)
        return cached[1].get(ref)

    def _snapshot_index(
        self, manifest: Manifest
    ) -> dict[tuple[str, str | None, str | None], list[Snapshot]]:
        """Snapshots captured by now per (kind, contract, term), newest first; built once
        per manifest and clock (selection is then a lookup, not a scan per term)."""
        now = self.wb.now
        cached = self._index_cache
        if cached is not None and cached[0] is manifest and cached[1] == now:
            return cached[2]
        index: dict[tuple[str, str | None, str | None], list[Snapshot]] = {}
        for s in manifest.snapshots:
            if s.captured_at > now:
                continue
            # A term-scoped snapshot without a contract matches no level, as before.
            index.setdefault((s.kind, s.contract, s.term), []).append(s)
        for hits in index.values():
            hits.sort(key=lambda s: (s.captured_at, s.id), reverse=True)
        self._index_cache = (manifest, now, index)
        return index

    def _plan(
        self, contract: Contract, manifest: Manifest, policy: EffectivePolicy
    ) -> list[_TermPlan]:
        now = self.wb.now
        references = {
            snap.id
            for t in contract.terms
            if isinstance(t, DistributionShiftTerm)
            and (snap := self._resolve_ref(manifest, t.reference)) is not None
        }
        plans = []
        for term in contract.terms:
            plan = _TermPlan(contract, term)
            plans.append(plan)
            try:
                wanted: list[ViewNeed] = needs(term)
            except TypeError:
                plan.status, plan.reason = "error", f"no check for term kind {term.kind!r}"
                continue
            if not wanted:
                plan.status = "error"
                plan.reason = "declare the evidence kinds the query reads in `views`"
                continue
            # The term's own window, else the default; never beyond the signed limit.
            max_age = policy.window("evidence_max_age", term.evidence_max_age)
            missing, stale = [], []
            for need in wanted:
                if need.role == "reference":
                    assert isinstance(term, DistributionShiftTerm)
                    snap = self._resolve_ref(manifest, term.reference)
                    if snap is None or snap.kind != need.kind or snap.captured_at > now:
                        plan.status = "error"
                        plan.reason = (
                            f"reference snapshot {term.reference!r} is not a registered "
                            f"{need.kind} snapshot"
                        )
                        break
                else:
                    from workbench.evidence.kinds import KINDS

                    if need.kind not in KINDS:
                        plan.status = "error"
                        plan.reason = f"unknown evidence kind {need.kind!r} in views"
                        break
                    snap = self._select(manifest, contract.id, term.id, need.kind, references)
                    if snap is None:
                        missing.append(need.kind)
                        continue
                    if max_age.add_to(snap.captured_at) < now:
                        stale.append(
                            f"latest {need.kind} snapshot {snap.id} was captured "
                            f"{human_seconds((now - snap.captured_at).total_seconds())} ago "
                            f"(evidence_max_age {max_age.text})"
                        )
                    if plan.clock is None or snap.captured_at > plan.clock:
                        plan.clock = snap.captured_at
                plan.views[need.view] = snap
                plan.roles[need.view] = need.role
            if plan.status:
                continue
            if missing:
                plan.status = "no-data"
                plan.reason = f"no {', '.join(missing)} evidence registered for this term"
            elif stale:
                plan.status = "no-data"
                plan.reason = "; ".join(stale)
        return plans

    def evaluate(
        self, contract: str | None = None, *, write: bool = True, signer: Any = None
    ) -> EvaluateResult:
        """Run every term (of one contract, or all) against its evidence; write the findings.

        Contracts, settings, people and the manifest are read at HEAD (what is
        committed); snapshot files are verified against their sha256 before use. The run
        is recorded with its ledger and statement, signed by the acting person (`signer`,
        else their key) when the repository has a key registry; only an authorised runner
        may record one (`RunNotRecorded` carries the results otherwise).
        """
        wb = self.wb
        now = wb.now.astimezone(UTC)
        state = wb.state("HEAD")
        if contract is not None and contract not in state.contracts:
            wb.contract(contract, "HEAD")  # raises a clear error
        manifest_blob = wb.git.blob_at("HEAD", MANIFEST_PATH) or b""
        manifest = (
            parse_manifest(manifest_blob.decode("utf-8"), MANIFEST_PATH)
            if manifest_blob
            else Manifest()
        )
        ids = [c for c in sorted(state.contracts) if contract in (None, c)]
        plans: dict[str, list[_TermPlan]] = {}
        for cid in ids:
            plans[cid] = self._plan(state.contracts[cid].contract, manifest, state.policy)
        used = [s for ps in plans.values() for p in ps if not p.status for s in p.views.values()]
        integrity = self._verify_many(used)
        for ps in plans.values():
            for p in ps:
                if p.status:
                    continue
                bad = [(v, s) for v, s in p.views.items() if not integrity[s.id].ok]
                if bad:
                    p.status = "error"
                    p.reason = "; ".join(
                        _refusal(manifest_blob, s, integrity[s.id]) for _v, s in bad
                    )
        contract_sha = {cid: hashlib.sha256(state.contracts[cid].raw).hexdigest() for cid in ids}
        flat = [p for cid in ids for p in plans[cid]]
        results = self._run_all(flat, evidence_limits(state))
        findings: list[dict[str, Any]] = []
        for plan, result in zip(flat, results, strict=True):
            cid = plan.contract.id
            findings.append(self._finding(state, plan.contract, contract_sha[cid], plan, result))
        for cid in ids:
            findings.append(
                self._page_finding(state, state.contracts[cid].contract, contract_sha[cid])
            )
        findings.sort(key=lambda f: (f["contract"], f["term"]))
        inputs = {
            "engine": ENGINE,
            "time": iso(now),
            "scope": contract,
            "contracts": contract_sha,
            "manifest_sha256": hashlib.sha256(manifest_blob).hexdigest(),
            "settings_sha256": _blob_sha(wb, "workbench.toml"),
            "people_sha256": _blob_sha(wb, "keys/people.toml"),
            "snapshots": {sid: integrity[sid].status for sid in sorted(integrity)},
        }
        if state.policy.floor.policy_sha256 is not None:
            # The signed policy.toml whose floor the verdicts used (the page test's limit).
            inputs["policy_sha256"] = state.policy.floor.policy_sha256
        run_id = make_run_id(now, inputs)
        summary: dict[str, int] = {}
        for f in findings:
            summary[f["status"]] = summary.get(f["status"], 0) + 1
        run = {
            "format": FORMAT,
            "run": run_id,
            "time": iso(now),
            "scope": contract,
            "inputs": inputs,
            "summary": summary,
            "findings": findings,
        }
        data = render_run(run)
        path = findings_path(run_id)
        existing = wb.git.blob_at("WORKTREE", path)
        if existing is not None:
            if existing != data:
                raise WorkbenchError(
                    f"{path} already records run {run_id} with different results; findings are "
                    "immutable (were snapshot files changed in place, or did a query time out?)"
                )
            return EvaluateResult(run, path, written=False)
        if not write or wb.readonly:
            return EvaluateResult(run, path, written=False)
        violations = sum(1 for f in findings if f["status"] in VIOLATING)
        scope = f"contract {contract}" if contract else f"{len(ids)} contract(s)"
        message = (
            f"Evaluate {scope}: {violations} violation(s) in {len(findings)} check(s)\n\n"
            f"Run {run_id} at {iso(now)}; "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.items()))
            + "."
        )
        result = EvaluateResult(run, path, written=False)
        commit = self._record_run(result, data, message, signer)
        return EvaluateResult(run, path, written=True, commit=commit)

    def _run_all(self, plans: list[_TermPlan], limits: Limits) -> list[CheckResult]:
        """Run every check that the plan did not decide, in the evaluation worker (a child
        process under the memory cap and the run budget: `workbench.evidence.worker`)."""
        from workbench.evidence.runner import CheckJob, ViewFile
        from workbench.evidence.worker import run_isolated

        results: list[CheckResult | None] = [None] * len(plans)
        jobs: list[CheckJob] = []
        for i, plan in enumerate(plans):
            if plan.status:
                results[i] = CheckResult(
                    plan.status, limit=limit_for(plan.term), reason=plan.reason
                )
                continue
            assert plan.clock is not None
            try:
                views = {
                    v: ViewFile(
                        s.id, str(self.snapshot_path(s).resolve(strict=True)), s.kind, s.format
                    )
                    for v, s in plan.views.items()
                }
            except (OSError, RuntimeError, EvidenceError) as exc:
                results[i] = CheckResult(
                    "error", limit=limit_for(plan.term), reason=f"evidence cannot be read: {exc}"
                )
                continue
            adopted = (
                plan.contract.adopted if isinstance(plan.term, DecisionThresholdTerm) else None
            )
            jobs.append(CheckJob(i, plan.term, plan.clock, views, adopted))
        ran, self.last_stats = run_isolated(jobs, limits)
        for key, result in ran.items():
            results[key] = result
        return [r if r is not None else CheckResult("error", reason="not run") for r in results]

    def _finding(
        self,
        state: GovernanceState,
        contract: Contract,
        sha: str,
        plan: _TermPlan,
        result: CheckResult,
    ) -> dict[str, Any]:
        term = plan.term
        finding: dict[str, Any] = {
            "contract": contract.id,
            "contract_sha256": sha,
            "term": term.id,
            "kind": term.kind,  # type: ignore[attr-defined]
            "title": term.title,
            "status": result.status,
            "observed": result.observed,
            "observed_text": result.observed_text,
            "limit": result.limit,
            "reason": result.reason,
            "sql": result.sql,
            "details": result.details,
            "clock": iso(plan.clock),
            "snapshots": [
                {
                    "view": v,
                    "role": plan.roles.get(v, "live"),
                    "id": s.id,
                    "sha256": s.sha256,
                    "kind": s.kind,
                    "captured_at": iso(s.captured_at),
                }
                for v, s in sorted(plan.views.items())
            ],
            "owner": _person(state, term.owner, self.wb.now.date()),
        }
        if result.status in VIOLATING:
            finding["paged"] = _paged(state, contract, self.wb.now.date())
        return finding

    # -- page test --------------------------------------------------------------------
    def page_test(self, contract_id: str, rev: str = "WORKTREE") -> PageTest:
        state = self.wb.state(rev)
        doc = self.wb.contract(contract_id, rev)
        return page_test(state, doc.contract, self.wb.now.date())

    def _page_finding(self, state: GovernanceState, contract: Contract, sha: str) -> dict[str, Any]:
        today = self.wb.now.date()
        pt = page_test(state, contract, today)
        finding: dict[str, Any] = {
            "contract": contract.id,
            "contract_sha256": sha,
            "term": PAGE_TEST,
            "kind": "page_test",
            "title": "Page test: one named person acknowledges within the SLA",
            "status": pt.status,
            "observed": contract.escalation.ack_sla.total_seconds(),
            "observed_text": f"{pt.reachable or 'nobody'} within {contract.escalation.ack_sla.human()}",
            "limit": pt.limit,
            "reason": pt.reason,
            "sql": "",
            "details": [],
            "clock": None,
            "snapshots": [],
            "owner": _person(state, contract.owner, today),
        }
        if pt.status in VIOLATING:
            finding["paged"] = _paged(state, contract, today)
        return finding

    # -- history ----------------------------------------------------------------------
    @property
    def book(self) -> RunBook:
        """The signed runs and the violation ledger (`workbench.service.runs`)."""
        if self._book is None:
            from workbench.service.runs import RunBook

            self._book = RunBook(self)
        return self._book

    def runs(self) -> list[dict[str, Any]]:
        """Every findings run that counts, oldest first (the whole history: `violations`,
        charts, sparklines). What is open now comes from `current()` instead."""
        return self.book.history()

    def _parse_cached(self, run_id: str, data: bytes, digest: str) -> dict[str, Any]:
        cached = self._runs_cache.get(run_id)
        if cached is None or cached[0] != digest:
            cached = (digest, parse_run(data, findings_path(run_id)))
            self._runs_cache[run_id] = cached
        return cached[1]

    def current(self) -> CurrentFindings:
        """What is open now and each term's latest finding, from the head runs' ledgers with
        the closures that count applied (the gate, `status`, the seam map)."""
        return self.book.current()

    def open_now(self, contract: str | None = None) -> list[Violation]:
        """The violations open now (from the ledger), oldest first."""
        return [
            v for v in self.current().violations if v.is_open and contract in (None, v.contract)
        ]

    def review_failures(self, keys: set[tuple[str, str]]) -> list[tuple[str, str, datetime, str]]:
        """Every episode of these terms that reached fail, as (contract, term, first fail,
        violation id), oldest opened first: from the ledger when it carries these terms, else
        from the whole history."""
        current = self.current()
        if current.failure_keys is None or keys <= current.failure_keys:
            found = [
                (opened, cid, tid, first, vid)
                for (cid, tid), episodes in current.failures.items()
                if (cid, tid) in keys
                for vid, (opened, first) in episodes.items()
            ]
            return [(c, t, first, vid) for _o, c, t, first, vid in sorted(found)]
        out = []
        for v in self.violations():
            first = next((p for p in v.points if p.status == "fail"), None)
            if first is not None and (v.contract, v.term) in keys:
                out.append((v.contract, v.term, first.time, v.id))
        return out

    def _record_run(self, result: EvaluateResult, data: bytes, message: str, signer: Any) -> str:
        return self.book.record(result, data, message, signer)

    def run(self, run_id: str | None = None) -> dict[str, Any]:
        """One run by id (or unique prefix); the latest when `run_id` is None."""
        runs = self.runs()
        if not runs:
            raise WorkbenchError("no evaluation runs yet; run `workbench evaluate`")
        if run_id is None:
            return runs[-1]
        hits = [r for r in runs if r["run"].startswith(run_id)]
        if len(hits) != 1:
            raise WorkbenchError(
                f"no run {run_id!r}" if not hits else f"run {run_id!r} is ambiguous"
            )
        return hits[0]

    def closures(self) -> list[Closure]:
        """The legacy findings/closures.toml (unsigned; see `closure_inputs` for what counts)."""
        data = self.wb.git.blob_at("WORKTREE", CLOSURES_PATH)
        return parse_closures(data.decode("utf-8")) if data else []

    def closure_files(self) -> dict[str, bytes]:
        # Through git: a committed view (the gate) reads HEAD's, never an uncommitted one.
        return self.wb.git.read_files(
            "WORKTREE", lambda p: p.startswith(CLOSURES_DIR) or CLOSURES_DIR.startswith(p)
        )

    def _contract_exemptions(self) -> list[ContractExemption]:
        from workbench.service.obligations import ObligationsService

        obligations = ObligationsService(self.wb)
        out: list[ContractExemption] = []
        state = self.wb.state()
        approved: dict[str, bool | None] | None = None
        for cid, doc in state.contracts.items():
            if not doc.contract.exemptions:
                continue
            if approved is None:
                approved = obligations.approved()
            history = self.wb.git.history(layout.contract_path(cid), 1)
            for ex in doc.contract.exemptions:
                out.append(
                    ContractExemption(
                        cid,
                        ex.term,
                        ex.reason,
                        ex.approver,
                        ex.expires,
                        bool(approved.get(cid)),
                        history[0].time if history else None,
                    )
                )
        return out

    def authority(self) -> Authority:
        """Who may approve exemptions: the policy signed into the registry head (its
        defaults, and the working tree's teams, in a repository without a registry)."""
        from workbench.model.settings import ExemptionPolicy
        from workbench.service.obligations import ObligationsService

        head = ObligationsService(self.wb)._registry()
        if head is not None:
            from workbench.signing.registry import PEOPLE
            from workbench.signing.verdict import parse_people

            policy = head.policy.exemptions
            compliance = head.policy.approval.compliance_team
            leads = {t.id: t.lead for t in parse_people(head.files[PEOPLE]).teams}
        else:
            from workbench.service.signing import approval_policy

            policy = ExemptionPolicy()
            compliance = approval_policy(self.wb).compliance_team
            leads = {tid: t.lead for tid, t in self.wb.state().teams.items()}
        return Authority(
            resolve_approvers(policy.approvers, compliance, leads),
            policy.max_days,
            tuple(policy.approvers),
        )

    def closure_inputs(self) -> ClosureInputs:
        from workbench.governance.record_time import Placement
        from workbench.service.obligations import ObligationsService

        wb = self.wb
        files = self.closure_files()
        records, problems = parse_closure_records(files)
        self._closure_problems = problems
        obligations = ObligationsService(wb)
        signatures = {
            r.path: obligations._signature_status(files, r.path, r.person) for r in records
        }
        placed = wb.git.placements((CLOSURES_DIR,)) if records else {}
        state = wb.state()
        try:
            legacy = self.closures()
        except EvidenceError as exc:
            self._closure_problems.append(str(exc))
            legacy = []
        return ClosureInputs(
            records=records,
            signatures=signatures,
            placements={p: Placement(c, parent) for p, (c, parent) in placed.items()},
            authority=self.authority(),
            signatures_required=obligations.signatures_required(),
            people_left=lambda pid, day: (
                (person := state.people.get(pid)) is not None and person.has_left(day)
            ),
            known_people=frozenset(state.people),
            now=wb.now,
            now_is_real=wb.clock_is_real,
            legacy=legacy,
            contract_exemptions=self._contract_exemptions(),
        )

    def closure_verdicts(self) -> tuple[list[Violation], ClosureVerdicts]:
        """The violation history with the closures that count, and the records that don't."""
        return fold_violations(self.runs(), self.closure_inputs(), self.wb.now.date())

    def closure_flags(self) -> dict[str, list[str]]:
        """Per contract: closure records that claim what they cannot (the gate fails on them)."""
        out: dict[str, list[str]] = {}
        for contract, message in self.current().verdicts.flags:
            out.setdefault(contract, []).append(message)
        return out

    def run_flags(self) -> dict[str, list[str]]:
        """Per contract: runs that claim what they cannot (not signed by an authorised
        runner, changed after signing, an impossible time): the gate's records_valid rule
        fails on them, as on such a closure or review record."""
        from workbench.evidence.run_chain import run_path
        from workbench.service.runs import ALL_TERMS

        out: dict[str, list[str]] = {}
        contracts = sorted(self.wb.state().contracts)
        for r in self.current().rejected:
            named = contracts if r.terms == ALL_TERMS else sorted({c for c, _t in r.terms})
            for contract in named:
                out.setdefault(contract, []).append(f"{run_path(r.run)} does not count: {r.reason}")
        return out

    def violations(
        self,
        *,
        since: date | datetime | None = None,
        contract: str | None = None,
        open_only: bool = False,
    ) -> list[Violation]:
        """Violations across all runs (oldest first). `since`: active at or after it."""
        history, _verdicts = self.closure_verdicts()
        if since is not None:
            if not isinstance(since, datetime):
                since = datetime(since.year, since.month, since.day, tzinfo=UTC)
            history = [v for v in history if v.last_at >= since]
        if contract is not None:
            history = [v for v in history if v.contract == contract]
        if open_only:
            history = [v for v in history if v.is_open]
        return history

    def violation(self, ref: str) -> Violation:
        """A violation by id (or unique id prefix), or `contract/term` for its latest one."""
        history = self.violations()
        if "/" in ref:
            cid, _, tid = ref.partition("/")
            hits = [v for v in history if v.contract == cid and v.term == tid]
            hits = hits[-1:]
        else:
            hits = [v for v in history if v.id.startswith(ref)]
        if not hits:
            raise WorkbenchError(f"no violation {ref!r}; list them with `workbench violations`")
        if len(hits) > 1:
            raise WorkbenchError(
                f"violation id {ref!r} is ambiguous: " + ", ".join(v.id for v in hits)
            )
        return hits[0]

    def series(self, contract: str | None = None) -> dict[tuple[str, str], list[Point]]:
        """Status/observed per run for every (contract, term): the sparklines."""
        data = term_series(self.runs())
        return {k: v for k, v in data.items() if contract in (None, k[0])}

    def terms_at_now(self, contract: str | None = None, rev: str = "WORKTREE") -> list[TermAt]:
        """Every term of the contracts at `rev`, judged at now: is its latest finding its
        current finding (`workbench.governance.currency`)? The page test is not listed: the
        gate's `page_test` rule computes it at now from the contract."""
        from workbench.governance.currency import EvidenceAt, NotCounted, term_at

        state = self.wb.state(rev)
        now = self.wb.now
        current = self.current()
        latest = current.latest
        try:
            manifest: Manifest | None = self.manifest(rev)
        except EvidenceError as exc:
            manifest, broken = None, str(exc).splitlines()[0]
        out: list[TermAt] = []
        for cid in sorted(state.contracts):
            if contract not in (None, cid):
                continue
            doc = state.contracts[cid]
            sha = hashlib.sha256(doc.raw).hexdigest()
            if manifest is None:
                out += [
                    TermAt(cid, t.id, "evidence-missing", f"evidence cannot be selected: {broken}")
                    for t in doc.contract.terms
                ]
                continue
            for plan in self._plan(doc.contract, manifest, state.policy):
                term = plan.term
                try:
                    views = [n.view for n in needs(term)]
                except TypeError:
                    views = []
                selected: dict[str, EvidenceAt | None] = dict.fromkeys(views)
                for view, snap in plan.views.items():
                    selected[view] = EvidenceAt(
                        view,
                        snap.id,
                        snap.sha256,
                        snap.kind,
                        snap.captured_at,
                        plan.roles.get(view, "live"),
                    )
                found, run_id, run_time = latest.get((cid, term.id), (None, None, None))
                newer = current.rejected_for((cid, term.id))
                out.append(
                    term_at(
                        cid,
                        term.id,
                        finding=found,
                        run=run_id,
                        run_time=run_time,
                        contract_sha256=sha,
                        selected=selected,
                        max_age=state.policy.window("evidence_max_age", term.evidence_max_age),
                        now=now,
                        not_counted=(
                            NotCounted(newer.run, newer.time, newer.reason) if newer else None
                        ),
                    )
                )
        return out

    def not_current(self, contract: str | None = None) -> list[tuple[TermAt, Violation | None]]:
        """Terms that fail at now because their latest finding is not current, each with
        its latest violation (`currency.fails_at_now` decides)."""
        from workbench.governance.currency import fails_at_now

        latest_violation: dict[tuple[str, str], Violation] = {}
        for v in self.current().violations:
            if contract in (None, v.contract):
                latest_violation[(v.contract, v.term)] = v
        out = []
        for t in self.terms_at_now(contract):
            v = latest_violation.get((t.contract, t.term))
            if fails_at_now(t, v.state if v else None):
                out.append((t, v))
        return out

    def finding(self, run_id: str, contract: str, term: str) -> dict[str, Any]:
        run = self.run(run_id)
        for f in run["findings"]:
            if f["contract"] == contract and f["term"] == term:
                return f
        raise WorkbenchError(f"run {run_id} has no finding for {contract}/{term}")

    def open_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for v in self.violations(open_only=True):
            counts[v.contract] = counts.get(v.contract, 0) + 1
        return counts

    def close(
        self,
        ref: str,
        *,
        resolved: bool = False,
        note: str | None = None,
        exempt: bool = False,
        reason: str | None = None,
        approver: str | None = None,
        expires: date | None = None,
        signer: Any = None,
    ) -> Closure:
        """Close a violation consciously, as a signed record by the acting person.

        `resolved` (with a note) counts at once. `exempt` files an exemption *request*
        (reason, the approver asked, expiry); it counts only once that approver - someone
        the signed policy authorises - signs an approval (`approve`).
        """
        wb = self.wb
        wb.require_writable("close violations")
        if resolved == exempt:
            raise WorkbenchError(
                "choose one: --resolved --note TEXT, or --exempt --reason … --approver … --expires …"
            )
        v = self.violation(ref)
        if v.state == "resolved":
            raise WorkbenchError(f"violation {v.id} is already resolved")
        state = wb.state()
        actor = wb.actor(state)
        when = wb.record_time()
        today = when.date()
        if resolved:
            if not (note or "").strip():
                raise WorkbenchError("--resolved needs --note TEXT saying what was done")
            fields: dict[str, Any] = {**self._closure_head(v, actor.id, "resolve", when)}
            fields["note"] = (note or "").strip()
            message = f"Resolve violation {v.id} ({v.contract} / {v.term})\n\n{fields['note']}\n"
            self._write_closure(v, actor.id, "resolve", when, fields, message, signer)
            return Closure(
                v.id, v.contract, v.term, "resolved", actor.id, when, note=fields["note"]
            )
        if not (reason or "").strip():
            raise WorkbenchError("--exempt needs --reason TEXT")
        if not approver:
            raise WorkbenchError("--exempt needs --approver PERSON (a named individual)")
        if expires is None:
            raise WorkbenchError("--exempt needs --expires DATE; exemptions are time-boxed")
        person = state.people.get(approver)
        if person is None:
            raise WorkbenchError(f"--approver {approver!r} is not a person in keys/people.toml")
        if person.has_left(today):
            raise WorkbenchError(f"--approver {approver!r} left on {person.left}")
        if approver == actor.id:
            raise WorkbenchError(f"{actor.id} cannot approve their own exemption")
        authority = self.authority()
        problem = self._approver_problem(v, approver, actor.id, authority)
        if problem:
            raise WorkbenchError(f"--approver {approver}: {problem}")
        if expires <= today:
            raise WorkbenchError(f"--expires {expires} is not in the future (today {today})")
        limit = today + timedelta(days=authority.max_days)
        if expires > limit:
            raise WorkbenchError(
                f"--expires {expires} is more than the policy's {authority.max_days} days away "
                f"(at most {limit}; keys/policy.toml [exemptions] max_days)"
            )
        fields = {**self._closure_head(v, actor.id, "exempt-request", when)}
        fields.update(reason=(reason or "").strip(), approver=approver, expires=expires)
        message = (
            f"Request an exemption of violation {v.id} ({v.contract} / {v.term}) until "
            f"{expires}\n\nAsks {approver} to approve: {fields['reason']}\n"
        )
        self._write_closure(v, actor.id, "exempt-request", when, fields, message, signer)
        return Closure(
            v.id,
            v.contract,
            v.term,
            "exempt-request",
            actor.id,
            when,
            reason=fields["reason"],
            approver=approver,
            expires=expires,
        )

    def approve(self, ref: str, *, expires: date | None = None, signer: Any = None) -> Closure:
        """As an authorised approver, sign the pending exemption request of a violation
        (optionally ending it earlier than requested)."""
        wb = self.wb
        wb.require_writable("approve exemptions")
        v = self.violation(ref)
        state = wb.state()
        actor = wb.actor(state)
        when = wb.record_time()
        records, _problems = parse_closure_records(self.closure_files())
        approved = {r.request for r in records if r.act == "exempt-approve" and r.violation == v.id}
        requests = [
            r
            for r in records
            if r.act == "exempt-request" and r.violation == v.id and r.path not in approved
        ]
        if not requests:
            raise WorkbenchError(
                f"violation {v.id} has no exemption request waiting for approval "
                f"(`workbench violations close {v.id} --exempt ...` files one)"
            )
        request = max(requests, key=lambda r: (r.recorded, r.path))
        until = expires or request.expires
        if request.expires is not None and until is not None and until > request.expires:
            raise WorkbenchError(f"--expires {until} is later than requested ({request.expires})")
        authority = self.authority()
        problem = self._approver_problem(v, actor.id, request.person, authority)
        if problem:
            raise WorkbenchError(f"{actor.id}: {problem}")
        if until is None or until <= when.date():
            raise WorkbenchError(f"the exemption would end on {until}, not in the future")
        limit = when.date() + timedelta(days=authority.max_days)
        if until > limit:
            raise WorkbenchError(
                f"the exemption would end on {until}, more than the policy's "
                f"{authority.max_days} days from today (at most {limit}); approve with "
                f"--expires {limit} or earlier"
            )
        fields = {**self._closure_head(v, actor.id, "exempt-approve", when)}
        fields.update(request=request.path, request_sha256=request.sha256, expires=until)
        message = (
            f"Approve the exemption of violation {v.id} ({v.contract} / {v.term}) until "
            f"{until}\n\nRequested by {request.person}: {request.reason}\n"
        )
        self._write_closure(v, actor.id, "exempt-approve", when, fields, message, signer)
        return Closure(
            v.id,
            v.contract,
            v.term,
            "exempt",
            request.person,
            when,
            reason=request.reason,
            approver=actor.id,
            expires=until,
        )

    def _approver_problem(
        self, v: Violation, approver: str, requester: str, authority: Authority
    ) -> str | None:
        """Why `approver` may not approve an exemption of `v` (the same rule as
        `evidence.closures`, asked before anything is written)."""
        if approver == requester:
            return "cannot approve their own request"
        if approver == term_owner(v):
            return "owns the violated term and cannot approve its exemption"
        if approver in caused_by(v):
            return "caused the violation and cannot approve its exemption"
        if approver not in authority.approvers:
            who = ", ".join(sorted(authority.approvers - {requester})) or "nobody"
            return (
                "has no authority to approve exemptions; the signed policy "
                f"(keys/policy.toml [exemptions] approvers = {list(authority.named)}) names: {who}"
            )
        return None

    @staticmethod
    def _closure_head(v: Violation, person: str, act: str, when: datetime) -> dict[str, Any]:
        return {
            "violation": v.id,
            "contract": v.contract,
            "term": v.term,
            "person": person,
            "act": act,
            "recorded": when.astimezone(UTC).replace(microsecond=0),
        }

    def _write_closure(
        self,
        v: Violation,
        person: str,
        act: str,
        when: datetime,
        fields: dict[str, Any],
        message: str,
        signer: Any,
    ) -> ClosureRecord | None:
        from workbench.service.obligations import ObligationsService

        path = closure_record_path(v.id, when, person, act)
        if (self.wb.root / path).exists():
            raise WorkbenchError(f"{path} exists already; try again in a second")
        ObligationsService(self.wb)._write_record(
            path, fields, v.contract, person, act, message, signer
        )
        return None

    # -- console ----------------------------------------------------------------------
    def console(
        self,
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
        from workbench.evidence.kinds import snapshot_file
        from workbench.evidence.sandbox import VIEW_NAME_RE, Sandbox

        infos = self.snapshots(verify=True, contract=contract)
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
            files[name] = snapshot_file(integrity.path or self.snapshot_path(s), s.kind, s.format)
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

    def finding_sandbox(self, finding: dict[str, Any], *, timeout_s: float = 30.0) -> Sandbox:
        """The views a finding was computed on, re-verified, to re-run its SQL or browse rows."""
        from workbench.evidence.kinds import snapshot_file
        from workbench.evidence.sandbox import Sandbox

        manifest = self.manifest()
        files = {}
        for ref in finding.get("snapshots", []):
            snap = manifest.get(ref["id"])
            if snap is None:
                raise WorkbenchError(f"snapshot {ref['id']} is no longer registered")
            if snap.sha256 != ref["sha256"]:
                raise WorkbenchError(f"snapshot {ref['id']} changed in the manifest")
            check = verify_snapshot(snap, self.wb.root, self.roots)
            if not check.ok:
                raise WorkbenchError(f"snapshot {snap.id} not used: {check.reason}")
            file = snapshot_file(check.path or self.snapshot_path(snap), snap.kind, snap.format)
            files[ref["view"]] = file  # the logical name (freshness_lags, reference…)
            files[view_name(snap.id)] = file  # the name generated SQL binds to
        return Sandbox(files, memory_limit=MEMORY_LIMIT, threads=THREADS, timeout_s=timeout_s)


# --------------------------------------------------------------------------- helpers


def _refusal(manifest_text: bytes, snap: Snapshot, integrity: SnapshotIntegrity) -> str:
    """Why a snapshot is not used; a path refused by the manifest entry itself (outside the
    roots, unsafe) names the entry's file:line:column."""
    reason = f"snapshot {snap.id} not used: {integrity.reason}"
    if integrity.status not in ("outside_roots", "unsafe_path"):
        return reason
    line, column = manifest_position(manifest_text.decode("utf-8", "replace"), snap.id)
    return f"{MANIFEST_PATH}:{line}:{column}: {reason}"


def _term_sql(term: TermBase) -> str:
    return str(getattr(term, "query", "") or "")


def _blob_sha(wb: Workbench, path: str) -> str:
    data = wb.git.blob_at("HEAD", path) or b""
    return hashlib.sha256(data).hexdigest()


def _person(state: GovernanceState, pid: str, today: date) -> dict[str, Any]:
    p = state.people.get(pid)
    return {
        "id": pid,
        "name": p.name if p else None,
        "departed": bool(p and p.has_left(today)),
    }


def _paged(state: GovernanceState, contract: Contract, today: date) -> dict[str, Any]:
    e = contract.escalation
    return {
        "primary": _person(state, e.primary, today),
        "backup": _person(state, e.backup, today),
        "channel": e.channel,
        "ack_sla": e.ack_sla.text,
    }


# --------------------------------------------------------------------------- seam marks


def mark_seams(wb: Workbench, views: list[SeamView]) -> None:
    """Seam-map marks: marks["violations"] ("2 open", "ok", "not evaluated") and
    marks["page"] = "fails" when the page test fails, "warn" when only the backup answers."""
    service = EvidenceService(wb)
    try:
        current = service.current()
        history = current.violations
        evaluated = {contract for contract, _term in current.latest}
        stale = service.not_current()
    except EvidenceError:
        history, evaluated, stale = [], set(), []
    open_by: dict[str, int] = {}
    for v in history:
        if v.is_open:
            open_by[v.contract] = open_by.get(v.contract, 0) + 1
    # Terms failing at now without an open violation of their own (one count per term).
    stale_by: dict[str, int] = {}
    for t, v in stale:
        if v is None or not v.is_open:
            stale_by[t.contract] = stale_by.get(t.contract, 0) + 1
    state = wb.state()
    today = wb.now.date()
    from workbench.service.notify import NotifyService

    try:
        pages = NotifyService(wb).pages()  # a missed page fails the page test everywhere
    except (EvidenceError, WorkbenchError):
        pages = {}
    for view in views:
        if not view.governed:
            continue
        parts = []
        if open_by.get(view.id):
            parts.append(f"{open_by[view.id]} open")
        if view.id not in evaluated:
            parts.append("not evaluated")
        elif stale_by.get(view.id):
            parts.append(f"{stale_by[view.id]} not current")
        view.marks["violations"] = ", ".join(parts) or "ok"
        doc = state.contracts.get(view.id)
        page = (
            page_test(state, doc.contract, today, pages.get(view.id), wb.now).status
            if doc is not None
            else "pass"
        )
        if page != "pass":
            view.marks["page"] = "fails" if page == "fail" else "warn"
