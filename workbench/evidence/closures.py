"""Closures and exemptions of violations as signed records, and the one rule deciding which
of them count (pure: file bytes, signature statuses and times in; decisions out).

Each act is its own file, named by violation, moment, person and act, so two clones never
write the same file:

    findings/closures/<violation>/<stamp>.<person>.resolve.toml          resolved, with a note
    findings/closures/<violation>/<stamp>.<person>.exempt-request.toml   reason, approver, expiry
    findings/closures/<violation>/<stamp>.<person>.exempt-approve.toml   the approver's yes

each with ``.statement.json`` and ``.sig`` beside it once the repository has a key registry
(predicate ``closure/v1``, review namespace). ``decide_closures`` is used by
``workbench violations``, the gate, the seam map, the OSCAL export and ``verify-bundle``.

What counts (docs/evidence.md, "Closing a violation"):

* every record: signed by its own person (unsigned only where the repository has no key
  registry), for the violation's contract and term, by someone still in the organisation,
  at a time that holds (``governance.record_time``);
* a resolution: counts from its time on;
* an exemption: a request (reason, expiry) AND an approval of that exact request (its
  sha256) by a person the signed policy names in ``[exemptions] approvers``, who is not the
  requester, not the owner of the violated term and not the person who caused it (who made
  the change the finding names). The expiry may be no later than ``max_days`` after the
  approval. A request alone, or an approval by anyone else, changes nothing;
* the legacy ``findings/closures.toml``: resolutions count only in a repository without a
  key registry; its exemptions never count (the approver signed nothing);
* a contract's ``[[exemptions]]``: only while the contract is approved (co-signed) at its
  current version, and for at most ``max_days`` after that version was committed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from workbench.evidence.checks import VIOLATING
from workbench.evidence.findings import Closure, Violation, violation_history
from workbench.governance.record_time import Placement, time_problem
from workbench.governance.records import (
    SigStatus,
    read_record_folder,
    stamp,
    text_field,
    time_field,
)
from workbench.model.findings import Run
from workbench.model.record_folders import CLOSURES_DIR

Act = Literal["resolve", "exempt-request", "exempt-approve"]
ACTS: tuple[str, ...] = ("resolve", "exempt-request", "exempt-approve")

_NAME = re.compile(
    r"(?P<violation>v-[0-9a-f]{10})/(?P<stamp>\d{8}T\d{6}Z)\.(?P<person>[a-z0-9][a-z0-9._-]*)"
    r"\.(?P<act>resolve|exempt-request|exempt-approve)\.toml"
)


def closure_record_path(violation: str, when: datetime, person: str, act: str) -> str:
    return f"{CLOSURES_DIR}{violation}/{stamp(when)}.{person}.{act}.toml"


def is_closure_record(path: str) -> bool:
    return path.startswith(CLOSURES_DIR) and path.endswith(".toml")


@dataclass(frozen=True)
class ClosureRecord:
    path: str
    sha256: str
    violation: str
    contract: str
    term: str
    person: str
    act: str
    recorded: datetime
    note: str = ""
    reason: str = ""
    approver: str | None = None
    expires: date | None = None
    request: str | None = None  # approve: the request's path
    request_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "violation": self.violation,
            "act": self.act,
            "person": self.person,
            "recorded": self.recorded.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "note": self.note,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat() if self.expires else None,
            "request": self.request,
        }


def closure_record_person(path: str) -> str | None:
    """The person a closure record is by, from its name (to check its signature)."""
    m = _NAME.fullmatch(path.removeprefix(CLOSURES_DIR))
    return m.group("person") if m else None


def parse_closure_records(files: Mapping[str, bytes]) -> tuple[list[ClosureRecord], list[str]]:
    """Every closure record under findings/closures/, and why others are unreadable."""
    return read_record_folder(
        files, CLOSURES_DIR, _NAME, "closure record", _closure_record, _closure_named
    )


def _closure_record(path: str, raw: bytes, data: dict[str, Any]) -> ClosureRecord:
    return ClosureRecord(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        violation=text_field(data, "violation"),
        contract=text_field(data, "contract"),
        term=text_field(data, "term"),
        person=text_field(data, "person"),
        act=text_field(data, "act"),
        recorded=time_field(data, "recorded"),
        note=str(data.get("note", "")),
        reason=str(data.get("reason", "")),
        approver=_optional(data, "approver"),
        expires=_date(data.get("expires")),
        request=_optional(data, "request"),
        request_sha256=_optional(data, "request_sha256"),
    )


def _closure_named(rec: ClosureRecord) -> dict[str, str]:
    return {"violation": rec.violation, "person": rec.person, "act": rec.act}


def _optional(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError(f"expires must be a date such as 2027-01-31, got {value!r}")


# --------------------------------------------------------------------------- authority


@dataclass(frozen=True)
class Authority:
    """Who may approve exemptions and for how long, from the signed registry policy."""

    approvers: frozenset[str]  # person ids, roles already resolved
    max_days: int = 90
    named: tuple[str, ...] = ()  # the policy's words, for messages


def resolve_approvers(
    entries: Iterable[str], compliance_team: str | None, team_leads: Mapping[str, str]
) -> frozenset[str]:
    """Person ids for the policy's `approvers`: ids, `compliance-lead`, `lead:<team>`."""
    from workbench.model.settings import resolve_role_entries

    return resolve_role_entries(entries, compliance_team, team_leads)


