"""Checks 4 and 5 of ``verify-bundle`` (see ``workbench.bundle.verify``): the exporter's
snapshot and the signed index bundle.json it names, then the history the snapshot claims:
the earlier snapshots in exports/, the head map, and what the auditor kept last time
(rollback, fork)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.bundle import layout as bl
from workbench.bundle.archive import BundleFormatError, Limits
from workbench.bundle.heads import Head, Heads, HeadsError, parse_heads, rollback_problems
from workbench.bundle.read_members import evidence_file, read_members
from workbench.bundle.report import BundleReport
from workbench.signing import registry as reg
from workbench.signing.attestation import verify_attestation
from workbench.signing.canonical import CanonicalError, strict_loads
from workbench.signing.snapshot import SnapshotCheck, check_snapshot
from workbench.signing.statement import (
    SNAPSHOT_PREDICATE,
    StatementError,
    parse_statement,
    sha256_hex,
)

_SHA = re.compile(r"[0-9a-f]{64}")
_REGISTRY_SUBJECT = re.compile(r"registry/v([1-9][0-9]{0,6})/statement\.json")
MAX_INDEX_BYTES = 64 << 20


def bundle_json(files: Mapping[str, bytes]) -> dict[str, Any]:
    """The signed index, strictly parsed (its signature is checked with the snapshot)."""
    data = files.get(bl.INDEX)
    if data is None:
        raise BundleFormatError(f"{bl.INDEX} is missing")
    try:
        index = strict_loads(data, MAX_INDEX_BYTES)
    except CanonicalError as exc:
        raise BundleFormatError(f"{bl.INDEX}: {exc}") from None
    if not isinstance(index, dict) or index.get("format") != bl.FORMAT:
        raise BundleFormatError(f"bundle.json is not a {bl.FORMAT} index")
    return index


@dataclass
class Previous:
    """What the auditor kept from last time: a snapshot's sha256, its bytes, or a bundle."""

    sha256: str = ""
    snapshot: bytes | None = None
    files: Mapping[str, bytes] | None = None  # an earlier bundle's files


def read_previous(previous: str | bytes | Path | None, limits: Limits) -> Previous:
    if previous is None:
        return Previous()
    if isinstance(previous, str) and _SHA.fullmatch(previous.strip().lower()):
        return Previous(previous.strip().lower())
    data = Path(previous).read_bytes() if not isinstance(previous, bytes) else previous
    if data[:2] == b"\x1f\x8b":
        # Kept as the bundle being verified is (its contracts are compared with this one's).
        files = read_members(data, limits, hash_only=evidence_file)
        snap = files.get(bl.SNAPSHOT)
        if snap is None:
            raise BundleFormatError("the previous bundle has no snapshot.json")
        return Previous(sha256_hex(snap), snap, files)
    return Previous(sha256_hex(data), data)


@dataclass
class SnapshotOutcome:
    """Check 4's result, what check 5 and the expiry build on."""

    raw: bytes
    check: SnapshotCheck
    previous: Previous

    @property
    def predicate(self) -> Any:  # SnapshotPredicate
        return self.check.statement.predicate

    @property
    def current(self) -> bool:
        return self.check.current


