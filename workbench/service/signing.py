"""The signing service: keys, co-signatures, the key registry and verdicts.

One service for the CLI and the TUI. Reading methods take a revision (default HEAD:
signatures are always about committed bytes from the git object DB, never the working
tree). Writing methods go through ``Workbench.commit`` (the one write door) and are
SSH-signed with the signer's key (namespace ``git``).

For the TUI sign flow: ``preview_sign`` shows what will be signed (digest, version,
your roles, the diff since the version you last signed); ``make_signer`` turns a
passphrase from a password field into a signer; ``sign`` commits. See docs/signing.md.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.repo import layout
from workbench.service.errors import UnknownContract, WorkbenchError
from workbench.signing import keys as keymod
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing import trust as trustmod
from workbench.signing.attestation import verify_attestation
from workbench.signing.errors import KeyLoadError, SigningError
from workbench.signing.registry_history import RegistryMemory, rollback_problems
from workbench.signing.statement import (
    COSIGN_PREDICATE,
    ChainLink,
    ContractRef,
    CosignPredicate,
    parse_statement,
    sha256_hex,
    write_statement,
)
from workbench.signing.verdict import (
    ContractVerdict,
    RequiredSigners,
    attestation_files,
    contract_verdict,
    parse_people,
    sig_path,
    statement_path,
)

if TYPE_CHECKING:
    from workbench.model.people import Person
    from workbench.model.settings import Policy
    from workbench.service.core import Workbench

HEAD = "HEAD"
WORKTREE = "WORKTREE"
TRUST_ROOT_ENV = trustmod.ROOT_ENV
PASSPHRASE_ENV = "WORKBENCH_KEY_PASSPHRASE"
LOCAL_DIR = ("handshake-workbench",)
DEMO_KEYS = "demo-keys"


class SigningRefused(WorkbenchError):
    """The signing action is not allowed in this state (message says why and what to do)."""


@dataclass
class SignPreview:
    """Everything the sign screen shows before asking for the passphrase."""

    contract_id: str
    person: str
    roles: list[str]
    version: int
    new_statement: bool
    statement: bytes
    statement_sha256: str
    contract_sha256: str
    last_signed_version: int | None
    diff: str  # unified diff from the version you last signed (or from nothing) to now
    already_signed: bool
    verdict: ContractVerdict


@dataclass
class SignResult:
    contract_id: str
    person: str
    version: int
    statement_sha256: str
    fingerprint: str
    commit: str | None  # None when nothing was committed (already signed)
    already_signed: bool = False
    verdict: ContractVerdict | None = None


@dataclass
class RegistryChange:
    version: int | None  # the pending registry version written, None if not yet possible
    commit: str
    description: str
    note: str = ""


@dataclass
class KeygenResult:
    path: Path
    public_key: str
    fingerprint: str


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


# --- commit signing hook ------------------------------------------------------------


def commit_signer_for(wb: Workbench, actor: Person) -> Callable[[bytes], str] | None:
    """A git commit signer for ``actor``, or None (the commit is then unsigned).

    Order: a signer the front end installed with ``Workbench.use_signer`` (the TUI,
    after asking for the passphrase; ``workbench sign --agent``); else the actor's key
    file (repo-local demo key, then the user's config dir), unencrypted or decrypted
    with $WORKBENCH_KEY_PASSPHRASE. Never prompts.
    """
    signer = getattr(wb, "_session_signer", None)
    if signer is not None and getattr(signer, "person", actor.id) == actor.id:
        return lambda buffer: keymod.commit_signature(signer, buffer)
    path = key_path_for(wb, actor.id)
    if path is None:
        return None
    try:
        file_signer = keymod.FileSigner(path, os.environ.get(PASSPHRASE_ENV) or None)
    except KeyLoadError:
        return None
    return lambda buffer: keymod.commit_signature(file_signer, buffer)


def local_dir(wb: Workbench) -> Path:
    """``.git/handshake-workbench``: per-clone state that is never committed."""
    return wb.root / ".git" / "handshake-workbench"


def key_path_for(wb: Workbench, person: str) -> Path | None:
    """The person's private key: the demo's repo-local key, else the config-dir key."""
    candidates = [
        local_dir(wb) / DEMO_KEYS / f"{person}_ed25519",
        keymod.default_key_path(person),
    ]
    return next((p for p in candidates if p.is_file()), None)


# --- the service ---------------------------------------------------------------------


def _approval(rs):  # type: ignore[no-untyped-def]
    """The approval policy signed into the registry head (defaults before the first one)."""
    from workbench.model.settings import Policy

    return rs.head.policy.approval if rs is not None and rs.head is not None else Policy()


def approval_policy(wb: Workbench):  # type: ignore[no-untyped-def]
    """The approval policy in force: the one signed into the verified registry head."""
    from workbench.model.settings import Policy

    if wb.git.is_empty:
        return Policy()
    try:
        return _approval(SigningService(wb).registry_state(HEAD))
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
        rs = SigningService(wb).registry_state(commit, files, org=org)
    except (WorkbenchError, SigningError, ValueError):
        return DEFAULT_FLOOR
    return floor_of(rs)


class SigningService:
    def __init__(self, wb: Workbench, trust_root: str | None = None) -> None:
        self.wb = wb
        self._trust_root = trust_root or getattr(wb, "trust_root", None)
        self._blob_cache: dict[tuple[str, str], bytes | None] = {}

    # -- context ------------------------------------------------------------------------
    def _settings(self, rev: str):  # type: ignore[no-untyped-def]
        # The declared state: the floor in force is itself read from the registry, so the
        # registry cannot depend on it. Verdicts need only the contracts and [org].
        state = self.wb.declared_state(rev)
        if state.settings is None:
            raise WorkbenchError("workbench.toml is missing or invalid; run `workbench validate`")
        return state, state.settings

    def _files(self, rev: str) -> dict[str, bytes]:
        if rev == HEAD and self.wb.git.is_empty:
            return {}
        return self.wb.files(rev)

    def pinned_root(self) -> str | None:
        return self.pinned_source()[0]

    def pinned_source(self) -> tuple[str | None, str | None]:
        """The trust root given out of band and where from: --root, the environment, the
        clone's pin (see ``workbench.signing.trust``). A malformed one is an error."""
        return trustmod.pinned_source(self._trust_root, local_dir(self.wb) / "trust-root")

    def pin_root(self, sha256: str | None = None) -> str:
        """Remember the registry v1 digest for this clone (trust on first use, or given)."""
        sha256 = sha256 or self.registry_state().root_sha256
        if not sha256:
            raise SigningRefused("the registry has no v1 statement yet; nothing to pin")
        from workbench.repo.atomic import atomic_write

        atomic_write(local_dir(self.wb) / "trust-root", (sha256 + "\n").encode(), mode=0o600)
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
        if self._files(HEAD).get(trustmod.COMMITTED_PIN) == data:
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
        files = self._files(rev) if files is None else files
        if org is None:
            org = self._settings(rev)[1].org
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
        files = self._files(rev) if files is None else files
        rs = self.registry_state(rev, files) if rs is None else rs
        pinned, source = self.pinned_source()
        return trustmod.TrustRoot(
            root_sha256=rs.root_sha256,
            pinned=pinned,
            source=source,
            committed=trustmod.committed_pin(files.get(trustmod.COMMITTED_PIN)),
            problems=tuple(rs.problems),
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
            return VerdictSet(rev, empty, trustmod.TrustRoot(None, *self.pinned_source()), [])
        if rev == WORKTREE:
            return self._verdict_set(rev, contract_id)
        commit = str(self.wb.git.resolve(rev).id)
        key = ("verdicts", commit, contract_id, self.pinned_source())
        return self.wb.remember(key, lambda: self._verdict_set(rev, contract_id))

    def verdicts(self, rev: str = HEAD, contract_id: str | None = None) -> list[ContractVerdict]:
        """Verdicts of every contract (or one) at ``rev`` (see ``verdict_set``)."""
        return list(self.verdict_set(rev, contract_id).verdicts)

    def _verdict_set(self, rev: str, contract_id: str | None) -> VerdictSet:
        files = self._files(rev)
        state, settings = self._settings(rev)
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
                _approval(rs),
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
            org = self._settings(HEAD if rev == WORKTREE else rev)[1].org
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
                for item in repo[entry.id]:
                    if item.type_str != "blob":
                        continue
                    blob_id = str(item.id)
                    if blob_id not in blobs:
                        blobs[blob_id] = repo[item.id].data
                    files[f"{reg.REGISTRY_DIR}{item.name}"] = blobs[blob_id]
                memory.add_tree(files, repository, domain, str(commit.id))
            try:
                entry = tree["attestations"]
            except KeyError:
                continue
            if str(entry.id) in attestation_trees:
                continue
            attestation_trees.add(str(entry.id))
            for sub in repo[entry.id]:
                if sub.type_str != "tree" or str(sub.id) in attestation_trees:
                    continue
                attestation_trees.add(str(sub.id))
                for item in repo[sub.id]:
                    if item.name.endswith(".statement.json"):
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
            files = self._files(rev) if files is None else files
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

    # -- keys ---------------------------------------------------------------------------
    def keygen(self, person: str, passphrase: str | None, path: Path | None = None) -> KeygenResult:
        reg.check_person_id(person)
        state = self.wb.state()
        if person not in state.people:
            raise WorkbenchError(f"{person!r} is not a person in keys/people.toml")
        settings = state.settings
        domain = settings.org.domain if settings else "example.org"
        path = path or keymod.default_key_path(person)
        keymod.generate_keypair(path, passphrase, f"{person}@{domain}")
        public = keymod.load_public_key(keymod.public_key_path(path))
        return KeygenResult(path, sshsig.openssh_public_key(public), sshsig.fingerprint(public))

    def make_signer(
        self,
        person: str,
        *,
        key_path: Path | None = None,
        agent: bool = False,
        passphrase: str | None = None,
    ) -> keymod.Signer:
        """A signer for ``person``: ssh-agent, or their key file with ``passphrase``.

        Without ``passphrase``, $WORKBENCH_KEY_PASSPHRASE is used; an encrypted key with
        neither raises ``PassphraseRequired`` (the TUI then asks for one).
        """
        if agent:
            signer: keymod.Signer = keymod.AgentSigner(self._agent_public_key(person, key_path))
        else:
            path = Path(key_path) if key_path else key_path_for(self.wb, person)
            if path is None:
                raise KeyLoadError(
                    f"no key for {person}: create one with `workbench keygen --person {person}` "
                    f"(looked in {keymod.default_key_path(person)})"
                )
            signer = keymod.FileSigner(path, passphrase or os.environ.get(PASSPHRASE_ENV) or None)
        signer.person = person  # type: ignore[attr-defined]
        return signer

    def _agent_public_key(self, person: str, key_path: Path | None) -> Path:
        """The public half of the key ssh-agent should sign with.

        Given a path: that .pub, or the .pub beside that private key. Otherwise the .pub
        beside the person's own key file, else the key the verified registry lists for them
        (a hardware or agent-only key has no private file on disk); with several, the one
        the agent holds.
        """
        if key_path is not None:
            path = Path(key_path)
            return path if path.name.endswith(".pub") else keymod.public_key_path(path)
        local = key_path_for(self.wb, person)
        if local is not None and keymod.public_key_path(local).is_file():
            return keymod.public_key_path(local)
        head = self.registry_state().head
        registered = head.keys_of(person) if head is not None else []
        if not registered:
            raise KeyLoadError(
                f"no key for {person}: none in the key registry and no key file "
                f"(looked in {keymod.default_key_path(person)}); give --key PATH.pub"
            )
        if len(registered) > 1:
            held = set(keymod.agent_public_keys())
            registered = [k for k in registered if k.raw in held] or registered
        chosen = local_dir(self.wb) / "agent" / f"{person}.pub"
        from workbench.repo.atomic import atomic_write

        atomic_write(chosen, (registered[0].openssh + "\n").encode("ascii"), mode=0o600)
        return chosen

    @contextlib.contextmanager
    def _signing_commits(self, signer: keymod.Signer) -> Iterator[None]:
        previous = getattr(self.wb, "_session_signer", None)
        self.wb.use_signer(signer)
        try:
            yield
        finally:
            self.wb.use_signer(previous)

    # -- contract signing -------------------------------------------------------------------
    def _sign_context(self, contract_id: str, person: str):  # type: ignore[no-untyped-def]
        git = self.wb.git
        if git.is_empty:
            raise SigningRefused("the repository has no commits yet")
        path = layout.contract_path(contract_id)
        blob = git.blob_at(HEAD, path)
        if blob is None:
            raise UnknownContract(f"no committed contract {contract_id!r} (sign what is committed)")
        state, settings = self._settings(HEAD)
        from workbench.service.validity import require_valid_contract

        doc = state.contracts.get(contract_id)
        if doc is None:
            require_valid_contract(self.wb, contract_id, "sign")
            raise SigningRefused(f"{path} does not validate at HEAD; fix it before signing")
        files = self._files(HEAD)
        rs = self.registry_state(HEAD, files)
        if not rs.ok or rs.head is None:
            raise SigningRefused(
                "cannot sign: the key registry is not usable: "
                + ("; ".join(rs.problems) or "it has no signed version yet (workbench registry)")
            )
        people = parse_people(rs.head.files[reg.PEOPLE])
        verdict = contract_verdict(
            contract_id,
            doc.contract,
            blob,
            attestation_files(files).get(contract_id),
            rs,
            settings.org.repository_id,
            _approval(rs),
            now=self.wb.now,
            people=people,
            load_version=self.version_loader(contract_id),
        )
        # The verdict's required signers include the change co-signers of this version.
        required = RequiredSigners({p: list(roles) for p, roles in verdict.required.items()})
        if person not in required.roles:
            raise SigningRefused(
                f"{person} is not a required signer of {contract_id} "
                f"(required: {', '.join(sorted(required.roles)) or 'nobody'})"
            )
        require_valid_contract(self.wb, contract_id, "sign")
        if verdict.state == "invalid":
            raise SigningRefused(f"{contract_id} has an invalid attestation: {verdict.reason}")
        af = attestation_files(files).get(contract_id)
        current = sha256_hex(blob)
        if verdict.version is not None and verdict.subject_sha256 == current:
            version, new = verdict.version, False
            statement = af.statements[version] if af else b""
        else:
            version = (verdict.version or 0) + 1
            new = True
            previous = None
            if verdict.version is not None and verdict.statement_sha256:
                previous = ChainLink(
                    version=verdict.version, statementSha256=verdict.statement_sha256
                )
            predicate = CosignPredicate(
                repository=settings.org.repository_id,
                contract=ContractRef(id=contract_id, version=version, previous=previous),
                registry=rs.head.link(),
                decision="approve",
            )
            statement = write_statement(COSIGN_PREDICATE, path, current, predicate)
        return rs.head, required, verdict, af, version, new, statement, blob

    def preview_sign(self, contract_id: str, person: str | None = None) -> SignPreview:
        person = person or self.wb.actor().id
        head, required, verdict, af, version, new, statement, blob = self._sign_context(
            contract_id, person
        )
        already = (
            not new
            and any(c.counts and c.person == person for c in verdict.checks)
            and verdict.version == version
        )
        last = None
        last_blob = b""
        if af is not None:
            for v in sorted(af.sigs, reverse=True):
                if f"v{v}.{person}.sig" in af.sigs[v] and v in af.statements:
                    last = v
                    try:
                        st = parse_statement(af.statements[v], COSIGN_PREDICATE)
                        last_blob = (
                            self.find_blob(layout.contract_path(contract_id), st.subject_sha256)
                            or b""
                        )
                    except SigningError:
                        last_blob = b""
                    break
        path = layout.contract_path(contract_id)
        diff = "".join(
            difflib.unified_diff(
                last_blob.decode("utf-8", "replace").splitlines(keepends=True),
                blob.decode("utf-8", "replace").splitlines(keepends=True),
                f"a/{path} (v{last} you signed)" if last else "a/(nothing signed yet)",
                f"b/{path} (v{version}, to sign)",
            )
        )
        return SignPreview(
            contract_id=contract_id,
            person=person,
            roles=required.roles[person],
            version=version,
            new_statement=new,
            statement=statement,
            statement_sha256=sha256_hex(statement),
            contract_sha256=sha256_hex(blob),
            last_signed_version=last,
            diff=diff,
            already_signed=already,
            verdict=verdict,
        )

    def sign(self, contract_id: str, signer: keymod.Signer) -> SignResult:
        """Co-sign the committed version of ``contract_id`` as the acting person; commit."""
        self.wb.require_writable("sign")
        actor = self.wb.actor()
        person = actor.id
        path = layout.contract_path(contract_id)
        if self.wb.git.blob_at("WORKTREE", path) != self.wb.git.blob_at(HEAD, path):
            raise SigningRefused(
                f"{path} has uncommitted changes: you sign what is committed; "
                "save or discard your edits first"
            )
        head, required, verdict, af, version, new, statement, _blob = self._sign_context(
            contract_id, person
        )
        key = head.lookup(signer.public_key)
        fpr = sshsig.fingerprint(signer.public_key)
        if signer.public_key in head.revoked:
            raise SigningRefused(f"key {fpr} is revoked; sign with your new key")
        if key is None or key.person != person:
            owner = f" (it belongs to {key.person})" if key else ""
            raise SigningRefused(
                f"key {fpr} is not {person}'s key in registry v{head.version}{owner}; "
                f"add it with `workbench registry add-key {person} KEY.pub`"
            )
        sig_name = sig_path(contract_id, version, person)
        if not new and af is not None:
            existing = af.sigs.get(version, {}).get(sig_name.rsplit("/", 1)[1])
            if existing is not None:
                check = verify_attestation(
                    statement,
                    {"existing": existing},
                    head.namespaces.contract,
                    head,
                    {person},
                    now=self.wb.now,
                )
                if check.signed == {person} and check.checks[0].fingerprint == fpr:
                    return SignResult(
                        contract_id,
                        person,
                        version,
                        sha256_hex(statement),
                        fpr,
                        None,
                        True,
                        verdict,
                    )
        armored = signer.sign(statement, head.namespaces.contract)
        check = verify_attestation(
            statement, {"new": armored}, head.namespaces.contract, head, {person}, now=self.wb.now
        )
        if check.signed != {person}:
            raise SigningRefused(f"the new signature does not verify: {check.checks[0].message}")
        changes: dict[str, bytes | None] = {sig_name: armored}
        if new:
            changes[statement_path(contract_id, version)] = statement
        roles = ", ".join(required.roles[person])
        message = (
            f"Co-sign {contract_id} v{version}\n\n"
            f"{actor.name} signs as {roles} with key {fpr}.\n"
            f"Statement sha256: {sha256_hex(statement)}\n"
            f"Contract sha256: {sha256_hex(_blob)}\n"
        )
        with self._signing_commits(signer):
            commit = self.wb.commit(changes, message)
        return SignResult(
            contract_id,
            person,
            version,
            sha256_hex(statement),
            fpr,
            commit,
            False,
            self.verdict(contract_id),
        )

    def reattest_candidates(self, person: str | None = None) -> list[str]:
        """Contracts whose current version this person signed with a key that no longer counts."""
        person = person or self.wb.actor().id
        out = []
        for v in self.verdicts(HEAD):
            if person not in v.required or person in v.signed or v.version is None:
                continue
            if v.subject_sha256 != v.current_sha256:
                continue
            if any(c.status == "retired" and c.person == person for c in v.checks):
                out.append(v.contract_id)
        return out

    def reattest(self, signer: keymod.Signer) -> list[SignResult]:
        """Re-sign, with ``signer`` (your new key), every current approval of yours that lapsed."""
        return [self.sign(cid, signer) for cid in self.reattest_candidates()]

    # -- registry editing ---------------------------------------------------------------------
    def _registry_edit(
        self, description: str, mutate: Callable[[reg.RegistrySource], None], *, init=None
    ) -> RegistryChange:  # type: ignore[no-untyped-def]
        self.wb.require_writable("change the key registry")
        _state, settings = self._settings("WORKTREE")
        files = self._files(HEAD)
        worktree = self.wb.files("WORKTREE")
        dirty = sorted(
            p
            for p in set(files) | set(worktree)
            if p.startswith(reg.KEYS_DIR) and files.get(p) != worktree.get(p)
        )
        if dirty:
            raise SigningRefused(
                "uncommitted changes under keys/: " + ", ".join(dirty) + "; commit or discard them"
            )
        domain, repository = settings.org.domain, settings.org.repository_id
        committed = files
        if init is not None:
            if reg.POLICY in files:
                raise SigningRefused(f"{reg.POLICY} exists already: the registry is started")
            files = {**files, reg.POLICY: reg.render_policy(init), reg.REVOKED_KEYS: b""}
        source = reg.RegistrySource.from_files(files, domain)
        mutate(source)
        rendered = source.render()
        new_files = {**files, **rendered}
        rs = self.registry_state(HEAD, committed)
        if rs.problems:
            raise SigningRefused("the key registry is broken: " + "; ".join(rs.problems))
        changes: dict[str, bytes | None] = {
            p: (None if p.startswith(reg.PUB_DIR) and not data else data)
            for p, data in rendered.items()
            if committed.get(p) != data
        }
        head = rs.head
        version = head.version + 1 if head else 1
        if rs.pending is not None:
            # A pending version is amended until signed; its signatures are dropped.
            for name in sorted(self._registry_sigs(committed, rs.pending.version)):
                changes[name] = None
        note = ""
        try:
            statement = reg.build_registry_statement(
                new_files, version, head.statement if head else None, repository, domain
            )
            changes[reg.statement_path(version)] = statement
        except reg.RegistryError as exc:
            if head is not None:
                raise
            version_written = None
            note = f"registry v1 is not written yet: {exc}"
        else:
            version_written = version
        if not changes:
            raise SigningRefused("nothing to change in the key registry")
        title = f"Registry v{version}: {description}" if version_written else description
        commit = self.wb.commit(changes, title + "\n")
        return RegistryChange(version_written, commit, description, note)

    def _registry_sigs(self, files: dict[str, bytes], version: int) -> list[str]:
        prefix = f"{reg.REGISTRY_DIR}v{version}."
        return [p for p in files if p.startswith(prefix) and p.endswith(".sig")]

    def registry_init(
        self, admins: list[str], threshold: int, approval: Policy | None = None
    ) -> RegistryChange:
        """Start the registry; `approval` says who must co-sign beyond the party leads."""
        from workbench.model.settings import Policy

        state = self.wb.state()
        for a in admins:
            reg.check_person_id(a)
            if a not in state.people:
                raise SigningRefused(f"admin {a!r} is not a person in keys/people.toml")
        approval = approval or Policy()
        if approval.compliance_team and approval.compliance_team not in state.teams:
            raise SigningRefused(f"compliance team {approval.compliance_team!r} is not a team")
        policy = reg.RegistryPolicy(
            admins=sorted(admins), registry_threshold=threshold, approval=approval
        )
        reg.parse_policy(reg.render_policy(policy))  # same checks as on load
        return self._registry_edit(
            f"start the key registry (admins {', '.join(sorted(admins))}, threshold {threshold})",
            lambda _source: None,
            init=policy,
        )

    def registry_runners(self, runners: list[str]) -> RegistryChange:
        """Name who may sign evaluation runs (keys/policy.toml [evaluation] runners): person
        ids or ``team:<team>``. A registry change: the admins sign it before it counts."""
        from workbench.model.settings import EvaluationPolicy

        state = self.wb.state()
        for entry in runners:
            team = entry.removeprefix("team:")
            if entry.startswith("team:"):
                if team not in state.teams:
                    raise SigningRefused(f"runner {entry!r}: no team {team!r} in keys/people.toml")
            elif entry not in state.people:
                raise SigningRefused(f"runner {entry!r} is not a person in keys/people.toml")

        def mutate(source: reg.RegistrySource) -> None:
            source.policy = source.policy.model_copy(
                update={"evaluation": EvaluationPolicy(runners=list(dict.fromkeys(runners)))}
            )
            reg.parse_policy(reg.render_policy(source.policy))  # the same checks as on load

        named = ", ".join(runners) or "nobody"
        return self._registry_edit(f"evaluation runners: {named}", mutate)

    def registry_propose(self, description: str) -> RegistryChange:
        """A registry version that carries the committed keys/people.toml (who leads which
        team) and nothing else new; the admins sign it like any registry change."""
        return self._registry_edit(description, lambda _source: None)

    def registry_add_key(self, person: str, public_key: str) -> RegistryChange:
        reg.check_person_id(person)
        if person not in self.wb.state().people:
            raise SigningRefused(f"{person!r} is not a person in keys/people.toml")
        raw = _public_key_arg(public_key)
        return self._registry_edit(
            f"add key {sshsig.fingerprint(raw)} for {person}",
            lambda source: source.add_key(person, raw),
        )

    def registry_set_exporters(self, entries: list[str]) -> RegistryChange:
        """Who may sign audit snapshots (keys/policy.toml [export]); a registry change, so
        it counts once the admins have signed the new version."""
        from pydantic import ValidationError

        from workbench.model.settings import ExportPolicy

        try:
            export = ExportPolicy(exporters=list(entries))
        except ValidationError as exc:
            raise SigningRefused(
                "exporters: " + "; ".join(e["msg"] for e in exc.errors(include_url=False))
            ) from None
        state = self.wb.state()
        for entry in export.exporters:
            team = entry.removeprefix("lead:")
            if entry.startswith("lead:") and team not in state.teams:
                raise SigningRefused(f"exporters: {team!r} is not a team in keys/people.toml")
            if (
                ":" not in entry
                and entry not in ("admins", "compliance-lead")
                and (entry not in state.people)
            ):
                raise SigningRefused(f"exporters: {entry!r} is not a person in keys/people.toml")

        def mutate(source: reg.RegistrySource) -> None:
            source.policy = source.policy.model_copy(update={"export": export})

        return self._registry_edit(
            "let " + ", ".join(export.exporters) + " sign audit snapshots", mutate
        )

    def registry_revoke(self, ref: str) -> RegistryChange:
        """Revoke a key (``SHA256:...`` or a person with one key): all its signatures die."""
        holder: list[str] = []

        def mutate(source: reg.RegistrySource) -> None:
            raw = source.find_key(ref) if not ref.startswith("ssh-") else _public_key_arg(ref)
            holder.append(sshsig.fingerprint(raw))
            owner = source.remove_key(raw)
            source.revoked[raw] = owner

        return self._registry_edit(f"revoke key {ref}", mutate)

    def registry_rotate(self, person: str, public_key: str) -> RegistryChange:
        """Retire ``person``'s current key(s) (not revoked) and register the new one."""
        raw = _public_key_arg(public_key)

        def mutate(source: reg.RegistrySource) -> None:
            for old in source.keys_of(person):
                source.remove_key(old)
            source.add_key(person, raw)

        return self._registry_edit(f"rotate {person}'s key to {sshsig.fingerprint(raw)}", mutate)

    def registry_floor(
        self,
        *,
        deny: list[str] | None = None,
        warn: list[str] | None = None,
        contracts: list[str] | None = None,
        limits: dict[str, str] | None = None,
        reset: bool = False,
    ) -> RegistryChange:
        """Propose a new signed floor (keys/policy.toml [gate], [limits]): a pending registry
        version, in force once the admins signed it. Lists replace the floor's; ``limits``
        set the named limits; ``reset`` starts from the built-in floor."""
        from workbench.model.policy_floor import GateFloor, Limits

        changed = {
            k: v
            for k, v in (("deny", deny), ("warn", warn), ("contracts", contracts))
            if v is not None
        }
        said = ["reset to the built-in floor"] if reset else []
        said += [f"{k} {', '.join(v) or 'none'}" for k, v in changed.items()]
        said += [f"{k} <= {v}" for k, v in (limits or {}).items()]

        def mutate(source: reg.RegistrySource) -> None:
            policy = source.policy
            gate = GateFloor() if reset else policy.gate
            current = Limits() if reset else policy.limits
            new_gate = _floor_table("gate", GateFloor, {**gate.model_dump(mode="json"), **changed})
            new_limits = _floor_table(
                "limits", Limits, {**current.model_dump(mode="json"), **(limits or {})}
            )
            if new_gate == policy.gate and new_limits == policy.limits:
                raise SigningRefused("the signed floor already says this: nothing to change")
            source.policy = policy.model_copy(update={"gate": new_gate, "limits": new_limits})

        return self._registry_edit("signed floor: " + "; ".join(said), mutate)

    def registry_sign(self, signer: keymod.Signer) -> RegistryChange:
        """An admin signs the pending registry version."""
        self.wb.require_writable("sign the key registry")
        actor = self.wb.actor()
        files = self._files(HEAD)
        rs = self.registry_state(HEAD, files)
        if rs.problems:
            raise SigningRefused("the key registry is broken: " + "; ".join(rs.problems))
        pending = rs.pending
        if pending is None:
            raise SigningRefused("no registry version is waiting for signatures")
        if pending.problems:
            raise SigningRefused("; ".join(pending.problems))
        pub = signer.public_key
        admin_keys = {
            sshsig.public_key_from_openssh(a.key): reg.person_of(a.principal)
            for st in filter(None, [pending.statement, rs.head.statement if rs.head else None])
            for a in st.predicate.admins
        }
        if admin_keys.get(pub) != actor.id:
            raise SigningRefused(
                f"key {sshsig.fingerprint(pub)} is not an admin key of {actor.id} in registry "
                f"v{pending.version} or the version before it"
            )
        _state, settings = self._settings(HEAD)
        ns = reg.Namespaces.for_domain(settings.org.domain)
        armored = signer.sign(pending.statement.raw, ns.registry)
        path = reg.sig_path(pending.version, actor.id)
        with self._signing_commits(signer):
            commit = self.wb.commit(
                {path: armored}, f"Sign registry v{pending.version} as {actor.id}\n"
            )
        return RegistryChange(pending.version, commit, f"signed by {actor.id}")


def _floor_table(table: str, model, data: dict[str, object]):  # type: ignore[no-untyped-def]
    """One table of the signed floor, validated like the file; a clear refusal otherwise."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = "".join(f" {p}" if i == 0 else f".{p}" for i, p in enumerate(err["loc"]))
        message = err["msg"].removeprefix("Value error, ")
        raise SigningRefused(f"{reg.POLICY} [{table}]{where}: {message}") from None


def _public_key_arg(value: str) -> bytes:
    """A public key given as a file path or as an ``ssh-ed25519 AAAA...`` line."""
    text = value.strip()
    if not text.startswith("ssh-"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise KeyLoadError(f"{value}: not a public key line and no such file")
        return keymod.load_public_key(path)
    return sshsig.public_key_from_openssh(text)


# --- seam map marks --------------------------------------------------------------------


def apply_marks(wb: Workbench, views) -> None:  # type: ignore[no-untyped-def]
    """``marks["signature"]`` on every seam: the verdict state at HEAD."""
    try:
        verdicts = {v.contract_id: v for v in SigningService(wb).verdicts(HEAD)}
    except (WorkbenchError, SigningError) as exc:
        for view in views:
            view.marks["signature"] = "invalid" if view.governed else "none"
        _ = exc
        return
    for view in views:
        if not view.governed:
            view.marks["signature"] = "none"
        elif view.id in verdicts:
            view.marks["signature"] = verdicts[view.id].state
        else:
            view.marks["signature"] = "draft"  # not committed yet
