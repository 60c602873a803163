"""Git access through pygit2: read any revision without checking it out, and commit.

A `pygit2.Repository` is not shared across threads (libgit2 keeps per-repository caches),
so each `GitRepo` opens its own handle; the TUI creates one per worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pygit2

from workbench.model.safe_text import line
from workbench.repo.atomic import atomic_write, sweep_temp
from workbench.repo.branch import changed_paths, writable_branch
from workbench.repo.errors import GitWriteFailed, WriteConflict, WriteRefused
from workbench.repo.errors import RevisionError as RevisionError
from workbench.repo.guard import refuse_private_keys
from workbench.repo.index_stage import stage_files
from workbench.repo.objects import (
    CommitSigner,
    blob_bytes,
    branch_tip,
    entry_name,
    tree_of,
    write_commit,
)
from workbench.repo.worktree import read_worktree, read_worktree_file
from workbench.repo.write_failure import WriteProgress, git_write_errors, reason
from workbench.repo.write_lock import write_lock

WORKTREE = "WORKTREE"


# For each file: (commit, id of the file's blob in that commit or None if deleted), newest first.
HistoryIndex = dict[str, list[tuple["CommitInfo", str | None]]]
_HISTORY_STORE = "history"


@dataclass(frozen=True)
class CommitInfo:
    id: str
    author_name: str
    author_email: str
    time: datetime  # see `_commit_info`: a future `--date` would delay an ack window
    message: str
    signed: bool = False

    @property
    def short(self) -> str:
        return self.id[:8]

    @property
    def summary(self) -> str:
        return self.message.splitlines()[0] if self.message else ""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "author": self.author_name,
            "email": self.author_email,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "message": self.message,
            "signed": self.signed,
        }


@dataclass(frozen=True)
class Author:
    name: str
    email: str


def _commit_info(commit: pygit2.Commit) -> CommitInfo:
    """``time``: the author date, never after the committer date (docs/obligations.md)."""
    tz = timezone(timedelta(minutes=commit.author.offset))
    authored = datetime.fromtimestamp(commit.author.time, tz).astimezone(UTC)
    when = min(authored, _committer_time(commit))
    return CommitInfo(
        id=str(commit.id),
        author_name=commit.author.name,
        author_email=commit.author.email,
        time=when,
        message=commit.message,
        signed=commit.gpg_signature[0] is not None,
    )


class GitRepo:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        try:
            self.repo = pygit2.Repository(str(self.root))
        except pygit2.GitError as exc:
            raise RevisionError(f"{self.root} is not a git repository: {exc}") from exc
        self._histories: dict[tuple[str, str], dict[str, list[CommitInfo]]] = {}
        # The history index is kept in the clone's cache (see `cache_store`); a read-only
        # session reads it but leaves it as it is.
        self.cache_reads = True
        self.cache_writes = True
        self._blob_ids: dict[tuple[str, str], pygit2.Oid | None] = {}
        # Set (to "HEAD") for a committed view: reads of the working tree read it instead.
        self.worktree_rev: str | None = None
        self._trees: dict[tuple[str, Callable[[str], bool]], dict[str, bytes]] = {}
        self._placements: dict[
            tuple[str, tuple[str, ...]], dict[str, tuple[datetime, datetime | None]]
        ] = {}

    @classmethod
    def init(cls, root: Path, branch: str = "main") -> GitRepo:
        pygit2.init_repository(str(root), initial_head=branch)
        return cls(root)

    # -- reading ------------------------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        return self.repo.head_is_unborn

    def resolve(self, rev: str) -> pygit2.Commit:
        if len(rev) == 40 and all(c in "0123456789abcdef" for c in rev):
            # A full commit id needs no rev-parse (history walks ask for thousands).
            try:
                obj = self.repo[rev]
            except (KeyError, ValueError):
                obj = None
            if isinstance(obj, pygit2.Commit):
                return obj
        try:
            obj = self.repo.revparse_single(rev)
        except (KeyError, ValueError, pygit2.GitError) as exc:
            raise RevisionError(f"unknown revision {rev!r}") from exc
        commit = obj.peel(pygit2.Commit)
        return commit

    def read_files(
        self, rev: str | None = WORKTREE, include: Callable[[str], bool] = lambda _p: True
    ) -> dict[str, bytes]:
        """Files at a revision ({path: bytes}); `WORKTREE` (or None) reads the working tree."""
        if rev in (None, WORKTREE) and self.worktree_rev is not None:
            rev = self.worktree_rev
        if rev in (None, WORKTREE):
            return self._read_worktree(include)
        if rev == "HEAD" and self.is_empty:
            return {}
        tree = self.resolve(rev).tree
        # A commit's files never change, and several rooms read HEAD's in one command; the
        # most recently used go last, so the filter most rooms share is kept.
        key = (str(tree.id), include)
        if (out := self._trees.pop(key, None)) is None:
            out = {}
            self._walk_tree(tree, "", include, out)
            if len(self._trees) >= 4:
                self._trees.pop(next(iter(self._trees)))
        self._trees[key] = out
        return dict(out)

    def _walk_tree(
        self, tree: pygit2.Tree, prefix: str, include: Callable[[str], bool], out: dict[str, bytes]
    ) -> None:
        for entry in tree:
            path = prefix + entry_name(entry)
            if entry.type_str == "tree":
                if include(path + "/"):
                    self._walk_tree(tree_of(self.repo, entry.id), path + "/", include, out)
            elif (
                entry.type_str == "blob"
                and entry.filemode != pygit2.enums.FileMode.LINK
                and include(path)
            ):
                out[path] = blob_bytes(self.repo, entry.id)

    def _read_worktree(self, include: Callable[[str], bool]) -> dict[str, bytes]:
        return read_worktree(self.root, include)

    def blob_at(self, rev: str, path: str) -> bytes | None:
        if rev in (None, WORKTREE) and self.worktree_rev is not None:
            rev = self.worktree_rev
        if rev in (None, WORKTREE):
            return read_worktree_file(self.root, path)
        if rev == "HEAD" and self.is_empty:
            return None
        if (rev, path) in self._blob_ids:
            known = self._blob_ids[(rev, path)]
            return None if known is None else blob_bytes(self.repo, known)
        try:
            entry = self.resolve(rev).tree[path]
        except KeyError:
            return None
        obj = self.repo[entry.id]
        return obj.data if isinstance(obj, pygit2.Blob) else None

    def blob_id(self, rev: str, path: str) -> str | None:
        """The id of `path`'s blob at commit `rev` (None: no such file), without reading it."""
        if (rev, path) in self._blob_ids:
            known = self._blob_ids[(rev, path)]
            return None if known is None else str(known)
        try:
            entry = self.resolve(rev).tree[path]
        except KeyError:
            return None
        return str(entry.id) if entry.type_str == "blob" else None

    def head_id(self) -> str | None:
        return None if self.is_empty else str(self.repo.head.target)

    def history(self, path: str, limit: int | None = None) -> list[CommitInfo]:
        """Commits that changed `path`, newest first."""
        folder = path.rpartition("/")[0]
        commits = self.histories(folder + "/" if folder else "").get(path, [])
        return commits[:limit] if limit else list(commits)

    def histories(self, prefix: str) -> dict[str, list[CommitInfo]]:
        """For every file directly under `prefix`: the commits that changed it, newest first.

        One walk of the history serves every file (asking per file costs a walk each, which
        at 1,000 contracts and 2,000 commits took minutes). A merge counts as changing a
        file only if the file differs from every parent. Cached per HEAD, in memory and in
        the clone's cache: a later run walks only the commits added since (see `_extend`).
        """
        if self.is_empty:
            return {}
        head = str(self.repo.head.target)
        cached = self._histories.get((head, prefix))
        if cached is not None:
            return cached
        index = self._extend(prefix, head)
        out: dict[str, list[CommitInfo]] = {}
        for name, entries in index.items():
            out[name] = [info for info, _ in entries]
            for info, blob in entries:
                # Remember the blob so reading this version skips the tree walk.
                self._blob_ids[(info.id, name)] = None if blob is None else pygit2.Oid(hex=blob)
        self._histories[(head, prefix)] = out
        return out

    def _extend(self, prefix: str, head: str) -> HistoryIndex:
        """The history index at `head`, from the stored one plus the commits added since.

        Only a linear run of new commits on top of the stored head is appended: then the
        result is exactly what a full walk gives. A merge, a rewritten history or a missing
        store means one full walk.
        """
        from workbench.repo import cache_store

        stored = cache_store.read(self.root, _HISTORY_STORE) if self.cache_reads else None
        stored = stored if isinstance(stored, dict) else {}
        base_head, base = stored.get(prefix, (None, None))
        if base_head == head and isinstance(base, dict):
            return base
        index: HistoryIndex | None = None
        if base_head and isinstance(base, dict) and self._is_ancestor(base_head, head):
            added, linear = self._walk(prefix, hide=base_head)
            if linear:
                index = {name: list(entries) for name, entries in base.items()}
                for name, entries in added.items():
                    index[name] = entries + index.get(name, [])
        if index is None:
            index, _ = self._walk(prefix)
        if self.cache_writes:
            stored[prefix] = (head, index)
            cache_store.write(self.root, _HISTORY_STORE, stored)
        return index

    def _is_ancestor(self, ancestor: str, head: str) -> bool:
        try:
            return self.repo.descendant_of(head, ancestor)
        except (KeyError, ValueError, pygit2.GitError):
            return False

    def _walk(self, prefix: str, hide: str | None = None) -> tuple[HistoryIndex, bool]:
        """Changed files under `prefix` per commit from HEAD (down to `hide`, excluded).

        Returns the index and whether the walked commits were a merge-free run.
        """
        out: HistoryIndex = {}
        linear = True
        walker = self.repo.walk(
            self.repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME
        )
        if hide is not None:
            walker.hide(pygit2.Oid(hex=hide))
        # Each tree is needed twice (as a commit's own, then as its child's parent), and
        # loading a 1,000-entry tree is the walk's main cost: keep the ones still needed.
        pending: dict[str, pygit2.Tree | None] = {}

        def subtree(c: pygit2.Commit) -> pygit2.Tree | None:
            key = str(c.id)
            if key not in pending:
                pending[key] = _subtree(self.repo, c.tree, prefix)
            return pending[key]

        for commit in walker:
            mine = subtree(commit)
            pending.pop(str(commit.id), None)
            blobs: dict[str, pygit2.Oid | None] = {}
            if len(commit.parents) > 1:
                linear = False
            if not commit.parents:
                blobs = dict(_blob_names(mine, prefix))
                changed = set(blobs)
            else:
                changed = None
                for parent in commit.parents:
                    theirs = subtree(parent)
                    if mine is not None and theirs is not None and mine.id == theirs.id:
                        changed = set()
                        break
                    here = _changed_names(mine, theirs, prefix, blobs)
                    changed = here if changed is None else changed & here
            if changed:
                info = _commit_info(commit)
                for name in sorted(changed):
                    blob = blobs.get(name)
                    out.setdefault(name, []).append((info, None if blob is None else str(blob)))
        return out, linear

    def placements(self, prefixes: tuple[str, ...]) -> dict[str, tuple[datetime, datetime | None]]:
        """For every file under `prefixes` at HEAD: the committer times of the newest commit
        that wrote its current bytes and of that commit's first parent (None for a root).
        A file a merge brought from one of its other parents is placed in that line.

        The bounds a record's stated time must respect (governance.record_time). One walk
        from HEAD; a commit whose folders under `prefixes` equal its parent's is skipped
        without a diff. Kept per HEAD for the session.
        """
        if self.is_empty:
            return {}
        head = str(self.repo.head.target)
        key = (head, prefixes)
        cached = self._placements.get(key)
        if cached is not None:
            return cached
        tip = self.repo.head.peel(pygit2.Commit)
        wanted: dict[str, pygit2.Oid] = {}
        for prefix in prefixes:
            wanted.update(_all_blobs(self.repo, _subtree(self.repo, tip.tree, prefix), prefix))
        out: dict[str, tuple[datetime, datetime | None]] = {}
        walker = self.repo.walk(
            self.repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME
        )
        for commit in walker:
            if len(out) == len(wanted):
                break
            parent = commit.parents[0] if commit.parents else None
            merged = commit.parents[1:]
            for prefix in prefixes:
                mine = _subtree(self.repo, commit.tree, prefix)
                theirs = _subtree(self.repo, parent.tree, prefix) if parent else None
                if mine is None or (theirs is not None and mine.id == theirs.id):
                    continue
                for path, blob in _new_blobs(self.repo, mine, theirs, prefix).items():
                    if path in out or wanted.get(path) != blob:
                        continue
                    if any(path in o.tree and o.tree[path].id == blob for o in merged):
                        continue  # brought by a merge: placed where its own line wrote it
                    out[path] = (
                        _committer_time(commit),
                        _committer_time(parent) if parent else None,
                    )
        self._placements[key] = out
        return out

    def status(self) -> dict[str, int]:
        """git's status of every path that may differ from HEAD (untracked and ignored files
        included): {path: flags}. One call serves `status_paths` and the merge check."""
        return dict(self.repo.status(untracked_files="all", ignored=True))

    def status_paths(
        self, include: Callable[[str], bool], flags: Mapping[str, int] | None = None
    ) -> list[str]:
        """Paths `include` accepts that git's status says may differ from HEAD in the index
        or the working tree (changed, new, deleted, ignored), sorted. Files whose stat data
        matches the index are not read. `flags`: a `status()` already read."""
        if flags is None:
            flags = self.status()
        current = pygit2.enums.FileStatus.CURRENT
        return sorted(p for p, f in flags.items() if f != current and include(p))

    def folder_blobs(self, rev: str, folder: str) -> dict[str, str]:
        """{path: blob id} of the files directly in `folder` at `rev` (names only: nothing
        is read, so a folder of large files costs one tree lookup)."""
        if rev == "HEAD" and self.is_empty:
            return {}
        try:
            tree = self.resolve(rev).tree[folder.rstrip("/")]
        except KeyError:
            return {}
        obj = self.repo[tree.id]
        if not isinstance(obj, pygit2.Tree):
            return {}
        prefix = folder.rstrip("/") + "/"
        return {prefix + entry_name(e): str(e.id) for e in obj if e.type_str == "blob"}

    def blob(self, blob_id: str) -> bytes:
        return blob_bytes(self.repo, blob_id)

    @staticmethod
    def hash_blob(data: bytes) -> str:
        """The git blob id these bytes would have."""
        return str(pygit2.hash(data))

    def placements_of(self, paths: Iterable[str]) -> dict[str, tuple[datetime, datetime | None]]:
        """`placements` for a few files (e.g. the head evaluation runs): the committer
        times of the commit that brought each file's bytes at HEAD and of its parent.

        At a merge, a file that one of the merged parents already had came from that
        parent, so the walk goes on into that line and finds the commit that wrote it there
        (two clones that each recorded a run and were merged place each run in its own
        line, not at the merge). Walks from HEAD until every file is placed.
        """
        if self.is_empty:
            return {}
        tip = self.repo.head.peel(pygit2.Commit)
        wanted: dict[str, pygit2.Oid] = {}
        for path in paths:
            try:
                wanted[path] = tip.tree[path].id
            except KeyError:
                continue
        out: dict[str, tuple[datetime, datetime | None]] = {}
        if not wanted:
            return out
        walker = self.repo.walk(
            self.repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME
        )
        for commit in walker:
            if len(out) == len(wanted):
                break
            for path, blob in wanted.items():
                if path in out:
                    continue
                try:
                    if commit.tree[path].id != blob:
                        continue
                except KeyError:
                    continue
                had = []
                for parent in commit.parents:
                    try:
                        had.append(parent.tree[path].id == blob)
                    except KeyError:
                        had.append(False)
                if any(had):
                    continue
                first = commit.parents[0] if commit.parents else None
                out[path] = (
                    _committer_time(commit),
                    _committer_time(first) if first else None,
                )
        return out

    def log(self, limit: int | None = None) -> list[CommitInfo]:
        if self.is_empty:
            return []
        out = []
        for commit in self.repo.walk(self.repo.head.target, pygit2.enums.SortMode.TIME):
            out.append(_commit_info(commit))
            if limit and len(out) >= limit:
                break
        return out

    def commit_info(self, rev: str) -> CommitInfo:
        return _commit_info(self.resolve(rev))

    # -- writing ------------------------------------------------------------------------
    @property
    def local_dir(self) -> Path:
        """`<git dir>/handshake-workbench`: this clone's own files, never committed."""
        return Path(self.repo.path) / "handshake-workbench"

    def commit_files(
        self,
        changes: Mapping[str, bytes | None],
        message: str,
        author: Author,
        when: datetime | None = None,
        signer: CommitSigner | None = None,
        *,
        base: str | None = None,
        allow_unborn: bool = True,
    ) -> str:
        """Write `changes` (None deletes) to the working tree atomically and commit exactly them.

        The commit is built from the branch head's tree plus these changes, so whatever
        else the user has staged or edited is left alone. It goes to the checked-out
        branch only (see `branch.writable_branch` for what is refused), under the clone's
        write lock, and moves the branch with a compare-and-swap on the head it was built
        on: if someone outside the lock (plain git) moved it meanwhile, the commit is
        rebuilt on top of the new head, unless that head changed a file this write
        changes (then WriteConflict, and nothing is overwritten).

        `base`: the commit the caller's reads were based on. A file this write changes
        that differs between `base` and the branch head was changed by someone else since
        the caller decided what to write: WriteConflict, nothing written.
        """
        for path, data in changes.items():
            _check_path(path)
            if data is not None:
                refuse_private_keys(path, data)
            self._refuse_linked_folders(path)
        summary = message.splitlines()[0] if message else ""
        progress = WriteProgress()
        with git_write_errors(summary, progress):
            return self._write_and_commit(
                changes, message, author, when, signer, base, allow_unborn, progress
            )

    def _write_and_commit(
        self,
        changes: Mapping[str, bytes | None],
        message: str,
        author: Author,
        when: datetime | None,
        signer: CommitSigner | None,
        base: str | None,
        allow_unborn: bool,
        progress: WriteProgress,
    ) -> str:
        """`commit_files` under the clone's write lock (its docstring says what it does);
        `progress` records how far it got, for the message if git fails."""
        repo = self.repo
        local = self.local_dir
        summary = message.splitlines()[0] if message else ""
        with write_lock(local):
            sweep_temp(local / "tmp")
            branch = writable_branch(repo, allow_unborn=allow_unborn)
            ref = repo.references.get(branch)
            tip = branch_tip(ref, branch)
            blobs = {
                path: (repo.create_blob(data) if data is not None else None)
                for path, data in changes.items()
            }
            if base is not None:
                self._refuse_overwrite(self._commit_oid(base), tip, blobs, written=False)
            for path, data in sorted(changes.items()):
                full = self.root / path
                if data is None:
                    if full.exists() or full.is_symlink():
                        full.unlink()
                else:
                    atomic_write(full, data, tmp_dir=local / "tmp")
                progress.files_written = True
            # Staged before the branch moves: a write killed in between leaves its files
            # staged and uncommitted (as after `git add`), never a committed file that
            # `git status` shows as deleted.
            stage_files(repo, blobs, committed=False)
            oid = self._new_commit(tip, blobs, message, author, when, signer)
            busy = 0
            for _attempt in range(_MAX_REBUILDS + _MAX_BUSY):
                try:
                    if ref is None:
                        repo.create_reference_direct(branch, oid, False, f"commit: {summary}")
                    else:
                        # libgit2 moves the ref only if it still points at `tip` (the
                        # target this Reference was read with), under git's own ref lock,
                        # and writes the reflog: a real compare-and-swap.
                        ref.set_target(oid, f"commit: {summary}")
                    break
                except (pygit2.GitError, ValueError) as exc:
                    moved = repo.references.get(branch)
                    new_tip = branch_tip(moved, branch)
                    if new_tip == tip:
                        # Not moved: git holds the ref lock for a moment (`main.lock`).
                        busy += 1
                        if busy > _MAX_BUSY:
                            raise GitWriteFailed(
                                f"could not commit '{line(summary)}': could not move "
                                f"{branch} ({line(reason(exc))}); your files are in the "
                                "working tree, uncommitted"
                            ) from exc
                        time.sleep(0.02)
                        continue
                    self._refuse_overwrite(tip, new_tip, blobs, written=True)
                    ref, tip = moved, new_tip
                    oid = self._new_commit(tip, blobs, message, author, when, signer)
            else:
                raise WriteConflict(
                    f"{branch.removeprefix('refs/heads/')} kept moving while the workbench "
                    f"tried to commit ({_MAX_REBUILDS} times); your files are in the working "
                    "tree, uncommitted. Run the command again when the other writer is done"
                )
            # Again: a plain `git commit` that moved the branch meanwhile rewrote the index.
            stage_files(repo, blobs, committed=True)
        return str(oid)

    def _commit_oid(self, rev: str) -> pygit2.Oid | None:
        try:
            return self.resolve(rev).id
        except RevisionError:
            # The commit the reads were based on is gone (rewritten history): every file
            # this write changes must then match the head as it is.
            return None

    def _new_commit(
        self,
        parent: pygit2.Oid | None,
        blobs: dict[str, pygit2.Oid | None],
        message: str,
        author: Author,
        when: datetime | None,
        signer: CommitSigner | None,
    ) -> pygit2.Oid:
        """The commit object (not yet on any branch): `parent`'s tree plus `blobs`."""
        repo = self.repo
        base_tree = repo[parent].peel(pygit2.Tree) if parent is not None else None
        tree_id = _build_tree(repo, base_tree, blobs)
        parents = [parent] if parent is not None else []
        return write_commit(
            repo, (author.name, author.email), when, message, tree_id, parents, signer
        )

    def _refuse_overwrite(
        self,
        old: pygit2.Oid | None,
        new: pygit2.Oid | None,
        blobs: dict[str, pygit2.Oid | None],
        *,
        written: bool,
    ) -> None:
        """WriteConflict when a file of this write changed between `old` and `new` to
        something other than what this write puts there."""
        if old == new:
            return
        mine = {path: None if blob is None else str(blob) for path, blob in blobs.items()}
        if old is None and new is not None:
            changed = list(blobs)  # nothing to compare with: every file must already match
        else:
            changed = changed_paths(self.repo, old, new, blobs)
        tip_files = {p: self.blob_id(str(new), p) if new is not None else None for p in changed}
        clashes = sorted(p for p in changed if tip_files[p] != mine[p])
        if not clashes:
            return
        info = _commit_info(self.repo[new].peel(pygit2.Commit)) if new is not None else None
        by = f" (commit {info.short} by {line(info.author_name)}: {info.summary!r})" if info else ""
        where = (
            "Your version is in the working tree, staged and uncommitted "
            "(`git diff --cached` shows it)."
            if written
            else "Nothing was written."
        )
        raise WriteConflict(
            f"{', '.join(clashes)} changed since this command read the repository{by}: "
            f"the workbench does not overwrite someone else's change. {where} "
            "Run the command again to work from the new version"
        )

    def _refuse_linked_folders(self, path: str) -> None:
        """A folder on the way to `path` that is a symlink (a hostile commit can make
        `reviews` a link to anywhere) would take the write outside the repository."""
        folder = self.root
        for part in path.split("/")[:-1]:
            folder = folder / part
            if folder.is_symlink():
                raise WriteRefused(
                    f"{path}: {folder.relative_to(self.root)} is a symbolic link; refusing to "
                    "write through it (it could point outside the governance repo)"
                )


