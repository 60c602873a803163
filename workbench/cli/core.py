"""Core commands: init, validate, status, show, log, diff, demo, and the TUI launcher."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.cli.output import emit_json, line, table

if TYPE_CHECKING:
    from workbench.governance.seams import SeamView
    from workbench.model.state import GovernanceState
    from workbench.service.results import TrustRoot, Workbench

DEMO_ACTOR = "dana.okafor"


def workbench_for(args: argparse.Namespace, **options: bool) -> Workbench:
    """The service for the repo named by --repo, or the one containing the current directory.

    `options`: further Workbench switches (the gate asks for `committed=True`)."""
    from workbench.service.core import Workbench
    from workbench.service.errors import WorkbenchError
    from workbench.service.identity import unknown_requested_person
    from workbench.service.root import find_root

    root = find_root(Path(args.repo) if args.repo else Path.cwd())
    warn_unfinished_demo(root)
    problem = unknown_requested_person(root, args.actor)
    if problem is not None:
        raise WorkbenchError(problem)
    return Workbench(
        root,
        now=args.now,
        readonly=args.readonly,
        actor=args.actor,
        hold_worktree=True,
        what_if=args.now is not None,
        trust_root=getattr(args, "root", None),
        registry_seen=getattr(args, "registry_seen", None),
        **options,
    )


def add_root_argument(p: argparse.ArgumentParser) -> None:
    """`--root SHA256`: the registry v1 digest, obtained out of band (docs/signing.md)."""
    p.add_argument(
        "--root",
        metavar="SHA256",
        help="trusted sha256 of registry v1, from outside the repository "
        "(default: $WORKBENCH_TRUST_ROOT, then the clone's pin)",
    )
    p.add_argument(
        "--registry-seen",
        metavar="vN:SHA256",
        help="a registry version known complete and its statement's sha256 (`workbench "
        "registry head`), from outside the repository: a history without it is a rollback "
        "(default: $WORKBENCH_REGISTRY_SEEN, then the clone's pin)",
    )


def warn_unfinished_demo(root: Path) -> None:
    """A demo whose build was interrupted looks complete but is not: say so."""
    from workbench.service.root import unfinished_demo_warning

    warning = unfinished_demo_warning(root)
    if warning is not None:
        print(warning, file=sys.stderr)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from workbench.cli.init import add_init_parser

    add_init_parser(sub)

    p = sub.add_parser(
        "validate", help="check every file: syntax, schema, named owners, references"
    )
    p.add_argument(
        "--rev", default="WORKTREE", help="revision to check (default: the working tree)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("status", help="one line per seam: owner, parties, kind, problems")
    p.add_argument("--json", action="store_true")
    add_root_argument(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("show", help="show one contract: parties, owner, terms, escalation")
    p.add_argument("id")
    p.add_argument("--rev", default="WORKTREE")
    p.add_argument("--raw", action="store_true", help="print the TOML as stored")
    p.add_argument("--json", action="store_true")
    add_root_argument(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("log", help="commits that changed a contract")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_log)

    p = sub.add_parser("diff", help="diff of a contract between two revisions, with a term summary")
    p.add_argument("id")
    p.add_argument("rev1", nargs="?", default=None, help="old revision (default HEAD)")
    p.add_argument("rev2", nargs="?", default=None, help="new revision (default: working tree)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("demo", help="build the demo governance repo and open it")
    p.add_argument("dir", nargs="?", help="where to build it (default: a new temporary directory)")
    p.add_argument("--no-tui", action="store_true", help="build it and print its status")
    p.add_argument("--force", action="store_true", help="rebuild over an existing demo repo")
    p.set_defaults(func=cmd_demo)


def cmd_validate(args: argparse.Namespace) -> int:
    wb = workbench_for(args)
    state = wb.state(args.rev)
    if args.json:
        emit_json(
            {
                "valid": not state.errors,
                "errors": len(state.errors),
                "warnings": len(state.warnings),
                "contracts": len(state.contracts),
                "problems": [p.to_json() for p in state.problems],
            }
        )
    else:
        for problem in state.problems:
            print(line(problem.render()))
        summary = f"{len(state.contracts)} contract(s), {len(state.errors)} error(s), {len(state.warnings)} warning(s)"
        print(
            summary if state.problems else f"{summary}: all valid",
            file=sys.stderr if state.problems else sys.stdout,
        )
    return 1 if state.errors else 0


def seam_views_for(wb: Workbench) -> tuple[GovernanceState, list[SeamView]]:
    state = wb.state()
    return state, wb.seam_map(state=state)


def signature_trust(wb: Workbench) -> TrustRoot | None:
    """The registry's problems and its trust root at HEAD (None without a registry)."""
    from workbench.service.errors import SettingsInvalid

    if wb.git.is_empty:
        return None
    try:
        trust = wb.signing.verdict_set().trust
    except SettingsInvalid:
        return None  # e.g. workbench.toml does not validate: the table already says so
    return trust if trust.root_sha256 or trust.problems else None


