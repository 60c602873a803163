"""Where this clone stands with its upstream and with any merge in progress: what `status`,
the app's header and the gate show.

* an unfinished git operation (merge, rebase, cherry-pick, revert, am, bisect) with the
  commands that finish or abort it (the same table the write door uses:
  `branch.operation_in_progress`);
* unresolved conflicts: unmerged index entries, and governance files in the working tree
  that hold conflict markers HEAD does not have;
* how many commits the branch is ahead of and behind its upstream, as of the last fetch
  (`workbench sync` fetches; nothing here touches the network).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pygit2

from workbench.model.conflict import conflict_marker_line
from workbench.repo.branch import operation_in_progress
from workbench.repo.objects import blob_bytes
from workbench.repo.worktree import read_worktree_file


@dataclass(frozen=True)
class Upstream:
    """The branch a clone syncs with: `remote`/`branch`, and the local remote-tracking
    ref that holds its last fetched head (None until fetched)."""

    remote: str
    branch: str
    tracking: str  # refs/remotes/<remote>/<branch>
    configured: bool  # from branch.<name>.remote/merge (else the `origin` default)

    @property
    def name(self) -> str:
        return f"{self.remote}/{self.branch}"


@dataclass(frozen=True)
class MergeState:
    branch: str | None  # the checked-out branch (None: detached or unborn)
    operation: str | None  # "a merge is in progress", ...
    how: str | None  # the commands that finish or abort it
    conflicts: tuple[str, ...] = ()  # unmerged paths (the index)
    markers: tuple[str, ...] = ()  # "path:line" of markers left in governance files
    upstream: Upstream | None = None
    ahead: int | None = None  # commits on the branch the upstream does not have
    behind: int | None = None  # commits of the upstream (as last fetched) not on the branch

    @property
    def bisecting(self) -> bool:
        return bool(self.operation and "bisect" in self.operation)

    @property
    def unfinished(self) -> bool:
        """A merge (or rebase...) is not finished, or a conflict is left unresolved. A
        bisect is not: it checks out old commits on purpose, and the gate may judge them."""
        return bool((self.operation and not self.bisecting) or self.conflicts or self.markers)

    @property
    def conflicted(self) -> tuple[str, ...]:
        """Every path with an unresolved conflict (unmerged, or markers left)."""
        marked = [m.rsplit(":", 1)[0] for m in self.markers]
        return tuple(dict.fromkeys([*self.conflicts, *marked]))

    def headline(self) -> str:
        """One line for a header or `status`: the operation and its conflicts, else ''."""
        parts = []
        if self.operation:
            parts.append(self.operation)
        if self.conflicted:
            n = len(self.conflicted)
            parts.append(
                f"{n} unresolved conflict{'s' if n != 1 else ''}: {_list(self.conflicted)}"
            )
        return "; ".join(parts)

    def advice(self) -> str:
        """How to get out of it: the operation's own commands, or how to resolve."""
        if self.how:
            return self.how
        if self.conflicted:
            return (
                "resolve each file (keep one side or combine them, remove the marker lines), "
                "`git add` it and commit; or drop your side with `git checkout HEAD -- FILE`"
            )
        return ""

    def position(self) -> str:
        """'↑2 ↓3 origin/main', 'up to date with origin/main', or '' without an upstream."""
        if self.upstream is None or self.ahead is None or self.behind is None:
            return ""
        if not self.ahead and not self.behind:
            return f"up to date with {self.upstream.name}"
        return f"↑{self.ahead} ↓{self.behind} {self.upstream.name}"

    def to_json(self) -> dict[str, object]:
        return {
            "branch": self.branch,
            "operation": self.operation,
            "how": self.advice() or None,
            "conflicts": list(self.conflicted),
            "unfinished": self.unfinished,
            "upstream": self.upstream.name if self.upstream else None,
            "ahead": self.ahead,
            "behind": self.behind,
        }


