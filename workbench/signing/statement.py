"""in-toto Statement v1 files: written once, deterministically, and parsed strictly.

Generic over the predicate: contract co-signatures use ``COSIGN_PREDICATE``; signed
records (acknowledgements, reviews, receipts, closures) use ``RecordPredicate`` and
``ClosurePredicate``; every type is known here, so the repository and both bundle
verifiers parse a statement the same way whatever they imported before.

Rules (see docs/signing.md):
* exactly the fields of the in-toto Statement v1 layer, nothing else;
* subjects carry only a ``sha256`` digest (no ``gitBlob``/``sha1``: no downgrade);
* contract-style statements have exactly one subject;
* statements are at most 64 KiB and are parsed with duplicate keys rejected;
* the bytes are produced by ``canonical_json`` and never re-serialised.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from workbench.signing.canonical import CanonicalError, canonical_json, strict_loads
from workbench.signing.errors import SigningError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
MAX_STATEMENT_BYTES = 64 * 1024

_BASE = "https://handshake-workbench.dev"
COSIGN_PREDICATE = f"{_BASE}/cosign/v1"
REGISTRY_PREDICATE = f"{_BASE}/registry/v1"
SNAPSHOT_PREDICATE = f"{_BASE}/snapshot/v1"
ACK_PREDICATE = f"{_BASE}/ack/v1"
REVIEW_PREDICATE = f"{_BASE}/review/v1"
CLOSURE_PREDICATE = f"{_BASE}/closure/v1"
EVALUATION_PREDICATE = f"{_BASE}/evaluation/v1"
CLOCK_PREDICATE = f"{_BASE}/clock/v1"
PAGE_ACK_PREDICATE = f"{_BASE}/page-ack/v1"
DELIVERY_PREDICATE = f"{_BASE}/delivery/v1"
REGISTRATION_PREDICATE = f"{_BASE}/evidence-registration/v1"

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]
Version = Annotated[int, Field(ge=1, le=1_000_000)]


class StatementError(SigningError):
    """A statement file is malformed, oversized or of the wrong kind."""


class StrictModel(BaseModel):
    """No coercion ("1" is not 1, true is not 1), no unknown keys, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


class DigestSet(StrictModel):
    sha256: Sha256Hex


class Subject(StrictModel):
    name: str = Field(min_length=1, max_length=300)
    digest: DigestSet


class StatementModel(StrictModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, populate_by_name=False, defer_build=True
    )

    type_: Literal["https://in-toto.io/Statement/v1"] = Field(alias="_type")
    subject: list[Subject] = Field(min_length=1, max_length=16)
    predicateType: str = Field(min_length=1, max_length=200)  # noqa: N815 (in-toto field name)
    predicate: dict[str, Any]


# --- predicates -------------------------------------------------------------------


class ChainLink(StrictModel):
    version: Version
    statementSha256: Sha256Hex  # noqa: N815


class ContractRef(StrictModel):
    id: Slug
    version: Version
    previous: ChainLink | None


class CosignPredicate(StrictModel):
    """What every required lead of a contract signs: this exact version, in this repo."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    contract: ContractRef
    registry: ChainLink
    decision: Literal["approve"]


class RegistryAdmin(StrictModel):
    principal: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*@[a-z0-9.-]+$", max_length=200)
    key: str = Field(pattern=r"^ssh-ed25519 [A-Za-z0-9+/]+=*$", max_length=200)


class RegistryVersion(StrictModel):
    version: Version
    previous: ChainLink | None


class RegistryPredicate(StrictModel):
    """A key registry version: who the admins are (their keys) and how many must sign."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    registry: RegistryVersion
    admins: list[RegistryAdmin] = Field(min_length=1, max_length=64)
    threshold: int = Field(ge=1, le=64)


