"""What a sync brought in and sent out, and whether what came in may be accepted.

`workbench sync` takes two pictures of the governance state at `now`: one of the local
branch before, one of the history it would accept (the fetched head, or the merge of it
with the local branch). Comparing them gives

* the refusal: every registry problem and every `invalid` co-signature verdict the
  accepted history would have and the local branch does not (a rolled-back registry or
  attestation, a forked chain, a root other than the pinned one) — then nothing is merged;
* the summary: records that came in and went out (signatures, acknowledgements, reviews,
  closures, runs...), verdicts that changed, notices now waiting for the acting person,
  violations opened or closed.

Pure: pictures and changed paths in, lines out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from workbench.model import safe_text


@dataclass(frozen=True)
class Picture:
    """The state one commit gives at `now`, as plain data."""

    verdicts: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # cid -> (state, reason)
    registry_problems: tuple[str, ...] = ()
    waiting: dict[str, str] = field(default_factory=dict)  # notice id -> what is asked
    open_violations: dict[str, str] = field(default_factory=dict)  # id -> "contract / term"


def refusals(before: Picture, after: Picture) -> list[str]:
    """Why the history behind `after` must not be accepted: each problem it has that the
    local branch (`before`) does not. Empty: it may be accepted."""
    out = [
        f"key registry: {p}" for p in after.registry_problems if p not in before.registry_problems
    ]
    for cid, (state, reason) in sorted(after.verdicts.items()):
        if state != "invalid":
            continue
        if before.verdicts.get(cid) == (state, reason):
            continue  # already so here: not something this sync brings in
        out.append(f"{cid}: {reason}")
    return out


# What kind of record a path is, and how to name it in one line.
_SIG = re.compile(r"attestations/(?P<cid>[^/]+)/v(?P<v>\d+)\.(?P<who>[^/]+)\.sig")
_REGISTRY_SIG = re.compile(r"keys/registry/v(?P<v>\d+)\.(?P<who>[^/]+)\.sig")
_RECORD = re.compile(
    r"(?P<dir>reviews|acks)/(?P<cid>[^/]+)/(?P<stem>[^/.]+)\.(?P<who>[a-z0-9][a-z0-9._-]*)\.toml"
)
_CLOSURE = re.compile(
    r"findings/closures/(?P<vid>[^/]+)/[^/.]+\.(?P<who>[a-z0-9][a-z0-9._-]*)\.(?P<act>[a-z-]+)\.toml"
)
_RUN = re.compile(r"findings/runs/(?P<run>[^/]+)\.statement\.json")
_EVIDENCE = re.compile(r"evidence/snapshots/(?P<id>ev-[0-9a-f]{12})\.[a-z]+")
_EXPORT = re.compile(r"exports/v(?P<v>\d+)\.snapshot\.json")
_REGISTRATION = re.compile(
    r"evidence/registrations/(?P<id>ev-[0-9a-f]{12})/[^/.]+\.(?P<who>[a-z0-9][a-z0-9._-]*)"
    r"\.(?P<act>register|withdraw)\.toml"
)


def describe_path(path: str) -> tuple[str, str] | None:
    """(kind, one-line description) of a changed file that is a record, else None
    (statements and signatures of records are named with the record)."""
    if m := _SIG.fullmatch(path):
        return "signature", f"{m['who']} co-signed {m['cid']} v{m['v']}"
    if m := _REGISTRY_SIG.fullmatch(path):
        return "registry", f"{m['who']} signed registry v{m['v']}"
    if m := _RECORD.fullmatch(path):
        kind = "review" if m["dir"] == "reviews" else "acknowledgement"
        return kind, f"{kind} of {m['cid']} for {m['who']}"
    if m := _CLOSURE.fullmatch(path):
        return "closure", f"{m['act']} of {m['vid']} by {m['who']}"
    if path.startswith("reports/receipts/") and path.endswith(".toml"):
        return "receipt", f"receipt {path.removeprefix('reports/receipts/')}"
    if m := _RUN.fullmatch(path):
        return "run", f"evaluation run {m['run']}"
    if m := _EVIDENCE.fullmatch(path):
        return "evidence", f"evidence snapshot {m['id']}"
    if m := _REGISTRATION.fullmatch(path):
        verb = "registered" if m["act"] == "register" else "withdrew"
        return "evidence", f"{m['who']} {verb} evidence snapshot {m['id']}"
    if m := _EXPORT.fullmatch(path):
        return "export", f"audit bundle snapshot v{m['v']}"
    if path.startswith("contracts/") and path.endswith(".toml"):
        return "contract", f"{path.removeprefix('contracts/').removesuffix('.toml')} changed"
    if path.startswith("actions/"):
        return "action", f"action item {path.removeprefix('actions/').removesuffix('.toml')}"
    if path.startswith("diagnostics/") and path.endswith(".toml"):
        return "diagnostic", f"diagnostic answers {path.removeprefix('diagnostics/')}"
    if path.startswith("keys/registry/") and path.endswith(".statement.json"):
        return "registry", f"registry {path.removeprefix('keys/registry/').split('.')[0]} proposed"
    return None


def describe_paths(paths: list[str]) -> list[str]:
    """One line per record among `paths`, grouped by kind."""
    found = [d for d in (describe_path(p) for p in sorted(paths)) if d is not None]
    order = [
        "signature",
        "registry",
        "acknowledgement",
        "review",
        "closure",
        "receipt",
        "run",
        "evidence",
        "contract",
        "action",
        "diagnostic",
        "export",
    ]
    found.sort(key=lambda d: (order.index(d[0]), d[1]))
    return [text for _kind, text in dict.fromkeys(found)]


@dataclass
class SyncSummary:
    incoming_commits: int = 0
    outgoing_commits: int = 0
    incoming: list[str] = field(default_factory=list)  # records that came in
    outgoing: list[str] = field(default_factory=list)  # records that went out
    verdicts: list[tuple[str, str, str]] = field(default_factory=list)  # (cid, before, after)
    waiting: list[str] = field(default_factory=list)  # notices newly waiting for you
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    # Records the incoming history deleted: accepted when the verdicts stay safe (a deleted
    # signature only makes a contract pending), but each is named, never silent.
    removed: list[str] = field(default_factory=list)

    def lines(self, came: str = "came in", went: str = "went out") -> list[str]:
        line = safe_text.line
        out = [f"{came}: {self.incoming_commits} commit(s)"]
        out += [f"  + {line(t)}" for t in self.incoming]
        out += [f"  - removed: {line(t)}" for t in self.removed]
        out += [f"  verdict {line(c)}: {b or 'none'} -> {a or 'none'}" for c, b, a in self.verdicts]
        out += [f"  waiting for you: {line(w)}" for w in self.waiting]
        out += [f"  violation opened: {line(v)}" for v in self.opened]
        out += [f"  violation closed: {line(v)}" for v in self.closed]
        out.append(f"{went}: {self.outgoing_commits} commit(s)")
        out += [f"  + {line(t)}" for t in self.outgoing]
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "incoming_commits": self.incoming_commits,
            "outgoing_commits": self.outgoing_commits,
            "incoming": self.incoming,
            "outgoing": self.outgoing,
            "verdicts": [{"contract": c, "before": b, "after": a} for c, b, a in self.verdicts],
            "waiting_for_you": self.waiting,
            "violations_opened": self.opened,
            "violations_closed": self.closed,
            "removed_incoming": self.removed,
        }


def summarise(
    before: Picture,
    after: Picture,
    incoming_paths: list[str],
    outgoing_paths: list[str],
    incoming_commits: int,
    outgoing_commits: int,
    incoming_removed: list[str] | None = None,
) -> SyncSummary:
    verdicts = []
    for cid in sorted(before.verdicts.keys() | after.verdicts.keys()):
        b = before.verdicts.get(cid, ("", ""))[0]
        a = after.verdicts.get(cid, ("", ""))[0]
        if a != b:
            verdicts.append((cid, b, a))
    return SyncSummary(
        incoming_commits,
        outgoing_commits,
        describe_paths(incoming_paths),
        describe_paths(outgoing_paths),
        verdicts,
        [what for nid, what in sorted(after.waiting.items()) if nid not in before.waiting],
        [
            f"{vid} {what}"
            for vid, what in sorted(after.open_violations.items())
            if vid not in before.open_violations
        ],
        [
            f"{vid} {what}"
            for vid, what in sorted(before.open_violations.items())
            if vid not in after.open_violations
        ],
        describe_paths(incoming_removed or []),
    )


def conflict_advice(path: str) -> str:
    """How to resolve a conflict in `path`, by what kind of file it is."""
    if path.startswith("contracts/") and path.endswith(".toml"):
        return (
            "both sides changed this contract: open it in the app (both versions side by "
            "side, the resolution is committed as the merge) or edit it, then `git add` it "
            "and `git commit`"
        )
    if path.startswith(("attestations/", "keys/registry/", "exports/")):
        return (
            "two clones made the same version of a signed chain differently: keep one side "
            f"(`git checkout --ours {path}` or `--theirs`), `git add` it and commit; whoever "
            "signed the other version signs again"
        )
    if path.startswith("keys/"):
        return (
            "two registry changes were proposed at once: keep one (`git checkout --ours` or "
            "`--theirs`), commit, and propose the other again on top"
        )
    if path == "evidence/manifest.toml":
        return (
            "the same snapshot was registered differently on each side, or one name was given "
            "to two snapshots: keep one entry between the markers, `git add` it and commit"
        )
    if path.startswith(
        ("acks/", "reviews/", "findings/", "reports/", "diagnostics/", "evidence/registrations/")
    ):
        return (
            "the same record file was written in two clones (a record of an earlier version, "
            f"named without its time): keep one side (`git checkout --ours {path}` or "
            "`--theirs`, with its .statement.json and .sig), `git add` and commit"
        )
    return "keep one side or combine them, `git add` the file and commit"
