"""Signed records of clocks, page acknowledgements and deliveries: what each person signs.

Written and judged by the one implementation of reviews, acknowledgements and closures
(``wb.obligations.records``: ``sign_and_commit`` and ``signature_status``): the record
file, an in-toto statement over its sha256 and a detached SSHSIG signature in the review
namespace, by the person the record speaks for, against the verified registry head. Only
the predicates differ, and they are this module's: each names the repository, the person
and what the record is about, so a signature cannot be moved to another clock, violation
or delivery.

    clocks/<clock>/<stamp>.<person>.<act>.toml              predicate clock/v1
    notify/page-acks/<violation>/<stamp>.<person>.toml      predicate page-ack/v1
    notify/deliveries/<key16>/<stamp>.<person>.toml         predicate delivery/v1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.governance.records import SigStatus
from workbench.signing.record_statement import predicate_type
from workbench.signing.statement import (
    CLOCK_PREDICATE,
    DELIVERY_PREDICATE,
    PAGE_ACK_PREDICATE,
    ClockPredicate,
    DeliveryPredicate,
    PageAckPredicate,
    StrictModel,
)

if TYPE_CHECKING:
    from workbench.service.core import Workbench
    from workbench.signing.keys import Signer
    from workbench.signing.registry import Registry
    from workbench.signing.statement import ChainLink


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

    def registry(self) -> Registry | None:
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
        return self.obligations.records.signature_status(files, path, person, expect)

    def write(
        self,
        path: str,
        data: bytes,
        person: str,
        fields: Mapping[str, str],
        message: str,
        signer: Signer | None = None,
    ) -> Written:
        """Commit the record (signed by `person` once the repository has a key registry;
        `fields`: what the predicate names beside repository, person and registry)."""
        model = _PREDICATES[predicate_type(path)]

        def predicate(repository: str, registry: ChainLink) -> StrictModel:
            return model(repository=repository, person=person, registry=registry, **fields)

        commit, fingerprint = self.obligations.records.sign_and_commit(
            path, data, person, predicate, message, signer
        )
        return Written(path, commit, fingerprint is not None, fingerprint)


_PREDICATES: dict[str, type[ClockPredicate | PageAckPredicate | DeliveryPredicate]] = {
    CLOCK_PREDICATE: ClockPredicate,
    PAGE_ACK_PREDICATE: PageAckPredicate,
    DELIVERY_PREDICATE: DeliveryPredicate,
}