def check_snapshot_and_index(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    digests: dict[str, str],
    head: reg.Registry,
    ns: reg.Namespaces,
    repository: str,
    previous: str | bytes | Path | None,
    now: datetime,
    limits: Limits,
    report: BundleReport,
) -> SnapshotOutcome | None:
    """4. The snapshot is signed by an authorised exporter and names this registry head and
    this bundle.json, which lists every other file. None when the snapshot is unreadable."""
    snapshot = files.get(bl.SNAPSHOT)
    if snapshot is None:
        raise BundleFormatError("snapshot.json is missing")
    report.snapshot_sha256 = sha256_hex(snapshot)
    head_path = bl.registry_dir(head.version) + "statement.json"
    kept = read_previous(previous, limits)
    try:
        # What the snapshot must cover, as far as the bundle holds it: a covered file that
        # is not there is reported missing, not as different bytes.
        subjects = {p: files[p] for p in (head_path, bl.INDEX, bl.HEADS) if p in files}
        sc = check_snapshot(
            snapshot,
            subjects,
            now,
            last_seen=kept.snapshot if kept.snapshot not in (None, snapshot) else None,
            present=files.keys(),
        )
    except StatementError as exc:
        report.add("snapshot", "fail", f"snapshot.json: {exc}")
        return None
    pred = sc.statement.predicate
    report.snapshot_version = pred.snapshotVersion
    report.exported_at = pred.exportedAt
    report.expires = pred.expires
    report.current = sc.current
    exporter = index.get("exporter", {}).get("principal")
    report.exporter = exporter
    sig_files = {p: files[p] for p in files if bl.SNAPSHOT_SIG_RE.fullmatch(p)}
    problems = [p for p in sc.problems if not p.startswith("rollback")]
    problems += [p for p in sc.problems if p.startswith("rollback") and kept.snapshot is not None]
    if pred.repository != repository or head.repository != repository:
        problems.append("the snapshot names another repository than the registry")
    problems += _exporter_problems(snapshot, exporter, sig_files, index, head, ns)
    if problems:
        report.add("snapshot", "fail", "; ".join(problems))
    else:
        report.add(
            "snapshot",
            "ok",
            f"v{pred.snapshotVersion} signed by {exporter}; subjects (registry head, "
            "bundle.json) match",
        )
    _check_signed_index(files, index, digests, report)
    if len(sig_files) != 1:
        report.add("signed index", "fail", f"{len(sig_files)} snapshot signature files, expected 1")
    return SnapshotOutcome(snapshot, sc, kept)


def _exporter_problems(
    snapshot: bytes,
    exporter: Any,
    sig_files: dict[str, bytes],
    index: dict[str, Any],
    head: reg.Registry,
    ns: reg.Namespaces,
) -> list[str]:
    """The snapshot's signature file verifies as the exporter bundle.json names."""
    if not isinstance(exporter, str) or bl.snapshot_sig(exporter) not in sig_files:
        return [f"no signature file snapshot.{exporter}.sig"]
    problems = []
    result = verify_attestation(
        snapshot, sig_files, ns.snapshot, head, {reg.person_of(exporter)}, now=None
    )
    if result.invalid or result.missing:
        bad = next(iter(result.invalid or result.checks), None)
        problems.append(
            f"not signed by the exporter {exporter}"
            + (f": {bad.file}: {bad.message}" if bad else "")
        )
    return problems + _exporter_authority(exporter, index, head)


def _exporter_authority(exporter: str, index: dict[str, Any], head: reg.Registry) -> list[str]:
    """The snapshot's signer must be someone the signed policy lets export."""
    from workbench.signing.snapshot import authorised_exporters
    from workbench.signing.verdict import parse_people

    person = reg.person_of(exporter)
    named = (index.get("exporter") or {}).get("person")
    problems = []
    if named != person:
        problems.append(f"bundle.json names exporter {named!r}, the signature file {exporter}")
    allowed = authorised_exporters(head.policy, parse_people(head.files[reg.PEOPLE]))
    if person not in allowed:
        problems.append(
            f"{person} may not sign an audit snapshot: keys/policy.toml [export] exporters "
            f"({', '.join(head.policy.export.exporters)}) of registry v{head.version} names "
            f"{', '.join(sorted(allowed)) or 'nobody'}"
        )
    return problems


