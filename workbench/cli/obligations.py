"""Obligations over time: reviews, notices, ack, actions, diagnose, due, gate, report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from workbench.cli.core import add_root_argument, workbench_for
from workbench.cli.output import emit_json, line, table
from workbench.model import safe_text

FORMATS = ("text", "json", "junit", "sarif")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from workbench.cli.signing import _signer_args

    p = sub.add_parser("reviews", help="review and contact-check due dates: ok, due soon, overdue")
    p.add_argument("--overdue", action="store_true", help="only overdue ones")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reviews)

    p = sub.add_parser("review", help="complete (and sign) the review of a contract")
    p.add_argument("id", help="contract id")
    p.add_argument(
        "--contacts-confirmed",
        action="store_true",
        help="you also confirm each named escalation contact is still the right person",
    )
    p.add_argument("--outcome", choices=["no-change", "changes-needed"], default="no-change")
    p.add_argument("--notes", default="", help="what you looked at, what needs changing")
    p.add_argument(
        "--term",
        metavar="TERM",
        help="review this term only: the review a failing term opened (triggers_review_of)",
    )
    p.add_argument(
        "--for",
        dest="on_behalf_of",
        metavar="PERSON",
        help="as PERSON's delegate (keys/people.toml `delegate`): review in their name",
    )
    p.add_argument("--json", action="store_true")
    _signer_args(p)
    p.set_defaults(func=cmd_review, writes=True)

    p = sub.add_parser("notices", help="change notices: classification and acknowledgements")
    p.add_argument("--pending", action="store_true", help="only notices still waiting for someone")
    p.add_argument("--contract", metavar="ID", help="only this contract")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_notices)

    p = sub.add_parser("ack", help="acknowledge (and sign) a change notice")
    p.add_argument("id", help="contract id")
    p.add_argument(
        "--notice", metavar="N", help="notice number or commit id (default: your oldest pending)"
    )
    p.add_argument(
        "--coverage",
        action="store_true",
        help="as engineering lead: automated test coverage reflects the changed assertion",
    )
    p.add_argument("--note", default="")
    p.add_argument(
        "--for",
        dest="on_behalf_of",
        metavar="PERSON",
        help="as PERSON's delegate (keys/people.toml `delegate`): acknowledge in their name",
    )
    p.add_argument("--json", action="store_true")
    _signer_args(p)
    p.set_defaults(func=cmd_ack, writes=True)

    p = sub.add_parser("actions", help="post-mortem action items; `actions lint` checks them")
    p.add_argument("what", nargs="?", choices=["list", "lint", "save"], default="list")
    p.add_argument("item", nargs="*", help="save: ID FILE (lint it, then commit actions/ID.toml)")
    p.add_argument("--overdue", action="store_true", help="only overdue items")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_actions, writes=lambda a: a.what == "save")

    p = sub.add_parser("diagnose", help="the six-question seam diagnostic, per side's lead")
    p.add_argument("id", help="contract id, or PROVIDER--CONSUMER for a seam without contract")
    p.add_argument("--answers", metavar="FILE", help="your answers as TOML (for scripts)")
    p.add_argument("--show", action="store_true", help="show both sides' answers and flags")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_diagnose, writes=lambda a: not a.show)

    p = sub.add_parser(
        "due", help="everything due: reviews, acknowledgements, actions, diagnostics"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_due)

    p = sub.add_parser("gate", help="the deployment gate for CI: exit 0 only if it passes")
    p.add_argument("--changed-since", metavar="REV", help="only contracts changed since REV")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE")
    add_root_argument(p)
    p.add_argument(
        "--strict",
        action="store_true",
        help="also fail when the trust root is not pinned (--root, $WORKBENCH_TRUST_ROOT, pin)",
    )
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("report", help="weekly attestation summary, quarterly boundary review")
    rsub = p.add_subparsers(dest="report", metavar="REPORT", required=True)
    w = rsub.add_parser("weekly", help="living-attestation summary for the named reviewer")
    w.add_argument("--week", help="ISO week, e.g. 2026-W48 (default: this week)")
    w.add_argument("--reviewer", metavar="ID", help="only this reviewer's attestations")
    w.add_argument("--format", choices=["md", "html", "json"], default="md")
    w.add_argument("--output", metavar="FILE")
    w.add_argument(
        "--receive",
        action="store_true",
        help="as the reviewer: sign this week's report as received",
    )
    _signer_args(w)
    w.set_defaults(func=cmd_report_weekly, writes=lambda a: a.receive)
    b = rsub.add_parser("boundary", help="agenda of the quarterly boundary-failure review")
    b.add_argument("--quarter", help="e.g. 2026-Q4 (default: this quarter)")
    b.add_argument("--format", choices=["md", "html", "json"], default="md")
    b.add_argument("--output", metavar="FILE")
    b.set_defaults(func=cmd_report_boundary)


def _svc(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return workbench_for(args).obligations


def _signer(svc, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """A signer for the acting person when the repository signs its acts, else None."""
    if not svc.records.signatures_required():
        return None
    if not getattr(args, "key", None) and not getattr(args, "agent", False):
        return None  # the service uses the actor's own key (or $WORKBENCH_KEY_PASSPHRASE)
    from workbench.cli.signing import _signer as cli_signer

    return cli_signer(svc.wb.signing, args)


T = TypeVar("T")


def _with_prompt(svc: Any, args: argparse.Namespace, fn: Callable[[Any], T]) -> T:
    """Run a signing act; ask for the passphrase on a terminal if the key needs one."""
    from workbench.service.errors import PassphraseRequired

    try:
        return fn(_signer(svc, args))
    except PassphraseRequired:
        if not sys.stdin.isatty():
            raise
        import getpass

        person = svc.wb.actor().id
        passphrase = getpass.getpass(f"passphrase for {person}'s key: ")
        return fn(svc.wb.signing.keys.make_signer(person, passphrase=passphrase))


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


# -- reviews --------------------------------------------------------------------------------


def cmd_reviews(args: argparse.Namespace) -> int:
    svc = _svc(args)
    statuses = svc.reviews.statuses(overdue_only=args.overdue)
    if args.json:
        emit_json([s.to_json() for s in statuses])
    else:
        rows = []
        for s in statuses:
            flags = "; ".join(d.render() for d in s.departed)
            rows.append(
                [
                    s.contract,
                    f"{s.kind} {s.term}" if s.term else s.kind,
                    s.state,
                    (s.due.strftime("%Y-%m-%d %H:%M") + "Z") if s.due else "—",
                    s.when,
                    ", ".join(s.reviewers) or "nobody",
                    flags or s.basis,
                ]
            )
        print(table(rows, ["CONTRACT", "WHAT", "STATE", "DUE", "WHEN", "WHO", "BASIS / FLAGS"]))
    return 1 if any(s.state == "overdue" for s in statuses) else 0


def cmd_review(args: argparse.Namespace) -> int:
    svc = _svc(args)
    result = _with_prompt(
        svc,
        args,
        lambda signer: svc.reviews.complete(
            args.id,
            contacts_confirmed=args.contacts_confirmed,
            outcome=args.outcome,
            notes=args.notes,
            signer=signer,
            term=args.term,
            on_behalf_of=args.on_behalf_of,
        ),
    )
    if args.json:
        emit_json(result.to_json())
    else:
        print(f"review of {args.id} recorded in {result.path} ({line(result.message)})")
        print(f"commit {result.commit[:8]}")
    return 0


# -- notices --------------------------------------------------------------------------------


def cmd_notices(args: argparse.Namespace) -> int:
    svc = _svc(args)
    notices = svc.notices.statuses(pending_only=args.pending, contract=args.contract)
    if args.json:
        emit_json([n.to_json() for n in notices])
    else:
        if not notices:
            print("no change notices" + (" pending" if args.pending else ""))
        for n in notices:
            deadline = n.deadline.strftime("%Y-%m-%d %H:%MZ") if n.deadline else "—"
            print(
                f"{n.id}  {n.short}  {n.time:%Y-%m-%d %H:%M}Z  {n.classification:<10} {n.state:<17} "
                f"by {line(n.author or n.author_name)}"
            )
            print(f"    {line(n.summary)}")
            for c in n.changes:
                print(f"    · {line(c.render())}")
            if n.requirements:
                for r in n.requirements:
                    when = deadline if r.deadline else "—"
                    print(f"    → {line(r.describe())} by {when}: {r.state}")
            if n.pending:
                print(f"    do: {line(n.action)}")
            finding = n.finding()
            if finding:
                print(f"    FINDING: {line(finding)}")
    return 1 if any(n.state == "overdue" for n in notices) else 0


def cmd_ack(args: argparse.Namespace) -> int:
    svc = _svc(args)
    result = _with_prompt(
        svc,
        args,
        lambda signer: svc.notices.acknowledge(
            args.id,
            args.notice,
            coverage=args.coverage,
            note=args.note,
            signer=signer,
            on_behalf_of=args.on_behalf_of,
        ),
    )
    if args.json:
        emit_json(result.to_json())
    else:
        print(f"acknowledgement recorded in {result.path} ({line(result.message)})")
        print(f"commit {result.commit[:8]}")
    return 0


# -- actions --------------------------------------------------------------------------------


def cmd_actions(args: argparse.Namespace) -> int:
    svc = _svc(args)
    if args.what == "save":
        if len(args.item) != 2:
            from workbench.model.errors import WorkbenchError

            raise WorkbenchError("usage: workbench actions save ID FILE")
        action_id, source = args.item
        commit = svc.actions.save(action_id, Path(source).read_text(encoding="utf-8"))
        print(f"saved actions/{action_id}.toml (commit {commit[:8]})")
        return 0
    if args.what == "lint":
        problems = svc.actions.lint()
        if args.json:
            emit_json(
                {
                    "valid": not any(p.severity == "error" for p in problems),
                    "problems": [p.to_json() for p in problems],
                }
            )
        else:
            for p in problems:
                print(line(p.render()))
            count = len(svc.actions.docs())
            errors = sum(p.severity == "error" for p in problems)
            print(
                f"{count} action item(s), {errors} error(s)" + ("" if problems else ": all clear"),
                file=sys.stderr if problems else sys.stdout,
            )
        return 1 if any(p.severity == "error" for p in problems) else 0
    items = svc.actions.statuses(overdue_only=args.overdue)
    if args.json:
        emit_json([a.to_json() for a in items])
    else:
        rows = [
            [
                a.id,
                a.state + (" (follow-up due)" if a.follow_up_due else ""),
                f"{a.owner_name} ({a.owner})" if a.owner else "—",
                (a.due.strftime("%Y-%m-%d") if a.due else "no due date"),
                a.seam,
                a.title if len(a.title) <= 70 else a.title[:67] + "…",
                f"{len([p for p in a.problems if p.severity == 'error'])} lint error(s)"
                if a.problems
                else "",
            ]
            for a in items
        ]
        print(table(rows, ["ID", "STATE", "OWNER", "DUE", "SEAM", "TITLE", "LINT"]))
    return 1 if any(a.overdue for a in items) else 0


# -- diagnostic -----------------------------------------------------------------------------


def _print_diagnostic(d) -> None:  # type: ignore[no-untyped-def]
    print(f"{line(d.seam)}: {d.state}")
    print(line(f"  provider lead {d.provider_lead or '—'}, consumer lead {d.consumer_lead or '—'}"))
    if d.waiting_for:
        print(f"  waiting for: {line(', '.join(d.waiting_for))}")
    rows = [[str(n), key, a, b] for n, key, _prompt, a, b in d.side_by_side()]
    print(table(rows, ["Q", "QUESTION", "PROVIDER", "CONSUMER"]))
    for f in d.flags:
        print(f"  FLAG (question {f.question}): {line(f.message)}")
    for n in d.notes:
        print(f"  note: {line(n)}")
    for p in d.problems:
        print(f"  problem: {line(p)}")


def _interview(svc, seam: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    print(f"Seam diagnostic for {seam}. Answer for your side only; the other lead answers apart.")
    answers: dict[str, str] = {}
    last = 0
    for q in svc.diagnostics.questions():
        if q.number != last:
            print(f"\n{q.number}.")
            last = q.number
        hint = f" [{'/'.join(q.choices)}]" if q.choices else (f" ({q.help})" if q.help else "")
        while True:
            value = input(f"  {q.prompt}{hint}: ").strip()
            if not value:
                print("  an answer is needed ('unknown' is an answer)")
                continue
            if q.choices and value not in q.choices:
                print(f"  one of: {', '.join(q.choices)}")
                continue
            answers[q.key] = value
            break
    return answers


def cmd_diagnose(args: argparse.Namespace) -> int:
    import tomllib

    svc = _svc(args)
    if args.answers:
        data = tomllib.loads(Path(args.answers).read_text(encoding="utf-8"))
        answers = data.get("answers", data)
        svc.diagnostics.answer(args.id, answers)
        print(f"answers stored for {args.id}", file=sys.stderr)
    elif not args.show and not args.json and sys.stdin.isatty():
        svc.diagnostics.answer(args.id, _interview(svc, args.id))
        print(f"answers stored for {args.id}", file=sys.stderr)
    d = svc.diagnostics.get(args.id)
    if args.json:
        emit_json(d.to_json())
    else:
        _print_diagnostic(d)
    return 1 if d.state == "mismatch" else 0


# -- due ------------------------------------------------------------------------------------


def cmd_due(args: argparse.Namespace) -> int:
    svc = _svc(args)
    items = svc.due()
    if args.json:
        emit_json([i.to_json() for i in items])
    else:
        rows = [
            [
                i.state,
                i.kind,
                i.ref if i.ref != i.kind else i.contract,
                ", ".join(i.people) or "—",
                i.due.strftime("%Y-%m-%d %H:%MZ") if i.due else "—",
                i.command,
            ]
            for i in items
        ]
        print(table(rows, ["STATE", "WHAT", "REF", "WHO", "DUE", "DO"]) if rows else "nothing due")
    return 1 if any(i.state in ("overdue", "lint") for i in items) else 0


# -- gate -----------------------------------------------------------------------------------


def cmd_gate(args: argparse.Namespace) -> int:
    from workbench.cli.core import workbench_for

    # The gate judges committed records only: a review or an evaluation a killed command
    # left in the working tree does not count (docs/obligations.md, "The gate").
    wb = workbench_for(args, committed=True)
    gate = wb.obligations.gate
    result = gate.evaluate(args.changed_since, strict=args.strict)
    _write(gate.render(result, args.format), args.output)
    pending = wb.uncommitted()
    if pending:
        from workbench.model.safe_text import line

        shown = ", ".join(line(p) for p in pending[:5])
        more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        print(
            f"note: the gate judges committed records only; the working tree differs from "
            f"HEAD in {len(pending)} governance file(s), not counted: {shown}{more}. "
            "Commit them (or discard them) to make the gate see what you see.",
            file=sys.stderr,
        )
    if args.output or args.format != "text":
        from workbench.model.safe_text import line as one_line

        for text in result.ignored:  # loud in every format: workbench.toml asked for less
            print(f"IGNORED  {one_line(text)}", file=sys.stderr)
        verdict = "passed" if result.passed else "FAILED"
        print(f"gate {verdict}: {len(result.failures)} blocking failure(s)", file=sys.stderr)
        if result.shows_trust and result.trust_outcome != "pass":
            print(f"{result.trust_outcome.upper()}: {result.trust_message}", file=sys.stderr)
        if result.merge is not None:
            print(f"FAIL: {one_line(result.merge.message)}", file=sys.stderr)
    return 0 if result.passed else 1


# -- reports --------------------------------------------------------------------------------


def cmd_report_weekly(args: argparse.Namespace) -> int:
    svc = _svc(args)
    if args.receive:
        if args.reviewer:
            args.actor = args.reviewer
            svc = _svc(args)
        results = _with_prompt(
            svc,
            args,
            lambda signer: svc.reports.receive_weekly(args.week or svc.reports.this_week(), signer),
        )
        for r in results:
            print(f"received: {r.path} ({line(r.message)})")
        return 0
    report = svc.reports.weekly(args.week, args.reviewer)
    if args.format == "json":
        text = safe_text.json_dumps(report.to_json(), indent=2) + "\n"
    else:
        text = svc.reports.render_weekly(report, args.format)
    _write(text, args.output)
    return 0


def cmd_report_boundary(args: argparse.Namespace) -> int:
    svc = _svc(args)
    report = svc.reports.boundary(args.quarter)
    if args.format == "json":
        text = safe_text.json_dumps(report.to_json(), indent=2) + "\n"
    else:
        text = svc.reports.render_boundary(report, args.format)
    _write(text, args.output)
    return 0
