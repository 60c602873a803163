"""The gate's check of the clone it runs in: no merge (or rebase...) half-way through and
no conflict left unresolved.

The gate judges committed bytes. In a clone where a merge stopped on conflicts, HEAD is
still the commit before the merge, so every rule would judge a state that is about to be
replaced, and a CI job that merged a branch before running the gate would pass on what was
there before the merge. So an unfinished merge fails the gate by itself, whatever the
policy, with the commands that finish or abort it. (A conflict committed with its markers
is a contract that does not parse: the `valid` rule names it as a merge conflict.)

Pure: the repository layer says what it found (`repo.merge_state`).
"""

from __future__ import annotations

from dataclasses import dataclass

MERGE_RULE = "merge_state"
MERGE_TEXT = "The clone has no merge, rebase or other git operation half-way through and no unresolved conflict."


@dataclass(frozen=True)
class UnfinishedMerge:
    """What the gate reports when the clone is mid-merge: what, where, how to get out."""

    what: str  # "a merge is in progress; 2 unresolved conflicts: contracts/a.toml, ..."
    how: str
    conflicts: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return (
            f"cannot judge: {self.what}. The gate judges a finished history (HEAD is still "
            "the commit before the merge)"
        )

    @property
    def location(self) -> str:
        return self.conflicts[0] if self.conflicts else ".git"

    def to_json(self) -> dict[str, object]:
        return {
            "outcome": "fail",
            "message": self.message,
            "conflicts": list(self.conflicts),
            "fix": self.how,
        }


PASSED_JSON: dict[str, object] = {"outcome": "pass", "message": "no unfinished merge"}