def caused_by(v: Violation) -> set[str]:
    """Who made the change the finding blames (e.g. the person who moved a threshold)."""
    out: set[str] = set()
    for finding in (v.first, v.last):
        for d in finding.get("details") or []:
            if isinstance(d, dict) and d.get("status") in (*VIOLATING, "fail"):
                who = d.get("changed_by")
                if isinstance(who, str) and who:
                    out.add(who)
    return out


def term_owner(v: Violation) -> str | None:
    owner = v.owner.get("id")
    return owner if isinstance(owner, str) else None


# --------------------------------------------------------------------------- the decision


@dataclass(frozen=True)
class ContractExemption:
    """A contract's [[exemptions]] entry, with what decides whether it counts."""

    contract: str
    term: str
    reason: str
    approver: str
    expires: date
    approved: bool  # the contract is co-signed at its current version
    signed: frozenset[str]  # whose signatures over that version count (the approver must)
    version_time: datetime | None  # commit time of the current version


@dataclass
class Decision:
    """What counts for one violation, and why the rest does not."""

    resolution: Closure | None = None
    exemption: Closure | None = None
    exemption_info: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)  # ignored or pending, for people


@dataclass
class ClosureVerdicts:
    decisions: dict[str, Decision] = field(default_factory=dict)  # by violation id
    # (contract, message) of records that claim something they cannot (bad signature,
    # signer or authority, impossible time): the gate's records_valid rule fails on them.
    flags: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # not about any known violation


@dataclass(frozen=True)
class ClosureInputs:
    records: list[ClosureRecord]
    signatures: Mapping[str, SigStatus]
    placements: Mapping[str, Placement]
    authority: Authority
    signatures_required: bool
    people_left: Callable[[str, date], bool]  # (person, day) -> had left by that day
    known_people: frozenset[str]
    now: datetime
    now_is_real: bool = True  # False: `now` was chosen (what-if), not read from the clock
    legacy: list[Closure] = field(default_factory=list)
    contract_exemptions: list[ContractExemption] = field(default_factory=list)


def _record_problem(
    rec: ClosureRecord, inp: ClosureInputs, v: Violation, answers: datetime | None, what: str
) -> tuple[str | None, bool]:
    """Why a record does not count (None: it may), and whether that is a flag."""
    sig = inp.signatures.get(rec.path, "unsigned")
    if rec.contract != v.contract or rec.term != v.term:
        return f"{rec.path}: names {rec.contract}/{rec.term}, not {v.contract}/{v.term}", True
    if sig == "invalid":
        return f"{rec.path}: the signature does not verify as {rec.person}", True
    if sig == "unsigned" and inp.signatures_required:
        return f"{rec.path}: not signed by {rec.person}", False
    if rec.person not in inp.known_people:
        return f"{rec.path}: {rec.person} is not a person in keys/people.toml", True
    if inp.people_left(rec.person, rec.recorded.date()):
        return f"{rec.path}: {rec.person} had left when this was recorded", True
    problem = time_problem(rec.recorded, inp.now, inp.placements.get(rec.path), answers, what)
    if problem is not None:
        # At a chosen `now`, a well-placed record after it is simply not made yet.
        future = not inp.now_is_real and rec.recorded > inp.now and not _placed_wrong(rec, inp)
        return f"{rec.path}: {problem}", not future
    return None, False


