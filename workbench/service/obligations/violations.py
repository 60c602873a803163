"""The evidence room's violations in the gate's and the reports' terms
(``wb.obligations.violations``): what is open now and who can fix it, the violation
history, living-attestation runs, and the runs and closures that do not count. The
findings and their folding are ``wb.evidence``'s (one implementation)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from workbench.governance import gate as gate_mod
from workbench.governance import reports as rep
from workbench.service.errors import SettingsInvalid

if TYPE_CHECKING:
    from workbench.service.obligations import Obligations


class Violations:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb

    def open(self) -> dict[str, list[gate_mod.ViolationInfo]]:
        """Per contract: the violations open now, and the terms whose latest finding does
        not speak for them at now (stale, superseded, never evaluated)."""
        svc = self.wb.evidence
        out: dict[str, list[gate_mod.ViolationInfo]] = {}
        # Terms whose latest finding does not speak for them at now (stale, superseded by a
        # contract or evidence change, never evaluated): `governance.currency` decides.
        stale = {(t.contract, t.term): t for t, _v in svc.not_current()}
        # What is open now comes from the head runs' ledgers, never the whole history.
        for v in svc.open_now():
            if v.worst_status not in ("fail", "no-data", "error"):
                continue
            # Who can fix it: the term owner, and the person paged for the seam.
            primary = (v.paged or {}).get("primary") or {}
            fixers = tuple(
                dict.fromkeys(
                    p for p in (v.owner.get("id"), primary.get("id")) if isinstance(p, str) and p
                )
            )
            reason = str(v.last.get("reason", ""))
            if (t := stale.pop((v.contract, v.term), None)) is not None:
                reason += f"; not current: {t.reason}"
            out.setdefault(v.contract, []).append(
                gate_mod.ViolationInfo(v.id, v.term, v.worst_status, reason, fixers)
            )
        state = self._o.state()
        for (cid, tid), t in sorted(stale.items()):
            doc = state.contracts.get(cid)
            term = doc.contract.term(tid) if doc else None
            people = [term.owner] if term else []
            if doc is not None:
                people.append(doc.contract.escalation.primary)
            out.setdefault(cid, []).append(
                gate_mod.ViolationInfo(
                    "", tid, "not current", t.reason, tuple(dict.fromkeys(people)), current=False
                )
            )
        return out

    def entries(self) -> list[rep.ViolationEntry]:
        """The violation history, for the reports."""
        return [
            rep.ViolationEntry(
                v.id,
                v.contract,
                v.term,
                v.worst_status,
                v.state,
                v.opened_at,
                v.last_at,
                str(v.last.get("reason", "")),
            )
            for v in self.wb.evidence.violations.find()
        ]

    def attestation_runs(self) -> dict[tuple[str, str], list[rep.AttestationRun]]:
        """Per living-attestation term: each run's pass rates, for the weekly report."""
        out: dict[tuple[str, str], list[rep.AttestationRun]] = {}
        for run in self.wb.evidence.runs():
            when = datetime.fromisoformat(str(run["time"]).replace("Z", "+00:00"))
            for f in run.get("findings", []):
                if f.get("kind") != "living_attestation":
                    continue
                details = tuple(
                    rep.AssertionRate(
                        str(d.get("assertion")),
                        int(d.get("runs") or 0),
                        int(d.get("passed") or 0),
                        d.get("pass_rate"),
                        str(d.get("status")),
                    )
                    for d in f.get("details", [])
                )
                out.setdefault((f["contract"], f["term"]), []).append(
                    rep.AttestationRun(str(run["run"]), when, str(f.get("status")), details)
                )
        return out

    def flags(self) -> dict[str, list[str]]:
        """Per contract: closures and runs that claim what they cannot."""
        svc = self.wb.evidence
        out: dict[str, list[str]] = {}
        try:
            for contract, messages in svc.violations.closure_flags().items():
                out.setdefault(contract, []).extend(messages)
            for contract, messages in svc.violations.run_flags().items():
                out.setdefault(contract, []).extend(messages)
        except SettingsInvalid as exc:
            for cid in self._o.state().contracts:
                out.setdefault(cid, []).append(f"closures cannot be read: {exc}")
        return out
