"""Export snapshots: the head of every chain at export time, signed by the exporter.

The audit-bundle room writes them; this module builds and checks their statements.
A snapshot lists the digest of the registry head and of every contract's head
statement (stops mix-and-match), carries ``snapshotVersion``/``previousSnapshot``
(an auditor who remembers the last snapshot rejects rollback) and ``expires``
(freeze: past it, a claim of *current* status is not valid, history still is).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from workbench.model.people import PeopleFile
from workbench.model.settings import resolve_role_entries
from workbench.signing.registry import RegistryPolicy
from workbench.signing.statement import (
    SNAPSHOT_PREDICATE,
    SnapshotPredicate,
    Statement,
    parse_statement,
    sha256_hex,
    write_statements_bytes,
)


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_snapshot(
    heads: Mapping[str, bytes],
    repository: str,
    version: int,
    previous: bytes | None,
    exported_at: datetime,
    expires: datetime,
) -> bytes:
    """``heads``: path -> bytes of each head statement (registry and contracts)."""
    predicate = SnapshotPredicate(
        repository=repository,
        snapshotVersion=version,
        previousSnapshot=sha256_hex(previous) if previous is not None else None,
        exportedAt=_utc(exported_at),
        expires=_utc(expires),
    )
    subjects = [(path, sha256_hex(data)) for path, data in sorted(heads.items())]
    return write_statements_bytes(SNAPSHOT_PREDICATE, subjects, predicate)


@dataclass
class SnapshotCheck:
    statement: Statement
    problems: list[str] = field(default_factory=list)
    current: bool = True  # False once expired: history is still verifiable

    @property
    def ok(self) -> bool:
        return not self.problems


def check_snapshot(
    raw: bytes,
    heads: Mapping[str, bytes],
    now: datetime,
    last_seen: bytes | None = None,
    present: Collection[str] = (),
) -> SnapshotCheck:
    """Check a snapshot against the files at hand and the last snapshot the auditor kept.

    `heads`: the files the snapshot must cover (path -> bytes); `present`: every path the
    bundle holds, so that a listed file that is there but no longer a head (a newer file
    the snapshot does not list displaced it) is not reported as missing."""
    st = parse_statement(raw, SNAPSHOT_PREDICATE, subjects=None)
    pred: SnapshotPredicate = st.predicate
    out = SnapshotCheck(st)
    out.problems += subject_problems(dict(st.subjects), heads, present)
    if last_seen is not None:
        last = parse_statement(last_seen, SNAPSHOT_PREDICATE, subjects=None).predicate
        if pred.snapshotVersion < last.snapshotVersion or (
            pred.snapshotVersion == last.snapshotVersion and raw != last_seen
        ):
            out.problems.append(
                f"rollback: snapshot v{pred.snapshotVersion} is older than the v"
                f"{last.snapshotVersion} you saw before"
            )
        elif pred.snapshotVersion == last.snapshotVersion + 1 and (
            pred.previousSnapshot != sha256_hex(last_seen)
        ):
            out.problems.append("snapshot does not extend the one you saw before")
    expires = datetime.strptime(pred.expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if now >= expires:
        out.current = False
    return out


def subject_problems(
    listed: Mapping[str, str], heads: Mapping[str, bytes], present: Collection[str] = ()
) -> list[str]:
    """Each way the files at hand differ from the snapshot's subjects, said as what it is:
    a file the snapshot does not list (extra), a listed file that is not there (missing),
    a listed file that is there but displaced by an extra one, different bytes."""
    problems = []
    extra = sorted(set(heads) - set(listed))
    for path in extra:
        problems.append(
            f"{path} is in the bundle but not in the snapshot (added after the export, or "
            "taken from another one)"
        )
    for path in sorted(set(heads) & set(listed)):
        actual = sha256_hex(heads[path])
        if actual != listed[path]:
            problems.append(
                f"{path} does not match the snapshot: its sha256 is {actual[:16]}…, the "
                f"snapshot lists {listed[path][:16]}… (changed, or mixed from another export?)"
            )
    for path in sorted(set(listed) - set(heads)):
        if path in present:
            instead = f" ({', '.join(extra)} took its place)" if extra else ""
            problems.append(
                f"{path} is listed in the snapshot and is in the bundle, but is no longer "
                f"the file the snapshot covers{instead}"
            )
        else:
            problems.append(f"{path} is listed in the snapshot but missing from the bundle")
    return problems


def authorised_exporters(policy: RegistryPolicy, people: PeopleFile) -> frozenset[str]:
    """Who may sign an audit snapshot: the person ids the signed policy's ``[export]
    exporters`` names (ids, ``admins``, ``compliance-lead``, ``lead:<team>``; default the
    registry admins and the compliance lead). The one rule for the exporter and for
    ``verify-bundle``; VERIFY.sh mirrors it in awk (tests/bundle/test_verify_sh_rules.py)."""
    leads = {t.id: t.lead for t in people.teams}
    return resolve_role_entries(
        policy.export.exporters, policy.approval.compliance_team, leads, policy.admins
    )
