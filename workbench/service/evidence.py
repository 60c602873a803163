"""Evidence service: register snapshots, evaluate terms, keep the violation history.

The CLI (`workbench evidence`, `evaluate`, `violations`) and the TUI (violations screen,
evidence console) call this; nothing here prints. All SQL runs through `Sandbox.query`
(the read-only guard), every time comes from `wb.now`, and every write goes through
`Workbench.commit` (read-only check, acting person, one commit).

Entry point: ``wb.evidence``; its part ``violations`` (``service/violations.py``) keeps the
violation history and the closures; planning and running an evaluation is
``service/evaluation.py``. See docs/evidence.md for the rules.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.evidence.checks import (
    VIOLATING,
    iso,
    needs,
)
from workbench.evidence.errors import (
    EvidenceError,
    EvidenceSchemaError,
)
from workbench.evidence.findings import (
    FORMAT,
    Point,
    Violation,
    findings_path,
    make_run_id,
    parse_run,
    render_run,
    term_series,
)
from workbench.evidence.manifest import (
    MANIFEST_PATH,
    Manifest,
    Snapshot,
    SnapshotIntegrity,
    render_manifest,
    resolve_snapshot_path,
    sha256_file,
    snapshot_id,
    snapshot_relpath,
    verify_snapshot,
)
from workbench.evidence.runner import Limits, limits_for
from workbench.governance.currency import TermAt
from workbench.governance.paging import PageTest, page_test
from workbench.model.findings import Finding, Run
from workbench.service.errors import WorkbenchError, settings_refusal
from workbench.service.evaluation import (
    Planner,
    TermPlan,
    blob_sha,
    page_finding,
    resolve_run_engine,
    term_finding,
)
from workbench.service.evidence_register import check_target, name_holder, pin_table, under_roots
from workbench.service.evidence_registrations import Registrations, refusal, selection_input
from workbench.service.violations import ViolationBook

if TYPE_CHECKING:
    from workbench.evidence.hash_cache import Hasher
    from workbench.evidence.sandbox import QueryResult, Sandbox
    from workbench.governance.seams import SeamView
    from workbench.service.core import Workbench
    from workbench.service.runs import CurrentFindings, RunBook
    from workbench.signing.keys import Signer

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
    run: Run
    path: str
    written: bool  # False when the same findings already existed, or read-only
    commit: str | None = None
    # What ran otherwise than planned (a batch that fell back to per-term queries, a
    # worker restarted), and why; not part of the findings (they are the same either way).
    notes: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.run["run"]

    @property
    def findings(self) -> list[Finding]:
        return self.run["findings"]

    @property
    def violations(self) -> list[Finding]:
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


# --------------------------------------------------------------------------- service


ROOTS_ENV = "WORKBENCH_EVIDENCE_ROOTS"


def evidence_roots(root: Path) -> tuple[Path, ...]:
    """Where evidence files may live: the repository's `evidence/`, plus the directories
    this machine names in `$WORKBENCH_EVIDENCE_ROOTS` (separated by ':') and in
    ``[evidence] roots`` of the user's config.toml. Never from a commit: a root listed in
    the repository could be widened (to ``/``) by the same commit that plants the path."""
    import os

    from workbench.evidence.manifest import default_roots
    from workbench.repo.user_config import config_home, user_config

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
        self._runs_cache: dict[str, tuple[str, Run]] = {}
        self._book: RunBook | None = None
        self._planner = Planner(wb)
        self.violations = ViolationBook(self)
        self.registrations = Registrations(wb)

    def limits(self) -> Limits:
        """What one evaluation may cost: ``[evidence]`` of workbench.toml."""
        return limits_for(self.wb.state().settings)

    # -- manifest ---------------------------------------------------------------------
    def manifest(self, rev: str = "WORKTREE") -> Manifest:
        """The snapshots that count at `rev`: from the registrations that count (and the
        legacy manifest where it still counts), ``evidence.registrations``' one rule."""
        return self.registrations.selection(rev).manifest

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
            raise WorkbenchError(f"no registered evidence snapshot {ref!r} that counts")
        return snap

    def snapshot_path(self, snap: Snapshot) -> Path:
        return resolve_snapshot_path(snap.path, self.wb.root, self.roots)

    def _verify_many(self, snaps: list[Snapshot]) -> dict[str, SnapshotIntegrity]:
        unique = {s.id: s for s in snaps}
        if not unique:
            return {}
        from workbench.evidence.hash_cache import hash_many  # docs/evidence.md, hash cache

        def check(s: Snapshot, hasher: Hasher) -> tuple[str, SnapshotIntegrity]:
            return s.id, verify_snapshot(s, self.wb.root, self.roots, hasher)

        # A table version re-hashes its data files itself: straight to the hashing threads.
        return dict(
            hash_many(
                self.wb.root,
                not self.wb.readonly,
                check,
                list(unique.values()),
                lambda s: s.format not in ("delta", "iceberg"),
                lambda checked: checked[1].ok,  # a refused file is never remembered
            )
        )

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
        table_version: int | None = None,
        replace: bool = False,
        signer: Any = None,
    ) -> Snapshot:
        """Check `file` against its kind's schema, register it and commit (a `name` another
        snapshot holds only with `replace`: docs/evidence.md, "Stable names").

        Kept in git under evidence/snapshots/<id>.<ext>, or with `external` pinned by
        absolute path and sha256 (for large files). The file itself is never modified.
        A Delta table folder or an Iceberg ``*.metadata.json`` is pinned by version
        (`table_version`, default the latest): its data files' listing is committed to
        evidence/tables/<id>.json (`workbench.evidence.tables`).
        """
        from workbench.evidence import tables
        from workbench.evidence.kinds import check_schema, detect_format, get_kind

        wb = self.wb
        wb.require_writable("register evidence")
        get_kind(kind)
        file = Path(file)
        table = tables.detect_table(file)
        if table is None and table_version is not None:
            raise WorkbenchError(
                f"{file}: --table-version needs a Delta table folder (with _delta_log/) or an "
                "Iceberg metadata file (*.metadata.json)"
            )
        if table is None and not file.is_file():
            raise WorkbenchError(f"{file}: no such file")
        if term is not None and contract is None:
            raise WorkbenchError("--term needs --contract (term ids are unique per contract)")
        if contract is not None:
            check_target(wb, contract, term, kind)
        captured = (captured_at or wb.now).astimezone(UTC)
        if captured > wb.now:
            raise WorkbenchError(
                f"--captured-at {iso(captured)} is in the future (now {iso(wb.now)})"
            )
        pinned = None
        if table is not None:
            pinned = self._pin_table(table, file, table_version)
            fmt, digest, size = table, pinned.sha256, pinned.size
            for data in pinned.files:
                problems = check_schema(data.path, kind)
                if problems:
                    raise EvidenceSchemaError(data.path, kind, problems)
        else:
            fmt = detect_format(file)
            problems = check_schema(file, kind)
            if problems:
                raise EvidenceSchemaError(file, kind, problems)
            digest, size = sha256_file(file)
        sid = snapshot_id(digest)
        manifest = self.manifest()
        legacy = self.registrations.legacy() or Manifest()
        if (existing := manifest.get(sid) or legacy.get(sid)) is not None:
            raise WorkbenchError(
                f"{file} is already registered as {sid} ({existing.kind}, captured "
                f"{iso(existing.captured_at)})"
            )
        holder = name_holder(name, replace, (manifest, legacy), self.registrations, wb.actor().id)
        changes: dict[str, bytes | None] = {}
        if pinned is not None:
            path = str(file.resolve())
            changes[tables.listing_path(sid)] = pinned.listing()
        elif external:
            path = str(file.resolve())
            under_roots(path, wb.root, self.roots)
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
            table_version=pinned.version if pinned is not None else None,
            captured_at=captured,
            source=source or f"file {file.name}",
            contract=contract,
            term=term,
            registered_by=actor.id,
            registered_at=wb.now.astimezone(UTC),
        )
        target = f" for {contract}" + (f" / {term}" if term else "") if contract else ""
        where = "pinned outside git" if external else "kept in git"
        if pinned is not None:
            where = f"{table} version {pinned.version}, {len(pinned.files)} data file(s) pinned"
        message = f"Register {kind} evidence {sid}{target}\n\nSource: {snap.source}; {where}.\n"
        if self.registrations.records.signatures_required():
            # A signed record of its own (docs/evidence.md, "Who may register evidence").
            self.registrations.write([snap], message, extra=changes, signer=signer)
            return snap
        # No key registry yet: the shared manifest, as before (nothing could be signed).
        if holder is not None and legacy.get(holder.id) is not None:  # a name is held once
            legacy = legacy.with_snapshot(holder.model_copy(update={"name": None}))
        changes[MANIFEST_PATH] = render_manifest(legacy.with_snapshot(snap)).encode("utf-8")
        wb.commit(changes, message)
        return snap

    def _pin_table(self, fmt: str, location: Path, version: int | None) -> Any:
        return pin_table(self.wb.root, self.roots, fmt, location, version)

    # -- evaluation -------------------------------------------------------------------
    def evaluate(
        self,
        contract: str | None = None,
        *,
        write: bool = True,
        signer: Signer | None = None,
        engine: str | None = None,
    ) -> EvaluateResult:
        """Run every term (`_evaluate`), with the DuckDB evaluation worker started first so
        that it loads while the repository is read and the evidence hashed."""
        from workbench.evidence import worker

        state = self.wb.state("HEAD")
        if state.settings is None:  # its limits, engines and [org] are what a run is under
            raise settings_refusal(state, "evaluate")
        if engine != "spark":
            worker.prestart()
        try:
            return self._evaluate(contract, write=write, signer=signer, engine=engine)
        finally:
            worker.discard_spare()

    def _evaluate(
        self,
        contract: str | None = None,
        *,
        write: bool = True,
        signer: Signer | None = None,
        engine: str | None = None,
    ) -> EvaluateResult:
        """Run every term (of one contract, or all) against its evidence; write the findings.

        Contracts, settings, people and the manifest are read at HEAD (what is
        committed); snapshot files are verified against their sha256 before use. The run
        is recorded with its ledger and statement, signed by the acting person (`signer`,
        else their key) when the repository has a key registry; only an authorised runner
        may record one (`RunNotRecorded` carries the results otherwise).
        """
        wb = self.wb
        now: datetime = wb.now.astimezone(UTC)
        today = wb.now.date()
        state = wb.state("HEAD")
        run_engine = resolve_run_engine(engine, state)
        if contract is not None and contract not in state.contracts:
            wb.contract(contract, "HEAD")  # raises a clear error
        manifest_blob = wb.git.blob_at("HEAD", MANIFEST_PATH) or b""
        selection = self.registrations.selection("HEAD")
        manifest = selection.manifest
        ids = [c for c in sorted(state.contracts) if contract in (None, c)]
        plans: dict[str, list[TermPlan]] = {}
        for cid in ids:
            plans[cid] = self._planner.plan(state.contracts[cid].contract, manifest, state.policy)
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
                        refusal(manifest_blob, selection.source.get(s.id), s, integrity[s.id])
                        for _v, s in bad
                    )
        contract_sha = {cid: hashlib.sha256(state.contracts[cid].raw).hexdigest() for cid in ids}
        flat = [p for cid in ids for p in plans[cid]]
        results = self._planner.run(
            flat, limits_for(state.settings), self.snapshot_path, run_engine, integrity
        )
        ran = self._planner.last_run
        assert ran is not None
        stats = self._planner.last_stats
        notes = [] if stats is None else [*stats.notes, *(f"worker: {r}" for r in stats.restarts)]
        findings: list[Finding] = []
        for i, (plan, result) in enumerate(zip(flat, results, strict=True)):
            cid = plan.contract.id
            finding = term_finding(state, plan.contract, contract_sha[cid], plan, result, today)
            findings.append(finding)
            # -- engine (issue 18): which engine ran the check, and its own SQL
            if run_engine.name != "duckdb" and i in ran.engine_sql:
                finding["engine"] = {**run_engine.describe(ran.version), "sql": ran.engine_sql[i]}
        for cid in ids:
            findings.append(
                page_finding(state, state.contracts[cid].contract, contract_sha[cid], today)
            )
        findings.sort(key=lambda f: (f["contract"], f["term"]))
        inputs = {
            "engine": ENGINE,
            "time": iso(now),
            "scope": contract,
            "contracts": contract_sha,
            "manifest_sha256": hashlib.sha256(manifest_blob).hexdigest(),
            "settings_sha256": blob_sha(wb, "workbench.toml"),
            **selection_input(selection),
            "people_sha256": blob_sha(wb, "keys/people.toml"),
            "snapshots": {sid: integrity[sid].status for sid in sorted(integrity)},
        }
        if run_engine.name != "duckdb":
            # Another engine is another run: its id differs from DuckDB's on the same inputs.
            inputs["sql_engine"] = run_engine.describe(ran.version)
        if state.policy.floor.policy_sha256 is not None:
            # The signed policy.toml whose floor the verdicts used (the page test's limit).
            inputs["policy_sha256"] = state.policy.floor.policy_sha256
        run_id = make_run_id(now, inputs)
        summary: dict[str, int] = dict(Counter(f["status"] for f in findings))  # first-seen order
        run: Run = {
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
            return EvaluateResult(run, path, written=False, notes=notes)
        if not write or wb.readonly:
            return EvaluateResult(run, path, written=False, notes=notes)
        violations = sum(1 for f in findings if f["status"] in VIOLATING)
        scope = f"contract {contract}" if contract else f"{len(ids)} contract(s)"
        message = (
            f"Evaluate {scope}: {violations} violation(s) in {len(findings)} check(s)\n\n"
            f"Run {run_id} at {iso(now)}; "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.items()))
            + "."
        )
        if notes:
            from workbench.model.safe_text import line

            message += "\n\nNotes:\n" + "\n".join(f"- {line(n)}" for n in notes)
        pending = EvaluateResult(run, path, written=False, notes=notes)
        commit = self.book.record(pending, data, message, signer)
        return EvaluateResult(run, path, written=True, commit=commit, notes=notes)

    # -- page test --------------------------------------------------------------------
    def page_test(self, contract_id: str, rev: str = "WORKTREE") -> PageTest:
        state = self.wb.state(rev)
        doc = self.wb.contract(contract_id, rev)
        return page_test(state, doc.contract, self.wb.now.date())

    # -- history ----------------------------------------------------------------------
    @property
    def book(self) -> RunBook:
        """The signed runs and the violation ledger (`workbench.service.runs`)."""
        if self._book is None:
            from workbench.service.runs import RunBook

            self._book = RunBook(self)
        return self._book

    def runs(self) -> list[Run]:
        """Every findings run that counts, oldest first (the whole history: `violations`,
        charts, sparklines). What is open now comes from `current()` instead."""
        return self.book.history()

    def _parse_cached(self, run_id: str, data: bytes, digest: str) -> Run:
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
        for v in self.violations.find():
            first = next((p for p in v.points if p.status == "fail"), None)
            if first is not None and (v.contract, v.term) in keys:
                out.append((v.contract, v.term, first.time, v.id))
        return out

    def run(self, run_id: str | None = None) -> Run:
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
            for plan in self._planner.plan(doc.contract, manifest, state.policy):
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
        out: list[tuple[TermAt, Violation | None]] = []
        for v in self.current().violations:
            if contract in (None, v.contract):
                latest_violation[(v.contract, v.term)] = v
        for t in self.terms_at_now(contract):
            latest = latest_violation.get((t.contract, t.term))
            if fails_at_now(t, latest.state if latest else None):
                out.append((t, latest))
        return out

    def finding(self, run_id: str, contract: str, term: str) -> Finding:
        run = self.run(run_id)
        for f in run["findings"]:
            if f["contract"] == contract and f["term"] == term:
                return f
        raise WorkbenchError(f"run {run_id} has no finding for {contract}/{term}")

    # -- console (service/evidence_console.py) -------------------------------------------
    def console(
        self,
        contract: str | None = None,
        *,
        timeout_s: float = 30.0,
        memory_limit: str = MEMORY_LIMIT,
    ) -> EvidenceConsole:
        """A sandbox with every intact snapshot as a view for read-only SQL."""
        from workbench.service.evidence_console import open_console

        return open_console(self, contract, timeout_s=timeout_s, memory_limit=memory_limit)

    def finding_sandbox(self, finding: Finding, *, timeout_s: float = 30.0) -> Sandbox:
        """The views a finding was computed on, re-verified, to re-run its SQL or browse rows."""
        from workbench.service.evidence_console import finding_sandbox

        return finding_sandbox(self, finding, timeout_s=timeout_s)

    def query(self, sql: str, contract: str | None = None, *, max_rows: int) -> QueryResult:
        """One read-only query over the intact snapshots (`workbench evidence query`)."""
        from workbench.service.evidence_console import run_query

        return run_query(self, sql, contract, max_rows=max_rows)

    # -- seam map marks -----------------------------------------------------------------
    def mark_seams(self, views: list[SeamView]) -> None:
        """marks["violations"] ("2 open", "ok", "not evaluated") and marks["page"] =
        "fails" when the page test fails, "warn" when only the backup answers."""
        wb = self.wb
        try:
            current = self.current()
            history = current.violations
            evaluated = {contract for contract, _term in current.latest}
            stale = self.not_current()
        except EvidenceError:
            history, evaluated, stale = [], set(), []
        open_by: dict[str, int] = {}
        for v in history:
            if v.is_open:
                open_by[v.contract] = open_by.get(v.contract, 0) + 1
        # Terms failing at now without an open violation of their own (one count per term).
        stale_by: dict[str, int] = {}
        for t, latest in stale:
            if latest is None or not latest.is_open:
                stale_by[t.contract] = stale_by.get(t.contract, 0) + 1
        state = wb.state()
        today = wb.now.date()
        try:
            pages = wb.notify.pages()  # a missed page fails the page test everywhere
        except WorkbenchError:
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
