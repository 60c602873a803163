"""Where a write may go: the checked-out branch, in a repo that is not half-way through
a git operation, with no unresolved conflict in its files.

A write on a detached HEAD used to move `main` (losing commits); one during a merge made
a commit that silently dropped the merge. Each refusal says how to get back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pygit2

from workbench.model.conflict import conflict_marker_line
from workbench.repo.errors import WriteRefused

# (file or folder in the git dir, what is going on, how to get back). Checked before the
# HEAD itself: during a rebase or bisect HEAD is detached, and "finish the rebase" is the
# useful advice, not "switch to a branch".
_OPERATIONS: tuple[tuple[str, str, str], ...] = (
    (
        "rebase-merge",
        "a rebase is in progress",
        "finish it with `git rebase --continue` or undo it with `git rebase --abort`",
    ),
    (
        "rebase-apply/applying",
        "`git am` is applying patches",
        "finish it with `git am --continue` or undo it with `git am --abort`",
    ),
    (
        "rebase-apply",
        "a rebase is in progress",
        "finish it with `git rebase --continue` or undo it with `git rebase --abort`",
    ),
    (
        "MERGE_HEAD",
        "a merge is in progress",
        "finish it (resolve any conflicts, `git add` them, `git commit`) "
        "or undo it with `git merge --abort`",
    ),
    (
        "CHERRY_PICK_HEAD",
        "a cherry-pick is in progress",
        "finish it with `git cherry-pick --continue` or undo it with `git cherry-pick --abort`",
    ),
    (
        "REVERT_HEAD",
        "a revert is in progress",
        "finish it with `git revert --continue` or undo it with `git revert --abort`",
    ),
    (
        "sequencer",
        "a cherry-pick or revert of several commits is in progress",
        "finish it with `git cherry-pick --continue` (or `git revert --continue`) "
        "or undo it with `--abort`",
    ),
    (
        "BISECT_LOG",
        "a bisect is in progress",
        "end it with `git bisect reset` (it puts you back on your branch)",
    ),
)

_STATE_NAMES = {
    pygit2.enums.RepositoryState.MERGE: "a merge",
    pygit2.enums.RepositoryState.REVERT: "a revert",
    pygit2.enums.RepositoryState.REVERT_SEQUENCE: "a revert",
    pygit2.enums.RepositoryState.CHERRYPICK: "a cherry-pick",
    pygit2.enums.RepositoryState.CHERRYPICK_SEQUENCE: "a cherry-pick",
    pygit2.enums.RepositoryState.BISECT: "a bisect",
    pygit2.enums.RepositoryState.REBASE: "a rebase",
    pygit2.enums.RepositoryState.REBASE_INTERACTIVE: "a rebase",
    pygit2.enums.RepositoryState.REBASE_MERGE: "a rebase",
    pygit2.enums.RepositoryState.APPLY_MAILBOX: "`git am`",
    pygit2.enums.RepositoryState.APPLY_MAILBOX_OR_REBASE: "a rebase or `git am`",
}


def operation_in_progress(repo: pygit2.Repository) -> tuple[str, str] | None:
    """(what is going on, how to finish or abort it) when a git operation is half-way
    through in this clone (merge, rebase, cherry-pick, revert, bisect, am), else None."""
    gitdir = Path(repo.path)
    for name, what, how in _OPERATIONS:
        if (gitdir / name).exists():
            return what, how
    state = repo.state()
    if state != pygit2.enums.RepositoryState.NONE:
        doing = _STATE_NAMES.get(state, "a git operation")
        return f"{doing} is in progress", "finish or abort it first (`git status` says how)"
    return None


def writable_branch(repo: pygit2.Repository, *, allow_unborn: bool = False) -> str:
    """The full name of the checked-out branch (`refs/heads/...`) a write may move.

    Raises WriteRefused, with the way back, when HEAD is detached or not a local branch,
    when a merge/rebase/cherry-pick/revert/bisect/am is under way, when the index has
    unmerged entries, or (unless `allow_unborn`, for `init` and the demo) when the branch
    has no commit yet.
    """
    operation = operation_in_progress(repo)
    if operation is not None:
        what, how = operation
        raise WriteRefused(f"{what} in {_where(repo)}: the workbench does not write now; {how}")
    head = repo.references.get("HEAD")
    target = head.target if head is not None else None
    if not isinstance(target, str):
        at = str(target)[:8] if target is not None else "nothing"
        raise WriteRefused(
            f"HEAD is detached at {at} (not on a branch): the workbench writes only to the "
            f"checked-out branch, so that no branch loses commits. Get back with "
            f"`git switch {_suggested_branch(repo)}`, or keep what you did here on a new "
            "branch with `git switch -c NEW-BRANCH`"
        )
    if not target.startswith("refs/heads/"):
        raise WriteRefused(
            f"HEAD points at {target}, which is not a local branch: the workbench writes "
            f"only to a checked-out branch; `git switch {_suggested_branch(repo)}`"
        )
    ref = repo.references.get(target)
    if ref is not None and not isinstance(ref.target, pygit2.Oid):
        raise WriteRefused(
            f"{target} is a symbolic reference to {ref.target}: the workbench moves only a "
            f"plain branch; `git switch {str(ref.target).removeprefix('refs/heads/')}`"
        )
    if not allow_unborn and ref is None:
        raise WriteRefused(
            f"the branch {target.removeprefix('refs/heads/')} has no commit yet: commit the "
            "governance files first (`git add -A && git commit`), or start with `workbench init`"
        )
    index = repo.index
    index.read(False)  # as it is on disk now (a no-op when unchanged)
    conflicts = index.conflicts
    if conflicts is not None:
        paths = sorted({_conflict_path(entry) for entry in conflicts})
        raise WriteRefused(
            f"unmerged files (a conflict is not resolved): {_list(paths)}. Resolve each "
            "(edit it, then `git add` it) and commit, or drop your side with "
            "`git checkout HEAD -- FILE`"
        )
    return target


def _conflict_path(entry: tuple[pygit2.IndexEntry | None, ...]) -> str:
    return next(str(e.path) for e in entry if e is not None)


def _where(repo: pygit2.Repository) -> str:
    return str(Path(repo.workdir or repo.path).resolve())


def _suggested_branch(repo: pygit2.Repository) -> str:
    branches = [
        name.removeprefix("refs/heads/")
        for name in repo.references
        if name.startswith("refs/heads/")
    ]
    for usual in ("main", "master"):
        if usual in branches:
            return usual
    return branches[0] if branches else "main"


def _list(paths: list[str], limit: int = 5) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def refuse_conflict_markers(
    new: Mapping[str, bytes | None],
    worktree: Mapping[str, bytes],
    committed: Callable[[str], bytes | None],
) -> None:
    """Never write a conflict marker, nor write while one is left unresolved.

    `new`: the bytes this write commits; `worktree`: governance files as they are on disk;
    `committed(path)`: a file's bytes at HEAD. A marker already committed at HEAD is
    someone's content (a hostile one must not block every write), not an unresolved
    conflict here.
    """
    found: list[str] = []
    for path, data in sorted(new.items()):
        line = None if data is None else conflict_marker_line(data)
        if line is not None:
            found.append(f"{path}:{line}")
    if found:
        raise WriteRefused(
            f"refusing to write a conflict marker ({_list(found)}): resolve the conflict "
            "in the text first"
        )
    for path in sorted(worktree):
        data = worktree[path]
        line = conflict_marker_line(data)
        if line is not None and committed(path) != data:
            found.append(f"{path}:{line}")
    if found:
        raise WriteRefused(
            f"unresolved conflict marker in the working tree ({_list(found)}): edit the "
            "file to resolve the conflict and commit it, or drop your version with "
            "`git checkout HEAD -- FILE`; the workbench writes nothing until then"
        )


def changed_paths(
    repo: pygit2.Repository, old: pygit2.Oid | None, new: pygit2.Oid | None, paths: Iterable[str]
) -> list[str]:
    """Those of `paths` whose blob differs between commits `old` and `new`."""
    if old == new:
        return []
    old_tree = repo[old].peel(pygit2.Tree) if old is not None else None
    new_tree = repo[new].peel(pygit2.Tree) if new is not None else None
    return [p for p in paths if _entry_id(old_tree, p) != _entry_id(new_tree, p)]


def _entry_id(tree: pygit2.Tree | None, path: str) -> tuple[str, int] | None:
    if tree is None:
        return None
    try:
        entry = tree[path]
    except KeyError:
        return None
    return (str(entry.id), int(entry.filemode))