_MAX_REBUILDS = 10
_MAX_BUSY = 100  # 2 s of 20 ms waits for git's own ref lock


_ZERO = pygit2.Oid(hex="0" * 40)


def _subtree(repo: pygit2.Repository, tree: pygit2.Tree, prefix: str) -> pygit2.Tree | None:
    node = tree
    for part in filter(None, prefix.split("/")):
        try:
            entry = node[part]
        except KeyError:
            return None
        if entry.type_str != "tree":
            return None
        node = tree_of(repo, entry.id)
    return node


def _committer_time(commit: pygit2.Commit) -> datetime:
    tz = timezone(timedelta(minutes=commit.committer.offset))
    return datetime.fromtimestamp(commit.committer.time, tz).astimezone(UTC)


def _all_blobs(
    repo: pygit2.Repository, tree: pygit2.Tree | None, prefix: str
) -> dict[str, pygit2.Oid]:
    """Every blob below `tree`, at any depth, by its path (`prefix` + relative path)."""
    out: dict[str, pygit2.Oid] = {}
    if tree is None:
        return out
    for entry in tree:
        if entry.type_str == "blob":
            out[prefix + entry_name(entry)] = entry.id
        elif entry.type_str == "tree":
            out.update(_all_blobs(repo, tree_of(repo, entry.id), f"{prefix}{entry_name(entry)}/"))
    return out


