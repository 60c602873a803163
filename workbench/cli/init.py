"""`workbench init`: a new governance repo, ready for the first co-signature.

With two teams (`--team` twice, each with its `--lead`): the people, a key per lead, the
key registry v1 signed by both, the trust root pinned and the clone acting as the first
lead. Asked interactively on a terminal when no `--team` is given; without a terminal and
without `--team`, the one-person example repo of earlier versions.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def add_init_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "init",
        help="create a new governance repo: two teams, their leads, keys and the registry",
    )
    p.add_argument("dir", help="directory to create (must be new or empty)")
    p.add_argument("--org", default="Example Org", help="organisation name")
    p.add_argument("--domain", default="example.org", help="signing namespace domain")
    p.add_argument("--team", action="append", default=[], metavar="ID", help="a team id (give two)")
    p.add_argument(
        "--team-name", action="append", default=[], metavar="NAME", help="its name, in order"
    )
    p.add_argument(
        "--lead", action="append", default=[], metavar="PERSON", help="its lead's id, in order"
    )
    p.add_argument(
        "--lead-name", action="append", default=[], metavar="NAME", help="the lead's full name"
    )
    p.add_argument(
        "--lead-email",
        action="append",
        default=[],
        metavar="EMAIL",
        help="the lead's email (default: PERSON@DOMAIN)",
    )
    p.add_argument(
        "--pubkey",
        action="append",
        default=[],
        metavar="PERSON=FILE",
        help="register this lead's existing public key instead of making one; registry v1 "
        "then waits for their `workbench registry sign`",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--passphrase-file", metavar="FILE", help="passphrase for the new keys (one line)"
    )
    group.add_argument(
        "--no-passphrase", action="store_true", help="leave the new keys unencrypted"
    )
    # The one-person example repo of earlier versions (kept for scripts that use it).
    p.add_argument("--person", help=argparse.SUPPRESS)
    p.add_argument("--name", help=argparse.SUPPRESS)
    p.add_argument("--email", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_init, writes=True)


def _ask(prompt: str, default: str | None = None) -> str:
    shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
    while True:
        answer = input(shown).strip() or (default or "")
        if answer:
            return answer


def _interactive(args: argparse.Namespace) -> None:
    print("Two teams that exchange something, and the lead of each (they co-sign).")
    if args.org == "Example Org":
        args.org = _ask("organisation", "Example Org")
    if args.domain == "example.org":
        args.domain = _ask("email domain", "example.org")
    for n, (team, lead) in enumerate([("data", "data.lead"), ("model", "model.lead")], 1):
        args.team.append(_ask(f"team {n} id", team))
        args.team_name.append(_ask(f"team {n} name", args.team[-1].title()))
        args.lead.append(_ask(f"team {n} lead's id", lead))
        args.lead_name.append(_ask(f"team {n} lead's full name"))
        args.lead_email.append(_ask(f"team {n} lead's email", f"{args.lead[-1]}@{args.domain}"))


def _leads(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from workbench.service.errors import WorkbenchError
    from workbench.service.setup import LeadSpec

    teams, leads = args.team, args.lead
    if len(teams) != 2 or len(leads) != 2:
        raise WorkbenchError(
            "init needs two teams and their leads: --team ID --lead PERSON, twice "
            "(e.g. --team data --lead ada --team model --lead alan)"
        )
    for option, values in (
        ("--team-name", args.team_name),
        ("--lead-name", args.lead_name),
        ("--lead-email", args.lead_email),
    ):
        if values and len(values) != 2:
            raise WorkbenchError(f"{option}: give it for both teams (twice) or not at all")
    return [
        LeadSpec(
            team=teams[i],
            team_name=args.team_name[i] if args.team_name else teams[i].replace("-", " ").title(),
            person=leads[i],
            name=args.lead_name[i] if args.lead_name else leads[i],
            email=args.lead_email[i] if args.lead_email else f"{leads[i]}@{args.domain}",
        )
        for i in range(2)
    ]


def _passphrases(args: argparse.Namespace, people: list[str]) -> dict[str, str | None]:
    from workbench.service.errors import WorkbenchError

    if args.no_passphrase or not people:
        return {}
    if args.passphrase_file:
        phrase = Path(args.passphrase_file).read_text(encoding="utf-8").rstrip("\n")
        return {p: phrase or None for p in people}
    if not sys.stdin.isatty():
        raise WorkbenchError(
            "no terminal to ask for the new keys' passphrases: pass --passphrase-file FILE "
            "or --no-passphrase"
        )
    out: dict[str, str | None] = {}
    for person in people:
        phrase = getpass.getpass(f"passphrase for {person}'s new key (empty for none): ")
        if phrase and getpass.getpass("again: ") != phrase:
            raise WorkbenchError("the passphrases differ; nothing was written")
        out[person] = phrase or None
    return out


def cmd_init(args: argparse.Namespace) -> int:
    from workbench.service.errors import WorkbenchError

    if args.person or (not args.team and not sys.stdin.isatty()):
        return _legacy_init(args)
    if not args.team:
        _interactive(args)
    leads = _leads(args)
    pubkeys: dict[str, Path] = {}
    for entry in args.pubkey:
        person, sep, file = entry.partition("=")
        if not sep:
            raise WorkbenchError(f"--pubkey {entry!r}: expected PERSON=FILE.pub")
        pubkeys[person] = Path(file)
    from workbench.service.setup import start_repo

    made = [lead.person for lead in leads if lead.person not in pubkeys]
    result = start_repo(
        Path(args.dir),
        org=args.org,
        domain=args.domain,
        leads=leads,
        passphrases=_passphrases(args, made),
        pubkeys=pubkeys,
        now=args.now,
    )
    print(f"created governance repo in {result.root}")
    for lead in leads:
        print(f"  team {lead.team} ({lead.team_name}), led by {lead.person} <{lead.email}>")
    for person, path in result.keys.items():
        print(f"  key for {person}: {path} (and .pub; never in the repo)")
    if result.root_sha256:
        print("  key registry v1 signed by both leads; evaluation runners: both leads")
        print(
            f"  trust root (pinned for this clone; keep a copy outside the repo): {result.root_sha256}"
        )
    else:
        waiting = ", ".join(result.waiting_for)
        print(f"  key registry v1 waits for: {waiting} (`workbench --as PERSON registry sign`)")
    print(f"  this clone acts as {leads[0].person} (git config user.email {leads[0].email})")
    print(
        f"next: cd {args.dir} && workbench contract new {leads[0].team}-to-{leads[1].team} "
        f"--template data-model --provider {leads[0].team} --consumer {leads[1].team}"
    )
    return 0


def _legacy_init(args: argparse.Namespace) -> int:
    from workbench.service.init import init_repo

    target = init_repo(
        Path(args.dir),
        org=args.org,
        domain=args.domain,
        person=args.person or "data.lead",
        name=args.name or "Example Data Lead",
        email=args.email,
        now=args.now,
    )
    print(f"created governance repo in {target}")
    print(f"next: cd {target} && workbench validate && workbench status")
    return 0
