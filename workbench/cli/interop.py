"""`workbench import odcs FILE` and `workbench export odcs ID` (Open Data Contract Standard)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.core import workbench_for
from workbench.cli.output import emit_json, line


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("import", help="import a contract from another format (ODCS v3)")
    isub = p.add_subparsers(dest="import_format", metavar="FORMAT", required=True)
    r = isub.add_parser(
        "odcs",
        help="an Open Data Contract Standard v3 YAML file → a seam contract and its people",
        description="Freshness from slaProperties, bounds from logicalTypeOptions, SQL quality "
        "rules as read-only sql terms, team members as people (dateOut/replacedByUsername as "
        "succession). Everything else is listed as unmapped (docs/contracts.md). Without "
        "--provider/--consumer the teams are read from the document and the registry; "
        "when they cannot be decided, the error says which flag to pass.",
    )
    r.add_argument("file")
    r.add_argument(
        "--provider",
        metavar="TEAM",
        help="the data team (default: from the document's customProperties provider, "
        "team.name or dataProduct, else the team of its registered members)",
    )
    r.add_argument(
        "--consumer",
        metavar="TEAM",
        help="the consuming team (default: the document's customProperties consumer, "
        "else the registry's only other team)",
    )
    r.add_argument("--id", dest="contract_id", help="contract id (default: the document's id)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_import_odcs, writes=True)

    p = sub.add_parser("export", help="export a contract to another format (ODCS v3)")
    esub = p.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    r = esub.add_parser("odcs", help="the contract's data-side terms as ODCS v3 YAML")
    r.add_argument("id")
    r.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    r.set_defaults(func=cmd_export_odcs)


def cmd_import_odcs(args: argparse.Namespace) -> int:
    from workbench.service.interop import import_odcs

    result = import_odcs(
        workbench_for(args),
        Path(args.file),
        provider=args.provider,
        consumer=args.consumer,
        contract_id=args.contract_id,
    )
    if args.json:
        emit_json(
            {
                "commit": result.commit,
                "path": result.path,
                "mapped": result.mapped,
                "unmapped": result.unmapped,
                "notes": result.notes,
            }
        )
        return 0
    print(f"{line(result.summary)} ({(result.commit or '')[:8]})")
    for item in result.mapped:
        print(f"  mapped    {line(item)}")
    for item in result.unmapped:
        print(f"  UNMAPPED  {line(item)}")
    for note in result.notes:
        print(line(note))
    return 0


def cmd_export_odcs(args: argparse.Namespace) -> int:
    from workbench.service.interop import export_odcs

    text, left_out = export_odcs(workbench_for(args), args.id)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    for item in left_out:
        print(f"not exported: {line(item)}", file=sys.stderr)
    return 0
