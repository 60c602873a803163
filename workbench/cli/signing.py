"""Signing commands: keygen, sign, verify and the key registry.

`verify` exits 1 when a contract in scope is not approved (draft, pending, stale or
invalid) or the key registry is broken; 0 only when everything in scope is approved.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from workbench.cli.core import add_root_argument, workbench_for
from workbench.cli.output import emit_json, line, table


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("keygen", help="create your Ed25519 signing key (stored outside the repo)")
    p.add_argument("--person", required=True, help="your person id from keys/people.toml")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--passphrase-file", metavar="FILE", help="read the passphrase from FILE")
    group.add_argument("--no-passphrase", action="store_true", help="leave the key unencrypted")
    p.add_argument("--path", help="where to write the key (default: your config directory)")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("sign", help="co-sign the committed version of a contract")
    p.add_argument("id", nargs="?", help="contract id")
    p.add_argument("--as", dest="sign_as", metavar="PERSON", help="sign as this person")
    _signer_args(p)
    p.add_argument(
        "--reattest",
        action="store_true",
        help="re-sign every current approval of yours whose key was retired (after rotation)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sign, writes=True)

    p = sub.add_parser("verify", help="verify co-signatures; exit 1 unless all are approved")
    p.add_argument("id", nargs="?", help="only this contract")
    p.add_argument(
        "--findings",
        action="store_true",
        help="verify the findings runs instead: signatures, and each head's violation ledger "
        "against a re-fold of every run",
    )
    p.add_argument("--rev", default="HEAD", help="revision to verify (default HEAD)")
    add_root_argument(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)
    _register_registry(sub)


def _register_registry(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("registry", help="the key registry: keys, revocations, admins")
    rsub = p.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    r = rsub.add_parser("init", help="start the registry: admins and threshold")
    r.add_argument("--admin", action="append", required=True, help="an admin (repeat)")
    r.add_argument("--threshold", type=int, default=2, help="admins needed to sign a version")
    r.add_argument(
        "--compliance-team",
        metavar="TEAM",
        help="its lead co-signs contracts with compliance terms (signed with the registry)",
    )
    r.add_argument(
        "--compliance-kind",
        action="append",
        metavar="KIND",
        help="term kind that needs the compliance sign-off (repeat; default: representation)",
    )
    r.add_argument(
        "--allow-self-approval",
        action="store_true",
        help="let a party lead who also leads compliance give both sign-offs",
    )
    r.set_defaults(func=cmd_registry_init, writes=True)
    r = rsub.add_parser("add-key", help="register a person's public key")
    r.add_argument("person")
    r.add_argument("pubkey", help="a .pub file or an 'ssh-ed25519 AAAA...' line")
    r.set_defaults(func=cmd_registry_add_key, writes=True)
    r = rsub.add_parser("revoke", help="revoke a key: every signature it made becomes invalid")
    r.add_argument("key", help="SHA256:... fingerprint, or a person with one key")
    r.set_defaults(func=cmd_registry_revoke, writes=True)
    r = rsub.add_parser("rotate", help="retire a person's key and register a new one")
    r.add_argument("person")
    r.add_argument("pubkey")
    r.set_defaults(func=cmd_registry_rotate, writes=True)
    r = rsub.add_parser(
        "runners", help="name who may sign evaluation runs (a registry change the admins sign)"
    )
    r.add_argument("runners", nargs="*", metavar="ID", help="person id or team:<team>")
    r.set_defaults(func=cmd_registry_runners, writes=True)
    r = rsub.add_parser(
        "exporters",
        help="who may sign audit bundles: person ids, admins, compliance-lead, lead:TEAM",
    )
    r.add_argument("entry", nargs="+", help="a person id, admins, compliance-lead or lead:TEAM")
    r.set_defaults(func=cmd_registry_exporters, writes=True)
    r = rsub.add_parser("sign", help="as an admin, sign the pending registry version")
    _signer_args(r)
    r.set_defaults(func=cmd_registry_sign, writes=True)
    r = rsub.add_parser(
        "root",
        help="print the trust root: sha256 of registry v1 (and, on stderr, of VERIFY.sh)",
    )
    r.add_argument("--pin", action="store_true", help="remember it for this clone")
    r.add_argument("--json", action="store_true", help="the root and the VERIFY.sh sha256 as JSON")
    r.add_argument(
        "--commit",
        action="store_true",
        help="commit it as keys/trust-root (checked against the root given out of band; "
        "never trusted by itself)",
    )
    r.set_defaults(func=cmd_registry_root, writes=lambda a: a.commit)
    r = rsub.add_parser(
        "head",
        help="print the newest complete registry version and its statement's sha256 "
        "(vN:SHA256), for --registry-seen / $WORKBENCH_REGISTRY_SEEN in CI",
    )
    r.add_argument("--pin", action="store_true", help="remember it for this clone")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_registry_head)
    _register_floor(rsub)
    r = rsub.add_parser("show", help="registry head, keys, revocations, pending version")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_registry_show)


def _register_floor(rsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    r = rsub.add_parser(
        "floor",
        help="the signed floor: what the gate always checks, the loosest verdict windows",
        description="Without options: show the floor in force. With options: propose a new "
        "floor (keys/policy.toml [gate], [limits]) as a pending registry version, in force "
        "once the admins sign it (`workbench registry sign`). workbench.toml can only "
        "tighten it.",
    )
    r.add_argument(
        "--deny",
        action="append",
        metavar="RULE",
        help="a rule that always blocks (repeat; replaces the list; 'none' for none)",
    )
    r.add_argument(
        "--warn",
        action="append",
        metavar="RULE",
        help="a rule always checked, at least as a warning (repeat; replaces the list)",
    )
    r.add_argument(
        "--contracts",
        action="append",
        metavar="GLOB",
        help="contract ids always in scope (repeat; replaces the list)",
    )
    r.add_argument(
        "--limit",
        action="append",
        metavar="NAME=DURATION",
        help="the loosest value of a verdict window, e.g. evidence_max_age=P2D (repeat)",
    )
    r.add_argument("--reset", action="store_true", help="start from the built-in floor")
    r.add_argument("--json", action="store_true", help="show the floor in force as JSON")
    r.set_defaults(
        func=cmd_registry_floor,
        writes=lambda a: bool(a.deny or a.warn or a.contracts or a.limit or a.reset),
    )


def _signer_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--key",
        metavar="PATH",
        help="private key file (default: yours); with --agent, the public key (.pub) to use",
    )
    p.add_argument(
        "--agent",
        action="store_true",
        help="sign through ssh-agent (default key: the one the registry lists for you)",
    )


def _service(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if getattr(args, "sign_as", None):
        args.actor = args.sign_as
    return workbench_for(args).signing


def _signer(svc, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from workbench.service.errors import PassphraseRequired

    person = svc.wb.actor().id
    key = Path(args.key) if args.key else None
    try:
        return svc.keys.make_signer(person, key_path=key, agent=args.agent)
    except PassphraseRequired:
        if not sys.stdin.isatty():
            raise
        passphrase = getpass.getpass(f"passphrase for {person}'s key: ")
        return svc.keys.make_signer(person, key_path=key, passphrase=passphrase)


def cmd_keygen(args: argparse.Namespace) -> int:
    from workbench.service.errors import WorkbenchError

    svc = _service(args)
    if args.no_passphrase:
        passphrase = None
    elif args.passphrase_file:
        passphrase = Path(args.passphrase_file).read_text(encoding="utf-8").rstrip("\n")
    elif sys.stdin.isatty():
        passphrase = getpass.getpass("passphrase for the new key (empty for none): ")
        if passphrase and getpass.getpass("again: ") != passphrase:
            raise WorkbenchError("the passphrases differ; nothing was written")
    else:
        raise WorkbenchError(
            "no terminal to ask for a passphrase: pass --passphrase-file or --no-passphrase"
        )
    result = svc.keys.keygen(
        args.person, passphrase or None, Path(args.path) if args.path else None
    )
    print(f"wrote {result.path} (mode 0600) and {result.path}.pub")
    print(f"fingerprint {result.fingerprint}")
    print(f"next: workbench registry add-key {args.person} {result.path}.pub")
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    from workbench.service.errors import WorkbenchError

    svc = _service(args)
    signer = _signer(svc, args)
    if args.reattest:
        results = svc.contracts.reattest(signer)
        if not results:
            print("nothing to re-attest: every current approval of yours still counts")
    else:
        if not args.id:
            raise WorkbenchError("which contract? `workbench sign ID` (or --reattest)")
        results = [svc.contracts.sign(args.id, signer)]
    if args.json:
        emit_json(
            [
                {
                    "contract": r.contract_id,
                    "version": r.version,
                    "person": r.person,
                    "statement_sha256": r.statement_sha256,
                    "fingerprint": r.fingerprint,
                    "commit": r.commit,
                    "already_signed": r.already_signed,
                    "verdict": r.verdict.to_json() if r.verdict else None,
                }
                for r in results
            ]
        )
        return 0
    for r in results:
        if r.already_signed:
            print(
                f"{r.contract_id} v{r.version}: already signed by {r.person} with {r.fingerprint}"
            )
            continue
        state = f" — now {r.verdict.state}: {line(r.verdict.reason)}" if r.verdict else ""
        print(f"signed {r.contract_id} v{r.version} as {r.person} ({r.commit[:8]}){state}")
    return 0


def cmd_verify_findings(args: argparse.Namespace) -> int:

    check = workbench_for(args).evidence.book.verify()
    if args.json:
        emit_json(check.to_json())
        return 0 if check.ok else 1
    heads = ", ".join(check.heads) or "none"
    print(f"findings: {check.runs} run(s) count; head run(s): {heads}")
    for ok_line in check.checked:
        print(f"  OK       {ok_line}")
    for problem in check.problems:
        print(f"  PROBLEM  {problem}")
    return 0 if check.ok else 1


def cmd_verify(args: argparse.Namespace) -> int:
    if args.findings:
        return cmd_verify_findings(args)
    svc = _service(args)
    found = svc.verdict_set(args.rev, args.id)
    view = svc.registry_view(args.rev, found.registry)
    verdicts = found.verdicts
    trust = found.trust
    ok = view.ok and all(v.ok for v in verdicts)
    if args.json:
        emit_json(
            {
                "ok": ok,
                "registry": {
                    "version": view.head_version,
                    "root_sha256": view.root_sha256,
                    "pinned": view.pinned_root,
                    "pinned_from": trust.source,
                    "committed_pin": trust.committed,
                    "trust_warning": trust.warning,
                    "registry_seen": None
                    if trust.seen is None
                    else {"pin": str(trust.seen), "from": trust.seen.source},
                    "problems": view.problems,
                    "notes": view.notes,
                },
                "contracts": [v.to_json() for v in verdicts],
            }
        )
        return 0 if ok else 1
    pinned = f"pinned ({trust.source})" if trust.is_pinned else "NOT pinned"
    seen = (
        f"; v{trust.seen.version} known complete ({line(trust.seen.source)})"
        if trust.seen is not None
        else ""
    )
    print(f"registry v{view.head_version or '—'}  root {view.root_sha256 or '—'} ({pinned}){seen}")
    if trust.warning:
        print(f"  WARNING: {trust.warning}")
    for problem in view.problems:
        print(f"  REGISTRY PROBLEM: {line(problem)}")
    rows = [
        [
            v.contract_id,
            v.state.upper() if v.state == "invalid" else v.state,
            f"v{v.version}" if v.version else "—",
            ", ".join(v.missing) or "—",
            v.reason,
        ]
        for v in verdicts
    ]
    print(table(rows, ["CONTRACT", "VERDICT", "VERSION", "STILL TO SIGN", "REASON"]))
    if args.id:
        for v in verdicts:
            for c in v.checks:
                print(f"  {line(c.file)}: {c.status} — {line(c.message)}")
            for note in v.notes:
                print(f"  note: {line(note)}")
    return 0 if ok else 1


def _print_change(change) -> int:  # type: ignore[no-untyped-def]
    if change.version:
        print(
            f"registry v{change.version} written ({change.commit[:8]}): {line(change.description)}"
        )
        print("next: each admin runs `workbench registry sign`")
    else:
        print(f"{line(change.description)} ({change.commit[:8]})")
    if change.note:
        print(line(change.note))
    return 0


def cmd_registry_init(args: argparse.Namespace) -> int:
    from workbench.model.settings import Policy

    approval = Policy(
        no_self_approval=not args.allow_self_approval,
        compliance_team=args.compliance_team,
        compliance_term_kinds=args.compliance_kind or ["representation"],
    )
    return _print_change(_service(args).registry.init(args.admin, args.threshold, approval))


def cmd_registry_add_key(args: argparse.Namespace) -> int:
    return _print_change(_service(args).registry.add_key(args.person, args.pubkey))


def cmd_registry_runners(args: argparse.Namespace) -> int:
    return _print_change(_service(args).registry.set_runners(list(args.runners)))


def cmd_registry_exporters(args: argparse.Namespace) -> int:
    return _print_change(_service(args).registry.set_exporters(args.entry))


def cmd_registry_revoke(args: argparse.Namespace) -> int:
    return _print_change(_service(args).registry.revoke(args.key))


def cmd_registry_rotate(args: argparse.Namespace) -> int:
    change = _service(args).registry.rotate(args.person, args.pubkey)
    _print_change(change)
    print(
        f"once the admins have signed it, {args.person} re-attests current approvals with "
        "`workbench sign --reattest --as " + args.person + "`"
    )
    return 0


def cmd_registry_sign(args: argparse.Namespace) -> int:
    svc = _service(args)
    change = svc.registry.sign(_signer(svc, args))
    view = svc.registry_view()
    print(f"signed registry v{change.version} ({change.commit[:8]})")
    if view.pending_version:
        print(f"still waiting for: {', '.join(view.pending_missing)}")
    else:
        print(f"registry v{view.head_version} is now in force")
    return 0


def cmd_registry_root(args: argparse.Namespace) -> int:
    from workbench.service.bundle import verify_script

    _script, script_sha256 = verify_script()
    svc = _service(args)
    if args.pin:
        root = svc.pin_root()
        if args.json:
            emit_json({"root_sha256": root, "verify_script_sha256": script_sha256})
        else:
            print(root)
        return 0
    if args.commit:
        root, commit = svc.commit_root()
        print(f"committed {root} as keys/trust-root ({commit[:8]})")
        print("CI still needs it from outside the repository: --root or $WORKBENCH_TRUST_ROOT")
        return 0
    root = svc.registry_state().root_sha256
    if root is None:
        print("no registry v1 yet", file=sys.stderr)
        return 1
    if args.json:
        emit_json({"root_sha256": root, "verify_script_sha256": script_sha256})
        return 0
    print(root)
    # stdout stays the bare root (for --root "$(workbench registry root)"); the auditor
    # needs both values, out of band.
    print(
        f"verify script sha256 {script_sha256} (`workbench verify-script`); give the auditor "
        "both, out of band",
        file=sys.stderr,
    )
    return 0


def cmd_registry_head(args: argparse.Namespace) -> int:
    svc = _service(args)
    if args.pin:
        value = svc.pin_seen()
    else:
        version, sha256 = svc.registry_head()
        value = f"v{version}:{sha256}"
    if args.json:
        version_text, sha256 = value.split(":")
        emit_json({"version": int(version_text[1:]), "statement_sha256": sha256, "pin": value})
        return 0
    print(value)
    # stdout stays the bare value (for --registry-seen "$(workbench registry head)").
    print(
        "a verifier given this (--registry-seen or $WORKBENCH_REGISTRY_SEEN) refuses any "
        "history without this registry version: update it after each new registry version",
        file=sys.stderr,
    )
    return 0


def _listed(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [] if values == ["none"] else [v for v in values if v != "none"]


def cmd_registry_floor(args: argparse.Namespace) -> int:
    svc = _service(args)
    if not (args.deny or args.warn or args.contracts or args.limit or args.reset):
        floor = svc.registry_view().floor
        if args.json:
            emit_json(floor)
            return 0
        gate: Any = floor["gate"]
        floor_limits: Any = floor["limits"]
        print(f"signed floor: {line(str(floor['source']))}")
        for key in ("deny", "warn", "contracts"):
            print(f"  {key:<10} {', '.join(gate[key]) or 'none'}")
        for name, value in floor_limits.items():
            print(f"  {name:<20} at most {value}")
        return 0
    limits: dict[str, str] = {}
    for item in args.limit or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            from workbench.service.errors import SigningRefused

            raise SigningRefused(
                f"--limit {line(item)}: write NAME=DURATION, e.g. evidence_max_age=P2D"
            )
        limits[name.strip()] = value.strip()
    change = svc.registry.propose_floor(
        deny=_listed(args.deny),
        warn=_listed(args.warn),
        contracts=_listed(args.contracts),
        limits=limits,
        reset=args.reset,
    )
    if args.json:
        emit_json(
            {
                "version": change.version,
                "commit": change.commit,
                "description": change.description,
                "note": change.note or None,
            }
        )
        return 0
    return _print_change(change)


def cmd_registry_show(args: argparse.Namespace) -> int:
    view = _service(args).registry_view()
    if args.json:
        emit_json(view.to_json())
        return 0 if view.ok else 1
    print(f"registry v{view.head_version or '—'}, root {view.root_sha256 or '—'}")
    print(f"admins {', '.join(view.admins) or '—'} (threshold {view.threshold or '—'})")
    print(
        table(
            [
                [str(k["person"]), str(k["fingerprint"]), str(k["valid_before"] or "—")]
                for k in view.keys
            ],
            ["PERSON", "KEY", "VALID BEFORE"],
        )
    )
    for fpr in view.revoked:
        print(f"revoked {fpr}")
    if view.pending_version:
        print(
            f"pending v{view.pending_version}: signed by {', '.join(view.pending_signed) or 'nobody'}; "
            f"waiting for {', '.join(view.pending_missing)}"
        )
    for problem in view.problems:
        print(f"PROBLEM: {line(problem)}")
    for note in view.notes:
        print(f"note: {line(note)}")
    return 0 if view.ok else 1
