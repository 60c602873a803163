"""pygit2's objects narrowed to the kind a read needs (pygit2 types a looked-up object
as a plain `Object`, and a tree entry's name as optional): a folder, a file's bytes, the
commit a branch points at. The wrong kind is refused with an error, never read as if it
were the right one."""

from __future__ import annotations

import pygit2

from workbench.repo.errors import RevisionError, WriteRefused


def entry_name(entry: pygit2.Object) -> str:
    """A tree entry's name (pygit2 types it optional: objects read by id have none)."""
    if entry.name is None:
        raise RevisionError(f"object {entry.id} is not an entry of a folder")
    return entry.name


def tree_of(repo: pygit2.Repository, oid: pygit2.Oid | str) -> pygit2.Tree:
    """The folder `oid` names, refused when the object is something else."""
    obj = repo[oid]
    if not isinstance(obj, pygit2.Tree):
        raise RevisionError(f"object {oid} is a {obj.type_str}, not a folder")
    return obj


def blob_bytes(repo: pygit2.Repository, oid: pygit2.Oid | str) -> bytes:
    """The bytes of the file `oid` names, refused when the object is something else."""
    obj = repo[oid]
    if not isinstance(obj, pygit2.Blob):
        raise RevisionError(f"object {oid} is a {obj.type_str}, not a file")
    return obj.data


def branch_tip(ref: pygit2.Reference | None, branch: str) -> pygit2.Oid | None:
    """The commit a branch points at (None: unborn); a symbolic branch is refused, as the
    compare-and-swap needs the commit the branch was read at."""
    if ref is None:
        return None
    if isinstance(ref.target, str):
        raise WriteRefused(f"{branch} is a symbolic reference to {ref.target}; write on a branch")
    return ref.target
