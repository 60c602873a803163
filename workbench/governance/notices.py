"""Change notices: every committed change to a contract after its first version.

Pure: ``change_notices(state, history, records, now, approved=..., signatures_required=...)``.

* Each commit that changes ``contracts/<id>.toml`` after the commit that created it is a
  notice. Its author is the person whose email matches the commit author.
* Recipients: the lead of the *other* side (the consumer lead when a provider-side person
  made the change, and vice versa; both leads when the author is on neither side), plus
  everyone in the new version's ``change_protocol.notify``, never the author.
* Classification (``workbench.governance.classify``): editorial → no action; tightening or
  adding → every recipient acknowledges within ``change_protocol.ack_window`` (default
  ``[defaults] ack_window`` in workbench.toml, PT48H) of the commit time; loosening → both
  leads co-sign the contract again (settled when the contract is approved at its current
  version).
* A recipient's delegate may acknowledge for them (``workbench.governance.delegation``);
  the author of the change may not acknowledge it for anyone.
* A change to a living-compliance assertion also needs the term's engineering lead
  (its owner when none is named) to confirm test coverage within the same window.
* A requirement is overdue from ``commit time + window`` on (exactly 48 h is overdue); an
  acknowledgement recorded after that instant is *late*: it settles the notice but shows in
  the quarterly boundary review. An overdue acknowledgement is a finding that names the
  contract's escalation primary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from workbench.governance.classify import ChangeItem, Classification, classify
from workbench.governance.delegation import delegation_problem
from workbench.governance.history import ContractHistory, ContractVersion, History
from workbench.governance.records import AckRecord, Records
from workbench.governance.timing import iso, relative
from workbench.model.compare import ContractComparison, compare_contracts
from workbench.model.contract import Contract
from workbench.model.state import GovernanceState

RequirementKind = Literal["ack", "coverage", "cosign"]
RequirementState = Literal["done", "late", "pending", "overdue", "waiting", "unknown"]
NoticeState = Literal[
    "no-action", "acknowledged", "acknowledged-late", "pending", "overdue", "re-sign", "re-signed"
]


@dataclass
class Requirement:
    kind: RequirementKind
    person: str  # for cosign: "both leads"
    deadline: datetime | None
    state: RequirementState
    record: AckRecord | None = None

    @property
    def open(self) -> bool:
        return self.state in ("pending", "overdue", "waiting", "unknown")

    def describe(self) -> str:
        if self.kind == "ack":
            return f"{self.person} acknowledges"
        if self.kind == "coverage":
            return f"{self.person} confirms automated test coverage reflects the assertion change"
        return "both leads co-sign the new version"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "person": self.person,
            "deadline": iso(self.deadline),
            "state": self.state,
            "what": self.describe(),
            "record": self.record.to_json() if self.record else None,
        }


@dataclass
class Notice:
    contract: str
    number: int
    commit: str
    time: datetime
    author: str | None
    author_name: str
    summary: str
    classification: Classification
    changes: list[ChangeItem]
    recipients: list[str]
    requirements: list[Requirement]
    escalation: str
    ack_window: str
    now: datetime | None = None
    ignored: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.contract}#{self.number}"

    @property
    def short(self) -> str:
        return self.commit[:8]

    @property
    def assertion_change(self) -> bool:
        return any(c.assertion for c in self.changes)

    @property
    def deadline(self) -> datetime | None:
        deadlines = [r.deadline for r in self.requirements if r.deadline is not None]
        return min(deadlines) if deadlines else None

    @property
    def state(self) -> NoticeState:
        if self.classification == "editorial" and not self.requirements:
            return "no-action"
        reqs = self.requirements
        if any(r.kind == "cosign" for r in reqs):
            cosign = next(r for r in reqs if r.kind == "cosign")
            if cosign.open:
                return "re-sign"
            others = [r for r in reqs if r.kind != "cosign"]
            if not others or all(not r.open for r in others):
                return "re-signed"
            reqs = others
        if any(r.state == "overdue" for r in reqs):
            return "overdue"
        if any(r.open for r in reqs):
            return "pending"
        if any(r.state == "late" for r in reqs):
            return "acknowledged-late"
        return "acknowledged"

    @property
    def pending(self) -> bool:
        return self.state in ("pending", "overdue", "re-sign")

    @property
    def late(self) -> list[Requirement]:
        return [r for r in self.requirements if r.state == "late"]

    def open_requirements(self) -> list[Requirement]:
        return [r for r in self.requirements if r.open]

    @property
    def action(self) -> str:
        state = self.state
        if state == "re-sign":
            return f"both leads: `workbench sign {self.contract}` (the change loosens a bound)"
        open_reqs = [r for r in self.requirements if r.open and r.kind != "cosign"]
        if not open_reqs:
            return "nothing to do"
        parts = []
        for r in open_reqs:
            flag = " --coverage" if r.kind == "coverage" else ""
            parts.append(
                f"{r.person}: `workbench ack {self.contract} --notice {self.number}{flag}`"
            )
        return "; ".join(parts)

    def finding(self) -> str | None:
        """The finding an overdue acknowledgement raises, naming the escalation person."""
        overdue = [r for r in self.requirements if r.state == "overdue"]
        if not overdue or self.now is None:
            return None
        who = ", ".join(sorted({r.person for r in overdue}))
        first = min(r.deadline for r in overdue if r.deadline is not None)
        return (
            f"notice {self.id} ({self.short}, {self.summary!r}) is unacknowledged by {who}, "
            f"{relative(first, self.now).removesuffix(' ago')} past its {self.ack_window} window: "
            f"escalate to {self.escalation}"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "contract": self.contract,
            "number": self.number,
            "commit": self.commit,
            "time": iso(self.time),
            "author": self.author,
            "author_name": self.author_name,
            "summary": self.summary,
            "classification": self.classification,
            "assertion_change": self.assertion_change,
            "state": self.state,
            "deadline": iso(self.deadline),
            "ack_window": self.ack_window,
            "recipients": self.recipients,
            "requirements": [r.to_json() for r in self.requirements],
            "changes": [c.to_json() for c in self.changes],
            "escalation": self.escalation,
            "action": self.action,
            "finding": self.finding(),
            "ignored": self.ignored,
        }


# (contract id, older version, newer version) -> their term-level comparison
Compare = Callable[[str, ContractVersion, ContractVersion], ContractComparison]


def _author(state: GovernanceState, version: ContractVersion) -> str | None:
    matches = state.people_with_email(version.author_email)
    return matches[0] if len(matches) == 1 else None


def recipients_for(state: GovernanceState, contract: Contract, author: str | None) -> list[str]:
    provider, consumer = contract.parties.provider_lead, contract.parties.consumer_lead
    team = state.people[author].team if author in state.people else None
    if team == contract.seam.provider:
        leads = [consumer]
    elif team == contract.seam.consumer:
        leads = [provider]
    else:
        leads = [provider, consumer]
    out = [p for p in dict.fromkeys([*leads, *contract.change_protocol.notify]) if p != author]
    return out


def _coverage_people(
    contract: Contract, items: list[ChangeItem], old: Contract | None
) -> list[str]:
    people = []
    terms = {t.id: t for t in contract.terms}
    old_terms = {t.id: t for t in old.terms} if old else {}
    for item in items:
        if not item.assertion:
            continue
        term_id = item.where.removeprefix("term ").split(" ", 1)[0]
        term = terms.get(term_id) or old_terms.get(term_id)
        if term is None:
            continue
        lead = getattr(term, "engineering_lead", None) or term.owner
        people.append(lead)
    return list(dict.fromkeys(people))


# An acknowledgement names its change by commit id, abbreviated to no fewer characters than
# its file name carries (`ack_path`).
ACK_COMMIT_MIN = 12


def acknowledges(ack: AckRecord, commit: str) -> bool:
    """Whether `ack` acknowledges the change made in `commit`: it names that commit's id,
    in full or abbreviated to at least ``ACK_COMMIT_MIN`` characters. A shorter prefix
    matched every change whose id starts with it (an empty one, every change), and resolves
    to no single commit to bound the acknowledgement's time from below, so one signed record
    acknowledged on time every later change, ones that did not exist yet included."""
    return len(ack.commit) >= ACK_COMMIT_MIN and commit.startswith(ack.commit)


def _ack_for(acks: list[AckRecord], commit: str, person: str, coverage: bool) -> AckRecord | None:
    for ack in acks:
        if ack.person != person or not acknowledges(ack, commit):
            continue
        if coverage and not ack.coverage_confirmed:
            continue
        return ack
    return None


def notices_for(
    state: GovernanceState,
    hist: ContractHistory,
    records: Records,
    now: datetime,
    *,
    approved: bool | None,
    signatures_required: bool,
    current: Contract | None,
    compare: Compare | None = None,
) -> list[Notice]:
    defaults = state.policy.defaults
    acks = records.acks.get(hist.contract_id, [])
    out: list[Notice] = []
    previous: ContractVersion | None = None
    number = 0
    for version in hist.versions:
        if previous is None or previous.deleted:
            previous = version
            continue
        if version.deleted or version.contract is None or previous.contract is None:
            previous = version
            continue
        number += 1
        old, new = previous.contract, version.contract
        comparison = (
            compare(hist.contract_id, previous, version) if compare else compare_contracts(old, new)
        )
        sql_dirs = {t.id: getattr(t, "direction", "") for t in new.terms if t.kind == "sql"}
        classification, items = classify(comparison, defaults, sql_dirs)
        author = _author(state, version)
        contract_now = current or new
        # The contract's own window, else the repo's default (never a built-in one), and
        # never beyond the signed limit: stretching it later cannot move a deadline back.
        window = state.policy.window("ack_window", new.change_protocol.ack_window)
        deadline = window.add_to(version.time)
        recipients = recipients_for(state, new, author)
        reqs: list[Requirement] = []
        ignored: list[str] = []
        if classification == "loosening":
            reqs.append(
                Requirement(
                    "cosign",
                    "both leads",
                    None,
                    "unknown" if approved is None else ("done" if approved else "waiting"),
                )
            )
        if classification == "tightening":
            for person in recipients:
                reqs.append(
                    _requirement(
                        "ack",
                        person,
                        deadline,
                        acks,
                        version,
                        now,
                        signatures_required,
                        ignored,
                        state,
                        author,
                    )
                )
        if any(i.assertion for i in items):
            for person in _coverage_people(new, items, old):
                reqs.append(
                    _requirement(
                        "coverage",
                        person,
                        deadline,
                        acks,
                        version,
                        now,
                        signatures_required,
                        ignored,
                        state,
                        author,
                    )
                )
        out.append(
            Notice(
                hist.contract_id,
                number,
                version.commit,
                version.time,
                author,
                version.author_name,
                version.summary,
                classification,
                items,
                recipients if classification != "editorial" else [],
                reqs,
                contract_now.escalation.primary,
                str(window),
                now,
                ignored,
            )
        )
        previous = version
    return out


def _requirement(
    kind: RequirementKind,
    person: str,
    deadline: datetime,
    acks: list[AckRecord],
    version: ContractVersion,
    now: datetime,
    signatures_required: bool,
    ignored: list[str],
    state: GovernanceState,
    author: str | None,
) -> Requirement:
    candidates = []
    for ack in acks:
        if ack.person != person or not acknowledges(ack, version.commit):
            continue
        if ack.signature == "invalid":
            ignored.append(f"{ack.path}: the signature does not verify")
            continue
        if ack.signature == "unsigned" and signatures_required:
            ignored.append(f"{ack.path}: not signed")
            continue
        if ack.signer != person:
            why = delegation_problem(state, ack.signer, person, ack.acknowledged)
            if why is None and ack.signer == author:
                why = f"{ack.signer} made this change and cannot acknowledge it for {person}"
            if why is not None:
                ignored.append(f"{ack.path}: {why}")
                continue
        candidates.append(ack)
    record = _ack_for(candidates, version.commit, person, coverage=kind == "coverage")
    if record is not None:
        met: RequirementState = "done" if record.acknowledged < deadline else "late"
        return Requirement(kind, person, deadline, met, record)
    return Requirement(kind, person, deadline, "overdue" if now >= deadline else "pending")


def change_notices(
    state: GovernanceState,
    history: History,
    records: Records,
    now: datetime,
    *,
    approved: Mapping[str, bool | None] | None = None,
    signatures_required: bool = False,
    compare: Compare | None = None,
) -> list[Notice]:
    """Every notice of every contract, oldest first within each contract.

    `compare` replaces `compare_contracts` of two consecutive versions (the service passes
    one that remembers comparisons across runs).
    """
    approved = approved or {}
    out: list[Notice] = []
    for cid, hist in sorted(history.items()):
        doc = state.contracts.get(cid)
        out += notices_for(
            state,
            hist,
            records,
            now,
            approved=approved.get(cid),
            signatures_required=signatures_required,
            current=doc.contract if doc else None,
            compare=compare,
        )
    return out


def find_notice(notices: list[Notice], contract: str, ref: str | None) -> Notice | None:
    """By number (``3``), commit prefix (``1a2b3c4d``), or the oldest pending one."""
    mine = [n for n in notices if n.contract == contract]
    if ref is None:
        return next((n for n in mine if n.pending), None)
    if ref.isdigit() and len(ref) < 6:
        return next((n for n in mine if n.number == int(ref)), None)
    matches = [n for n in mine if n.commit.startswith(ref.lower())]
    return matches[0] if len(matches) == 1 else None
