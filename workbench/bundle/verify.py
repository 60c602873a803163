"""Verify an audit bundle offline: no repository, no network, only the bundle bytes,
the trust root the auditor pinned and (optionally) the last snapshot they kept.

Checks (each becomes a ``Check`` in the report; any ``fail`` makes ``ok`` False), each a
function named after it, run in this order by ``_verify_files``:

1. archive: read with the hardened reader (``workbench.bundle.archive``);
2. hashes: SHA256SUMS lists every file but itself, each matches, nothing extra or missing
   (``_check_sums``);
3. registry: the chain v1..vN from the pinned root (TUF rule: version k+1, previous =
   sha256(vk), threshold of vk's admins and of vk+1's), every version's files match its
   statement; the signing room's ``resolve_registry`` does the walk (``_check_registry``);
4. snapshot: signed by the exporter (a key of the registry head, snapshot namespace);
   its subjects (registry head statement, bundle.json) match; bundle.json lists every
   other file with its sha256; the earlier snapshots in exports/ chain to it
   (``verify_snapshot.check_snapshot_and_index``);
5. rollback: with ``previous`` (a sha256, a snapshot.json or an earlier bundle) this
   snapshot must be it or extend it; an earlier bundle also lets forks be found (the
   same contract version with another statement) (``verify_snapshot.check_history``);
6. contracts: per version, the statement chain (id, version, previous, repository,
   registry link), the subject digest against the exact contract bytes, every signature
   file verifying as the principal its name claims (in the registry head, or in an
   earlier version for historic signatures; never with a key revoked in the head), the
   required signers recomputed from the contract, people.toml and the policy and
   compared with required.json; the head version's verdict by the signing room's
   ``contract_verdict`` (``verify_contracts``);
7. records: reviews, acknowledgements and receipts match their statements and are
   signed by their person; their times hold; closures count by the repository's rule;
   findings runs are signed by an authorised runner (``verify_records``, ``runs``);
   regulatory clocks and pages (deliveries, acknowledgements, missed ones, the page test)
   by the repository's rules (``verify_clocks``, ``verify_pages``);
8. evidence: the manifest parses, bundle.json's evidence list agrees with it, shipped
   snapshot files match their registered sha256, findings cite registered snapshots
   (``verify_evidence``);
9. expiry: past ``expires`` the history is still valid but the "current" claim is not
   (a warning; a failure with ``strict``) (``_check_expiry``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.bundle import layout as bl
from workbench.bundle.archive import (
    DEFAULT_LIMITS,
    BundleCancelled,
    BundleFormatError,
    Limits,
)
from workbench.bundle.read_members import digest_of, evidence_file, read_members
from workbench.bundle.report import (
    BundleReport,
    Check,
    ContractReport,
    Severity,
    SignatureReport,
    VersionReport,
)
from workbench.bundle.verify_clocks import verify_clocks
from workbench.bundle.verify_contracts import Registries, verify_contracts
from workbench.bundle.verify_evidence import verify_evidence
from workbench.bundle.verify_pages import verify_pages
from workbench.bundle.verify_records import (
    parse_when,
    verify_closures,
    verify_record_times,
    verify_records,
)
from workbench.bundle.verify_snapshot import (
    MAX_INDEX_BYTES,
    SnapshotOutcome,
    bundle_json,
    check_history,
    check_snapshot_and_index,
)
from workbench.signing import registry as reg
from workbench.signing.canonical import written_form_problem
from workbench.signing.errors import SigningError
from workbench.signing.statement import sha256_hex

_SUMS_LINE = re.compile(r"([0-9a-f]{64})  (.+)")
_REGISTRY_MEMBER = re.compile(r"registry/v([1-9][0-9]{0,6})/(.+)")

Step = Callable[[str, int, int], None]


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
        # Evidence files are only hashed, unless the findings are judged again from them.
        files = read_members(source, limits, cancel, None if recompute else evidence_file)
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


def _recompute(files: Mapping[str, bytes], report: BundleReport) -> None:
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


def _verify_files(
    files: Mapping[str, bytes],
    report: BundleReport,
    root: str | None,
    trust_bundle_root: bool,
    previous: str | bytes | Path | None,
    now: datetime,
    limits: Limits,
    step: Step,
) -> None:
    """Checks 2 to 9, in the order of the module docstring. A check that leaves nothing to
    build on (no registry, an unreadable snapshot, an invalid workbench.toml) ends the run."""
    step("hashes", 0, 1)
    digests = _check_sums(files, report)
    _check_json_forms(files, report)
    index = bundle_json(files)
    repository, domain = str(index.get("repository")), str(index.get("domain"))
    if not re.fullmatch(r"[a-z0-9.-]+", domain):
        raise BundleFormatError(f"bundle.json: bad domain {domain!r}")
    ns = reg.Namespaces.for_domain(domain)

    step("key registry", 0, 1)
    registries = _check_registry(files, index, repository, domain, root, trust_bundle_root, report)
    if registries is None:
        return
    head = registries.head

    step("snapshot", 0, 1)
    snapshot = check_snapshot_and_index(
        files, index, digests, head, ns, repository, previous, now, limits, report
    )
    if snapshot is None:
        return
    check_history(files, index, head, snapshot, report)
    _check_expiry(snapshot, report)

    if not _check_settings(files, report):
        return
    verify_contracts(files, index, registries, repository, ns.contract, now, step, report)

    step("records", 0, 1)
    statuses = verify_records(files, head, registries, repository, domain, ns, report)
    exported = parse_when(report.exported_at) or now
    verify_record_times(files, index, exported, report)
    verify_closures(files, index, head, statuses, exported, report)
    verify_clocks(files, index, head, statuses, exported, report)
    verify_pages(files, index, head, statuses, exported, report)
    from workbench.bundle.runs import verify_runs

    verify_runs(files, index, head, registries, repository, exported, report)

    step("evidence", 0, 1)
    verify_evidence(files, index, report, statuses, head, exported)


def _check_sums(files: Mapping[str, bytes], report: BundleReport) -> dict[str, str]:
    """2. SHA256SUMS lists every other file once, with its digest. Returns every file's
    sha256 (the signed index is compared with the same digests)."""
    digests = {p: digest_of(files, p) for p in files}
    sums = files.get(bl.SUMS)
    if sums is None:
        report.add("SHA256SUMS", "fail", "SHA256SUMS is missing")
        return digests
    listed: dict[str, str] = {}
    bad_lines = 0
    for line in sums.decode("utf-8", "replace").splitlines():
        m = _SUMS_LINE.fullmatch(line)
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
    return digests


def _check_json_forms(files: Mapping[str, bytes], report: BundleReport) -> None:
    """2b. Every signed JSON file (``layout.is_signed_json``) is one strict JSON value in
    its one written form, so every reader (this one, jq in VERIFY.sh) reads the same
    values: a duplicate key, NaN, ``1.0``, a byte-order mark or text after the value fails
    here, whoever signed it (docs/audit.md, *One reading of every JSON file*)."""
    problems = []
    checked = 0
    for path in sorted(files):
        if bl.is_signed_json(path):
            checked += 1
            problem = written_form_problem(files[path], MAX_INDEX_BYTES)
            if problem:
                problems.append(f"{path}: {problem}")
    if problems:
        report.add("json", "fail", "; ".join(problems[:10]))
    else:
        report.add("json", "ok", f"{checked} signed JSON file(s) in their one written form")


def _registry_files(
    files: Mapping[str, bytes], domain: str, report: BundleReport
) -> tuple[dict[str, bytes], dict[tuple[str, str], bytes], set[int]]:
    """The bundle's registry/ folder as the repository paths ``resolve_registry`` reads:
    (statements and signatures; every signed file by digest; the versions present)."""
    vfiles: dict[str, bytes] = {}
    by_digest: dict[tuple[str, str], bytes] = {}
    versions_present = set()
    for path in files:
        m = _REGISTRY_MEMBER.fullmatch(path)
        if not m:
            continue
        data = files[path]
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
    return vfiles, by_digest, versions_present


def _check_registry(
    files: Mapping[str, bytes],
    index: dict[str, Any],
    repository: str,
    domain: str,
    root: str | None,
    trust_bundle_root: bool,
    report: BundleReport,
) -> Registries | None:
    """3. The trust root and the registry chain. Returns the accepted versions (None when
    no version is accepted: nothing after this can be checked)."""
    vfiles, by_digest, versions_present = _registry_files(files, domain, report)
    head_version = index.get("registry", {}).get("head")
    # (exactly an integer: True is not version 1, as jq in VERIFY.sh does not take it so)
    if type(head_version) is not int or head_version < 1:
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
    _check_trust_root(pinned, rs.root_sha256, trust_bundle_root, report)
    if rs.problems or rs.head is None:
        report.add(
            "registry",
            "fail",
            "; ".join(rs.problems) or "no accepted registry version (not enough admin signatures)",
        )
        return None
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
    return Registries(vfiles, repository, domain, find_blob, head)


def _check_trust_root(
    pinned: str | None, root_sha256: str | None, trust_bundle_root: bool, report: BundleReport
) -> None:
    """The root the auditor pinned out of band, or the loud lack of one. A pinned root that
    differs is a registry problem (``resolve_registry`` names it)."""
    if pinned is None:
        if trust_bundle_root:
            report.add(
                "trust root",
                "warn",
                f"NOT pinned: trusting the bundle's own registry v1 (sha256 {root_sha256}); "
                "pin it next time with --root",
            )
        else:
            report.add(
                "trust root",
                "fail",
                "no trust root given: pass --root SHA256 (registry v1's sha256, obtained out of "
                "band), or --trust-bundle-root to trust this bundle's own registry (weaker)",
            )
    elif root_sha256 == pinned:
        report.add("trust root", "ok", f"registry v1 is the pinned root {pinned}")


def _check_expiry(snapshot: SnapshotOutcome, report: BundleReport) -> None:
    """9. Past ``expires`` the history still holds; the claim to be current does not."""
    expires = snapshot.predicate.expires
    if snapshot.current:
        report.add("expiry", "ok", f"current until {expires}")
    else:
        report.add(
            "expiry",
            "fail" if report.strict else "warn",
            f"expired at {expires}: the history is still valid, the 'current' claim is not",
        )


def _check_settings(files: Mapping[str, bytes], report: BundleReport) -> bool:
    """workbench.toml validates (the contracts are judged under it)."""
    from workbench.model.settings import Settings

    try:
        Settings.model_validate(tomllib.loads(files[bl.SETTINGS].decode("utf-8")))
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        report.add("settings", "fail", f"workbench.toml: {exc}")
        return False
    return True


__all__ = [
    "MAX_INDEX_BYTES",
    "BundleReport",
    "Check",
    "ContractReport",
    "Severity",
    "SignatureReport",
    "SigningError",
    "VersionReport",
    "verify_bundle",
]
