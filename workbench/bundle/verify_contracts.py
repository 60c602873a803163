"""Check 6 of ``verify-bundle`` (see ``workbench.bundle.verify``): every contract version in
the bundle, from its own bytes and the registry chain.

Per version, in order: the statement (id, version, repository, the link to the version
before, the registry version it names), the subject digest against the shipped contract
bytes, every signature file as the principal its name claims (``signature_report``: in the
registry head, else historic in an earlier version, never with a key the head revokes), and
the required signers recomputed and compared with required.json. The head version's verdict
is the signing room's ``contract_verdict``, the rule the repository uses.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.bundle import layout as bl
from workbench.bundle.archive import BundleFormatError
from workbench.bundle.report import BundleReport, ContractReport, SignatureReport, VersionReport
from workbench.signing import registry as reg
from workbench.signing.attestation import verify_attestation
from workbench.signing.canonical import CanonicalError, strict_loads
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    Statement,
    StatementError,
    parse_statement,
    sha256_hex,
)

if TYPE_CHECKING:
    from workbench.model.contract import Contract
    from workbench.model.people import PeopleFile
    from workbench.model.settings import Policy as ApprovalPolicy

_VERSION_DIR = re.compile(r"v([1-9][0-9]{0,6})/")
_VERSION_CONTRACT = re.compile(r"v[1-9][0-9]{0,6}/contract\.toml")
_REGISTRY_VERSION = re.compile(r"v(\d+)")


def _registry_version(path: str) -> int | None:
    """N of a `registry/vN...` path (None: a registry path of no version, in no view)."""
    m = _REGISTRY_VERSION.match(path.removeprefix(reg.REGISTRY_DIR))
    return int(m.group(1)) if m else None


class Registries:
    """Registry objects for every accepted version (for historic signature checks)."""

    def __init__(
        self,
        vfiles: dict[str, bytes],
        repository: str,
        domain: str,
        find_blob: Callable[[str, str], bytes | None],
        head: reg.Registry,
    ) -> None:
        self.vfiles = vfiles
        self.repository = repository
        self.domain = domain
        self.find_blob = find_blob
        self.head = head
        self.cache: dict[int, reg.Registry | None] = {}
        self.statements: dict[int, Statement | None] = {}
        self.state: reg.RegistryState | None = None

    def at(self, version: int, head: reg.Registry) -> reg.Registry | None:
        if version == head.version:
            return head
        if version not in self.cache:
            keep = {
                p: d
                for p, d in self.vfiles.items()
                if not p.startswith(reg.REGISTRY_DIR)
                or ((v := _registry_version(p)) is not None and v <= version)
            }
            rs = reg.resolve_registry(keep, self.repository, self.domain, find_blob=self.find_blob)
            got = rs.head if rs.ok and rs.head and rs.head.version == version else None
            if got is not None:
                # Revocation applies at any time: the head's revoked keys count here too.
                got = dataclasses.replace(got, revoked=got.revoked | head.revoked)
            self.cache[version] = got
        return self.cache[version]

    def statement(self, version: int) -> Statement | None:
        """Registry ``version``'s statement as shipped (None when absent or unreadable)."""
        if version in self.statements:
            return self.statements[version]
        data = self.vfiles.get(f"{reg.REGISTRY_DIR}v{version}.statement.json")
        st = None
        if data is not None and version <= self.head.version:
            try:
                st = parse_statement(data, reg.REGISTRY_PREDICATE, subjects=len(reg.REGISTRY_FILES))
            except StatementError:
                st = None
        self.statements[version] = st
        return st

    def registry_state(self) -> reg.RegistryState:
        """The chain as the signing room's verdict reads it."""
        if self.state is None:
            statements = {}
            for v in range(1, self.head.version + 1):
                st = self.statement(v)
                if st is not None:
                    statements[v] = st
            self.state = reg.RegistryState(head=self.head, root_sha256=None, statements=statements)
        return self.state


def signature_report(
    name: str,
    principal: str,
    data: bytes,
    statement: bytes,
    namespace: str,
    head: reg.Registry,
    registries: Registries,
    from_version: int,
) -> SignatureReport:
    """Valid in the head (current), else in an earlier version >= from_version (historic)."""
    person = reg.person_of(principal)
    first_message = ""
    for version in range(head.version, max(from_version, 1) - 1, -1):
        registry = registries.at(version, head)
        if registry is None:
            continue
        result = verify_attestation(statement, {name: data}, namespace, registry, {person})
        check = result.checks[0] if result.checks else None
        if check is None:
            continue
        if check.invalid:
            return SignatureReport(name, principal, "invalid", check.message, version)
        if check.counts:
            if check.person != person:
                return SignatureReport(
                    name,
                    principal,
                    "invalid",
                    f"the file name says {principal}, the key is {check.person}'s",
                    version,
                )
            status = "valid" if version == head.version else "historic"
            msg = check.message + (
                "" if status == "valid" else f" (key in registry v{version}, not in the head)"
            )
            return SignatureReport(name, principal, status, msg, version)
        first_message = first_message or check.message
    return SignatureReport(
        name, principal, "invalid", first_message or "does not verify in any registry version"
    )


