"""Reports: the weekly living-attestation summary for the named compliance reviewer, and
the agenda of the quarterly cross-team boundary-failure review. Pure: data in, text out.

Every piece of contract, record or evidence text is made safe for the medium as it is
written (workbench/model/safe_text.py): Markdown escapes its inline syntax, so a title
cannot add a link, an image, raw HTML or a table cell; the HTML page escapes every text
run and forbids scripts and remote loads.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from workbench.governance.actions import ActionView
from workbench.governance.diagnostic import SeamDiagnostic
from workbench.governance.notices import Notice
from workbench.governance.records import ReceiptRecord
from workbench.governance.reviews import ReviewStatus
from workbench.governance.timing import iso
from workbench.model import safe_text
from workbench.model.errors import WorkbenchError
from workbench.model.state import GovernanceState
from workbench.model.terms import LivingAttestationTerm

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class PeriodError(WorkbenchError, ValueError):
    pass


def parse_week(text: str) -> tuple[datetime, datetime]:
    m = _WEEK.match(text)
    if not m:
        raise PeriodError(f"--week {text!r}: expected an ISO week such as 2026-W48")
    try:
        start = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError as exc:
        raise PeriodError(f"--week {text!r}: {exc}") from None
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return begin, begin + timedelta(days=7)


def week_of(moment: datetime) -> str:
    year, week, _ = moment.date().isocalendar()
    return f"{year}-W{week:02d}"


def parse_quarter(text: str) -> tuple[datetime, datetime]:
    m = _QUARTER.match(text)
    if not m:
        raise PeriodError(f"--quarter {text!r}: expected a quarter such as 2026-Q4")
    year, q = int(m.group(1)), int(m.group(2))
    begin = datetime(year, 3 * (q - 1) + 1, 1, tzinfo=UTC)
    end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=UTC)
    return begin, end


def quarter_of(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class AssertionRate:
    assertion: str
    runs: int
    passed: int
    pass_rate: float | None
    status: str


@dataclass(frozen=True)
class AttestationRun:
    """One evaluation of a living-attestation term (from the evidence room's findings)."""

    run: str
    time: datetime
    status: str
    details: tuple[AssertionRate, ...]


@dataclass(frozen=True)
class ViolationEntry:
    id: str
    contract: str
    term: str
    status: str
    state: str  # open | recovered | resolved | exempt
    opened_at: datetime
    last_at: datetime
    reason: str


# -- weekly ---------------------------------------------------------------------------------


@dataclass
class TermSection:
    contract: str
    contract_title: str
    term: LivingAttestationTerm
    reviewer: str
    reviewer_name: str
    runs: list[AttestationRun]
    rates: list[AssertionRate]
    violations: list[ViolationEntry]
    notices: list[Notice]
    overdue: list[str]
    receipt: ReceiptRecord | None = None
    evidence_available: bool = True


@dataclass
class WeeklyReport:
    week: str
    start: datetime
    end: datetime
    as_of: datetime
    reviewer: str | None
    sections: list[TermSection] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "week": self.week,
            "start": iso(self.start),
            "end": iso(self.end),
            "as_of": iso(self.as_of),
            "reviewer": self.reviewer,
            "attestations": [
                {
                    "contract": s.contract,
                    "term": s.term.id,
                    "reviewer": s.reviewer,
                    "evidence_available": s.evidence_available,
                    "runs": [
                        {"run": r.run, "time": iso(r.time), "status": r.status} for r in s.runs
                    ],
                    "assertions": [
                        {
                            "assertion": r.assertion,
                            "runs": r.runs,
                            "passed": r.passed,
                            "pass_rate": r.pass_rate,
                            "status": r.status,
                        }
                        for r in s.rates
                    ],
                    "violations": [v.id for v in s.violations],
                    "notices": [n.id for n in s.notices],
                    "overdue": s.overdue,
                    "received": s.receipt.path if s.receipt else None,
                }
                for s in self.sections
            ],
        }


