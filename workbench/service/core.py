"""The Workbench service: every capability of the CLI and the TUI goes through here.

The clock and the repository path are passed in, never read from globals, so that every
rule about "overdue" or "48 hours" is testable with a fixed `now`.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from workbench.governance.people import PersonUsage, people_usage
from workbench.model.problems import Problem
from workbench.model.text import normalise
from workbench.repo import layout
from workbench.repo.worktree import read_worktree, read_worktree_file
from workbench.service.capabilities import Capabilities
from workbench.service.contract_diff import ContractDiff as ContractDiff
from workbench.service.contract_diff import unified
from workbench.service.drafts import Drafts
from workbench.service.errors import (
    InvalidEdit,
    NotAGovernanceRepo,
    ReadOnlyError,
    UnknownContract,
    WhatIfError,
    WorkbenchError,
)
from workbench.service.root import find_root, unfinished_demo_warning  # noqa: F401 - re-exported

if TYPE_CHECKING:
    # The contract models load with pydantic (a fifth of a second): only when a state is
    # really parsed or read back, so that the app can paint its first screen before that.
    from workbench.governance.seams import SeamView
    from workbench.model.people import Person
    from workbench.model.policy_floor import SignedFloor
    from workbench.model.state import ContractDoc, GovernanceState
    from workbench.repo.git import GitRepo
    from workbench.service.versions import VersionCache
    from workbench.signing.keys import Signer

WORKTREE = "WORKTREE"
T = TypeVar("T")
_STATE_STORE = "state"
_FLOOR_STORE = "policy-floor"


def keep_verified_signatures() -> None:
    """Save the signatures this process verified into the clones it opened (the clone's
    cache, `signing/verified.py`); the command line calls it when a command ends."""
    from workbench.signing import verified

    verified.save_all()


class Workbench(Capabilities):
    def __init__(
        self,
        root: Path,
        *,
        now: datetime | None = None,
        readonly: bool = False,
        actor: str | None = None,
        hold_worktree: bool = False,
        what_if: bool = False,
        trust_root: str | None = None,
        registry_seen: str | None = None,
        committed: bool = False,
    ) -> None:
        self.root = Path(root).resolve()
        if not (self.root / layout.SETTINGS).is_file():
            raise NotAGovernanceRepo(f"{self.root}: no workbench.toml here")
        # A one-shot command judges everything at one moment; a long-lived app reads the
        # clock on every call.
        self._now = now or (datetime.now(UTC) if hold_worktree else None)
        # Judging at the real clock: a record dated after `now` is then future-dated
        # (flagged), not merely "not made yet" at a chosen moment.
        self.clock_is_real = now is None
        self.readonly = readonly
        # Signatures this clone has verified before (the clone's cache, HMAC-tagged per
        # user: `signing/verified.py`); a tampered entry costs a verify, never a verdict.
        from workbench.signing import verified

        verified.attach(self.root, writable=not readonly)
        # `now` is a what-if (the CLI's --now): rules are judged at it, but nothing is
        # recorded at it, because a record's time must be the real one (docs/obligations.md).
        self.what_if = what_if and now is not None
        self.requested_actor = actor
        # The registry v1 digest given out of band (`--root`), for every room that verifies.
        self.trust_root = trust_root
        # The registry version known complete (`--registry-seen vN:SHA256`), likewise.
        self.registry_seen = registry_seen
        self._local = threading.local()
        self._cache: dict[tuple[str, str, str], GovernanceState] = {}
        self._lock = threading.Lock()
        self._parse_store_loaded = False
        self._versions: VersionCache | None = None
        # A one-shot command (the CLI) reads the working tree once; a long-lived app (the
        # TUI) re-reads it on every call because files may change under it.
        self.hold_worktree = hold_worktree
        self._held: GovernanceState | None = None
        self._held_declared: GovernanceState | None = None
        # (declared state, its floored state) by (id of the declared state, floor digest).
        self._floored: dict[tuple[int, str], tuple[GovernanceState, GovernanceState]] = {}
        self._held_files: dict[str, bytes] | None = None
        self._remembered: dict[tuple[object, ...], object] = {}
        self._kept: dict[tuple[object, ...], object] = {}
        self._deferred_writes: list[Callable[[], None]] | None = None
        # A committed view (the gate) reads HEAD wherever others read the working tree:
        # it judges what is committed, never files a killed command left uncommitted.
        self.committed = committed
        self._capabilities: dict[str, object] = {}
        # Drafts of invalid edits, never lost (the editor's, `contract new`'s).
        self.drafts = Drafts(self.root)

    @classmethod
    def discover(cls, start: Path, **kwargs: object) -> Workbench:
        return cls(find_root(start), **kwargs)  # type: ignore[arg-type]

    # -- basics ---------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """The evaluation clock: the moment every rule is judged at."""
        return self._now or datetime.now(UTC)

    def record_time(self) -> datetime:
        """The record clock: the time stamped on a record and on its commit.

        The real clock, or the explicit clock a caller of the service gave (the demo
        builder, tests); never a what-if `now` (writes are refused then).
        """
        self.require_writable("record anything")
        return self._now or datetime.now(UTC)

    @property
    def git(self) -> GitRepo:  # lazily imported: pygit2 is heavy
        repo = getattr(self._local, "git", None)
        if repo is None:
            self._note_base()
            from workbench.repo.git import GitRepo

            repo = GitRepo(self.root)
            repo.cache_writes = not self.readonly
            if self.committed:
                repo.worktree_rev = "HEAD"
            self._local.git = repo
        return repo

    def remember(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """`compute()` once per key in a one-shot command (several rooms ask for the same
        verdicts at HEAD); every time in a long-lived app, whose clock moves. The key must
        name every input besides the clock, e.g. the commit id."""
        if not self.hold_worktree:
            return compute()
        with self._lock:
            if key in self._remembered:
                return self._remembered[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._remembered[key] = value
        return value

    def keep(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """`compute()` once per key for the life of this Workbench, also in the app: for
        results derived from committed bytes only (the key names the commit), which neither
        the clock nor the working tree can change."""
        with self._lock:
            if key in self._kept:
                return self._kept[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._kept[key] = value
        return value

    def require_writable(self, what: str) -> None:
        if self.readonly:
            raise ReadOnlyError(f"read-only mode: cannot {what}")
        if self.committed:
            raise ReadOnlyError(f"a view of the committed files cannot {what}")
        if self.what_if:
            raise WhatIfError(
                f"cannot {what} at a what-if time: --now only evaluates (read-only); records "
                "and commits always carry the real time. Run the command without --now."
            )

    def committed_view(self) -> Workbench:
        """The same session, reading HEAD wherever it would read the working tree (what
        the gate judges)."""
        return Workbench(
            self.root,
            now=None if self.clock_is_real else self._now,
            readonly=self.readonly,
            actor=self.requested_actor,
            hold_worktree=self.hold_worktree,
            what_if=self.what_if,
            trust_root=self.trust_root,
            registry_seen=self.registry_seen,
            committed=True,
        )

    def uncommitted(self, status: Mapping[str, int] | None = None) -> list[str]:
        """Governance files whose working-tree bytes differ from HEAD's (added, changed or
        deleted): what a committed view (the gate) does not count. `status`: git's status
        already read (`GitRepo.status`)."""
        from workbench.repo.git import GitRepo

        git = GitRepo(self.root)
        include = layout.is_governance_path
        if git.is_empty:
            disk = git.read_files(WORKTREE, include)
            return sorted(disk)
        # git's status narrows it down by the index's stat data, so the findings history
        # (megabytes a run) is never read to find out nothing changed; the few candidates
        # are then compared byte for byte with HEAD.
        return [
            p
            for p in git.status_paths(include, status)
            if read_worktree_file(self.root, p) != git.blob_at("HEAD", p)
        ]

    # -- state ----------------------------------------------------------------------------
    def files(self, rev: str = WORKTREE) -> dict[str, bytes]:
        self._note_base(again=not self.hold_worktree)
        if rev == WORKTREE and self.committed:
            rev = "HEAD"
        if rev == WORKTREE:
            once = getattr(self._local, "worktree_once", None)
            if once is not None:
                return dict(once[0])
            if not self.hold_worktree:
                return read_worktree(self.root, layout.is_state_path)
            if self._held_files is None:
                self._held_files = read_worktree(self.root, layout.is_state_path)
            return dict(self._held_files)
        return self.git.read_files(rev, layout.is_state_path)

    def state_key(self, files: dict[str, bytes]) -> tuple[str, str, str]:
        """What a checked state depends on: every state file's bytes, and the day."""
        digest = hashlib.sha256()
        for path in sorted(files):
            data = files[path]
            digest.update(f"{path}\0{len(data)}\0".encode())
            digest.update(data)
        return ("content", digest.hexdigest(), self.now.date().isoformat())

    def state(
        self, rev: str = WORKTREE, *, files: dict[str, bytes] | None = None
    ) -> GovernanceState:
        """The parsed, checked state at `rev` with the policy in force (shared: callers must
        not mutate it): workbench.toml tightened by the signed floor of the verified
        registry (`policy_floor`), so every verdict is judged by it (docs/obligations.md,
        "The gate").

        Parsing 1,000 contracts costs about a second, so states are cached by content: the
        working tree is re-read on every call (cheap) and re-parsed only if a byte changed.
        `files` are the working tree's, when the caller has just read them.
        """
        self._note_base(again=not self.hold_worktree)
        # A one-shot command holds what it reads as "the working tree" for its whole run;
        # for a committed view (the gate) that is HEAD's files (read once: every signed
        # record asks for the state, 3,000 look-ups at 1,000 contracts).
        held = rev == WORKTREE and self.hold_worktree
        if rev == WORKTREE and self.committed:
            rev = "HEAD"
        if held and self._held is not None:
            return self._held
        once: tuple[dict[str, bytes], GovernanceState | None] | None = (
            getattr(self._local, "worktree_once", None) if rev == WORKTREE else None
        )
        if once is not None and once[1] is not None and files is None:
            return once[1]
        declared = self._declared(rev, files)
        state = self._apply_floor(declared, self.policy_floor(rev))
        if held:
            with self._lock:
                self._held = state
        if once is not None and files is None:
            self._local.worktree_once = (once[0], state)
        return state

    @contextlib.contextmanager
    def worktree_read_once(self) -> Iterator[None]:
        """Within (in this thread), the working tree is read once and its state checked
        once, as a one-shot command does for its whole run. For a read-only computation of
        the long-lived app: the seams' marks asked for the working tree 31 times and for its
        state 23 times at 1,000 contracts, each time reading and hashing every state file
        (5.7 s of their 8 s). A commit inside ends it."""
        if self.hold_worktree or getattr(self._local, "worktree_once", None) is not None:
            yield
            return
        self._local.worktree_once = (read_worktree(self.root, layout.is_state_path), None)
        try:
            yield
        finally:
            self._local.worktree_once = None

    def declared_state(
        self, rev: str = WORKTREE, *, files: dict[str, bytes] | None = None
    ) -> GovernanceState:
        """The state as the files declare it, before the signed floor: for the registry
        itself (which the floor is read from) and for nothing that judges."""
        self._note_base(again=not self.hold_worktree)
        if rev == WORKTREE and self.committed:
            rev = "HEAD"
        return self._declared(rev, files)

    def _apply_floor(self, declared: GovernanceState, floor: SignedFloor) -> GovernanceState:
        from workbench.model.state import apply_floor

        key = (id(declared), floor.digest)
        with self._lock:
            hit = self._floored.get(key)
        if hit is not None and hit[0] is declared:
            return hit[1]
        state = apply_floor(declared, floor)
        with self._lock:
            self._floored[key] = (declared, state)
            while len(self._floored) > 16:
                self._floored.pop(next(iter(self._floored)))
        return state

    def policy_floor(self, rev: str = WORKTREE) -> SignedFloor:
        """The signed floor in force for `rev`: keys/policy.toml [gate] and [limits] of the
        verified registry at `rev` (HEAD for the working tree), never the live file; the
        built-in floor without a verified registry. Kept per commit and out-of-band pins
        (trust root, registry seen) for the session, and in the clone's cache for every view
        but the gate's."""
        from workbench.model.policy_floor import DEFAULT_FLOOR
        from workbench.signing.trust import TrustRootError

        commit = self._floor_commit(rev)
        if commit is None:
            return DEFAULT_FLOOR
        try:
            anchors = self.signing.anchors()
        except TrustRootError:
            return DEFAULT_FLOOR  # nothing can be verified; the verifying rooms say why
        key = (_FLOOR_STORE, commit, *anchors)
        return self.keep(key, lambda: self._signed_floor(commit, key))

    def _floor_commit(self, rev: str) -> str | None:
        if rev in (WORKTREE, "HEAD"):
            from workbench.repo.head import read_head_id

            commit = read_head_id(self.root)
            if commit is not None:
                return commit
            if self.git.is_empty:
                return None
            rev = "HEAD"
        return str(self.git.resolve(rev).id)

    def _signed_floor(self, commit: str, key: tuple[object, ...]) -> SignedFloor:
        from workbench.model.policy_floor import SignedFloor
        from workbench.repo import cache_store

        # The gate (a committed view) always verifies: a file planted in .git/ must not
        # loosen what it judges. Everything else reads the floor back like the checked state.
        stored = None if self.committed else cache_store.read(self.root, _FLOOR_STORE, key)
        if isinstance(stored, SignedFloor):
            return stored
        floor = self._floor_of_parent(commit, key)
        if floor is None:
            from workbench.service.signing import signed_floor

            floor = signed_floor(self, commit)
        if not self.readonly:
            self._write(lambda: cache_store.write(self.root, _FLOOR_STORE, floor, key))
        return floor

    def _floor_of_parent(self, commit: str, key: tuple[object, ...]) -> SignedFloor | None:
        """A commit that changed neither keys/ nor workbench.toml on top of its only parent
        has its parent's floor: the same registry files, the same registry history behind
        it, the same committed pin. Reused when this session (or, outside the gate, the
        clone's cache) has the parent's; a merge or a change to either is verified anew."""
        from workbench.model.policy_floor import SignedFloor
        from workbench.repo import cache_store

        repo = self.git.repo
        import pygit2

        child = repo.revparse_single(commit).peel(pygit2.Commit)
        if len(child.parent_ids) != 1:
            return None
        parent = repo[child.parent_ids[0]]
        for name in ("keys", layout.SETTINGS):
            mine = child.tree[name].id if name in child.tree else None
            theirs = parent.tree[name].id if name in parent.tree else None
            if mine != theirs:
                return None
        parent_key = (_FLOOR_STORE, str(parent.id), *key[2:])
        with self._lock:
            found = self._kept.get(parent_key)
        if found is None and not self.committed:
            found = cache_store.read(self.root, _FLOOR_STORE, parent_key)
        return found if isinstance(found, SignedFloor) else None

    def _declared(self, rev: str, files: dict[str, bytes] | None) -> GovernanceState:
        today = self.now.date().isoformat()
        commit = None
        if rev == WORKTREE and self.hold_worktree and self._held_declared is not None:
            return self._held_declared
        if rev != WORKTREE:
            commit = str(self.git.resolve(rev).id)
            with self._lock:
                hit = self._cache.get(("commit", commit, today))
            if hit is not None:
                return hit
        if files is None or commit is not None:
            files = self.files(commit or WORKTREE)
        key = self.state_key(files)
        with self._lock:
            state = self._cache.get(key)
        # The working tree and a commit get a slot each: while a lead edits, both are asked for.
        slot = f"{_STATE_STORE}-{'worktree' if commit is None else 'commit'}"
        if state is None:
            state = self._stored_state(slot, key)
        if state is None:
            self._load_parse_store()
            from workbench.model.state import check_declared, load_declared_state

            with self._lock:  # `declared_contracts` did the first step: finish it
                first = self._cache.get(("contracts", commit, today)) if commit else None
            if first is not None:
                state = check_declared(first, files, self.now.date())
            else:
                state = load_declared_state(files, self.now.date(), validated=self.versions.known)
            self.save_parse_store()
            self._store_state(slot, key, state)
        with self._lock:
            self._cache[key] = state
            if commit is not None:
                self._cache[("commit", commit, today)] = state
            while len(self._cache) > 16:
                self._cache.pop(next(iter(self._cache)))
            if rev == WORKTREE and self.hold_worktree:
                self._held_declared = state
        return state

    def declared_contracts(self, rev: str) -> GovernanceState:
        """What the signature verdicts read of the declared state at a commit: [org] and
        the validated contracts. The checked state if this session or the clone's cache
        has it; else only its first step (`load_declared_contracts`: no people, none of the
        rules across files; `checked` False), kept for this session, never stored, and
        finished by a later `declared_state` of the same commit rather than parsed again.
        So `verify` on a fresh clone does not pay for checks no verdict reads."""
        self._note_base(again=not self.hold_worktree)
        if rev == WORKTREE:
            return self.declared_state(rev)
        commit = str(self.git.resolve(rev).id)
        today = self.now.date().isoformat()
        with self._lock:
            hit = self._cache.get(("commit", commit, today))
            hit = hit or self._cache.get(("contracts", commit, today))
        if hit is not None:
            return hit
        files = self.files(commit)
        key = self.state_key(files)
        with self._lock:
            checked = self._cache.get(key)
        if checked is None:
            checked = self._stored_state(f"{_STATE_STORE}-commit", key)
            if checked is not None:
                with self._lock:
                    self._cache[key] = checked
        if checked is not None:
            return self._declared(rev, None)  # from memory or the clone's cache
        self._load_parse_store()
        from workbench.model.state import load_declared_contracts

        state = load_declared_contracts(files, validated=self.versions.known)
        with self._lock:
            self._cache[("contracts", commit, today)] = state
            while len(self._cache) > 16:
                self._cache.pop(next(iter(self._cache)))
        return state

    def _stored_state(self, slot: str, key: tuple[str, str, str]) -> GovernanceState | None:
        """The checked state saved by the last run, if it was made from exactly these bytes
        on the same day (checking 1,000 contracts costs half a second; reading it back a
        tenth of that)."""
        from workbench.model.state import GovernanceState
        from workbench.repo import cache_store

        stored = cache_store.read(self.root, slot, key)
        return stored if isinstance(stored, GovernanceState) else None

    def _store_state(self, slot: str, key: tuple[str, str, str], state: GovernanceState) -> None:
        from workbench.repo import cache_store

        if not self.readonly:
            self._write(lambda: cache_store.write(self.root, slot, state, key))

    def defer_writes(self) -> None:
        """Hold the clone's cache writes (a checked state, parsed TOML) until `flush_writes`.
        The app's first start in a clone spent ~0.25 s pickling them before its first screen."""
        with self._lock:
            if self._deferred_writes is None:
                self._deferred_writes = []

    def flush_writes(self) -> None:
        """Make the held writes, and write at once from now on."""
        with self._lock:
            pending, self._deferred_writes = self._deferred_writes or [], None
        for write in pending:
            write()

    def _write(self, write: Callable[[], None]) -> None:
        with self._lock:
            if self._deferred_writes is not None:
                self._deferred_writes.append(write)
                return
        write()

    @property
    def versions(self):  # type: ignore[no-untyped-def]  # VersionCache, imported when needed
        """Parsed contract versions and their comparisons, kept across runs (see versions.py)."""
        with self._lock:
            if self._versions is None:
                from workbench.service.versions import VersionCache

                self._versions = VersionCache(self.root, writable=not self.readonly)
            return self._versions

    def _load_parse_store(self) -> None:
        if not self._parse_store_loaded:
            from workbench.repo import parse_store

            parse_store.load(self.root)
            self._parse_store_loaded = True

    def save_parse_store(self) -> None:
        """Persist newly parsed TOML so the next command in this clone skips parsing it."""
        from workbench.repo import parse_store

        if not self.readonly:
            self._write(lambda: parse_store.save(self.root))

    def contract(self, contract_id: str, rev: str = WORKTREE) -> ContractDoc:
        state = self.state(rev)
        doc = state.contracts.get(contract_id)
        if doc is None:
            path = layout.contract_path(contract_id)
            if path in state.documents:
                raise WorkbenchError(f"{path} has errors; run `workbench validate` to see them")
            raise UnknownContract(f"no contract {contract_id!r} at {rev.lower()}")
        return doc

    def contract_text(self, contract_id: str, rev: str = WORKTREE) -> str:
        data = self.git.blob_at(rev, layout.contract_path(contract_id))
        if data is None:
            raise UnknownContract(f"no contract {contract_id!r} at {rev.lower()}")
        return data.decode("utf-8", errors="replace")

    def actor(self, state: GovernanceState | None = None) -> Person:
        from workbench.service.identity import resolve_actor

        state = state or self.state()
        try:
            # --as, $WORKBENCH_PERSON and the user config need no git (nor pygit2's load).
            return resolve_actor(state, self.requested_actor, None)
        except WorkbenchError:
            pass
        config = self.git.repo.config
        try:
            email = config["user.email"]
        except KeyError:
            email = None
        return resolve_actor(state, self.requested_actor, email)

    def seam_map(self, rev: str = WORKTREE, state: GovernanceState | None = None) -> list[SeamView]:
        """Seam views at `now`, with each capability's marks (signature, violations, page
        test, reviews, notices, diagnostic)."""
        from workbench.governance.seams import seam_views

        views = seam_views(state or self.state(rev), self.now.date())
        self.mark_seams(views)
        return views

    def mark_seams(self, views: list[SeamView]) -> None:
        """Fill `SeamView.marks` with each capability's short state per seam."""
        with self.action(), self.worktree_read_once():
            self.signing.mark_seams(views)
            self.evidence.mark_seams(views)
            self.obligations.mark_seams(views)
            self.clocks.mark_seams(views)
            self.notify.mark_seams(views)

    # -- history --------------------------------------------------------------------------
    def history(self, contract_id: str):  # type: ignore[no-untyped-def]
        return self.git.history(layout.contract_path(contract_id))

    def diff(
        self, contract_id: str, old_rev: str | None = None, new_rev: str | None = None
    ) -> ContractDiff:
        """Text diff and term-level summary; defaults: HEAD against the working tree."""
        path = layout.contract_path(contract_id)
        old_rev = old_rev or "HEAD"
        new_rev = new_rev or WORKTREE
        old = self.git.blob_at(old_rev, path)
        new = self.git.blob_at(new_rev, path)
        if old is None and new is None:
            raise UnknownContract(f"no contract {contract_id!r} at {old_rev} or {new_rev}")
        text = unified(path, old, new, old_rev, new_rev)
        return ContractDiff(
            contract_id, old_rev, new_rev, text, self.versions.compare(path, old, new)
        )

    def diff_text(self, contract_id: str, text: str, old_rev: str = "HEAD") -> ContractDiff:
        """The diff an edit would make: `old_rev` against unsaved `text` (the editor's preview)."""
        path = layout.contract_path(contract_id)
        old = self.git.blob_at(old_rev, path)
        new = normalise(text).encode("utf-8")
        diff = unified(path, old, new, old_rev, "edited")
        return ContractDiff(
            contract_id, old_rev, "edited", diff, self.versions.compare(path, old, new)
        )

    # -- people ---------------------------------------------------------------------------
    def people_usage(
        self, rev: str = WORKTREE, *, state: GovernanceState | None = None
    ) -> list[PersonUsage]:
        """Every person with what they own, lead and are paged for (registry order by name);
        of `state` when the caller has it on screen."""
        return people_usage(state or self.state(rev), self.now.date())

    # -- validation of an edit ------------------------------------------------------------
    def check_contract_text(self, contract_id: str, text: str) -> list[Problem]:
        """Validate an edited contract against the current registry (for the editor)."""
        files = self.files(WORKTREE)
        files = {
            p: b
            for p, b in files.items()
            if not p.startswith(layout.CONTRACTS) or p == layout.contract_path(contract_id)
        }
        files[layout.contract_path(contract_id)] = text.encode("utf-8")
        from workbench.model.state import load_state

        state = load_state(files, self.now.date(), floor=self.policy_floor())
        return state.problems_for(layout.contract_path(contract_id))

    # -- writes ---------------------------------------------------------------------------
    def commit(
        self,
        changes: Mapping[str, bytes | None],
        message: str,
        *,
        base: str | None = None,
        signer: Signer | None = None,
    ) -> str:
        """The one door for writes: read-only check, acting person, branch state, atomic
        write, one commit moved onto the checked-out branch by compare-and-swap.

        Refused (WriteRefused, nothing written) on a detached HEAD, mid merge, rebase,
        cherry-pick, revert or bisect, with unmerged files or conflict markers; a file
        someone else changed since this session read the repository is never overwritten
        (WriteConflict). `base`: the commit the change was decided from, when the caller
        knows better than this session's reads (the editor: when its text was opened).
        `signer`: the acting person's key to SSH-sign the commit with (the app, after it
        asked for the passphrase; a signed record's signer); without one, their key file
        when it opens without asking, else the commit is unsigned (see `Keys.commit_signer`).
        See docs/architecture.md, "Writes".
        """
        self.require_writable("commit changes")
        # Before this method's own reads (the actor, the conflict check) move it.
        base = base or self.base_head
        actor = self.actor()
        from workbench.repo.git import Author

        # TOML the workbench writes is in the byte normal form (LF, final newline); other
        # files (statements, signatures, snapshots) are exact bytes and left alone.
        changes = {
            path: normalise(data.decode("utf-8")).encode("utf-8")
            if data is not None and path.endswith(".toml")
            else data
            for path, data in changes.items()
        }
        self._refuse_unresolved(changes)
        sign_commit = self.signing.keys.commit_signer(actor, signer)
        self._held = None
        self._held_declared = None
        self._held_files = None
        self._local.worktree_once = None
        commit = self.git.commit_files(
            changes,
            message,
            Author(actor.name, actor.email),
            when=self.record_time(),
            signer=sign_commit,
            base=base,
            allow_unborn=False,
        )
        # This session's next write builds on what it just wrote; what its capabilities
        # verified before it is read again.
        self._local.base_head = commit
        with self._lock:
            self._capabilities.clear()
        action = getattr(self._local, "action", None)
        if action is not None:
            action.clear()
        return commit

    @property
    def base_head(self) -> str | None:
        """The branch head this session's reads (in this thread) were based on: what a
        write it makes next was decided from. A write refuses to overwrite a file someone
        else changed after it (see `GitRepo.commit_files`). None: nothing read yet, or no
        commit yet.

        A one-shot command (`hold_worktree`) notes it at its first read and moves it only
        with its own commits: all its reads are one decision. A long-lived session (the
        app, whose worker threads are pooled) notes it at every read of the files, so it
        is the head its latest read saw.
        """
        return getattr(self._local, "base_head", None)

    def _note_base(self, *, again: bool = False) -> None:
        if again or not hasattr(self._local, "base_head"):
            from workbench.repo.head import read_head_id

            self._local.base_head = read_head_id(self.root)

    def _refuse_unresolved(self, changes: dict[str, bytes | None]) -> None:
        """Branch state first (its advice is the useful one mid-merge), then no conflict
        marker in what is written nor left unresolved in the governance files."""
        from workbench.repo.branch import refuse_conflict_markers, writable_branch

        git = self.git
        writable_branch(git.repo)
        # A one-shot command has just read them; HEAD's bytes only where a marker is.
        worktree = (
            self.files() if self.hold_worktree else read_worktree(self.root, layout.is_state_path)
        )
        for path in changes:
            if path not in worktree:
                data = git.blob_at(WORKTREE, path)
                if data is not None:
                    worktree[path] = data
        refuse_conflict_markers(changes, worktree, lambda path: git.blob_at("HEAD", path))

    def save_contract(
        self,
        contract_id: str,
        text: str,
        message: str,
        *,
        base: str | None = None,
        signer: Signer | None = None,
    ) -> str:
        self.require_writable("save contracts")
        text = normalise(text)
        problems = [p for p in self.check_contract_text(contract_id, text) if p.severity == "error"]
        if problems:
            raise InvalidEdit(
                f"{layout.contract_path(contract_id)} has {len(problems)} error(s); not saved",
                problems,
            )
        path = layout.contract_path(contract_id)
        if self.git.blob_at("HEAD", path) == text.encode("utf-8"):
            raise WorkbenchError(f"{path}: no changes to save")
        commit = self.commit({path: text.encode("utf-8")}, message, base=base, signer=signer)
        self.drafts.discard(contract_id)
        return commit

    def set_contract_value(
        self,
        contract_id: str,
        path: tuple[str | int, ...],
        value: object,
        message: str,
        *,
        signer: Signer | None = None,
    ) -> str:
        """A structured edit (e.g. change owner); the rest of the file stays byte-identical."""
        text = self.edited_contract_text(contract_id, path, value)
        return self.save_contract(contract_id, text, message, signer=signer)

    def edited_contract_text(
        self, contract_id: str, path: tuple[str | int, ...], value: object
    ) -> str:
        """The working tree's contract text with one value set (comments, order and every
        other byte kept): what a structured edit would save."""
        from workbench.repo.edit import set_value

        return set_value(self.contract_text(contract_id), path, value)
