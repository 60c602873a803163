"""The write door's refusals (no pygit2 here: front ends import these to tell a refused
write from a crash without loading git)."""

from __future__ import annotations

from workbench.model.errors import WorkbenchError


class WriteRefused(WorkbenchError):
    """The repo is in a state where the workbench must not commit (detached HEAD, merge,
    rebase, conflicts...). The message says how to get back."""


class WriteConflict(WorkbenchError):
    """Someone else changed a file this write changes, after it was decided: nothing was
    overwritten."""


class RevisionError(WorkbenchError, ValueError):
    """A revision, or an object in it, is not what the read asked for."""


class GitWriteFailed(WriteRefused):
    """git itself failed under a write (a locked index, an object store it cannot write, a
    full disk): the message names the write, git's reason and where the change is."""