def weekly_report(
    state: GovernanceState,
    week: str,
    now: datetime,
    *,
    reviewer: str | None,
    runs: Mapping[tuple[str, str], list[AttestationRun]] | None,
    violations: list[ViolationEntry] | None,
    notices: list[Notice],
    reviews: list[ReviewStatus],
    actions: list[ActionView],
    receipts: list[ReceiptRecord] = (),  # type: ignore[assignment]
) -> WeeklyReport:
    start, end = parse_week(week)
    as_of = min(now, end)
    report = WeeklyReport(week, start, end, as_of, reviewer)
    for cid, doc in sorted(state.contracts.items()):
        c = doc.contract
        for term in c.terms:
            if not isinstance(term, LivingAttestationTerm):
                continue
            if reviewer is not None and term.reviewer != reviewer:
                continue
            term_runs = [r for r in (runs or {}).get((cid, term.id), []) if start <= r.time < end]
            rates = list(term_runs[-1].details) if term_runs else []
            vios = [
                v
                for v in violations or []
                if v.contract == cid and v.opened_at < end and v.last_at >= start
            ]
            week_notices = [
                n for n in notices if n.contract == cid and (start <= n.time < end or n.pending)
            ]
            overdue = [
                f"{r.kind} of {cid} overdue since {iso(r.due)}"
                for r in reviews
                if r.contract == cid and r.state == "overdue"
            ]
            overdue += [
                f"notice {n.id} unacknowledged past its window ({', '.join(r.person for r in n.requirements if r.state == 'overdue')})"
                for n in notices
                if n.contract == cid and n.state == "overdue"
            ]
            overdue += [
                f"action {a.id} ({a.owner}) overdue since {iso(a.due)}"
                for a in actions
                if a.seam == cid and a.overdue
            ]
            person = state.people.get(term.reviewer)
            receipt = next(
                (
                    r
                    for r in receipts
                    if r.week == week
                    and r.term == term.id
                    and r.contract == cid
                    and r.person == term.reviewer
                ),
                None,
            )
            report.sections.append(
                TermSection(
                    cid,
                    c.title,
                    term,
                    term.reviewer,
                    person.name if person else term.reviewer,
                    term_runs,
                    rates,
                    vios,
                    week_notices,
                    overdue,
                    receipt,
                    runs is not None,
                )
            )
    return report


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _statement(term: LivingAttestationTerm, assertion: str) -> str:
    return next((a.statement for a in term.assertions if a.id == assertion), "")


_md = safe_text.markdown
# What may go in a code span as is: ids and the commands built from them (no backtick,
# pipe, bracket or control character).
_CODE_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:#/+=-]*")


def _code(text: str) -> str:
    """An id or command as a code span; anything else is escaped text."""
    return f"`{text}`" if _CODE_SAFE.fullmatch(text) else _md(text)


def render_weekly_md(report: WeeklyReport) -> str:
    lines = [f"# Weekly living-attestation summary, {report.week}", ""]
    lines.append(f"Period {iso(report.start)} to {iso(report.end)}, as of {iso(report.as_of)}.")
    if not report.sections:
        lines += ["", "No living compliance attestations for this reviewer."]
    for s in report.sections:
        lines += [
            "",
            f"## {_md(s.contract_title)}: {_md(s.term.title or s.term.id)}",
            "",
            f"To: {_md(s.reviewer_name)} ({_md(s.reviewer)}), the named compliance reviewer.  ",
            f"Contract {_code(s.contract)}, term {_code(s.term.id)}; minimum pass rate {_pct(s.term.min_pass_rate)} over {s.term.window}.",
            "",
        ]
        if not s.evidence_available:
            lines.append("Assertion results: evidence is not available in this build.")
        elif not s.runs:
            lines.append(
                "Assertion results: **no evaluation runs this week** (no data is a violation)."
            )
        else:
            statuses = _md(", ".join(f"{r.status}" for r in s.runs))
            lines.append(f"{len(s.runs)} evaluation run(s) this week: {statuses}.")
            lines += [
                "",
                "| assertion | statement | runs | passed | pass rate | status |",
                "|---|---|---:|---:|---:|---|",
            ]
            for r in s.rates:
                lines.append(
                    f"| {_code(r.assertion)} | {_md(_statement(s.term, r.assertion))} | {r.runs} | {r.passed} | {_pct(r.pass_rate)} | {_md(r.status)} |"
                )
        lines += ["", "### Violations"]
        lines += [
            f"- {_md(v.id)}: {_md(v.term)} {_md(v.status)} ({v.state}): {_md(v.reason)}"
            for v in s.violations
        ] or ["- none"]
        lines += ["", "### Change notices"]
        lines += [
            f"- {_md(n.id)} {iso(n.time)} {n.classification}, {n.state}: {_md(n.summary)}"
            for n in s.notices
        ] or ["- none"]
        lines += ["", "### Overdue"]
        lines += [f"- {_md(o)}" for o in s.overdue] or ["- nothing overdue"]
        lines += ["", "### Receipt"]
        if s.receipt:
            lines.append(
                f"Received by {_md(s.receipt.person)} at {iso(s.receipt.received)} ({_md(s.receipt.signature)})."
            )
        else:
            lines.append(
                f"Not yet received. {_md(s.reviewer)}: "
                + _code(
                    f"workbench report weekly --week {report.week} --reviewer {s.reviewer} --receive"
                )
            )
    return "\n".join(lines) + "\n"


