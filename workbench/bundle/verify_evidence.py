"""Check 8 of ``verify-bundle`` (see ``workbench.bundle.verify``): the evidence manifest
parses, bundle.json's evidence list agrees with it, every shipped snapshot file matches its
registered sha256 and no other evidence file is shipped, and every finding cites a snapshot
with the sha256 the manifest registers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.bundle.read_members import digest_of
from workbench.bundle.report import BundleReport
from workbench.evidence.errors import EvidenceError
from workbench.evidence.tables import version_json
from workbench.model.record_folders import REGISTRATIONS_DIR
from workbench.signing.canonical import strict_loads, written_form_problem

# A table's data-file listing: every data file's path, size and sha256.
MAX_LISTING_BYTES = 64 << 20

if TYPE_CHECKING:
    from workbench.evidence.manifest import Manifest
    from workbench.governance.records import SigStatus


def verify_evidence(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    report: BundleReport,
    statuses: Mapping[str, SigStatus] | None = None,
    head: Any = None,
    exported: datetime | None = None,
) -> None:
    from workbench.evidence.findings import parse_run
    from workbench.evidence.manifest import MANIFEST_PATH, parse_manifest

    evidence = index.get("evidence") or {}
    listed = evidence.get("snapshots") or []
    raw = files.get(MANIFEST_PATH)
    problems: list[str] = []
    registered: dict[str, str] = {}
    if raw is None:
        if listed:
            problems.append("evidence/manifest.toml is missing")
    else:
        manifest = None
        try:
            manifest = parse_manifest(raw.decode("utf-8"), MANIFEST_PATH)
            registered = {s.id: s.sha256 for s in manifest.snapshots}
            paths = {s.id: s.path for s in manifest.snapshots}
            tables = {
                s.id: {"format": s.format, "version": version_json(s.table_version)}
                for s in manifest.snapshots
                if s.table_version is not None
            }
        except (ValueError, UnicodeDecodeError, EvidenceError) as exc:
            problems.append(f"evidence/manifest.toml: {exc}")
            paths, tables = {}, {}
        included = 0
        listings: set[str] = set()
        for item in listed:
            sid = item.get("id")
            if type(item.get("included")) is not bool:
                # (0, "" or null are not false, nor "false" true: one reading for both verifiers)
                problems.append(f"{sid}: included is not true or false")
                continue
            if registered.get(sid) != item.get("sha256") or paths.get(sid) != item.get("path"):
                problems.append(f"{sid}: bundle.json and the manifest disagree")
                continue
            if sid in tables or item.get("table") is not None:
                problem = _table_problem(files, item, tables.get(str(sid)))
                if problem is not None:
                    problems.append(problem)
                listings.add(str(item.get("listing")))
                continue
            if item.get("included"):
                path = item["path"]
                if path not in files or digest_of(files, path) != item["sha256"]:
                    problems.append(f"{item['path']}: does not match its registered sha256")
                else:
                    included += 1
        shipped = {
            p
            for p in files
            if p.startswith("evidence/")
            and p != MANIFEST_PATH
            and not p.startswith(REGISTRATIONS_DIR)
        }
        if head is not None and exported is not None:
            problems += _selection_problems(files, manifest, statuses or {}, head, exported)
        expected = {i["path"] for i in listed if i.get("included")} | listings
        for stray in sorted(shipped - expected):
            problems.append(f"{stray}: evidence file not listed as included")
    from workbench.evidence.run_chain import RUN_FILE_RE

    runs = 0
    for path in sorted(files):
        if RUN_FILE_RE.fullmatch(path):
            try:
                run = parse_run(files[path], path)
            except (ValueError, EvidenceError) as exc:
                problems.append(str(exc))
                continue
            runs += 1
            for f in run.get("findings", []):
                for snap in f.get("snapshots", []) or []:
                    sid = snap.get("id")
                    if sid in registered and registered[sid] != snap.get("sha256"):
                        problems.append(
                            f"{path}: {f.get('contract')}/{f.get('term')} cites {sid} with "
                            "another sha256 than the manifest"
                        )
    if problems:
        report.add("evidence", "fail", "; ".join(problems[:20]))
    else:
        left = sum(1 for i in listed if not i.get("included"))
        tabled = sum(1 for i in listed if i.get("listing"))
        left -= tabled
        report.add(
            "evidence",
            "ok",
            f"{len(listed) - left - tabled} snapshot file(s) match the manifest"
            + (f", {left} listed by hash only" if left else "")
            + (
                f", {tabled} table version(s) pinned by their data-file listing (file hashes)"
                if tabled
                else ""
            )
            + f"; {runs} findings run(s) cite registered snapshots",
        )


def _selection_problems(
    files: Mapping[str, bytes],
    manifest: Manifest | None,
    statuses: Mapping[str, SigStatus],
    head: Any,
    exported: datetime,
) -> list[str]:
    """The shipped manifest must be exactly the snapshots the shipped registrations make
    count, by the repository's own rule (``evidence.registrations.decide_registrations``)
    with the bundle's signed people, policy and contracts, at the export."""
    import tomllib

    from workbench.evidence.manifest import MANIFEST_PATH
    from workbench.evidence.registrations import (
        RegistrationInputs,
        decide_registrations,
        parse_registrations,
    )
    from workbench.evidence.run_chain import resolve_runners
    from workbench.signing.registry import PEOPLE
    from workbench.signing.verdict import parse_people

    if manifest is None:
        return []
    records, unreadable = parse_registrations(files)
    people = {p.id: p for p in parse_people(head.files[PEOPLE]).people}
    providers: dict[str, str] = {}
    for path in files:
        if path.startswith("contracts/") and path.endswith(".toml"):
            try:
                doc = tomllib.loads(files[path].decode("utf-8"))
                providers[str(doc["id"])] = str(doc["seam"]["provider"])
            except (KeyError, TypeError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
    named = tuple(head.policy.evaluation.runners)
    day = exported.date()
    runners = resolve_runners(
        list(named),
        {pid: p.team for pid, p in people.items()},
        lambda pid: pid in people and people[pid].has_left(day),
    )
    selection = decide_registrations(
        RegistrationInputs(
            records=records,
            signatures={r.path: statuses.get(r.path, "unsigned") for r in records},
            placements={},
            signatures_required=True,
            providers=providers,
            teams={pid: p.team for pid, p in people.items()},
            runners=runners,
            runners_named=named,
            people_left=lambda pid, d: pid in people and people[pid].has_left(d),
            legacy=None,
            now=exported,
            unreadable=unreadable,
        )
    )
    derived = {s.id: s.sha256 for s in selection.manifest.snapshots}
    listed = {s.id: s.sha256 for s in manifest.snapshots}
    out = [
        f"{MANIFEST_PATH}: {sid} is listed but no registration that counts registers it"
        + (f" ({selection.ignored[sid]})" if sid in selection.ignored else "")
        for sid in sorted(set(listed) - set(derived))
    ]
    out += [
        f"{MANIFEST_PATH}: {sid} counts by its registration but is not listed"
        for sid in sorted(set(derived) - set(listed))
    ]
    return out


def _table_problem(
    files: Mapping[str, bytes], item: dict[str, Any], registered: dict[str, Any] | None
) -> str | None:
    """A table snapshot (Delta version, Iceberg snapshot id): bundle.json names the format
    and version the manifest registers, and ships the data-file listing whose sha256 the
    manifest registers as the snapshot's (``evidence.tables``): the files and hashes of
    exactly that version, never its rows."""
    from workbench.evidence.tables import listing_path

    sid = str(item.get("id"))
    if registered is None or not _same_table(item.get("table"), registered):
        return f"{sid}: bundle.json and the manifest disagree on the table and its version"
    path = listing_path(sid)
    if item.get("listing") != path or path not in files:
        return f"{sid}: a {registered['format']} table without its data-file listing ({path})"
    if digest_of(files, path) != item.get("sha256"):
        return f"{path}: does not match its registered sha256"
    problem = written_form_problem(files[path], MAX_LISTING_BYTES, pretty=True)
    if problem:
        return f"{path}: {problem}"
    listing = strict_loads(files[path], MAX_LISTING_BYTES)
    listed = (
        {"format": listing.get("format"), "version": listing.get("version")}
        if isinstance(listing, dict)
        else None
    )
    if not _same_table(listed, registered):
        return f"{path}: lists another table or version than the manifest registers"
    return None


def _same_table(table: Any, registered: dict[str, Any]) -> bool:
    """``table`` is exactly {format: the registered string, version: the registered
    integer (past 2^53 its digits, `tables.version_json`)}: ``"0"``, ``0.0`` or ``False``
    are not version 0 (Python's ``==`` would take
    the last two; VERIFY.sh's jq takes none)."""
    return (
        isinstance(table, dict)
        and set(table) == {"format", "version"}
        and type(table["format"]) is str
        and type(table["version"]) is type(registered["version"])  # int, or digits past 2^53
        and table == registered
    )
