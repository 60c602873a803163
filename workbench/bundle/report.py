"""What ``verify-bundle`` reports: one ``Check`` per check of the verifier (``bundle.verify``),
and per contract its versions and signatures. ``BundleReport.ok`` is the one verdict the CLI,
the app and the JSON output show."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["ok", "fail", "warn", "info"]


@dataclass
class Check:
    name: str
    severity: Severity
    message: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.name, "result": self.severity, "message": self.message}


@dataclass
class SignatureReport:
    file: str
    principal: str  # what the file name claims
    status: str  # valid | historic | invalid
    message: str
    registry_version: int | None = None

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass
class VersionReport:
    version: int
    statement_sha256: str | None = None
    contract_sha256: str | None = None
    registry_version: int | None = None
    required: list[str] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    signatures: list[SignatureReport] = field(default_factory=list)
    state: str = "pending"  # approved | pending | invalid
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        out = dataclasses.asdict(self)
        out["signatures"] = [s.to_json() for s in self.signatures]
        return out


@dataclass
class ContractReport:
    contract_id: str
    head: int | None
    state: str  # draft | pending | approved | stale | invalid (the signing room's verdict)
    reason: str
    versions: list[VersionReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # integrity failures
    current_changed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "contract": self.contract_id,
            "head": self.head,
            "state": self.state,
            "reason": self.reason,
            "ok": self.ok,
            "problems": self.problems,
            "current_changed": self.current_changed,
            "versions": [v.to_json() for v in self.versions],
        }


@dataclass
class BundleReport:
    checks: list[Check] = field(default_factory=list)
    contracts: list[ContractReport] = field(default_factory=list)
    snapshot_version: int | None = None
    snapshot_sha256: str | None = None
    exported_at: str | None = None
    expires: str | None = None
    exporter: str | None = None
    current: bool = False
    root_pinned: bool = False
    root_sha256: str | None = None
    registry_head: int | None = None
    strict: bool = False
    recomputed: list[Any] | None = None  # FindingCheck per finding with --recompute

    @property
    def ok(self) -> bool:
        if any(c.severity == "fail" for c in self.checks):
            return False
        if any(not c.ok for c in self.contracts):
            return False
        return not (
            self.strict and (not self.current or any(c.state != "approved" for c in self.contracts))
        )

    @property
    def failures(self) -> list[str]:
        out = [f"{c.name}: {c.message}" for c in self.checks if c.severity == "fail"]
        for c in self.contracts:
            out += [f"{c.contract_id}: {p}" for p in c.problems]
        return out

    def add(self, name: str, severity: Severity, message: str) -> None:
        self.checks.append(Check(name, severity, message))

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "snapshot_version": self.snapshot_version,
            "snapshot_sha256": self.snapshot_sha256,
            "exported_at": self.exported_at,
            "expires": self.expires,
            "exporter": self.exporter,
            "current": self.current,
            "root_pinned": self.root_pinned,
            "root_sha256": self.root_sha256,
            "registry_head": self.registry_head,
            "checks": [c.to_json() for c in self.checks],
            "contracts": [c.to_json() for c in self.contracts],
            "recomputed": (
                [f.to_json() for f in self.recomputed] if self.recomputed is not None else None
            ),
            "failures": self.failures,
        }
