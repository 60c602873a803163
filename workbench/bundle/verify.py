"""Verify an audit bundle offline: no repository, no network, only the bundle bytes,
the trust root the auditor pinned and (optionally) the last snapshot they kept.

Checks (each becomes a ``Check`` in the report; any ``fail`` makes ``ok`` False):

1. archive: read with the hardened reader (``workbench.bundle.archive``);
2. hashes: SHA256SUMS lists every file but itself, each matches, nothing extra or missing;
3. registry: the chain v1..vN from the pinned root (TUF rule: version k+1, previous =
   sha256(vk), threshold of vk's admins and of vk+1's), every version's files match its
   statement; the signing room's ``resolve_registry`` does the walk;
4. snapshot: signed by the exporter (a key of the registry head, snapshot namespace);
   its subjects (registry head statement, bundle.json) match; bundle.json lists every
   other file with its sha256; the earlier snapshots in exports/ chain to it;
5. rollback: with ``previous`` (a sha256, a snapshot.json or an earlier bundle) this
   snapshot must be it or extend it; an earlier bundle also lets forks be found (the
   same contract version with another statement);
6. contracts: per version, the statement chain (id, version, previous, repository,
   registry link), the subject digest against the exact contract bytes, every signature
   file verifying as the principal its name claims (in the registry head, or in an
   earlier version for historic signatures; never with a key revoked in the head), the
   required signers recomputed from the contract, people.toml and the policy and
   compared with required.json; the head version's verdict by the signing room's
   ``contract_verdict``;
7. records: reviews, acknowledgements and receipts match their statements and are
   signed by their person;
8. evidence: the manifest parses, bundle.json's evidence list agrees with it, shipped
   snapshot files match their registered sha256, findings cite registered snapshots;
9. expiry: past ``expires`` the history is still valid but the "current" claim is not
   (a warning; a failure with ``strict``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from workbench.bundle import layout as bl
from workbench.bundle.archive import (
    DEFAULT_LIMITS,
    BundleCancelled,
    BundleFormatError,
    Limits,
    read_archive,
)
from workbench.bundle.heads import Head, Heads, HeadsError, parse_heads, rollback_problems
from workbench.signing import registry as reg
from workbench.signing.attestation import verify_attestation
from workbench.signing.canonical import CanonicalError, strict_loads
from workbench.signing.errors import SigningError
from workbench.signing.snapshot import check_snapshot
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    SNAPSHOT_PREDICATE,
    Statement,
    StatementError,
    parse_statement,
    sha256_hex,
)

Severity = Literal["ok", "fail", "warn", "info"]
_SHA = re.compile(r"[0-9a-f]{64}")
MAX_INDEX_BYTES = 64 << 20


@dataclass
class Check:
    name: str
    severity: Severity
    message: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.name, "result": self.severity, "message": self.message}


@dataclass
class SignatureReport:
    file: str
    principal: str  # what the file name claims
    status: str  # valid | historic | invalid
    message: str
    registry_version: int | None = None

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass
class VersionReport:
    version: int
    statement_sha256: str | None = None
    contract_sha256: str | None = None
    registry_version: int | None = None
    required: list[str] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    signatures: list[SignatureReport] = field(default_factory=list)
    state: str = "pending"  # approved | pending | invalid
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        out = dataclasses.asdict(self)
        out["signatures"] = [s.to_json() for s in self.signatures]
        return out


@dataclass
class ContractReport:
    contract_id: str
    head: int | None
    state: str  # draft | pending | approved | stale | invalid (the signing room's verdict)
    reason: str
    versions: list[VersionReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # integrity failures
    current_changed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "contract": self.contract_id,
            "head": self.head,
            "state": self.state,
            "reason": self.reason,
            "ok": self.ok,
            "problems": self.problems,
            "current_changed": self.current_changed,
            "versions": [v.to_json() for v in self.versions],
        }


@dataclass
class BundleReport:
    checks: list[Check] = field(default_factory=list)
    contracts: list[ContractReport] = field(default_factory=list)
    snapshot_version: int | None = None
    snapshot_sha256: str | None = None
    exported_at: str | None = None
    expires: str | None = None
    exporter: str | None = None
    current: bool = False
    root_pinned: bool = False
    root_sha256: str | None = None
    registry_head: int | None = None
    strict: bool = False
    recomputed: list[Any] | None = None  # FindingCheck per finding with --recompute

    @property
    def ok(self) -> bool:
        if any(c.severity == "fail" for c in self.checks):
            return False
        if any(not c.ok for c in self.contracts):
            return False
        return not (
            self.strict and (not self.current or any(c.state != "approved" for c in self.contracts))
        )

    @property
    def failures(self) -> list[str]:
        out = [f"{c.name}: {c.message}" for c in self.checks if c.severity == "fail"]
        for c in self.contracts:
            out += [f"{c.contract_id}: {p}" for p in c.problems]
        return out

    def add(self, name: str, severity: Severity, message: str) -> None:
        self.checks.append(Check(name, severity, message))

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "snapshot_version": self.snapshot_version,
            "snapshot_sha256": self.snapshot_sha256,
            "exported_at": self.exported_at,
            "expires": self.expires,
            "exporter": self.exporter,
            "current": self.current,
            "root_pinned": self.root_pinned,
            "root_sha256": self.root_sha256,
            "registry_head": self.registry_head,
            "checks": [c.to_json() for c in self.checks],
            "contracts": [c.to_json() for c in self.contracts],
            "recomputed": (
                [f.to_json() for f in self.recomputed] if self.recomputed is not None else None
            ),
            "failures": self.failures,
        }


# --- helpers ---------------------------------------------------------------------------------


def _json(files: dict[str, bytes], path: str, limit: int = 1 << 20) -> Any:
    data = files.get(path)
    if data is None:
        raise BundleFormatError(f"{path} is missing")
    try:
        return strict_loads(data, limit)
    except CanonicalError as exc:
        raise BundleFormatError(f"{path}: {exc}") from None


def _previous_bytes(previous: str | bytes | Path | None, limits: Limits) -> tuple[Any, str]:
    """(snapshot bytes or None, sha256) and, for an earlier bundle, its files."""
    if previous is None:
        return None, ""
    if isinstance(previous, str) and _SHA.fullmatch(previous.strip().lower()):
        return None, previous.strip().lower()
    data = Path(previous).read_bytes() if not isinstance(previous, bytes) else previous
    if data[:2] == b"\x1f\x8b":
        files = read_archive(data, limits)
        snap = files.get(bl.SNAPSHOT)
        if snap is None:
            raise BundleFormatError("the previous bundle has no snapshot.json")
        return (snap, files), sha256_hex(snap)
    return (data, None), sha256_hex(data)


class _Registries:
    """Registry objects for every accepted version (for historic signature checks)."""

    def __init__(self, vfiles: dict[str, bytes], repository: str, domain: str, find_blob) -> None:  # type: ignore[no-untyped-def]
        self.vfiles = vfiles
        self.repository = repository
        self.domain = domain
        self.find_blob = find_blob
        self.cache: dict[int, reg.Registry | None] = {}
        self.statements: dict[int, Statement | None] = {}
        self.state: reg.RegistryState | None = None

    def at(self, version: int, head: reg.Registry) -> reg.Registry | None:
        if version == head.version:
            return head
        if version not in self.cache:
            keep = {
                p: d
                for p, d in self.vfiles.items()
                if not p.startswith(reg.REGISTRY_DIR)
                or int(re.match(r"v(\d+)", p.removeprefix(reg.REGISTRY_DIR)).group(1))  # type: ignore[union-attr]
                <= version
            }
            rs = reg.resolve_registry(keep, self.repository, self.domain, find_blob=self.find_blob)
            got = rs.head if rs.ok and rs.head and rs.head.version == version else None
            if got is not None:
                # Revocation applies at any time: the head's revoked keys count here too.
                got = dataclasses.replace(got, revoked=got.revoked | head.revoked)
            self.cache[version] = got
        return self.cache[version]


def verify_bundle(
    source: Path | bytes,
    *,
    root: str | None = None,
    trust_bundle_root: bool = False,
    previous: str | bytes | Path | None = None,
    now: datetime | None = None,
    strict: bool = False,
    recompute: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[str, int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> BundleReport:
    """Verify a bundle (see the module docstring). ``recompute`` also judges every finding
    again from the bundled contract versions and evidence files (``bundle.recompute``)."""
    now = now or datetime.now(UTC)
    report = BundleReport(strict=strict)

    def step(stage: str, done: int, total: int) -> None:
        if cancel is not None and cancel():
            raise BundleCancelled("verification cancelled")
        if progress is not None:
            progress(stage, done, total)

    step("reading the bundle", 0, 1)
    try:
        files = read_archive(source, limits, cancel)
    except BundleFormatError as exc:
        report.add("archive", "fail", str(exc))
        return report
    report.add("archive", "ok", f"{len(files)} regular files, safe names, within the size caps")
    try:
        _verify_files(files, report, root, trust_bundle_root, previous, now, limits, step)
    except BundleFormatError as exc:
        report.add("structure", "fail", str(exc))
    if recompute:
        step("recomputing findings", 0, 1)
        _recompute(files, report)
    return report


def _recompute(files: dict[str, bytes], report: BundleReport) -> None:
    from workbench.bundle.recompute import recompute_findings

    result = recompute_findings(files)
    report.recomputed = result.findings
    same = sum(f.outcome == "same" for f in result.findings)
    unqueried = sum(f.outcome == "no-query" for f in result.findings)
    tail = f"; {unqueried} violation(s) recorded before any query" if unqueried else ""
    different, skipped = result.different, result.skipped
    if different:
        report.add(
            "recompute",
            "fail",
            f"{len(different)} finding(s) DIFFER from what their term gives on the bundled "
            "evidence: "
            + "; ".join(f"{f.run} {f.contract}/{f.term}: {f.message}" for f in different[:10]),
        )
    elif skipped:
        report.add(
            "recompute",
            "fail" if report.strict else "warn",
            f"{same} finding(s) recomputed and the same{tail}; {len(skipped)} NOT recomputed "
            "(listed per finding; e.g. "
            + "; ".join(f"{f.contract}/{f.term}: {f.message}" for f in skipped[:3])
            + ")",
        )
    else:
        report.add("recompute", "ok", f"all {same} finding(s) recomputed and the same{tail}")


def _verify_files(  # noqa: C901 - one pass, in the order of the module docstring
    files: dict[str, bytes],
    report: BundleReport,
    root: str | None,
    trust_bundle_root: bool,
    previous: str | bytes | Path | None,
    now: datetime,
    limits: Limits,
    step: Callable[[str, int, int], None],
) -> None:
    # -- 2. hashes ------------------------------------------------------------------------
    step("hashes", 0, 1)
    digests = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
    sums = files.get(bl.SUMS)
    if sums is None:
        report.add("SHA256SUMS", "fail", "SHA256SUMS is missing")
    else:
        listed: dict[str, str] = {}
        bad_lines = 0
        for line in sums.decode("utf-8", "replace").splitlines():
            m = re.fullmatch(r"([0-9a-f]{64})  (.+)", line)
            if not m or m.group(2) in listed:
                bad_lines += 1
                continue
            listed[m.group(2)] = m.group(1)
        expected = set(files) - {bl.SUMS}
        missing = sorted(set(listed) - set(files))
        extra = sorted(expected - set(listed))
        changed = sorted(p for p in listed if p in digests and digests[p] != listed[p])
        if bad_lines or missing or extra or changed:
            parts = []
            if changed:
                parts.append("changed: " + ", ".join(changed[:10]))
            if missing:
                parts.append("missing: " + ", ".join(missing[:10]))
            if extra:
                parts.append("extra (not listed): " + ", ".join(extra[:10]))
            if bad_lines:
                parts.append(f"{bad_lines} malformed line(s)")
            report.add("SHA256SUMS", "fail", "; ".join(parts))
        else:
            report.add("SHA256SUMS", "ok", f"covers all {len(expected)} other files; all match")

    index = _json(files, bl.INDEX, MAX_INDEX_BYTES)
    if not isinstance(index, dict) or index.get("format") != bl.FORMAT:
        raise BundleFormatError(f"bundle.json is not a {bl.FORMAT} index")
    repository = str(index.get("repository"))
    domain = str(index.get("domain"))
    if not re.fullmatch(r"[a-z0-9.-]+", domain):
        raise BundleFormatError(f"bundle.json: bad domain {domain!r}")
    ns = reg.Namespaces.for_domain(domain)

    # -- 3. registry ----------------------------------------------------------------------
    step("key registry", 0, 1)
    vfiles: dict[str, bytes] = {}
    by_digest: dict[tuple[str, str], bytes] = {}
    versions_present = set()
    for path, data in files.items():
        m = re.fullmatch(r"registry/v([1-9][0-9]{0,6})/(.+)", path)
        if not m:
            continue
        version, name = int(m.group(1)), m.group(2)
        versions_present.add(version)
        if name == "statement.json":
            vfiles[f"{reg.REGISTRY_DIR}v{version}.statement.json"] = data
        elif sm := bl.STATEMENT_SIG_RE.fullmatch(name):
            principal = sm.group(1)
            if not principal.endswith("@" + domain):
                report.add("registry", "fail", f"{path}: principal of another domain")
                continue
            vfiles[f"{reg.REGISTRY_DIR}v{version}.{reg.person_of(principal)}.sig"] = data
        elif name in bl.REGISTRY_FILE_NAMES.values():
            repo_name = next(k for k, v in bl.REGISTRY_FILE_NAMES.items() if v == name)
            by_digest[(repo_name, sha256_hex(data))] = data
        else:
            report.add("registry", "fail", f"{path}: not a registry file")
    head_version = index.get("registry", {}).get("head")
    if not isinstance(head_version, int) or head_version < 1:
        raise BundleFormatError("bundle.json names no registry head")
    for name in bl.REGISTRY_FILE_NAMES.values():
        data = files.get(f"{bl.registry_dir(head_version)}{name}")
        if data is not None:
            vfiles[next(k for k, v in bl.REGISTRY_FILE_NAMES.items() if v == name)] = data

    def find_blob(path: str, digest: str) -> bytes | None:
        return by_digest.get((path, digest))

    pinned = root.strip().lower() if root else None
    rs = reg.resolve_registry(vfiles, repository, domain, trust_root=pinned, find_blob=find_blob)
    report.root_sha256 = rs.root_sha256
    report.root_pinned = pinned is not None
    if pinned is None:
        if trust_bundle_root:
            report.add(
                "trust root",
                "warn",
                f"NOT pinned: trusting the bundle's own registry v1 (sha256 {rs.root_sha256}); "
                "pin it next time with --root",
            )
        else:
            report.add(
                "trust root",
                "fail",
                "no trust root given: pass --root SHA256 (registry v1's sha256, obtained out of "
                "band), or --trust-bundle-root to trust this bundle's own registry (weaker)",
            )
    elif rs.root_sha256 == pinned:
        report.add("trust root", "ok", f"registry v1 is the pinned root {pinned}")
    if rs.problems or rs.head is None:
        report.add(
            "registry",
            "fail",
            "; ".join(rs.problems) or "no accepted registry version (not enough admin signatures)",
        )
        return
    head = rs.head
    report.registry_head = head.version
    problems = []
    if head.version != head_version or rs.pending is not None:
        problems.append(
            f"bundle.json names registry head v{head_version}, the chain accepts v{head.version}"
            + (f" and v{rs.pending.version} is not signed enough" if rs.pending else "")
        )
    if versions_present != set(range(1, head.version + 1)):
        problems.append(f"registry versions present: {sorted(versions_present)}")
    for version, st in rs.statements.items():
        for name, digest in st.subjects:
            data = files.get(bl.registry_dir(version) + bl.REGISTRY_FILE_NAMES[name])
            if data is None or sha256_hex(data) != digest:
                problems.append(f"registry v{version}: {name} does not match its statement")
    if problems:
        report.add("registry", "fail", "; ".join(problems))
    else:
        report.add(
            "registry",
            "ok",
            f"chain v1..v{head.version} verified (versions, links, admin thresholds, files)",
        )
    registries = _Registries(vfiles, repository, domain, find_blob)

    # -- 4. snapshot ----------------------------------------------------------------------------
    step("snapshot", 0, 1)
    snapshot = files.get(bl.SNAPSHOT)
    if snapshot is None:
        raise BundleFormatError("snapshot.json is missing")
    report.snapshot_sha256 = sha256_hex(snapshot)
    head_path = bl.registry_dir(head.version) + "statement.json"
    prev_data, prev_sha = _previous_bytes(previous, limits)
    last_seen = prev_data[0] if prev_data else None
    try:
        subjects = {head_path: files.get(head_path, b""), bl.INDEX: files[bl.INDEX]}
        if bl.HEADS in files:
            subjects[bl.HEADS] = files[bl.HEADS]
        sc = check_snapshot(
            snapshot,
            subjects,
            now,
            last_seen=last_seen if last_seen is not None and last_seen != snapshot else None,
        )
    except StatementError as exc:
        report.add("snapshot", "fail", f"snapshot.json: {exc}")
        return
    pred = sc.statement.predicate
    report.snapshot_version = pred.snapshotVersion
    report.exported_at = pred.exportedAt
    report.expires = pred.expires
    report.current = sc.current
    exporter = index.get("exporter", {}).get("principal")
    report.exporter = exporter
    sig_files = {p: d for p, d in files.items() if bl.SNAPSHOT_SIG_RE.fullmatch(p)}
    snap_problems = [p for p in sc.problems if not p.startswith("rollback")]
    snap_problems += [p for p in sc.problems if p.startswith("rollback") and prev_data]
    if pred.repository != repository or head.repository != repository:
        snap_problems.append("the snapshot names another repository than the registry")
    if not isinstance(exporter, str) or bl.snapshot_sig(exporter) not in sig_files:
        snap_problems.append(f"no signature file snapshot.{exporter}.sig")
    else:
        result = verify_attestation(
            snapshot, sig_files, ns.snapshot, head, {reg.person_of(exporter)}, now=None
        )
        if result.invalid or result.missing:
            bad = (result.invalid or result.checks or [None])[0]
            snap_problems.append(
                f"not signed by the exporter {exporter}"
                + (f": {bad.file}: {bad.message}" if bad else "")
            )
        snap_problems += _exporter_authority(exporter, index, head)
    if snap_problems:
        report.add("snapshot", "fail", "; ".join(snap_problems))
    else:
        report.add(
            "snapshot",
            "ok",
            f"v{pred.snapshotVersion} signed by {exporter}; subjects (registry head, "
            "bundle.json) match",
        )
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
    if len(sig_files) != 1:
        report.add("signed index", "fail", f"{len(sig_files)} snapshot signature files, expected 1")

    # snapshot chain (exports/) and rollback
    chain: dict[int, bytes] = {}
    for path, data in files.items():
        if m := bl.EXPORT_STATEMENT_RE.fullmatch(path):
            chain[int(m.group(1))] = data
    chain_problems = []
    previous_sha = None
    for k in range(1, pred.snapshotVersion):
        data = chain.get(k)
        if data is None:
            chain_problems.append(f"earlier snapshot v{k} is missing")
            previous_sha = None
            continue
        try:
            p = parse_statement(data, SNAPSHOT_PREDICATE, subjects=None).predicate
        except StatementError as exc:
            chain_problems.append(f"exports/v{k}.snapshot.json: {exc}")
            continue
        if p.snapshotVersion != k or p.previousSnapshot != previous_sha:
            chain_problems.append(f"earlier snapshot v{k} does not chain")
        previous_sha = sha256_hex(data)
    if pred.previousSnapshot != previous_sha:
        chain_problems.append(
            f"snapshot v{pred.snapshotVersion} does not name v{pred.snapshotVersion - 1} "
            "as previous"
        )
    if set(chain) - set(range(1, pred.snapshotVersion)):
        chain_problems.append("exports/ holds snapshots newer than this one")
    if chain_problems:
        report.add("snapshot chain", "fail", "; ".join(chain_problems))
    else:
        report.add("snapshot chain", "ok", f"v1..v{pred.snapshotVersion} hash-linked")
    current_heads = _check_heads(files, index, head, report)
    if prev_sha:
        known = {sha256_hex(d): k for k, d in chain.items()}
        known[sha256_hex(snapshot)] = pred.snapshotVersion
        if prev_sha in known and not chain_problems:
            kept = known[prev_sha]
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
        else:
            what = "does not extend the snapshot you kept"
            if last_seen is not None:
                try:
                    old = parse_statement(last_seen, SNAPSHOT_PREDICATE, subjects=None).predicate
                    if old.snapshotVersion > pred.snapshotVersion:
                        what = (
                            f"is OLDER (v{pred.snapshotVersion}) than the v{old.snapshotVersion} "
                            "you kept"
                        )
                    elif old.snapshotVersion == pred.snapshotVersion:
                        what = f"is a different v{old.snapshotVersion} than the one you kept (fork)"
                except StatementError:
                    pass
            report.add("rollback", "fail", f"ROLLBACK or FORK: this bundle {what}")
        if prev_data and prev_data[1] is not None:
            _compare_bundles(prev_data[1], files, index, report)
    else:
        report.add(
            "rollback",
            "info",
            "no previous snapshot given: a rollback to an older bundle cannot be detected",
        )
    if sc.current:
        report.add("expiry", "ok", f"current until {pred.expires}")
    else:
        report.add(
            "expiry",
            "fail" if report.strict else "warn",
            f"expired at {pred.expires}: the history is still valid, the 'current' claim is not",
        )

    # -- 6. contracts ------------------------------------------------------------------------------
    from workbench.model.settings import Settings
    from workbench.signing.verdict import (
        AttestationFiles,
        approval_baselines,
        contract_verdict,
        parse_people,
        required_signers,
    )

    try:
        Settings.model_validate(tomllib.loads(files[bl.SETTINGS].decode("utf-8")))
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        report.add("settings", "fail", f"workbench.toml: {exc}")
        return
    people_at: dict[int, Any] = {}

    def approval(version: int) -> Any:
        """The approval policy signed with registry `version` (who must co-sign)."""
        from workbench.model.settings import Policy
        from workbench.signing.registry import parse_policy

        data = files.get(bl.registry_dir(version) + "policy.toml")
        return parse_policy(data).approval if data is not None else Policy()

    def people(version: int) -> Any:
        if version not in people_at:
            data = files.get(bl.registry_dir(version) + "people.toml")
            people_at[version] = parse_people(data) if data is not None else None
        return people_at[version]

    contracts_index = index.get("contracts")
    if not isinstance(contracts_index, dict):
        raise BundleFormatError("bundle.json lists no contracts")
    by_contract: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        if path.startswith("contracts/"):
            _, cid, rel = path.split("/", 2)
            by_contract.setdefault(cid, {})[rel] = data
    for stray in sorted(set(by_contract) - set(contracts_index)):
        report.add("contracts", "fail", f"contracts/{stray}/ is not in the signed index")
    total = len(contracts_index)
    for n, cid in enumerate(sorted(contracts_index)):
        if n % 50 == 0:
            step("contracts", n, total)
        report.contracts.append(
            _verify_contract(
                cid,
                contracts_index[cid],
                by_contract.get(cid, {}),
                head,
                registries,
                repository,
                ns.contract,
                approval,
                people,
                now,
                AttestationFiles,
                contract_verdict,
                required_signers,
                approval_baselines,
            )
        )
    step("contracts", total, total)

    # -- 7. records ---------------------------------------------------------------------------------
    step("records", 0, 1)
    statuses = _verify_records(files, head, registries, repository, domain, ns, report)
    exported = _parse_when(report.exported_at) or now
    _verify_record_times(files, index, exported, report)
    _verify_closures(files, index, head, statuses, exported, report)
    from workbench.bundle.runs import verify_runs

    verify_runs(files, index, head, registries, repository, exported, report)

    # -- 8. evidence ----------------------------------------------------------------------------------
    step("evidence", 0, 1)
    _verify_evidence(files, index, report)


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


def _check_heads(
    files: dict[str, bytes], index: dict[str, Any], head: reg.Registry, report: BundleReport
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
        if got != Head(entry.get("head"), entry.get("head_statement_sha256")):
            problems.append(f"{cid}: head differs from bundle.json's")
    scoped = (index.get("scope") or {}).get("contracts")
    if not scoped:
        missing = sorted(set(heads.contracts) - set(contracts))
        if missing:
            problems.append(
                "signed contracts left out of an unscoped bundle: " + ", ".join(missing[:10])
            )
    if problems:
        report.add("heads", "fail", "; ".join(problems[:20]))
    else:
        report.add(
            "heads",
            "ok",
            f"heads.json: registry v{heads.registry.version} and {len(heads.contracts)} "
            "contract head(s) of the repository, consistent with bundle.json",
        )
    return heads


_REGISTRY_SUBJECT = re.compile(r"registry/v([1-9][0-9]{0,6})/statement\.json")


def _since_kept(
    kept_raw: bytes,
    kept_version: int,
    files: dict[str, bytes],
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
        kept_heads = Heads(Head(version, digest), {})
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
        current = Heads(Head(head.version, reg_st.sha256 if reg_st is not None else ""), {})
    return rollback_problems(kept_heads, current, name, files), note


def _verify_contract(  # noqa: PLR0913
    cid: str,
    entry: Any,
    cfiles: dict[str, bytes],
    head: reg.Registry,
    registries: _Registries,
    repository: str,
    namespace: str,
    approval: Callable[[int], Any],
    people: Callable[[int], Any],
    now: datetime,
    attestation_files_cls: Any,
    contract_verdict: Any,
    required_signers: Any,
    approval_baselines: Any,
) -> ContractReport:
    from workbench.model.contract import Contract
    from workbench.model.state import parse_contract as parse_contract_bytes

    out = ContractReport(cid, None, "draft", "")
    if not isinstance(entry, dict):
        out.problems.append("bundle.json entry is malformed")
        return out
    head_version = entry.get("head")
    out.head = head_version
    path = f"contracts/{cid}.toml"
    prefix = f"contracts/{cid}/"
    present = {int(m.group(1)) for p in cfiles if (m := re.match(r"v([1-9][0-9]{0,6})/", p))}
    expected = set(range(1, head_version + 1)) if isinstance(head_version, int) else set()
    if present != expected:
        out.problems.append(
            f"versions present {sorted(present)}, the signed index says v1..v{head_version}"
        )
    current_rel = entry.get("current")
    current = (
        cfiles.get(current_rel.removeprefix(prefix))
        if isinstance(current_rel, str) and current_rel.startswith(prefix)
        else None
    )
    if current_rel and current is None:
        out.problems.append(f"{current_rel} is missing")
    out.current_changed = current is not None and head_version is not None

    parsed: dict[bytes, Contract | None] = {}

    def parse_contract(data: bytes | None) -> Contract | None:
        if data is None:
            return None
        if data not in parsed:
            parsed[data] = parse_contract_bytes(path, data)
        return parsed[data]

    af = attestation_files_cls()
    for version in sorted(expected):
        raw = cfiles.get(f"v{version}/statement.json")
        if raw is not None:
            af.statements[version] = raw
        for name, data in cfiles.items():
            m = bl.STATEMENT_SIG_RE.fullmatch(name.removeprefix(f"v{version}/"))
            if name.startswith(f"v{version}/") and m:
                af.sigs.setdefault(version, {})[f"v{version}.{reg.person_of(m.group(1))}.sig"] = (
                    data
                )
    # Earlier versions by the digest their statements name: which change co-signers a
    # version needs depends on the last approved one (the exporter computed the same).
    by_sha = {
        sha256_hex(data): data
        for name, data in cfiles.items()
        if re.fullmatch(r"v[1-9][0-9]{0,6}/contract\.toml", name)
    }

    def load_version(sha: str) -> Contract | None:
        return parse_contract(by_sha.get(sha))

    head_people = people(head.version)
    baselines = (
        approval_baselines(
            af.statements,
            af.sigs,
            max(expected, default=0),
            load_version,
            head,
            head_people,
            approval(head.version),
        )
        if head_people is not None
        else {}
    )
    # the head version's verdict, by the signing room's rules (its signature checks are
    # reused below, so each signature is verified once)
    verdict = None
    if head_version is not None:
        head_blob = cfiles.get(f"v{head_version}/contract.toml")
        blob_now = current if current is not None else head_blob
        verdict = contract_verdict(
            cid,
            parse_contract(blob_now),
            blob_now,
            af,
            _state_for(head, registries),
            repository,
            approval(head.version),
            now=now,
            people=people(head.version),
            load_version=load_version,
        )
    head_checks = {c.file: c for c in verdict.checks} if verdict is not None else {}
    previous: Statement | None = None
    for version in sorted(expected):
        base = f"v{version}/"
        vr = VersionReport(version)
        out.versions.append(vr)
        raw = cfiles.get(base + "statement.json")
        blob = cfiles.get(base + "contract.toml")
        if raw is None:
            vr.problems.append("statement.json is missing")
            vr.state = "invalid"
            continue
        try:
            st = parse_statement(raw, COSIGN_PREDICATE)
        except StatementError as exc:
            vr.problems.append(f"statement: {exc}")
            vr.state = "invalid"
            continue
        vr.statement_sha256 = st.sha256
        vr.contract_sha256 = st.subject_sha256
        p = st.predicate
        vr.registry_version = p.registry.version
        if st.subject_name != path or p.contract.id != cid:
            vr.problems.append(f"the statement is for {p.contract.id} ({st.subject_name})")
        if p.contract.version != version:
            vr.problems.append(f"the statement says version {p.contract.version} (swapped?)")
        if p.repository != repository:
            vr.problems.append(f"the statement is for repository {p.repository}")
        link = p.contract.previous
        if version == 1 and link is not None:
            vr.problems.append("v1 names a previous version")
        if version > 1 and (
            previous is None
            or link is None
            or link.version != version - 1
            or link.statementSha256 != previous.sha256
        ):
            vr.problems.append(f"does not name v{version - 1} as previous (forked chain)")
        reg_st = registries_statement(registries, head, p.registry.version)
        if reg_st is None or reg_st.sha256 != p.registry.statementSha256:
            vr.problems.append(
                f"names registry v{p.registry.version} with a digest not in the chain"
            )
        if blob is None:
            vr.problems.append("contract.toml is missing")
        elif sha256_hex(blob) != st.subject_sha256:
            vr.problems.append("contract.toml does not match the statement's subject digest")
        previous = st
        # signatures: every file verifies as the principal its name claims
        sigs = {
            name.removeprefix(base): data
            for name, data in cfiles.items()
            if name.startswith(base) and name.endswith(".sig")
        }
        valid: dict[str, int] = {}
        for name in sorted(sigs):
            m = bl.STATEMENT_SIG_RE.fullmatch(name)
            if not m:
                vr.problems.append(f"{name}: not a signature file name")
                continue
            principal = m.group(1)
            person = reg.person_of(principal)
            known = head_checks.get(f"v{version}.{person}.sig") if version == head_version else None
            if known is not None and known.counts and known.person == person:
                sr = SignatureReport(name, principal, "valid", known.message, head.version)
            else:
                sr = _signature(
                    name,
                    principal,
                    sigs[name],
                    raw,
                    namespace,
                    head,
                    registries,
                    p.registry.version,
                )
            vr.signatures.append(sr)
            if sr.status == "invalid":
                vr.problems.append(f"{name}: {sr.message}")
            else:
                valid[person] = sr.registry_version or 0
        # required signers, recomputed and compared with required.json
        is_head = version == head_version
        contract_for_req = parse_contract(blob)
        people_version = head.version if is_head else p.registry.version
        ppl = people(people_version)
        computed: list[str] = []
        blocked: list[str] = []
        if contract_for_req is not None and ppl is not None:
            req = required_signers(
                contract_for_req, ppl, approval(people_version), baselines.get(version)
            )
            computed = sorted(head.principal(x) for x in req.roles)
            blocked = list(req.blocked)
        else:
            blocked = ["the required signers cannot be computed (contract invalid)"]
        try:
            shipped = strict_loads(cfiles.get(base + "required.json", b""), 1 << 20)
        except CanonicalError as exc:
            shipped = None
            vr.problems.append(f"required.json: {exc}")
        if isinstance(shipped, dict) and (
            sorted(shipped.get("required", [])) != computed
            or list(shipped.get("blocked", [])) != blocked
        ):
            vr.problems.append(
                "required.json disagrees with the signers computed from the contract, "
                f"people.toml v{people_version} and the policy ({', '.join(computed)})"
            )
        vr.required = computed
        vr.signed = sorted(head.principal(x) for x in valid)
        vr.missing = sorted(set(computed) - set(vr.signed))
        if vr.problems:
            vr.state = "invalid"
        elif vr.missing or blocked:
            vr.state = "pending"
        else:
            vr.state = "approved"
        out.problems += [f"v{version}: {x}" for x in vr.problems]
    if verdict is None:
        out.state = "draft"
        out.reason = "never signed"
        if current is None and entry.get("current_sha256"):
            out.problems.append("current.toml is missing")
        return out
    out.state = verdict.state
    out.reason = verdict.reason
    if verdict.state == "invalid" and not out.problems:
        out.problems.append(verdict.reason)
    if entry.get("head_statement_sha256") != (
        out.versions[-1].statement_sha256 if out.versions else None
    ):
        out.problems.append("the head statement is not the one the signed index names")
    return out


def registries_statement(registries: _Registries, head: reg.Registry, version: int):  # type: ignore[no-untyped-def]
    if version in registries.statements:
        return registries.statements[version]
    data = registries.vfiles.get(f"{reg.REGISTRY_DIR}v{version}.statement.json")
    st = None
    if data is not None and version <= head.version:
        try:
            st = parse_statement(data, reg.REGISTRY_PREDICATE, subjects=len(reg.REGISTRY_FILES))
        except StatementError:
            st = None
    registries.statements[version] = st
    return st


def _state_for(head: reg.Registry, registries: _Registries) -> reg.RegistryState:
    if registries.state is not None:
        return registries.state
    registries.state = _new_state(head, registries)
    return registries.state


def _new_state(head: reg.Registry, registries: _Registries) -> reg.RegistryState:
    statements = {}
    for v in range(1, head.version + 1):
        st = registries_statement(registries, head, v)
        if st is not None:
            statements[v] = st
    return reg.RegistryState(head=head, root_sha256=None, statements=statements)


def _signature(
    name: str,
    principal: str,
    data: bytes,
    statement: bytes,
    namespace: str,
    head: reg.Registry,
    registries: _Registries,
    from_version: int,
) -> SignatureReport:
    """Valid in the head (current), else in an earlier version >= from_version (historic)."""
    person = reg.person_of(principal)
    first_message = ""
    for version in range(head.version, max(from_version, 1) - 1, -1):
        registry = registries.at(version, head)
        if registry is None:
            continue
        result = verify_attestation(statement, {name: data}, namespace, registry, {person})
        check = result.checks[0] if result.checks else None
        if check is None:
            continue
        if check.invalid:
            return SignatureReport(name, principal, "invalid", check.message, version)
        if check.counts:
            if check.person != person:
                return SignatureReport(
                    name,
                    principal,
                    "invalid",
                    f"the file name says {principal}, the key is {check.person}'s",
                    version,
                )
            status = "valid" if version == head.version else "historic"
            msg = check.message + (
                "" if status == "valid" else f" (key in registry v{version}, not in the head)"
            )
            return SignatureReport(name, principal, status, msg, version)
        first_message = first_message or check.message
    return SignatureReport(
        name, principal, "invalid", first_message or "does not verify in any registry version"
    )


def _verify_records(
    files: dict[str, bytes],
    head: reg.Registry,
    registries: _Registries,
    repository: str,
    domain: str,
    ns: reg.Namespaces,
    report: BundleReport,
) -> dict[str, str]:
    """Check every record's statement and signature; returns each record's status."""
    from workbench.signing.record_statement import check_record_statement, closure_fields, is_ack

    problems: list[str] = []
    statuses: dict[str, str] = {}
    signed = unsigned = 0
    for path in sorted(files):
        if not path.endswith(".toml") or not path.startswith(_RECORD_DIRS):
            continue
        stem = path.removesuffix(".toml")
        raw = files.get(stem + ".statement.json")
        sig = files.get(stem + ".sig")
        statuses[path] = "invalid"
        if raw is None and sig is None:
            unsigned += 1
            statuses[path] = "unsigned"
            continue
        if raw is None or sig is None:
            problems.append(f"{path}: statement or signature missing")
            continue
        closure = closure_fields(path)
        namespace = ns.ack if is_ack(path) else ns.review
        st, problem = check_record_statement(path, files[path], raw, repository)
        if st is None:
            problems.append(f"{path}: {problem}")
            continue
        if closure is not None and f".{st.predicate.person}.{closure[1]}.toml" not in path:
            problems.append(f"{path}: the statement is for another violation, act or person")
            continue
        principal = reg.principal_of(st.predicate.person, domain)
        sr = _signature(
            stem + ".sig",
            principal,
            sig,
            raw,
            namespace,
            head,
            registries,
            st.predicate.registry.version,
        )
        if sr.status == "invalid":
            problems.append(f"{path}: {sr.message}")
        else:
            signed += 1
            statuses[path] = "valid"
    for path in sorted(files):
        if path.endswith((".statement.json", ".sig")) and path.startswith(_RECORD_DIRS):
            stem = path.removesuffix(".statement.json").removesuffix(".sig")
            if stem + ".toml" not in files:
                problems.append(f"{path}: no record file")
    if problems:
        report.add("records", "fail", "; ".join(problems[:20]))
    else:
        report.add(
            "records",
            "ok" if not unsigned else "warn",
            f"{signed} signed review/acknowledgement/receipt/closure record(s) verified"
            + (f"; {unsigned} UNSIGNED (made before the key registry)" if unsigned else ""),
        )
    return statuses


_RECORD_DIRS = ("reviews/", "acks/", "reports/receipts/", "findings/closures/")
_TIME_KEYS = ("completed", "acknowledged", "received", "recorded")


def _parse_when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _stated_time(data: bytes) -> datetime | None:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for key in _TIME_KEYS:
        value = doc.get(key)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
    return None


def _verify_record_times(
    files: dict[str, bytes], index: dict[str, Any], exported: datetime, report: BundleReport
) -> None:
    """The time rule of ``governance.record_time`` for every record the bundle carries, with
    the placements bundle.json states (signed by the exporter) and the export time as now."""
    from workbench.governance.record_time import Placement, time_problem

    listed = {e.get("path"): e for e in index.get("records") or [] if isinstance(e, dict)}
    problems: list[str] = []
    checked = 0
    for path in sorted(files):
        if not path.endswith(".toml") or not path.startswith(_RECORD_DIRS):
            continue
        entry = listed.get(path)
        if entry is None:
            problems.append(f"{path}: not listed in bundle.json's records")
            continue
        when = _stated_time(files[path])
        if when is None:
            problems.append(f"{path}: states no readable time")
            continue
        placement = Placement(
            _parse_when(entry.get("commit_time")), _parse_when(entry.get("parent_time"))
        )
        if placement.commit_time is None:
            problems.append(f"{path}: bundle.json gives no commit time for it")
            continue
        what = "the change it acknowledges" if path.startswith("acks/") else "what it answers"
        problem = time_problem(
            when, exported, placement, _parse_when(entry.get("answers_time")), what
        )
        if problem is not None:
            problems.append(f"{path}: {problem}")
        checked += 1
    if problems:
        report.add("record-times", "fail", "; ".join(problems[:20]))
    else:
        report.add(
            "record-times",
            "ok",
            f"{checked} record time(s) hold: not before the parent commit or what they "
            "answer, not after their commit or the export (5 minutes' skew)",
        )


def _verify_closures(
    files: dict[str, bytes],
    index: dict[str, Any],
    head: reg.Registry,
    statuses: dict[str, str],
    exported: datetime,
    report: BundleReport,
) -> None:
    """Which closures and exemptions count, by the same rule as the repository
    (``evidence.closures.fold_violations``), from the bundle's bytes alone."""
    from workbench.evidence.closures import (
        Authority,
        ClosureInputs,
        fold_violations,
        parse_closure_records,
        resolve_approvers,
    )
    from workbench.evidence.findings import CLOSURES_PATH, parse_closures, parse_run
    from workbench.governance.record_time import Placement
    from workbench.signing.verdict import parse_people

    records, unreadable = parse_closure_records(files)
    legacy_raw = files.get(CLOSURES_PATH)
    if not records and legacy_raw is None:
        return
    runs = []
    for path in sorted(files):
        if path.startswith("findings/") and path.endswith(".json") and path.count("/") == 1:
            try:
                runs.append(parse_run(files[path], path))
            except ValueError:
                continue
    people = parse_people(head.files[reg.PEOPLE])
    leads = {t.id: t.lead for t in people.teams}
    policy = head.policy.exemptions
    authority = Authority(
        resolve_approvers(policy.approvers, head.policy.approval.compliance_team, leads),
        policy.max_days,
        tuple(policy.approvers),
    )
    listed = {e.get("path"): e for e in index.get("records") or [] if isinstance(e, dict)}
    placements = {
        p: Placement(_parse_when(e.get("commit_time")), _parse_when(e.get("parent_time")))
        for p, e in listed.items()
    }
    members = {p.id: p for p in people.people}
    try:
        legacy = parse_closures(legacy_raw.decode("utf-8")) if legacy_raw else []
    except (UnicodeDecodeError, ValueError) as exc:
        unreadable.append(str(exc))
        legacy = []
    inputs = ClosureInputs(
        records=records,
        signatures={r.path: statuses.get(r.path, "invalid") for r in records},  # type: ignore[misc]
        placements=placements,
        authority=authority,
        signatures_required=True,
        people_left=lambda pid, day: (m := members.get(pid)) is not None and m.has_left(day),
        known_people=frozenset(members),
        now=exported,
        legacy=legacy,
    )
    history, verdicts = fold_violations(runs, inputs, exported.date())
    exempt = sum(v.state == "exempt" for v in history)
    resolved = sum(v.state == "resolved" for v in history)
    flags = [message for _contract, message in verdicts.flags] + unreadable
    if flags:
        report.add("closures", "fail", "; ".join(flags[:20]))
        return
    ignored = sum(1 for v in history for n in v.notes if n.startswith("ignored"))
    report.add(
        "closures",
        "ok",
        f"{resolved} resolution(s) and {exempt} exemption(s) count, each signed by its person "
        f"with the authority the signed policy names"
        + (f"; {ignored} closure claim(s) do not count" if ignored else ""),
    )


