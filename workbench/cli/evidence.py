"""Evidence commands: `evidence add|list|query`, `evaluate`, `violations [show|close]`.

Exit codes: 0 ok, 1 a check found problems (violations, tampered snapshots), 2 usage or
input error (bad file, schema mismatch naming the column, unknown contract…).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from workbench.cli.output import emit_json, line, table


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected an ISO-8601 time such as 2026-11-27T09:00:00Z"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date such as 2026-12-31") from exc


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from workbench.service.catalog import evidence_kinds

    p = sub.add_parser("evidence", help="register and list evidence snapshots; query them")
    esub = p.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)

    a = esub.add_parser("add", help="check a file against its kind's schema and register it")
    a.add_argument(
        "file",
        help="CSV, Parquet, JSON or JSONL export, or a table: a Delta table folder or an "
        "Iceberg *.metadata.json (pinned by --table-version)",
    )
    a.add_argument("--kind", required=True, choices=evidence_kinds(), help="evidence kind")
    a.add_argument("--contract", help="contract the evidence is for (default: any contract)")
    a.add_argument("--term", help="term within --contract (default: every term of that kind)")
    a.add_argument(
        "--captured-at", type=_time, metavar="TS", help="when the data was captured (default: now)"
    )
    a.add_argument("--source", help="where the export came from")
    a.add_argument(
        "--external",
        action="store_true",
        help="keep a large file outside git, pinned by absolute path and sha256",
    )
    a.add_argument(
        "--table-version",
        type=int,
        metavar="N",
        help="a table's Delta version or Iceberg snapshot id (default: the latest); the "
        "finding names it, and a newer version never changes it (docs/engines.md)",
    )
    a.add_argument("--json", action="store_true")
    from workbench.cli import evidence_register

    evidence_register.add_name_options(a)
    evidence_register.add_key_options(a)
    a.set_defaults(func=cmd_add, writes=True)
    evidence_register.register(esub)

    ls = esub.add_parser("list", help="registered snapshots, newest first")
    ls.add_argument("--contract", help="only snapshots usable by this contract")
    ls.add_argument("--verify", action="store_true", help="re-hash every file (tampering)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    q = esub.add_parser("query", help="read-only SQL over the registered snapshots")
    q.add_argument("sql", help="one SELECT; views: kind names (latest snapshot) and ev_<id>")
    q.add_argument("--contract", help="only this contract's snapshots")
    q.add_argument("--max-rows", type=int, default=100)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_query)

    e = sub.add_parser("evaluate", help="check every term against its evidence; record findings")
    e.add_argument("--contract", help="only this contract")
    e.add_argument("--json", action="store_true")
    e.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default=None,
        help="where the checks run: the embedded DuckDB (default) or Spark "
        "([evidence.engines.spark] in workbench.toml; docs/engines.md)",
    )
    key = e.add_mutually_exclusive_group()
    key.add_argument("--key", metavar="PATH", help="the runner's private key (default: yours)")
    key.add_argument("--agent", action="store_true", help="sign the run through ssh-agent")
    e.set_defaults(func=cmd_evaluate, writes=True)

    v = sub.add_parser("violations", help="violation history across runs, and who was paged")
    v.add_argument("--since", type=_date, metavar="DATE", help="active on or after this date")
    v.add_argument("--contract", help="only this contract")
    v.add_argument("--open", action="store_true", help="only open violations")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_violations)
    vsub = v.add_subparsers(dest="violations_command", metavar="ACTION")

    s = vsub.add_parser("show", help="one violation: observed vs limit, SQL, runs, who was paged")
    s.add_argument("violation", help="violation id (or prefix), or CONTRACT/TERM")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    c = vsub.add_parser(
        "close",
        help="close a violation consciously (a signed record)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  workbench violations close v-0a23992953 --resolved --note 'threshold reset to 0.18'\n"
            "  workbench violations close v-0a23992953 --exempt --reason 'pricing pilot' \\\n"
            "      --approver grace.whitfield --expires 2027-01-31\n\n"
            "--exempt files a REQUEST: it counts only once the approver, whom the signed policy\n"
            "(keys/policy.toml [exemptions]) must authorise, runs `workbench violations approve`.\n"
            "Nobody approves their own request, the violated term's owner or the person who\n"
            "caused the violation; the expiry is at most [exemptions] max_days (default 90) away."
        ),
    )
    c.add_argument("violation", help="violation id (or prefix), or CONTRACT/TERM")
    how = c.add_mutually_exclusive_group(required=True)
    how.add_argument("--resolved", action="store_true", help="fixed; say how with --note")
    how.add_argument(
        "--exempt", action="store_true", help="ask --approver to accept it until --expires"
    )
    c.add_argument("--note", help="what was done (with --resolved)")
    c.add_argument("--reason", help="why it should be accepted (with --exempt)")
    c.add_argument("--approver", metavar="PERSON", help="who you ask to approve the exemption")
    c.add_argument("--expires", type=_date, metavar="DATE", help="last day of the exemption")
    c.set_defaults(func=cmd_close, writes=True)

    a = vsub.add_parser(
        "approve",
        help="as an authorised approver, sign a violation's pending exemption request",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "example:\n"
            "  workbench --as grace.whitfield violations approve v-0a23992953\n"
            "  workbench --as grace.whitfield violations approve v-0a23992953 --expires 2027-01-15"
        ),
    )
    a.add_argument("violation", help="violation id (or prefix), or CONTRACT/TERM")
    a.add_argument("--expires", type=_date, metavar="DATE", help="end it earlier than requested")
    a.set_defaults(func=cmd_approve, writes=True)


def _service(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from workbench.cli.core import workbench_for

    return workbench_for(args).evidence


def _who(person: dict[str, Any] | None) -> str:
    if not person:
        return "—"
    name = person.get("name") or "unknown person"
    left = ", LEFT" if person.get("departed") else ""
    return line(f"{name} ({person.get('id')}{left})")


def _paged_line(paged: dict[str, Any]) -> str:
    if not paged:
        return "—"
    return (
        f"{_who(paged.get('primary'))}, backup {_who(paged.get('backup'))} "
        f"via {line(paged.get('channel'))}, ack within {line(paged.get('ack_sla'))}"
    )


# --------------------------------------------------------------------------- evidence


def cmd_add(args: argparse.Namespace) -> int:
    from workbench.cli import evidence_register

    svc = _service(args)
    snap = svc.add(
        Path(args.file),
        args.kind,
        contract=args.contract,
        term=args.term,
        captured_at=args.captured_at,
        source=args.source,
        external=args.external,
        name=args.name,
        table_version=args.table_version,
        replace=args.replace,
        signer=evidence_register.signer_for(svc, args),
    )
    if args.json:
        emit_json(snap.model_dump(mode="json"))
    else:
        pinned = (
            f"{snap.format} version {snap.table_version}, "
            if snap.table_version is not None
            else ""
        )
        print(f"registered {snap.id} ({snap.kind}, {pinned}{snap.size} bytes) at {line(snap.path)}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    svc = _service(args)
    infos = svc.snapshots(verify=args.verify, contract=args.contract)
    bad = [i for i in infos if i.integrity is not None and not i.integrity.ok]
    if args.json:
        emit_json([i.to_json() for i in infos])
    else:
        rows = []
        for i in infos:
            s = i.snapshot
            target = (s.contract or "*") + (f" / {s.term}" if s.term else "")
            row = [
                s.id,
                s.name or "",
                s.kind,
                s.captured_at.strftime("%Y-%m-%d %H:%MZ"),
                target,
                s.registered_by or "—",
                # A table: which version is pinned, where the user looks for it.
                s.source
                + (
                    f" ({s.format} version {s.table_version})"
                    if s.table_version is not None
                    else ""
                ),
            ]
            if args.verify:
                assert i.integrity is not None
                row.append(i.integrity.status)
            rows.append(row)
        headers = ["ID", "NAME", "KIND", "CAPTURED", "FOR", "BY", "SOURCE"]
        print(table(rows, headers + (["INTEGRITY"] if args.verify else [])))
        for i in bad:
            assert i.integrity is not None
            print(f"{i.snapshot.id}: {line(i.integrity.reason)} — never used", file=sys.stderr)
    return 1 if bad else 0


def cmd_query(args: argparse.Namespace) -> int:
    result = _service(args).query(args.sql, args.contract, max_rows=args.max_rows)
    if args.json:
        emit_json(
            {
                "columns": result.columns,
                "types": result.types,
                "rows": [list(row) for row in result.rows],
                "truncated": result.truncated,
            }
        )
    else:
        rows = [["" if v is None else str(v) for v in row] for row in result.rows]
        print(table(rows, result.columns))
        if result.truncated:
            print(f"(first {args.max_rows} rows)", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- evaluate


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.service.runs import RunNotRecorded

    svc = _service(args)
    signer = None
    if args.key or args.agent:
        signer = svc.wb.signing.keys.make_signer(
            svc.wb.actor().id, key_path=Path(args.key) if args.key else None, agent=args.agent
        )
    refused = None
    try:
        result = svc.evaluate(args.contract, signer=signer, engine=args.engine)
    except RunNotRecorded as exc:
        # The checks ran: show what they found, then say why nothing was recorded.
        result, refused = exc.result, str(exc)
    run = result.run
    for note in result.notes:  # never silent: a batch that fell back, and why
        print(f"evaluate: {line(note)}", file=sys.stderr)
    if args.json:
        emit_json({"path": result.path, "written": result.written, "notes": result.notes, **run})
    else:
        rows = [
            [f["contract"], f["term"], f["status"], f["observed_text"] or "—", f["limit"] or "—"]
            for f in run["findings"]
        ]
        print(table(rows, ["CONTRACT", "TERM", "STATUS", "OBSERVED", "LIMIT"]))
        violations = result.violations
        for f in violations:
            print(f"\n{f['status'].upper()}  {f['contract']} / {f['term']}: {line(f['reason'])}")
            print(f"  owner {_who(f.get('owner'))}")
            print(f"  paged {_paged_line(f.get('paged') or {})}")
        summary = ", ".join(f"{k} {n}" for k, n in sorted(run["summary"].items()))
        if result.written:
            state = f"recorded in {result.path}"
        elif svc.wb.readonly:  # nothing was written, and no such file need exist
            state = "not recorded (--readonly)"
        else:
            state = f"unchanged: {result.path}"
        engine = run.get("inputs", {}).get("sql_engine")
        where = (
            f" on {line(engine.get('name', '?'))} {line(engine.get('version', ''))} at "
            f"{line(engine.get('endpoint', '?'))}"
            if isinstance(engine, dict)
            else ""
        )
        if refused is None:
            print(f"\nrun {run['run']}{where}: {summary}; {state}", file=sys.stderr)
    if refused is not None:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    return 1 if result.violations else 0


# --------------------------------------------------------------------------- violations


def cmd_violations(args: argparse.Namespace) -> int:
    svc = _service(args)
    history = svc.violations.find(since=args.since, contract=args.contract, open_only=args.open)
    # Terms whose latest finding is not current at now fail the gate like an open violation
    # (`governance.currency`); they are listed after the violations.
    stale = [t for t, _v in svc.not_current(args.contract)]
    if args.json:
        emit_json(
            [v.to_json() for v in history]
            + [{**t.to_json(), "id": None, "state": "not-current", "why": t.state} for t in stale]
        )
    else:
        rows = []
        for v in history:
            paged = v.paged.get("primary") or {}
            rows.append(
                [
                    v.id,
                    v.state,
                    f"{v.contract} / {v.term}",
                    v.status,
                    v.opened_at.strftime("%Y-%m-%d %H:%MZ"),
                    str(len(v.points)),
                    (v.last.get("observed_text") or "—"),
                    _who(v.owner),
                    _who(paged) + f" ({v.paged.get('ack_sla', '—')})",
                ]
            )
        headers = ["ID", "STATE", "CONTRACT / TERM", "STATUS", "OPENED", "RUNS", "OBSERVED"]
        print(table(rows, [*headers, "OWNER", "PAGED"]))
        for t in stale:
            print(f"NOT CURRENT  {t.contract} / {t.term}: {t.reason}")
        if not history and not stale:
            print("no violations", file=sys.stderr)
    return 1 if any(v.is_open for v in history) or stale else 0


def cmd_show(args: argparse.Namespace) -> int:
    svc = _service(args)
    v = svc.violations.get(args.violation)
    # The page that left the machine, its acknowledgement and time to acknowledge vs ack_sla.
    page = next((p for p in svc.wb.notify.page_verdicts().pages if p.violation == v.id), None)
    if args.json:
        emit_json(
            {**v.to_json(), "finding": v.last, "page": page.to_json(svc.wb.now) if page else None}
        )
        return 0
    f = v.last
    lines = [
        f"{v.id}  {v.state.upper()}  {v.contract} / {v.term} ({v.kind})",
        f"  title     {line(v.title)}",
        f"  status    {v.status} (worst {v.worst_status}); opened {v.opened_at:%Y-%m-%d %H:%MZ}"
        f" in run {v.opened_run}",
        f"  observed  {line(f.get('observed_text') or '—')}",
        f"  limit     {line(f.get('limit') or '—')}",
        f"  reason    {line(f.get('reason') or '—')}",
        f"  owner     {_who(v.owner)}",
        f"  paged     {_paged_line(v.paged)}",
        f"  page      {line(page.describe(svc.wb.now)) if page else 'not sent (`workbench notify`)'}",
    ]
    if v.closure:
        c = v.closure
        what = (
            c.note
            if c.action == "resolved"
            else f"{c.reason} (approved by {c.approver}, expires {c.expires})"
        )
        lines.append(
            f"  closure   {c.action} by {line(c.closed_by)} at {c.closed_at:%Y-%m-%d %H:%MZ}: "
            + line(what)
        )
    if v.exemption:
        e = v.exemption
        state = "EXPIRED" if v.exemption_expired else "active"
        lines.append(
            line(
                f"  exemption {state} until {e['expires']} ({e['source']}): {e.get('reason')}"
                f" — approved by {e.get('approver')}"
            )
        )
    for note in v.notes:
        lines.append(f"  closures  {line(note)}")
    for s in f.get("snapshots", []):
        lines.append(
            line(f"  evidence  {s['view']}: {s['id']} ({s['kind']}, captured {s['captured_at']})")
        )
    lines.append("  runs")
    for p in v.points:
        observed = "—" if p.observed is None else f"{p.observed:g}"
        lines.append(f"    {p.time:%Y-%m-%d %H:%MZ}  {p.status:<8} {observed:<14} {p.run}")
    if f.get("sql"):
        lines.append("  sql")
        lines += [f"    {text}" for text in f["sql"].splitlines()]
    print("\n".join(lines))
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    svc = _service(args)
    closure = svc.violations.close(
        args.violation,
        resolved=args.resolved,
        note=args.note,
        exempt=args.exempt,
        reason=args.reason,
        approver=args.approver,
        expires=args.expires,
    )
    if closure.action == "resolved":
        print(line(f"resolved {closure.violation} ({closure.contract} / {closure.term})"))
    else:
        print(
            line(
                f"requested an exemption of {closure.violation} ({closure.contract} / "
                f"{closure.term}) until {closure.expires}; it counts once {closure.approver} "
                f"approves: `workbench --as {closure.approver} violations approve "
                f"{closure.violation}`"
            )
        )
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    closure = _service(args).violations.approve(args.violation, expires=args.expires)
    print(
        line(
            f"approved: {closure.violation} ({closure.contract} / {closure.term}) is exempt "
            f"until {closure.expires}, requested by {closure.closed_by}, approved by "
            f"{closure.approver}"
        )
    )
    return 0
