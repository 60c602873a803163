"""Signed records (``wb.obligations.records``): reviews, acknowledgements and receipts as
they count, the key registry they are signed under, and writing one.

A record counts when its signature verifies for its person under the verified registry
head (``signing.record_statement`` says what the statement must say), its stated time
holds (``governance.record_time``), and a delegate who made it holds that delegation
(``governance.delegation``). The rules are those modules'; this one reads the files,
the registry and git's placements, and writes through ``Workbench.commit``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.governance.delegation import delegation_problem
from workbench.governance.records import (
    AckRecord,
    Records,
    ReviewRecord,
    SigStatus,
    parse_records,
    record_person,
    render,
)
from workbench.model.errors import WorkbenchError
from workbench.model.record_folders import SIGNED_RECORD_DIRS
from workbench.repo import layout
from workbench.service.errors import SettingsInvalid
from workbench.signing.record_statement import (
    check_record_statement,
    is_ack,
    predicate_type,
    record_predicate,
    sig_path_for,
    statement_path_for,
)
from workbench.signing.statement import write_statement

if TYPE_CHECKING:
    from workbench.model.state import GovernanceState
    from workbench.service.obligations import Obligations
    from workbench.signing.keys import Signer
    from workbench.signing.registry import Registry
    from workbench.signing.statement import ChainLink, StrictModel

HEAD = "HEAD"


class ObligationError(WorkbenchError):
    """A review, acknowledgement or answer the workbench refuses (shown as a message)."""


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


class SignedRecords:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb
        self._head: tuple[Registry | None] | None = None  # (verified head,) once looked up
        self.registry_problems: list[str] = []
        self._flags: list[tuple[str, str]] = []

    def forget(self) -> None:
        self._head = None
        self.registry_problems = []

    # -- the registry the records are signed under -----------------------------------------
    def registry(self) -> Registry | None:
        """The verified key registry head, or None when the repository has none (see
        ``registry_problems`` for one that does not verify)."""
        if self._head is None:
            head = None
            try:
                if not self.wb.git.is_empty:
                    rs = self.wb.signing.registry_state(HEAD)
                    head = rs.head if rs.ok else None
                    # A broken registry is not "no registry": acts are refused, not unsigned.
                    self.registry_problems = list(rs.problems)
            except ValueError as exc:  # e.g. a malformed trust root: refuse, never go unsigned
                head = None
                self.registry_problems = [str(exc)]
            except SettingsInvalid:
                head = None
            self._head = (head,)
        return self._head[0]

    def signatures_required(self) -> bool:
        """Signed acts are required once the repository has a verified key registry, and
        while it has one that does not verify (an unsigned act must not count then either)."""
        return self.registry() is not None or bool(self.registry_problems)

    def signature_status(
        self,
        files: Mapping[str, bytes],
        path: str,
        person: str,
        expect: Mapping[str, str] | None = None,
    ) -> SigStatus:
        """Whether the record at ``path`` is signed by ``person`` under the verified head:
        valid, over these bytes, with a statement that passes the one statement rule and
        whose predicate names ``expect`` (e.g. the delivery's key); unsigned, no statement
        nor signature; invalid, anything else. Every signed record is judged here."""
        statement = files.get(statement_path_for(path))
        sig = files.get(sig_path_for(path))
        if statement is None and sig is None:
            return "unsigned"
        head = self.registry()
        if head is None or statement is None or sig is None or path not in files:
            return "invalid"
        from workbench.signing.attestation import verify_attestation

        settings = self._o.state().settings
        repository = settings.org.repository_id if settings is not None else None
        st, _problem = check_record_statement(path, files[path], statement, repository)
        if st is None or st.predicate.person != person:
            return "invalid"
        if any(getattr(st.predicate, k, None) != v for k, v in (expect or {}).items()):
            return "invalid"
        ns = head.namespaces.ack if is_ack(path) else head.namespaces.review
        result = verify_attestation(statement, {"sig": sig}, ns, head, {person}, now=self.wb.now)
        return "valid" if result.signed == {person} and not result.invalid else "invalid"

    # -- the records that count ---------------------------------------------------------------
    def records(self, files: Mapping[str, bytes] | None = None) -> Records:
        """Reviews, acknowledgements and receipts; those whose time does not hold
        (`governance.record_time`) are left out and listed in `problems`."""
        files = self._o.files() if files is None else files
        statuses: dict[str, SigStatus] = {}
        for path in files:
            if path.endswith(".toml") and path.startswith(("reviews/", "acks/", "reports/")):
                person = record_person(path, files[path])
                if person is not None:
                    statuses[path] = self.signature_status(files, path, person)
        records = parse_records(files, statuses)
        self._check_times(records)
        return records

    def _check_times(self, records: Records) -> None:
        """Drop each record whose stated time breaks a bound; remember it as a flag."""
        from workbench.governance.record_time import SKEW, Placement, time_problem
        from workbench.governance.records import RecordProblem

        git = self.wb.git
        placed = git.placements(SIGNED_RECORD_DIRS) if not git.is_empty else {}
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
        history = self._o.history()
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
                        versions = self.version_times(cid)
                    answers = versions.get(r.contract_sha256)
                if judge(r.path, cid, r.completed, answers, "the contract version it reviews"):
                    kept.append(r)
            records.reviews[cid] = kept
        records.receipts = [
            r for r in records.receipts if judge(r.path, r.contract, r.received, None, "")
        ]
        state = self._o.state()
        groups: list[list[AckRecord] | list[ReviewRecord]] = [
            *records.acks.values(),
            *records.reviews.values(),
        ]
        for recs in groups:
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
        self._flags = flags

    def version_times(self, contract_id: str) -> dict[str, datetime]:
        """sha256 of each committed version of a contract -> when it was first committed."""
        import hashlib

        path = layout.contract_path(contract_id)
        out: dict[str, datetime] = {}
        hist = self._o.history().get(contract_id)
        for version in hist.versions if hist else []:
            data = self.wb.git.blob_at(version.commit, path)
            if data is not None:
                digest = hashlib.sha256(data).hexdigest()
                if digest not in out or version.time < out[digest]:
                    out[digest] = version.time
        return out

    def flags(self) -> dict[str, list[str]]:
        """Per contract: records that claim what they cannot (a signature that does not
        verify, a time that does not hold, a delegation that does not hold)."""
        self.records()
        out: dict[str, list[str]] = {}
        for contract, message in self._flags:
            out.setdefault(contract, []).append(message)
        return out

    # -- acting ---------------------------------------------------------------------------------
    def principal(
        self, state: GovernanceState, actor: str, on_behalf_of: str | None, act_name: str
    ) -> str:
        """Whose obligation the actor settles: their own, or (as delegate) the named person's."""
        if on_behalf_of is None or on_behalf_of == actor:
            return actor
        why = delegation_problem(state, actor, on_behalf_of, self.wb.now)
        if why is not None:
            raise ObligationError(f"{actor} cannot {act_name} for {on_behalf_of}: {why}")
        return on_behalf_of

    def write(
        self,
        path: str,
        fields: Mapping[str, Any],
        contract_id: str,
        person: str,
        act_name: str,
        message: str,
        signer: Signer | None,
    ) -> RecordResult:
        """Commit the review, acknowledgement, receipt or closure at ``path`` (see
        `sign_and_commit`)."""

        def predicate(repository: str, registry: ChainLink) -> StrictModel:
            return record_predicate(
                path,
                repository=repository,
                contract=contract_id,
                person=person,
                act=act_name,
                registry=registry,
            )

        commit, fingerprint = self.sign_and_commit(
            path, render(fields), person, predicate, message, signer
        )
        note = (
            f"signed by {person} ({fingerprint})"
            if fingerprint
            else "recorded UNSIGNED: the repository has no key registry (`workbench registry init`)"
        )
        return RecordResult(path, commit, fingerprint is not None, fingerprint, note, dict(fields))

    def sign_and_commit(
        self,
        path: str,
        data: bytes,
        person: str,
        predicate: Callable[[str, ChainLink], StrictModel],
        message: str,
        signer: Signer | None,
    ) -> tuple[str, str | None]:
        """Commit the record ``data`` at ``path``, signed by ``person`` (see
        `signed_files`): the commit and the key's fingerprint (None: unsigned)."""
        changes, fingerprint, signer = self.signed_files([(path, data, predicate)], person, signer)
        if fingerprint is not None:
            message += f"\nSigned by {person} with key {fingerprint}.\n"
        else:
            message += "\nUnsigned: this repository has no key registry yet.\n"
        commit = self.wb.commit(changes, message, signer=signer)
        self._o.forget()
        return commit, fingerprint

    def signed_files(
        self,
        records: Sequence[tuple[str, bytes, Callable[[str, ChainLink], StrictModel]]],
        person: str,
        signer: Signer | None,
    ) -> tuple[dict[str, bytes | None], str | None, Signer | None]:
        """Each record with its statement and ``person``'s signature beside it, signed
        (with ``signer``, else their key) when the repository has a key registry, unsigned
        before; refused while the registry does not verify. ``predicate(repository,
        registry)`` is what the person signs for a record. Every signed record the
        workbench writes is signed here: (the files to commit, the key's fingerprint or
        None when unsigned, the signer used)."""
        import hashlib

        changes: dict[str, bytes | None] = {path: data for path, data, _p in records}
        head = self.registry()
        if head is None and self.registry_problems:
            raise ObligationError(
                "cannot record a signed act: the key registry is not usable: "
                + "; ".join(self.registry_problems)
            )
        if head is None:
            return changes, None, signer
        if signer is None:
            signer = self.wb.signing.keys.make_signer(person)
        from workbench.signing import sshsig
        from workbench.signing.attestation import verify_attestation

        settings = self._o.state().settings
        assert settings is not None
        for path, data, predicate in records:
            statement = write_statement(
                predicate_type(path),
                path,
                hashlib.sha256(data).hexdigest(),
                predicate(settings.org.repository_id, head.link()),
            )
            ns = head.namespaces.ack if is_ack(path) else head.namespaces.review
            armored = signer.sign(statement, ns)
            check = verify_attestation(
                statement, {"sig": armored}, ns, head, {person}, now=self.wb.now
            )
            if check.signed != {person}:
                reason = check.checks[0].message if check.checks else "no signature"
                raise ObligationError(f"the signature does not verify for {person}: {reason}")
            changes[statement_path_for(path)] = statement
            changes[sig_path_for(path)] = armored
        return changes, sshsig.fingerprint(signer.public_key), signer
