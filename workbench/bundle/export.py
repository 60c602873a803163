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

import hashlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from workbench.bundle import layout as bl
from workbench.bundle.archive import BundleCancelled, check_name, scan_private, write_archive
from workbench.bundle.heads import Head, render_heads
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
    from workbench.signing.keys import Signer

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


@dataclass
class ExportResult:
    data: bytes
    sha256: str
    snapshot_version: int
    snapshot_sha256: str
    previous_snapshot: str | None
    exported_at: str
    expires: str
    exporter: str
    root_sha256: str
    files: int
    contracts: int
    commit: str | None = None
    notes: list[str] = field(default_factory=list)
    snapshot: bytes = field(default=b"", repr=False)  # exports/v<N>.snapshot.json
    signature: bytes = field(default=b"", repr=False)  # exports/v<N>.<person>.sig
    heads: bytes = field(default=b"", repr=False)  # exports/v<N>.heads.json
    verify_script_sha256: str = ""  # of VERIFY.sh: travels with the trust root

    def to_json(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "bytes": len(self.data),
            "snapshot_version": self.snapshot_version,
            "snapshot_sha256": self.snapshot_sha256,
            "previous_snapshot": self.previous_snapshot,
            "exported_at": self.exported_at,
            "expires": self.expires,
            "exporter": self.exporter,
            "root_sha256": self.root_sha256,
            "verify_script_sha256": self.verify_script_sha256,
            "files": self.files,
            "contracts": self.contracts,
            "commit": self.commit,
            "notes": self.notes,
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


class _Blobs:
    """Bytes of (path, sha256) from HEAD, else from anywhere in history (one walk)."""

    def __init__(self, wb: ExportSource, head_files: Mapping[str, bytes]) -> None:
        self.wb = wb
        self.head = head_files
        self.found: dict[tuple[str, str], bytes] = {}

    def get_many(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        missing = set()
        for path, digest in wanted:
            data = self.head.get(path)
            if data is not None and sha256_hex(data) == digest:
                self.found[(path, digest)] = data
            elif (path, digest) not in self.found:
                missing.add((path, digest))
        if missing:
            self._walk(missing)
        return {k: self.found[k] for k in wanted if k in self.found}

    def _walk(self, missing: set[tuple[str, str]]) -> None:
        import pygit2

        repo = self.wb.git.repo
        paths = {p for p, _ in missing}
        seen: set[str] = set()
        for commit in repo.walk(repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL):
            for path in list(paths):
                try:
                    entry = commit.tree[path]
                except KeyError:
                    continue
                oid = str(entry.id)
                if oid in seen:
                    continue
                seen.add(oid)
                data = repo[entry.id].data
                key = (path, sha256_hex(data))
                if key in missing:
                    self.found[key] = data
                    missing.discard(key)
                    if not any(p == path for p, _ in missing):
                        paths.discard(path)
            if not missing:
                return


def _add_record_times(
    wb: ExportSource, records_index: list[dict[str, Any]], files: dict[str, bytes]
) -> None:
    """Each record's placement in git (committer times of the commit that wrote it and of
    its parent) and the time of what it answers, for the verifiers' time rule. Signed by
    the exporter with bundle.json: the auditor relies on the exporter for these times."""
    from workbench.repo.layout import CLOSURES_DIR, SIGNED_RECORD_DIRS

    placed = wb.git.placements((*SIGNED_RECORD_DIRS, CLOSURES_DIR))
    version_times: dict[str, dict[str, datetime]] = {}
    for entry in records_index:
        path = entry["path"]
        where = placed.get(path)
        entry["commit_time"] = _utc(where[0]) if where else None
        entry["parent_time"] = _utc(where[1]) if where and where[1] else None
        answers = None
        try:
            doc = tomllib.loads(files[path].decode("utf-8"))
        except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            doc = {}
        if entry["kind"] == "ack" and isinstance(doc.get("commit"), str):
            try:
                answers = wb.git.commit_info(doc["commit"]).time
            except (KeyError, ValueError):
                answers = None
        elif entry["kind"] == "review" and isinstance(doc.get("contract"), str):
            cid = doc["contract"]
            if cid not in version_times:
                version_times[cid] = wb.version_times(cid)
            answers = version_times[cid].get(str(doc.get("contract_sha256", "")))
        entry["answers_time"] = _utc(answers) if answers else None


def _record_time(path: str, data: bytes) -> datetime | None:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for key in ("completed", "acknowledged", "received", "recorded"):
        value = doc.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def build_bundle(
    wb: ExportSource,
    options: ExportOptions,
    signer: Signer,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ExportResult:
    """Build the archive bytes (nothing is written or committed here)."""
    from workbench.bundle import oscal, texts
    from workbench.model.state import parse_contract

    def step(stage: str, done: int, total: int) -> None:
        if cancel is not None and cancel():
            raise BundleCancelled("export cancelled")
        if progress is not None:
            progress(stage, done, total)

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
            and p in ("findings/", "evidence/", "exports/")
            or p.startswith(("findings/", "evidence/", "exports/"))
        ),
    )
    blobs = _Blobs(wb, {**files, **other})
    out: dict[str, bytes] = {}
    notes: list[str] = []
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

    # -- the key registry chain --------------------------------------------------------
    step("key registry", 0, head.version)
    wanted = {
        (name, digest)
        for st in rs.statements.values()
        if st.predicate.registry.version <= head.version
        for name, digest in st.subjects
    }
    found = blobs.get_many(wanted)
    raw_statements, raw_sigs, _odd = reg.registry_paths(files)
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
            out[bl.statement_sig(base, reg.principal_of(person, domain))] = sig
        registry_index.append({"version": version, "statement_sha256": st.sha256})
    if rs.pending is not None:
        notes.append(
            f"registry v{rs.pending.version} is waiting for admin signatures and is not exported"
        )
    index["registry"] = {
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

    # -- contracts ---------------------------------------------------------------------
    attestations = attestation_files(files)
    ids = set(state.contracts) | set(attestations)
    ids |= {
        p.removeprefix("contracts/").removesuffix(".toml")
        for p in files
        if p.startswith("contracts/") and p.endswith(".toml") and p.count("/") == 1
    }
    if options.contracts:
        unknown = sorted(set(options.contracts) - ids)
        if unknown:
            raise ExportError(f"no such contract at HEAD: {', '.join(unknown)}")
        ids = set(options.contracts)
    contracts_index: dict[str, Any] = {}
    wanted_contract: set[tuple[str, str]] = set()
    parsed: dict[str, dict[int, Any]] = {}
    for cid in sorted(ids):
        af = attestations.get(cid)
        parsed[cid] = {}
        for version, raw in sorted((af.statements if af else {}).items()):
            try:
                st = parse_statement(raw, COSIGN_PREDICATE)
            except ValueError as exc:
                raise ExportError(f"{cid} v{version}: {exc}") from None
            parsed[cid][version] = st
            wanted_contract.add((st.subject_name, st.subject_sha256))
    found = blobs.get_many(wanted_contract)
    total = len(ids)
    for n, cid in enumerate(sorted(ids)):
        if n % 50 == 0:
            step("contracts", n, total)
        path = f"contracts/{cid}.toml"
        af = attestations.get(cid)
        current = files.get(path)
        versions_index = []
        by_sha = {
            st.subject_sha256: found.get((st.subject_name, st.subject_sha256))
            for st in parsed[cid].values()
        }
        # Which change co-signers each version needs: the verifier recomputes the same.
        baselines = approval_baselines(
            af.statements if af else {},
            af.sigs if af else {},
            max(parsed[cid], default=0),
            lambda sha, by_sha=by_sha, path=path: (
                parse_contract(path, by_sha[sha]) if by_sha.get(sha) is not None else None
            ),
            head,
            people_by_version[head.version],
            approval_by_version[head.version],
        )
        for version, st in parsed[cid].items():
            base = bl.contract_dir(cid, version)
            out[base + "statement.json"] = st.raw
            blob = found.get((st.subject_name, st.subject_sha256))
            if blob is None:
                notes.append(f"{cid} v{version}: the approved contract bytes are not in history")
            else:
                out[base + "contract.toml"] = blob
            for sig_name, sig in sorted((af.sigs.get(version, {}) if af else {}).items()):
                person = sig_name.removeprefix(f"v{version}.").removesuffix(".sig")
                out[bl.statement_sig(base, reg.principal_of(person, domain))] = sig
            reg_version = st.predicate.registry.version
            is_head = version == max(parsed[cid])
            people = (
                people_by_version[head.version if is_head else reg_version]
                if (is_head or reg_version in people_by_version)
                else None
            )
            contract = parse_contract(path, blob) if blob is not None else None
            if is_head and current is not None and sha256_hex(current) == st.subject_sha256:
                contract = state.contracts[cid].contract if cid in state.contracts else contract
            required: dict[str, Any] = {"required": [], "roles": {}, "blocked": []}
            if contract is not None and people is not None:
                req = required_signers(
                    contract,
                    people,
                    approval_by_version[head.version if is_head else reg_version],
                    baselines.get(version),
                )
                required = {
                    "required": sorted(reg.principal_of(p, domain) for p in req.roles),
                    "roles": {reg.principal_of(p, domain): r for p, r in sorted(req.roles.items())},
                    "blocked": list(req.blocked),
                }
            else:
                required["blocked"] = ["the required signers cannot be computed (contract invalid)"]
            required["registry_version"] = head.version if is_head else reg_version
            out[base + "required.json"] = canonical_json(required) + b"\n"
            versions_index.append(
                {
                    "version": version,
                    "statement_sha256": st.sha256,
                    "contract_sha256": st.subject_sha256,
                    "registry_version": reg_version,
                }
            )
        head_version = max(parsed[cid]) if parsed[cid] else None
        entry: dict[str, Any] = {
            "head": head_version,
            "head_statement_sha256": parsed[cid][head_version].sha256 if head_version else None,
            "versions": versions_index,
            "current_sha256": sha256_hex(current) if current is not None else None,
            "current": None,
        }
        if current is not None and (
            head_version is None or sha256_hex(current) != parsed[cid][head_version].subject_sha256
        ):
            out[bl.current_path(cid)] = current
            entry["current"] = bl.current_path(cid)
        contracts_index[cid] = entry
    index["contracts"] = contracts_index
    step("contracts", total, total)
    # The head of every signed contract in the repository (not only those in scope), signed
    # with the snapshot and kept in exports/, so a later bundle shows any head going back.
    heads_raw = render_heads(
        Head(head.version, rs.statements[head.version].sha256),
        {
            cid: Head(max(af.statements), sha256_hex(af.statements[max(af.statements)]))
            for cid, af in attestations.items()
            if af.statements
        },
    )
    out[bl.HEADS] = heads_raw

    # -- obligations: reviews, acknowledgements, receipts, actions, diagnostics ---------
    step("reviews and acknowledgements", 0, 1)
    scoped = set(ids)
    records_index: list[dict[str, Any]] = []
    for path in sorted(files):
        if path.startswith(("reviews/", "acks/")):
            contract = path.split("/")[1]
            if contract not in scoped or not path.endswith(".toml"):
                continue
            if not _in_period(_record_time(path, files[path]), options):
                continue
            stem = path.removesuffix(".toml")
            out[path] = files[path]
            for extra in (stem + ".statement.json", stem + ".sig"):
                if extra in files:
                    out[extra] = files[extra]
            records_index.append(
                {
                    "path": path,
                    "kind": "review" if path.startswith("reviews/") else "ack",
                    "signed": stem + ".sig" in files,
                }
            )
        elif path.startswith("reports/receipts/") and path.endswith(".toml"):
            if _in_period(_record_time(path, files[path]), options):
                stem = path.removesuffix(".toml")
                out[path] = files[path]
                for extra in (stem + ".statement.json", stem + ".sig"):
                    if extra in files:
                        out[extra] = files[extra]
                records_index.append(
                    {"path": path, "kind": "receipt", "signed": stem + ".sig" in files}
                )
        elif (
            path.startswith("actions/")
            and path.endswith(".toml")
            or path.startswith("diagnostics/")
            and path.split("/")[1] in scoped
        ):
            out[path] = files[path]
    from workbench.repo.layout import CLOSURES_DIR

    for path in sorted(other):
        if not path.startswith(CLOSURES_DIR) or not path.endswith(".toml"):
            continue
        try:
            contract = tomllib.loads(other[path].decode("utf-8")).get("contract")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            contract = None
        if contract not in scoped:
            continue
        stem = path.removesuffix(".toml")
        for extra in (path, stem + ".statement.json", stem + ".sig"):
            if extra in other:
                out[extra] = other[extra]
        records_index.append({"path": path, "kind": "closure", "signed": stem + ".sig" in other})
    _add_record_times(wb, records_index, {**files, **other})
    index["records"] = records_index

    # -- evidence and findings ------------------------------------------------------------
    step("evidence", 0, 1)
    from workbench.evidence.findings import CLOSURES_PATH
    from workbench.evidence.manifest import MANIFEST_PATH, parse_manifest

    evidence_index: list[dict[str, Any]] = []
    manifest_raw = other.get(MANIFEST_PATH)
    if manifest_raw is not None:
        out[MANIFEST_PATH] = manifest_raw
        manifest = parse_manifest(manifest_raw.decode("utf-8"), MANIFEST_PATH)
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
            if not options.evidence_files:
                item["reason"] = "left out (--no-evidence-files): hash and metadata only"
            elif data is None:
                item["reason"] = "not in the repository (external evidence): hash only"
            elif sha256_hex(data) != snap.sha256:
                item["reason"] = "the committed file does not match the manifest sha256"
                notes.append(f"{snap.path}: committed bytes differ from the manifest; left out")
            else:
                check_name(snap.path)
                out[snap.path] = data
                item["included"] = True
            evidence_index.append(item)
    from workbench.bundle.runs import export_runs

    runs, runs_index = export_runs(wb, other, lambda when: _in_period(when, options), out, notes)
    if CLOSURES_PATH in other:
        out[CLOSURES_PATH] = other[CLOSURES_PATH]
    index["evidence"] = {"files_included": options.evidence_files, "snapshots": evidence_index}
    index["findings"] = runs_index

    # -- earlier snapshots ------------------------------------------------------------------
    previous_raw: bytes | None = None
    previous_version = 0
    for path, data in sorted(other.items()):
        m = bl.EXPORT_STATEMENT_RE.fullmatch(path)
        if m:
            out[path] = data
            if int(m.group(1)) > previous_version:
                previous_version, previous_raw = int(m.group(1)), data
        elif bl.EXPORT_SIG_RE.fullmatch(path) or bl.EXPORT_HEADS_RE.fullmatch(path):
            out[path] = data
    if previous_raw is not None:
        prev = parse_statement(previous_raw, SNAPSHOT_PREDICATE, subjects=None)
        if prev.predicate.snapshotVersion != previous_version:
            raise ExportError(f"exports/v{previous_version}.snapshot.json says another version")
    version = previous_version + 1

    # -- OSCAL, settings, texts ---------------------------------------------------------------
    step("OSCAL", 0, 1)
    exported_at = wb.now.astimezone(UTC).replace(microsecond=0)
    expires = exported_at + options.valid_for
    out[bl.SETTINGS] = files[bl.SETTINGS]
    oscal_docs = oscal.build_documents(
        oscal.OscalInput(
            wb=wb,
            state=state,
            settings=settings,
            head=head,
            bundle_files=out,
            index={**index, "contracts": contracts_index},
            runs=runs,
            exported_at=exported_at,
            expires=expires,
            snapshot_version=version,
            scoped=scoped,
            options=options,
        )
    )
    out.update(oscal_docs)
    out[bl.README] = texts.readme(index, version, exported_at, expires, rs.root_sha256 or "")
    out[bl.VERIFY_SH] = texts.VERIFY_SH.encode()

    # -- index, snapshot, signature, sums -------------------------------------------------------
    step("signing", 0, 1)
    index["files"] = {p: sha256_hex(out[p]) for p in sorted(out)}
    index_raw = canonical_json(index) + b"\n"
    out[bl.INDEX] = index_raw
    head_path = bl.registry_dir(head.version) + "statement.json"
    snapshot = write_snapshot(
        {head_path: out[head_path], bl.INDEX: index_raw, bl.HEADS: heads_raw},
        repository,
        version,
        previous_raw,
        exported_at,
        expires,
    )
    out[bl.SNAPSHOT] = snapshot
    signature = signer.sign(snapshot, ns.snapshot)
    from workbench.signing.attestation import verify_attestation

    check = verify_attestation(
        snapshot, {"s": signature}, ns.snapshot, head, {exporter}, now=wb.now
    )
    if check.signed != {exporter}:
        raise ExportError(f"the snapshot signature does not verify: {check.checks[0].message}")
    out[bl.snapshot_sig(principal)] = signature
    out[bl.SUMS] = bl.render_sums(out)
    scan_private(out)
    step("writing the archive", 0, 1)
    data = write_archive(out, int(exported_at.timestamp()))
    return ExportResult(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        snapshot_version=version,
        snapshot_sha256=sha256_hex(snapshot),
        previous_snapshot=sha256_hex(previous_raw) if previous_raw else None,
        exported_at=_utc(exported_at),
        expires=_utc(expires),
        exporter=exporter,
        root_sha256=rs.root_sha256 or "",
        files=len(out),
        contracts=len(ids),
        notes=notes,
        snapshot=snapshot,
        signature=signature,
        heads=heads_raw,
        verify_script_sha256=sha256_hex(out[bl.VERIFY_SH]),
    )