class SnapshotPredicate(StrictModel):
    """An export snapshot: the head of every chain at export time (used by audit bundles)."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    snapshotVersion: Version  # noqa: N815
    previousSnapshot: Sha256Hex | None  # noqa: N815
    exportedAt: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")  # noqa: N815
    expires: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


RunId = Annotated[str, StringConstraints(pattern=r"^\d{8}T\d{6}Z-[0-9a-f]{10}$")]


class RunLink(StrictModel):
    """An earlier evaluation run this one folded, by the digest of its statement."""

    run: RunId
    statementSha256: Sha256Hex  # noqa: N815


class EvaluationPredicate(StrictModel):
    """What the runner signs for one evaluation run: these findings and the violation
    ledger after them (the two subjects), in this repository, folding exactly these heads.

    ``previous``: the head runs it folded (runs no other run names), by statement digest,
    so the runs form a hash-linked graph and a reader needs only the heads. ``legacyUpto``:
    the newest run without a statement (written before runs were signed) that this run
    folded once, as the migration (the ledger lists each one's sha256). ``rejected``: runs
    it saw that do not count and were not folded.
    """

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    run: RunId
    runner: Slug
    registry: ChainLink | None
    previous: list[RunLink] = Field(max_length=64)
    legacyUpto: RunId | None  # noqa: N815
    rejected: list[RunId] = Field(max_length=256)


class RecordPredicate(StrictModel):
    """What a person signs for a review, an acknowledgement or a receipt: this record file,
    in this repository, as this act (see ``workbench.signing.record_statement``)."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    contract: Slug
    person: Slug
    act: str = Field(pattern=r"^(acknowledge|review|receive)$")
    registry: ChainLink


class ClosurePredicate(StrictModel):
    """What the person signs for a closure act: this record file, about this violation, in
    this repository, as this act (resolve, exempt-request, exempt-approve)."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    contract: Slug
    violation: str = Field(pattern=r"^v-[0-9a-f]{10}$")
    person: Slug
    act: str = Field(pattern=r"^(resolve|exempt-request|exempt-approve)$")
    registry: ChainLink


class ClockPredicate(StrictModel):
    """What a person signs for a clock act: this record, about this clock on this seam."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    seam: Slug
    clock: str = Field(pattern=r"^c-[0-9a-f]{10}$")
    person: Slug
    act: str = Field(pattern=r"^(start|stop)$")
    registry: ChainLink


class PageAckPredicate(StrictModel):
    """What a person signs when acknowledging a page (or the notifier, when it records an
    acknowledgement read back from PagerDuty): this record, about this violation."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    contract: Slug
    violation: str = Field(pattern=r"^v-[0-9a-f]{10}$")
    person: Slug
    registry: ChainLink


class DeliveryPredicate(StrictModel):
    """What the notifier signs for one delivery attempt: this record, for this key."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    key: str = Field(pattern=r"^[0-9a-f]{64}$")
    person: Slug
    registry: ChainLink


class RegistrationPredicate(StrictModel):
    """What a person signs for an evidence registration act: this record, about this
    snapshot, in this repository, as this act (register, withdraw)."""

    repository: str = Field(pattern=r"^[0-9a-f-]{36}$")
    snapshot: str = Field(pattern=r"^ev-[0-9a-f]{12}$")
    person: Slug
    act: str = Field(pattern=r"^(register|withdraw)$")
    registry: ChainLink


PREDICATE_MODELS: dict[str, type[StrictModel]] = {
    EVALUATION_PREDICATE: EvaluationPredicate,
    COSIGN_PREDICATE: CosignPredicate,
    REGISTRY_PREDICATE: RegistryPredicate,
    SNAPSHOT_PREDICATE: SnapshotPredicate,
    ACK_PREDICATE: RecordPredicate,
    REVIEW_PREDICATE: RecordPredicate,
    CLOSURE_PREDICATE: ClosurePredicate,
    CLOCK_PREDICATE: ClockPredicate,
    PAGE_ACK_PREDICATE: PageAckPredicate,
    DELIVERY_PREDICATE: DeliveryPredicate,
    REGISTRATION_PREDICATE: RegistrationPredicate,
}


def register_predicate(predicate_type: str, model: type[StrictModel]) -> None:
    """Let another room (acks, reviews) add a predicate type with its strict model."""
    existing = PREDICATE_MODELS.get(predicate_type)
    if existing is not None and existing is not model:
        raise SigningError(f"predicate type {predicate_type} is already registered")
    PREDICATE_MODELS[predicate_type] = model


# --- the parsed form ----------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """A parsed statement, together with the exact bytes it was parsed from."""

    raw: bytes
    sha256: str
    predicate_type: str
    subjects: tuple[tuple[str, str], ...]  # (name, sha256)
    predicate: Any  # the validated predicate model

    @property
    def subject_name(self) -> str:
        return self.subjects[0][0]

    @property
    def subject_sha256(self) -> str:
        return self.subjects[0][1]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _predicate_dict(predicate: Any) -> dict[str, Any]:
    if isinstance(predicate, BaseModel):
        return predicate.model_dump(mode="python", by_alias=True)
    return dict(predicate)


def write_statements_bytes(
    predicate_type: str, subjects: list[tuple[str, str]], predicate: Any
) -> bytes:
    """Canonical bytes of a statement with several subjects (registry, snapshot)."""
    data = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in subjects],
        "predicateType": predicate_type,
        "predicate": _predicate_dict(predicate),
    }
    try:
        raw = canonical_json(data)
    except CanonicalError as exc:
        raise StatementError(f"cannot write statement: {exc}") from None
    # Never write what we would refuse to read.
    parse_statement(raw, predicate_type, subjects=len(subjects))
    return raw


