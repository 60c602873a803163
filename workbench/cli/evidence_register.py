"""`workbench evidence register` and `workbench evidence withdraw`: signed registration
records (docs/evidence.md, "Who may register evidence")."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from workbench.cli.output import emit_json, line


def add_name_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="stable alias a contract can reference (e.g. a drift reference)")
    p.add_argument(
        "--replace",
        action="store_true",
        help="move --name from the snapshot that holds it to this file (without it, a name "
        "in use is refused, naming its holder; docs/evidence.md, 'Moving a name')",
    )


def add_key_options(p: argparse.ArgumentParser) -> None:
    key = p.add_mutually_exclusive_group()
    key.add_argument("--key", metavar="PATH", help="your private key (default: yours)")
    key.add_argument("--agent", action="store_true", help="sign through ssh-agent")


def signer_for(svc: Any, args: argparse.Namespace) -> Any:
    if not (getattr(args, "key", None) or getattr(args, "agent", False)):
        return None
    return svc.wb.signing.keys.make_signer(
        svc.wb.actor().id, key_path=Path(args.key) if args.key else None, agent=args.agent
    )


def register(esub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    r = esub.add_parser(
        "register",
        help="sign registrations for snapshots of the legacy evidence/manifest.toml (migration)",
    )
    r.add_argument(
        "snapshots",
        nargs="*",
        metavar="SNAPSHOT",
        help="ids or names in evidence/manifest.toml (default: every one you may register "
        "that does not count yet)",
    )
    add_key_options(r)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_register, writes=True)

    w = esub.add_parser("withdraw", help="take a registered snapshot out of use (signed)")
    w.add_argument("snapshot", help="id or name of a snapshot that counts")
    w.add_argument("--reason", required=True, help="why it must no longer be used")
    add_key_options(w)
    w.set_defaults(func=cmd_withdraw, writes=True)


def cmd_register(args: argparse.Namespace) -> int:
    from workbench.cli.evidence import _service

    svc = _service(args)
    snaps = svc.registrations.register_legacy(list(args.snapshots), signer=signer_for(svc, args))
    if args.json:
        emit_json([s.id for s in snaps])
    else:
        for s in snaps:
            print(f"registered {s.id} ({s.kind}, {line(s.contract or 'repository-wide')}): signed")
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    from workbench.cli.evidence import _service

    svc = _service(args)
    snap = svc.registrations.withdraw(args.snapshot, args.reason, signer=signer_for(svc, args))
    print(f"withdrew {snap.id} ({snap.kind}): no term selects it from now on")
    return 0
