"""The signature verdict of one contract: draft, pending, approved, stale or invalid.

* draft    - no statement for this contract yet;
* pending  - a statement exists but not every required signer has signed it
             (the verdict names who still has to sign);
* approved - every required signer signed the head statement, and its subject
             digest equals the sha256 of the contract blob in git;
* stale    - the contract bytes changed since the head statement was approved,
             or a signer of it is no longer authorised (key retired or expired,
             no longer the team lead);
* invalid  - a signature is bad, malformed, revoked or made for another purpose,
             or the statement chain is broken or forked, or the key registry itself
             has problems (rolled back, forked, not the pinned root): surfaced loudly.

Required signers: the leads of both party teams (as ``keys/people.toml`` of the
registry head says), every ``cosigners`` entry, the compliance team's lead when
the contract has a term of a ``compliance_term_kinds`` kind, and the ``change_cosigner``
of every term this version changes (adds, edits or removes) relative to the last
approved version: the co-signer named there, and the one named now if another. The
last approved version is found by walking the statement chain and judging each earlier
version with today's registry, people and policy (``approval_baselines``): a past approval
that no longer verifies moves the baseline back, so the change co-signer is asked for
more often, never less.

``no_self_approval`` (keys/policy.toml [approval], signed with the registry): the compliance sign-off must be
independent of the parties. When the compliance lead is also a party lead of the
contract, their one signature counts for their side only, and the compliance
requirement is met only by a compliance-team member named in ``cosigners`` who is
not a party lead. Without such a co-signer the contract stays pending and says so.
With the policy off, one signature covers both roles.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from workbench.model.contract import Contract
from workbench.model.people import PeopleFile, Person, Team
from workbench.model.settings import Policy
from workbench.signing.attestation import AttestationResult, SignatureCheck, verify_attestation
from workbench.signing.registry import PEOPLE, Registry, RegistryState
from workbench.signing.statement import COSIGN_PREDICATE, Statement, StatementError, parse_statement

VerdictState = Literal["draft", "pending", "approved", "stale", "invalid"]
ATTESTATIONS = "attestations/"
_STATEMENT_NAME = re.compile(r"v([1-9][0-9]{0,6})\.statement\.json")
_SIG_NAME = re.compile(r"v([1-9][0-9]{0,6})\.([a-z0-9][a-z0-9._-]*)\.sig")


def statement_path(contract_id: str, version: int) -> str:
    return f"{ATTESTATIONS}{contract_id}/v{version}.statement.json"


def sig_path(contract_id: str, version: int, person: str) -> str:
    return f"{ATTESTATIONS}{contract_id}/v{version}.{person}.sig"


@dataclass
class AttestationFiles:
    statements: dict[int, bytes] = field(default_factory=dict)
    sigs: dict[int, dict[str, bytes]] = field(default_factory=dict)
    odd: list[str] = field(default_factory=list)


def attestation_files(files: Mapping[str, bytes]) -> dict[str, AttestationFiles]:
    """``attestations/<id>/v<N>.statement.json`` and ``v<N>.<person>.sig``, per contract."""
    out: dict[str, AttestationFiles] = {}
    for path, data in files.items():
        if not path.startswith(ATTESTATIONS):
            continue
        contract_id, _, name = path.removeprefix(ATTESTATIONS).partition("/")
        if not contract_id or "/" in name:
            continue
        entry = out.setdefault(contract_id, AttestationFiles())
        if m := _STATEMENT_NAME.fullmatch(name):
            entry.statements[int(m.group(1))] = data
        elif m := _SIG_NAME.fullmatch(name):
            entry.sigs.setdefault(int(m.group(1)), {})[name] = data
        else:
            entry.odd.append(path)
    return out


@dataclass
class RequiredSigners:
    roles: dict[str, list[str]]  # person -> roles on this contract
    notes: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # requirements nobody can meet yet


def parse_people(data: bytes) -> PeopleFile:
    return PeopleFile.model_validate(tomllib.loads(data.decode("utf-8")))


# sha256 of a version's contract bytes -> that version, parsed and validated (None: unknown
# or invalid). The repository reads it from git history, a bundle from its own files.
LoadVersion = Callable[[str], Contract | None]


def change_cosigners(contract: Contract, approved: Contract | None) -> dict[str, list[str]]:
    """{person: roles}: the change co-signer of every term `contract` adds, edits or removes
    relative to `approved` (the last approved version; None: nothing was approved yet, so
    every term is new). Both the co-signer the approved version names and the one named
    now must sign: otherwise a change could name its own co-signer."""
    old_terms = {t.id: t for t in approved.terms} if approved is not None else {}
    new_terms = {t.id: t for t in contract.terms}
    out: dict[str, list[str]] = {}
    for term_id in [*new_terms, *(t for t in old_terms if t not in new_terms)]:
        old, new = old_terms.get(term_id), new_terms.get(term_id)
        if old == new:
            continue
        for term in (old, new):
            person = getattr(term, "change_cosigner", None) if term is not None else None
            role = f"change co-signer of term {term_id}"
            if person and role not in out.get(person, []):
                out.setdefault(person, []).append(role)
    return out


def required_signers(
    contract: Contract,
    people: PeopleFile,
    policy: Policy,
    approved: Contract | None = None,
) -> RequiredSigners:
    """Who must sign this version; `approved` is the last approved version before it (see
    ``approval_baselines``), None when there is none."""
    teams, members = _people_index(people)
    out = RequiredSigners({})
    party_leads: set[str] = set()
    for side in ("provider", "consumer"):
        team_id = getattr(contract.seam, side)
        team = teams.get(team_id)
        if team is None:
            out.blocked.append(f"{side} team {team_id!r} is not in the registry's people.toml")
            continue
        named = getattr(contract.parties, f"{side}_lead")
        if named != team.lead:
            out.notes.append(
                f"the contract names {named} as {side} lead, but the lead of {team_id} "
                f"is {team.lead}: {team.lead} must sign"
            )
        out.roles.setdefault(team.lead, []).append(f"{side} lead ({team_id})")
        party_leads.add(team.lead)
    for person in contract.cosigners:
        out.roles.setdefault(person, []).append("co-signer")
    kinds = set(policy.compliance_term_kinds)
    if policy.compliance_team and any(t.kind in kinds for t in contract.terms):
        team = teams.get(policy.compliance_team)
        if team is None:
            out.blocked.append(f"compliance team {policy.compliance_team!r} is not defined")
        elif policy.no_self_approval and team.lead in party_leads:
            independent = [
                p
                for p in contract.cosigners
                if p not in party_leads
                and (m := members.get(p)) is not None
                and m.team == policy.compliance_team
            ]
            if independent:
                for p in independent:
                    out.roles[p].append("independent compliance sign-off")
            else:
                out.blocked.append(
                    f"no self-approval: {team.lead} leads a party of this seam and cannot also "
                    f"give its compliance sign-off; name another {policy.compliance_team} "
                    "member in cosigners"
                )
        else:
            out.roles.setdefault(team.lead, []).append(f"compliance lead ({team.id})")
    for person, roles in change_cosigners(contract, approved).items():
        out.roles.setdefault(person, []).extend(roles)
    return out


# The last people file indexed: every contract of a verdict set asks with the same one.
_indexed: tuple[PeopleFile, dict[str, Team], dict[str, Person]] | None = None


def _people_index(people: PeopleFile) -> tuple[dict[str, Team], dict[str, Person]]:
    global _indexed
    last = _indexed
    if last is None or last[0] is not people:
        last = (people, {t.id: t for t in people.teams}, {p.id: p for p in people.people})
        _indexed = last
    return last[1], last[2]


def _cosign_statement(raw: bytes) -> Statement:
    """`parse_statement` of a co-sign statement, once per process for the same bytes: the
    chain check and the version the current bytes are both read it (Statement is frozen)."""
    if type(raw) is not bytes:
        return parse_statement(raw, COSIGN_PREDICATE, subjects=1)  # it says what is wrong
    return _cosign_cached(raw)


@functools.lru_cache(maxsize=4096)
def _cosign_cached(raw: bytes) -> Statement:
    return parse_statement(raw, COSIGN_PREDICATE, subjects=1)


def approval_baselines(
    statements: Mapping[int, bytes],
    sigs: Mapping[int, Mapping[str, bytes]],
    upto: int,
    load: LoadVersion | None,
    head: Registry,
    people: PeopleFile,
    policy: Policy,
) -> dict[int, Contract | None]:
    """For each version 1..`upto`: the contract as last approved before it (None: none).

    Version k was approved when every signer it required (given its own baseline) has a
    signature over statement k that verifies with the registry head (key expiry is not
    applied: the question is whether it was approved, not whether it still is). Only
    versions whose bytes `load` finds and validates can be approved.
    """
    out: dict[int, Contract | None] = {}
    approved: Contract | None = None
    for version in range(1, upto + 1):
        out[version] = approved
        raw = statements.get(version)
        if version == upto or raw is None or load is None:
            continue
        try:
            statement = _cosign_statement(raw)
        except StatementError:
            continue
        contract = load(statement.subject_sha256)
        if contract is None:
            continue
        req = required_signers(contract, people, policy, approved)
        if req.blocked:
            continue
        result = verify_attestation(
            raw, sigs.get(version, {}), head.namespaces.contract, head, set(req.roles)
        )
        if not result.missing and not result.invalid:
            approved = contract
    return out


@dataclass
class ContractVerdict:
    contract_id: str
    state: VerdictState
    reason: str
    version: int | None = None
    statement_sha256: str | None = None
    subject_sha256: str | None = None
    current_sha256: str | None = None
    required: dict[str, list[str]] = field(default_factory=dict)
    signed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    checks: list[SignatureCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == "approved"

    def to_json(self) -> dict[str, object]:
        return {
            "contract": self.contract_id,
            "state": self.state,
            "reason": self.reason,
            "version": self.version,
            "statement_sha256": self.statement_sha256,
            "subject_sha256": self.subject_sha256,
            "current_sha256": self.current_sha256,
            "required": self.required,
            "signed": self.signed,
            "missing": self.missing,
            "signatures": [c.to_json() for c in self.checks],
            "notes": self.notes,
        }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def contract_verdict(
    contract_id: str,
    contract: Contract | None,
    blob: bytes | None,
    files: AttestationFiles | None,
    registry: RegistryState,
    repository: str,
    policy: Policy,
    *,
    now: datetime | None = None,
    people: PeopleFile | None = None,
    load_version: LoadVersion | None = None,
) -> ContractVerdict:
    """The verdict for one contract at one revision (see the module docstring), in steps:
    who must sign the current bytes; whether anything can be verified at all (the registry,
    a statement); the statement chain; the head version's signatures; the state they give.

    `load_version` finds earlier versions by the sha256 their statements name, to tell
    which change co-signers this version needs; without it no earlier version counts as
    approved (every change co-signer is required)."""
    files = files or AttestationFiles()
    v = ContractVerdict(contract_id, "draft", "")
    v.notes += [f"{p}: not a statement or signature file name; ignored" for p in files.odd]
    if blob is not None:
        v.current_sha256 = sha256_hex(blob)
    head = registry.head
    req = _required_now(v, contract, files, registry, policy, people, load_version)
    if _cannot_verify(v, contract_id, contract, files, registry) or head is None:
        return v
    chain, problem = _check_chain(contract_id, files.statements, repository, registry)
    if problem:
        v.state, v.reason = "invalid", problem
        return v
    top = max(chain)
    statement = chain[top]
    v.version = top
    v.statement_sha256 = statement.sha256
    v.subject_sha256 = statement.subject_sha256
    if contract is None or blob is None:
        changed = statement.subject_sha256 != v.current_sha256
        v.state = "stale" if changed else "pending"
        v.reason = (
            f"the contract changed after v{top} and does not validate; fix it and sign again"
            if changed
            else "the contract does not validate against the registry; fix it"
        )
        return v
    result = verify_attestation(
        statement.raw,
        files.sigs.get(top, {}),
        head.namespaces.contract,
        head,
        set(v.required),
        now=now,
    )
    v.checks = result.checks
    v.signed = sorted(result.signed)
    v.notes += _name_notes(result, top)
    _judge_signatures(v, statement, top, result, req)
    return v


def _required_now(
    v: ContractVerdict,
    contract: Contract | None,
    files: AttestationFiles,
    registry: RegistryState,
    policy: Policy,
    people: PeopleFile | None,
    load_version: LoadVersion | None,
) -> RequiredSigners:
    """Who must sign the current bytes (into ``v.required``), given the last version each
    change co-signer approved."""
    head = registry.head
    if head is None or contract is None:
        return RequiredSigners({})
    people = people or parse_people(head.files[PEOPLE])
    # The version the current bytes are: the head statement's, or the next one.
    top = max(files.statements, default=0)
    subject = _subject(files.statements.get(top))
    upto = top if top and subject == v.current_sha256 else top + 1
    baselines = approval_baselines(
        files.statements,
        files.sigs,
        upto,
        _current_first(load_version, v.current_sha256, contract),
        head,
        people,
        policy,
    )
    req = required_signers(contract, people, policy, baselines[upto])
    v.required = {p: roles for p, roles in sorted(req.roles.items())}
    v.notes += req.notes
    return req


def _cannot_verify(
    v: ContractVerdict,
    contract_id: str,
    contract: Contract | None,
    files: AttestationFiles,
    registry: RegistryState,
) -> bool:
    """Decide ``v`` when nothing can be verified: a registry with problems, no statement
    yet, no signed registry. Returns whether it did."""
    if registry.problems:
        # A registry that is rolled back, forked or not the one you trust says nothing
        # about anybody's key: no verdict of this repository can stand on it.
        v.state = "invalid"
        more = len(registry.problems) - 1
        v.reason = "cannot verify: " + registry.problems[0]
        v.reason += f" (and {more} more key registry problem(s))" if more else ""
        v.missing = sorted(v.required)
        return True
    if not files.statements:
        v.missing = sorted(v.required)
        v.reason = (
            "the contract does not validate; fix it before signing"
            if contract is None
            else "not signed yet: `workbench sign " + contract_id + "` creates v1"
        )
        return True
    if registry.head is None or not registry.ok:
        v.state = "invalid"
        v.reason = "cannot verify: " + (
            "; ".join(registry.problems) or "the key registry has no signed version"
        )
        return True
    return False


def _judge_signatures(
    v: ContractVerdict,
    statement: Statement,
    top: int,
    result: AttestationResult,
    req: RequiredSigners,
) -> None:
    """The state the head version's signatures give: invalid, stale (the bytes changed
    since, or a signer is no longer authorised), approved or pending."""
    if result.invalid:
        bad = result.invalid[0]
        v.state = "invalid"
        v.reason = f"{bad.file}: {bad.message}"
        v.missing = sorted(result.missing)
        return
    approved_head = not result.missing and not req.blocked
    no_longer = [c for c in result.checks if c.status in ("retired", "expired", "not-allowed")]
    no_longer += [c for c in result.checks if c.counts and c.person not in v.required]
    if statement.subject_sha256 != v.current_sha256:
        v.missing = sorted(v.required)
        if approved_head or no_longer:
            v.state = "stale"
            v.reason = (
                f"the contract changed after v{top} was approved; every required signer "
                f"must sign the new version (v{top + 1})"
            )
        else:
            v.state = "pending"
            v.reason = f"the contract changed since v{top}, which was never fully signed"
        return
    v.missing = sorted(result.missing)
    if approved_head:
        v.state = "approved"
        v.reason = f"v{top} approved by " + ", ".join(sorted(result.signed & set(v.required)))
        return
    waiting = ", ".join(v.missing + req.blocked)
    if no_longer:
        v.state = "stale"
        who = "; ".join(f"{c.person or c.file}: {c.message}" for c in no_longer)
        v.reason = (
            f"v{top} was signed by someone no longer authorised ({who}); waiting for {waiting}"
        )
    else:
        v.state = "pending"
        v.reason = f"v{top} waits for: {waiting}"


def _subject(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return _cosign_statement(raw).subject_sha256
    except StatementError:
        return None


def _current_first(
    load: LoadVersion | None, current: str | None, contract: Contract
) -> LoadVersion | None:
    """`load`, answering for the current bytes without asking it."""
    if load is None:
        return lambda sha: contract if sha == current else None
    return lambda sha: contract if sha == current else load(sha)


def _name_notes(result: AttestationResult, version: int) -> list[str]:
    notes = []
    for c in result.checks:
        if c.person is None:
            continue
        named = c.file.removeprefix(f"v{version}.").removesuffix(".sig")
        if named != c.person:
            notes.append(f"{c.file} holds a signature by {c.person}, not {named}")
    return notes


def _check_chain(
    contract_id: str,
    raw: Mapping[int, bytes],
    repository: str,
    registry: RegistryState,
) -> tuple[dict[int, Statement], str | None]:
    chain: dict[int, Statement] = {}
    path = f"contracts/{contract_id}.toml"
    previous: Statement | None = None
    for version in range(1, max(raw) + 1):
        data = raw.get(version)
        if data is None:
            return chain, f"statement v{version} is missing: the chain is broken"
        try:
            st = _cosign_statement(data)
        except StatementError as exc:
            return chain, f"v{version}.statement.json: {exc}"
        pred = st.predicate
        if pred.contract.id != contract_id or st.subject_name != path:
            return chain, f"v{version} is a statement for {pred.contract.id} ({st.subject_name})"
        if pred.contract.version != version:
            return chain, f"v{version}.statement.json says version {pred.contract.version}"
        if pred.repository != repository:
            return chain, f"v{version} was made for another repository ({pred.repository})"
        link = pred.contract.previous
        if previous is None and link is not None:
            return chain, "v1 must not name a previous version"
        if previous is not None and (
            link is None or link.version != version - 1 or link.statementSha256 != previous.sha256
        ):
            return chain, f"v{version} does not name v{version - 1} as previous (forked chain)"
        reg = registry.statements.get(pred.registry.version)
        if reg is None or reg.sha256 != pred.registry.statementSha256:
            return chain, (
                f"v{version} names registry v{pred.registry.version} with a digest "
                "that is not in the registry chain"
            )
        chain[version] = st
        previous = st
    return chain, None


def approval_of(rs: RegistryState | None) -> Policy:
    """The approval policy signed into the registry head (its defaults before the first)."""
    return rs.head.policy.approval if rs is not None and rs.head is not None else Policy()
