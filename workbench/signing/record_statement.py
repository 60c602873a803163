"""The statement beside a signed record (pure: paths, bytes and models in, answers out).

A review, an acknowledgement, a weekly-report receipt and each closure act (resolve,
exempt-request, exempt-approve) is one TOML file, with an in-toto statement naming its
sha256 and the signer's SSHSIG over that statement beside it::

    reviews/<contract>/<stamp>.<person>.toml
    reviews/<contract>/<stamp>.<person>.statement.json
    reviews/<contract>/<stamp>.<person>.sig

The folder decides the predicate (``RecordPredicate`` or, under ``findings/closures/``,
``ClosurePredicate``; under ``clocks/``, ``notify/page-acks/`` and
``notify/deliveries/`` the clock, page-acknowledgement and delivery predicates) and the
namespace (acknowledgements have their own). These rules
are used by the repository's reading (``workbench.service``) and by ``verify-bundle``
alike, so a record means the same thing to both.
"""

from __future__ import annotations

import re
import tomllib

from workbench.model.clocks import clock_record_act
from workbench.model.record_folders import (
    ACKS_DIR,
    CLOCKS_DIR,
    CLOSURES_DIR,
    DELIVERIES_DIR,
    PAGE_ACKS_DIR,
    REGISTRATIONS_DIR,
)
from workbench.model.toml_cache import record_table
from workbench.signing.statement import (
    ACK_PREDICATE,
    CLOCK_PREDICATE,
    CLOSURE_PREDICATE,
    DELIVERY_PREDICATE,
    PAGE_ACK_PREDICATE,
    REGISTRATION_PREDICATE,
    REVIEW_PREDICATE,
    ChainLink,
    ClosurePredicate,
    RecordPredicate,
    Statement,
    StatementError,
    StrictModel,
    parse_statement,
    sha256_hex,
)


def statement_path_for(record_path: str) -> str:
    return record_path.removesuffix(".toml") + ".statement.json"


def sig_path_for(record_path: str) -> str:
    return record_path.removesuffix(".toml") + ".sig"


def predicate_type(record_path: str) -> str:
    """The predicate a record's statement must carry, from the record's folder."""
    if record_path.startswith(ACKS_DIR):
        return ACK_PREDICATE
    if record_path.startswith(CLOSURES_DIR):
        return CLOSURE_PREDICATE
    if record_path.startswith(CLOCKS_DIR):
        return CLOCK_PREDICATE
    if record_path.startswith(PAGE_ACKS_DIR):
        return PAGE_ACK_PREDICATE
    if record_path.startswith(DELIVERIES_DIR):
        return DELIVERY_PREDICATE
    if record_path.startswith(REGISTRATIONS_DIR):
        return REGISTRATION_PREDICATE
    return REVIEW_PREDICATE


def registration_fields(record_path: str) -> tuple[str, str, str] | None:
    """(snapshot, person, act) an evidence registration's name gives
    (``evidence/registrations/<snapshot>/<stamp>.<person>.<act>.toml``), which its statement
    must repeat; None for a record that is not one."""
    if not record_path.startswith(REGISTRATIONS_DIR):
        return None
    snapshot, _, name = record_path.removeprefix(REGISTRATIONS_DIR).partition("/")
    parts = name.removesuffix(".toml").split(".")
    if len(parts) < 3:
        return None
    return snapshot, ".".join(parts[1:-1]), parts[-1]


def closure_fields(record_path: str) -> tuple[str, str] | None:
    """(violation, act) a closure record's name gives, which its statement must repeat;
    None for a record that is not a closure."""
    if not record_path.startswith(CLOSURES_DIR):
        return None
    violation, _, name = record_path.removeprefix(CLOSURES_DIR).partition("/")
    return violation, name.removesuffix(".toml").rpartition(".")[2]


def is_ack(record_path: str) -> bool:
    """Acknowledgements are signed in their own namespace; every other record in the
    review namespace."""
    return record_path.startswith(ACKS_DIR)


def record_predicate(
    record_path: str,
    *,
    repository: str,
    contract: str,
    person: str,
    act: str,
    registry: ChainLink,
) -> StrictModel:
    """What ``person`` signs for the record at ``record_path``."""
    closure = closure_fields(record_path)
    if closure is not None:
        return ClosurePredicate(
            repository=repository,
            contract=contract,
            violation=closure[0],
            person=person,
            act=closure[1],
            registry=registry,
        )
    return RecordPredicate(
        repository=repository, contract=contract, person=person, act=act, registry=registry
    )


def check_record_statement(
    record_path: str, data: bytes, statement: bytes, repository: str | None
) -> tuple[Statement | None, str | None]:
    """The record's statement, or why it does not speak for these record bytes: parsed as
    the predicate its folder names, naming exactly ``record_path`` with this sha256, made
    in ``repository`` (None: not checked) and, for a closure, about the violation and act
    its file name gives. Whose signature it needs is the caller's question."""
    try:
        st = parse_statement(statement, predicate_type(record_path))
    except StatementError as exc:
        return None, str(exc)
    if st.subject_name != record_path or st.subject_sha256 != sha256_hex(data):
        return None, "does not match its statement"
    if repository is not None and st.predicate.repository != repository:
        return None, "statement for another repository"
    closure = closure_fields(record_path)
    if closure is not None and (st.predicate.violation, st.predicate.act) != closure:
        return None, "the statement is for another violation, act or person"
    if record_path.startswith(CLOCKS_DIR) and (
        (clock := clock_record_act(record_path)) is None
        or (st.predicate.clock, st.predicate.act) != clock
        or f".{st.predicate.person}.{clock[1]}.toml" not in record_path
    ):
        return None, "the statement is for another clock, act or person"
    reg = registration_fields(record_path)
    if record_path.startswith(REGISTRATIONS_DIR) and (
        reg is None or (st.predicate.snapshot, st.predicate.person, st.predicate.act) != reg
    ):
        return None, "the statement is for another snapshot, person or act"
    if record_path.startswith((PAGE_ACKS_DIR, DELIVERIES_DIR)) and not _names_notify_record(
        record_path, data, st
    ):
        return None, "the statement is for another violation, delivery or person"
    return st, None


_PAGE_ACK_NAME = re.compile(r"(v-[0-9a-f]{10})/\d{8}T\d{6}Z\.([a-z0-9][a-z0-9._-]*)\.toml")
_DELIVERY_NAME = re.compile(r"([0-9a-f]{16})/\d{8}T\d{6}Z\.([a-z0-9][a-z0-9._-]*)\.toml")


def _names_notify_record(record_path: str, data: bytes, st: Statement) -> bool:
    """A page acknowledgement's statement names the violation and person of its file name
    and the contract the record names; a delivery's the key (its first 16 digits are the
    folder) and person of its file name, and the key the record names. So a signature
    cannot be moved to another violation, contract or delivery."""
    try:
        doc = record_table(data)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    p = st.predicate
    if record_path.startswith(PAGE_ACKS_DIR):
        m = _PAGE_ACK_NAME.fullmatch(record_path.removeprefix(PAGE_ACKS_DIR))
        return (
            m is not None
            and (p.violation, p.person) == m.groups()
            and doc.get("contract") == p.contract
        )
    m = _DELIVERY_NAME.fullmatch(record_path.removeprefix(DELIVERIES_DIR))
    return m is not None and (p.key[:16], p.person) == m.groups() and doc.get("key") == p.key