def _check_signed_index(
    files: Mapping[str, bytes], index: dict[str, Any], digests: dict[str, str], report: BundleReport
) -> None:
    """bundle.json lists every file but the unindexed ones, each with its sha256."""
    listed = index.get("files")
    if not isinstance(listed, dict):
        raise BundleFormatError("bundle.json has no file list")
    indexed_expected = {p for p in files if not bl.is_unindexed(p)}
    changed = sorted(p for p, d in listed.items() if p in digests and digests[p] != d)
    missing = sorted(set(listed) - set(files))
    extra = sorted(indexed_expected - set(listed))
    if changed or missing or extra:
        parts = []
        if changed:
            parts.append("changed: " + ", ".join(changed[:10]))
        if missing:
            parts.append("missing: " + ", ".join(missing[:10]))
        if extra:
            parts.append("not in the signed index: " + ", ".join(extra[:10]))
        report.add("signed index", "fail", "; ".join(parts))
    else:
        report.add("signed index", "ok", f"bundle.json covers all {len(listed)} files; all match")


def check_history(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    head: reg.Registry,
    snapshot: SnapshotOutcome,
    report: BundleReport,
) -> None:
    """5. The earlier snapshots chain to this one, the head map agrees with bundle.json, and
    this snapshot is or extends the one the auditor kept (no head went back, no fork)."""
    chain, chain_ok = _check_snapshot_chain(files, snapshot.predicate, report)
    current_heads = _check_heads(files, index, head, report)
    kept = snapshot.previous
    if kept.sha256:
        _check_rollback(files, head, snapshot, chain, chain_ok, current_heads, report)
        if kept.files is not None:
            _compare_bundles(kept.files, files, index, report)
    else:
        report.add(
            "rollback",
            "info",
            "no previous snapshot given: a rollback to an older bundle cannot be detected",
        )


def _check_snapshot_chain(
    files: Mapping[str, bytes], pred: Any, report: BundleReport
) -> tuple[dict[int, bytes], bool]:
    """exports/v1..v(N-1) hash-linked up to this snapshot vN. Returns them and whether the
    chain holds."""
    chain: dict[int, bytes] = {}
    for path in files:
        if m := bl.EXPORT_STATEMENT_RE.fullmatch(path):
            chain[int(m.group(1))] = files[path]
    problems = []
    previous_sha = None
    for k in range(1, pred.snapshotVersion):
        earlier = chain.get(k)
        if earlier is None:
            problems.append(f"earlier snapshot v{k} is missing")
            previous_sha = None
            continue
        try:
            p = parse_statement(earlier, SNAPSHOT_PREDICATE, subjects=None).predicate
        except StatementError as exc:
            problems.append(f"exports/v{k}.snapshot.json: {exc}")
            continue
        if p.snapshotVersion != k or p.previousSnapshot != previous_sha:
            problems.append(f"earlier snapshot v{k} does not chain")
        previous_sha = sha256_hex(earlier)
    if pred.previousSnapshot != previous_sha:
        problems.append(
            f"snapshot v{pred.snapshotVersion} does not name v{pred.snapshotVersion - 1} "
            "as previous"
        )
    if set(chain) - set(range(1, pred.snapshotVersion)):
        problems.append("exports/ holds snapshots newer than this one")
    if problems:
        report.add("snapshot chain", "fail", "; ".join(problems))
    else:
        report.add("snapshot chain", "ok", f"v1..v{pred.snapshotVersion} hash-linked")
    return chain, not problems


