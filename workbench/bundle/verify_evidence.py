"""Check 8 of ``verify-bundle`` (see ``workbench.bundle.verify``): the evidence manifest
parses, bundle.json's evidence list agrees with it, every shipped snapshot file matches its
registered sha256 and no other evidence file is shipped, and every finding cites a snapshot
with the sha256 the manifest registers."""

from __future__ import annotations

import json
from typing import Any

from workbench.bundle.report import BundleReport
from workbench.evidence.errors import EvidenceError
from workbench.signing.statement import sha256_hex


def verify_evidence(files: dict[str, bytes], index: dict[str, Any], report: BundleReport) -> None:
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
        try:
            manifest = parse_manifest(raw.decode("utf-8"), MANIFEST_PATH)
            registered = {s.id: s.sha256 for s in manifest.snapshots}
            paths = {s.id: s.path for s in manifest.snapshots}
            tables = {
                s.id: {"format": s.format, "version": s.table_version}
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
                data = files.get(item["path"])
                if data is None or sha256_hex(data) != item["sha256"]:
                    problems.append(f"{item['path']}: does not match its registered sha256")
                else:
                    included += 1
        shipped = {p for p in files if p.startswith("evidence/") and p != MANIFEST_PATH}
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


def _table_problem(
    files: dict[str, bytes], item: dict[str, Any], registered: dict[str, Any] | None
) -> str | None:
    """A table snapshot (Delta version, Iceberg snapshot id): bundle.json names the format
    and version the manifest registers, and ships the data-file listing whose sha256 the
    manifest registers as the snapshot's (``evidence.tables``): the files and hashes of
    exactly that version, never its rows."""
    from workbench.evidence.tables import listing_path

    sid = str(item.get("id"))
    if registered is None or item.get("table") != registered:
        return f"{sid}: bundle.json and the manifest disagree on the table and its version"
    path = listing_path(sid)
    if item.get("listing") != path or path not in files:
        return f"{sid}: a {registered['format']} table without its data-file listing ({path})"
    if sha256_hex(files[path]) != item.get("sha256"):
        return f"{path}: does not match its registered sha256"
    try:
        listing = json.loads(files[path])
        listed = {"format": listing["format"], "version": listing["version"]}
    except (ValueError, TypeError, KeyError):
        listed = None
    if listed != registered:
        return f"{path}: lists another table or version than the manifest registers"
    return None