def _verify_evidence(files: dict[str, bytes], index: dict[str, Any], report: BundleReport) -> None:
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
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"evidence/manifest.toml: {exc}")
            paths = {}
        included = 0
        for item in listed:
            sid = item.get("id")
            if registered.get(sid) != item.get("sha256") or paths.get(sid) != item.get("path"):
                problems.append(f"{sid}: bundle.json and the manifest disagree")
                continue
            if item.get("included"):
                data = files.get(item["path"])
                if data is None or sha256_hex(data) != item["sha256"]:
                    problems.append(f"{item['path']}: does not match its registered sha256")
                else:
                    included += 1
        shipped = {p for p in files if p.startswith("evidence/") and p != MANIFEST_PATH}
        expected = {i["path"] for i in listed if i.get("included")}
        for stray in sorted(shipped - expected):
            problems.append(f"{stray}: evidence file not listed as included")
    from workbench.evidence.run_chain import RUN_FILE_RE

    runs = 0
    for path in sorted(files):
        if RUN_FILE_RE.fullmatch(path):
            try:
                run = parse_run(files[path], path)
            except ValueError as exc:
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
        report.add(
            "evidence",
            "ok",
            f"{len(listed) - left} snapshot file(s) match the manifest"
            + (f", {left} listed by hash only" if left else "")
            + f"; {runs} findings run(s) cite registered snapshots",
        )


def _compare_bundles(
    old: dict[str, bytes], files: dict[str, bytes], index: dict[str, Any], report: BundleReport
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


__all__ = [
    "BundleReport",
    "Check",
    "ContractReport",
    "SignatureReport",
    "VersionReport",
    "verify_bundle",
    "SigningError",
]
