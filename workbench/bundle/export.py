"""Export an audit bundle: everything an offline auditor needs, signed by the exporter.

Reads committed bytes only (HEAD and its history, never the working tree), so the same
repository state and options give the same archive bytes (Ed25519 signatures are
deterministic). See ``workbench.bundle.layout`` for the layout and docs/audit.md for the
auditor's side.

Scope:
* ``contracts``: only these contracts (default all). The registry chain is always whole.
* ``since``/``until``: the audit period. It selects the time-stamped records (reviews,
  acknowledgements, receipts, findings runs by run time, evidence snapshots by capture
  time). Contract statements are always exported in full, v1 to head: a chain cannot be
  checked with a gap in it.
* ``evidence_files``: False ships only the manifest (sha256, size, kind, capture time)
  and leaves the snapshot files out.

The export's own state lives in the repository: ``exports/v<N>.snapshot.json`` and
``exports/v<N>.<person>.sig``, committed after each export (unless ``record=False``).
The next export takes version N+1 and names sha256(vN) as ``previousSnapshot``; the
bundle carries the earlier snapshots so an auditor who kept any one of their digests can
check that this one extends it.
"""

from __future__ import annotations

import io
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from workbench.bundle import layout as bl
from workbench.bundle.archive import BundleCancelled, check_name
from workbench.bundle.blobs import HistoryBlobs
from workbench.bundle.export_result import ExportResult as ExportResult  # re-exported
from workbench.bundle.heads import Head, render_heads
from workbench.bundle.record_times import add_record_times, record_time
from workbench.bundle.writer import BundleMembers
from workbench.model.errors import WorkbenchError
from workbench.signing import registry as reg
from workbench.signing.canonical import canonical_json
from workbench.signing.snapshot import authorised_exporters, write_snapshot
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    SNAPSHOT_PREDICATE,
    parse_statement,
    sha256_hex,
)
from workbench.signing.verdict import (
    approval_baselines,
    attestation_files,
    parse_people,
    required_signers,
)

if TYPE_CHECKING:
    from workbench.bundle.source import ExportSource
    from workbench.model.contract import Contract
    from workbench.model.findings import Run
    from workbench.model.people import PeopleFile
    from workbench.model.settings import Policy as ApprovalPolicy
    from workbench.model.state import GovernanceState
    from workbench.signing.keys import Signer
    from workbench.signing.statement import Statement
    from workbench.signing.verdict import AttestationFiles

Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]
HEAD = "HEAD"
DEFAULT_VALIDITY = timedelta(days=30)


class ExportError(WorkbenchError, ValueError):
    """The bundle cannot be exported (the message says why and what to do)."""


@dataclass
class ExportOptions:
    contracts: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    evidence_files: bool = True
    valid_for: timedelta = DEFAULT_VALIDITY
    record: bool = True

    def scope_json(self) -> dict[str, Any]:
        return {
            "contracts": sorted(self.contracts) if self.contracts else None,
            "since": _utc(self.since) if self.since else None,
            "until": _utc(self.until) if self.until else None,
            "evidence_files": self.evidence_files,
        }


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _in_period(when: datetime | None, options: ExportOptions) -> bool:
    if when is None:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if options.since is not None and when < options.since:
        return False
    return not (options.until is not None and when > options.until)


@dataclass
class _Export:
    """What the stages of one export share: what was read at HEAD and the bundle so far."""

    wb: ExportSource
    options: ExportOptions
    step: Progress
    state: GovernanceState  # at HEAD
    files: dict[str, bytes]  # the governance files at HEAD
    other: dict[str, bytes]  # findings/, evidence/, exports/ at HEAD
    rs: reg.RegistryState
    head: reg.Registry
    exporter: str
    principal: str
    blobs: HistoryBlobs
    index: dict[str, Any]
    out: BundleMembers  # spooled as produced; digests kept, bytes not
    notes: list[str] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.head.domain


@dataclass
class _Scope:
    """Stage 3's outcome: the contracts in scope and what the later stages need of them."""

    ids: set[str]
    contracts_index: dict[str, Any]
    contract_heads: dict[str, Head]
    heads_raw: bytes = b""  # heads.json, once the head runs are known (stage 5)


