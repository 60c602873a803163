"""pygit2's objects narrowed to the kind a read needs (pygit2 types a looked-up object
as a plain `Object`, and a tree entry's name as optional): a folder, a file's bytes, the
commit a branch points at. The wrong kind is refused with an error, never read as if it
were the right one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pygit2

from workbench.repo.errors import RevisionError, WriteRefused

# Signs a commit object's bytes; returns the armoured signature for its gpgsig header.
CommitSigner = Callable[[bytes], str]


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


def write_commit(
    repo: pygit2.Repository,
    author: tuple[str, str],
    when: datetime | None,
    message: str,
    tree: pygit2.Oid,
    parents: Sequence[pygit2.Oid],
    signer: CommitSigner | None,
) -> pygit2.Oid:
    """A commit object on no branch yet (the caller moves the branch by compare-and-swap),
    signed when `signer` is given. Every commit the workbench writes is made here."""
    moment = when or datetime.now(UTC)
    offset = int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)
    sig = pygit2.Signature(author[0], author[1], int(moment.timestamp()), offset)
    heads: list[str | pygit2.Oid] = list(parents)
    if signer is None:
        return repo.create_commit(None, sig, sig, message, tree, heads)
    # pygit2's stub says Oid; the call returns the commit object's text.
    buffer = cast(str | bytes, repo.create_commit_string(sig, sig, message, tree, heads))
    text = buffer if isinstance(buffer, str) else buffer.decode()
    return repo.create_commit_with_signature(text, signer(text.encode()), "gpgsig")


def checkout_tree(repo: pygit2.Repository, tree: pygit2.Tree) -> None:
    """Write `tree` into the working tree, refusing (GitError) where that would overwrite
    a change of the person's own (git's safe checkout). pygit2 leaves the call untyped."""
    untyped: Any = repo
    untyped.checkout_tree(tree, strategy=pygit2.enums.CheckoutStrategy.SAFE)
