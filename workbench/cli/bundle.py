"""Audit bundles: `export-bundle` and `verify-bundle` (see docs/audit.md).

`verify-bundle` needs no repository. Exit codes: 0 verified, 1 a check failed, 2 usage or
input error (unreadable file, bad option).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.cli.output import emit_json, line


def _date(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a date (2026-10-01) or a UTC time (2026-10-01T00:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("export-bundle", help="export a signed audit bundle (.tar.gz)")
    p.add_argument(
        "--out",
        metavar="FILE.tar.gz",
        help="where to write it (default: beside the repo, never inside it: "
        "../REPO-audit-YYYYMMDDTHHMMSSZ.tar.gz)",
    )
    p.add_argument("--contracts", nargs="+", metavar="ID", help="only these contracts")
    p.add_argument("--since", type=_date, metavar="DATE", help="start of the audit period")
    p.add_argument("--until", type=_date, metavar="DATE", help="end of the audit period")
    p.add_argument(
        "--no-evidence-files",
        action="store_true",
        help="leave evidence snapshot files out (their sha256 and metadata stay)",
    )
    p.add_argument(
        "--valid-days",
        type=int,
        default=30,
        metavar="N",
        help="the snapshot claims current status for N days (default 30)",
    )
    p.add_argument(
        "--no-record",
        action="store_true",
        help="do not commit the snapshot to exports/ (the next export reuses its version)",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--key", metavar="PATH", help="your private key file (default: yours)")
    group.add_argument("--agent", action="store_true", help="sign through ssh-agent")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export, writes=True)

    p = sub.add_parser("verify-bundle", help="verify an audit bundle offline (no repo needed)")
    p.add_argument("file", help="the bundle (.tar.gz)")
    p.add_argument("--root", metavar="SHA256", help="pinned sha256 of registry v1 (out of band)")
    p.add_argument(
        "--trust-bundle-root",
        action="store_true",
        help="no pinned root: trust the bundle's own registry v1 (weaker; reported)",
    )
    p.add_argument(
        "--previous-snapshot",
        metavar="SHA256|FILE",
        help="the snapshot you verified last time (its sha256, snapshot.json or bundle)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="also fail unless every contract is approved and the snapshot is current "
        "(and, with --recompute, unless every finding was recomputed)",
    )
    p.add_argument(
        "--recompute",
        action="store_true",
        help="judge every finding again on the bundled evidence, in the evidence sandbox",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "verify-script",
        help="print the VERIFY.sh this workbench ships (run your own copy, not the bundle's)",
    )
    p.add_argument("--sha256", action="store_true", help="print only its sha256")
    p.set_defaults(func=cmd_verify_script)


def export_path(root: Path, out: str | None, default: Path) -> Path:
    """Where a bundle goes: `--out`, else `default` (the service's: beside the repo). A
    bundle written inside the work tree would show up as an untracked file and could be
    committed by a careless `git add`."""
    if out is None:
        return default
    path = Path(out).resolve()
    if path.is_relative_to(root) and not path.is_relative_to(root / ".git"):
        print(
            f"warning: {out} is inside the governance repo; keep bundles outside it "
            "(the default is beside the repo)",
            file=sys.stderr,
        )
    return Path(out)


def cmd_export(args: argparse.Namespace) -> int:
    from workbench.cli.core import workbench_for
    from workbench.service.bundle import ExportOptions
    from workbench.service.errors import PassphraseRequired

    if args.since and args.until and args.since > args.until:
        from workbench.service.errors import WorkbenchError

        raise WorkbenchError("--since is after --until")
    wb = workbench_for(args)
    svc = wb.bundles
    options = ExportOptions(
        contracts=args.contracts,
        since=args.since,
        until=args.until,
        evidence_files=not args.no_evidence_files,
        valid_for=timedelta(days=args.valid_days),
        record=not args.no_record,
    )
    key = Path(args.key) if args.key else None
    try:
        signer = svc.make_signer(key, args.agent)
    except PassphraseRequired:
        if not sys.stdin.isatty():
            raise
        import getpass

        passphrase = getpass.getpass(f"passphrase for {wb.actor().id}'s key: ")
        signer = svc.make_signer(key, args.agent, passphrase)
    out = export_path(wb.root, args.out, svc.default_path())
    result = svc.export(out, options, signer=signer)
    if args.json:
        emit_json({"out": str(out), **result.to_json()})
        return 0
    print(f"wrote {out} ({result.size} bytes, {result.files} files)")
    print(f"  archive sha256   {result.sha256}")
    print(
        f"  snapshot v{result.snapshot_version}      {result.snapshot_sha256}"
        + (f" (extends {result.previous_snapshot[:16]}...)" if result.previous_snapshot else "")
    )
    print(
        f"  exported at      {result.exported_at} by {line(result.exporter)}, "
        f"expires {result.expires}"
    )
    print(
        f"  trust root       {result.root_sha256} (registry v1; give it to the auditor out of band)"
    )
    print(f"  verify script    {result.verify_script_sha256} (VERIFY.sh; give it with the root)")
    if result.commit:
        print(f"  recorded in exports/ (commit {result.commit[:12]})")
    for note in result.notes:
        print(f"  note: {line(note)}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from workbench.service.bundle import BundleService
    from workbench.service.errors import WorkbenchError

    path = Path(args.file)
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such file")
    previous = args.previous_snapshot
    if previous is not None and not _looks_like_sha(previous):
        previous = Path(previous)
        if not previous.is_file():
            raise WorkbenchError(f"--previous-snapshot {previous}: not a sha256 and no such file")
    report = BundleService.verify(
        path,
        root=args.root,
        trust_bundle_root=args.trust_bundle_root,
        previous=previous,
        now=args.now,
        strict=args.strict,
        recompute=args.recompute,
    )
    if args.json:
        emit_json(report.to_json())
        return 0 if report.ok else 1
    # Every text below comes from the bundle: one line per field (`line`), so no name or
    # message in it can print a forged "OK" or "RESULT: OK" line of its own.
    marks = {"ok": "OK  ", "fail": "FAIL", "warn": "WARN", "info": "NOTE"}
    for check in report.checks:
        print(f"{marks[check.severity]}  {line(check.name)}: {line(check.message)}")
    for c in report.contracts:
        mark = "OK  " if c.ok else "FAIL"
        head = f"v{c.head}" if c.head else "-"
        print(line(f"{mark}  contract {c.contract_id} {head}: {c.state} - {c.reason}"))
        for v in c.versions:
            sigs = ", ".join(f"{s.principal} {s.status}" for s in v.signatures) or "no signatures"
            print(line(f"        v{v.version} {v.state}: {sigs}"))
            for problem in v.problems:
                print(f"          ! {line(problem)}")
        for problem in c.problems:
            if not problem.startswith("v"):
                print(f"          ! {line(problem)}")
    for f in report.recomputed or []:
        mark = {"same": "OK  ", "different": "FAIL", "no-query": "NOTE"}.get(f.outcome, "WARN")
        print(
            line(
                f"{mark}  finding {f.run.removeprefix('findings/')} {f.contract}/{f.term}: "
                f"{f.message}"
            )
        )
    if report.snapshot_sha256:
        print(
            f"snapshot sha256 {report.snapshot_sha256}: keep it for --previous-snapshot next time"
        )
    print("RESULT: OK" if report.ok else f"RESULT: FAIL ({len(report.failures)} problem(s))")
    return 0 if report.ok else 1


def cmd_verify_script(args: argparse.Namespace) -> int:
    from workbench.service.bundle import verify_script

    script, sha256 = verify_script()
    if args.sha256:
        print(sha256)
        return 0
    sys.stdout.buffer.write(script.encode())
    sys.stdout.flush()
    return 0


def _looks_like_sha(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text.lower())
