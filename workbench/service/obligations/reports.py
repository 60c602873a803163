"""Reports (``wb.obligations.reports``): the weekly living-attestation summary (and its
signed receipts) and the quarterly boundary-failure review. Their content is
``governance.reports``'s."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.governance import reports as rep
from workbench.governance.records import receipt_path
from workbench.service.obligations.records import ObligationError, RecordResult

if TYPE_CHECKING:
    from workbench.service.obligations import Obligations
    from workbench.signing.keys import Signer


class Reports:
    def __init__(self, obligations: Obligations) -> None:
        self._o = obligations
        self.wb = obligations.wb

    def this_week(self) -> str:
        """The ISO week of now, e.g. ``2026-W48``."""
        return rep.week_of(self.wb.now)

    def weekly(self, week: str | None = None, reviewer: str | None = None) -> rep.WeeklyReport:
        o = self._o
        week = week or rep.week_of(self.wb.now)
        state = o.state()
        if reviewer is not None and reviewer not in state.people:
            raise ObligationError(f"{reviewer!r} is not a person in keys/people.toml")
        return rep.weekly_report(
            state,
            week,
            self.wb.now,
            reviewer=reviewer,
            runs=o.violations.attestation_runs(),
            violations=o.violations.entries(),
            notices=o.notices.statuses(),
            reviews=o.reviews.statuses(),
            actions=o.actions.statuses(),
            receipts=o.records.records().receipts,
        )

    def render_weekly(self, report: rep.WeeklyReport, fmt: str = "md") -> str:
        text = rep.render_weekly_md(report)
        if fmt == "html":
            return rep.md_to_html(text, f"Weekly living-attestation summary {report.week}")
        return text

    def receive_weekly(self, week: str, signer: Signer | None = None) -> list[RecordResult]:
        """The acting reviewer signs this week's report as received (one record per term)."""
        wb = self.wb
        wb.require_writable("sign a report as received")
        actor = wb.actor()
        report = self.weekly(week, actor.id)
        if not report.sections:
            raise ObligationError(f"{actor.id} is not the named reviewer of any living attestation")
        results = []
        for section in report.sections:
            single = rep.WeeklyReport(
                report.week, report.start, report.end, report.as_of, actor.id, [section]
            )
            text = rep.render_weekly_md(single)
            when = wb.record_time()
            path = receipt_path(report.week, section.term.id, section.contract, actor.id, when)
            fields = {
                "week": report.week,
                "term": section.term.id,
                "contract": section.contract,
                "person": actor.id,
                "received": when,
                "report_sha256": rep.report_sha256(text),
            }
            message = (
                f"Receive the weekly summary {report.week} for {section.contract}/{section.term.id}\n\n"
                f"{actor.name} signs the report as received.\n"
            )
            results.append(
                self._o.records.write(
                    path, fields, section.contract, actor.id, "receive", message, signer
                )
            )
        return results

    def boundary(self, quarter: str | None = None) -> rep.BoundaryReport:
        o = self._o
        quarter = quarter or rep.quarter_of(self.wb.now)
        return rep.boundary_report(
            o.state(),
            quarter,
            self.wb.now,
            violations=o.violations.entries(),
            notices=o.notices.statuses(),
            actions=o.actions.statuses(),
            diagnostics=o.diagnostics.by_seam(),
        )

    def render_boundary(self, report: rep.BoundaryReport, fmt: str = "md") -> str:
        text = rep.render_boundary_md(report, self._o.state())
        if fmt == "html":
            return rep.md_to_html(text, f"Cross-team boundary-failure review {report.quarter}")
        return text