class _Signed:
    """What every contract is judged against: the registry head, the people and approval
    policy signed with each registry version, and the verification time."""

    def __init__(
        self,
        files: Mapping[str, bytes],
        registries: Registries,
        repository: str,
        namespace: str,
        now: datetime,
    ) -> None:
        self.files = files
        self.registries = registries
        self.head = registries.head
        self.repository = repository
        self.namespace = namespace
        self.now = now
        self._people: dict[int, PeopleFile | None] = {}

    def approval(self, version: int) -> ApprovalPolicy:
        """The approval policy signed with registry ``version`` (who must co-sign)."""
        from workbench.model.settings import Policy

        data = self.files.get(bl.registry_dir(version) + "policy.toml")
        return reg.parse_policy(data).approval if data is not None else Policy()

    def people(self, version: int) -> PeopleFile | None:
        """people.toml signed with registry ``version`` (None when not shipped)."""
        from workbench.signing.verdict import parse_people

        if version not in self._people:
            data = self.files.get(bl.registry_dir(version) + "people.toml")
            self._people[version] = parse_people(data) if data is not None else None
        return self._people[version]


def verify_contracts(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    registries: Registries,
    repository: str,
    namespace: str,
    now: datetime,
    step: Callable[[str, int, int], None],
    report: BundleReport,
) -> None:
    """6. Every contract bundle.json lists, and no contract folder it does not."""
    contracts_index = index.get("contracts")
    if not isinstance(contracts_index, dict):
        raise BundleFormatError("bundle.json lists no contracts")
    by_contract: dict[str, dict[str, bytes]] = {}
    for path in files:
        if path.startswith("contracts/"):
            _, cid, rel = path.split("/", 2)
            by_contract.setdefault(cid, {})[rel] = files[path]
    for stray in sorted(set(by_contract) - set(contracts_index)):
        report.add("contracts", "fail", f"contracts/{stray}/ is not in the signed index")
    signed = _Signed(files, registries, repository, namespace, now)
    total = len(contracts_index)
    for n, cid in enumerate(sorted(contracts_index)):
        if n % 50 == 0:
            step("contracts", n, total)
        report.contracts.append(
            verify_contract(cid, contracts_index[cid], by_contract.get(cid, {}), signed)
        )
    step("contracts", total, total)


class _ContractFiles:
    """One contract's folder in the bundle (paths relative to contracts/<id>/), parsed once."""

    def __init__(self, cid: str, cfiles: dict[str, bytes]) -> None:
        from workbench.signing.verdict import AttestationFiles

        self.cid = cid
        self.path = f"contracts/{cid}.toml"
        self.files = cfiles
        self.parsed: dict[bytes, Contract | None] = {}
        # Earlier versions by the digest their statements name: which change co-signers a
        # version needs depends on the last approved one (the exporter computed the same).
        self.by_sha = {
            sha256_hex(data): data
            for name, data in cfiles.items()
            if _VERSION_CONTRACT.fullmatch(name)
        }
        self.attestations = AttestationFiles()

    def collect(self, versions: set[int]) -> None:
        """Statements and signatures of ``versions`` as the signing room reads them."""
        af = self.attestations
        for version in sorted(versions):
            raw = self.files.get(f"v{version}/statement.json")
            if raw is not None:
                af.statements[version] = raw
            for name, data in self.files.items():
                m = bl.STATEMENT_SIG_RE.fullmatch(name.removeprefix(f"v{version}/"))
                if name.startswith(f"v{version}/") and m:
                    key = f"v{version}.{reg.person_of(m.group(1))}.sig"
                    af.sigs.setdefault(version, {})[key] = data

    def contract(self, data: bytes | None) -> Contract | None:
        from workbench.model.state import parse_contract

        if data is None:
            return None
        if data not in self.parsed:
            self.parsed[data] = parse_contract(self.path, data)
        return self.parsed[data]

    def version(self, sha: str) -> Contract | None:
        return self.contract(self.by_sha.get(sha))


