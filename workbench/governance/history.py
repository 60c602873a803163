"""The committed versions of each contract, oldest first (input to reviews and notices).

Built by the service from git; here it is plain data so the governance rules stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from workbench.model.contract import Contract


@dataclass(frozen=True)
class ContractVersion:
    commit: str
    author_name: str
    author_email: str
    time: datetime
    message: str
    raw: bytes | None  # None: deleted, or not read (see `blob`)
    contract: Contract | None  # None: deleted, or did not validate at this commit
    # The git blob id of the file in this commit. The service leaves `raw` unread when
    # the parsed version is cached under this id.
    blob: str | None = None

    @property
    def deleted(self) -> bool:
        return self.raw is None and self.blob is None

    @property
    def short(self) -> str:
        return self.commit[:8]

    @property
    def summary(self) -> str:
        return self.message.splitlines()[0] if self.message else ""


@dataclass
class ContractHistory:
    contract_id: str
    versions: list[ContractVersion] = field(default_factory=list)  # oldest first

    @property
    def first(self) -> ContractVersion | None:
        return self.versions[0] if self.versions else None

    def version_of(self, commit: str) -> ContractVersion | None:
        return next((v for v in self.versions if v.commit.startswith(commit)), None)


History = dict[str, ContractHistory]