def _check_rollback(
    files: Mapping[str, bytes],
    head: reg.Registry,
    snapshot: SnapshotOutcome,
    chain: dict[int, bytes],
    chain_ok: bool,
    current_heads: Heads | None,
    report: BundleReport,
) -> None:
    """The snapshot the auditor kept is this one or one this one extends, and no registry or
    contract head went back since it."""
    pred = snapshot.predicate
    known = {sha256_hex(d): k for k, d in chain.items()}
    known[sha256_hex(snapshot.raw)] = pred.snapshotVersion
    kept_sha = snapshot.previous.sha256
    if kept_sha in known and chain_ok:
        kept = known[kept_sha]
        since, note = (
            _since_kept(chain[kept], kept, files, current_heads, head)
            if kept != pred.snapshotVersion
            else ([], "")
        )
        if since:
            report.add("rollback", "fail", "; ".join(since[:20]))
        else:
            report.add(
                "rollback",
                "ok",
                f"snapshot v{pred.snapshotVersion} is or extends the snapshot you kept "
                f"(v{kept})"
                + (
                    "; no registry or contract head went back since"
                    if kept != pred.snapshotVersion
                    else ""
                )
                + note,
            )
        return
    what = "does not extend the snapshot you kept"
    last_seen = snapshot.previous.snapshot
    if last_seen is not None:
        try:
            old = parse_statement(last_seen, SNAPSHOT_PREDICATE, subjects=None).predicate
            if old.snapshotVersion > pred.snapshotVersion:
                what = (
                    f"is OLDER (v{pred.snapshotVersion}) than the v{old.snapshotVersion} you kept"
                )
            elif old.snapshotVersion == pred.snapshotVersion:
                what = f"is a different v{old.snapshotVersion} than the one you kept (fork)"
        except StatementError:
            pass
    report.add("rollback", "fail", f"ROLLBACK or FORK: this bundle {what}")


def _check_heads(
    files: Mapping[str, bytes], index: dict[str, Any], head: reg.Registry, report: BundleReport
) -> Heads | None:
    """heads.json (signed with the snapshot) agrees with the registry head and with every
    contract head bundle.json names; it lists every signed contract unless scoped."""
    raw = files.get(bl.HEADS)
    if raw is None:
        report.add(
            "heads",
            "info",
            "no head map (heads.json): a bundle made before head maps; a rollback since a "
            "snapshot you kept is checked from bundle.json only",
        )
        return None
    try:
        heads = parse_heads(raw)
    except HeadsError as exc:
        report.add("heads", "fail", str(exc))
        return None
    problems = []
    reg_st = head.statement
    if heads.registry != Head(head.version, reg_st.sha256 if reg_st is not None else ""):
        problems.append(f"the registry head is v{heads.registry.version}, not v{head.version}")
    contracts = index.get("contracts") or {}
    for cid, entry in sorted(contracts.items()):
        if not isinstance(entry, dict) or entry.get("head") is None:
            if cid in heads.contracts:
                problems.append(f"{cid}: signed at v{heads.contracts[cid].version}, unsigned here")
            continue
        got = heads.contracts.get(cid)
        recorded = (entry.get("head"), entry.get("head_statement_sha256"))
        if got is None or (got.version, got.statement_sha256) != recorded:
            problems.append(f"{cid}: head differs from bundle.json's")
    scoped = (index.get("scope") or {}).get("contracts")
    if not scoped:
        missing = sorted(set(heads.contracts) - set(contracts))
        if missing:
            problems.append(
                "signed contracts left out of an unscoped bundle: " + ", ".join(missing[:10])
            )
    problems += _head_run_problems(files, index, heads)
    if problems:
        report.add("heads", "fail", "; ".join(problems[:20]))
    else:
        report.add(
            "heads",
            "ok",
            f"heads.json: registry v{heads.registry.version}, {len(heads.contracts)} "
            f"contract head(s) of the repository and {len(heads.runs)} head findings run(s) "
            f"({', '.join(sorted(heads.runs)) or 'none'}), consistent with bundle.json",
        )
    return heads


def _head_run_problems(
    files: Mapping[str, bytes], index: dict[str, Any], heads: Heads
) -> list[str]:
    """The head runs heads.json names are the runs the bundle's findings end in: each one
    shipped has that statement, none is missing from a bundle without a period, and no run
    the bundle ships is newer than every head run."""
    problems: list[str] = []
    if not heads.lists_runs:
        return problems
    scope = index.get("scope") or {}
    whole = not scope.get("since") and not scope.get("until")
    for run, sha in sorted(heads.runs.items()):
        shipped = files.get(f"findings/runs/{run}.statement.json")
        if shipped is None and whole:
            problems.append(f"head findings run {run}: its statement is not in the bundle")
        elif shipped is not None and sha256_hex(shipped) != sha:
            problems.append(f"head findings run {run}: another statement than heads.json names")
    newest = max(heads.runs, default="")
    signed = [
        str(e.get("run"))
        for e in index.get("findings") or []
        if isinstance(e, dict) and e.get("statement")
    ]
    later = sorted(r for r in signed if r[:16] > newest[:16] and r not in heads.runs)
    if later:
        problems.append(
            "findings run(s) newer than every head run heads.json names: " + ", ".join(later[:5])
        )
    return problems


