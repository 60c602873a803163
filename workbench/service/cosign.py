"""Co-signing a contract (``wb.signing.contracts``): what you would sign (the preview the
sign screen shows), signing the committed version as the acting person, and re-signing
the approvals a retired key left behind. Who must sign is the verdict's rule
(``workbench.signing.verdict``); see docs/signing.md.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.repo import layout
from workbench.service.errors import SigningRefused, UnknownContract
from workbench.signing import keys as keymod
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing.attestation import verify_attestation
from workbench.signing.errors import SigningError
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    ChainLink,
    ContractRef,
    CosignPredicate,
    parse_statement,
    sha256_hex,
    write_statement,
)
from workbench.signing.verdict import (
    ContractVerdict,
    RequiredSigners,
    approval_of,
    attestation_files,
    contract_verdict,
    parse_people,
    sig_path,
    statement_path,
)

if TYPE_CHECKING:
    from workbench.service.signing import SigningService

HEAD = "HEAD"


@dataclass
class SignPreview:
    """Everything the sign screen shows before asking for the passphrase."""

    contract_id: str
    person: str
    roles: list[str]
    version: int
    new_statement: bool
    statement: bytes
    statement_sha256: str
    contract_sha256: str
    last_signed_version: int | None
    diff: str  # unified diff from the version you last signed (or from nothing) to now
    already_signed: bool
    verdict: ContractVerdict


@dataclass
class SignResult:
    contract_id: str
    person: str
    version: int
    statement_sha256: str
    fingerprint: str
    commit: str | None  # None when nothing was committed (already signed)
    already_signed: bool = False
    verdict: ContractVerdict | None = None


class ContractSigning:
    def __init__(self, signing: SigningService) -> None:
        self._signing = signing
        self.wb = signing.wb

    def _context(self, contract_id: str, person: str):  # type: ignore[no-untyped-def]
        git = self.wb.git
        if git.is_empty:
            raise SigningRefused("the repository has no commits yet")
        path = layout.contract_path(contract_id)
        blob = git.blob_at(HEAD, path)
        if blob is None:
            raise UnknownContract(f"no committed contract {contract_id!r} (sign what is committed)")
        state, settings = self._signing.settings_at(HEAD)
        from workbench.service.validity import require_valid_contract

        doc = state.contracts.get(contract_id)
        if doc is None:
            require_valid_contract(self.wb, contract_id, "sign")
            raise SigningRefused(f"{path} does not validate at HEAD; fix it before signing")
        files = self._signing.files_at(HEAD)
        rs = self._signing.registry_state(HEAD, files)
        if rs.head is None and not rs.problems and rs.pending is not None:
            raise SigningRefused(
                f"cannot sign yet: key registry v{rs.pending.version} is not signed yet: it "
                f"waits for {', '.join(rs.pending.missing) or 'its admins'} "
                "(`workbench registry sign` in their clone; `workbench registry` shows it)"
            )
        if not rs.ok or rs.head is None:
            raise SigningRefused(
                "cannot sign: the key registry is not usable: "
                + ("; ".join(rs.problems) or "it has no signed version yet (workbench registry)")
            )
        people = parse_people(rs.head.files[reg.PEOPLE])
        verdict = contract_verdict(
            contract_id,
            doc.contract,
            blob,
            attestation_files(files).get(contract_id),
            rs,
            settings.org.repository_id,
            approval_of(rs),
            now=self.wb.now,
            people=people,
            load_version=self._signing.version_loader(contract_id),
        )
        # The verdict's required signers include the change co-signers of this version.
        required = RequiredSigners({p: list(roles) for p, roles in verdict.required.items()})
        if person not in required.roles:
            raise SigningRefused(
                f"{person} is not a required signer of {contract_id} "
                f"(required: {', '.join(sorted(required.roles)) or 'nobody'})"
                + _not_yet_in_force(person, doc.contract, state, rs)
            )
        require_valid_contract(self.wb, contract_id, "sign")
        if verdict.state == "invalid":
            raise SigningRefused(f"{contract_id} has an invalid attestation: {verdict.reason}")
        af = attestation_files(files).get(contract_id)
        current = sha256_hex(blob)
        if verdict.version is not None and verdict.subject_sha256 == current:
            version, new = verdict.version, False
            statement = af.statements[version] if af else b""
        else:
            version = (verdict.version or 0) + 1
            new = True
            previous = None
            if verdict.version is not None and verdict.statement_sha256:
                previous = ChainLink(
                    version=verdict.version, statementSha256=verdict.statement_sha256
                )
            predicate = CosignPredicate(
                repository=settings.org.repository_id,
                contract=ContractRef(id=contract_id, version=version, previous=previous),
                registry=rs.head.link(),
                decision="approve",
            )
            statement = write_statement(COSIGN_PREDICATE, path, current, predicate)
        return rs.head, required, verdict, af, version, new, statement, blob

    def preview(self, contract_id: str, person: str | None = None) -> SignPreview:
        person = person or self.wb.actor().id
        head, required, verdict, af, version, new, statement, blob = self._context(
            contract_id, person
        )
        already = (
            not new
            and any(c.counts and c.person == person for c in verdict.checks)
            and verdict.version == version
        )
        last = None
        last_blob = b""
        if af is not None:
            for v in sorted(af.sigs, reverse=True):
                if f"v{v}.{person}.sig" in af.sigs[v] and v in af.statements:
                    last = v
                    try:
                        st = parse_statement(af.statements[v], COSIGN_PREDICATE)
                        last_blob = (
                            self._signing.find_blob(
                                layout.contract_path(contract_id), st.subject_sha256
                            )
                            or b""
                        )
                    except SigningError:
                        last_blob = b""
                    break
        path = layout.contract_path(contract_id)
        diff = "".join(
            difflib.unified_diff(
                last_blob.decode("utf-8", "replace").splitlines(keepends=True),
                blob.decode("utf-8", "replace").splitlines(keepends=True),
                f"a/{path} (v{last} you signed)" if last else "a/(nothing signed yet)",
                f"b/{path} (v{version}, to sign)",
            )
        )
        return SignPreview(
            contract_id=contract_id,
            person=person,
            roles=required.roles[person],
            version=version,
            new_statement=new,
            statement=statement,
            statement_sha256=sha256_hex(statement),
            contract_sha256=sha256_hex(blob),
            last_signed_version=last,
            diff=diff,
            already_signed=already,
            verdict=verdict,
        )

    def _not_committed(self, contract_id: str, path: str, draft: bool) -> None:
        """Why there is nothing to sign: a draft never committed, or no such contract."""
        if draft:
            raise SigningRefused(
                f"{path} is not committed yet: you sign what is committed; fill in what "
                f"`workbench validate` lists, then `workbench contract save {contract_id}`"
            )
        from workbench.model.suggest import did_you_mean

        known = [
            p.removeprefix("contracts/").removesuffix(".toml")
            for p in self._signing.files_at(HEAD)
            if p.startswith("contracts/") and p.endswith(".toml")
        ]
        raise UnknownContract(f"no contract {contract_id!r}" + did_you_mean(contract_id, known))

    def sign(self, contract_id: str, signer: keymod.Signer) -> SignResult:
        """Co-sign the committed version of ``contract_id`` as the acting person; commit."""
        self.wb.require_writable("sign")
        actor = self.wb.actor()
        person = actor.id
        path = layout.contract_path(contract_id)
        worktree, committed = self.wb.git.blob_at("WORKTREE", path), self.wb.git.blob_at(HEAD, path)
        if committed is None:
            self._not_committed(contract_id, path, worktree is not None)
        if worktree != committed:
            raise SigningRefused(
                f"{path} has uncommitted changes: you sign what is committed; "
                "save or discard your edits first"
            )
        head, required, verdict, af, version, new, statement, _blob = self._context(
            contract_id, person
        )
        key = head.lookup(signer.public_key)
        fpr = sshsig.fingerprint(signer.public_key)
        if signer.public_key in head.revoked:
            raise SigningRefused(f"key {fpr} is revoked; sign with your new key")
        if key is None or key.person != person:
            owner = f" (it belongs to {key.person})" if key else ""
            raise SigningRefused(
                f"key {fpr} is not {person}'s key in registry v{head.version}{owner}; "
                f"add it with `workbench registry add-key {person} KEY.pub`"
            )
        sig_name = sig_path(contract_id, version, person)
        if not new and af is not None:
            existing = af.sigs.get(version, {}).get(sig_name.rsplit("/", 1)[1])
            if existing is not None:
                check = verify_attestation(
                    statement,
                    {"existing": existing},
                    head.namespaces.contract,
                    head,
                    {person},
                    now=self.wb.now,
                )
                if check.signed == {person} and check.checks[0].fingerprint == fpr:
                    return SignResult(
                        contract_id,
                        person,
                        version,
                        sha256_hex(statement),
                        fpr,
                        None,
                        True,
                        verdict,
                    )
        armored = signer.sign(statement, head.namespaces.contract)
        check = verify_attestation(
            statement, {"new": armored}, head.namespaces.contract, head, {person}, now=self.wb.now
        )
        if check.signed != {person}:
            raise SigningRefused(f"the new signature does not verify: {check.checks[0].message}")
        changes: dict[str, bytes | None] = {sig_name: armored}
        if new:
            changes[statement_path(contract_id, version)] = statement
        roles = ", ".join(required.roles[person])
        message = (
            f"Co-sign {contract_id} v{version}\n\n"
            f"{actor.name} signs as {roles} with key {fpr}.\n"
            f"Statement sha256: {sha256_hex(statement)}\n"
            f"Contract sha256: {sha256_hex(_blob)}\n"
        )
        commit = self.wb.commit(changes, message, signer=signer)
        return SignResult(
            contract_id,
            person,
            version,
            sha256_hex(statement),
            fpr,
            commit,
            False,
            self._signing.verdict(contract_id),
        )

    def reattest_candidates(self, person: str | None = None) -> list[str]:
        """Contracts whose current version this person signed with a key that no longer counts."""
        person = person or self.wb.actor().id
        out = []
        for v in self._signing.verdicts(HEAD):
            if person not in v.required or person in v.signed or v.version is None:
                continue
            if v.subject_sha256 != v.current_sha256:
                continue
            if any(c.status == "retired" and c.person == person for c in v.checks):
                out.append(v.contract_id)
        return out

    def reattest(self, signer: keymod.Signer) -> list[SignResult]:
        """Re-sign, with ``signer`` (your new key), every current approval of yours that lapsed."""
        return [self.sign(cid, signer) for cid in self.reattest_candidates()]


def _not_yet_in_force(person: str, contract: Any, state: Any, rs: Any) -> str:
    """Why a lead by the working people.toml is not (yet) a signer: the registry in force
    still names another lead (a new team, or a hand-over, not signed by the admins)."""
    seam = contract.seam
    leads = [
        t
        for t in (seam.provider, seam.consumer)
        if getattr(state.teams.get(t), "lead", None) == person
    ]
    if not leads or rs.head is None:
        return ""
    pending = rs.pending
    if pending is not None:
        missing = ", ".join(pending.missing) or "its admins"
        how = (
            f"the admins sign registry v{pending.version}, which carries it "
            f"(not yet signed by {missing}: `workbench registry sign`, each)"
        )
    else:
        how = "a registry version carrying it is signed by the admins (`workbench registry sign`)"
    return (
        f". keys/people.toml makes {person} the lead of team {leads[0]}, but who signs is read "
        f"from the key registry in force (v{rs.head.version}): that counts once {how}"
    )