def cmd_status(args: argparse.Namespace) -> int:
    wb = workbench_for(args)
    state, views = seam_views_for(wb)
    trust = signature_trust(wb)
    # A file every seam depends on that does not validate is named once, by line: one bad
    # entry in keys/people.toml otherwise shows only as "not a person" in every row.
    shared = [
        p
        for path in ("workbench.toml", "keys/people.toml")
        for p in state.problems_for(path)
        if p.severity == "error"
    ]
    if args.json:
        emit_json([v.to_json() for v in views])
    else:
        rows = []
        for v in views:
            problems = "; ".join(v.problems[:2]) + (" …" if len(v.problems) > 2 else "")
            if v.departed:
                problems = "; ".join(filter(None, [f"departed: {', '.join(v.departed)}", problems]))
            marks = " ".join(f"{k}:{m}" for k, m in v.marks.items())
            rows.append(
                [
                    v.id,
                    v.kind,
                    f"{v.provider} → {v.consumer}",
                    v.owner or "—",
                    f"{v.provider_lead or '—'} / {v.consumer_lead or '—'}",
                    v.state,
                    " ".join(filter(None, [marks, problems])) or "ok",
                ]
            )
        print(table(rows, ["SEAM", "KIND", "TEAMS", "OWNER", "PARTIES", "STATE", "PROBLEMS"]))
        for problem in shared:
            print(f"FILE PROBLEM: {problem.render()}")
        for text in trust.problems if trust else ():
            print(f"REGISTRY PROBLEM: {text}")
        if trust is not None and trust.warning:
            print(f"warning: {trust.warning}", file=sys.stderr)
    from workbench.cli.sync import print_repo_state

    unfinished = print_repo_state(wb, to_stderr=args.json)
    broken = trust is not None and bool(trust.problems)
    failing = broken or unfinished or bool(shared)
    return 1 if failing or any(v.state != "governed" for v in views) else 0


def cmd_show(args: argparse.Namespace) -> int:
    wb = workbench_for(args)
    if args.raw:
        sys.stdout.write(wb.contract_text(args.id, args.rev))
        return 0
    doc = wb.contract(args.id, args.rev)
    c = doc.contract
    state = wb.state(args.rev)
    if args.json:
        emit_json(c.model_dump(mode="json"))
        return 0
    from workbench.model.describe import describe_term

    def who(pid: str) -> str:
        person = state.people.get(pid)
        if person is None:
            return f"{line(pid)} (unknown)"
        left = (
            f", LEFT {person.left}" + (f" → {person.replaced_by}" if person.replaced_by else "")
            if person.has_left(wb.now.date())
            else ""
        )
        return line(f"{person.name} ({pid}, {person.role or person.team}{left})")

    review = c.review
    # The windows in force: the contract's own or the default, at most the signed limit.
    cadence = state.policy.window("review_cadence", review.cadence)
    window = state.policy.window("ack_window", c.change_protocol.ack_window)
    lines = [
        f"{line(c.title)}  [{c.id}]",
        f"  status       {c.status.value}" + (f", adopted {c.adopted}" if c.adopted else ""),
        f"  seam         {c.seam.provider} → {c.seam.consumer} ({c.seam.kind.value})",
        f"  owner        {who(c.owner)}",
        f"  parties      provider lead {who(c.parties.provider_lead)}",
        f"               consumer lead {who(c.parties.consumer_lead)}",
    ]
    if c.cosigners:
        lines.append(f"  co-signers   {', '.join(who(p) for p in c.cosigners)}")
    e = c.escalation
    from workbench.governance.paging import page_test

    # With the pages that left the machine: a missed acknowledgement fails the test here too.
    page = page_test(state, c, wb.now.date(), wb.notify.pages().get(c.id), wb.now)
    lines += [
        f"  escalation   page {who(e.primary)}, backup {who(e.backup)}",
        f"               via {line(e.channel)}, acknowledge within {e.ack_sla.human()}",
        f"  page test    {page.status}: {line(page.reason)}",
        f"  changes      notify {line(', '.join(c.change_protocol.notify)) or '—'}; acknowledge within {window.human() if window else '—'}",
        f"  review       every {cadence.human() if cadence else '—'}",
        "  terms",
    ]
    for term in c.terms:
        lines.append(f"    {term.id} ({term.kind}) owner {who(term.owner)}")
        lines.append(f"      {line(describe_term(term))}")
    for ex in c.exemptions:
        lines.append(
            f"  exemption    {line(ex.term)}: {line(ex.reason)} (approved by {line(ex.approver)}, "
            f"expires {ex.expires})"
        )
    lines.append(f"  signature    {signature_line(wb, args.id, args.rev)}")
    print("\n".join(lines))
    return 0