def _since_kept(
    kept_raw: bytes,
    kept_version: int,
    files: Mapping[str, bytes],
    current: Heads | None,
    head: reg.Registry,
) -> tuple[list[str], str]:
    """Problems (rollback or fork of the registry or of a contract head) since the snapshot
    the auditor kept, from what that snapshot signed: its registry head subject and its
    head map (exports/v<K>.heads.json, by digest). Returns (problems, note)."""
    name = f"the snapshot v{kept_version} you kept"
    try:
        kept = parse_statement(kept_raw, SNAPSHOT_PREDICATE, subjects=None)
    except StatementError as exc:
        return [f"{name}: {exc}"], ""
    subjects = dict(kept.subjects)
    heads_digest = subjects.get(bl.HEADS)
    if heads_digest is None:
        regs = [
            (int(m.group(1)), d)
            for n, d in subjects.items()
            if (m := _REGISTRY_SUBJECT.fullmatch(n))
        ]
        if len(regs) != 1:
            return [f"{name} names no registry head"], ""
        version, digest = regs[0]
        kept_heads = Heads(Head(version, digest), {}, lists_runs=False)
        note = (
            f"; contract heads not compared: {name} predates head maps (pass that bundle "
            "as --previous-snapshot to compare them)"
        )
    else:
        data = files.get(bl.export_heads(kept_version))
        if data is None or sha256_hex(data) != heads_digest:
            return [
                f"{bl.export_heads(kept_version)} is missing or not the head map {name} signed"
            ], ""
        try:
            kept_heads = parse_heads(data, bl.export_heads(kept_version))
        except HeadsError as exc:
            return [str(exc)], ""
        note = ""
        if current is None:
            return [f"this bundle has no head map to compare with {name}"], ""
    if current is None:
        reg_st = head.statement
        current = Heads(
            Head(head.version, reg_st.sha256 if reg_st is not None else ""), {}, lists_runs=False
        )
    return rollback_problems(kept_heads, current, name, files), note


def _compare_bundles(
    old: Mapping[str, bytes],
    files: Mapping[str, bytes],
    index: dict[str, Any],
    report: BundleReport,
) -> None:
    """An earlier bundle: no contract head went back, no version has another statement."""
    try:
        old_index = strict_loads(old.get(bl.INDEX, b""), MAX_INDEX_BYTES)
    except CanonicalError:
        report.add("forks", "warn", "the previous bundle has no readable bundle.json")
        return
    problems = []
    for cid, entry in (old_index.get("contracts") or {}).items():
        new = (index.get("contracts") or {}).get(cid)
        if new is None:
            continue
        old_head, new_head = entry.get("head") or 0, new.get("head") or 0
        if new_head < old_head:
            problems.append(f"{cid}: head v{new_head} is older than v{old_head} you saw (rollback)")
        for v in range(1, min(old_head, new_head) + 1):
            a = old.get(bl.contract_dir(cid, v) + "statement.json")
            b = files.get(bl.contract_dir(cid, v) + "statement.json")
            if a is not None and b is not None and a != b:
                problems.append(f"{cid} v{v}: FORK, another statement than in the bundle you saw")
    if problems:
        report.add("forks", "fail", "; ".join(problems[:20]))
    else:
        report.add("forks", "ok", "no contract went back or forked since the bundle you kept")