def _new_blobs(
    repo: pygit2.Repository, mine: pygit2.Tree, theirs: pygit2.Tree | None, prefix: str
) -> dict[str, pygit2.Oid]:
    """Blobs in `mine` that `theirs` does not have at the same path; equal subtrees are
    skipped by id, so only the folders a commit touched are read."""
    if theirs is None:
        return _all_blobs(repo, mine, prefix)
    out: dict[str, pygit2.Oid] = {}
    for entry in mine:
        name = entry_name(entry)
        try:
            other = theirs[name]
        except KeyError:
            other = None
        if other is not None and other.id == entry.id:
            continue
        if entry.type_str == "blob":
            out[prefix + name] = entry.id
        elif entry.type_str == "tree":
            sub = (
                tree_of(repo, other.id) if other is not None and other.type_str == "tree" else None
            )
            out.update(_new_blobs(repo, tree_of(repo, entry.id), sub, f"{prefix}{name}/"))
    return out


def _blob_names(tree: pygit2.Tree | None, prefix: str) -> dict[str, pygit2.Oid]:
    if tree is None:
        return {}
    return {prefix + entry_name(e): e.id for e in tree if e.type_str == "blob"}


def _changed_names(
    mine: pygit2.Tree | None,
    theirs: pygit2.Tree | None,
    prefix: str,
    blobs: dict[str, pygit2.Oid | None],
) -> set[str]:
    """Names under `prefix` that differ; fills `blobs` with their ids in `mine`."""
    if mine is None or theirs is None:
        a, b = _blob_names(mine, prefix), _blob_names(theirs, prefix)
        changed = {name for name in a.keys() | b.keys() if a.get(name) != b.get(name)}
        blobs.update({name: a.get(name) for name in changed})
        return changed
    # libgit2 compares the two trees entry by entry in C; only direct children matter here.
    changed = set()
    for delta in theirs.diff_to_tree(mine).deltas:
        path = delta.new_file.path or delta.old_file.path
        if path and "/" not in path:
            changed.add(prefix + path)
            new = delta.new_file
            blobs[prefix + path] = None if new.id == _ZERO or not new.mode else new.id
    return changed


