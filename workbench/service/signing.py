"""The signing service (``wb.signing``): the key registry and signature verdicts, read
from committed bytes; with its parts ``keys`` (people's keys and signers,
``service/keys.py``), ``contracts`` (co-signing, ``service/cosign.py``) and ``registry``
(changes to the key registry, ``service/registry_edits.py``).

Reading methods take a revision (default HEAD: signatures are always about committed
bytes from the git object DB, never the working tree). Writing goes through
``Workbench.commit`` (the one write door), SSH-signed with the signer's key (namespace
``git``). See docs/signing.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.repo import layout
from workbench.service.cosign import ContractSigning
from workbench.service.errors import (
    SettingsInvalid,
    SigningRefused,
    UnknownContract,
    WorkbenchError,
)
from workbench.service.keys import Keys, local_dir
from workbench.service.registry_edits import RegistryEdits
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing import trust as trustmod
from workbench.signing.errors import SigningError
from workbench.signing.registry_history import (
    RegistryMemory,
    rollback_problems,
    seen_pin_problems,
)
from workbench.signing.statement import (
    sha256_hex,
)
from workbench.signing.verdict import (
    ContractVerdict,
    approval_of,
    attestation_files,
    contract_verdict,
    parse_people,
)

if TYPE_CHECKING:
    from workbench.governance.seams import SeamView
    from workbench.service.core import Workbench

HEAD = "HEAD"
WORKTREE = "WORKTREE"


@dataclass
class RegistryView:
    """What the registry screen shows."""

    head_version: int | None
    root_sha256: str | None
    pinned_root: str | None
    ok: bool
    problems: list[str]
    notes: list[str]
    admins: list[str]
    threshold: int | None
    keys: list[dict[str, object]]  # person, principal, fingerprint, namespaces, valid_before
    revoked: list[str]  # fingerprints
    pending_version: int | None = None
    pending_signed: list[str] = field(default_factory=list)
    pending_missing: list[str] = field(default_factory=list)
    # The signed floor in force (keys/policy.toml [gate], [limits] of the head).
    floor: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class VerdictSet:
    """Every signature verdict at one revision, the registry they rest on and how far its
    root is trusted: what verify, status, show, the app and the gate all show."""

    rev: str
    registry: reg.RegistryState
    trust: trustmod.TrustRoot
    verdicts: list[ContractVerdict]

    @property
    def ok(self) -> bool:
        return self.registry.ok and all(v.ok for v in self.verdicts)


@dataclass
class HistoryScan:
    """What the history of a revision ever held, for the append-only rules."""

    registry: RegistryMemory  # every registry version ever complete
    statements: dict[str, dict[str, str]]  # attestation statement path -> {blob id: commit}


# --- the policy the registry signs ------------------------------------------------


def approval_policy(wb: Workbench):  # type: ignore[no-untyped-def]
    """The approval policy in force: the one signed into the verified registry head."""
    from workbench.model.settings import Policy

    if wb.git.is_empty:
        return Policy()
    try:
        return approval_of(wb.signing.registry_state(HEAD))
    except (WorkbenchError, SigningError, ValueError):
        return Policy()


def _registry_input(path: str) -> bool:
    """What the registry of a commit is read from: keys/ and workbench.toml ([org])."""
    return path == layout.SETTINGS or path == reg.KEYS_DIR or path.startswith(reg.KEYS_DIR)


def signed_floor(wb: Workbench, commit: str):  # type: ignore[no-untyped-def]
    """The floor signed into the verified registry at ``commit`` (``floor_of``): read from
    the commit's keys/ and [org] alone, so no contract is parsed for it."""
    from workbench.model.policy_floor import DEFAULT_FLOOR
    from workbench.model.settings import org_of
    from workbench.signing.floor import floor_of

    files = wb.git.read_files(commit, _registry_input)
    org = org_of(files.get(layout.SETTINGS))
    if org is None:
        return DEFAULT_FLOOR  # no [org]: no registry can be verified; `validate` says why
    try:
        rs = wb.signing.registry_state(commit, files, org=org)
    except (WorkbenchError, SigningError, ValueError):
        return DEFAULT_FLOOR
    return floor_of(rs)


