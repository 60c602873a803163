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
from typing import Any

from workbench.governance.junit_xml import Element
from workbench.model import safe_text

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


def text_lines(merge: UnfinishedMerge | None) -> list[str]:
    """The gate's text report opens with it (one line each, made safe)."""
    if merge is None:
        return []
    line = safe_text.line
    return [
        f"FAIL  {MERGE_RULE:<22} {line(merge.message)}",
        f"        how: {line(merge.how)}",
        "",
    ]


def junit_suite(root: Element, merge: UnfinishedMerge, timestamp: str) -> None:
    """A `merge state` testsuite with one failing testcase (the writer makes text safe)."""
    suite = root.add(
        "testsuite",
        name="merge state",
        tests="1",
        failures="1",
        errors="0",
        skipped="0",
        timestamp=timestamp,
    )
    case = suite.add(
        "testcase",
        classname=f"gate.{MERGE_RULE}",
        name=MERGE_RULE,
        file=merge.location,
        line="1",
    )
    failure = case.add("failure", message=merge.message, type=MERGE_RULE)
    failure.text = f"{merge.message}\nhow: {merge.how}"


def sarif_rule_and_result(
    merge: UnfinishedMerge, index: int, text: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SARIF rule and its failing result; `text` makes a message SARIF-safe."""
    rule = {
        "id": MERGE_RULE,
        "name": "MergeState",
        "shortDescription": {"text": MERGE_TEXT},
        "fullDescription": {"text": MERGE_TEXT},
        "helpUri": "https://handshake-workbench.dev/docs/sync#when-a-merge-conflicts",
        "defaultConfiguration": {"level": "error"},
    }
    found = {
        "ruleId": MERGE_RULE,
        "ruleIndex": index,
        "kind": "fail",
        "level": "error",
        "message": {"text": text(f"{merge.message} How: {merge.how}")},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": merge.location, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 1, "startColumn": 1},
                }
            }
        ],
        "properties": {"conflicts": list(merge.conflicts)},
    }
    return rule, found
