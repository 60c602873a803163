"""Working across clones: `sync`, the git merge driver, and the merge state `status` shows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.output import emit_json, line


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sync",
        help="fetch, verify what came in, merge, push (docs/sync.md)",
        description=(
            "Fetch the upstream branch, verify the incoming history (registry chain and "
            "history, attestation histories, the pinned trust root) before accepting it, "
            "merge, push, and say what came in and went out. Exit 1 when the incoming "
            "history fails verification (nothing is merged) or the merge has conflicts."
        ),
    )
    p.add_argument(
        "--remote", metavar="NAME", help="remote to sync with (default: the upstream, else origin)"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="fetch and verify, show what would happen; merge and push nothing",
    )
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument(
        "--root",
        metavar="SHA256",
        help="trusted sha256 of registry v1 (default: $WORKBENCH_TRUST_ROOT, then the clone's pin)",
    )
    p.set_defaults(func=cmd_sync, writes=lambda args: not args.dry_run)

    p = sub.add_parser(
        "merge-driver",
        help="the git merge driver for evidence/manifest.toml (install it, or run by git)",
    )
    p.add_argument(
        "what",
        choices=["install", "manifest"],
        help="install: register it in this clone; manifest: merge (run by git)",
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="for git: %%O %%A %%B [%%P]")
    p.set_defaults(func=cmd_merge_driver)


def cmd_sync(args: argparse.Namespace) -> int:
    from workbench.cli.core import workbench_for

    wb = workbench_for(args)
    progress = _progress if sys.stderr.isatty() and not args.json else None
    report = wb.sync.run(args.remote, dry_run=args.dry_run, progress=progress)
    if progress is not None:
        print(file=sys.stderr)
    if args.json:
        emit_json(report.to_json())
    else:
        print(f"sync {line(report.branch)} with {line(report.remote)} ({line(report.url)})")
        for problem in report.refusals:
            print(f"REFUSED  {line(problem)}")
        print(line(report.outcome))
        if report.summary is not None and not report.refusals:
            came = "would come in" if report.dry_run else "came in"
            went = "would go out" if report.dry_run else "went out"
            for text in report.summary.lines(came, went):
                print(text)
        for conflict in report.conflicts:
            print(f"CONFLICT  {line(conflict.path)}: {line(conflict.advice)}")
        for note in report.notes:
            print(f"note: {line(note)}", file=sys.stderr)
    return 0 if report.ok else 1


def _progress(stage: str, done: int, total: int) -> None:
    pct = f" {100 * done // total}%" if total else ""
    sys.stderr.write(f"\r{line(stage)}{pct} ({done}/{total})\033[K")
    sys.stderr.flush()


def cmd_merge_driver(args: argparse.Namespace) -> int:
    if args.what == "install":
        from workbench.service.root import find_root
        from workbench.service.sync import install_merge_driver

        root = find_root(Path(args.repo) if args.repo else Path.cwd())
        changed = install_merge_driver(root)
        print(
            "merge driver for evidence/manifest.toml registered in this clone"
            if changed
            else "merge driver already registered in this clone"
        )
        return 0
    return merge_manifest_files(args.files)


def merge_manifest_files(files: list[str]) -> int:
    """git's merge driver protocol: merge %O (base) %A (ours, the result goes here) %B
    (theirs); exit 0 when clean, 1 when conflicts are left (marked in %A)."""
    import subprocess

    from workbench.service.sync import merge_manifest_texts

    if len(files) not in (3, 4):
        print("workbench: merge-driver manifest needs BASE OURS THEIRS [PATH]", file=sys.stderr)
        return 2
    base, ours, theirs = (Path(f) for f in files[:3])
    try:
        texts = [
            p.read_bytes().decode("utf-8") if p.is_file() else "" for p in (base, ours, theirs)
        ]
        merged = merge_manifest_texts(texts[0] or None, texts[1], texts[2])
    except UnicodeDecodeError:
        merged = None
    if merged is None:
        # A side that does not parse: git's own line merge, so nothing is lost.
        return min(
            subprocess.call(
                [
                    "git",
                    "merge-file",
                    "-L",
                    "ours",
                    "-L",
                    "base",
                    "-L",
                    "theirs",
                    str(ours),
                    str(base),
                    str(theirs),
                ]
            ),
            1,
        )
    ours.write_text(merged.text, encoding="utf-8")
    for why in merged.conflicts:
        print(f"workbench: evidence/manifest.toml: {why}", file=sys.stderr)
    return 0 if merged.clean else 1


def print_repo_state(wb, *, to_stderr: bool = False) -> bool:  # type: ignore[no-untyped-def]
    """Lines about the clone for `status`: a merge half-way through (with how to finish or
    abort it) and ahead/behind the upstream. True when a merge is unfinished."""
    from workbench.service.repo_state import repo_state

    try:
        state = repo_state(wb)
    except Exception:  # noqa: BLE001 - status still shows the seams when git cannot say
        return False
    out = sys.stderr if to_stderr else sys.stdout
    if state.unfinished:
        print(f"MERGE NOT FINISHED: {line(state.headline())}", file=out)
        print(f"  how: {line(state.advice())}", file=out)
    elif state.operation:
        print(f"note: {line(state.operation)}; {line(state.advice())}", file=out)
    position = state.position()
    if position:
        print(
            f"branch {line(state.branch or '?')}: {line(position)} (as of the last fetch; "
            "`workbench sync` fetches)",
            file=out,
        )
    return state.unfinished
