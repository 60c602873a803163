"""What a signed record's statement must say (`workbench.signing.record_statement`): the one
rule the repository's reading and `verify-bundle` share, from real statement bytes."""

from __future__ import annotations

import hashlib

from workbench.signing.record_statement import (
    check_record_statement,
    closure_fields,
    predicate_type,
    record_predicate,
    sig_path_for,
    statement_path_for,
)
from workbench.signing.statement import (
    ACK_PREDICATE,
    CLOSURE_PREDICATE,
    REVIEW_PREDICATE,
    ChainLink,
    write_statement,
)

REPO = "0b8e4c7e-2f2a-4c1e-9a7e-5f0d1c2b3a49"
OTHER_REPO = "1c9f5d8f-3a3b-4d2f-8b8f-6a1e2d3c4b5a"
LINK = ChainLink(version=1, statementSha256="a" * 64)
REVIEW = "reviews/claims/20261127T160000Z.ana.toml"
CLOSURE = "findings/closures/v-0123456789/20261127T160000Z.ana.exempt-request.toml"
DATA = b'contract = "claims"\n'


def _statement(path: str, data: bytes = DATA, repository: str = REPO, **fields: str) -> bytes:
    predicate = record_predicate(
        path,
        repository=repository,
        contract=fields.get("contract", "claims"),
        person=fields.get("person", "ana"),
        act=fields.get("act", "review"),
        registry=LINK,
    )
    return write_statement(
        fields.get("ptype", predicate_type(path)),
        fields.get("subject", path),
        hashlib.sha256(data).hexdigest(),
        predicate,
    )


def test_the_folder_names_the_predicate_and_the_companion_files() -> None:
    assert predicate_type(REVIEW) == REVIEW_PREDICATE
    assert predicate_type("acks/claims/0123456789ab.ana.toml") == ACK_PREDICATE
    assert predicate_type(CLOSURE) == CLOSURE_PREDICATE
    assert closure_fields(CLOSURE) == ("v-0123456789", "exempt-request")
    assert closure_fields(REVIEW) is None
    assert statement_path_for(REVIEW) == REVIEW.removesuffix(".toml") + ".statement.json"
    assert sig_path_for(REVIEW) == REVIEW.removesuffix(".toml") + ".sig"


def test_a_statement_that_speaks_for_these_bytes_is_accepted() -> None:
    st, problem = check_record_statement(REVIEW, DATA, _statement(REVIEW), REPO)
    assert problem is None and st is not None
    assert st.predicate.person == "ana" and st.predicate.repository == REPO
    closure, problem = check_record_statement(CLOSURE, DATA, _statement(CLOSURE), REPO)
    assert problem is None and closure is not None and closure.predicate.act == "exempt-request"


def test_other_bytes_another_repository_or_another_act_is_refused() -> None:
    statement = _statement(REVIEW)
    assert check_record_statement(REVIEW, DATA + b"# edited\n", statement, REPO) == (
        None,
        "does not match its statement",
    )
    moved = REVIEW.replace("ana", "ben")
    assert check_record_statement(moved, DATA, statement, REPO)[1] == (
        "does not match its statement"
    )
    assert check_record_statement(REVIEW, DATA, _statement(REVIEW, repository=OTHER_REPO), REPO)[
        1
    ] == ("statement for another repository")
    # Without a repository to compare with (no workbench.toml), only the repository check
    # is skipped.
    assert (
        check_record_statement(REVIEW, DATA, _statement(REVIEW, repository=OTHER_REPO), None)[1]
        is None
    )
    # An approval's statement under a request's name: another act than the file says.
    approval = CLOSURE.replace("exempt-request", "exempt-approve")
    relabelled = _statement(approval, subject=CLOSURE)
    assert check_record_statement(CLOSURE, DATA, relabelled, REPO) == (
        None,
        "the statement is for another violation, act or person",
    )


def test_a_review_statement_is_not_accepted_for_an_acknowledgement() -> None:
    ack = "acks/claims/0123456789ab.ana.toml"
    st, problem = check_record_statement(ack, DATA, _statement(ack, ptype=REVIEW_PREDICATE), REPO)
    assert st is None and problem and "predicate" in problem
