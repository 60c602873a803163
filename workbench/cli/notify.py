"""Clocks that act: `notify`, `page`, `clocks` (docs/notify.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.cli.core import workbench_for
from workbench.cli.output import emit_json, line, table

CLOCK_ACTS = ("list", "start", "stop", "kinds")
PAGE_ACTS = ("list", "ack")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from workbench.cli.signing import _signer_args

    p = sub.add_parser(
        "notify",
        help="deliver every page, escalation, notice, summary and reminder that is due",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="only list what is due and where it would go; send and record nothing",
    )
    p.add_argument("--json", action="store_true")
    _signer_args(p)
    p.set_defaults(func=cmd_notify, writes=lambda a: not a.dry_run)

    p = sub.add_parser("page", help="pages that left the machine; `page ack` acknowledges one")
    p.add_argument("what", nargs="?", choices=PAGE_ACTS, default="list")
    p.add_argument("violation", nargs="?", help="ack: the violation id (or a unique prefix)")
    p.add_argument("--note", default="", help="ack: what you are doing about it")
    p.add_argument("--json", action="store_true")
    _signer_args(p)
    p.set_defaults(func=cmd_page, writes=lambda a: a.what == "ack")

    p = sub.add_parser(
        "clocks", help="regulatory clocks on seams: list, start from an incident, stop"
    )
    p.add_argument("what", nargs="?", choices=CLOCK_ACTS, default="list")
    p.add_argument("ref", nargs="?", help="start: the clock kind; stop: the clock id")
    p.add_argument("--seam", metavar="ID", help="start: the contract the clock runs on")
    p.add_argument(
        "--at",
        metavar="TIME",
        help="start: when the event happened or became known (ISO-8601, default: now)",
    )
    p.add_argument("--note", default="", help="start: what happened; stop: what was done")
    p.add_argument("--withdrawn", action="store_true", help="stop: the clock was started in error")
    p.add_argument("--all", action="store_true", help="list: stopped clocks too")
    p.add_argument("--json", action="store_true")
    _signer_args(p)
    p.set_defaults(func=cmd_clocks, writes=lambda a: a.what in ("start", "stop"))


def _with_signer(wb: Any, args: argparse.Namespace, fn: Any) -> Any:
    from workbench.cli.obligations import _with_prompt

    # The obligations session knows whether acts are signed and whose key signs them.
    return _with_prompt(wb.obligations, args, fn)


# -- notify -----------------------------------------------------------------------------------


def cmd_notify(args: argparse.Namespace) -> int:
    wb = workbench_for(args)
    svc = wb.notify
    if args.dry_run:
        report = svc.run(dry_run=True)
    else:
        report = _with_signer(wb, args, lambda signer: svc.run(signer=signer))
    if args.json:
        emit_json(report.to_json())
        return 0 if report.ok else 1
    for text in report.read_back:
        print(f"read back  {line(text)}")
    pending = [d for d in report.due if d.status not in ("done", "delivered", "failed")]
    if report.dry_run:
        rows = [
            [d.status, d.event.kind, d.event.route, d.event.recipient or "—", d.event.subject]
            for d in report.due
            if d.status != "done"
        ]
        if rows:
            print(table(rows, ["STATUS", "KIND", "CHANNEL", "TO", "WHAT"]))
        print(f"dry run: {len(rows)} delivery(ies) due; nothing sent or recorded")
    else:
        for s in report.sent:
            mark = "SENT  " if s.answer.ok else "FAILED"
            print(
                f"{mark} {s.event.kind:<14} {line(s.event.route)} -> "
                f"{line(s.event.recipient or s.event.target or '—')}: {line(s.answer.detail)}"
            )
        for d in pending:
            if d.status == "waiting":
                print(
                    f"WAIT   {d.event.kind:<14} {line(d.event.route)}: attempt {d.attempts + 1} "
                    f"not before {d.next_at:%Y-%m-%dT%H:%M:%SZ} (last: {line(d.last_answer)})"
                )
            elif d.status == "unroutable":
                print(f"NOROUTE {d.event.kind:<13} {line(d.event.key)}: {line(d.reason)}")
        delivered = sum(s.answer.ok for s in report.sent)
        print(
            f"{delivered} delivered, {len(report.failed)} failed (retried on a later run), "
            f"{len(report.waiting)} waiting for their backoff, {len(report.unroutable)} "
            "without a route"
        )
    for note in report.notes:
        print(f"note: {line(note)}", file=sys.stderr)
    return 0 if report.ok else 1


# -- page -------------------------------------------------------------------------------------


def cmd_page(args: argparse.Namespace) -> int:
    from workbench.service.errors import WorkbenchError

    wb = workbench_for(args)
    svc = wb.notify
    if args.what == "ack":
        if not args.violation:
            raise WorkbenchError("page ack needs the violation id: `workbench page ack v-...`")
        ack, written = _with_signer(
            wb, args, lambda signer: svc.acknowledge(args.violation, args.note, signer=signer)
        )
        view = next((p for p in svc.page_verdicts().pages if p.violation == ack.violation), None)
        if args.json:
            emit_json(
                {
                    "path": written.path,
                    "commit": written.commit,
                    "signed": written.signed,
                    "page": view.to_json(wb.now) if view else None,
                }
            )
            return 0
        print(f"acknowledged {ack.violation} in {written.path} ({line(written.note)})")
        if view is not None:
            print(line(view.describe(wb.now)))
        print(f"commit {written.commit[:8]}")
        return 0
    pages = svc.page_verdicts().pages
    if args.violation:
        pages = [p for p in pages if p.violation.startswith(args.violation)]
    if args.json:
        emit_json([p.to_json(wb.now) for p in pages])
        return 1 if any(p.missed for p in pages) else 0
    if not pages:
        print("no page has left the machine yet (`workbench notify` sends them)")
        return 0
    rows = []
    for p in pages:
        tta = p.time_to_ack
        rows.append(
            [
                p.violation,
                p.contract,
                ", ".join(dict.fromkeys(s.recipient for s in p.paged)),
                f"{p.paged_at:%Y-%m-%d %H:%MZ}",
                p.state,
                "—" if tta is None else _minutes(tta.total_seconds()),
                p.sla_text,
                p.ack.acknowledged_by if p.ack else "—",
            ]
        )
    print(table(rows, ["VIOLATION", "CONTRACT", "PAGED", "AT", "STATE", "TO ACK", "SLA", "BY"]))
    return 1 if any(p.missed for p in pages) else 0


def _minutes(seconds: float) -> str:
    from datetime import timedelta

    from workbench.governance.timing import human_delta

    return human_delta(timedelta(seconds=seconds))


# -- clocks -----------------------------------------------------------------------------------


def cmd_clocks(args: argparse.Namespace) -> int:
    from workbench.service.clocks import ClockError

    wb = workbench_for(args)
    svc = wb.clocks
    if args.what == "kinds":
        kinds = svc.kinds(args.seam)
        if args.json:
            emit_json({k: d.model_dump(mode="json") for k, d in sorted(kinds.items())})
            return 0
        rows = [
            [k, d.duration.text, d.owner, d.title, d.source or "declared here"]
            for k, d in sorted(kinds.items())
        ]
        print(table(rows, ["KIND", "DURATION", "OWNER", "TITLE", "SOURCE"]))
        return 0
    if args.what == "start":
        if not args.ref or not args.seam:
            raise ClockError(
                "usage: workbench clocks start KIND --seam CONTRACT --at TIME --note TEXT"
            )
        from workbench.cli.main import parse_now

        at = parse_now(args.at) if args.at else wb.record_time()
        assert at is not None
        clock, written = _with_signer(
            wb, args, lambda signer: svc.start(args.ref, args.seam, at, args.note, signer=signer)
        )
        return _acted(wb, clock, written, args, "started")
    if args.what == "stop":
        if not args.ref:
            raise ClockError("usage: workbench clocks stop CLOCK --note TEXT [--withdrawn]")
        clock, written = _with_signer(
            wb,
            args,
            lambda signer: svc.stop(args.ref, args.note, withdrawn=args.withdrawn, signer=signer),
        )
        return _acted(wb, clock, written, args, "withdrawn" if args.withdrawn else "stopped")
    clocks = svc.clocks(include_stopped=args.all, seam=args.seam)
    now = wb.now
    if args.json:
        emit_json(
            {"now": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "clocks": [c.to_json(now) for c in clocks]}
        )
        return 1 if any(c.state == "expired" for c in clocks) else 0
    if not clocks:
        print("no clock running" if not args.all else "no clock was ever started")
        return 0
    rows = [
        [
            c.id,
            c.state,
            c.seam,
            c.kind,
            f"{c.deadline:%Y-%m-%d %H:%MZ}",
            c.time_left(now),
            c.owner or "—",
            c.stops,
        ]
        for c in clocks
    ]
    print(
        table(rows, ["CLOCK", "STATE", "SEAM", "KIND", "DEADLINE", "LEFT", "OWNER", "STOPS WHEN"])
    )
    return 1 if any(c.state == "expired" for c in clocks) else 0


def _acted(wb: Any, clock: Any, written: Any, args: argparse.Namespace, verb: str) -> int:
    if args.json:
        emit_json(
            {
                "clock": clock.to_json(wb.now),
                "path": written.path,
                "commit": written.commit,
                "signed": written.signed,
            }
        )
        return 0
    print(f"clock {clock.id} {verb}: {line(clock.describe(wb.now))}")
    print(f"recorded in {written.path} ({line(written.note)}); commit {written.commit[:8]}")
    return 0
