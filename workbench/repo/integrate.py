"""Bringing fetched commits into the checked-out branch: in memory first, then for real.

`plan` merges in memory (pygit2's `merge_commits`; nothing on disk changes) and says what
integrating would be: nothing, a fast-forward, a merge commit (whose tree it has built),
or a merge with conflicts. Conflicts in a file with a resolver of its own (the evidence
manifest, merged by snapshot id) are resolved there. Only after the caller has verified the
result does it `advance` the branch (a fast-forward or a prepared merge commit: the working
tree is updated without touching anything the person changed, then the branch moves by
compare-and-swap) or `start_merge` (conflicts: the clone is left mid-merge for the person,
as `git merge` would leave it). `finish_merge` commits a resolution as the merge commit.

Why merge and never rebase: every record's time is bounded by the parent commit of the
commit that wrote it (governance/record_time.py). Rebasing a record's commit onto newer
commits gives it a later parent, and the record would then be "dated before its parent
commit". A merge keeps every commit where it was made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import pygit2

from workbench.repo.atomic import atomic_write, sweep_temp
from workbench.repo.branch import writable_branch
from workbench.repo.errors import WriteConflict, WriteRefused
from workbench.repo.objects import CommitSigner, blob_bytes, checkout_tree, write_commit
from workbench.repo.write_lock import write_lock

# (path, base bytes or None, ours, theirs) -> merged bytes, or None when it cannot.
Resolver = Callable[[str, bytes | None, bytes, bytes], bytes | None]

PlanKind = Literal["up-to-date", "ahead", "fast-forward", "merge", "conflicts", "unrelated"]


@dataclass
class MergePlan:
    kind: PlanKind
    ours: str
    theirs: str
    incoming: list[str] = field(default_factory=list)  # commits theirs has, ours has not
    outgoing: list[str] = field(default_factory=list)  # commits ours has, theirs has not
    tree: str | None = None  # the merged tree ("merge")
    conflicts: list[str] = field(default_factory=list)  # paths left conflicted
    resolved: list[str] = field(default_factory=list)  # paths a resolver merged

    @property
    def target(self) -> str | None:
        """The commit the branch would point at without a merge commit."""
        return {"up-to-date": self.ours, "ahead": self.ours, "fast-forward": self.theirs}.get(
            self.kind
        )


def _range(repo: pygit2.Repository, tip: str, hide: str) -> list[str]:
    walker = repo.walk(pygit2.Oid(hex=tip), pygit2.enums.SortMode.TOPOLOGICAL)
    walker.hide(pygit2.Oid(hex=hide))
    return [str(c.id) for c in walker]


def plan(
    repo: pygit2.Repository, ours: str, theirs: str, resolvers: Mapping[str, Resolver]
) -> MergePlan:
    """What integrating `theirs` into `ours` would be; nothing on disk changes."""
    if ours == theirs:
        return MergePlan("up-to-date", ours, theirs)
    base = repo.merge_base(pygit2.Oid(hex=ours), pygit2.Oid(hex=theirs))
    if base is None:
        return MergePlan("unrelated", ours, theirs)
    incoming = _range(repo, theirs, ours)
    outgoing = _range(repo, ours, theirs)
    if str(base) == theirs:
        return MergePlan("ahead", ours, theirs, incoming, outgoing)
    if str(base) == ours:
        return MergePlan("fast-forward", ours, theirs, incoming, outgoing)
    index = repo.merge_commits(pygit2.Oid(hex=ours), pygit2.Oid(hex=theirs))
    resolved = _resolve(repo, index, resolvers)
    conflicts = _conflicted(index)
    if conflicts:
        return MergePlan("conflicts", ours, theirs, incoming, outgoing, None, conflicts, resolved)
    tree = index.write_tree(repo)
    return MergePlan("merge", ours, theirs, incoming, outgoing, str(tree), [], resolved)


def _conflicted(index: pygit2.Index) -> list[str]:
    if index.conflicts is None:
        return []
    return sorted({next(str(e.path) for e in c if e is not None) for c in index.conflicts})


def _resolve(
    repo: pygit2.Repository, index: pygit2.Index, resolvers: Mapping[str, Resolver]
) -> list[str]:
    """Resolve, in `index`, the conflicted files that have a resolver; their paths."""
    if index.conflicts is None:
        return []
    done = []
    for path in _conflicted(index):
        resolver = resolvers.get(path)
        if resolver is None:
            continue
        base, ours, theirs = index.conflicts[path]
        if ours is None or theirs is None:
            continue  # deleted on one side: the person decides
        merged = resolver(
            path,
            blob_bytes(repo, base.id) if base is not None else None,
            blob_bytes(repo, ours.id),
            blob_bytes(repo, theirs.id),
        )
        if merged is None:
            continue
        del index.conflicts[path]
        index.add(pygit2.IndexEntry(path, repo.create_blob(merged), ours.mode))
        done.append(path)
    return done


def merge_commit(
    repo: pygit2.Repository,
    merge: MergePlan,
    message: str,
    author: tuple[str, str],
    when: datetime | None,
    signer: CommitSigner | None,
) -> str:
    """The merge commit object for a clean plan (on no branch yet)."""
    assert merge.kind == "merge" and merge.tree is not None
    parents = [pygit2.Oid(hex=merge.ours), pygit2.Oid(hex=merge.theirs)]
    tree = pygit2.Oid(hex=merge.tree)
    return str(write_commit(repo, author, when, message, tree, parents, signer))


def _checkout_refused(exc: Exception) -> WriteRefused:
    return WriteRefused(
        f"your uncommitted changes would be overwritten ({exc}): commit them (or "
        "`git stash` them), then sync again; nothing was changed"
    )


def advance(repo: pygit2.Repository, local_dir: Path, old: str, new: str, reason: str) -> None:
    """Move the checked-out branch from `old` to `new` (a descendant: the fetched head or a
    prepared merge commit), updating the working tree first.

    Under the clone's write lock. Files the person changed and did not commit are never
    overwritten: if `new` changes one of them, nothing happens (WriteRefused). The branch
    moves by compare-and-swap: if it is no longer at `old`, nothing is overwritten.
    """
    with write_lock(local_dir):
        sweep_temp(local_dir / "tmp")
        branch = writable_branch(repo)
        ref = repo.references[branch]
        if str(ref.target) != old:
            raise WriteConflict(
                f"{branch.removeprefix('refs/heads/')} moved while syncing (now "
                f"{str(ref.target)[:8]}): nothing was changed; sync again"
            )
        target = repo[pygit2.Oid(hex=new)].peel(pygit2.Commit)
        try:
            checkout_tree(repo, target.tree)
        except pygit2.GitError as exc:
            raise _checkout_refused(exc) from exc
        try:
            ref.set_target(target.id, reason)
        except (pygit2.GitError, ValueError) as exc:
            raise WriteConflict(
                f"{branch.removeprefix('refs/heads/')} moved while syncing ({exc}): the "
                "working tree has the synced files but the branch did not move; run "
                "`git status`, then sync again"
            ) from exc


def start_merge(
    repo: pygit2.Repository,
    local_dir: Path,
    ours: str,
    theirs_ref: str,
    resolvers: Mapping[str, Resolver],
    message: str,
) -> list[str]:
    """Leave the clone mid-merge, as `git merge` does on conflicts: MERGE_HEAD, the
    conflicted files with markers (labelled HEAD and the remote branch), the rest staged.
    Files with a resolver are resolved. Returns the paths still conflicted."""
    with write_lock(local_dir):
        branch = writable_branch(repo)
        if str(repo.references[branch].target) != ours:
            raise WriteConflict("the branch moved while syncing: nothing was changed; sync again")
        try:
            repo.merge(repo.references[theirs_ref])
        except pygit2.GitError as exc:
            repo.state_cleanup()
            raise _checkout_refused(exc) from exc
        (Path(repo.path) / "MERGE_MSG").write_text(message, encoding="utf-8")
        index = repo.index
        index.read(False)
        root = Path(repo.workdir)
        for path in _resolve(repo, index, resolvers):
            entry = index[path]
            atomic_write(root / path, blob_bytes(repo, entry.id), tmp_dir=local_dir / "tmp")
        index.write()
        left = _conflicted(index)
        label = theirs_ref.removeprefix("refs/remotes/").removeprefix("refs/heads/")
        for path in left:
            _relabel(root / path, label, local_dir)
        return left


def _relabel(path: Path, label: str, local_dir: Path) -> None:
    """Name their side as the remote branch (`>>>>>>> origin/main`), as `git pull` does;
    libgit2 writes the branch's last component only."""
    import re

    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return
    short = label.rsplit("/", 1)[-1].encode()
    fixed = re.sub(
        rb"(?m)^>{7} " + re.escape(short) + rb"(\r?)$", b">>>>>>> " + label.encode() + rb"\1", data
    )
    if fixed != data:
        atomic_write(path, fixed, tmp_dir=local_dir / "tmp")


