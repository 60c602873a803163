"""Merge two versions of `evidence/manifest.toml`: the one shared file of records that
stays shared (docs/sync.md, "The record layout").

Why it stays one file: its sha256 is an input of every evaluation run's id, the audit
bundle ships it and both bundle verifiers (VERIFY.sh included) check every evidence file
against it. Splitting it would change every run's inputs and the bundle format. Each entry
is one delivered evidence snapshot, keyed by an id derived from the file's sha256, and
snapshots are never edited, so a three-way merge by id is exact:

* an entry only one side added (or removed) is taken from that side;
* an entry both sides added identically is taken once;
* anything else (the same id registered with other metadata on each side, or one `name`
  given to two different snapshots) is a real conflict: those entries are written between
  conflict markers, ours then theirs, and the rest of the file is merged.

The result is rendered canonically (sorted by id), so both clones that merge the same two
versions write the same bytes. Used by `workbench sync` in-process and, for a plain
`git merge`, by the git merge driver `workbench merge-driver manifest` (docs/sync.md).
Pure: text in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.evidence.errors import ManifestError
from workbench.evidence.manifest import (
    MANIFEST_VERSION,
    Manifest,
    Snapshot,
    parse_manifest,
    render_manifest,
    render_snapshot,
)


@dataclass
class ManifestMerge:
    text: str
    conflicts: list[str] = field(default_factory=list)  # one line per conflicting entry

    @property
    def clean(self) -> bool:
        return not self.conflicts


def _entries(text: str | None, label: str) -> dict[str, Snapshot]:
    if text is None or not text.strip():
        return {}
    return {s.id: s for s in parse_manifest(text, label).snapshots}


def merge_manifests(base: str | None, ours: str, theirs: str) -> ManifestMerge | None:
    """The three-way merge of the manifest by snapshot id; None when a side does not
    parse (then it is left to a line merge, and `validate` says what is wrong)."""
    try:
        b = _entries(base, "base")
        o = _entries(ours, "ours")
        t = _entries(theirs, "theirs")
    except ManifestError:
        return None
    merged: list[Snapshot] = []
    clashes: list[tuple[Snapshot | None, Snapshot | None, str]] = []
    for sid in sorted(b.keys() | o.keys() | t.keys()):
        bo, oo, to = b.get(sid), o.get(sid), t.get(sid)
        if oo == to:
            chosen = oo
        elif oo == bo:
            chosen = to
        elif to == bo:
            chosen = oo
        else:
            what = (
                "removed on one side and changed on the other"
                if oo is None or to is None
                else "registered with different details on each side"
            )
            clashes.append((oo, to, f"{sid}: {what}"))
            continue
        if chosen is not None:
            merged.append(chosen)
    # Names are aliases contracts refer to: one name for two snapshots is ambiguous.
    by_name: dict[str, Snapshot] = {}
    for snap in list(merged):
        if snap.name is None:
            continue
        other = by_name.get(snap.name)
        if other is None:
            by_name[snap.name] = snap
            continue
        merged = [s for s in merged if s.id not in (snap.id, other.id)]
        mine, yours = (other, snap) if other.id in o else (snap, other)
        clashes.append((mine, yours, f"name {snap.name!r} given to both {other.id} and {snap.id}"))
    try:
        text = render_manifest(Manifest(version=MANIFEST_VERSION, snapshots=tuple(merged)))
    except ValueError:
        return None  # e.g. two ids with one path: a line merge shows it to the person
    for ours_snap, theirs_snap, _why in clashes:
        text += (
            "\n<<<<<<< ours\n"
            + (render_snapshot(ours_snap) + "\n" if ours_snap else "")
            + "=======\n"
            + (render_snapshot(theirs_snap) + "\n" if theirs_snap else "")
            + ">>>>>>> theirs\n"
        )
    return ManifestMerge(text, [why for _m, _y, why in clashes])