def _placed_wrong(rec: ClosureRecord, inp: ClosureInputs) -> bool:
    p = inp.placements.get(rec.path)
    return p is not None and time_problem(rec.recorded, rec.recorded, p) is not None


def resolutions(
    inp: ClosureInputs, opened: Mapping[str, Violation]
) -> tuple[list[Closure], dict[str, list[str]], list[tuple[str, str]]]:
    """The resolutions that count (as Closures for `violation_history`), notes per
    violation, flags. `opened`: the violations by id as known so far."""
    out: list[Closure] = []
    notes: dict[str, list[str]] = {}
    flags: list[tuple[str, str]] = []
    for rec in inp.records:
        if rec.act != "resolve":
            continue
        v = opened.get(rec.violation)
        if v is None:
            continue
        problem, flag = _record_problem(rec, inp, v, v.opened_at, "the violation it closes")
        if problem is None and not rec.note.strip():
            problem, flag = f"{rec.path}: a resolution needs a note", True
        if problem is not None:
            notes.setdefault(v.id, []).append(f"ignored {problem}")
            if flag:
                flags.append((v.contract, problem))
            continue
        out.append(
            Closure(v.id, v.contract, v.term, "resolved", rec.person, rec.recorded, note=rec.note)
        )
    if not inp.signatures_required:
        for c in inp.legacy:
            if c.action == "resolved" and c.violation in opened:
                out.append(c)
    return out, notes, flags


def decide_closures(
    inp: ClosureInputs,
    violations: list[Violation],
    today: date,
) -> ClosureVerdicts:
    """For each violation: the resolution and the exemption that count, and why others
    do not. `violations` come from `violation_history` folded with `resolutions`."""
    verdicts = ClosureVerdicts()
    by_id = {v.id: v for v in violations}
    resolved, notes, flags = resolutions(inp, by_id)
    verdicts.flags.extend(flags)
    for c in resolved:
        d = verdicts.decisions.setdefault(c.violation, Decision())
        if d.resolution is None or c.closed_at > d.resolution.closed_at:
            d.resolution = c
    for vid, items in notes.items():
        verdicts.decisions.setdefault(vid, Decision()).notes.extend(items)
    for rec in inp.records:
        if rec.violation not in by_id:
            verdicts.ignored.append(f"{rec.path}: no such violation")
    for c in inp.legacy:
        if c.violation not in by_id:
            continue
        d = verdicts.decisions.setdefault(c.violation, Decision())
        if c.action == "exempt":
            d.notes.append(
                f"ignored findings/closures.toml: an exemption claimed by {c.closed_by} naming "
                f"{c.approver}, who signed nothing (file exemptions with `workbench violations "
                "close --exempt`, approved with `workbench violations approve`)"
            )
        elif inp.signatures_required:
            d.notes.append(
                f"ignored findings/closures.toml: an unsigned resolution by {c.closed_by}; this "
                "repository has a key registry, so closures are signed records"
            )
    for v in violations:
        _decide_exemption(v, inp, verdicts, today)
    return verdicts


