"""Evidence registrations as signed records, and the one rule deciding which of them count
(pure: file bytes, signature statuses, times and authority in; the evidence selection out).

Registering a snapshot decides what a term is judged on, so it is a record like a review or
a closure: one file per act, signed by the person it speaks for, checked for authority and
time. Each act is its own file, so two clones never write the same path::

    evidence/registrations/<snapshot>/<stamp>.<person>.register.toml   the snapshot's facts
    evidence/registrations/<snapshot>/<stamp>.<person>.withdraw.toml   take it out of use

each with ``.statement.json`` and ``.sig`` beside it (predicate ``evidence-registration/v1``,
review namespace). ``decide_registrations`` is used by ``evaluate``, the gate (the current
finding and ``records_valid``), ``evidence list`` and ``verify-bundle`` alike.

What counts (docs/evidence.md, "Who may register evidence"):

* the record is signed by its person (unsigned only where the repository has no key
  registry), who is a person of the registry and had not left, and its time holds
  (``governance.record_time``); a snapshot is never captured after it was registered;
* the person may register evidence for the snapshot's contract: a current member of that
  contract's **provider team**, or an **evaluation runner** the signed policy names
  (``keys/policy.toml [evaluation] runners``). Repository-wide evidence (no contract)
  feeds every contract, so only a runner may register it;
* per snapshot the newest counting registration gives its facts (a re-registration with
  another name or term replaces the earlier one), and a counting withdrawal made after it
  takes the snapshot out of use. A stable ``name`` held by two snapshots belongs to the one
  registered last (re-pointing a name is a registration like any other), provided its
  person also has the authority over the contract of the snapshot that held the name
  (else the new snapshot counts without the name, and its own contract is flagged);
* the legacy ``evidence/manifest.toml``: its entries count as they always did in a
  repository without a key registry; with a registry an entry is an unsigned claim
  (``registered_by`` is text) and counts only through a registration of its own
  (``workbench evidence register``).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from workbench.evidence.manifest import (
    MANIFEST_PATH,
    Manifest,
    Snapshot,
    _toml_string,
    render_snapshot,
)
from workbench.governance.record_time import SKEW, Placement, time_problem
from workbench.governance.records import SigStatus
from workbench.model.record_folders import REGISTRATIONS_DIR

ACTS: tuple[str, ...] = ("register", "withdraw")

_NAME = re.compile(
    r"(?P<snapshot>ev-[0-9a-f]{12})/(?P<stamp>\d{8}T\d{6}Z)\.(?P<person>[a-z0-9][a-z0-9._-]*)"
    r"\.(?P<act>register|withdraw)\.toml"
)
# Facts a registration file states about its snapshot; who and when are the record's own.
_OWN = ("registered_by", "registered_at")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def registration_path(snapshot: str, when: datetime, person: str, act: str) -> str:
    return f"{REGISTRATIONS_DIR}{snapshot}/{stamp(when)}.{person}.{act}.toml"


def is_registration_record(path: str) -> bool:
    return path.startswith(REGISTRATIONS_DIR) and path.endswith(".toml")


def registration_fields(path: str) -> tuple[str, str, str] | None:
    """(snapshot, person, act) a registration record's name gives, which its statement must
    repeat; None for a path that is not a registration record."""
    m = _NAME.fullmatch(path.removeprefix(REGISTRATIONS_DIR))
    if not path.startswith(REGISTRATIONS_DIR) or m is None:
        return None
    return m.group("snapshot"), m.group("person"), m.group("act")


@dataclass(frozen=True)
class Registration:
    path: str
    sha256: str
    snapshot_id: str
    person: str
    act: str
    recorded: datetime
    snapshot: Snapshot | None = None  # register: the snapshot's facts
    reason: str = ""  # withdraw: why


def render_registration(
    snap: Snapshot | None, snapshot: str, person: str, act: str, when: datetime, reason: str = ""
) -> bytes:
    """The record file (deterministic TOML)."""
    lines = [
        "# Evidence registration: signed by the person it names (docs/evidence.md).",
        f'act = "{act}"',
        f'person = "{person}"',
        f"recorded = {when.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f'snapshot = "{snapshot}"',
    ]
    if reason:
        lines.append("reason = " + _toml_string(" ".join(reason.split())))
    if snap is not None:
        body = render_snapshot(snap.model_copy(update=dict.fromkeys(_OWN)))
        lines += ["", body.replace("[[snapshot]]", "[facts]", 1)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def parse_registrations(files: Mapping[str, bytes]) -> tuple[list[Registration], list[str]]:
    """Every registration record under evidence/registrations/, and why others are
    unreadable (each such problem names its file)."""
    out: list[Registration] = []
    problems: list[str] = []
    for path in sorted(files):
        if not is_registration_record(path):
            continue
        fields = registration_fields(path)
        if fields is None:
            problems.append(f"{path}: not a registration record name; ignored")
            continue
        try:
            rec = _parse_one(path, files[path])
        except (KeyError, TypeError, ValueError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            what = f"missing field {e}" if isinstance(e, KeyError) else _short(e)
            problems.append(f"{path}: unreadable registration: {what}")
            continue
        m = _NAME.fullmatch(path.removeprefix(REGISTRATIONS_DIR))
        assert m is not None
        if (rec.snapshot_id, rec.person, rec.act) != fields or stamp(rec.recorded) != m.group(
            "stamp"
        ):
            problems.append(f"{path}: the file name and its snapshot/person/act/time disagree")
            continue
        out.append(rec)
    return out, problems


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"facts.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
    return str(exc)


def _parse_one(path: str, data: bytes) -> Registration:
    table = tomllib.loads(data.decode("utf-8"))
    act = _text(table, "act")
    if act not in ACTS:
        raise ValueError(f"act must be one of {', '.join(ACTS)}")
    recorded = table.get("recorded")
    if not isinstance(recorded, datetime) or recorded.tzinfo is None:
        raise ValueError("recorded must be a UTC date-time such as 2026-11-27T09:00:00Z")
    snap: Snapshot | None = None
    if act == "register":
        facts = table.get("facts")
        if not isinstance(facts, dict):
            raise ValueError("a registration needs its [facts] table")
        if any(k in facts for k in _OWN):
            raise ValueError("[facts] must not name registered_by/registered_at (the record's own)")
        snap = Snapshot.model_validate(
            {**facts, "registered_by": _text(table, "person"), "registered_at": recorded}
        )
        if snap.id != _text(table, "snapshot"):
            raise ValueError("snapshot and facts.id differ")
    elif "facts" in table:
        raise ValueError("a withdrawal states no [facts]")
    return Registration(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        snapshot_id=_text(table, "snapshot"),
        person=_text(table, "person"),
        act=act,
        recorded=recorded.astimezone(UTC),
        snapshot=snap,
        reason=str(table.get("reason", "")),
    )


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class RegistrationInputs:
    records: Sequence[Registration]
    signatures: Mapping[str, SigStatus]
    placements: Mapping[str, Placement]
    signatures_required: bool  # the repository has a key registry (or a broken one)
    providers: Mapping[str, str]  # contract id -> its provider team
    teams: Mapping[str, str]  # person -> team (the signed people.toml with a registry)
    runners: frozenset[str]  # evaluation runners the signed policy names (resolved)
    runners_named: tuple[str, ...]  # the policy's words, for messages
    people_left: Callable[[str, date], bool]
    legacy: Manifest | None  # the shared evidence/manifest.toml, if any
    now: datetime
    now_is_real: bool = True
    unreadable: Sequence[str] = ()  # from parse_registrations


@dataclass
class Selection:
    """The snapshots that count now: what evaluation selects from and the gate judges by."""

    manifest: Manifest
    source: dict[str, str] = field(default_factory=dict)  # snapshot id -> the record counting
    # (contract or None for repository-wide, message): records that claim what they cannot.
    flags: list[tuple[str | None, str]] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)  # snapshot id -> why not in use

    def flags_for(self, contracts: Sequence[str]) -> dict[str, list[str]]:
        """Per contract, the flags about it (a repository-wide one is about every contract)."""
        out: dict[str, list[str]] = {}
        for contract, message in self.flags:
            for cid in contracts if contract is None else [contract]:
                out.setdefault(cid, []).append(message)
        return out


def registration_authority(
    person: str, contract: str | None, inp: RegistrationInputs
) -> str | None:
    """Why `person` may not register (or withdraw) evidence for `contract`, or None."""
    if person in inp.runners:
        return None
    named = ", ".join(inp.runners_named) or "nobody"
    if contract is None:
        return (
            f"{person} may not register repository-wide evidence: it feeds every contract, so "
            f"only an evaluation runner the signed policy names may (keys/policy.toml "
            f"[evaluation] runners: {named})"
        )
    provider = inp.providers.get(contract)
    if provider is None:
        return f"there is no contract {contract!r} to register evidence for"
    if inp.teams.get(person) != provider:
        return (
            f"{person} may not register evidence for {contract}: only members of its provider "
            f"team {provider} or an evaluation runner the signed policy names ({named}) may"
        )
    return None


def foreign_evidence(snap: Snapshot, contract: str) -> str | None:
    """Why a term of `contract` may not be judged on `snap`, or None when it may.

    Registering evidence for a contract needs authority over it (`registration_authority`),
    so a term is judged only on a snapshot registered for its own contract, or on
    repository-wide evidence (which only a runner registers). Live evidence is selected that
    way; a reference named by a stable name must be too: which snapshot holds a name is
    first come, and "first" is a signed local time, so a member could otherwise claim a name
    for a contract of their own (or backdate the claim on a branch forked before the
    provider's) and choose the reference another contract's drift is judged against."""
    if snap.contract in (None, contract):
        return None
    return (
        f"{snap.id} holds it, registered for {snap.contract}, not for {contract}: a term is "
        "judged only on evidence registered for its own contract (by its provider team or an "
        "evaluation runner)"
    )


def _problem(rec: Registration, contract: str | None, inp: RegistrationInputs) -> str | None:
    sig = inp.signatures.get(rec.path, "unsigned")
    if sig == "invalid":
        return f"the signature does not verify as {rec.person}"
    if sig == "unsigned" and inp.signatures_required:
        return f"not signed by {rec.person}"
    if rec.person not in inp.teams and rec.person not in inp.runners:
        return f"{rec.person} is not a person in keys/people.toml"
    if inp.people_left(rec.person, rec.recorded.date()):
        return f"{rec.person} had left when this was recorded"
    why = registration_authority(rec.person, contract, inp)
    if why is not None:
        return why
    if rec.snapshot is not None and rec.snapshot.captured_at > rec.recorded + SKEW:
        return (
            f"captured {rec.snapshot.captured_at:%Y-%m-%d %H:%MZ}, after it was registered: "
            "evidence cannot describe a moment that had not happened"
        )
    return time_problem(rec.recorded, inp.now, inp.placements.get(rec.path))


def _name_taken_without_authority(
    rec: Registration, chosen: dict[str, tuple[Snapshot, datetime, str]], inp: RegistrationInputs
) -> tuple[str | None, str] | None:
    """A registration that takes a name another counting snapshot holds re-points every
    term that references it: that needs authority over the holder's contract too (or the
    consumer, say, could pick the reference its provider's drift is judged against). The
    flag when the person lacks it, on the taker's own contract: the record that claims what
    it cannot is theirs (on the holder's, anyone providing any seam could fail the gate of
    every contract whose evidence has a name, at will); None when they may."""
    name = rec.snapshot.name if rec.snapshot is not None else None
    if name is None:
        return None
    for sid, (held, _when, _path) in chosen.items():
        if sid != rec.snapshot_id and held.name == name:
            why = registration_authority(rec.person, held.contract, inp)
            if why is not None:
                return rec.snapshot.contract if rec.snapshot else None, (
                    f"{rec.path}: cannot take the name {name!r} from {sid}: {why}; the name "
                    f"stays with {sid}"
                )
    return None


def decide_registrations(inp: RegistrationInputs) -> Selection:
    """Which snapshots count now (see the module docstring for the rule)."""
    flags: list[tuple[str | None, str]] = [(None, p) for p in inp.unreadable]
    ignored: dict[str, str] = {}
    chosen: dict[str, tuple[Snapshot, datetime, str]] = {}  # id -> (facts, time, record)
    legacy = inp.legacy.snapshots if inp.legacy is not None else ()
    if not inp.signatures_required:
        for snap in legacy:
            chosen[snap.id] = (snap, snap.registered_at or snap.captured_at, MANIFEST_PATH)
    for rec in sorted(inp.records, key=lambda r: (r.recorded, r.path)):
        if not inp.now_is_real and rec.recorded > inp.now:
            continue  # a what-if --now before it: not made yet at that moment
        held = chosen.get(rec.snapshot_id)
        facts = rec.snapshot if rec.snapshot is not None else (held[0] if held else None)
        contract = facts.contract if facts is not None else None
        problem = _problem(rec, contract, inp)
        if problem is not None:
            flags.append((contract, f"{rec.path}: {problem}"))
            ignored[rec.snapshot_id] = f"{rec.path}: {problem}"
            continue
        if rec.act == "withdraw":
            if held is not None:
                del chosen[rec.snapshot_id]
                ignored[rec.snapshot_id] = f"withdrawn by {rec.person} ({rec.path})"
            continue
        assert rec.snapshot is not None
        if held is not None and held[0].contract not in (None, contract):
            # Moving a snapshot to another contract takes it from the first one: that
            # needs authority over the contract it leaves too.
            why = registration_authority(rec.person, held[0].contract, inp)
            if why is not None:
                flags.append((held[0].contract, f"{rec.path}: {why}"))
                continue
        snap = rec.snapshot
        taken = _name_taken_without_authority(rec, chosen, inp)
        if taken is not None:
            flags.append(taken)
            snap = snap.model_copy(update={"name": None})  # registered, without the name
        chosen[rec.snapshot_id] = (snap, rec.recorded, rec.path)
        ignored.pop(rec.snapshot_id, None)
    if inp.signatures_required:
        for snap in legacy:
            if snap.id not in chosen and snap.id not in ignored:
                why = (
                    f"{MANIFEST_PATH}: snapshot {snap.id} is registered only in the unsigned "
                    f"legacy manifest (registered_by {snap.registered_by or 'nobody'} is a claim "
                    "nobody signed), so it does not count; an authorised person re-registers "
                    f"it with `workbench evidence register {snap.id}`"
                )
                flags.append((snap.contract, why))
                ignored[snap.id] = why
    return Selection(
        _manifest(chosen, ignored), {k: v[2] for k, v in chosen.items()}, flags, ignored
    )


def _manifest(
    chosen: dict[str, tuple[Snapshot, datetime, str]], ignored: dict[str, str]
) -> Manifest:
    """The chosen snapshots as one manifest: a name held twice stays with the snapshot
    registered last; a path held twice stays with the first registered (the later one is
    a copy of another snapshot's file and cannot be its bytes)."""
    names: dict[str, str] = {}
    paths: dict[str, str] = {}
    snaps: list[Snapshot] = []
    order = sorted(chosen.items(), key=lambda kv: (kv[1][1], kv[0]))
    for sid, (snap, _when, _path) in order:
        if snap.name is not None:
            names[snap.name] = sid
    for sid, (snap, _when, record) in order:
        key = f"{snap.path} @ {snap.table_version}"
        if key in paths:
            ignored[sid] = f"{record}: {snap.path} is already the file of {paths[key]}"
            continue
        paths[key] = sid
        if snap.name is not None and names.get(snap.name) != sid:
            snap = snap.model_copy(update={"name": None})
        snaps.append(snap)
    return Manifest(snapshots=tuple(snaps))