def write_statement(
    predicate_type: str, subject_name: str, subject_sha256: str, predicate: Any
) -> bytes:
    """Canonical bytes of a one-subject statement (contract co-sign, ack, review)."""
    return write_statements_bytes(predicate_type, [(subject_name, subject_sha256)], predicate)


def parse_statement(data: bytes, predicate_type: str, subjects: int | None = 1) -> Statement:
    """Strictly parse statement bytes of the expected predicate type.

    ``subjects`` is the exact number of subjects required (None: one or more).
    """
    if not isinstance(data, bytes):
        raise StatementError("statement must be bytes (read the file in binary mode)")
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(
            f"statement is {len(data)} bytes, over the {MAX_STATEMENT_BYTES}-byte limit"
        )
    model = PREDICATE_MODELS.get(predicate_type)
    if model is None:
        raise StatementError(f"unknown predicate type {predicate_type!r}")
    try:
        obj = strict_loads(data, MAX_STATEMENT_BYTES)
    except CanonicalError as exc:
        raise StatementError(f"statement is not strict JSON: {exc}") from None
    try:
        parsed = StatementModel.model_validate(obj)
    except ValidationError as exc:
        raise StatementError(f"not an in-toto Statement v1: {_first_error(exc)}") from None
    if parsed.predicateType != predicate_type:
        raise StatementError(
            f"statement predicateType is {parsed.predicateType!r}, expected {predicate_type!r}"
        )
    if subjects is not None and len(parsed.subject) != subjects:
        raise StatementError(
            f"statement has {len(parsed.subject)} subject(s), expected exactly {subjects}"
        )
    names = [s.name for s in parsed.subject]
    if len(set(names)) != len(names):
        raise StatementError("statement names the same subject twice")
    try:
        predicate = model.model_validate(parsed.predicate)
    except ValidationError as exc:
        raise StatementError(f"statement predicate is invalid: {_first_error(exc)}") from None
    return Statement(
        raw=data,
        sha256=sha256_hex(data),
        predicate_type=predicate_type,
        subjects=tuple((s.name, s.digest.sha256) for s in parsed.subject),
        predicate=predicate,
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "statement"
    return f"{where}: {err['msg']}"