def _decide_exemption(
    v: Violation, inp: ClosureInputs, verdicts: ClosureVerdicts, today: date
) -> None:
    d = verdicts.decisions.setdefault(v.id, Decision())
    mine = [r for r in inp.records if r.violation == v.id]
    requests: dict[str, ClosureRecord] = {}
    for rec in mine:
        if rec.act != "exempt-request":
            continue
        problem, flag = _record_problem(rec, inp, v, v.opened_at, "the violation it exempts")
        if problem is None and not (rec.reason.strip() and rec.expires and rec.approver):
            problem, flag = f"{rec.path}: a request needs a reason, an approver and an expiry", True
        if problem is not None:
            d.notes.append(f"ignored {problem}")
            if flag:
                verdicts.flags.append((v.contract, problem))
            continue
        requests[rec.path] = rec
    owner, causers = term_owner(v), caused_by(v)
    candidates: list[tuple[Closure, dict[str, Any]]] = []
    approved_requests: set[str] = set()
    for rec in mine:
        if rec.act != "exempt-approve":
            continue
        request = requests.get(rec.request or "")
        answers = request.recorded if request else None
        problem, flag = _record_problem(rec, inp, v, answers, "the request it approves")
        if problem is None:
            problem, flag = _approval_problem(rec, request, owner, causers, inp.authority)
        if problem is not None:
            d.notes.append(f"ignored {problem}")
            if flag:
                verdicts.flags.append((v.contract, problem))
            continue
        assert request is not None and rec.expires is not None
        approved_requests.add(request.path)
        closure = Closure(
            v.id,
            v.contract,
            v.term,
            "exempt",
            request.person,
            rec.recorded,
            reason=request.reason,
            approver=rec.person,
            expires=rec.expires,
        )
        info = {
            "source": "closure",
            "reason": request.reason,
            "approver": rec.person,
            "expires": rec.expires.isoformat(),
            "closed_by": request.person,
            "approved_at": rec.recorded.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "request": request.path,
            "approval": rec.path,
        }
        candidates.append((closure, info))
    for path, request in requests.items():
        if path not in approved_requests:
            who = ", ".join(sorted(inp.authority.approvers - {request.person, owner} - causers))
            d.notes.append(
                f"pending: {path} (exemption requested by {request.person}, naming "
                f"{request.approver}) counts only once approved by an authorised approver "
                f"({who or 'none in the policy'}) with `workbench violations approve {v.id}`"
            )
    candidates += _contract_exemptions(v, inp, verdicts, d, owner, causers)
    if not candidates:
        return
    active = [c for c in candidates if c[0].expires is not None and c[0].expires >= today]
    pool = active or candidates
    best = max(pool, key=lambda c: (c[0].expires or date.min, c[0].closed_at))
    d.exemption, d.exemption_info = best


def _contract_exemptions(
    v: Violation,
    inp: ClosureInputs,
    verdicts: ClosureVerdicts,
    d: Decision,
    owner: str | None,
    causers: set[str],
) -> list[tuple[Closure, dict[str, Any]]]:
    """The contract's ``[[exemptions]]`` for this violation that count: the contract is
    approved at its current version, the approver it names signed that version and may
    approve (``approver_refusal``), and it ends within ``max_days`` of that version."""
    out: list[tuple[Closure, dict[str, Any]]] = []
    for ex in inp.contract_exemptions:
        if (ex.contract, ex.term) != (v.contract, v.term):
            continue
        info = {
            "source": "contract",
            "reason": ex.reason,
            "approver": ex.approver,
            "expires": ex.expires.isoformat(),
        }
        if not ex.approved:
            d.notes.append(
                f"ignored contracts/{ex.contract}.toml [[exemptions]] for {ex.term}: the contract "
                "is not approved (co-signed) at its current version"
            )
            continue
        refusal = approver_refusal(ex.approver, "", owner, causers, inp.authority)
        if refusal is not None or ex.approver not in ex.signed:
            why = (
                refusal_text(refusal, ex.approver, inp.authority)
                if refusal is not None
                else f"its approver {ex.approver} did not co-sign this version (name them in "
                "`cosigners` and have them sign: an exemption counts only when its approver "
                "signed it)"
            )
            d.notes.append(
                f"ignored contracts/{ex.contract}.toml [[exemptions]] for {ex.term}: {why}"
            )
            verdicts.flags.append(
                (v.contract, f"contracts/{ex.contract}.toml [[exemptions]] for {ex.term}: {why}")
            )
            continue
        limit = (ex.version_time or inp.now).date() + timedelta(days=inp.authority.max_days)
        if ex.expires > limit:
            d.notes.append(
                f"ignored contracts/{ex.contract}.toml [[exemptions]] for {ex.term}: expires "
                f"{ex.expires}, later than {inp.authority.max_days} days after the approved "
                f"version ({limit})"
            )
            continue
        out.append(
            (
                Closure(
                    v.id,
                    v.contract,
                    v.term,
                    "exempt",
                    ex.approver,
                    ex.version_time or inp.now,
                    reason=ex.reason,
                    approver=ex.approver,
                    expires=ex.expires,
                ),
                info,
            )
        )
    return out