def merge_heads(repo: pygit2.Repository) -> list[str]:
    """The commits being merged in (MERGE_HEAD), or [] when no merge is in progress."""
    path = Path(repo.path) / "MERGE_HEAD"
    if not path.is_file():
        return []
    return [ln.strip() for ln in path.read_text(encoding="ascii").splitlines() if ln.strip()]


def finish_merge(
    repo: pygit2.Repository,
    local_dir: Path,
    resolutions: Mapping[str, bytes],
    author: tuple[str, str],
    when: datetime | None,
    signer: CommitSigner | None,
) -> tuple[str | None, list[str]]:
    """Write and stage each resolved file; when no conflict is left, commit the index as the
    merge commit (parents: HEAD and MERGE_HEAD) and end the merge.

    Returns (the merge commit or None, the paths still conflicted). Refused when no merge
    is in progress (WriteRefused), when a resolution still holds a conflict marker, or when
    the branch moved meanwhile.
    """
    from workbench.model.conflict import conflict_marker_line

    for path, data in resolutions.items():
        line = conflict_marker_line(data)
        if line is not None:
            raise WriteRefused(f"{path}:{line} still has a conflict marker: resolve it first")
    with write_lock(local_dir):
        heads = merge_heads(repo)
        if not heads:
            raise WriteRefused("no merge is in progress in this clone: nothing to finish")
        head_ref = repo.references.get("HEAD")
        branch = head_ref.target if head_ref is not None else None
        if not isinstance(branch, str) or not branch.startswith("refs/heads/"):
            raise WriteRefused("HEAD is not on a branch: finish the merge with git")
        ref = repo.references[branch]
        tip = ref.target
        root = Path(repo.workdir)
        index = repo.index
        index.read(False)
        for path, data in sorted(resolutions.items()):
            atomic_write(root / path, data, tmp_dir=local_dir / "tmp")
            blob = repo.create_blob(data)
            if index.conflicts is not None and path in index.conflicts:
                del index.conflicts[path]
            index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
        index.write()
        left = _conflicted(index)
        if left:
            return None, left
        message = (Path(repo.path) / "MERGE_MSG").read_text(encoding="utf-8", errors="replace")
        message = "\n".join(ln for ln in message.splitlines() if not ln.startswith("#")).strip()
        tree = index.write_tree(repo)
        parents = [pygit2.Oid(hex=str(tip)), *(pygit2.Oid(hex=h) for h in heads)]
        text = (message or "Merge") + "\n"
        oid = write_commit(repo, author, when, text, tree, parents, signer)
        for _attempt in range(100):
            try:
                ref.set_target(oid, f"commit (merge): {text.splitlines()[0]}")
                break
            except (pygit2.GitError, ValueError) as exc:
                moved = repo.references[branch].target
                if moved != tip:
                    raise WriteConflict(
                        f"{branch.removeprefix('refs/heads/')} moved while the merge was being "
                        "finished: your resolution is staged; commit it with `git commit`"
                    ) from exc
                time.sleep(0.02)  # git holds the ref lock a moment
        else:
            raise WriteRefused(
                f"could not move {branch}: git holds its lock; your resolution is staged, "
                "commit it with `git commit`"
            )
        repo.state_cleanup()
        return str(oid), []
