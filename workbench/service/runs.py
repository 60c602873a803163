"""Signed evaluation runs and the violation ledger, for the evidence service.

`RunBook(evidence_service)` reads the findings folder of the working tree:

* ``chain()``: which runs count and which are the heads (`evidence.run_chain`), judging only
  the runs that could be heads: their files against their signed statement, the runner's
  signature and authority, the record-time rule;
* ``current()``: what is open now and every term's latest finding, from the head runs'
  ledgers with the closures that count applied on top (`evidence.ledger`): the gate,
  ``status``, the seam map and the not-current rule read this, never the history;
* ``history()``: every counting run, each checked against the digests the chain vouches
  for: ``violations``, charts and sparklines, the weekly report;
* ``record()``: the writer behind ``evaluate`` (findings, ledger, statement, signature);
* ``verify()``: ``workbench verify --findings``: re-fold every run, compare each head's
  ledger.

Nothing here prints; docs/evidence.md ("Signed runs", "The violation ledger") has the rules.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.evidence.closures import ClosureInputs, apply_decisions, decide_closures, resolutions
from workbench.evidence.findings import (
    FINDINGS_DIR,
    FindingsError,
    Fold,
    Violation,
    parse_run,
    sorted_runs,
)
from workbench.evidence.ledger import (
    compare_ledger,
    fold_from,
    ledger_path,
    ledger_problem,
    ledger_splits,
    parse_ledger,
    render_ledger,
)
from workbench.evidence.run_chain import (
    MAX_PREVIOUS,
    MAX_REJECTED,
    RUNS_DIR,
    SIG_FILE_RE,
    STATEMENT_FILE_RE,
    RunChain,
    RunCheck,
    RunFiles,
    discover,
    group_run_files,
    judge_run,
    parse_run_statement,
    resolve_runners,
    run_of,
    run_path,
    run_sig_path,
    run_time,
    statement_path,
)
from workbench.governance.record_time import Placement
from workbench.service.errors import WorkbenchError
from workbench.signing.statement import StatementError

if TYPE_CHECKING:
    from workbench.evidence.closures import ClosureVerdicts
    from workbench.governance.records import SigStatus
    from workbench.model.findings import Finding, Run
    from workbench.service.evidence import EvaluateResult, EvidenceService

Key = tuple[str, str]
MAX_SMALL = 64 * 1024  # statements and signatures are small; anything bigger is not read
ALL_TERMS: frozenset[Key] = frozenset({("*", "*")})


class RunNotRecorded(WorkbenchError):
    """`evaluate` ran but may not record its run (the results are on `.result`)."""

    def __init__(self, message: str, result: EvaluateResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class Rejected:
    """A run that does not count, and the terms it would decide."""

    run: str
    time: datetime
    reason: str
    terms: frozenset[Key]  # ALL_TERMS when its file cannot be read


@dataclass
class CurrentFindings:
    """What is true now, from the head runs' ledgers (or, when they cannot say, the runs)."""

    latest: dict[Key, tuple[Finding, str, datetime]]
    violations: list[Violation]  # carried episodes with the closures that count applied
    verdicts: ClosureVerdicts
    rejected: list[Rejected]  # runs that do not count, newest first
    source: str  # "ledger", "ledger and N run(s)", "all N run(s)"
    problems: list[str] = field(default_factory=list)  # why the ledgers were not used
    # Episodes that reached fail per term (term reviews), and for which terms they are
    # known (None: every term, from the whole history).
    failures: dict[Key, dict[str, tuple[datetime, datetime]]] = field(default_factory=dict)
    failure_keys: frozenset[Key] | None = None

    def rejected_for(self, key: Key) -> Rejected | None:
        """The newest run that does not count and claims `key`, if it is newer than the
        term's latest counting finding."""
        latest = self.latest.get(key)
        for r in self.rejected:
            if latest is not None and r.time <= latest[2]:
                continue
            if key in r.terms or r.terms == ALL_TERMS:
                return r
        return None


