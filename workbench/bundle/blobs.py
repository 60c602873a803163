"""The exact bytes a signed statement names, found by (path, sha256): at HEAD when the file
there still has that digest, else anywhere in the history (one walk for all that are missing).
An export ships the signed bytes of every registry and contract version, not today's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from workbench.signing.statement import sha256_hex

if TYPE_CHECKING:
    from workbench.bundle.source import ExportSource


class HistoryBlobs:
    """Bytes of (path, sha256) from HEAD, else from anywhere in history (one walk)."""

    def __init__(self, wb: ExportSource, head_files: Mapping[str, bytes]) -> None:
        self.wb = wb
        self.head = head_files
        self.found: dict[tuple[str, str], bytes] = {}

    def get_many(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        missing = set()
        for path, digest in wanted:
            data = self.head.get(path)
            if data is not None and sha256_hex(data) == digest:
                self.found[(path, digest)] = data
            elif (path, digest) not in self.found:
                missing.add((path, digest))
        if missing:
            self._walk(missing)
        return {k: self.found[k] for k in wanted if k in self.found}

    def _walk(self, missing: set[tuple[str, str]]) -> None:
        import pygit2

        repo = self.wb.git.repo
        paths = {p for p, _ in missing}
        seen: set[str] = set()
        for commit in repo.walk(repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL):
            for path in list(paths):
                try:
                    entry = commit.tree[path]
                except KeyError:
                    continue
                oid = str(entry.id)
                if oid in seen:
                    continue
                seen.add(oid)
                data = repo[entry.id].data
                key = (path, sha256_hex(data))
                if key in missing:
                    self.found[key] = data
                    missing.discard(key)
                    if not any(p == path for p, _ in missing):
                        paths.discard(path)
            if not missing:
                return
