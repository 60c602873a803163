"""Resolving a merge that stopped on conflicts: both sides of a conflicted file, and the
resolution committed as the merge commit.

The one place where the workbench writes while a merge is in progress (every other write
is refused then: `repo.branch.writable_branch`). It writes only the files being resolved,
only while a merge (MERGE_HEAD) is under way, never a conflict marker, and a contract only
when it validates; when the last conflict is resolved it makes the merge commit (parents:
HEAD and what was being merged), signed like every workbench commit. A rebase, cherry-pick
or revert in progress is refused with the git commands that finish it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.model.conflict import (
    ConflictHunk,
    conflict_hunks,
    conflict_marker_line,
    side_text,
)
from workbench.model.text import normalise
from workbench.repo import layout
from workbench.service.errors import InvalidEdit, WorkbenchError, WriteRefused

if TYPE_CHECKING:
    from workbench.repo.merge_state import MergeState
    from workbench.service.core import Workbench
    from workbench.signing.keys import Signer


@dataclass
class ConflictedFile:
    path: str
    ours_label: str
    theirs_label: str
    ours: str  # the file as our side has it
    theirs: str  # as their side has it
    base: str | None  # as the common ancestor had it (None: added on both sides)
    text: str  # the working-tree file, with its conflict markers
    hunks: list[ConflictHunk] = field(default_factory=list)

    @property
    def contract_id(self) -> str | None:
        from workbench.model.state import contract_file_id, is_contract_path

        return contract_file_id(self.path) if is_contract_path(self.path) else None


@dataclass
class Resolution:
    path: str
    commit: str | None  # the merge commit, once no conflict is left
    left: list[str]  # files still conflicted


class ConflictService:
    def __init__(self, wb: Workbench) -> None:
        self.wb = wb

    def state(self) -> MergeState:
        from workbench.service.repo_state import repo_state

        return repo_state(self.wb)

    def conflicted(self) -> list[str]:
        return list(self.state().conflicted)

    def file(self, path: str) -> ConflictedFile:
        """Both sides of a conflicted file: from the index's stages when git recorded the
        conflict there, else from the markers in the working tree."""
        import pygit2

        path = layout.checked_relative(path)
        repo = self.wb.git.repo
        data = self.wb.git.blob_at("WORKTREE", path)
        text = (data or b"").decode("utf-8", errors="replace")
        hunks = conflict_hunks(text)
        ours_label = next((h.ours_label for h in hunks if h.ours_label), "HEAD")
        theirs_label = next((h.theirs_label for h in hunks if h.theirs_label), "theirs")
        index = repo.index
        index.read(False)
        stages = None
        if index.conflicts is not None:
            try:
                stages = index.conflicts[path]
            except KeyError:
                stages = None

        def blob(entry: pygit2.IndexEntry | None) -> str | None:
            if entry is None:
                return None
            return repo[entry.id].peel(pygit2.Blob).data.decode("utf-8", errors="replace")

        if stages is not None:
            base, ours, theirs = (blob(e) for e in stages)
            return ConflictedFile(
                path, ours_label, theirs_label, ours or "", theirs or "", base, text, hunks
            )
        if not hunks:
            raise WorkbenchError(f"{path} has no unresolved conflict")
        return ConflictedFile(
            path,
            ours_label,
            theirs_label,
            side_text(text, "ours"),
            side_text(text, "theirs"),
            None,
            text,
            hunks,
        )

    def resolve(self, path: str, text: str, *, signer: Signer | None = None) -> Resolution:
        """Write `text` as the resolution of `path` and stage it; when no conflict is left,
        commit the merge. Refused (nothing written) outside a merge, with a marker left,
        or for a contract that does not validate."""
        from workbench.repo import integrate
        from workbench.repo.branch import operation_in_progress

        wb = self.wb
        wb.require_writable("resolve a merge conflict")
        path = layout.checked_relative(path)
        repo = wb.git.repo
        if not integrate.merge_heads(repo):
            doing = operation_in_progress(repo)
            if doing is not None:
                raise WriteRefused(f"{doing[0]}: the app resolves merges only; {doing[1]}")
            raise WriteRefused("no merge is in progress: nothing to resolve")
        if path not in self.conflicted():
            raise WorkbenchError(f"{path} is not conflicted: nothing to resolve there")
        text = normalise(text) if path.endswith(".toml") else text
        data = text.encode("utf-8")
        marker = conflict_marker_line(data)
        if marker is not None:
            raise WriteRefused(
                f"{path}:{marker} still has a conflict marker: keep one side or combine them, "
                "and remove the marker lines"
            )
        if path.startswith(layout.CONTRACTS):
            cid = path.removeprefix(layout.CONTRACTS).removesuffix(".toml")
            problems = [p for p in wb.check_contract_text(cid, text) if p.severity == "error"]
            if problems:
                raise InvalidEdit(
                    f"{path} has {len(problems)} error(s); the resolution was not written",
                    problems,
                )
        actor = wb.actor()
        commit, left = integrate.finish_merge(
            repo,
            wb.git.local_dir,
            {path: data},
            (actor.name, actor.email),
            wb.record_time(),
            wb.signing.keys.commit_signer(actor, signer),
        )
        return Resolution(path, commit, left)