def signature_line(wb, contract_id: str, rev: str) -> str:  # type: ignore[no-untyped-def]
    """The co-signature verdict, as `workbench verify` gives it (of HEAD for the working tree:
    signatures are always about committed bytes)."""
    from workbench.service.errors import SettingsInvalid, UnknownContract

    at = "HEAD" if rev == "WORKTREE" else rev
    if wb.git.is_empty:
        return "draft (nothing committed yet)"
    try:
        v = wb.signing.verdict(contract_id, at)
    except UnknownContract:
        return f"draft (not committed at {at.lower()})"
    except SettingsInvalid as exc:
        return f"cannot verify: {exc}"
    return f"{v.state}: {v.reason}"


def cmd_log(args: argparse.Namespace) -> int:
    wb = workbench_for(args)
    wb.contract_text(args.id, "HEAD")
    commits = wb.history(args.id)
    if args.json:
        emit_json([c.to_json() for c in commits])
        return 0
    for c in commits:
        who = line(f"{c.author_name} <{c.author_email}>")
        print(f"{c.short}  {c.time:%Y-%m-%d %H:%M}Z  {who}  {line(c.summary)}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    wb = workbench_for(args)
    d = wb.diff(args.id, args.rev1, args.rev2)
    if args.json:
        emit_json(
            {
                "contract": d.contract_id,
                "old": d.old_rev,
                "new": d.new_rev,
                "diff": d.text,
                "summary": d.comparison.lines(),
            }
        )
        return 0
    sys.stdout.write(d.text or "no textual changes\n")
    summary = d.comparison.lines()
    print(
        "\nterm-level summary:"
        if summary
        else "\nterm-level summary: no semantic change (editorial)"
    )
    for change in summary:
        print(f"  {line(change)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from workbench.demo.build import build_demo

    target = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="handshake-demo-"))
    build_demo(target, now=args.now, force=args.force)
    print(f"demo governance repo built in {target}", file=sys.stderr)
    if args.no_tui:
        args.repo = str(target)
        return cmd_status(argparse.Namespace(**{**vars(args), "json": False})) and 0
    args.repo = str(target)
    if not args.actor and not os.environ.get("WORKBENCH_PERSON"):
        # The demo is for trying things: act as the lead of its first seam, so editing and
        # signing work out of the box (her demo key needs no passphrase).
        args.actor = DEMO_ACTOR
        print(f"acting as {DEMO_ACTOR} (use --as PERSON to be someone else)", file=sys.stderr)
    return open_tui(args)


def open_tui(args: argparse.Namespace) -> int:
    from workbench.cli.output import raw_streams
    from workbench.service.process import long_process
    from workbench.tui.launch import run

    # The app is a long process: cache reads must not freeze what it drops on a reload.
    with raw_streams(), long_process():
        return run(args)
