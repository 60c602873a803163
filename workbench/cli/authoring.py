"""Authoring commands: `person add/leave`, `team add/lead`, `contract new/save`.

Each is one validated commit as the acting person (service.authoring); a change the key
registry must carry is prepared for the admins to sign.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from workbench.cli.core import workbench_for
from workbench.cli.output import emit_json, line


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date such as 2027-01-31") from None


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE")
    return name.strip(), value


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("person", help="add a person, or record that one leaves")
    psub = p.add_subparsers(dest="person_command", metavar="ACTION", required=True)
    r = psub.add_parser("add", help="add a named person to keys/people.toml")
    r.add_argument("id", help="person id: lowercase letters, digits, '.', '_', '-'")
    r.add_argument("--name", required=True, help="full name (one line)")
    r.add_argument("--email", required=True)
    r.add_argument("--team", help="team id (default: the acting person's team)")
    r.add_argument("--role", default="", help="role, e.g. 'Data engineer'")
    r.add_argument(
        "--authority",
        choices=["member", "lead", "manager", "director", "vp", "executive"],
        help="organisational authority (default member)",
    )
    r.add_argument(
        "--key",
        metavar="PUB",
        help="their public key (.pub file or 'ssh-ed25519 ...'): prepares the registry "
        "change that registers it, for the admins to sign",
    )
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_person_add, writes=True)
    r = psub.add_parser("leave", help="record the day a person leaves, and their successor")
    r.add_argument("id")
    r.add_argument("--on", required=True, type=_date, metavar="DATE", help="last day, YYYY-MM-DD")
    r.add_argument("--replaced-by", metavar="PERSON", help="who takes over what they own")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_person_leave, writes=True)

    p = sub.add_parser("team", help="add a team, or name its lead")
    tsub = p.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    r = tsub.add_parser("add", help="add a team with its named lead")
    r.add_argument("id")
    r.add_argument("--name", required=True, help="team name")
    r.add_argument("--lead", required=True, metavar="PERSON", help="the team's lead")
    r.add_argument("--description", default="")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_team_add, writes=True)
    r = tsub.add_parser("lead", help="make a member of the team its lead")
    r.add_argument("id", help="team id")
    r.add_argument("person")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_team_lead, writes=True)

    p = sub.add_parser("contract", help="create a contract from a seam template, or save one")
    csub = p.add_subparsers(dest="contract_command", metavar="ACTION", required=True)
    r = csub.add_parser(
        "new",
        help="a new contract from the article's seam tables, owners filled from the teams",
        description="Terms by template: data-model: freshness, representation, lineage "
        "(+ escalation and a 48 h change protocol); model-product: calibration and operating "
        "range, distribution shift, threshold with its change co-signer; product-compliance: "
        "living attestation with a named reviewer and a weekly summary. What only the teams "
        "know is a TODO placeholder unless given with --set; `workbench validate` lists each.",
    )
    r.add_argument("id", help="contract id (its file is contracts/ID.toml)")
    r.add_argument(
        "--template",
        required=True,
        choices=["data-model", "model-product", "product-compliance"],
        help="which seam",
    )
    r.add_argument("--provider", required=True, metavar="TEAM", help="providing team")
    r.add_argument("--consumer", required=True, metavar="TEAM", help="consuming team")
    r.add_argument("--title", help="title (default: 'PROVIDER → CONSUMER' team names)")
    r.add_argument(
        "--set",
        dest="values",
        action="append",
        type=_setting,
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter (repeat); `workbench contract params TEMPLATE` lists them",
    )
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_contract_new, writes=True)
    r = csub.add_parser("params", help="the parameters a seam template takes")
    r.add_argument("template", choices=["data-model", "model-product", "product-compliance"])
    r.set_defaults(func=cmd_contract_params)
    r = csub.add_parser("save", help="validate contracts/ID.toml and commit it")
    r.add_argument("id")
    r.add_argument("-m", "--message", help="commit message")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_contract_save, writes=True)


def _service(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return workbench_for(args).authoring


def _report(args: argparse.Namespace, result) -> int:  # type: ignore[no-untyped-def]
    errors = [p for p in result.problems if p.severity == "error"]
    if getattr(args, "json", False):
        emit_json(
            {
                "summary": result.summary,
                "commit": result.commit,
                "path": result.path,
                "notes": result.notes,
                "problems": [p.to_json() for p in result.problems],
            }
        )
        return 1 if errors else 0
    commit = f" ({result.commit[:8]})" if result.commit else ""
    print(line(result.summary) + commit)
    for problem in result.problems:
        print(line(problem.render()), file=sys.stderr if errors else sys.stdout)
    for note in result.notes:
        print(f"next: {line(note)}" if note.startswith(("edit ", "name ")) else line(note))
    return 1 if errors else 0


def cmd_person_add(args: argparse.Namespace) -> int:
    return _report(
        args,
        _service(args).add_person(
            args.id,
            name=args.name,
            email=args.email,
            team=args.team,
            role=args.role,
            authority=args.authority,
            key=args.key,
        ),
    )


def cmd_person_leave(args: argparse.Namespace) -> int:
    return _report(
        args, _service(args).person_leave(args.id, on=args.on, replaced_by=args.replaced_by)
    )


def cmd_team_add(args: argparse.Namespace) -> int:
    return _report(
        args,
        _service(args).add_team(
            args.id, name=args.name, lead=args.lead, description=args.description
        ),
    )


def cmd_team_lead(args: argparse.Namespace) -> int:
    return _report(args, _service(args).set_team_lead(args.id, args.person))


def cmd_contract_new(args: argparse.Namespace) -> int:
    return _report(
        args,
        _service(args).new_contract(
            args.id,
            template=args.template,
            provider=args.provider,
            consumer=args.consumer,
            values=dict(args.values),
            title=args.title,
        ),
    )


def cmd_contract_params(args: argparse.Namespace) -> int:
    from workbench.model.templates import TEMPLATES

    template = TEMPLATES[args.template]
    print(f"{template.kind}: terms {', '.join(template.terms)}")
    for p in template.parameters:
        print(f"  --set {p.name}=…  {p.help} (default: {p.default})")
    return 0


def cmd_contract_save(args: argparse.Namespace) -> int:
    return _report(args, _service(args).save_contract(args.id, args.message))
