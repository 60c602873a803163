"""Signed records of clocks, page acknowledgements and deliveries: what each person signs,
how it is written, and how its signature is checked.

The same mechanics as reviews, acknowledgements and closures (``wb.obligations.records``):
the record file, an in-toto statement over its sha256 and a detached SSHSIG signature in
the review namespace, by the person the record speaks for, against the verified registry
head. Only the predicates differ: each names the repository, the person and what the
record is about, so a signature cannot be moved to another clock, violation or delivery.

    clocks/<clock>/<stamp>.<person>.<act>.toml              predicate clock/v1
    notify/page-acks/<violation>/<stamp>.<person>.toml      predicate page-ack/v1
    notify/deliveries/<key16>/<stamp>.<person>.toml         predicate delivery/v1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.governance.records import SigStatus
from workbench.signing.record_statement import check_record_statement, predicate_type
from workbench.signing.statement import (
    CLOCK_PREDICATE,
    DELIVERY_PREDICATE,
    PAGE_ACK_PREDICATE,
    REGISTRATION_PREDICATE,
    ClockPredicate,
    DeliveryPredicate,
    PageAckPredicate,
    RegistrationPredicate,
)

if TYPE_CHECKING:
    from workbench.service.core import Workbench


# What each kind of record here signs beside repository, person and registry.
_PREDICATES: dict[str, Any] = {
    CLOCK_PREDICATE: ClockPredicate,
    PAGE_ACK_PREDICATE: PageAckPredicate,
    DELIVERY_PREDICATE: DeliveryPredicate,
    REGISTRATION_PREDICATE: RegistrationPredicate,
}


def statement_path(record: str) -> str:
    return record.removesuffix(".toml") + ".statement.json"


def sig_path(record: str) -> str:
    return record.removesuffix(".toml") + ".sig"


@dataclass
class Written:
    path: str
    commit: str
    signed: bool
    fingerprint: str | None

    @property
    def note(self) -> str:
        if self.fingerprint:
            return f"signed ({self.fingerprint})"
        return "recorded UNSIGNED: the repository has no key registry (`workbench registry init`)"


class SignedRecords:
    """Writes and checks the records above for one session."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        # One obligations session for this capability: its registry is verified once.
        self.obligations = wb.obligations
        # (the files last asked about, their repository id): see _repository.
        self._repository_memo: tuple[Mapping[str, bytes], str | None] | None = None

    def registry(self) -> Any:
        return self.obligations.records.registry()

    def signatures_required(self) -> bool:
        return self.obligations.records.signatures_required()

    def registry_problems(self) -> list[str]:
        self.registry()
        return list(self.obligations.records.registry_problems)

    def status(
        self, files: Mapping[str, bytes], path: str, person: str, expect: Mapping[str, str]
    ) -> SigStatus:
        """valid: signed by `person` over these bytes, with a predicate naming `expect`;
        unsigned: no statement nor signature; invalid: anything else."""
        statement = files.get(statement_path(path))
        sig = files.get(sig_path(path))
        if statement is None and sig is None:
            return "unsigned"
        head = self.registry()
        if head is None or statement is None or sig is None or path not in files:
            return "invalid"
        repository = self._repository(files)
        # The one statement rule (also verify-bundle's): path, sha256, repository, and for
        # a clock the clock and act its file name gives.
        st, _problem = check_record_statement(path, files[path], statement, repository)
        if st is None:
            return "invalid"
        p = st.predicate
        if p.person != person or any(getattr(p, k, None) != v for k, v in expect.items()):
            return "invalid"
        from workbench.signing.attestation import verify_attestation

        result = verify_attestation(
            statement, {"sig": sig}, head.namespaces.review, head, {person}, now=self.wb.now
        )
        return "valid" if result.signed == {person} and not result.invalid else "invalid"

    def _repository(self, files: Mapping[str, bytes]) -> str | None:
        """The organisation's repository id, once per set of files: callers check every
        record of a kind against the same `files`, and in the app (which never holds the
        working tree) each `state()` reads and hashes every state file again: 3,000
        records at 1,000 contracts kept the seams' marks busy for minutes."""
        memo = self._repository_memo
        if memo is not None and memo[0] is files:
            return memo[1]
        settings = self.wb.state().settings
        repository = settings.org.repository_id if settings is not None else None
        self._repository_memo = (files, repository)
        return repository

    def write(
        self,
        path: str,
        data: bytes,
        person: str,
        fields: Mapping[str, str],
        message: str,
        signer: Any = None,
        extra: Mapping[str, bytes | None] | None = None,
    ) -> Written:
        """Commit the record (signed by `person` once the repository has a key registry;
        `fields`: what the predicate names beside repository, person and registry), with
        `extra` files in the same commit (e.g. the evidence file a registration names)."""
        changes, fingerprint, signer = self.signed_changes([(path, data, fields)], person, signer)
        changes.update(extra or {})
        if fingerprint is None:
            message += "\nUnsigned: this repository has no key registry yet.\n"
            return Written(path, self.wb.commit(changes, message), False, None)
        message += f"\nSigned by {person} with key {fingerprint}.\n"
        commit = self.wb.commit(changes, message, signer=signer)
        return Written(path, commit, True, fingerprint)

    def signed_changes(
        self,
        records: Sequence[tuple[str, bytes, Mapping[str, str]]],
        person: str,
        signer: Any = None,
    ) -> tuple[dict[str, bytes | None], str | None, Any]:
        """Each record with its statement and `person`'s signature beside it (none without
        a key registry): (the files to commit, the key's fingerprint or None, the signer).
        Signed by the one writer of signed records (`wb.obligations.records.signed_files`);
        here only the predicate is built."""

        def predicate_for(path: str, fields: Mapping[str, str]) -> Any:
            model = _PREDICATES[predicate_type(path)]

            def predicate(repository: str, registry: Any) -> Any:
                return model(repository=repository, person=person, registry=registry, **fields)

            return predicate

        return self.obligations.records.signed_files(
            [(path, data, predicate_for(path, fields)) for path, data, fields in records],
            person,
            signer,
        )
