"""Signed evaluation runs and the graph they form (pure: names, bytes and verdicts in).

Each `workbench evaluate` writes four files per run (docs/evidence.md, "Signed runs"):

    findings/<run>.json                  the findings (unchanged format)
    findings/runs/<run>.ledger.json      the violation ledger after this run (`evidence.ledger`)
    findings/runs/<run>.statement.json   in-toto statement: both files by sha256, the runner,
                                         the registry version, the head runs it folded
    findings/runs/<run>.<runner>.sig     the runner's SSHSIG over the statement (review
                                         namespace), once the repository has a key registry

``judge_run`` is the one rule deciding whether a run counts: used for the head runs by the
gate, ``status``, the seam map and ``violations``, and for every run by ``verify-bundle``.
``discover`` finds the head runs (those no counting run names as previous) while verifying
only the runs that could be heads: a run is *covered* when a counting run names the sha256
of its statement, directly or through runs it covers, so its bytes are vouched for by the
chain of digests up to a verified head and its own signature needs no check there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from workbench.evidence.findings import FINDINGS_DIR
from workbench.governance.record_time import Placement, time_problem
from workbench.governance.records import SigStatus
from workbench.signing.statement import (
    EVALUATION_PREDICATE,
    Statement,
    StatementError,
    parse_statement,
)

_RUN = r"\d{8}T\d{6}Z-[0-9a-f]{10}"
RUNS_DIR = f"{FINDINGS_DIR}/runs"  # everything about a run besides its findings
RUN_FILE_RE = re.compile(rf"{FINDINGS_DIR}/(?P<run>{_RUN})\.json")
LEDGER_FILE_RE = re.compile(rf"{RUNS_DIR}/(?P<run>{_RUN})\.ledger\.json")
STATEMENT_FILE_RE = re.compile(rf"{RUNS_DIR}/(?P<run>{_RUN})\.statement\.json")
SIG_FILE_RE = re.compile(rf"{RUNS_DIR}/(?P<run>{_RUN})\.(?P<person>[a-z0-9][a-z0-9._-]*)\.sig")
MAX_REJECTED = 256
MAX_PREVIOUS = 64


def run_path(run: str) -> str:
    return f"{FINDINGS_DIR}/{run}.json"


def statement_path(run: str) -> str:
    return f"{RUNS_DIR}/{run}.statement.json"


def run_sig_path(run: str, person: str) -> str:
    return f"{RUNS_DIR}/{run}.{person}.sig"


def run_of(path: str) -> str | None:
    """The run a file of the findings folder belongs to (None: not a run's file)."""
    for pattern in (RUN_FILE_RE, LEDGER_FILE_RE, STATEMENT_FILE_RE, SIG_FILE_RE):
        m = pattern.fullmatch(path)
        if m:
            return m.group("run")
    return None


def run_time(run: str) -> datetime:
    return datetime.strptime(run[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def parse_run_statement(data: bytes, run: str) -> Statement:
    """The statement of `run`: the evaluation predicate, naming exactly this run's two
    files, in this order."""
    from workbench.evidence.ledger import ledger_path

    st = parse_statement(data, EVALUATION_PREDICATE, subjects=2)
    names = [name for name, _digest in st.subjects]
    if names != [run_path(run), ledger_path(run)]:
        raise StatementError(f"the statement is about {names}, not run {run}'s two files")
    if st.predicate.run != run:
        raise StatementError(f"the statement names run {st.predicate.run}, not {run}")
    return st


@dataclass
class RunFiles:
    """What the findings folder holds for one run: names of the big files, the small ones'
    bytes."""

    run: str
    run_file: bool = False
    ledger_file: bool = False
    statement: bytes | None = None
    # path -> armored signature (None: not read yet; only a candidate head's is needed)
    sigs: dict[str, bytes | None] = field(default_factory=dict)


def group_run_files(
    names: Mapping[str, bytes | None],
) -> dict[str, RunFiles]:
    """Group the findings folder's files by run. `names`: path -> bytes (None for the run and
    ledger files, which are read only when needed)."""
    out: dict[str, RunFiles] = {}
    for path, data in names.items():
        run = run_of(path)
        if run is None:
            continue
        rf = out.setdefault(run, RunFiles(run))
        if RUN_FILE_RE.fullmatch(path):
            rf.run_file = True
        elif LEDGER_FILE_RE.fullmatch(path):
            rf.ledger_file = True
        elif STATEMENT_FILE_RE.fullmatch(path):
            rf.statement = data
        else:
            rf.sigs[path] = data
    return out


# --------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class RunCheck:
    """Everything that decides whether one run counts, gathered from bytes."""

    run: str
    statement: Statement | None
    statement_error: str | None  # the statement exists but does not parse
    run_sha256: str | None  # None: the findings file is missing
    ledger_sha256: str | None  # None: the ledger file is missing
    signature: SigStatus
    signature_message: str
    repository: str
    signatures_required: bool  # the repository has a key registry (or a broken one)
    runner_known: bool
    runner_left: bool
    authorised: bool  # by the signed policy (always True without a registry)
    runners_named: tuple[str, ...]  # the policy's words, for the message
    placement: Placement | None
    now: datetime
    now_is_real: bool = True


def judge_run(c: RunCheck) -> str | None:
    """Why run `c.run` does not count, or None when it does.

    A run counts when its findings and ledger are the bytes its statement names, the
    statement is signed by its runner (unsigned only in a repository without a key
    registry), the runner is a current person whom the signed policy authorises
    (``keys/policy.toml [evaluation] runners``), and its time holds: not before its parent
    commit, not after its own commit or now (``governance.record_time``).
    """
    from workbench.evidence.ledger import ledger_path

    name = run_path(c.run)
    if c.run_sha256 is None:
        return f"{name} is missing"
    if c.statement is None and c.statement_error is None:
        if c.signatures_required:
            return f"{name} is not signed (no {statement_path(c.run)}); runs count only when signed by an authorised runner"
        return None  # an unsigned repository: a run of earlier versions, folded as history
    if c.statement is None:
        return f"{statement_path(c.run)} is not a valid run statement: {c.statement_error}"
    st = c.statement
    p = st.predicate
    if p.repository != c.repository:
        return f"{statement_path(c.run)} is for another repository"
    if c.ledger_sha256 is None:
        return f"{ledger_path(c.run)} is missing"
    if st.subjects[0][1] != c.run_sha256:
        return f"{name} does not match its signed statement (changed after it was signed)"
    if st.subjects[1][1] != c.ledger_sha256:
        return f"{ledger_path(c.run)} does not match its signed statement"
    runner = p.runner
    if c.signature == "invalid":
        return f"the signature does not verify as {runner}: {c.signature_message}"
    if c.signatures_required and c.signature != "valid":
        return f"not signed by its runner {runner}"
    if not c.runner_known:
        return f"{runner} is not a person in keys/people.toml"
    if c.runner_left:
        return f"{runner} had left when it was recorded"
    if not c.authorised:
        named = ", ".join(c.runners_named) or "nobody"
        return (
            f"{runner} is not an authorised evaluation runner (the signed policy, "
            f"keys/policy.toml [evaluation] runners, names: {named})"
        )
    when = run_time(c.run)
    # A what-if --now judges the runs committed at HEAD; it does not hide later ones.
    now = c.now if c.now_is_real else max(c.now, when)
    problem = time_problem(when, now, c.placement)
    if problem is not None:
        return f"{name}: {problem}"
    return None


def resolve_runners(
    entries: list[str], members: Mapping[str, str], left: Callable[[str], bool]
) -> frozenset[str]:
    """Person ids the policy's ``runners`` name: ids, and ``team:<team>`` for every current
    member of that team (`members`: person -> team, from the signed people.toml)."""
    out: set[str] = set()
    for entry in entries:
        if entry.startswith("team:"):
            team = entry.removeprefix("team:")
            out |= {pid for pid, t in members.items() if t == team and not left(pid)}
        else:
            out.add(entry)
    return frozenset(out)


# --------------------------------------------------------------------------- the graph


@dataclass
class RunChain:
    """The runs that count and how they link."""

    heads: list[str] = field(default_factory=list)  # signed heads, oldest first
    covered: set[str] = field(default_factory=set)  # runs with a statement that count
    legacy: set[str] = field(default_factory=set)  # runs without a statement that count
    legacy_heads: set[str] = field(default_factory=set)  # of those, the ones no ledger folded
    # Candidates that do not count (run -> why), not listed as rejected by the chain.
    rejected: dict[str, str] = field(default_factory=dict)
    known_rejected: set[str] = field(default_factory=set)  # the chain already listed them
    unsigned_legacy: set[str] = field(default_factory=set)  # rejected only for no statement
    parents: dict[str, list[str]] = field(default_factory=dict)  # authenticated links
    legacy_upto: str | None = None
    statements: dict[str, Statement] = field(default_factory=dict)

    @property
    def counting(self) -> set[str]:
        return self.covered | self.legacy

    def ancestry(self, run: str) -> set[str]:
        """`run` and every run it folded (through links, and the legacy runs it covers)."""
        seen = {run}
        stack = [run]
        upto: str | None = None
        while stack:
            r = stack.pop()
            st = self.statements.get(r)
            if st is not None and st.predicate.legacyUpto:
                upto = max(upto or "", st.predicate.legacyUpto)
            for p in self.parents.get(r, []):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        if upto:
            seen |= {r for r in self.legacy if r <= upto and r not in self.legacy_heads}
        return seen

    def plan(self) -> tuple[str | None, list[str]]:
        """The run whose ledger to start from and the runs to fold on top, oldest first.

        One head: its ledger, nothing on top. Several (two clones evaluated in parallel, or
        runs of earlier versions without a ledger): the newest run with a ledger whose runs
        all precede every run it did not fold, with those folded on top in time order; else
        (no such run) every counting run from scratch.
        """
        union: set[str] = set(self.legacy_heads)
        for h in self.heads:
            union |= self.ancestry(h)
        if len(self.heads) == 1 and not self.legacy_heads:
            return self.heads[0], []
        candidates = sorted((r for r in union if r in self.statements), reverse=True)
        for base in candidates[:MAX_PREVIOUS]:
            folded = self.ancestry(base)
            rest = union - folded
            if not rest or min(rest) > max(folded):
                return base, sorted(rest)
        return None, sorted(union)


def discover(
    files: Mapping[str, RunFiles],
    judge: Callable[[str], str | None],
    signatures_required: bool,
) -> RunChain:
    """Find the head runs, newest first, judging only runs no counting run covers."""
    chain = RunChain()
    for run, rf in files.items():
        if rf.statement is None:
            continue
        try:
            chain.statements[run] = parse_run_statement(rf.statement, run)
        except StatementError:
            continue
    linked: set[str] = set()

    def cover(start: str) -> None:
        stack = [start]
        while stack:
            r = stack.pop()
            st = chain.statements.get(r)
            if st is None:
                continue
            p = st.predicate
            if p.legacyUpto:
                chain.legacy_upto = max(chain.legacy_upto or "", p.legacyUpto)
            chain.known_rejected |= set(p.rejected)
            links = []
            for link in p.previous:
                other = chain.statements.get(link.run)
                # A link holds only while the linked statement is the one it named: a
                # changed statement stands alone (and is judged on its own).
                if other is None or other.sha256 != link.statementSha256:
                    continue
                links.append(link.run)
                linked.add(link.run)
                if link.run not in chain.covered:
                    chain.covered.add(link.run)
                    stack.append(link.run)
            chain.parents[r] = links

    for run in sorted(files, reverse=True):
        rf = files[run]
        if run in chain.covered or run in chain.known_rejected:
            continue
        if (
            rf.statement is None
            and rf.run_file
            and chain.legacy_upto is not None
            and run <= chain.legacy_upto
        ):
            chain.legacy.add(run)
            continue
        problem = judge(run)
        if problem is None:
            if rf.statement is None:
                chain.legacy.add(run)
                chain.legacy_heads.add(run)
            else:
                chain.heads.append(run)
                chain.covered.add(run)
                cover(run)
        else:
            chain.rejected[run] = problem
            if rf.statement is None and rf.run_file:
                chain.unsigned_legacy.add(run)
    chain.heads = sorted(h for h in chain.heads if h not in linked)
    return chain
