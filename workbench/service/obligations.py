"""Obligations over time: the service the CLI and the TUI call for reviews, change notices
and acknowledgements, action items, the seam diagnostic, the gate and reports.

All rules live in ``workbench.governance`` as pure functions of (state, history, records,
findings, now); this module gathers those inputs from the repository, checks signatures,
and writes records through the one write door (``Workbench.commit``).

Entry point: ``ObligationsService(wb)``. Read methods evaluate at ``wb.now``; write
methods act as ``wb.actor()`` and sign with that person's key when the repository has a
key registry (see docs/obligations.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field

from workbench.evidence.closures import CLOSURES_DIR
from workbench.governance import actions as act
from workbench.governance import diagnostic as diag
from workbench.governance import gate as gate_mod
from workbench.governance import notices as nt
from workbench.governance import reports as rep
from workbench.governance import reviews as rv
from workbench.governance.delegation import delegation_problem
from workbench.governance.history import ContractHistory, ContractVersion, History
from workbench.governance.records import (
    AckRecord,
    Records,
    SigStatus,
    ack_path,
    parse_records,
    receipt_path,
    record_person,
    render,
    review_path,
)
from workbench.governance.timing import iso
from workbench.model.problems import Problem
from workbench.model.state import GovernanceState
from workbench.repo import layout
from workbench.service.errors import UnknownContract, WorkbenchError
from workbench.service.validity import require_valid_contract
from workbench.signing.statement import (
    ACK_PREDICATE,
    CLOSURE_PREDICATE,
    REVIEW_PREDICATE,
    ChainLink,
    StatementError,
    StrictModel,
    parse_statement,
    register_predicate,
    write_statement,
)

if TYPE_CHECKING:
    from workbench.service.core import Workbench

HEAD = "HEAD"
RECORD_DIRS = ("reviews/", "acks/", "reports/receipts/")
REGISTRY_FIX = (
    "the key registry has problems (see the trust_root line): its admins restore every "
    "complete registry version; nobody can sign until then"
)


class ObligationError(WorkbenchError):
    """A review, acknowledgement or answer the workbench refuses (shown as a message)."""


# --- signed records -------------------------------------------------------------------------


class RecordPredicate(StrictModel):
    """What the person signs: this record file, in this repository, as this act."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    contract: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)
    person: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)
    act: str = Field(pattern=r"^(acknowledge|review|receive)$")
    registry: ChainLink


class ClosurePredicate(StrictModel):
    """What the person signs for a closure act: this record file, about this violation, in
    this repository, as this act (resolve, exempt-request, exempt-approve)."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    contract: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)
    violation: str = Field(pattern=r"^v-[0-9a-f]{10}$")
    person: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)
    act: str = Field(pattern=r"^(resolve|exempt-request|exempt-approve)$")
    registry: ChainLink


register_predicate(ACK_PREDICATE, RecordPredicate)
register_predicate(REVIEW_PREDICATE, RecordPredicate)
register_predicate(CLOSURE_PREDICATE, ClosurePredicate)


def statement_path_for(record_path: str) -> str:
    return record_path.removesuffix(".toml") + ".statement.json"


def sig_path_for(record_path: str) -> str:
    return record_path.removesuffix(".toml") + ".sig"


def _predicate_type(record_path: str) -> str:
    if record_path.startswith("acks/"):
        return ACK_PREDICATE
    if record_path.startswith(CLOSURES_DIR):
        return CLOSURE_PREDICATE
    return REVIEW_PREDICATE


def _closure_fields(record_path: str) -> tuple[str, str] | None:
    """(violation, act) a closure record's name gives, which its statement must repeat."""
    if not record_path.startswith(CLOSURES_DIR):
        return None
    violation, _, name = record_path.removeprefix(CLOSURES_DIR).partition("/")
    return violation, name.removesuffix(".toml").rpartition(".")[2]


@dataclass
class RecordResult:
    """The outcome of a signed act (review, acknowledgement, receipt)."""

    path: str
    commit: str
    signed: bool
    fingerprint: str | None
    message: str
    record: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "commit": self.commit,
            "signed": self.signed,
            "fingerprint": self.fingerprint,
            "message": self.message,
            "record": self.record,
        }


# --- history ----------------------------------------------------------------------------------


def contract_history(wb: Workbench, contract_id: str) -> ContractHistory:
    path = layout.contract_path(contract_id)
    out = ContractHistory(contract_id)
    for info in reversed(wb.git.history(path)):
        blob = wb.git.blob_id(info.id, path)
        contract = None
        if blob is not None:
            # Read the bytes only if this version was never parsed in this clone.
            contract = wb.versions.contract_of_blob(
                path, blob, lambda rev=info.id: wb.git.blob_at(rev, path)
            )
        out.versions.append(
            ContractVersion(
                info.id,
                info.author_name,
                info.author_email,
                info.time,
                info.message,
                None,
                contract,
                blob,
            )
        )
    return out


# --- the Due list -----------------------------------------------------------------------------


