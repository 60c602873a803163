"""Findings runs in audit bundles: what the exporter ships, how both verifiers check them.

Kept apart from the rest of the bundle code on purpose (one job: signed evaluation runs).

* `export_runs`: the runs that count at HEAD (the service's run book over HEAD's bytes), in
  the period, each with its ledger, statement and signature, and its placement in git for
  the time rule; runs that do not count are left out with a note.
* `verify_runs`: ``verify-bundle``'s check of every shipped run - its files against its
  statement, the runner's signature (in the registry version the statement names or a later
  one, never a revoked key), the runner's authority by the signed policy of that version
  (`evidence.run_chain.judge_run`, the rule the repository uses), the record time against
  the placements bundle.json states - and, when the bundle holds every run the newest
  ledger covers, that ledger against the re-fold of those runs.
* `verify_sh_runs.RUNS_SH`: the same checks in VERIFY.sh with ssh-keygen, sha256sum and jq; the runner's
  authority is derived from the signed policy.toml only when its ``runners`` list names
  people plainly, otherwise VERIFY.sh says WARN, never OK.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.bundle.read_members import digest_of
from workbench.evidence.findings import FindingsError, Fold, parse_run, run_order
from workbench.evidence.ledger import compare_ledger, ledger_path, ledger_splits, parse_ledger
from workbench.evidence.run_chain import (
    LEDGER_FILE_RE,
    RUN_FILE_RE,
    RunCheck,
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
from workbench.governance.records import SigStatus
from workbench.signing.statement import StatementError

if TYPE_CHECKING:
    from workbench.bundle.source import ExportSource
    from workbench.model.findings import Run
    from workbench.signing import registry as reg

Report = Any  # workbench.bundle.report.BundleReport


def export_runs(
    wb: ExportSource,
    files: dict[str, bytes],
    in_period: Callable[[datetime], bool],
    out: MutableMapping[str, bytes],
    notes: list[str],
    head_runs: dict[str, str] | None = None,
) -> tuple[list[Run], list[dict[str, Any]]]:
    """Ship the counting runs of the period with their companions; return the parsed runs
    (for OSCAL) and bundle.json's ``findings`` entries. ``head_runs`` gets the signed head
    runs of the chain (run -> its statement's sha256), shipped or not, for the head map."""
    book = wb.counting_runs(files)
    history = book.history()
    chain = book.chain()
    if head_runs is not None:
        head_runs.update({h: chain.statements[h].sha256 for h in chain.heads})
    for rejected, why in sorted(chain.rejected.items()):
        notes.append(f"{run_path(rejected)}: does not count ({why}); left out")
    notes += [f"{p}" for p in book.problems]
    shipped = [r for r in history if in_period(run_time(r["run"]))]
    placed = wb.git.placements_of([run_path(r["run"]) for r in shipped])
    index: list[dict[str, Any]] = []
    for run in shipped:
        rid = run["run"]
        path = run_path(rid)
        out[path] = files[path]
        st = chain.statements.get(rid) if rid in chain.covered else None
        entry: dict[str, Any] = {"path": path, "run": rid, "time": run["time"]}
        if st is not None:
            runner = st.predicate.runner
            entry.update(
                runner=runner,
                ledger=ledger_path(rid),
                statement=statement_path(rid),
                signature=run_sig_path(rid, runner) if run_sig_path(rid, runner) in files else None,
            )
            for companion in (ledger_path(rid), statement_path(rid), entry["signature"]):
                if companion is not None:
                    out[companion] = files[companion]
        else:
            entry.update(runner=None, ledger=None, statement=None, signature=None)
        where = placed.get(path)
        entry["commit_time"] = _utc(where[0]) if where else None
        entry["parent_time"] = _utc(where[1]) if where and where[1] else None
        index.append(entry)
    return shipped, index


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class _Runs:
    """The bundle's findings runs and what each is judged against."""

    files: Mapping[str, bytes]
    head: reg.Registry
    registries: Any  # workbench.bundle.verify_contracts.Registries
    repository: str
    exported: datetime
    listed: dict[Any, dict[str, Any]]  # bundle.json's findings entries by path
    grouped: dict[str, Any]  # run id -> its files (RunFiles)
    verdicts: dict[str, str | None] = field(default_factory=dict)  # run -> problem or None


def verify_runs(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    head: reg.Registry,
    registries: Any,
    repository: str,
    exported: datetime,
    report: Report,
) -> None:
    """Every shipped run counts by the repository's rule, from the bundle's bytes alone."""
    entries = [e for e in index.get("findings") or [] if isinstance(e, dict)]
    listed = {e.get("path"): e for e in entries}
    # The run and ledger files are read when judged (group_run_files takes None for them).
    shipped = {
        p: None if RUN_FILE_RE.fullmatch(p) or LEDGER_FILE_RE.fullmatch(p) else files[p]
        for p in files
        if run_of(p) is not None
    }
    problems: list[str] = []
    for path in sorted(shipped):
        rid = run_of(path)
        if path == run_path(rid or "") and path not in listed:
            problems.append(f"{path}: not listed in bundle.json's findings")
    runs = _Runs(
        files, head, registries, repository, exported, listed, group_run_files(dict(shipped))
    )
    chain = discover(runs.grouped, lambda run: _check_run(runs, run), True)
    problems += _chain_problems(runs, chain)
    counted = len(chain.covered) + len(chain.legacy)
    if problems:
        report.add("runs", "fail", "; ".join(problems[:20]))
    elif counted:
        report.add(
            "runs",
            "ok",
            f"{counted} findings run(s): each signed by its runner, whom the signed policy "
            "authorised, files match, times hold",
        )
    _refold(files, chain, report)


def _chain_problems(runs: _Runs, chain: Any) -> list[str]:
    """Each run counts: covered by the signed chain (and checked on its own), or folded by
    a signed ledger when unsigned, else a problem naming why not."""
    files = runs.files
    legacy: dict[str, str] = {}
    for run in sorted(chain.covered):
        data = files.get(ledger_path(run))
        st = chain.statements[run]
        if data is not None and st.predicate.legacyUpto:
            try:
                legacy.update(parse_ledger(data, ledger_path(run)).legacy)
            except FindingsError:
                continue
    problems = []
    for run in sorted(runs.grouped):
        rf = runs.grouped[run]
        if run in chain.covered:
            # A run a later run covers is vouched for by the digest chain; in a bundle it is
            # also checked on its own (signature, authority, time), as an auditor expects.
            verdict = runs.verdicts[run] if run in runs.verdicts else _check_run(runs, run)
            if verdict is not None:
                problems.append(verdict)
        elif run in chain.legacy and rf.statement is None:
            data = files.get(run_path(run))
            if data is None or legacy.get(run) != hashlib.sha256(data).hexdigest():
                problems.append(f"{run_path(run)}: not signed, and no signed ledger folded it")
        elif run in chain.rejected:
            problems.append(f"{run_path(run)} does not count: {chain.rejected[run]}")
        elif rf.run_file:
            problems.append(f"{run_path(run)} does not count: listed as rejected by a later run")
    return problems


def _check_run(runs: _Runs, run: str) -> str | None:
    """One run by ``run_chain.judge_run``: files against its statement, the runner's
    signature and authority, its time. Returns the problem, or None when it counts."""
    rf = runs.grouped[run]
    entry = runs.listed.get(run_path(run)) or {}
    statement, error = None, None
    if rf.statement is not None:
        try:
            statement = parse_run_statement(rf.statement, run)
        except StatementError as exc:
            error = str(exc)
    files = runs.files
    data, ledger = run_path(run) in files, ledger_path(run) in files
    status: SigStatus = "unsigned"
    message = ""
    authority = _Authority()
    if statement is not None:
        authority = _runner_authority(runs, run, statement.predicate)
        status, message = _run_signature(runs, run, rf, statement)
    placement = Placement(_when(entry.get("commit_time")), _when(entry.get("parent_time")))
    verdict = judge_run(
        RunCheck(
            run=run,
            statement=statement,
            statement_error=error,
            run_sha256=digest_of(files, run_path(run)) if data else None,
            ledger_sha256=digest_of(files, ledger_path(run)) if ledger else None,
            signature=status,
            signature_message=message,
            repository=runs.repository,
            signatures_required=True,
            runner_known=authority.known,
            runner_left=authority.left,
            authorised=authority.authorised,
            runners_named=authority.named,
            placement=placement if placement.commit_time else None,
            now=runs.exported,
        )
    )
    if verdict is None and placement.commit_time is None:
        verdict = f"{run_path(run)}: bundle.json gives no commit time for it"
    runs.verdicts[run] = verdict
    return verdict


@dataclass(frozen=True)
class _Authority:
    """Whether the signed policy of the registry version a run names authorised its runner."""

    authorised: bool = False
    known: bool = False
    left: bool = False
    named: tuple[str, ...] = ()


def _runner_authority(runs: _Runs, run: str, p: Any) -> _Authority:
    from workbench.signing import registry as reg
    from workbench.signing.verdict import parse_people

    version = p.registry.version if p.registry is not None else runs.head.version
    policy_raw = runs.files.get(f"registry/v{version}/policy.toml")
    people_raw = runs.files.get(f"registry/v{version}/people.toml")
    if policy_raw is None or people_raw is None or version > runs.head.version:
        return _Authority()
    policy = reg.parse_policy(policy_raw)
    people = parse_people(people_raw)
    members = {q.id: q for q in people.people}
    day = run_time(run).date()
    named = tuple(policy.evaluation.runners)
    runners = resolve_runners(
        list(named),
        {q.id: q.team for q in people.people},
        lambda pid: pid in members and members[pid].has_left(day),
    )
    known = p.runner in members
    return _Authority(
        authorised=p.runner in runners,
        known=known,
        left=known and members[p.runner].has_left(day),
        named=named,
    )


def _run_signature(runs: _Runs, run: str, rf: Any, statement: Any) -> tuple[SigStatus, str]:
    """(valid | invalid | unsigned, message) of the runner's one signature file."""
    from workbench.bundle.verify_contracts import signature_report
    from workbench.signing import registry as reg

    p, head, files = statement.predicate, runs.head, runs.files
    sig_path = run_sig_path(run, p.runner)
    registry_statement = (
        files.get(f"registry/v{p.registry.version}/statement.json")
        if p.registry is not None
        else None
    )
    if (
        registry_statement is not None
        and hashlib.sha256(registry_statement).hexdigest() != p.registry.statementSha256
    ):
        return "invalid", "names a registry version that is not in the chain"
    if sorted(rf.sigs) != [sig_path]:
        return (
            "invalid" if rf.sigs else "unsigned",
            f"expected exactly one signature file, {sig_path}",
        )
    sr = signature_report(
        sig_path,
        reg.principal_of(p.runner, head.domain),
        rf.sigs[sig_path] or b"",
        statement.raw,
        head.namespaces.review,
        head,
        runs.registries,
        p.registry.version if p.registry is not None else head.version,
    )
    return ("invalid" if sr.status == "invalid" else "valid"), sr.message


def _refold(files: Mapping[str, bytes], chain: Any, report: Report) -> None:
    """The newest head's ledger against the re-fold of the runs it covers, when the bundle
    holds them all (a period export may not)."""
    if not chain.heads:
        return
    head = chain.heads[-1]
    try:
        ledger = parse_ledger(files.get(ledger_path(head), b""), ledger_path(head))
    except FindingsError as exc:
        report.add("ledger", "fail", str(exc))
        return
    covered = chain.ancestry(head)
    missing = sorted(r for r in covered if run_path(r) not in files)
    if missing:
        report.add(
            "ledger",
            "info",
            f"{ledger_path(head)} not re-folded: {len(missing)} run(s) it covers are outside "
            "this bundle (a period export)",
        )
        return
    # Each run is parsed once to order them and once more to fold it, never all at once:
    # at 5,000 contracts a parsed run is ≈ 80 MiB.
    order: list[tuple[tuple[Any, Any], str]] = []
    for r in covered:
        try:
            parsed = parse_run(files[run_path(r)], run_path(r))
        except FindingsError as exc:
            report.add("ledger", "fail", str(exc))
            return
        order.append((run_order(parsed), r))
        del parsed
    fold = Fold()
    splits = ledger_splits(ledger)
    for _key, r in sorted(order, key=lambda o: o[0]):
        fold.add_run(parse_run(files[run_path(r)], run_path(r)), splits)
    found = compare_ledger(fold, ledger)
    if found:
        report.add("ledger", "fail", "; ".join(found[:20]))
    else:
        report.add(
            "ledger",
            "ok",
            f"{ledger_path(head)} (what is open) equals the re-fold of its {len(covered)} run(s)",
        )
