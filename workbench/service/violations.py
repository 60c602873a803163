"""Violations and their closures (``wb.evidence.violations``): the violation history with
the closures that count, and closing one consciously as a signed record (resolve, or an
exemption requested by one person and approved by another the signed policy names).

What counts is ``workbench.evidence.closures``'s rule (``fold_violations``, who may
approve: ``approver_refusal``); this module gathers its inputs (the signed closure
records, their signatures and placements, the authority) and writes through
``wb.obligations.records`` (the signed-record door). See docs/evidence.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from workbench.evidence.closures import (
    Authority,
    ClosureInputs,
    ClosureVerdicts,
    ContractExemption,
    approver_refusal,
    caused_by,
    closure_record_path,
    fold_violations,
    parse_closure_records,
    resolve_approvers,
    term_owner,
)
from workbench.evidence.errors import EvidenceError
from workbench.evidence.findings import CLOSURES_PATH, Closure, Violation, parse_closures
from workbench.model.errors import WorkbenchError
from workbench.model.record_folders import CLOSURES_DIR
from workbench.repo import layout

if TYPE_CHECKING:
    from workbench.governance.gate_model import VerdictInfo
    from workbench.service.evidence import EvidenceService
    from workbench.signing.keys import Signer


class ViolationBook:
    def __init__(self, evidence: EvidenceService) -> None:
        self._evidence = evidence
        self.wb = evidence.wb
        self.problems: list[str] = []  # closure records that cannot be read (last inputs)

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
        out: list[ContractExemption] = []
        state = self.wb.state()
        verdicts: dict[str, VerdictInfo] | None = None
        for cid, doc in state.contracts.items():
            if not doc.contract.exemptions:
                continue
            if verdicts is None:
                verdicts = self.wb.obligations.signatures.verdicts()
            verdict = verdicts.get(cid)
            history = self.wb.git.history(layout.contract_path(cid), 1)
            for ex in doc.contract.exemptions:
                out.append(
                    ContractExemption(
                        cid,
                        ex.term,
                        ex.reason,
                        ex.approver,
                        ex.expires,
                        verdict is not None and verdict.state == "approved",
                        frozenset(verdict.signed if verdict is not None else ()),
                        history[0].time if history else None,
                    )
                )
        return out

    def authority(self) -> Authority:
        """Who may approve exemptions: the policy signed into the registry head (its
        defaults, and the working tree's teams, in a repository without a registry)."""
        from workbench.model.settings import ExemptionPolicy

        head = self.wb.obligations.records.registry()
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

        wb = self.wb
        files = self.closure_files()
        records, problems = parse_closure_records(files)
        self.problems = problems
        signed = wb.obligations.records
        signatures = {r.path: signed.signature_status(files, r.path, r.person) for r in records}
        placed = wb.git.placements((CLOSURES_DIR,)) if records else {}
        state = wb.state()
        try:
            legacy = self.closures()
        except EvidenceError as exc:
            self.problems.append(str(exc))
            legacy = []
        return ClosureInputs(
            records=records,
            signatures=signatures,
            placements={p: Placement(c, parent) for p, (c, parent) in placed.items()},
            authority=self.authority(),
            signatures_required=signed.signatures_required(),
            people_left=lambda pid, day: (
                (person := state.people.get(pid)) is not None and person.has_left(day)
            ),
            known_people=frozenset(state.people),
            now=wb.now,
            now_is_real=wb.clock_is_real,
            legacy=legacy,
            contract_exemptions=self._contract_exemptions(),
        )

    def verdicts(self) -> tuple[list[Violation], ClosureVerdicts]:
        """The violation history with the closures that count, and the records that don't."""
        return fold_violations(self._evidence.runs(), self.closure_inputs(), self.wb.now.date())

    def closure_flags(self) -> dict[str, list[str]]:
        """Per contract: closure records that claim what they cannot (the gate fails on them)."""
        out: dict[str, list[str]] = {}
        for contract, message in self._evidence.current().verdicts.flags:
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
        for r in self._evidence.current().rejected:
            named = contracts if r.terms == ALL_TERMS else sorted({c for c, _t in r.terms})
            for contract in named:
                out.setdefault(contract, []).append(f"{run_path(r.run)} does not count: {r.reason}")
        return out

    def find(
        self,
        *,
        since: date | datetime | None = None,
        contract: str | None = None,
        open_only: bool = False,
    ) -> list[Violation]:
        """Violations across all runs (oldest first). `since`: active at or after it."""
        history, _verdicts = self.verdicts()
        if since is not None:
            if not isinstance(since, datetime):
                since = datetime(since.year, since.month, since.day, tzinfo=UTC)
            history = [v for v in history if v.last_at >= since]
        if contract is not None:
            history = [v for v in history if v.contract == contract]
        if open_only:
            history = [v for v in history if v.is_open]
        return history

    def get(self, ref: str) -> Violation:
        """A violation by id (or unique id prefix), or `contract/term` for its latest one."""
        history = self.find()
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

    def open_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for v in self.find(open_only=True):
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
        signer: Signer | None = None,
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
        v = self.get(ref)
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

    def approve(
        self, ref: str, *, expires: date | None = None, signer: Signer | None = None
    ) -> Closure:
        """As an authorised approver, sign the pending exemption request of a violation
        (optionally ending it earlier than requested)."""
        wb = self.wb
        wb.require_writable("approve exemptions")
        v = self.get(ref)
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
        """Why `approver` may not approve an exemption of `v`: `evidence.closures`'s rule,
        asked before anything is written."""
        refusal = approver_refusal(approver, requester, term_owner(v), caused_by(v), authority)
        if refusal == "own-request":
            return "cannot approve their own request"
        if refusal == "owns-term":
            return "owns the violated term and cannot approve its exemption"
        if refusal == "caused":
            return "caused the violation and cannot approve its exemption"
        if refusal == "no-authority":
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
        signer: Signer | None,
    ) -> None:
        path = closure_record_path(v.id, when, person, act)
        if (self.wb.root / path).exists():
            raise WorkbenchError(f"{path} exists already; try again in a second")
        self.wb.obligations.records.write(path, fields, v.contract, person, act, message, signer)
