"""The governance state of one revision, parsed and checked. Pure: input is file bytes.

``load_state`` reads each file as a document (``documents``), checks what needs more than one
file (``cross_checks``) and applies the signed floor (``state_floor``); every name of those
modules is importable from here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from workbench.model.contract import Contract
from workbench.model.cross_checks import (
    _check_settings,
    _index_people,
    check_contract,
    person_problem,
)
from workbench.model.documents import (
    CONTRACTS_DIR,
    PEOPLE_PATH,
    PLACEHOLDERS,
    SETTINGS_PATH,
    ContractDoc,
    Document,
    GovernanceState,
    _file_id,
    _validate,
    contract_file_id,
    is_contract_path,
    is_placeholder,
    is_stray_contract_file,
    parse_contract,
    parse_document,
)
from workbench.model.people import PeopleFile
from workbench.model.people_void import void_problem, void_reason
from workbench.model.policy_floor import (
    DEFAULT_FLOOR,
    SignedFloor,
)
from workbench.model.problems import Problem
from workbench.model.settings import Settings
from workbench.model.state_floor import (
    apply_floor,
    effective_policy,
)


def load_state(
    files: dict[str, bytes],
    today: date,
    *,
    validated: Callable[[bytes], Contract | None] | None = None,
    floor: SignedFloor | None = None,
) -> GovernanceState:
    """Parse and check a governance repo given as {repo-relative path: bytes}, with the
    signed floor applied (`apply_floor`; the built-in one when none is given).

    `validated(raw)` may return the contract model these exact bytes validated to before
    (the service remembers every committed version), which skips validating them again;
    None means "not known" and the bytes are validated here.
    """
    declared = load_declared_state(files, today, validated=validated)
    return apply_floor(declared, floor or DEFAULT_FLOOR)


def load_declared_state(
    files: dict[str, bytes],
    today: date,
    *,
    validated: Callable[[bytes], Contract | None] | None = None,
) -> GovernanceState:
    """The state as the files declare it, before the signed floor: what the clone's cache
    keeps (the floor is applied on top, by `apply_floor`, from the verified registry)."""
    return check_declared(load_declared_contracts(files, validated=validated), files, today)


def load_declared_contracts(
    files: dict[str, bytes],
    *,
    validated: Callable[[bytes], Contract | None] | None = None,
) -> GovernanceState:
    """The first step of `load_declared_state`: workbench.toml and every contract parsed
    and validated, each id given to its file. What the signature verdicts read, and all
    they read (`[org]` and the validated contracts); `checked` is False until
    `check_declared` adds the people, stray files and the rules across files."""
    state = GovernanceState(checked=False)
    if SETTINGS_PATH not in files:
        state.problems.append(
            Problem(SETTINGS_PATH, 1, 1, "error", "repo.no-settings", "workbench.toml is missing")
        )
    else:
        doc, problems = parse_document(SETTINGS_PATH, files[SETTINGS_PATH])
        state.documents[SETTINGS_PATH] = doc
        state.problems += problems
        state.settings, problems = _validate(doc, Settings)
        state.problems += problems

    parsed: list[ContractDoc] = []
    for path in sorted(p for p in files if is_contract_path(p)):
        doc, problems = parse_document(path, files[path])
        state.documents[path] = doc
        state.problems += problems
        known = validated(files[path]) if validated is not None and doc.data else None
        contract: Contract | None
        if known is not None:
            contract, problems = known, []
        else:
            contract, problems = _validate(doc, Contract)
        state.problems += problems
        if contract is not None:
            parsed.append(ContractDoc(path, contract, doc))

    by_id: dict[str, list[ContractDoc]] = {}
    for cdoc in parsed:
        by_id.setdefault(cdoc.contract.id, []).append(cdoc)
    for contract_id, docs in by_id.items():
        # The file named after the id is the contract; any other claimant is an error.
        docs.sort(key=lambda d: (_file_id(d.path) != contract_id, d.path))
        for cdoc in docs:
            if _file_id(cdoc.path) != contract_id:
                state.problems.append(
                    cdoc.document.problem(
                        ("id",),
                        "contract.id-mismatch",
                        f"contract id {contract_id!r} must match its file name {_file_id(cdoc.path)!r}",
                    )
                )
        for cdoc in docs[1:]:
            state.problems.append(
                cdoc.document.problem(
                    ("id",),
                    "contract.duplicate-id",
                    f"contract id {contract_id!r} is also used by {docs[0].path}",
                )
            )
        state.contracts[contract_id] = docs[0]
    return state


def check_declared(
    declared: GovernanceState, files: dict[str, bytes], today: date
) -> GovernanceState:
    """The second step of `load_declared_state`: a new state with the people indexed, the
    stray files named, every contract checked against the others and the people, and the
    settings checked. `declared` (from `load_declared_contracts` on the same `files`) is
    left as it was; its documents and models are shared."""
    state = GovernanceState(
        settings=declared.settings, contracts=dict(declared.contracts), problems=[]
    )
    if SETTINGS_PATH in declared.documents:
        state.documents[SETTINGS_PATH] = declared.documents[SETTINGS_PATH]
    # Problems in the order one pass would add them (the sort below is stable): the
    # settings' own, the people's, the stray files', then each contract's.
    shared = [p for p in declared.problems if p.file == SETTINGS_PATH]
    state.problems += shared

    if PEOPLE_PATH not in files:
        state.problems.append(
            Problem(PEOPLE_PATH, 1, 1, "error", "repo.no-people", "keys/people.toml is missing")
        )
    else:
        people_doc, problems = parse_document(PEOPLE_PATH, files[PEOPLE_PATH])
        state.documents[PEOPLE_PATH] = people_doc
        state.problems += problems
        people_file, problems = _validate(people_doc, PeopleFile)
        state.problems += problems
        if people_file is not None:
            _index_people(state, people_doc, people_file, today)
        else:  # fail closed, and say which entry voids the file and what that costs
            void = void_problem(state.problems_for(PEOPLE_PATH), people_doc.data)
            if void is not None:
                state.problems.append(void)
                state.people_void = void_reason([void])

    for path in sorted(p for p in files if is_stray_contract_file(p)):
        # Nothing reads it, so nothing it says is governed; yet it sits where contracts are
        # and a reviewer could take it for one. Named, so it cannot hide in contracts/.
        state.documents[path] = Document(path, files[path], None, None)
        state.problems.append(
            Problem(
                path,
                1,
                1,
                "error",
                "contract.stray-file",
                "not a contract: contracts/ holds only contract files named contracts/<id>.toml "
                "and every command ignores this one; move it out of contracts/",
            )
        )

    for path, doc in declared.documents.items():
        state.documents.setdefault(path, doc)
    state.problems += [p for p in declared.problems if p.file != SETTINGS_PATH]
    for cdoc in state.contracts.values():
        state.problems += check_contract(state, cdoc, today)

    if state.settings is not None and SETTINGS_PATH in state.documents:
        state.problems += _check_settings(state, state.documents[SETTINGS_PATH])
    state.problems.sort(key=lambda p: (p.file, p.line, p.column, p.code))
    return state


__all__ = [
    "CONTRACTS_DIR",
    "ContractDoc",
    "Document",
    "GovernanceState",
    "PEOPLE_PATH",
    "PLACEHOLDERS",
    "SETTINGS_PATH",
    "apply_floor",
    "check_contract",
    "check_declared",
    "contract_file_id",
    "effective_policy",
    "is_contract_path",
    "is_placeholder",
    "is_stray_contract_file",
    "load_declared_contracts",
    "load_declared_state",
    "load_state",
    "parse_contract",
    "parse_document",
    "person_problem",
]