ApproverRefusal = Literal["own-request", "owns-term", "caused", "no-authority"]


def approver_refusal(
    approver: str, requester: str, owner: str | None, causers: set[str], authority: Authority
) -> ApproverRefusal | None:
    """Why ``approver`` may not approve an exemption requested by ``requester`` of a
    violation of ``owner``'s term that ``causers`` caused (None: they may). The one rule:
    asked before an approval is written and when a written one is judged."""
    if approver == requester:
        return "own-request"
    if approver == owner:
        return "owns-term"
    if approver in causers:
        return "caused"
    if approver not in authority.approvers:
        return "no-authority"
    return None


def refusal_text(refusal: ApproverRefusal, person: str, authority: Authority) -> str:
    """An `approver_refusal` as the sentence a person reads."""
    if refusal == "own-request":
        return f"{person} cannot approve their own request"
    if refusal == "owns-term":
        return f"{person} owns the violated term and cannot approve its exemption"
    if refusal == "caused":
        return f"{person} caused the violation and cannot approve it"
    named = ", ".join(authority.named) or "nobody"
    return f"{person} has no authority to approve exemptions (the signed policy names: {named})"


def _approval_problem(
    rec: ClosureRecord,
    request: ClosureRecord | None,
    owner: str | None,
    causers: set[str],
    authority: Authority,
) -> tuple[str | None, bool]:
    if request is None:
        return f"{rec.path}: approves no valid request of this violation ({rec.request})", True
    if rec.request_sha256 != request.sha256:
        return f"{rec.path}: approves other bytes than {request.path} (sha256 differs)", True
    refusal = approver_refusal(rec.person, request.person, owner, causers, authority)
    if refusal is not None:
        return f"{rec.path}: {refusal_text(refusal, rec.person, authority)}", True
    if rec.expires is None or request.expires is None or rec.expires > request.expires:
        return f"{rec.path}: the approval's expiry must be the request's or earlier", True
    limit = rec.recorded.date() + timedelta(days=authority.max_days)
    if rec.expires > limit:
        return (
            f"{rec.path}: expires {rec.expires}, later than the policy's {authority.max_days} "
            f"days after approval ({limit})",
            True,
        )
    return None, False


def apply_decisions(violations: list[Violation], verdicts: ClosureVerdicts, today: date) -> None:
    """Set each violation's state from its decision (resolved > recovered > exempt > open)."""
    for v in violations:
        d = verdicts.decisions.get(v.id, Decision())
        v.notes = list(d.notes)
        v.closure, v.exemption, v.exemption_expired = None, None, False
        if d.resolution is not None:
            v.state, v.closure = "resolved", d.resolution
            continue
        if v.last.get("status") not in VIOLATING:
            v.state = "recovered"
            continue
        if d.exemption is not None and d.exemption_info is not None:
            expires = d.exemption.expires
            v.exemption = d.exemption_info
            if expires is not None and expires >= today:
                v.state = "exempt"
                v.closure = d.exemption if d.exemption_info["source"] == "closure" else None
                continue
            v.exemption_expired = True
        v.state = "open"


def fold_violations(
    runs: list[Run], inp: ClosureInputs, today: date
) -> tuple[list[Violation], ClosureVerdicts]:
    """The violation history with only the closures that count: the one verdict.

    A counting resolution splits an episode (a later failing run opens a new violation,
    with a new id that records may name), so the fold is repeated until it is stable.
    """
    resolved: list[Closure] = []
    history = violation_history(runs, resolved, {}, today)
    for _ in range(8):
        again, _notes, _flags = resolutions(inp, {v.id: v for v in history})
        if {(c.violation, c.closed_at) for c in again} == {
            (c.violation, c.closed_at) for c in resolved
        }:
            break
        resolved = again
        history = violation_history(runs, resolved, {}, today)
    verdicts = decide_closures(inp, history, today)
    apply_decisions(history, verdicts, today)
    return history, verdicts