def verify_contract(
    cid: str, entry: Any, cfiles: dict[str, bytes], signed: _Signed
) -> ContractReport:
    """One contract: its versions v1..head, each checked, and the head's verdict."""
    from workbench.signing.verdict import approval_baselines, contract_verdict

    out = ContractReport(cid, None, "draft", "")
    if not isinstance(entry, dict):
        out.problems.append("bundle.json entry is malformed")
        return out
    head_version = entry.get("head")
    if head_version is not None and (type(head_version) is not int or head_version < 1):
        # (True is not version 1, nor "1": VERIFY.sh's jq reads neither as a number)
        out.problems.append(f"bundle.json's head {head_version!r} is not a version number")
        head_version = None
    out.head = head_version
    present = {int(m.group(1)) for p in cfiles if (m := _VERSION_DIR.match(p))}
    expected = set(range(1, head_version + 1)) if head_version is not None else set()
    if present != expected:
        out.problems.append(
            f"versions present {sorted(present)}, the signed index says v1..v{head_version}"
        )
    current = _current(cid, entry, cfiles, out)
    out.current_changed = current is not None and head_version is not None
    cf = _ContractFiles(cid, cfiles)
    cf.collect(expected)
    head = signed.head
    head_people = signed.people(head.version)
    baselines = (
        approval_baselines(
            cf.attestations.statements,
            cf.attestations.sigs,
            max(expected, default=0),
            cf.version,
            head,
            head_people,
            signed.approval(head.version),
        )
        if head_people is not None
        else {}
    )
    # the head version's verdict, by the signing room's rules (its signature checks are
    # reused below, so each signature is verified once)
    verdict = None
    if head_version is not None:
        blob_now = current if current is not None else cfiles.get(f"v{head_version}/contract.toml")
        verdict = contract_verdict(
            cid,
            cf.contract(blob_now),
            blob_now,
            cf.attestations,
            signed.registries.registry_state(),
            signed.repository,
            signed.approval(head.version),
            now=signed.now,
            people=signed.people(head.version),
            load_version=cf.version,
        )
    head_checks = {c.file: c for c in verdict.checks} if verdict is not None else {}
    previous: Statement | None = None
    for version in sorted(expected):
        vr, st = _verify_version(
            cf, version, head_version, previous, head_checks, baselines.get(version), signed
        )
        out.versions.append(vr)
        if st is None:
            # An unreadable statement shows on the version only, as it always has: the
            # contract fails through the signed index (a listed file missing or changed)
            # and the next version's link.
            continue
        previous = st
        out.problems += [f"v{version}: {x}" for x in vr.problems]
    if verdict is None:
        out.state = "draft"
        out.reason = "never signed"
        if current is None and entry.get("current_sha256"):
            out.problems.append("current.toml is missing")
        return out
    out.state = verdict.state
    out.reason = verdict.reason
    if verdict.state == "invalid" and not out.problems:
        out.problems.append(verdict.reason)
    if entry.get("head_statement_sha256") != (
        out.versions[-1].statement_sha256 if out.versions else None
    ):
        out.problems.append("the head statement is not the one the signed index names")
    return out


def _current(
    cid: str, entry: dict[str, Any], cfiles: dict[str, bytes], out: ContractReport
) -> bytes | None:
    """The contract's current bytes when they differ from the head version (else None)."""
    prefix = f"contracts/{cid}/"
    current_rel = entry.get("current")
    current = (
        cfiles.get(current_rel.removeprefix(prefix))
        if isinstance(current_rel, str) and current_rel.startswith(prefix)
        else None
    )
    if current_rel and current is None:
        out.problems.append(f"{current_rel} is missing")
    return current


def _verify_version(
    cf: _ContractFiles,
    version: int,
    head_version: int | None,
    previous: Statement | None,
    head_checks: dict[str, Any],
    baseline: Any,
    signed: _Signed,
) -> tuple[VersionReport, Statement | None]:
    """One version: statement, signatures, required signers. Returns its report and its
    statement (None when the statement is missing or unreadable)."""
    vr = VersionReport(version)
    base = f"v{version}/"
    raw = cf.files.get(base + "statement.json")
    if raw is None:
        vr.problems.append("statement.json is missing")
        vr.state = "invalid"
        return vr, None
    try:
        st = parse_statement(raw, COSIGN_PREDICATE)
    except StatementError as exc:
        vr.problems.append(f"statement: {exc}")
        vr.state = "invalid"
        return vr, None
    vr.statement_sha256 = st.sha256
    vr.contract_sha256 = st.subject_sha256
    vr.registry_version = st.predicate.registry.version
    blob = cf.files.get(base + "contract.toml")
    vr.problems += _statement_problems(cf, st, version, previous, blob, signed)
    valid = _version_signatures(cf, st, version, head_version, head_checks, signed, vr)
    is_head = version == head_version
    people_version = signed.head.version if is_head else st.predicate.registry.version
    computed, blocked = _required(cf, blob, people_version, baseline, signed, vr)
    vr.required = computed
    vr.signed = sorted(signed.head.principal(x) for x in valid)
    vr.missing = sorted(set(computed) - set(vr.signed))
    if vr.problems:
        vr.state = "invalid"
    elif vr.missing or blocked:
        vr.state = "pending"
    else:
        vr.state = "approved"
    return vr, st


