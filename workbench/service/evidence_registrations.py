"""Evidence registrations for one session: the inputs of the one rule
(``workbench.evidence.registrations.decide_registrations``) gathered from the repository,
and the signed records written through the one write door.

Which snapshots count (the *selection*) is what ``evaluate`` selects from, what the current
finding compares with, and what ``evidence list`` shows; registrations that claim what they
cannot feed the gate's ``records_valid``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import TYPE_CHECKING, Any

from workbench.evidence.manifest import (
    MANIFEST_PATH,
    Manifest,
    Snapshot,
    SnapshotIntegrity,
    manifest_positions,
    render_manifest,
)
from workbench.evidence.registrations import (
    RegistrationInputs,
    Selection,
    decide_registrations,
    parse_registrations,
    registration_authority,
    registration_path,
    render_registration,
)
from workbench.governance.record_time import Placement
from workbench.model.record_folders import REGISTRATIONS_DIR
from workbench.service.errors import WorkbenchError
from workbench.service.signed_records import SignedRecords

if TYPE_CHECKING:
    from workbench.service.core import Workbench


def _under_registrations(path: str) -> bool:
    # One function (not a new lambda per call): git caches a tree's files by it.
    return path.startswith(REGISTRATIONS_DIR) or REGISTRATIONS_DIR.startswith(path)


class Registrations:
    """`wb.evidence.registrations`: which snapshots count, and registering them."""

    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self._records: SignedRecords | None = None
        self._cache: dict[tuple[str, str | None, Any], Selection] = {}

    @property
    def records(self) -> SignedRecords:
        if self._records is None:
            self._records = SignedRecords(self.wb)
        return self._records

    def _rev(self, rev: str) -> str:
        return "HEAD" if rev == "WORKTREE" and self.wb.committed else rev

    def legacy(self, rev: str = "WORKTREE") -> Manifest | None:
        """The shared evidence/manifest.toml of earlier versions (None: there is none)."""
        from workbench.service.manifest_cache import parse_cached

        data = self.wb.git.blob_at(self._rev(rev), MANIFEST_PATH)
        if data is None:
            return None
        return parse_cached(self.wb.root, data, writable=not self.wb.readonly)

    def files(self, rev: str = "WORKTREE") -> dict[str, bytes]:
        if self.wb.git.is_empty:
            return {}
        return self.wb.git.read_files(self._rev(rev), _under_registrations)

    def selection(self, rev: str = "WORKTREE") -> Selection:
        """The snapshots that count at `rev` (see ``decide_registrations``)."""
        # Registrations are written only by commits (this session's `write` forgets), so
        # the commit and the clock name every input: several rooms ask per command.
        head = None if self.wb.git.is_empty else self.wb.git.head_id()
        key = (self._rev(rev), head, self.wb.now)
        if key not in self._cache:
            if len(self._cache) >= 4:
                self._cache.clear()
            self._cache[key] = decide_registrations(self.inputs(rev))
        return self._cache[key]

    def forget(self) -> None:
        self._cache = {}

    def inputs(self, rev: str = "WORKTREE", *, records_too: bool = True) -> RegistrationInputs:
        wb = self.wb
        files = self.files(rev) if records_too else {}
        records, unreadable = parse_registrations(files)
        signatures = {
            r.path: self.records.status(
                files, r.path, r.person, {"snapshot": r.snapshot_id, "act": r.act}
            )
            for r in records
        }
        placed = wb.git.placements((REGISTRATIONS_DIR,)) if records else {}
        state = wb.state(self._rev(rev))
        sign = wb.evidence.book.signing()
        teams, left = self._people(sign)
        return RegistrationInputs(
            records=records,
            signatures=signatures,
            placements={p: Placement(c, parent) for p, (c, parent) in placed.items()},
            signatures_required=bool(sign["required"]),
            providers={cid: d.contract.seam.provider for cid, d in state.contracts.items()},
            teams=teams,
            runners=frozenset(sign["runners"]),
            runners_named=tuple(sign["named"]),
            people_left=left,
            legacy=self.legacy(rev),
            now=wb.now,
            now_is_real=wb.clock_is_real,
            unreadable=unreadable,
        )

    def _people(self, sign: dict[str, Any]) -> tuple[dict[str, str], Any]:
        """person -> team and who had left, from the signed people.toml of the registry
        head (the working tree's people.toml when the repository has no registry)."""
        head = sign["head"]
        if head is not None:
            from workbench.signing.registry import PEOPLE
            from workbench.signing.verdict import parse_people

            people = {p.id: p for p in parse_people(head.files[PEOPLE]).people}
        else:
            people = dict(self.wb.state().people)
        return (
            {pid: p.team for pid, p in people.items()},
            lambda pid, day: pid in people and people[pid].has_left(day),
        )

    def flags(self) -> dict[str, list[str]]:
        """Per contract: registrations that claim what they cannot (records_valid fails)."""
        return self.selection().flags_for(sorted(self.wb.state().contracts))

    # -- acts --------------------------------------------------------------------------
    def authority_problem(self, person: str, contract: str | None) -> str | None:
        """Why `person` may not register evidence for `contract` here (None: they may)."""
        inp = self.inputs("HEAD", records_too=False)
        if not inp.signatures_required:
            return None
        return registration_authority(person, contract, inp)

    def write(
        self,
        snaps: list[Snapshot],
        message: str,
        *,
        extra: dict[str, bytes | None] | None = None,
        signer: Any = None,
        act: str = "register",
        reason: str = "",
    ) -> str:
        """One commit: a registration record per snapshot (or a withdrawal), signed by the
        acting person once the repository has a key registry, with `extra` files (the
        evidence files) beside them. Refused when the person has no authority."""
        wb = self.wb
        wb.require_writable("register evidence")
        actor = wb.actor()
        when = wb.record_time().astimezone(UTC).replace(microsecond=0)
        for snap in snaps:
            why = self.authority_problem(actor.id, snap.contract)
            if why is not None:
                raise WorkbenchError(f"{why} (docs/evidence.md, 'Who may register evidence')")
        records = [
            (
                registration_path(s.id, when, actor.id, act),
                render_registration(
                    s if act == "register" else None, s.id, actor.id, act, when, reason
                ),
                {"snapshot": s.id, "act": act},
            )
            for s in snaps
        ]
        changes, fingerprint, signer = self.records.signed_changes(records, actor.id, signer)
        changes.update(extra or {})
        if fingerprint is None:
            message += "\nUnsigned: this repository has no key registry yet.\n"
        else:
            message += f"\nSigned by {actor.id} with key {fingerprint}.\n"
        commit = wb.commit(changes, message, signer=signer if fingerprint else None)
        self.forget()
        return commit

    def withdraw(self, ref: str, reason: str, *, signer: Any = None) -> Snapshot:
        """Take a snapshot that counts out of use, as a signed record of the acting person
        (who needs the same authority as for registering it)."""
        if not reason.strip():
            raise WorkbenchError("--reason TEXT is required: say why it must not be used")
        snap = self.selection("HEAD").manifest.resolve(ref)
        if snap is None:
            raise WorkbenchError(f"no registered snapshot {ref!r} that counts")
        self.write(
            [snap],
            f"Withdraw evidence {snap.id} ({snap.kind})\n\n{reason.strip()}\n",
            signer=signer,
            act="withdraw",
            reason=reason,
        )
        return snap

    def register_legacy(self, refs: list[str], *, signer: Any = None) -> list[Snapshot]:
        """Re-register snapshots of the legacy manifest as signed records by the acting
        person (the migration); `refs` empty: every legacy snapshot not yet counting that
        the person may register."""
        legacy = self.legacy("HEAD")
        if legacy is None or not legacy.snapshots:
            raise WorkbenchError(f"no legacy {MANIFEST_PATH} to migrate")
        counting = self.selection("HEAD").manifest
        actor = self.wb.actor()
        if refs:
            snaps = []
            for ref in refs:
                snap = legacy.resolve(ref)
                if snap is None:
                    raise WorkbenchError(f"no snapshot {ref!r} in {MANIFEST_PATH}")
                snaps.append(snap)
        else:
            snaps = [
                s
                for s in legacy.snapshots
                if counting.get(s.id) is None
                and self.authority_problem(actor.id, s.contract) is None
            ]
        snaps = [s.model_copy(update={"registered_by": None, "registered_at": None}) for s in snaps]
        if not snaps:
            raise WorkbenchError(
                f"nothing to register: every snapshot of {MANIFEST_PATH} you may register "
                "already counts"
            )
        listed = "\n".join(f"- {s.id} ({s.kind}, {s.contract or 'repository-wide'})" for s in snaps)
        self.write(
            snaps,
            f"Register {len(snaps)} snapshot(s) of the legacy evidence manifest\n\n{listed}\n",
            signer=signer,
        )
        return snaps


def selection_input(selection: Selection) -> dict[str, str]:
    """The run input naming the snapshots the counting registrations select (rendered as
    a manifest); absent where only the legacy manifest registers evidence, so runs of such
    repositories keep their ids."""
    if all(p == MANIFEST_PATH for p in selection.source.values()):
        return {}
    rendered = render_manifest(selection.manifest).encode("utf-8")
    return {"registrations_sha256": hashlib.sha256(rendered).hexdigest()}


def refusal(
    manifest_text: bytes, record: str | None, snap: Snapshot, integrity: SnapshotIntegrity
) -> str:
    """Why a snapshot is not used; a path refused by the record itself (outside the roots,
    unsafe) names the registration, or the legacy manifest entry's file:line:column."""
    reason = f"snapshot {snap.id} not used: {integrity.reason}"
    if integrity.status not in ("outside_roots", "unsafe_path"):
        return reason
    if record is not None and record != MANIFEST_PATH:
        return f"{record}: {reason}"
    line, column = manifest_positions(manifest_text).get(snap.id, (1, 1))
    return f"{MANIFEST_PATH}:{line}:{column}: {reason}"