@dataclass
class DueItem:
    """One thing somebody must do, for the TUI's Due screen and `workbench due`."""

    kind: str  # review | contact-check | ack | coverage | re-sign | action | diagnostic
    state: str  # overdue | due-soon | pending | lint
    contract: str
    ref: str  # review kind, notice id, action id, seam id
    people: list[str]
    due: datetime | None
    what: str
    command: str

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "state": self.state,
            "contract": self.contract,
            "ref": self.ref,
            "people": self.people,
            "due": iso(self.due),
            "what": self.what,
            "command": self.command,
        }


_STATE_ORDER = {"overdue": 0, "pending": 1, "due-soon": 2, "lint": 3}


class ObligationsService:
    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self._history: tuple[str | None, History] | None = None
        self._signing_cache: dict[str, Any] = {}

    # -- inputs ------------------------------------------------------------------------------
    def state(self) -> GovernanceState:
        return self.wb.state()

    def files(self) -> dict[str, bytes]:
        return self.wb.files()

    def history(self) -> History:
        head = self.wb.git.head_id()
        if self._history is not None and self._history[0] == head:
            return self._history[1]
        state = self.state()
        ids = set(state.contracts)
        hist = {cid: contract_history(self.wb, cid) for cid in sorted(ids)} if head else {}
        self.wb.versions.save()
        self._history = (head, hist)
        return hist

    def _registry(self) -> Any:
        """The verified key registry head, or None when the repository has none."""
        if "registry" not in self._signing_cache:
            head = None
            try:
                from workbench.service.signing import SigningService

                if not self.wb.git.is_empty:
                    rs = SigningService(self.wb).registry_state(HEAD)
                    head = rs.head if rs.ok else None
                    # A broken registry is not "no registry": acts are refused, not unsigned.
                    self._signing_cache["registry_problems"] = list(rs.problems)
            except (WorkbenchError, ImportError):
                head = None
            except ValueError as exc:  # e.g. a malformed trust root: refuse, never go unsigned
                head = None
                self._signing_cache["registry_problems"] = [str(exc)]
            self._signing_cache["registry"] = head
        return self._signing_cache["registry"]

    def signatures_required(self) -> bool:
        """Signed acts are required once the repository has a verified key registry, and
        while it has one that does not verify (an unsigned act must not count then either)."""
        return self._registry() is not None or bool(self._signing_cache.get("registry_problems"))

    def _signature_status(self, files: Mapping[str, bytes], path: str, person: str) -> SigStatus:
        statement = files.get(statement_path_for(path))
        sig = files.get(sig_path_for(path))
        if statement is None and sig is None:
            return "unsigned"
        head = self._registry()
        if head is None or statement is None or sig is None:
            return "invalid"
        from workbench.signing.attestation import verify_attestation

        try:
            st = parse_statement(statement, _predicate_type(path))
        except StatementError:
            return "invalid"
        if st.subject_name != path or st.subject_sha256 != hashlib.sha256(files[path]).hexdigest():
            return "invalid"
        if st.predicate.person != person:
            return "invalid"
        settings = self.state().settings
        if settings is not None and st.predicate.repository != settings.org.repository_id:
            return "invalid"
        closure = _closure_fields(path)
        if closure is not None and (st.predicate.violation, st.predicate.act) != closure:
            return "invalid"
        ns = head.namespaces.ack if path.startswith("acks/") else head.namespaces.review
        result = verify_attestation(statement, {"sig": sig}, ns, head, {person}, now=self.wb.now)
        return "valid" if result.signed == {person} and not result.invalid else "invalid"

    def records(self, files: Mapping[str, bytes] | None = None) -> Records:
        """Reviews, acknowledgements and receipts; those whose time does not hold
        (`governance.record_time`) are left out and listed in `problems`."""
        files = self.files() if files is None else files
        statuses: dict[str, SigStatus] = {}
        for path in files:
            if path.endswith(".toml") and path.startswith(("reviews/", "acks/", "reports/")):
                person = record_person(path, files[path])
                if person is not None:
                    statuses[path] = self._signature_status(files, path, person)
        records = parse_records(files, statuses)
        self._check_times(records)
        return records

    def _check_times(self, records: Records) -> None:
        """Drop each record whose stated time breaks a bound; remember it as a flag."""
        from workbench.governance.record_time import SKEW, Placement, time_problem
        from workbench.governance.records import RecordProblem

        git = self.wb.git
        placed = git.placements(RECORD_DIRS) if not git.is_empty else {}
        now = self.wb.now
        flags: list[tuple[str, str]] = []

        def judge(path: str, contract: str, when: datetime, answers: Any, what: str) -> bool:
            p = placed.get(path)
            placement = Placement(*p) if p else None
            problem = time_problem(when, now, placement, answers, what)
            if problem is None:
                return True
            records.problems.append(RecordProblem(path, problem))
            # At a chosen `now`, a well-placed record after it is simply not made yet.
            not_yet = not self.wb.clock_is_real and when > now
            if not (not_yet and time_problem(when, when, placement) is None):
                flags.append((contract, f"{path}: {problem}"))
            return False

        notice_times: dict[str, datetime | None] = {}

        def commit_time(commit: str) -> datetime | None:
            if commit not in notice_times:
                try:
                    notice_times[commit] = git.commit_info(commit).time
                except (KeyError, ValueError):
                    notice_times[commit] = None
            return notice_times[commit]

        for cid, acks in records.acks.items():
            records.acks[cid] = [
                a
                for a in acks
                if judge(
                    a.path, cid, a.acknowledged, commit_time(a.commit), "the change it acknowledges"
                )
            ]
        history = self.history()
        for cid, reviews in records.reviews.items():
            hist = history.get(cid)
            newest = max((v.time for v in hist.versions), default=None) if hist else None
            versions: dict[str, datetime] | None = None
            kept = []
            for r in reviews:
                answers = None
                # After the newest version, it follows whichever it reviewed: no need to read
                # old versions' bytes to find it (warm runs read no blob).
                if newest is not None and r.completed < newest - SKEW:
                    if versions is None:
                        versions = self._version_times(cid)
                    answers = versions.get(r.contract_sha256)
                if judge(r.path, cid, r.completed, answers, "the contract version it reviews"):
                    kept.append(r)
            records.reviews[cid] = kept
        records.receipts = [
            r for r in records.receipts if judge(r.path, r.contract, r.received, None, "")
        ]
        state = self.state()
        for recs in (*records.acks.values(), *records.reviews.values()):
            for rec in recs:
                if rec.signature == "invalid":
                    flags.append((rec.contract, f"{rec.path}: the signature does not verify"))
                # A record made in someone else's name claims a delegation: it must hold.
                principal = rec.person if isinstance(rec, AckRecord) else rec.reviewer
                when = rec.acknowledged if isinstance(rec, AckRecord) else rec.completed
                if rec.signer != principal:
                    why = delegation_problem(state, rec.signer, principal, when)
                    if why is not None:
                        flags.append((rec.contract, f"{rec.path}: {why}"))
        self._record_flags = flags

    def _version_times(self, contract_id: str) -> dict[str, datetime]:
        """sha256 of each committed version of a contract -> when it was first committed."""
        path = layout.contract_path(contract_id)
        out: dict[str, datetime] = {}
        hist = self.history().get(contract_id)
        for version in hist.versions if hist else []:
            data = self.wb.git.blob_at(version.commit, path)
            if data is not None:
                digest = hashlib.sha256(data).hexdigest()
                if digest not in out or version.time < out[digest]:
                    out[digest] = version.time
        return out

    def record_flags(self) -> dict[str, list[str]]:
        """Per contract: records that claim what they cannot (a signature that does not
        verify, a time that does not hold, an approval without authority)."""
        self.records()
        out: dict[str, list[str]] = {}
        for contract, message in getattr(self, "_record_flags", []):
            out.setdefault(contract, []).append(message)
        svc = self._evidence()
        if svc is not None:
            try:
                for contract, messages in svc.closure_flags().items():
                    out.setdefault(contract, []).extend(messages)
                for contract, messages in svc.run_flags().items():
                    out.setdefault(contract, []).extend(messages)
            except WorkbenchError as exc:
                for cid in self.state().contracts:
                    out.setdefault(cid, []).append(f"closures cannot be read: {exc}")
        return out

    def verdicts(self) -> dict[str, gate_mod.VerdictInfo] | None:
        """Per-contract co-signature verdicts from the signing room (None: not available)."""
        if "verdicts" not in self._signing_cache:
            try:
                from workbench.service.signing import SigningService

                found = SigningService(self.wb).verdict_set(HEAD)
                value: dict[str, gate_mod.VerdictInfo] | None = {
                    v.contract_id: gate_mod.VerdictInfo(v.state, v.reason, tuple(v.missing))
                    for v in found.verdicts
                }
                if found.registry.problems:
                    # Nobody can sign on a broken registry: its admins restore it first.
                    head = found.registry.head
                    admins = tuple(head.admins) if head is not None else ()
                    value = {
                        cid: gate_mod.VerdictInfo(v.state, v.reason, admins, REGISTRY_FIX)
                        for cid, v in value.items()
                    }
                t = found.trust
                trust: gate_mod.TrustInfo | None = gate_mod.TrustInfo(
                    t.is_pinned, t.source, t.root_sha256, t.problems, t.warning, t.describe()
                )
            except ImportError:
                value, trust = None, None
            except WorkbenchError as exc:
                value = {
                    cid: gate_mod.VerdictInfo("invalid", str(exc)) for cid in self.state().contracts
                }
                trust = gate_mod.TrustInfo(False, None, None, (str(exc),), None, str(exc))
            self._signing_cache["verdicts"] = value
            self._signing_cache["trust"] = trust
        return self._signing_cache["verdicts"]

    def trust_root(self) -> gate_mod.TrustInfo | None:
        """Whether the registry's root is pinned out of band, and its problems (None: no
        signing room in this build)."""
        self.verdicts()
        return self._signing_cache["trust"]

    def approved(self) -> dict[str, bool | None]:
        verdicts = self.verdicts()
        if verdicts is None:
            return {}
        return {cid: v.state == "approved" for cid, v in verdicts.items()}

    def _evidence(self) -> Any:
        try:
            from workbench.service.evidence import EvidenceService
        except ImportError:
            return None
        return EvidenceService(self.wb)

    def open_violations(self) -> dict[str, list[gate_mod.ViolationInfo]] | None:
        svc = self._evidence()
        if svc is None:
            return None
        out: dict[str, list[gate_mod.ViolationInfo]] = {}
        # Terms whose latest finding does not speak for them at now (stale, superseded by a
        # contract or evidence change, never evaluated): `governance.currency` decides.
        stale = {(t.contract, t.term): t for t, _v in svc.not_current()}
        # What is open now comes from the head runs' ledgers, never the whole history.
        for v in svc.open_now():
            if v.worst_status not in ("fail", "no-data", "error"):
                continue
            # Who can fix it: the term owner, and the person paged for the seam.
            primary = (v.paged or {}).get("primary") or {}
            fixers = tuple(
                dict.fromkeys(
                    p for p in (v.owner.get("id"), primary.get("id")) if isinstance(p, str) and p
                )
            )
            reason = str(v.last.get("reason", ""))
            if (t := stale.pop((v.contract, v.term), None)) is not None:
                reason += f"; not current: {t.reason}"
            out.setdefault(v.contract, []).append(
                gate_mod.ViolationInfo(v.id, v.term, v.worst_status, reason, fixers)
            )
        state = self.state()
        for (cid, tid), t in sorted(stale.items()):
            doc = state.contracts.get(cid)
            term = doc.contract.term(tid) if doc else None
            people = [term.owner] if term else []
            if doc is not None:
                people.append(doc.contract.escalation.primary)
            out.setdefault(cid, []).append(
                gate_mod.ViolationInfo(
                    "", tid, "not current", t.reason, tuple(dict.fromkeys(people)), current=False
                )
            )
        return out

    def violation_entries(self) -> list[rep.ViolationEntry] | None:
        svc = self._evidence()
        if svc is None:
            return None
        return [
            rep.ViolationEntry(
                v.id,
                v.contract,
                v.term,
                v.worst_status,
                v.state,
                v.opened_at,
                v.last_at,
                str(v.last.get("reason", "")),
            )
            for v in svc.violations()
        ]

    def attestation_runs(self) -> dict[tuple[str, str], list[rep.AttestationRun]] | None:
        svc = self._evidence()
        if svc is None:
            return None
        out: dict[tuple[str, str], list[rep.AttestationRun]] = {}
        for run in svc.runs():
            when = datetime.fromisoformat(str(run["time"]).replace("Z", "+00:00"))
            for f in run.get("findings", []):
                if f.get("kind") != "living_attestation":
                    continue
                details = tuple(
                    rep.AssertionRate(
                        str(d.get("assertion")),
                        int(d.get("runs") or 0),
                        int(d.get("passed") or 0),
                        d.get("pass_rate"),
                        str(d.get("status")),
                    )
                    for d in f.get("details", [])
                )
                out.setdefault((f["contract"], f["term"]), []).append(
                    rep.AttestationRun(str(run["run"]), when, str(f.get("status")), details)
                )
        return out

    # -- reviews -------------------------------------------------------------------------------
    def review_triggers(self) -> list[rv.ReviewTrigger]:
        """Term reviews opened by failing terms (``triggers_review_of``), from the evidence
        room's violation history: every episode that reached ``fail``, open or not."""
        state = self.state()
        if not any(rv.reviewable_terms(d.contract) for d in state.contracts.values()):
            return []  # nothing names a review: no need to read the findings
        svc = self._evidence()
        if svc is None:
            return []
        keys = {
            (cid, t.id)
            for cid, d in state.contracts.items()
            for t in d.contract.terms
            if getattr(t, "triggers_review_of", "") in rv.reviewable_terms(d.contract)
        }
        # From the head runs' ledgers (they carry these terms' failures), not the history.
        return rv.review_triggers(state, svc.review_failures(keys))

    def reviews(self, *, overdue_only: bool = False) -> list[rv.ReviewStatus]:
        out = rv.review_statuses(
            self.state(),
            self.history(),
            self.records(),
            self.wb.now,
            signatures_required=self.signatures_required(),
            triggers=self.review_triggers(),
        )
        if overdue_only:
            out = [r for r in out if r.state == "overdue"]
        return out

    def complete_review(
        self,
        contract_id: str,
        *,
        contacts_confirmed: bool = False,
        outcome: str = "no-change",
        notes: str = "",
        signer: Any = None,
        term: str | None = None,
        on_behalf_of: str | None = None,
    ) -> RecordResult:
        """Record (and sign) a completed review of the committed contract by the actor, or
        of one `term` whose review a failing term triggered; as the delegate of
        `on_behalf_of` when given."""
        self.wb.require_writable("complete a review")
        require_valid_contract(self.wb, contract_id, "review")
        state = self.state()
        doc = state.contracts.get(contract_id)
        if doc is None:
            raise UnknownContract(f"no contract {contract_id!r}")
        actor = self.wb.actor(state)
        reviewer = self._principal(state, actor.id, on_behalf_of, "review")
        c = doc.contract
        if term is not None:
            if term not in rv.reviewable_terms(c):
                raise ObligationError(
                    f"no term of {contract_id} names {term!r} in triggers_review_of: a term "
                    f"review is for {', '.join(rv.reviewable_terms(c)) or 'no term here'}"
                )
            if contacts_confirmed:
                raise ObligationError(
                    "the escalation contacts are confirmed with the contract's review, not a term's"
                )
        eligible = rv.eligible_reviewers(c, term)
        if reviewer not in eligible:
            what = f"the review of term {term}" if term else "a review"
            raise ObligationError(
                f"{reviewer} cannot review {contract_id}: {what} is completed by "
                f"{', '.join(eligible)} (or their delegate)"
            )
        if state.people[reviewer].has_left(self.wb.now.date()):
            raise ObligationError(f"{reviewer} has left the organisation")
        if outcome not in ("no-change", "changes-needed"):
            raise ObligationError("outcome must be 'no-change' or 'changes-needed'")
        blob = self.wb.git.blob_at(HEAD, layout.contract_path(contract_id))
        if blob is None:
            raise ObligationError(f"{contract_id} is not committed yet: review what is committed")
        if contacts_confirmed:
            departed = [
                d
                for d in rv.departed_people(state, c, self.wb.now)
                if d.role.startswith("escalation")
            ]
            if departed:
                raise ObligationError(
                    "cannot confirm the escalation contacts: "
                    + "; ".join(d.render() for d in departed)
                    + ". Name the successor in [escalation] first."
                )
        when = self.wb.record_time()
        path = review_path(contract_id, when, reviewer)
        fields = {
            "contract": contract_id,
            "reviewer": reviewer,
            "by": actor.id if reviewer != actor.id else None,
            "term": term,
            "completed": when,
            "contract_sha256": hashlib.sha256(blob).hexdigest(),
            "contacts_confirmed": contacts_confirmed,
            "outcome": outcome,
            "notes": notes,
        }
        what = "review and escalation-contact check" if contacts_confirmed else "review"
        if term is not None:
            what = f"review of term {term}"
        acting = f" for {reviewer}" if reviewer != actor.id else ""
        message = (
            f"Review {contract_id}: {actor.name} completes the {what}{acting}\n\n"
            f"Outcome: {outcome}.\n"
        )
        if notes:
            message += f"\n{notes}\n"
        return self._write_record(path, fields, contract_id, actor.id, "review", message, signer)

    # -- notices ---------------------------------------------------------------------------------
    def notices(
        self, *, pending_only: bool = False, contract: str | None = None
    ) -> list[nt.Notice]:
        out = nt.change_notices(
            self.state(),
            self.history(),
            self.records(),
            self.wb.now,
            approved=self.approved(),
            signatures_required=self.signatures_required(),
            compare=self._compare,
        )
        self.wb.versions.save()
        if contract is not None:
            out = [n for n in out if n.contract == contract]
        if pending_only:
            out = [n for n in out if n.pending]
        return out

    def _compare(self, contract_id: str, old: Any, new: Any) -> Any:
        path = layout.contract_path(contract_id)
        git = self.wb.git
        return self.wb.versions.compare_blobs(
            path,
            old.blob,
            new.blob,
            lambda: git.blob_at(old.commit, path),
            lambda: git.blob_at(new.commit, path),
        )

    def findings(self) -> list[str]:
        """Overdue acknowledgements as findings, each naming the escalation person."""
        return [f for n in self.notices() if (f := n.finding())]

    def acknowledge(
        self,
        contract_id: str,
        notice: str | None = None,
        *,
        coverage: bool = False,
        note: str = "",
        signer: Any = None,
        on_behalf_of: str | None = None,
    ) -> RecordResult:
        """Acknowledge (and sign) a change notice as the acting person, or as the delegate
        of `on_behalf_of`."""
        self.wb.require_writable("acknowledge a notice")
        require_valid_contract(self.wb, contract_id, "acknowledge a change to")
        state = self.state()
        if contract_id not in state.contracts:
            raise UnknownContract(f"no contract {contract_id!r}")
        actor = self.wb.actor(state)
        person = self._principal(state, actor.id, on_behalf_of, "acknowledge")
        notices = self.notices(contract=contract_id)
        if notice is None:
            mine = [
                n for n in notices if any(r.open and r.person == person for r in n.requirements)
            ]
            if not mine:
                raise ObligationError(
                    f"{person} has no pending notice on {contract_id}; list them with "
                    f"`workbench notices --pending`"
                )
            found = mine[0]
        else:
            found = nt.find_notice(notices, contract_id, notice)
            if found is None:
                raise ObligationError(
                    f"no notice {notice!r} on {contract_id} (`workbench notices`)"
                )
        kinds = {r.kind for r in found.requirements if r.person == person}
        if person != actor.id and found.author == actor.id:
            raise ObligationError(
                f"{actor.id} made the change of notice {found.id} and cannot acknowledge it "
                f"for {person}"
            )
        if found.classification == "loosening" and not kinds:
            raise ObligationError(
                f"notice {found.id} loosens a bound: it is settled by both leads co-signing the new "
                f"version (`workbench sign {contract_id}`), not by an acknowledgement"
            )
        if not kinds:
            who = ", ".join(sorted({r.person for r in found.requirements})) or "nobody"
            raise ObligationError(
                f"{person} is not asked to acknowledge notice {found.id} (recipients: {who})"
            )
        if coverage and "coverage" not in kinds:
            raise ObligationError(
                f"{person} is not the engineering lead asked to confirm test coverage for {found.id}"
            )
        if "ack" not in kinds and "coverage" in kinds and not coverage:
            raise ObligationError(
                f"notice {found.id} changes a living-compliance assertion: confirm that automated test "
                "coverage reflects it with --coverage"
            )
        when = self.wb.record_time()
        path = ack_path(contract_id, found.commit, person, when)
        fields = {
            "contract": contract_id,
            "commit": found.commit,
            "person": person,
            "by": actor.id if person != actor.id else None,
            "acknowledged": when,
            "coverage_confirmed": coverage,
            "note": note,
        }
        what = "confirms test coverage for" if coverage else "acknowledges"
        acting = f" for {person}" if person != actor.id else ""
        message = (
            f"Acknowledge {found.id}: {actor.name} {what} {found.short}{acting}\n\n"
            f"Change: {found.summary}\nClass: {found.classification}\n"
        )
        return self._write_record(
            path, fields, contract_id, actor.id, "acknowledge", message, signer
        )

    def _principal(
        self, state: GovernanceState, actor: str, on_behalf_of: str | None, act_name: str
    ) -> str:
        """Whose obligation the actor settles: their own, or (as delegate) the named person's."""
        if on_behalf_of is None or on_behalf_of == actor:
            return actor
        why = delegation_problem(state, actor, on_behalf_of, self.wb.now)
        if why is not None:
            raise ObligationError(f"{actor} cannot {act_name} for {on_behalf_of}: {why}")
        return on_behalf_of

    # -- action items --------------------------------------------------------------------------
    def action_docs(self, files: Mapping[str, bytes] | None = None) -> list[act.ActionDoc]:
        files = self.files() if files is None else files
        return act.load_actions(files, self.state(), self.wb.now.date())

    def actions(self, *, overdue_only: bool = False) -> list[act.ActionView]:
        out = act.action_statuses(self.action_docs(), self.state(), self.wb.now)
        return [a for a in out if a.overdue] if overdue_only else out

    def lint_actions(self) -> list[Problem]:
        return [p for d in self.action_docs() for p in d.problems]

    def lint_action_text(self, action_id: str, text: str) -> list[Problem]:
        """Lint an edited action item before saving it (the TUI's inline lint)."""
        files = {act.action_path(action_id): text.encode("utf-8")}
        return self.action_docs(files)[0].problems

    def save_action(self, action_id: str, text: str, message: str | None = None) -> str:
        """Save an action item; refused while it has lint errors (they are returned)."""
        from workbench.service.errors import InvalidEdit

        self.wb.require_writable("save action items")
        problems = [p for p in self.lint_action_text(action_id, text) if p.severity == "error"]
        path = act.action_path(action_id)
        if problems:
            raise InvalidEdit(f"{path} has {len(problems)} lint error(s); not saved", problems)
        return self.wb.commit({path: text.encode("utf-8")}, message or f"Action item {action_id}")

    # -- diagnostic ----------------------------------------------------------------------------
    def diagnostics(self) -> dict[str, diag.SeamDiagnostic]:
        return diag.seam_diagnostics(self.state(), self.files())

    def diagnostic(self, seam: str) -> diag.SeamDiagnostic:
        seam = diag.normalise_seam_id(seam)
        found = self.diagnostics().get(seam)
        if found is None:
            raise ObligationError(f"no seam {seam!r} (a contract id, or PROVIDER--CONSUMER)")
        return found

    def answer_diagnostic(self, seam: str, answers: Mapping[str, object]) -> str:
        """Store the acting lead's answers to the six questions; returns the commit id."""
        self.wb.require_writable("answer the diagnostic")
        seam = diag.normalise_seam_id(seam)
        state = self.state()
        refs = diag.seam_refs(state)
        ref = refs.get(seam)
        if ref is None:
            raise ObligationError(f"no seam {seam!r} (a contract id, or PROVIDER--CONSUMER)")
        actor = self.wb.actor(state)
        side = ref.side_of(actor.id)
        if side is None:
            raise ObligationError(
                f"{actor.id} is not a lead of {seam}: the diagnostic is answered separately by "
                f"{ref.provider_lead} (provider) and {ref.consumer_lead} (consumer)"
            )
        parsed, errors = diag.validate_answers(answers)
        if parsed is None:
            raise ObligationError(
                "the answers are incomplete or invalid:\n  " + "\n  ".join(errors)
            )
        when = self.wb.record_time()
        path = diag.answers_path(seam, actor.id, when)
        data = diag.render_answers(seam, actor.id, when, parsed)
        return self.wb.commit(
            {path: data},
            f"Seam diagnostic for {seam}: answers of {actor.name} ({side} lead)\n",
        )

    # -- the Due list --------------------------------------------------------------------------
    def due(self) -> list[DueItem]:
        out: list[DueItem] = []
        for r in self.reviews():
            if r.state in ("overdue", "due-soon"):
                out.append(
                    DueItem(
                        r.kind,
                        r.state,
                        r.contract,
                        r.term or r.kind,
                        r.reviewers,
                        r.due,
                        r.basis,
                        r.action,
                    )
                )
        state = self.state()
        for n in self.notices(pending_only=True):
            doc = state.contracts.get(n.contract)
            leads = (
                [doc.contract.parties.provider_lead, doc.contract.parties.consumer_lead]
                if doc
                else []
            )
            for req in n.open_requirements():
                kind = "re-sign" if req.kind == "cosign" else req.kind
                people = leads if req.kind == "cosign" else [req.person]
                st = "overdue" if req.state == "overdue" else "pending"
                out.append(
                    DueItem(
                        kind,
                        st,
                        n.contract,
                        n.id,
                        people,
                        req.deadline,
                        f"{req.describe()}: {n.summary}",
                        n.action,
                    )
                )
        for a in self.actions():
            if a.state in ("overdue", "due-soon"):
                out.append(
                    DueItem(
                        "action",
                        a.state,
                        a.seam,
                        a.id,
                        [a.owner],
                        a.due,
                        a.title,
                        f"{a.owner}: edit {a.path}",
                    )
                )
            if a.problems and any(p.severity == "error" for p in a.problems):
                out.append(
                    DueItem(
                        "action",
                        "lint",
                        a.seam,
                        a.id,
                        [a.owner] if a.owner else [],
                        a.due,
                        "; ".join(p.message for p in a.problems if p.severity == "error"),
                        f"fix {a.path} (`workbench actions lint`)",
                    )
                )
        for sid, d in self.diagnostics().items():
            if d.state == "mismatch":
                out.append(
                    DueItem(
                        "diagnostic",
                        "pending",
                        sid,
                        sid,
                        [p for p in (d.provider_lead, d.consumer_lead) if p],
                        None,
                        "; ".join(f.message for f in d.flags),
                        f"both leads: `workbench diagnose {sid}`",
                    )
                )
        far = datetime.max.replace(tzinfo=self.wb.now.tzinfo)
        out.sort(key=lambda i: (_STATE_ORDER.get(i.state, 9), i.due or far, i.contract, i.ref))
        return out

    # -- the gate ------------------------------------------------------------------------------
    def changed_since(self, rev: str) -> set[str]:
        """Gate ids of every file under contracts/ that differs between `rev` and what this
        session reads (HEAD for the gate's committed view): changed, added, deleted, and
        files that are not contracts at all."""
        from workbench.model.state import (
            contract_file_id,
            is_contract_path,
            is_stray_contract_file,
        )

        old = self.wb.files(rev)
        new = self.files()
        paths = {p for p in set(old) | set(new) if is_contract_path(p) or is_stray_contract_file(p)}
        return {contract_file_id(p) for p in paths if old.get(p) != new.get(p)}

    def gate_inputs(self) -> gate_mod.GateInputs:
        return gate_mod.GateInputs(
            reviews=self.reviews(),
            notices=self.notices(),
            actions=self.actions(),
            diagnostics=self.diagnostics(),
            verdicts=self.verdicts(),
            violations=self.open_violations(),
            record_flags=self.record_flags(),
        )

    def gate(self, changed_since: str | None = None, strict: bool = False) -> gate_mod.GateResult:
        from workbench.service.repo_state import unfinished_merge

        state = self.state()
        if state.settings is None:
            raise WorkbenchError("workbench.toml is missing or invalid; run `workbench validate`")
        changed = self.changed_since(changed_since) if changed_since else None
        inputs = self.gate_inputs()
        return gate_mod.evaluate_gate(
            state,
            inputs,
            self.wb.now,
            changed=changed,
            changed_since=changed_since,
            trust=self.trust_root(),
            strict=strict,
            merge=unfinished_merge(self.wb),
        )

    def render_gate(self, result: gate_mod.GateResult, fmt: str = "text") -> str:
        from workbench import __version__

        if fmt == "json":
            return gate_mod.render_json(result)
        if fmt == "junit":
            return gate_mod.render_junit(result)
        if fmt == "sarif":
            return gate_mod.render_sarif(result, __version__)
        return gate_mod.render_text(result, self.state())

    # -- reports -------------------------------------------------------------------------------
    def weekly_report(
        self, week: str | None = None, reviewer: str | None = None
    ) -> rep.WeeklyReport:
        week = week or rep.week_of(self.wb.now)
        state = self.state()
        if reviewer is not None and reviewer not in state.people:
            raise ObligationError(f"{reviewer!r} is not a person in keys/people.toml")
        return rep.weekly_report(
            state,
            week,
            self.wb.now,
            reviewer=reviewer,
            runs=self.attestation_runs(),
            violations=self.violation_entries(),
            notices=self.notices(),
            reviews=self.reviews(),
            actions=self.actions(),
            receipts=self.records().receipts,
        )

    def render_weekly(self, report: rep.WeeklyReport, fmt: str = "md") -> str:
        text = rep.render_weekly_md(report)
        if fmt == "html":
            return rep.md_to_html(text, f"Weekly living-attestation summary {report.week}")
        return text

    def receive_weekly(self, week: str, signer: Any = None) -> list[RecordResult]:
        """The acting reviewer signs this week's report as received (one record per term)."""
        self.wb.require_writable("sign a report as received")
        actor = self.wb.actor()
        report = self.weekly_report(week, actor.id)
        if not report.sections:
            raise ObligationError(f"{actor.id} is not the named reviewer of any living attestation")
        results = []
        for section in report.sections:
            single = rep.WeeklyReport(
                report.week, report.start, report.end, report.as_of, actor.id, [section]
            )
            text = rep.render_weekly_md(single)
            when = self.wb.record_time()
            path = receipt_path(report.week, section.term.id, section.contract, actor.id, when)
            fields = {
                "week": report.week,
                "term": section.term.id,
                "contract": section.contract,
                "person": actor.id,
                "received": when,
                "report_sha256": rep.report_sha256(text),
            }
            message = (
                f"Receive the weekly summary {report.week} for {section.contract}/{section.term.id}\n\n"
                f"{actor.name} signs the report as received.\n"
            )
            results.append(
                self._write_record(
                    path, fields, section.contract, actor.id, "receive", message, signer
                )
            )
            self._signing_cache.clear()
        return results

    def boundary_report(self, quarter: str | None = None) -> rep.BoundaryReport:
        quarter = quarter or rep.quarter_of(self.wb.now)
        return rep.boundary_report(
            self.state(),
            quarter,
            self.wb.now,
            violations=self.violation_entries(),
            notices=self.notices(),
            actions=self.actions(),
            diagnostics=self.diagnostics(),
        )

    def render_boundary(self, report: rep.BoundaryReport, fmt: str = "md") -> str:
        text = rep.render_boundary_md(report, self.state())
        if fmt == "html":
            return rep.md_to_html(text, f"Cross-team boundary-failure review {report.quarter}")
        return text

    # -- writing a signed record -----------------------------------------------------------------
    def _write_record(
        self,
        path: str,
        fields: Mapping[str, Any],
        contract_id: str,
        person: str,
        act_name: str,
        message: str,
        signer: Any,
    ) -> RecordResult:
        data = render(fields)
        changes: dict[str, bytes | None] = {path: data}
        head = self._registry()
        if head is None and self._signing_cache.get("registry_problems"):
            raise ObligationError(
                "cannot record a signed act: the key registry is not usable: "
                + "; ".join(self._signing_cache["registry_problems"])
            )
        fingerprint = None
        if head is not None:
            if signer is None:
                from workbench.service.signing import SigningService

                signer = SigningService(self.wb).make_signer(person)
            from workbench.signing import sshsig
            from workbench.signing.attestation import verify_attestation

            settings = self.state().settings
            assert settings is not None
            closure = _closure_fields(path)
            predicate: StrictModel = (
                ClosurePredicate(
                    repository=settings.org.repository_id,
                    contract=contract_id,
                    violation=closure[0],
                    person=person,
                    act=closure[1],
                    registry=head.link(),
                )
                if closure is not None
                else RecordPredicate(
                    repository=settings.org.repository_id,
                    contract=contract_id,
                    person=person,
                    act=act_name,
                    registry=head.link(),
                )
            )
            ptype = _predicate_type(path)
            statement = write_statement(ptype, path, hashlib.sha256(data).hexdigest(), predicate)
            ns = head.namespaces.ack if ptype == ACK_PREDICATE else head.namespaces.review
            armored = signer.sign(statement, ns)
            check = verify_attestation(
                statement, {"sig": armored}, ns, head, {person}, now=self.wb.now
            )
            if check.signed != {person}:
                reason = check.checks[0].message if check.checks else "no signature"
                raise ObligationError(f"the signature does not verify for {person}: {reason}")
            fingerprint = sshsig.fingerprint(signer.public_key)
            changes[statement_path_for(path)] = statement
            changes[sig_path_for(path)] = armored
            message += f"\nSigned by {person} with key {fingerprint}.\n"
            previous = getattr(self.wb, "_session_signer", None)
            self.wb.use_signer(signer)
            try:
                commit = self.wb.commit(changes, message)
            finally:
                self.wb.use_signer(previous)
        else:
            message += "\nUnsigned: this repository has no key registry yet.\n"
            commit = self.wb.commit(changes, message)
        self._signing_cache.clear()
        self._history = None
        note = (
            f"signed by {person} ({fingerprint})"
            if fingerprint
            else "recorded UNSIGNED: the repository has no key registry (`workbench registry init`)"
        )
        return RecordResult(path, commit, fingerprint is not None, fingerprint, note, dict(fields))


