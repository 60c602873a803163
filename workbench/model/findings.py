"""The shapes of a findings file (``findings/<run-id>.json``) as typed dictionaries (pure).

A run is written by the service (`service/evaluation.py`, `service/evidence.py`), folded
into violations by the evidence room (`evidence/findings.py`), shipped and recomputed by
the bundle and shown by the app: these are the keys all of them read. They stay
dictionaries because the file *is* this JSON (its bytes are hashed and signed, so the
writer must not reshape it); the types say which keys a reader may rely on.

A file read back from a repository or a bundle is untrusted: ``parse_run`` checks its
format marker and proves, by a type guard rather than a cast, the keys readers index (the
run's id and time, each finding's contract, term and status); readers use ``.get`` for
anything else a hostile file could omit.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class PersonRef(TypedDict):
    """A person named by a finding, as they stood on the run's day."""

    id: str
    name: str | None
    departed: bool


class PagedRef(TypedDict):
    """Whom a violating finding pages: the contract's escalation on the run's day."""

    primary: PersonRef
    backup: PersonRef
    channel: str
    ack_sla: str


class SnapshotRef(TypedDict):
    """One evidence snapshot a finding's check read."""

    view: str
    role: str
    id: str
    sha256: str
    kind: str
    captured_at: str | None
    table: NotRequired[dict[str, Any]]  # a table: its format and the version judged


class Finding(TypedDict):
    """One term's result in one run (the page test is the term ``page-test``)."""

    contract: str
    contract_sha256: str
    term: str
    kind: str
    title: str
    status: str
    observed: float | None
    observed_text: str
    limit: str
    reason: str
    sql: str
    details: list[dict[str, Any]]  # the check's own rows (evidence/checks.py)
    clock: str | None
    snapshots: list[SnapshotRef]
    owner: PersonRef
    paged: NotRequired[PagedRef]  # only when the status violates
    engine: NotRequired[dict[str, Any]]  # another engine than DuckDB: which, and its SQL


class Run(TypedDict):
    """One findings file: what was evaluated, on which inputs, and each term's finding."""

    format: str
    run: str
    time: str
    scope: str | None
    inputs: dict[str, Any]
    summary: dict[str, int]
    findings: list[Finding]