def build_bundle(
    wb: ExportSource,
    options: ExportOptions,
    signer: Signer,
    *,
    target: BinaryIO | None = None,
    spool_dir: Path | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ExportResult:
    """Build the archive (nothing is committed here): into ``target`` when given (the
    result's ``data`` is then empty), else in memory (``data``, for small bundles). Each
    member goes to a spool (in ``spool_dir`` once past a few MiB) as its stage produces it,
    hashed on the way; the archive is written from the spool at the end. Nine stages:

    1. read HEAD and check the exporter: a usable key registry, the signer's key is the
       acting person's, the signed policy lets them export;
    2. the key registry chain v1..head with the signed bytes of every version;
    3. the contracts in scope: every version's statement, contract bytes, signatures and
       required signers; the current file when it differs from the head version; the head
       map of every signed contract;
    4. the signed records (reviews, acknowledgements, receipts, closures), action items and
       diagnostics, each record placed in git for the verifiers' time rule;
    5. the evidence manifest and snapshot files, and the findings runs;
    6. the earlier snapshots in exports/, which this one extends;
    7. OSCAL documents, workbench.toml, README and VERIFY.sh;
    8. the signed index bundle.json, the snapshot, the exporter's signature (checked before
       it is shipped) and SHA256SUMS;
    9. the deterministic .tar.gz.
    """

    def step(stage: str, done: int, total: int) -> None:
        if cancel is not None and cancel():
            raise BundleCancelled("export cancelled")
        if progress is not None:
            progress(stage, done, total)

    out = BundleMembers(spool_dir)
    try:
        return _build(wb, options, signer, out, step, target)
    finally:
        out.close()


def _build(
    wb: ExportSource,
    options: ExportOptions,
    signer: Signer,
    out: BundleMembers,
    step: Progress,
    target: BinaryIO | None,
) -> ExportResult:
    ex = _read_repository(wb, options, signer, step, out)
    people_by_version, approval_by_version = _add_registry(ex)
    scope = _add_contracts(ex, people_by_version, approval_by_version)
    _add_records(ex, scope.ids)
    runs, head_runs = _add_evidence(ex, scope.ids)
    # The head map: registry, every signed contract and the head runs of the findings.
    scope.heads_raw = render_heads(
        Head(ex.head.version, ex.rs.statements[ex.head.version].sha256),
        scope.contract_heads,
        head_runs,
    )
    ex.out[bl.HEADS] = scope.heads_raw
    previous_raw, version = _add_earlier_snapshots(ex)
    exported_at, expires = _add_documents(ex, scope, runs, version)
    snapshot, signature = _sign(
        ex, signer, scope.heads_raw, previous_raw, version, exported_at, expires
    )
    step("writing the archive", 0, 1)
    memory = io.BytesIO()  # stays empty when the archive streams to ``target``
    written = out.write(target if target is not None else memory, int(exported_at.timestamp()))
    return ExportResult(
        data=memory.getvalue(),
        size=written.size,
        sha256=written.sha256,
        snapshot_version=version,
        snapshot_sha256=sha256_hex(snapshot),
        previous_snapshot=sha256_hex(previous_raw) if previous_raw else None,
        exported_at=_utc(exported_at),
        expires=_utc(expires),
        exporter=ex.exporter,
        root_sha256=ex.rs.root_sha256 or "",
        files=len(ex.out),
        contracts=len(scope.ids),
        notes=ex.notes,
        snapshot=snapshot,
        signature=signature,
        heads=scope.heads_raw,
        verify_script_sha256=out.sha256(bl.VERIFY_SH),
    )


def _read_repository(
    wb: ExportSource, options: ExportOptions, signer: Signer, step: Progress, out: BundleMembers
) -> _Export:
    """Stage 1: HEAD's state and registry, and whether this signer may export at all."""

    step("reading the repository", 0, 1)
    if wb.git.is_empty:
        raise ExportError("the repository has no commits; nothing to export")
    state = wb.state(HEAD)
    settings = state.settings
    if settings is None:
        raise ExportError("workbench.toml is missing or invalid at HEAD; run `workbench validate`")
    domain, repository = settings.org.domain, settings.org.repository_id
    files = wb.files(HEAD)
    rs = wb.registry_state(HEAD, files)
    if rs.problems or rs.head is None:
        raise ExportError(
            "cannot export: the key registry is not usable: "
            + ("; ".join(rs.problems) or "it has no signed version yet")
        )
    head = rs.head
    ns = head.namespaces
    actor = wb.actor()
    exporter = actor.id
    key = head.lookup(signer.public_key)
    if key is None or key.person != exporter or signer.public_key in head.revoked:
        raise ExportError(
            f"the signing key is not {exporter}'s key in registry v{head.version}; "
            "export with your registered key (--key or --agent)"
        )
    principal = head.principal(exporter)
    allowed = authorised_exporters(head.policy, parse_people(head.files[reg.PEOPLE]))
    if exporter not in allowed:
        raise ExportError(
            f"{exporter} may not sign an audit snapshot: keys/policy.toml [export] exporters "
            f"({', '.join(head.policy.export.exporters)}) of registry v{head.version} names "
            f"{', '.join(sorted(allowed)) or 'nobody'}; ask one of them to export, or the "
            "registry admins to add you (`workbench registry exporters`)"
        )
    other = wb.git.read_files(
        HEAD,
        lambda p: (
            p.endswith("/")
            and p in ("findings/", "evidence/", "exports/", "clocks/", "notify/")
            or p.startswith(("findings/", "evidence/", "exports/", "clocks/", "notify/"))
        ),
    )
    index: dict[str, Any] = {
        "format": bl.FORMAT,
        "repository": repository,
        "domain": domain,
        "organisation": settings.org.name,
        "namespaces": {
            "contract": ns.contract,
            "registry": ns.registry,
            "snapshot": ns.snapshot,
            "ack": ns.ack,
            "review": ns.review,
        },
        "exporter": {"person": exporter, "principal": principal, "name": actor.name},
        "scope": options.scope_json(),
        "source": {"commit": str(wb.git.resolve(HEAD).id)},
    }
    return _Export(
        wb=wb,
        options=options,
        step=step,
        state=state,
        files=files,
        other=other,
        rs=rs,
        head=head,
        exporter=exporter,
        principal=principal,
        blobs=HistoryBlobs(wb, {**files, **other}),
        index=index,
        out=out,
    )


def _add_registry(ex: _Export) -> tuple[dict[int, PeopleFile], dict[int, ApprovalPolicy]]:
    """Stage 2: every registry version's statement, signatures and signed files. Returns the
    people (who leads) and the approval policy signed with each version."""
    rs, head, out = ex.rs, ex.head, ex.out
    ex.step("key registry", 0, head.version)
    wanted = {
        (name, digest)
        for st in rs.statements.values()
        if st.predicate.registry.version <= head.version
        for name, digest in st.subjects
    }
    found = ex.blobs.get_many(wanted)
    _raw_statements, raw_sigs, _odd = reg.registry_paths(ex.files)
    registry_index = []
    for version in range(1, head.version + 1):
        st = rs.statements[version]
        base = bl.registry_dir(version)
        out[base + "statement.json"] = st.raw
        for name, digest in st.subjects:
            data = found.get((name, digest))
            if data is None:
                raise ExportError(
                    f"registry v{version}: the signed bytes of {name} are not in history"
                )
            out[base + bl.REGISTRY_FILE_NAMES[name]] = data
        for sig_name, sig in sorted(raw_sigs.get(version, {}).items()):
            person = sig_name.split(".", 1)[1].rsplit(".", 1)[0]
            out[bl.statement_sig(base, reg.principal_of(person, ex.domain))] = sig
        registry_index.append({"version": version, "statement_sha256": st.sha256})
    if rs.pending is not None:
        ex.notes.append(
            f"registry v{rs.pending.version} is waiting for admin signatures and is not exported"
        )
    ex.index["registry"] = {
        "root_sha256": rs.root_sha256,
        "head": head.version,
        "head_statement": bl.registry_dir(head.version) + "statement.json",
        "versions": registry_index,
    }
    people_by_version = {
        v: parse_people(out[bl.registry_dir(v) + "people.toml"]) for v in range(1, head.version + 1)
    }
    # The approval policy is signed with each registry version, like the people who lead.
    approval_by_version = {
        v: reg.parse_policy(out[bl.registry_dir(v) + "policy.toml"]).approval
        for v in range(1, head.version + 1)
    }
    return people_by_version, approval_by_version


def _add_contracts(
    ex: _Export,
    people_by_version: dict[int, PeopleFile],
    approval_by_version: dict[int, ApprovalPolicy],
) -> _Scope:
    """Stage 3: the contracts in scope, version by version, and the head map."""
    files = ex.files
    attestations = attestation_files(files)
    ids = set(ex.state.contracts) | set(attestations)
    ids |= {
        p.removeprefix("contracts/").removesuffix(".toml")
        for p in files
        if p.startswith("contracts/") and p.endswith(".toml") and p.count("/") == 1
    }
    if ex.options.contracts:
        unknown = sorted(set(ex.options.contracts) - ids)
        if unknown:
            raise ExportError(f"no such contract at HEAD: {', '.join(unknown)}")
        ids = set(ex.options.contracts)
    wanted: set[tuple[str, str]] = set()
    parsed: dict[str, dict[int, Statement]] = {}
    for cid in sorted(ids):
        af = attestations.get(cid)
        parsed[cid] = {}
        for version, raw in sorted((af.statements if af else {}).items()):
            try:
                st = parse_statement(raw, COSIGN_PREDICATE)
            except ValueError as exc:
                raise ExportError(f"{cid} v{version}: {exc}") from None
            parsed[cid][version] = st
            wanted.add((st.subject_name, st.subject_sha256))
    found = ex.blobs.get_many(wanted)
    contracts_index: dict[str, Any] = {}
    total = len(ids)
    for n, cid in enumerate(sorted(ids)):
        if n % 50 == 0:
            ex.step("contracts", n, total)
        contracts_index[cid] = _add_contract(
            ex,
            cid,
            attestations.get(cid),
            parsed[cid],
            found,
            people_by_version,
            approval_by_version,
        )
    ex.index["contracts"] = contracts_index
    ex.step("contracts", total, total)
    # The head of every signed contract in the repository (not only those in scope), signed
    # with the snapshot and kept in exports/, so a later bundle shows any head going back.
    contract_heads = {
        cid: Head(max(af.statements), sha256_hex(af.statements[max(af.statements)]))
        for cid, af in attestations.items()
        if af.statements
    }
    return _Scope(ids, contracts_index, contract_heads)


def _add_contract(
    ex: _Export,
    cid: str,
    af: AttestationFiles | None,
    parsed: dict[int, Statement],
    found: dict[tuple[str, str], bytes],
    people_by_version: dict[int, PeopleFile],
    approval_by_version: dict[int, ApprovalPolicy],
) -> dict[str, Any]:
    """One contract's versions into the bundle; returns its entry in bundle.json."""
    from workbench.model.state import parse_contract

    head = ex.head
    path = f"contracts/{cid}.toml"
    current = ex.files.get(path)
    by_sha = {
        st.subject_sha256: found.get((st.subject_name, st.subject_sha256)) for st in parsed.values()
    }
    # Which change co-signers each version needs: the verifier recomputes the same.
    baselines = approval_baselines(
        af.statements if af else {},
        af.sigs if af else {},
        max(parsed, default=0),
        lambda sha: parse_contract(path, by_sha[sha]) if by_sha.get(sha) is not None else None,
        head,
        people_by_version[head.version],
        approval_by_version[head.version],
    )
    versions_index = []
    for version, st in parsed.items():
        base = bl.contract_dir(cid, version)
        ex.out[base + "statement.json"] = st.raw
        blob = found.get((st.subject_name, st.subject_sha256))
        if blob is None:
            ex.notes.append(f"{cid} v{version}: the approved contract bytes are not in history")
        else:
            ex.out[base + "contract.toml"] = blob
        for sig_name, sig in sorted((af.sigs.get(version, {}) if af else {}).items()):
            person = sig_name.removeprefix(f"v{version}.").removesuffix(".sig")
            ex.out[bl.statement_sig(base, reg.principal_of(person, ex.domain))] = sig
        reg_version = st.predicate.registry.version
        is_head = version == max(parsed)
        signers_at = head.version if is_head else reg_version
        people = (
            people_by_version[signers_at] if (is_head or reg_version in people_by_version) else None
        )
        contract = parse_contract(path, blob) if blob is not None else None
        if is_head and current is not None and sha256_hex(current) == st.subject_sha256:
            in_state = ex.state.contracts.get(cid)
            contract = in_state.contract if in_state is not None else contract
        required = _required_json(
            ex.domain, contract, people, approval_by_version.get(signers_at), baselines.get(version)
        )
        required["registry_version"] = signers_at
        ex.out[base + "required.json"] = canonical_json(required) + b"\n"
        versions_index.append(
            {
                "version": version,
                "statement_sha256": st.sha256,
                "contract_sha256": st.subject_sha256,
                "registry_version": reg_version,
            }
        )
    head_version = max(parsed) if parsed else None
    entry: dict[str, Any] = {
        "head": head_version,
        "head_statement_sha256": parsed[head_version].sha256 if head_version else None,
        "versions": versions_index,
        "current_sha256": sha256_hex(current) if current is not None else None,
        "current": None,
    }
    if current is not None and (
        head_version is None or sha256_hex(current) != parsed[head_version].subject_sha256
    ):
        ex.out[bl.current_path(cid)] = current
        entry["current"] = bl.current_path(cid)
    return entry


def _required_json(
    domain: str,
    contract: Contract | None,
    people: PeopleFile | None,
    approval: ApprovalPolicy | None,
    baseline: Contract | None,
) -> dict[str, Any]:
    """required.json of one version: who must sign it, by principal, and what blocks it."""
    if contract is None or people is None or approval is None:
        return {
            "required": [],
            "roles": {},
            "blocked": ["the required signers cannot be computed (contract invalid)"],
        }
    req = required_signers(contract, people, approval, baseline)
    return {
        "required": sorted(reg.principal_of(p, domain) for p in req.roles),
        "roles": {reg.principal_of(p, domain): r for p, r in sorted(req.roles.items())},
        "blocked": list(req.blocked),
    }


def _add_records(ex: _Export, scoped: set[str]) -> None:
    """Stage 4: reviews, acknowledgements, receipts and closures in the period (with their
    statements and signatures), action items and the diagnostics of contracts in scope."""
    from workbench.model.record_folders import CLOSURES_DIR

    ex.step("reviews and acknowledgements", 0, 1)
    files, other, out = ex.files, ex.other, ex.out
    records_index: list[dict[str, Any]] = []

    def add_signed(source: dict[str, bytes], path: str, kind: str) -> None:
        stem = path.removesuffix(".toml")
        for extra in (path, stem + ".statement.json", stem + ".sig"):
            if extra in source:
                out[extra] = source[extra]
        records_index.append({"path": path, "kind": kind, "signed": stem + ".sig" in source})

    for path in sorted(files):
        if path.startswith(("reviews/", "acks/")):
            if path.split("/")[1] not in scoped or not path.endswith(".toml"):
                continue
            if _in_period(record_time(path, files[path]), ex.options):
                add_signed(files, path, "review" if path.startswith("reviews/") else "ack")
        elif path.startswith("reports/receipts/") and path.endswith(".toml"):
            if _in_period(record_time(path, files[path]), ex.options):
                add_signed(files, path, "receipt")
        elif (
            path.startswith("actions/")
            and path.endswith(".toml")
            or path.startswith("diagnostics/")
            and path.split("/")[1] in scoped
        ):
            out[path] = files[path]
    for path in sorted(other):
        if not path.startswith(CLOSURES_DIR) or not path.endswith(".toml"):
            continue
        try:
            contract = tomllib.loads(other[path].decode("utf-8")).get("contract")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            contract = None
        if contract in scoped:
            add_signed(other, path, "closure")
    # Every evidence registration (signed records): the verifiers re-derive from them the
    # snapshots that count, which the bundle's evidence/manifest.toml lists.
    from workbench.evidence.registrations import is_registration_record

    for path in sorted(other):
        if is_registration_record(path):
            add_signed(other, path, "registration")
    # Regulatory clocks of the seams in scope, every record of each (a clock started before
    # the period can run into it), and the exporter's statement of their states at export.
    from workbench.governance.clocks import is_clock_record

    for path in sorted(other):
        if not is_clock_record(path):
            continue
        try:
            seam = tomllib.loads(other[path].decode("utf-8")).get("seam")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            seam = None
        if seam in scoped:
            add_signed(other, path, "clock")
    ex.index["clocks"] = ex.wb.clock_index(scoped)
    # Pages and deliveries of the seams in scope, whatever the period (a page answered
    # after it still judges the seam), and the exporter's statement of each page's state.
    from workbench.bundle.verify_pages import notify_records

    for path, kind in notify_records(other, scoped):
        add_signed(other, path, kind)
    ex.index.update(ex.wb.page_index(scoped))
    add_record_times(ex.wb, records_index, {**files, **other})
    ex.index["records"] = records_index


def _add_evidence(ex: _Export, scoped: set[str]) -> tuple[list[Run], dict[str, str]]:
    """Stage 5: the evidence manifest, the snapshot files in the period (or their hashes
    only), and the findings runs. Returns the runs (for the OSCAL results) and the head
    runs (run -> statement sha256, for the head map)."""
    from workbench.bundle.runs import export_runs
    from workbench.evidence.findings import CLOSURES_PATH
    from workbench.evidence.manifest import MANIFEST_PATH, render_manifest

    ex.step("evidence", 0, 1)
    other, out, options = ex.other, ex.out, ex.options
    evidence_index: list[dict[str, Any]] = []
    # The snapshots that count at HEAD (the one rule, evidence.registrations), rendered:
    # derived from the registrations the bundle ships (and, in a repository without a key
    # registry, the legacy manifest), so both verifiers read one list.
    manifest = ex.wb.evidence_manifest()
    if manifest.snapshots or MANIFEST_PATH in other:
        out[MANIFEST_PATH] = render_manifest(manifest).encode("utf-8")
        for snap in manifest.snapshots:
            if snap.contract is not None and snap.contract not in scoped:
                continue
            if not _in_period(snap.captured_at, options):
                continue
            item: dict[str, Any] = {
                "id": snap.id,
                "path": snap.path,
                "sha256": snap.sha256,
                "size": snap.size,
                "kind": snap.kind,
                "captured_at": _utc(snap.captured_at),
                "contract": snap.contract,
                "included": False,
            }
            data = other.get(snap.path)
            if snap.table_version is not None:
                # A table's rows stay where they are; its committed data-file listing (which
                # the registered sha256 pins) travels with the bundle.
                _add_table_listing(ex, snap, item)
            elif not options.evidence_files:
                item["reason"] = "left out (--no-evidence-files): hash and metadata only"
            elif data is None:
                item["reason"] = "not in the repository (external evidence): hash only"
            elif sha256_hex(data) != snap.sha256:
                item["reason"] = "the committed file does not match the manifest sha256"
                ex.notes.append(f"{snap.path}: committed bytes differ from the manifest; left out")
            else:
                check_name(snap.path)
                out[snap.path] = data
                item["included"] = True
            evidence_index.append(item)
    head_runs: dict[str, str] = {}
    runs, runs_index = export_runs(
        ex.wb, other, lambda when: _in_period(when, options), out, ex.notes, head_runs
    )
    if CLOSURES_PATH in other:
        out[CLOSURES_PATH] = other[CLOSURES_PATH]
    ex.index["evidence"] = {"files_included": options.evidence_files, "snapshots": evidence_index}
    ex.index["findings"] = runs_index
    return runs, head_runs


def _add_table_listing(ex: _Export, snap: Any, item: dict[str, Any]) -> None:
    from workbench.evidence.tables import listing_path

    path = listing_path(snap.id)
    listing = ex.other.get(path)
    from workbench.evidence.tables import version_json

    # Past 2^53 (an Iceberg snapshot id) the version is written as its digits: signed JSON
    # and jq 1.6 carry no larger number exactly (docs/audit.md).
    item["table"] = {"format": snap.format, "version": version_json(snap.table_version)}
    item["reason"] = "a table: its rows stay where they are; its data-file listing is shipped"
    if listing is None or sha256_hex(listing) != snap.sha256:
        item["reason"] = "a table whose committed data-file listing is missing or differs"
        ex.notes.append(f"{path}: missing or not the listing the manifest registers; left out")
        return
    ex.out[path] = listing
    item["listing"] = path


def _add_earlier_snapshots(ex: _Export) -> tuple[bytes | None, int]:
    """Stage 6: the snapshots exported before (exports/). Returns the latest one's bytes and
    this snapshot's version (one more)."""
    previous_raw: bytes | None = None
    previous_version = 0
    for path, data in sorted(ex.other.items()):
        m = bl.EXPORT_STATEMENT_RE.fullmatch(path)
        if m:
            ex.out[path] = data
            if int(m.group(1)) > previous_version:
                previous_version, previous_raw = int(m.group(1)), data
        elif bl.EXPORT_SIG_RE.fullmatch(path) or bl.EXPORT_HEADS_RE.fullmatch(path):
            ex.out[path] = data
    if previous_raw is not None:
        prev = parse_statement(previous_raw, SNAPSHOT_PREDICATE, subjects=None)
        if prev.predicate.snapshotVersion != previous_version:
            raise ExportError(f"exports/v{previous_version}.snapshot.json says another version")
    return previous_raw, previous_version + 1


def _add_documents(
    ex: _Export, scope: _Scope, runs: list[Run], version: int
) -> tuple[datetime, datetime]:
    """Stage 7: OSCAL, workbench.toml, README and VERIFY.sh. Returns (exported at, expires)."""
    from workbench.bundle import oscal, texts

    ex.step("OSCAL", 0, 1)
    exported_at = ex.wb.now.astimezone(UTC).replace(microsecond=0)
    expires = exported_at + ex.options.valid_for
    ex.out[bl.SETTINGS] = ex.files[bl.SETTINGS]
    oscal_docs = oscal.build_documents(
        oscal.OscalInput(
            wb=ex.wb,
            state=ex.state,
            settings=ex.state.settings,
            head=ex.head,
            bundle_files=ex.out,
            index={**ex.index, "contracts": scope.contracts_index},
            runs=runs,
            exported_at=exported_at,
            expires=expires,
            snapshot_version=version,
            scoped=scope.ids,
            options=ex.options,
        )
    )
    ex.out.update(oscal_docs)
    ex.out[bl.README] = texts.readme(
        ex.index, version, exported_at, expires, ex.rs.root_sha256 or ""
    )
    ex.out[bl.VERIFY_SH] = texts.VERIFY_SH.encode()
    return exported_at, expires


def _sign(
    ex: _Export,
    signer: Signer,
    heads_raw: bytes,
    previous_raw: bytes | None,
    version: int,
    exported_at: datetime,
    expires: datetime,
) -> tuple[bytes, bytes]:
    """Stage 8: the signed index, the snapshot over it, the exporter's signature (verified
    before it ships) and SHA256SUMS. Returns (snapshot, signature)."""
    from workbench.signing.attestation import verify_attestation

    ex.step("signing", 0, 1)
    out, head = ex.out, ex.head
    ex.index["files"] = {p: out.sha256(p) for p in sorted(out)}
    index_raw = canonical_json(ex.index) + b"\n"
    out[bl.INDEX] = index_raw
    head_path = bl.registry_dir(head.version) + "statement.json"
    snapshot = write_snapshot(
        {head_path: out[head_path], bl.INDEX: index_raw, bl.HEADS: heads_raw},
        ex.index["repository"],
        version,
        previous_raw,
        exported_at,
        expires,
    )
    out[bl.SNAPSHOT] = snapshot
    namespace = head.namespaces.snapshot
    signature = signer.sign(snapshot, namespace)
    check = verify_attestation(
        snapshot, {"s": signature}, namespace, head, {ex.exporter}, now=ex.wb.now
    )
    if check.signed != {ex.exporter}:
        raise ExportError(f"the snapshot signature does not verify: {check.checks[0].message}")
    out[bl.snapshot_sig(ex.principal)] = signature
    # Every member was scanned for private key material as it was added.
    out[bl.SUMS] = out.sums(bl.SUMS)
    return snapshot, signature