# --- seam map marks ------------------------------------------------------------------------------


def apply_marks(wb: Workbench, views) -> None:  # type: ignore[no-untyped-def]
    """``marks["review"]``, ``marks["notices"]`` and ``marks["diagnostic"]`` per seam."""
    svc = ObligationsService(wb)
    try:
        reviews = svc.reviews()
        notices = svc.notices()
        diagnostics = svc.diagnostics()
    except (WorkbenchError, ValueError):
        return
    # Group once: a list scan per seam is quadratic at 1,000 contracts.
    due_reviews: dict[str, list[str]] = {}
    for r in reviews:
        if r.state in ("overdue", "due-soon"):
            due_reviews.setdefault(r.contract, []).append(r.state)
    open_notices: dict[str, list[str]] = {}
    for n in notices:
        if n.state in ("pending", "overdue"):
            open_notices.setdefault(n.contract, []).append(n.state)
    for view in views:
        key = diag.normalise_seam_id(view.id)
        mine = due_reviews.get(view.id, [])
        if "overdue" in mine:
            view.marks["review"] = "overdue"
        elif mine:
            view.marks["review"] = "due-soon"
        pending = open_notices.get(view.id, [])
        if pending:
            late = pending.count("overdue")
            view.marks["notices"] = f"{len(pending)} unacknowledged" + (
                f" ({late} overdue)" if late else ""
            )
        d = diagnostics.get(key)
        if d is not None and d.state == "mismatch":
            view.marks["diagnostic"] = "mismatch"
