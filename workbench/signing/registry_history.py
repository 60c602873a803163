"""A registry version, once complete, stays in force: what history says the chain must hold.

A registry version is *complete* when its statement is chained to the complete version
before it and signed by enough admins of both (see ``registry.walk_chain``). Revoking a
key is such a version; if a plain commit could make it incomplete again (delete or rename
a signature, delete the statement, restore the files of v1), the revocation would be
undone and the revoked key would sign approvals that count. So the history of
``keys/registry/`` is append-only once a version is complete:

* every version that was ever complete in the history of a revision must be complete in
  that revision, with the same statement bytes (else: **rollback**);
* two different statements that were each complete for the same version are a **fork**,
  even when both carry the admins' valid signatures.

A pending version (never complete) may still be amended. Everything here is pure: the
service walks git and hands in the registry files of each distinct tree it met.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from workbench.signing.registry_chain import AdminCountMemo, walk_chain
from workbench.signing.registry_files import registry_paths
from workbench.signing.statement import Statement


@dataclass
class RegistryMemory:
    """Every registry version ever complete in a history: version -> statement sha256 -> where
    it was seen complete (a commit id)."""

    seen: dict[int, dict[str, str]] = field(default_factory=dict)
    memo: AdminCountMemo = field(default_factory=dict, repr=False)

    def add_tree(
        self, files: Mapping[str, bytes], repository: str, domain: str, where: str
    ) -> None:
        """Remember the complete versions of one ``keys/registry/`` tree (paths as in a repo)."""
        raw, sigs, _odd = registry_paths(files)
        walk = walk_chain(raw, sigs, repository, domain, memo=self.memo)
        for version, statement in walk.complete.items():
            self.seen.setdefault(version, {}).setdefault(statement.sha256, where)


def rollback_problems(
    seen: Mapping[int, Mapping[str, str]], current: Mapping[int, Statement]
) -> list[str]:
    """What is wrong with the ``current`` complete chain, given every version ever complete."""
    problems = []
    for version in sorted(seen):
        statements = seen[version]
        if len(statements) > 1:
            where = ", ".join(
                f"{sha[:12]} (commit {commit[:12]})" for sha, commit in sorted(statements.items())
            )
            problems.append(
                f"registry v{version} is forked: {len(statements)} different statements were "
                f"each signed by enough admins: {where}; a complete registry version is never "
                "replaced, even by its admins"
            )
            continue
        sha, commit = next(iter(statements.items()))
        now = current.get(version)
        if now is None:
            problems.append(
                f"registry v{version} (statement {sha[:12]}) was complete in commit "
                f"{commit[:12]} but is not in force here: rollback; a complete registry "
                "version stays in force (restore its statement and signatures)"
            )
        elif now.sha256 != sha:
            problems.append(
                f"registry v{version} is forked: its statement is now {now.sha256[:12]}, "
                f"but {sha[:12]} was complete in commit {commit[:12]}"
            )
    return problems


def seen_pin_problems(
    version: int, sha256: str, source: str, current: Mapping[int, Statement]
) -> list[str]:
    """The chain against a registry version the verifier knows was complete (given out of
    band: ``signing.trust.SeenPin``): it must be complete here with the same statement."""
    now = current.get(version)
    if now is None:
        return [
            f"registry v{version} (statement {sha256[:12]}) is known complete ({source}) but "
            "is not in force here: rollback, e.g. a force-pushed history that dropped it; a "
            "complete registry version stays in force (restore its statement and signatures)"
        ]
    if now.sha256 != sha256:
        return [
            f"registry v{version} is forked: its statement here is {now.sha256[:12]}, but "
            f"{sha256[:12]} is the one known complete ({source})"
        ]
    return []