class SigningService:
    def __init__(self, wb: Workbench) -> None:
        self.wb = wb
        self._blob_cache: dict[tuple[str, str], bytes | None] = {}
        self.keys = Keys(self)
        self.contracts = ContractSigning(self)
        self.registry = RegistryEdits(self)

    # -- context ------------------------------------------------------------------------
    def settings_at(self, rev: str):  # type: ignore[no-untyped-def]
        # The declared state: the floor in force is itself read from the registry, so the
        # registry cannot depend on it. Verdicts need only the contracts and [org]: on a
        # fresh clone, only that much is built (`Workbench.declared_contracts`).
        state = self.wb.declared_contracts(rev)
        if state.settings is None:
            raise SettingsInvalid("workbench.toml is missing or invalid; run `workbench validate`")
        return state, state.settings

    def files_at(self, rev: str) -> dict[str, bytes]:
        if rev == HEAD and self.wb.git.is_empty:
            return {}
        return self.wb.files(rev)

    def pinned_root(self) -> str | None:
        return self.pinned_source()[0]

    def pinned_source(self) -> tuple[str | None, str | None]:
        """The trust root given out of band and where from: --root, the environment, the
        clone's pin (see ``workbench.signing.trust``). A malformed one is an error."""
        return trustmod.pinned_source(self.wb.trust_root, local_dir(self.wb.root) / "trust-root")

    def seen_pin(self) -> trustmod.SeenPin | None:
        """The registry version known complete, given out of band (``--registry-seen``, the
        environment, the clone's file; see ``workbench.signing.trust``)."""
        return trustmod.seen_source(
            self.wb.registry_seen, local_dir(self.wb.root) / trustmod.SEEN_FILE
        )

    def anchors(self) -> tuple[str | None, str | None, str | None]:
        """Everything given out of band that a verdict depends on, for cache keys."""
        seen = self.seen_pin()
        return (*self.pinned_source(), None if seen is None else str(seen))

    def registry_head(self) -> tuple[int, str]:
        """(N, sha256) of the newest complete registry version at HEAD, for the registry-seen
        pin; refused while the registry has problems."""
        rs = self.registry_state(HEAD)
        if rs.problems:
            raise SigningRefused("the key registry is broken: " + "; ".join(rs.problems))
        if not rs.complete:
            raise SigningRefused("the registry has no complete version yet; nothing to pin")
        version = max(rs.complete)
        return version, rs.complete[version].sha256

    def pin_seen(self) -> str:
        """Remember the registry head for this clone: a later history without it is a rollback."""
        from workbench.repo.atomic import atomic_write

        version, sha256 = self.registry_head()
        value = f"v{version}:{sha256}"
        atomic_write(
            local_dir(self.wb.root) / trustmod.SEEN_FILE, (value + "\n").encode(), mode=0o600
        )
        return value

    def pin_root(self, sha256: str | None = None) -> str:
        """Remember the registry v1 digest for this clone (trust on first use, or given)."""
        sha256 = sha256 or self.registry_state().root_sha256
        if not sha256:
            raise SigningRefused("the registry has no v1 statement yet; nothing to pin")
        from workbench.repo.atomic import atomic_write

        atomic_write(local_dir(self.wb.root) / "trust-root", (sha256 + "\n").encode(), mode=0o600)
        return sha256

    def version_loader(self, contract_id: str):  # type: ignore[no-untyped-def]
        """sha256 -> the parsed version of the contract with those bytes, from its history
        (how the verdict finds the last approved version). Digests and parsed versions are
        kept in the clone's cache by git blob id, so a warm run reads no contract bytes."""
        path = layout.contract_path(contract_id)
        git, versions = self.wb.git, self.wb.versions

        def load(sha256: str):  # type: ignore[no-untyped-def]
            for info in git.history(path):
                blob = git.blob_id(info.id, path)
                if blob is None:
                    continue
                read = lambda rev=info.id: git.blob_at(rev, path)  # noqa: E731
                if versions.sha256_of_blob(blob, read) == sha256:
                    return versions.contract_of_blob(path, blob, read)
            return None

        return load

    def commit_root(self) -> tuple[str, str]:
        """Commit registry v1's digest as ``keys/trust-root``: documentation that every
        verifier checks against v1 and the root it got out of band (never trusted alone)."""
        self.wb.require_writable("commit the trust root")
        rs = self.registry_state(HEAD)
        if rs.problems:
            raise SigningRefused("the key registry is broken: " + "; ".join(rs.problems))
        if rs.root_sha256 is None:
            raise SigningRefused("the registry has no v1 statement yet; nothing to commit")
        data = (rs.root_sha256 + "\n").encode()
        if self.files_at(HEAD).get(trustmod.COMMITTED_PIN) == data:
            raise SigningRefused(f"{trustmod.COMMITTED_PIN} already names {rs.root_sha256}")
        commit = self.wb.commit(
            {trustmod.COMMITTED_PIN: data}, f"Pin the trust root: registry v1 {rs.root_sha256}\n"
        )
        return rs.root_sha256, commit

    def find_blob(self, path: str, sha256: str) -> bytes | None:
        """Bytes of ``path`` with this sha256 from any commit of its history (content-addressed)."""
        key = (path, sha256)
        if key not in self._blob_cache:
            found = None
            for commit in self.wb.git.history(path):
                data = self.wb.git.blob_at(commit.id, path)
                if data is not None and sha256_hex(data) == sha256:
                    found = data
                    break
            self._blob_cache[key] = found
        return self._blob_cache[key]

    # -- reading ------------------------------------------------------------------------
    def registry_state(  # type: ignore[no-untyped-def]
        self, rev: str = HEAD, files: dict[str, bytes] | None = None, *, org=None
    ):
        """The registry in force at ``rev``: its chain, checked against everything its
        history ever held complete (append-only) and against the committed pin. ``org``:
        workbench.toml's [org] when the caller read it (then ``files`` may be keys/ only)."""
        files = self.files_at(rev) if files is None else files
        if org is None:
            org = self.settings_at(rev)[1].org
        pinned, source = self.pinned_source()
        rs = reg.resolve_registry(
            files,
            org.repository_id,
            org.domain,
            trust_root=pinned,
            find_blob=self.find_blob,
        )
        scan = self.history_scan(rev, org=org)
        if scan is not None:
            rs.problems += rollback_problems(scan.registry.seen, rs.complete)
        seen = self.seen_pin()
        if seen is not None:
            rs.problems += seen_pin_problems(seen.version, seen.sha256, seen.source, rs.complete)
        rs.problems += trustmod.committed_pin_problems(
            files.get(trustmod.COMMITTED_PIN), rs.root_sha256, pinned, source
        )
        return rs

    def trust(
        self,
        rev: str = HEAD,
        rs: reg.RegistryState | None = None,
        files: dict[str, bytes] | None = None,
    ) -> trustmod.TrustRoot:
        """How far the registry at ``rev`` can be trusted: pinned or not, and its problems."""
        files = self.files_at(rev) if files is None else files
        rs = self.registry_state(rev, files) if rs is None else rs
        pinned, source = self.pinned_source()
        return trustmod.TrustRoot(
            root_sha256=rs.root_sha256,
            pinned=pinned,
            source=source,
            committed=trustmod.committed_pin(files.get(trustmod.COMMITTED_PIN)),
            problems=tuple(rs.problems),
            seen=self.seen_pin(),
        )

    def registry_view(self, rev: str = HEAD, rs: reg.RegistryState | None = None) -> RegistryView:
        rs = self.registry_state(rev) if rs is None else rs
        head = rs.head
        view = RegistryView(
            head_version=head.version if head else None,
            root_sha256=rs.root_sha256,
            pinned_root=self.pinned_root(),
            ok=rs.ok,
            problems=list(rs.problems),
            notes=list(rs.notes),
            admins=head.admins if head else [],
            threshold=head.policy.registry_threshold if head else None,
            keys=[
                {
                    "person": k.person,
                    "principal": k.principal,
                    "fingerprint": k.fingerprint,
                    "namespaces": sorted(k.namespaces),
                    "valid_before": k.valid_before.strftime("%Y-%m-%dT%H:%M:%SZ")
                    if k.valid_before
                    else None,
                }
                for k in sorted(head.keys.values(), key=lambda k: (k.person, k.fingerprint))
            ]
            if head
            else [],
            revoked=sorted(sshsig.fingerprint(r) for r in head.revoked) if head else [],
        )
        if rs.pending is not None:
            view.pending_version = rs.pending.version
            view.pending_signed = sorted(set(rs.pending.old.signed) | set(rs.pending.new.signed))
            view.pending_missing = rs.pending.missing
            view.problems += rs.pending.problems
        from workbench.signing.floor import floor_of

        view.floor = floor_of(rs).to_json()
        return view

    def verdict_set(self, rev: str = HEAD, contract_id: str | None = None) -> VerdictSet:
        """The one entry point for signature verdicts (verify, status, show, the app, the
        gate): every contract (or one) at ``rev``, with the registry's chain and history
        checks and the contracts' statement history (forks, rollbacks). Nothing skips them."""
        if rev == HEAD and self.wb.git.is_empty:
            empty = reg.RegistryState(head=None, root_sha256=None)
            return VerdictSet(
                rev,
                empty,
                trustmod.TrustRoot(None, *self.pinned_source(), seen=self.seen_pin()),
                [],
            )
        if rev == WORKTREE:
            return self._verdict_set(rev, contract_id)
        commit = str(self.wb.git.resolve(rev).id)
        key = ("verdicts", commit, contract_id, self.anchors())
        return self.wb.remember(key, lambda: self._verdict_set(rev, contract_id))

    def verdicts(self, rev: str = HEAD, contract_id: str | None = None) -> list[ContractVerdict]:
        """Verdicts of every contract (or one) at ``rev`` (see ``verdict_set``)."""
        return list(self.verdict_set(rev, contract_id).verdicts)

    def _verdict_set(self, rev: str, contract_id: str | None) -> VerdictSet:
        files = self.files_at(rev)
        state, settings = self.settings_at(rev)
        rs = self.registry_state(rev, files)
        people = parse_people(rs.head.files[reg.PEOPLE]) if rs.head else None
        attestations = attestation_files(files)
        ids = set(state.contracts)
        ids |= {
            p.removeprefix(layout.CONTRACTS).removesuffix(".toml")
            for p in files
            if p.startswith(layout.CONTRACTS) and p.endswith(".toml") and p.count("/") == 1
        }
        if contract_id is not None:
            if contract_id not in ids:
                raise UnknownContract(f"no contract {contract_id!r} at {rev}")
            ids = {contract_id}
        history = self.history_problems(rev, files)
        out = []
        for cid in sorted(ids):
            doc = state.contracts.get(cid)
            verdict = contract_verdict(
                cid,
                doc.contract if doc else None,
                files.get(layout.contract_path(cid)),
                attestations.get(cid),
                rs,
                settings.org.repository_id,
                approval_of(rs),
                now=self.wb.now,
                people=people,
                load_version=self.version_loader(cid),
            )
            if history.get(cid) and verdict.state != "invalid":
                verdict.state = "invalid"
                verdict.reason = history[cid][0]
                verdict.notes += history[cid][1:]
            elif history.get(cid):
                verdict.notes += history[cid]
            out.append(verdict)
        self.wb.versions.save()
        return VerdictSet(rev, rs, self.trust(rev, rs, files), out)

    def verdict(self, contract_id: str, rev: str = HEAD) -> ContractVerdict:
        return self.verdicts(rev, contract_id)[0]

    def history_scan(self, rev: str = HEAD, *, org=None) -> HistoryScan | None:  # type: ignore[no-untyped-def]
        """One walk of the history behind ``rev`` (HEAD for the working tree), kept per
        commit: the attestation statements and the registry versions it ever held."""
        git = self.wb.git
        if git.is_empty:
            return None
        commit = str(git.resolve(HEAD if rev == WORKTREE else rev).id)
        if org is None:
            org = self.settings_at(HEAD if rev == WORKTREE else rev)[1].org
        repository, domain = org.repository_id, org.domain
        return self.wb.keep(
            ("signing-history", commit, repository, domain),
            lambda: self._walk_history(commit, repository, domain),
        )

    def _walk_history(self, commit_id: str, repository: str, domain: str) -> HistoryScan:
        # Not kept in the clone's cache: a security check should not rest on files anyone
        # with access to .git/ can plant, and the walk is cheap (~0.1 s per 2,000 commits).
        import pygit2

        repo = self.wb.git.repo
        attestation_trees: set[str] = set()
        registry_trees: set[str] = set()
        statements: dict[str, dict[str, str]] = {}  # path -> {blob id: commit id}
        memory = RegistryMemory()
        blobs: dict[str, bytes] = {}
        registry_dir = reg.REGISTRY_DIR.rstrip("/")
        walker = repo.walk(pygit2.Oid(hex=commit_id), pygit2.enums.SortMode.TOPOLOGICAL)
        for commit in walker:
            tree = commit.tree
            # Identical trees hold identical files: each is read once, however many commits
            # share it, so a long history costs one tree lookup per commit.
            try:
                entry = tree[registry_dir]
            except KeyError:
                entry = None
            if (
                entry is not None
                and entry.type_str == "tree"
                and str(entry.id) not in registry_trees
            ):
                registry_trees.add(str(entry.id))
                files = {}
                for item in repo[entry.id].peel(pygit2.Tree):
                    if item.type_str != "blob":
                        continue
                    blob_id = str(item.id)
                    if blob_id not in blobs:
                        blobs[blob_id] = repo[item.id].peel(pygit2.Blob).data
                    files[f"{reg.REGISTRY_DIR}{item.name}"] = blobs[blob_id]
                memory.add_tree(files, repository, domain, str(commit.id))
            try:
                entry = tree["attestations"]
            except KeyError:
                continue
            if str(entry.id) in attestation_trees:
                continue
            attestation_trees.add(str(entry.id))
            for sub in repo[entry.id].peel(pygit2.Tree):
                if sub.type_str != "tree" or str(sub.id) in attestation_trees:
                    continue
                attestation_trees.add(str(sub.id))
                for item in repo[sub.id].peel(pygit2.Tree):
                    if item.name and item.name.endswith(".statement.json"):
                        path = f"attestations/{sub.name}/{item.name}"
                        statements.setdefault(path, {}).setdefault(str(item.id), str(commit.id))
        return HistoryScan(memory, statements)

    def history_problems(
        self, rev: str = HEAD, files: dict[str, bytes] | None = None
    ) -> dict[str, list[str]]:
        """Statements are written once: a rewritten one is a fork, a deleted one a rollback.

        ``files``: the state files of ``rev`` when the caller has them (saves reading every
        attestation again)."""
        scan = self.history_scan(rev)
        if scan is None:
            return {}
        if files is not None or rev == WORKTREE:
            files = self.files_at(rev) if files is None else files
            current = {p for p in files if p.startswith("attestations/")}
        else:
            current = set(
                self.wb.git.read_files(
                    rev, lambda p: p.startswith("attestations/") or p == "attestations/"
                )
            )
        problems: dict[str, list[str]] = {}
        for path, blobs in sorted(scan.statements.items()):
            cid = path.split("/")[1]
            name = path.rsplit("/", 1)[1]
            if path not in current:
                problems.setdefault(cid, []).append(
                    f"{name} existed in history but is gone (rollback? statements are never deleted)"
                )
            elif len(blobs) > 1:
                problems.setdefault(cid, []).append(
                    f"fork: {name} was rewritten ({len(blobs)} different versions in history)"
                )
        return problems

    # -- seam map marks -----------------------------------------------------------------
    def mark_seams(self, views: list[SeamView]) -> None:
        """``marks["signature"]`` on every seam: the verdict state at HEAD."""
        try:
            verdicts = {v.contract_id: v for v in self.verdicts(HEAD)}
        except WorkbenchError:
            for view in views:
                view.marks["signature"] = "invalid" if view.governed else "none"
            return
        for view in views:
            if not view.governed:
                view.marks["signature"] = "none"
            elif view.id in verdicts:
                view.marks["signature"] = verdicts[view.id].state
            else:
                view.marks["signature"] = "draft"  # not committed yet