class RunBook:
    def __init__(self, service: EvidenceService, source: Mapping[str, bytes] | None = None) -> None:
        """`source`: read the runs from these files (e.g. HEAD's, for an export) instead of
        the working tree."""
        self.svc = service
        self.wb = service.wb
        self.source = source
        self._files: dict[str, RunFiles] | None = None
        self._chain: RunChain | None = None
        self._ledgers: dict[str, bytes] = {}
        self._rejected_terms: dict[str, frozenset[Key]] = {}
        self._signing: dict[str, Any] | None = None
        self._candidate: tuple[str, bytes | None] = ("", None)
        self._blob_ids: dict[str, str] | None = None  # HEAD's findings files (committed view)
        self.problems: list[str] = []  # runs the chain covers whose bytes do not match

    # -- reading the folder ---------------------------------------------------------------
    def files(self) -> dict[str, RunFiles]:
        """The runs' files in the working tree's findings folder (top level only; symlinks
        are never followed). Statements and signatures are read; the big files are not."""
        if self._files is None and self.source is not None:
            listed: dict[str, bytes | None] = {}
            for path, data in self.source.items():
                if run_of(path) is None:
                    continue
                small = STATEMENT_FILE_RE.fullmatch(path) or SIG_FILE_RE.fullmatch(path)
                listed[path] = data if small and len(data) <= MAX_SMALL else None
            self._files = group_run_files(listed)
        if self._files is None and self.wb.committed:
            # The gate judges committed runs only (HEAD's tree), like every committed record.
            self._blob_ids = {}
            for folder in (FINDINGS_DIR, RUNS_DIR):
                self._blob_ids.update(self.wb.git.folder_blobs("HEAD", folder))
            listed = {}
            for path in self._blob_ids:
                if run_of(path) is None:
                    continue
                small = STATEMENT_FILE_RE.fullmatch(path)
                listed[path] = self._read(path, MAX_SMALL) if small else None
            self._files = group_run_files(listed)
        if self._files is None:
            names: dict[str, bytes | None] = {}
            for folder in (FINDINGS_DIR, RUNS_DIR):
                try:
                    entries = list(os.scandir(self.wb.root / folder))
                except OSError:
                    entries = []
                for entry in entries:
                    path = f"{folder}/{entry.name}"
                    if entry.is_symlink() or not entry.is_file() or run_of(path) is None:
                        continue
                    # Statements are read to find the heads; signatures when a run is judged.
                    small = STATEMENT_FILE_RE.fullmatch(path)
                    names[path] = self._read(path, MAX_SMALL) if small else None
            self._files = group_run_files(names)
        return self._files

    def _read(self, path: str, limit: int | None = None) -> bytes | None:
        if self.source is not None:
            data = self.source.get(path)
            return None if data is None or (limit is not None and len(data) > limit) else data
        if self.wb.committed:
            return self._read_committed(path, limit)
        data = self._read_worktree(path, limit)
        return None if data is None or (limit is not None and len(data) > limit) else data

    def _read_committed(self, path: str, limit: int | None) -> bytes | None:
        """HEAD's bytes of `path`. The checked-out file is used when it is those bytes (its
        git blob id says so): a packed blob may be a long delta chain to unpack."""
        if self._blob_ids is None:
            self.files()
        blob_id = (self._blob_ids or {}).get(path)
        if blob_id is None:
            return None
        data = self._read_worktree(path, limit)
        if data is None or self.wb.git.hash_blob(data) != blob_id:
            data = self.wb.git.blob(blob_id)
        return None if limit is not None and len(data) > limit else data

    def _read_worktree(self, path: str, limit: int | None) -> bytes | None:
        full = self.wb.root / path
        try:
            if full.is_symlink():
                return None
            with open(full, "rb") as handle:
                return handle.read() if limit is None else handle.read(limit + 1)
        except OSError:
            return None

    # -- who may sign ------------------------------------------------------------------------
    def signing(self) -> dict[str, Any]:
        """The registry head, whether signatures are required, the runners the signed policy
        authorises, the repository id."""
        if self._signing is None:
            records = self.wb.obligations.records
            head = records.registry()
            state = self.wb.state()
            required = records.signatures_required()
            named: tuple[str, ...] = ()
            runners: frozenset[str] = frozenset()
            if head is not None:
                from workbench.signing.registry import PEOPLE
                from workbench.signing.verdict import parse_people

                people = parse_people(head.files[PEOPLE])
                today = self.wb.now.date()
                named = tuple(head.policy.evaluation.runners)
                runners = resolve_runners(
                    list(named),
                    {p.id: p.team for p in people.people},
                    lambda pid: any(p.id == pid and p.has_left(today) for p in people.people),
                )
            settings = state.settings
            self._signing = {
                "head": head,
                "required": required,
                "named": named,
                "runners": runners,
                "repository": settings.org.repository_id if settings else "",
                "people": state.people,
                "problems": list(records.registry_problems),
            }
        return self._signing

    def runner_problem(self, person: str) -> str | None:
        """Why `person` may not record evaluation runs here (None: they may)."""
        sign = self.signing()
        if sign["problems"]:
            return "the key registry is not usable: " + "; ".join(sign["problems"])
        if person not in sign["people"]:
            return f"{person} is not a person in keys/people.toml"
        if sign["head"] is not None and person not in sign["runners"]:
            named = ", ".join(sign["named"]) or "nobody yet"
            return (
                f"{person} is not an authorised evaluation runner: the signed policy "
                f"(keys/policy.toml [evaluation] runners) names {named}. Run `workbench "
                "evaluate --readonly` to see the results without recording them; the registry "
                "admins authorise runners with `workbench registry runners ID...`"
            )
        return None

    # -- judging one run -------------------------------------------------------------------
    def check(self, run: str, placement: Placement | None = None) -> RunCheck:
        rf = self.files().get(run)
        sign = self.signing()
        statement, error = None, None
        if rf is not None and rf.statement is not None:
            try:
                statement = parse_run_statement(rf.statement, run)
            except StatementError as exc:
                error = str(exc)
        elif rf is not None and any(True for _ in rf.sigs):
            error = "signature files without a statement"
        data = self._read(run_path(run)) if rf is not None and rf.run_file else None
        self._candidate = (run, data)
        ledger = self._read(ledger_path(run)) if rf is not None and rf.ledger_file else None
        if ledger is not None:
            self._ledgers[run] = ledger
        status, message = self._signature(run, rf, statement)
        runner = statement.predicate.runner if statement is not None else ""
        person = sign["people"].get(runner)
        if placement is None and self.wb.git.head_id() is not None:
            where = self.wb.git.placements_of([run_path(run)]).get(run_path(run))
            placement = Placement(*where) if where else None
        return RunCheck(
            run=run,
            statement=statement,
            statement_error=error,
            run_sha256=hashlib.sha256(data).hexdigest() if data is not None else None,
            ledger_sha256=hashlib.sha256(ledger).hexdigest() if ledger is not None else None,
            signature=status,
            signature_message=message,
            repository=sign["repository"],
            signatures_required=sign["required"],
            runner_known=person is not None,
            runner_left=person is not None and person.has_left(run_time(run).date()),
            authorised=sign["head"] is None or runner in sign["runners"],
            runners_named=sign["named"],
            placement=placement,
            now=self.wb.now,
            now_is_real=self.wb.clock_is_real,
        )

    def _signature(self, run: str, rf: RunFiles | None, statement: Any) -> tuple[SigStatus, str]:
        if rf is None or not rf.sigs:
            return "unsigned", ""
        head = self.signing()["head"]
        if head is None or statement is None:
            return "invalid", "this repository has no usable key registry to check it against"
        from workbench.signing.attestation import verify_attestation

        runner = statement.predicate.runner
        expected = run_sig_path(run, runner)
        if sorted(rf.sigs) != [expected]:
            return "invalid", f"expected exactly one signature file, {expected}"
        armored = rf.sigs[expected] or self._read(expected, MAX_SMALL)
        if armored is None:
            return "invalid", f"{expected} cannot be read"
        result = verify_attestation(
            statement.raw,
            {expected: armored},
            head.namespaces.review,
            head,
            {runner},
            now=self.wb.now,
        )
        if result.signed == {runner} and not result.invalid:
            return "valid", ""
        return "invalid", result.checks[0].message if result.checks else "no signature"

    def _note_terms(self, run: str, data: bytes) -> None:
        """The terms a run that may not count would decide (all, when it cannot be read)."""
        try:
            parsed = parse_run(data, run_path(run))
            terms = frozenset(
                (str(f.get("contract")), str(f.get("term"))) for f in parsed.get("findings") or []
            )
        except (FindingsError, AttributeError, TypeError):
            terms = ALL_TERMS
        self._rejected_terms[run] = terms

    def chain(self) -> RunChain:
        if self._chain is None:
            sign = self.signing()

            def judge(run: str) -> str | None:
                problem = judge_run(self.check(run))
                _run, data = self._candidate
                self._candidate = ("", None)
                if problem is not None:
                    if data is None:
                        self._rejected_terms[run] = ALL_TERMS
                    else:
                        self._note_terms(run, data)
                return problem

            self._chain = discover(self.files(), judge, sign["required"])
        return self._chain

    def gone(self) -> dict[str, str]:
        """Runs the history behind HEAD added after the head runs were written whose statement
        is missing here, or was rewritten (`evidence/run_history.py`): runs are written once
        and never deleted, so deleting the newest (failing) run cannot make an older passing
        run the head again unnoticed."""
        git = self.wb.git
        if git.is_empty:
            return {}
        from workbench.evidence.run_history import statements_since

        head = git.resolve("HEAD")
        heads = tuple(self.chain().heads)
        added = self.wb.keep(
            ("run-statements", str(head.id), heads),
            lambda: statements_since(git.repo, head, heads),
        )
        files = self.files()
        out: dict[str, str] = {}
        for path, blobs in sorted(added.items()):
            m = STATEMENT_FILE_RE.fullmatch(path)
            if m is None:
                continue
            run = m.group("run")
            rf = files.get(run)
            if rf is None or rf.statement is None:
                out[run] = (
                    f"{path} existed in history but is gone (a rollback? runs are never "
                    "deleted: restore it with `git revert` of the commit that removed it)"
                )
                data = git.blob_at(next(iter(blobs.values())), run_path(run))
                if data is None:
                    self._rejected_terms[run] = ALL_TERMS
                else:
                    self._note_terms(run, data)
            elif len(blobs) > 1:
                out[run] = f"fork: {path} was rewritten ({len(blobs)} versions in history)"
        return out

    # -- the state now ------------------------------------------------------------------------
    def _resolved_at(self, inp: ClosureInputs) -> Callable[[Violation], datetime | None]:
        """When each violation's first counting resolution was made (the closures rule)."""
        by_vid: dict[str, list[Any]] = {}
        for rec in inp.records:
            if rec.act == "resolve":
                by_vid.setdefault(rec.violation, []).append(rec)
        legacy: dict[str, list[Any]] = {}
        for c in inp.legacy:
            if c.action == "resolved":
                legacy.setdefault(c.violation, []).append(c)
        memo: dict[str, datetime | None] = {}

        def resolved_at(v: Violation) -> datetime | None:
            if v.id not in by_vid and v.id not in legacy:
                return None
            if v.id not in memo:
                mine = replace(inp, records=by_vid.get(v.id, []), legacy=legacy.get(v.id, []))
                found, _notes, _flags = resolutions(mine, {v.id: v})
                memo[v.id] = min((c.closed_at for c in found), default=None)
            return memo[v.id]

        return resolved_at

    def fold(self, inp: ClosureInputs) -> tuple[Fold, set[str], str, list[str]]:
        """The fold of every counting run: from the head ledgers when they can say, else
        from the runs. Returns the fold, the ids closures name that no run opened, where
        it came from and why the ledgers were not enough."""
        chain = self.chain()
        resolved_at = self._resolved_at(inp)
        named = {r.violation for r in inp.records} | {c.violation for c in inp.legacy}
        base, replay = chain.plan()
        problems: list[str] = []
        if base is not None:
            try:
                data = self._ledgers.get(base) or self._read(ledger_path(base))
                if data is None:
                    raise FindingsError(f"{ledger_path(base)} cannot be read")
                if base not in chain.heads and not self._vouched(base, data, 1):
                    raise FindingsError(f"{ledger_path(base)} does not match its statement")
                ledger = parse_ledger(data, ledger_path(base))
                fold = fold_from(ledger)
                for rid in replay:
                    fold.add_run(self._load(rid), resolved_at)
                unknown = set(ledger.unknown) - set(fold.episodes)
                problem = ledger_problem(fold, unknown, named, resolved_at)
                if problem is None:
                    unknown |= named - set(fold.episodes)
                    source = "ledger" if not replay else f"ledger and {len(replay)} run(s)"
                    return fold, unknown, source, problems
                problems.append(problem)
            except FindingsError as exc:
                problems.append(str(exc))
        runs = self.history()
        fold = Fold()
        for run in sorted_runs(runs):
            fold.add_run(run, resolved_at)
        return fold, named - set(fold.episodes), f"all {len(runs)} run(s)", problems

    def current(self) -> CurrentFindings:
        head = self.wb.git.head_id()
        return self.wb.remember(("findings-current", head, str(self.wb.root)), self._current)

    def _current(self) -> CurrentFindings:
        inp = self.svc.violations.closure_inputs()
        fold, _unknown, source, problems = self.fold(inp)
        today = self.wb.now.date()
        violations = sorted(fold.episodes.values(), key=lambda v: (v.opened_at, v.contract, v.term))
        verdicts = decide_closures(inp, violations, today)
        apply_decisions(violations, verdicts, today)
        chain = self.chain()
        refused = {**self.gone(), **chain.rejected}
        rejected = [
            Rejected(r, run_time(r), why, self._rejected_terms.get(r, ALL_TERMS))
            for r, why in sorted(refused.items(), reverse=True)
        ]
        return CurrentFindings(
            dict(fold.latest),
            violations,
            verdicts,
            rejected,
            source,
            problems,
            fold.failures,
            fold.failure_keys,
        )

    def review_terms(self) -> set[Key]:
        """Terms whose failures open a term review (they name ``triggers_review_of``): the
        ledger carries every episode of theirs that reached fail."""
        from workbench.governance.reviews import reviewable_terms

        out: set[Key] = set()
        for cid, doc in self.wb.state("HEAD").contracts.items():
            targets = set(reviewable_terms(doc.contract))
            for term in doc.contract.terms:
                if getattr(term, "triggers_review_of", "") in targets:
                    out.add((cid, term.id))
        return out

    # -- the history ----------------------------------------------------------------------------
    def _vouched(self, run: str, data: bytes, subject: int) -> bool:
        st = self.chain().statements.get(run)
        return st is not None and st.subjects[subject][1] == hashlib.sha256(data).hexdigest()

    def _load(self, run: str) -> Run:
        data = self._read(run_path(run))
        if data is None:
            raise FindingsError(f"{run_path(run)} cannot be read")
        digest = hashlib.sha256(data).hexdigest()
        st = self.chain().statements.get(run)
        if run in self.chain().covered and (st is None or st.subjects[0][1] != digest):
            raise FindingsError(f"{run_path(run)} does not match its signed statement")
        return self.svc._parse_cached(run, data, digest)

    def _legacy_digests(self) -> dict[str, str]:
        """The sha256 of every run of earlier versions that a ledger folded (migration)."""
        chain = self.chain()
        out: dict[str, str] = {}
        for run, st in chain.statements.items():
            if run in chain.covered and st.predicate.legacyUpto:
                data = self._read(ledger_path(run))
                if data is None or not self._vouched(run, data, 1):
                    continue
                try:
                    out.update(parse_ledger(data, ledger_path(run)).legacy)
                except FindingsError:
                    continue
        return out

    def history(self) -> list[Run]:
        """Every run that counts, oldest first, each checked against the digest the chain
        gives for it (a run whose bytes were changed after it was signed is left out and
        listed in `problems`)."""
        chain = self.chain()
        required = self.signing()["required"]
        legacy = self._legacy_digests() if required else {}
        out = []
        self.problems = []
        for run in sorted(chain.counting):
            data = self._read(run_path(run))
            if data is None:
                self.problems.append(f"{run_path(run)} cannot be read")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if run in chain.covered:
                if chain.statements[run].subjects[0][1] != digest:
                    self.problems.append(
                        f"{run_path(run)} does not match its signed statement (changed after "
                        "it was signed); left out"
                    )
                    continue
            elif required and run not in chain.legacy_heads and legacy.get(run) != digest:
                self.problems.append(
                    f"{run_path(run)}: a run of earlier versions whose bytes are not the ones the "
                    "ledger folded; left out"
                )
                continue
            out.append(self.svc._parse_cached(run, data, digest))
        return sorted_runs(out)

    # -- writing a run ------------------------------------------------------------------------
    def record(self, result: EvaluateResult, data: bytes, message: str, signer: Any) -> str:
        from workbench.signing.statement import (
            EVALUATION_PREDICATE,
            EvaluationPredicate,
            RunLink,
            write_statements_bytes,
        )

        wb = self.wb
        wb.require_writable("record findings")
        actor = wb.actor()
        problem = self.runner_problem(actor.id)
        if problem is not None:
            raise RunNotRecorded(f"run {result.run_id} not recorded: {problem}", result)
        gone = self.gone()
        if gone:
            # Building on a history that lost a run would fold its episodes away for good.
            raise RunNotRecorded(
                f"run {result.run_id} not recorded: the history lost a run: "
                + "; ".join(gone.values()),
                result,
            )
        sign = self.signing()
        inp = self.svc.violations.closure_inputs()
        chain = self.chain()
        migrating = sign["required"] and not chain.heads and not chain.covered
        legacy_new: dict[str, str] = {}
        if migrating and chain.unsigned_legacy:
            # The first signed run folds the runs of earlier versions once (migration).
            for rid in sorted(chain.unsigned_legacy):
                raw = self._read(run_path(rid))
                if raw is not None:
                    legacy_new[rid] = hashlib.sha256(raw).hexdigest()
                    chain.legacy.add(rid)
                    chain.legacy_heads.add(rid)
                    chain.rejected.pop(rid, None)
        elif not sign["required"]:
            for rid in chain.legacy_heads:
                raw = self._read(run_path(rid))
                if raw is not None:
                    legacy_new[rid] = hashlib.sha256(raw).hexdigest()
        fold, unknown, _source, _problems = self.fold(inp)
        run = result.run
        fold.add_run(run, self._resolved_at(inp))
        named = {r.violation for r in inp.records} | {c.violation for c in inp.legacy}
        unknown = (unknown | named) - set(fold.episodes)
        ledger = render_ledger(
            run["run"],
            run_time(run["run"]),
            fold,
            named & set(fold.episodes),
            unknown,
            legacy_new,
            self.review_terms(),
        )
        heads = [h for h in chain.heads if h in chain.statements][-MAX_PREVIOUS:]
        upto = max(legacy_new, default=None)
        if chain.legacy_upto and (upto is None or chain.legacy_upto > upto):
            upto = chain.legacy_upto
        predicate = EvaluationPredicate(
            repository=sign["repository"],
            run=run["run"],
            runner=actor.id,
            registry=sign["head"].link() if sign["head"] is not None else None,
            previous=[RunLink(run=h, statementSha256=chain.statements[h].sha256) for h in heads],
            legacyUpto=upto if legacy_new else None,
            rejected=sorted(chain.rejected)[:MAX_REJECTED],
        )
        path, lpath = run_path(run["run"]), ledger_path(run["run"])
        statement = write_statements_bytes(
            EVALUATION_PREDICATE,
            [(path, hashlib.sha256(data).hexdigest()), (lpath, hashlib.sha256(ledger).hexdigest())],
            predicate,
        )
        changes: dict[str, bytes | None] = {
            path: data,
            lpath: ledger,
            statement_path(run["run"]): statement,
        }
        head = sign["head"]
        if head is None:
            return wb.commit(
                changes, message + "\n\nUnsigned: this repository has no key registry yet.\n"
            )
        from workbench.signing import sshsig
        from workbench.signing.attestation import verify_attestation

        signer = signer or wb.signing.keys.make_signer(actor.id)
        ns = head.namespaces.review
        armored = signer.sign(statement, ns)
        check = verify_attestation(statement, {"sig": armored}, ns, head, {actor.id}, now=wb.now)
        if check.signed != {actor.id}:
            reason = check.checks[0].message if check.checks else "no signature"
            raise WorkbenchError(f"the run's signature does not verify for {actor.id}: {reason}")
        changes[run_sig_path(run["run"], actor.id)] = armored
        fingerprint = sshsig.fingerprint(signer.public_key)
        return wb.commit(
            changes,
            message + f"\n\nSigned by {actor.id} with key {fingerprint}.\n",
            signer=signer,
        )

    # -- the verifier ---------------------------------------------------------------------------
    def verify(self) -> FindingsCheck:
        """``workbench verify --findings``: every run that does not count, every covered run
        whose bytes changed, and each head's ledger against the re-fold of the runs it
        covers (with the splits the ledger states; `current()` checks those splits against
        the closures that count)."""
        chain = self.chain()
        refused = {**self.gone(), **chain.rejected}
        problems = [f"{run_path(r)} does not count: {why}" for r, why in sorted(refused.items())]
        runs = {r["run"]: r for r in self.history()}
        problems += self.problems
        checked: list[str] = []
        for head in chain.heads:
            data = self._ledgers.get(head) or self._read(ledger_path(head))
            try:
                ledger = parse_ledger(data or b"", ledger_path(head))
            except FindingsError as exc:
                problems.append(str(exc))
                continue
            covered = chain.ancestry(head)
            missing = sorted(covered - set(runs))
            if missing:
                problems.append(
                    f"{ledger_path(head)} cannot be re-folded: {len(missing)} of the runs it "
                    f"covers do not count or cannot be read ({', '.join(missing[:5])})"
                )
                continue
            fold = Fold()
            splits = ledger_splits(ledger)
            for run in sorted_runs([runs[r] for r in covered]):
                fold.add_run(run, splits)
            found = compare_ledger(fold, ledger)
            problems += found
            if not found:
                checked.append(
                    f"{ledger_path(head)} matches the re-fold of its {len(covered)} run(s)"
                )
        return FindingsCheck(len(runs), list(chain.heads), checked, problems)


@dataclass
class FindingsCheck:
    """What ``workbench verify --findings`` found."""

    runs: int  # runs that count
    heads: list[str]
    checked: list[str]  # ledgers that match their re-fold
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "runs": self.runs,
            "heads": self.heads,
            "checked": self.checked,
            "problems": self.problems,
        }
