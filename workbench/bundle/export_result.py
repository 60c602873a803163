"""What an export reports: the archive's digest and size (its bytes too when built in
memory), the snapshot it signed and what the service records of it in ``exports/``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExportResult:
    data: bytes  # the archive, when built in memory (b"" when streamed to a file)
    sha256: str
    snapshot_version: int
    snapshot_sha256: str
    previous_snapshot: str | None
    exported_at: str
    expires: str
    exporter: str
    root_sha256: str
    files: int
    contracts: int
    commit: str | None = None
    notes: list[str] = field(default_factory=list)
    snapshot: bytes = field(default=b"", repr=False)  # exports/v<N>.snapshot.json
    signature: bytes = field(default=b"", repr=False)  # exports/v<N>.<person>.sig
    heads: bytes = field(default=b"", repr=False)  # exports/v<N>.heads.json
    verify_script_sha256: str = ""  # of VERIFY.sh: travels with the trust root
    size: int = 0  # of the archive, in bytes

    def to_json(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "bytes": self.size,
            "snapshot_version": self.snapshot_version,
            "snapshot_sha256": self.snapshot_sha256,
            "previous_snapshot": self.previous_snapshot,
            "exported_at": self.exported_at,
            "expires": self.expires,
            "exporter": self.exporter,
            "root_sha256": self.root_sha256,
            "verify_script_sha256": self.verify_script_sha256,
            "files": self.files,
            "contracts": self.contracts,
            "commit": self.commit,
            "notes": self.notes,
        }