def _check_path(path: str) -> None:
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts):
        raise ValueError(f"refusing to write outside the governance repo: {path!r}")


def _build_tree(
    repo: pygit2.Repository, base: pygit2.Tree | None, changes: dict[str, pygit2.Oid | None]
) -> pygit2.Oid:
    """A new tree: `base` with blobs inserted or removed at nested paths."""
    direct: dict[str, pygit2.Oid | None] = {}
    nested: dict[str, dict[str, pygit2.Oid | None]] = {}
    for path, oid in changes.items():
        head, _, rest = path.partition("/")
        if rest:
            nested.setdefault(head, {})[rest] = oid
        else:
            direct[head] = oid
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    for name, oid in direct.items():
        if oid is None:
            if base is not None and name in base:
                builder.remove(name)
        else:
            builder.insert(name, oid, pygit2.enums.FileMode.BLOB)
    for name, sub in nested.items():
        sub_base = None
        if base is not None and name in base:
            entry = base[name]
            if entry.type_str == "tree":
                sub_base = tree_of(repo, entry.id)
        sub_id = _build_tree(repo, sub_base, sub)
        if len(tree_of(repo, sub_id)) == 0:
            if base is not None and name in base:
                builder.remove(name)
        else:
            builder.insert(name, sub_id, pygit2.enums.FileMode.TREE)
    return builder.write()


def iter_paths(files: Iterable[str], prefix: str) -> list[str]:
    return sorted(p for p in files if p.startswith(prefix))