def _statement_problems(
    cf: _ContractFiles,
    st: Statement,
    version: int,
    previous: Statement | None,
    blob: bytes | None,
    signed: _Signed,
) -> list[str]:
    """The statement is this contract's version, links to the one before, names a registry
    version of the chain, and its subject digest is the shipped contract bytes."""
    problems = []
    p = st.predicate
    if st.subject_name != cf.path or p.contract.id != cf.cid:
        problems.append(f"the statement is for {p.contract.id} ({st.subject_name})")
    if p.contract.version != version:
        problems.append(f"the statement says version {p.contract.version} (swapped?)")
    if p.repository != signed.repository:
        problems.append(f"the statement is for repository {p.repository}")
    link = p.contract.previous
    if version == 1 and link is not None:
        problems.append("v1 names a previous version")
    if version > 1 and (
        previous is None
        or link is None
        or link.version != version - 1
        or link.statementSha256 != previous.sha256
    ):
        problems.append(f"does not name v{version - 1} as previous (forked chain)")
    reg_st = signed.registries.statement(p.registry.version)
    if reg_st is None or reg_st.sha256 != p.registry.statementSha256:
        problems.append(f"names registry v{p.registry.version} with a digest not in the chain")
    if blob is None:
        problems.append("contract.toml is missing")
    elif sha256_hex(blob) != st.subject_sha256:
        problems.append("contract.toml does not match the statement's subject digest")
    return problems


def _version_signatures(
    cf: _ContractFiles,
    st: Statement,
    version: int,
    head_version: int | None,
    head_checks: dict[str, Any],
    signed: _Signed,
    vr: VersionReport,
) -> dict[str, int]:
    """Every signature file verifies as the principal its name claims. Returns the people
    whose signature counts, with the registry version their key is in."""
    base = f"v{version}/"
    head = signed.head
    sigs = {
        name.removeprefix(base): data
        for name, data in cf.files.items()
        if name.startswith(base) and name.endswith(".sig")
    }
    valid: dict[str, int] = {}
    for name in sorted(sigs):
        m = bl.STATEMENT_SIG_RE.fullmatch(name)
        if not m:
            vr.problems.append(f"{name}: not a signature file name")
            continue
        principal = m.group(1)
        person = reg.person_of(principal)
        known = head_checks.get(f"v{version}.{person}.sig") if version == head_version else None
        if known is not None and known.counts and known.person == person:
            sr = SignatureReport(name, principal, "valid", known.message, head.version)
        else:
            sr = signature_report(
                name,
                principal,
                sigs[name],
                st.raw,
                signed.namespace,
                head,
                signed.registries,
                st.predicate.registry.version,
            )
        vr.signatures.append(sr)
        if sr.status == "invalid":
            vr.problems.append(f"{name}: {sr.message}")
        else:
            valid[person] = sr.registry_version or 0
    return valid


def _required(
    cf: _ContractFiles,
    blob: bytes | None,
    people_version: int,
    baseline: Any,
    signed: _Signed,
    vr: VersionReport,
) -> tuple[list[str], list[str]]:
    """The required signers recomputed from the contract, people.toml and the approval
    policy, compared with the exporter's required.json. Returns (principals, blocked)."""
    from workbench.signing.verdict import required_signers

    base = f"v{vr.version}/"
    contract = cf.contract(blob)
    people = signed.people(people_version)
    computed: list[str] = []
    blocked: list[str] = []
    if contract is not None and people is not None:
        req = required_signers(contract, people, signed.approval(people_version), baseline)
        computed = sorted(signed.head.principal(x) for x in req.roles)
        blocked = list(req.blocked)
    else:
        blocked = ["the required signers cannot be computed (contract invalid)"]
    try:
        shipped = strict_loads(cf.files.get(base + "required.json", b""), 1 << 20)
    except CanonicalError as exc:
        shipped = None
        vr.problems.append(f"required.json: {exc}")
    if isinstance(shipped, dict) and (
        sorted(shipped.get("required", [])) != computed
        or list(shipped.get("blocked", [])) != blocked
    ):
        vr.problems.append(
            "required.json disagrees with the signers computed from the contract, "
            f"people.toml v{people_version} and the policy ({', '.join(computed)})"
        )
    return computed, blocked