# The page may not run scripts, load anything, or be framed; only its own inline style.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def md_to_html(markdown: str, title: str) -> str:
    """A small, safe rendering of the report Markdown (the subset the renderers above
    write): every text run is HTML-escaped, backslash escapes are honoured, and no HTML
    from the Markdown source is passed through."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>{_text(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}</style>",
        "</head><body>",
    ]
    in_list = in_table = False
    for line in markdown.splitlines():
        if in_list and not line.startswith("- "):
            out.append("</ul>")
            in_list = False
        if in_table and not line.startswith("|"):
            out.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")), 6)
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(line[2:])}</li>")
        elif line.startswith("|"):
            cells = [c.strip() for c in _cells(line.strip())]
            if all(set(c) <= set("-:") for c in cells):
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells) + "</tr>")
        elif line.strip():
            out.append(f"<p>{_inline(line.strip())}</p>")
    if in_list:
        out.append("</ul>")
    if in_table:
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _text(text: str) -> str:
    return html.escape(safe_text.terminal(text))


def _cells(row: str) -> list[str]:
    """The cells of a `| a | b |` row; an escaped pipe (``\\|``) stays in its cell."""
    cells, current, i = [], [], 0
    while i < len(row):
        ch = row[i]
        if ch == "\\" and i + 1 < len(row):
            current.append(row[i : i + 2])
            i += 2
            continue
        if ch == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current))
    return cells[1:-1]


_ASCII_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _inline(text: str) -> str:
    """Inline Markdown to HTML: ``\\X`` (X punctuation) is the literal X, `code` and
    **strong** are the only markup; everything else is escaped text."""
    out: list[str] = []
    plain: list[str] = []
    i, n = 0, len(text.rstrip())

    def flush() -> None:
        if plain:
            out.append(_text("".join(plain)))
            plain.clear()

    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in _ASCII_PUNCTUATION:
            plain.append(text[i + 1])
            i += 2
        elif ch == "`" and (end := text.find("`", i + 1)) != -1:
            flush()
            out.append(f"<code>{_text(text[i + 1 : end])}</code>")
            i = end + 1
        elif text.startswith("**", i) and (end := text.find("**", i + 2)) > i + 2:
            flush()
            out.append(f"<strong>{_inline(text[i + 2 : end])}</strong>")
            i = end + 2
        else:
            plain.append(ch)
            i += 1
    flush()
    return "".join(out)


def report_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- quarterly boundary review -------------------------------------------------------------


@dataclass
class PairSection:
    provider: str
    consumer: str
    seams: list[str]
    violations: list[ViolationEntry] = field(default_factory=list)
    late_acks: list[str] = field(default_factory=list)
    actions: list[ActionView] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.violations or self.late_acks or self.actions or self.diagnostics)


@dataclass
class BoundaryReport:
    quarter: str
    start: datetime
    end: datetime
    pairs: list[PairSection]

    def to_json(self) -> dict[str, object]:
        return {
            "quarter": self.quarter,
            "start": iso(self.start),
            "end": iso(self.end),
            "pairs": [
                {
                    "provider": p.provider,
                    "consumer": p.consumer,
                    "seams": p.seams,
                    "violations": [v.id for v in p.violations],
                    "late_acknowledgements": p.late_acks,
                    "actions": [a.id for a in p.actions],
                    "diagnostics": p.diagnostics,
                }
                for p in self.pairs
            ],
        }


def boundary_report(
    state: GovernanceState,
    quarter: str,
    now: datetime,
    *,
    violations: list[ViolationEntry] | None,
    notices: list[Notice],
    actions: list[ActionView],
    diagnostics: Mapping[str, SeamDiagnostic],
) -> BoundaryReport:
    start, end = parse_quarter(quarter)
    pairs: dict[tuple[str, str], PairSection] = {}
    seam_pair: dict[str, tuple[str, str]] = {}
    for cid, doc in sorted(state.contracts.items()):
        key = (doc.contract.seam.provider, doc.contract.seam.consumer)
        seam_pair[cid] = key
        pairs.setdefault(key, PairSection(*key, [])).seams.append(cid)
    for v in violations or []:
        if v.contract in seam_pair and v.opened_at < end and v.last_at >= start:
            pairs[seam_pair[v.contract]].violations.append(v)
    for n in notices:
        if n.contract not in seam_pair:
            continue
        for r in n.requirements:
            if r.deadline is None or not (start <= r.deadline < end):
                continue
            if r.state == "late" and r.record is not None:
                late = r.record.acknowledged - r.deadline
                pairs[seam_pair[n.contract]].late_acks.append(
                    f"{n.id} ({safe_text.line(n.summary)}): {r.person} acknowledged {iso(r.record.acknowledged)}, {_hours(late)} after the {n.ack_window} window"
                )
            elif r.state == "overdue" and r.deadline <= now:
                pairs[seam_pair[n.contract]].late_acks.append(
                    f"{n.id} ({safe_text.line(n.summary)}): {r.person} has not acknowledged; window ended {iso(r.deadline)}; escalation {n.escalation}"
                )
    for a in actions:
        if a.seam not in seam_pair:
            continue
        relevant = a.state in ("open", "due-soon", "overdue") or (
            a.due is not None and start <= a.due < end + timedelta(days=1)
        )
        if relevant:
            pairs[seam_pair[a.seam]].actions.append(a)
    for sid, diag in diagnostics.items():
        if sid in seam_pair and diag.state == "mismatch":
            pairs[seam_pair[sid]].diagnostics += [f"{sid}: {f.message}" for f in diag.flags]
    ordered = sorted(pairs.values(), key=lambda p: (p.empty, p.provider, p.consumer))
    return BoundaryReport(quarter, start, end, ordered)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def render_boundary_md(report: BoundaryReport, state: GovernanceState) -> str:
    def lead(team: str) -> str:
        t = state.teams.get(team)
        p = state.people.get(t.lead) if t else None
        return _md(f"{p.name} ({p.id})") if p else "no lead"

    lines = [
        f"# Cross-team boundary-failure review, {report.quarter}",
        "",
        f"Period {iso(report.start)} to {iso(report.end)}. A working session, not a presentation: "
        "for each seam pair, the leads of both sides walk through what crossed the boundary "
        "in a way neither side expected.",
    ]
    for p in report.pairs:
        lines += [
            "",
            f"## {_md(p.provider)} → {_md(p.consumer)}",
            "",
            f"Leads: {lead(p.provider)} and {lead(p.consumer)}. Seams: {', '.join(_code(s) for s in p.seams)}.",
        ]
        if p.empty:
            lines += ["", "Nothing crossed this boundary this quarter."]
            continue
        lines += ["", "### Violations"]
        lines += [
            f"- {_md(v.id)}: {_code(v.contract)} {_md(v.term)} {_md(v.status)} ({v.state}), opened {iso(v.opened_at)}: {_md(v.reason)}"
            for v in p.violations
        ] or ["- none"]
        lines += ["", "### Late acknowledgements"]
        lines += [f"- {_md(x)}" for x in p.late_acks] or ["- none"]
        lines += ["", "### Action items"]
        lines += [
            f"- {_md(a.id)} \\[{a.state}\\] {_md(a.title)}; owner {_md(a.owner_name)} ({_md(a.owner)}), due {iso(a.due) or '—'}"
            + (f"; {_md(a.closure)}" if a.closure else "")
            for a in p.actions
        ] or ["- none"]
        if p.diagnostics:
            lines += ["", "### Diagnostic disagreements"]
            lines += [f"- {_md(d)}" for d in p.diagnostics]
    return "\n".join(lines) + "\n"