def _list(paths: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def current_branch(repo: pygit2.Repository) -> str | None:
    """The short name of the checked-out branch, or None (detached HEAD)."""
    head = repo.references.get("HEAD")
    target = head.target if head is not None else None
    if isinstance(target, str) and target.startswith("refs/heads/"):
        return target.removeprefix("refs/heads/")
    return None


def upstream_of(repo: pygit2.Repository, branch: str, remote: str | None = None) -> Upstream | None:
    """The branch's upstream: `branch.<name>.remote` and `.merge`; else `remote` (or
    `origin`) and a branch of the same name. None when that remote does not exist."""
    config = repo.config
    configured_remote = _config(config, f"branch.{branch}.remote")
    merge = _config(config, f"branch.{branch}.merge")
    if remote is None and configured_remote and configured_remote != "." and merge:
        name = merge.removeprefix("refs/heads/")
        return Upstream(configured_remote, name, f"refs/remotes/{configured_remote}/{name}", True)
    remote = remote or "origin"
    if remote not in repo.remotes.names():
        return None
    name = branch
    if remote == configured_remote and merge:
        name = merge.removeprefix("refs/heads/")
    return Upstream(remote, name, f"refs/remotes/{remote}/{name}", remote == configured_remote)


def set_upstream(repo: pygit2.Repository, branch: str, up: Upstream) -> bool:
    """Make `up` the branch's upstream when it has none (`branch.<name>.remote`/`.merge`
    unset); True when it was set. An existing upstream is left as it is."""
    config = repo.config
    if _config(config, f"branch.{branch}.remote") or _config(config, f"branch.{branch}.merge"):
        return False
    config[f"branch.{branch}.remote"] = up.remote
    config[f"branch.{branch}.merge"] = f"refs/heads/{up.branch}"
    return True


def _config(config: pygit2.Config, key: str) -> str | None:
    try:
        return str(config[key])
    except (KeyError, ValueError):
        return None


def unmerged_paths(repo: pygit2.Repository) -> tuple[str, ...]:
    index = repo.index
    index.read(False)
    conflicts = index.conflicts
    if conflicts is None:
        return ()
    paths = {next(str(e.path) for e in entry if e is not None) for entry in conflicts}
    return tuple(sorted(paths))


def changed_paths(repo: pygit2.Repository, root: Path) -> set[str]:
    """Every path git's status lists as changed: staged, unstaged or untracked (not
    ignored). From `git status` in a process of its own: libgit2's status holds Python's
    interpreter lock for its whole scan of the working tree (1.6 s at 1,000 contracts on a
    loaded machine), which froze every thread of the app, keys included, while the header's
    clone state was read. libgit2's own status is the fallback where git cannot run."""
    try:
        out = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), "status", "--porcelain=v1", "-z"]
            + ["--untracked-files=all", "--no-renames", "--ignore-submodules=none"],
            capture_output=True,
            check=True,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        current = pygit2.enums.FileStatus.CURRENT
        return {p for p, f in repo.status(untracked_files="all").items() if f != current}
    # Each entry is "XY path" (no renames asked for, so never a second path).
    return {os.fsdecode(entry[3:]) for entry in out.split(b"\0") if len(entry) > 3}


def marker_paths(
    repo: pygit2.Repository,
    root: Path,
    include: Callable[[str], bool],
    status: Mapping[str, int] | None = None,
) -> tuple[str, ...]:
    """'path:line' of every file `include` accepts that git's status lists as changed and
    whose working-tree bytes hold a conflict marker HEAD's do not (a marker committed at
    HEAD is content: `validate` and the gate name it as a conflict there). `status`: git's
    status already read with ignored files (`GitRepo.status`); they are left out here.
    Without it, the changed paths come from `changed_paths`."""
    if status is None:
        changed = changed_paths(repo, root)
    else:
        ignored = pygit2.enums.FileStatus.IGNORED
        current = pygit2.enums.FileStatus.CURRENT
        changed = {p for p, f in status.items() if f != ignored and f != current}
    out = []
    head = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit).tree
    for path in sorted(p for p in changed if include(p)):
        data = read_worktree_file(root, path)
        line = None if data is None else conflict_marker_line(data)
        if line is None:
            continue
        committed = None
        if head is not None:
            try:
                committed = blob_bytes(repo, head[path].id)
            except KeyError:
                committed = None
        if committed != data:
            out.append(f"{path}:{line}")
    return tuple(out)


def merge_state(
    root: Path,
    include: Callable[[str], bool],
    *,
    remote: str | None = None,
    with_upstream: bool = True,
    status: Mapping[str, int] | None = None,
) -> MergeState:
    """The clone at `root` now (no network: ahead/behind are as of the last fetch);
    `status`: git's status already read (`GitRepo.status`), else it is read here."""
    repo = pygit2.Repository(str(root))
    operation = operation_in_progress(repo)
    branch = current_branch(repo)
    upstream = upstream_of(repo, branch, remote) if branch and with_upstream else None
    ahead = behind = None
    if upstream is not None and not repo.head_is_unborn:
        tracking = repo.references.get(upstream.tracking)
        if tracking is not None:
            local = repo.head.target
            ahead, behind = repo.ahead_behind(local, tracking.resolve().target)
    return MergeState(
        branch,
        operation[0] if operation else None,
        operation[1] if operation else None,
        unmerged_paths(repo),
        marker_paths(repo, Path(root), include, status),
        upstream,
        ahead,
        behind,
    )
