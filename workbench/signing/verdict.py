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
registry head says), every ``cosigners`` entry, and the compliance team's lead when
the contract has a term of a ``compliance_term_kinds`` kind.

``no_self_approval`` (keys/policy.toml [approval], signed with the registry): the compliance sign-off must be
independent of the parties. When the compliance lead is also a party lead of the
contract, their one signature counts for their side only, and the compliance
requirement is met only by a compliance-team member named in ``cosigners`` who is
not a party lead. Without such a co-signer the contract stays pending and says so.
With the policy off, one signature covers both roles.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from workbench.model.contract import Contract
from workbench.model.people import PeopleFile
from workbench.model.settings import Policy
from workbench.signing.attestation import AttestationResult, SignatureCheck, verify_attestation
from workbench.signing.registry import PEOPLE, RegistryState
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


def required_signers(contract: Contract, people: PeopleFile, policy: Policy) -> RequiredSigners:
    teams = {t.id: t for t in people.teams}
    members = {p.id: p for p in people.people}
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
) -> ContractVerdict:
    """The verdict for one contract at one revision (see the module docstring)."""
    files = files or AttestationFiles()
    v = ContractVerdict(contract_id, "draft", "")
    v.notes += [f"{p}: not a statement or signature file name; ignored" for p in files.odd]
    if blob is not None:
        v.current_sha256 = sha256_hex(blob)
    head = registry.head
    if head is not None and contract is not None:
        people = people or parse_people(head.files[PEOPLE])
        req = required_signers(contract, people, policy)
        v.required = {p: roles for p, roles in sorted(req.roles.items())}
        v.notes += req.notes
    else:
        req = RequiredSigners({})
    if registry.problems:
        # A registry that is rolled back, forked or not the one you trust says nothing
        # about anybody's key: no verdict of this repository can stand on it.
        v.state = "invalid"
        more = len(registry.problems) - 1
        v.reason = "cannot verify: " + registry.problems[0]
        v.reason += f" (and {more} more key registry problem(s))" if more else ""
        v.missing = sorted(v.required)
        return v
    if not files.statements:
        v.missing = sorted(v.required)
        v.reason = (
            "the contract does not validate; fix it before signing"
            if contract is None
            else "not signed yet: `workbench sign " + contract_id + "` creates v1"
        )
        return v
    if head is None or not registry.ok:
        v.state = "invalid"
        v.reason = "cannot verify: " + (
            "; ".join(registry.problems) or "the key registry has no signed version"
        )
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
    if result.invalid:
        bad = result.invalid[0]
        v.state = "invalid"
        v.reason = f"{bad.file}: {bad.message}"
        v.missing = sorted(result.missing)
        return v
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
        return v
    v.missing = sorted(result.missing)
    if approved_head:
        v.state = "approved"
        v.reason = f"v{top} approved by " + ", ".join(sorted(result.signed & set(v.required)))
        return v
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
    return v


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
            st = parse_statement(data, COSIGN_PREDICATE, subjects=1)
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
