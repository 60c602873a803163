"""Runs are append-only: which run statements the history behind HEAD added after the
current head runs were written.

Deleting the newest, failing run must not make an older passing run decide again. Only a
run the current heads do not cover can be dropped that way: every run in the tree a head
was evaluated on is named by that head (as a previous head, covered through it, or as
rejected), so its fold is in the head's ledger whatever happens to its files later. So the
walk starts at HEAD and stops at the commits that added the head runs: its cost is the
commits since the last run, not the length of the history (reading every version of
`findings/runs/` made the gate quadratic in the number of runs: 0.23 s at 365 daily runs).
Without a head (a new repository, or none counts) the whole history is walked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workbench.evidence.run_chain import RUNS_DIR, STATEMENT_FILE_RE, statement_path


def _runs_folder(tree: Any) -> Any:
    try:
        entry = tree[RUNS_DIR]
    except KeyError:
        return None
    return entry if entry.type_str == "tree" else None


def _has(repo: Any, commit: Any, path: str, memo: dict[str, bool]) -> bool:
    folder = _runs_folder(commit.tree)
    if folder is None:
        return False
    key = f"{folder.id}:{path}"
    if key not in memo:
        name = path.rsplit("/", 1)[1]
        try:
            memo[key] = repo[folder.id][name].type_str == "blob"
        except KeyError:
            memo[key] = False
    return memo[key]


def _adding_commits(repo: Any, head: Any, runs: Iterable[str]) -> list[Any]:
    """The commits that added each run's statement (a commit holding it whose parents do not),
    newest first; walking stops once each run's is found."""
    import pygit2

    wanted = {statement_path(r) for r in runs}
    memo: dict[str, bool] = {}
    found: list[Any] = []
    for commit in repo.walk(head.id, pygit2.enums.SortMode.TOPOLOGICAL):
        if not wanted:
            break
        for path in list(wanted):
            if _has(repo, commit, path, memo) and not any(
                _has(repo, p, path, memo) for p in commit.parents
            ):
                found.append(commit)
                wanted.discard(path)
    return found


def statements_since(repo: Any, head: Any, heads: Iterable[str]) -> dict[str, dict[str, str]]:
    """Run statement path -> {blob id: commit id}, for every statement a commit added or
    rewrote after the commits that added ``heads`` (all of history without heads)."""
    import pygit2

    heads = list(heads)
    walker = repo.walk(head.id, pygit2.enums.SortMode.TOPOLOGICAL)
    for commit in _adding_commits(repo, head, heads) if heads else []:
        for parent in commit.parents:
            walker.hide(parent.id)
    out: dict[str, dict[str, str]] = {}
    seen: set[str] = set()

    def note(name: str, blob: str, commit: Any) -> None:
        if STATEMENT_FILE_RE.fullmatch(f"{RUNS_DIR}/{name}"):
            out.setdefault(f"{RUNS_DIR}/{name}", {}).setdefault(blob, str(commit.id))

    for commit in walker:
        folder = _runs_folder(commit.tree)
        if folder is None or str(folder.id) in seen:
            continue
        seen.add(str(folder.id))
        before = [t for t in (_runs_folder(p.tree) for p in commit.parents) if t is not None]
        if not before:
            for item in repo[folder.id]:
                if item.type_str == "blob":
                    note(item.name, str(item.id), commit)
            continue
        for parent in before:
            if parent.id == folder.id:
                continue
            for delta in repo.diff(repo[parent.id], repo[folder.id]).deltas:
                if delta.status != pygit2.enums.DeltaStatus.DELETED:
                    note(delta.new_file.path, str(delta.new_file.id), commit)
    return out
