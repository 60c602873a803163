"""Signed clock and delivery records for an organisation made by `gate_history.build`.

    python -m benchmarks.org_records OUT --at 2026-11-30T12:00:00Z

Per contract: one regulatory clock started on its seam (`clocks/<clock>/<stamp>.<person>.
start.toml`) and two delivery records (`notify/deliveries/...`: a delivered notice and a
failed page attempt), each with its in-toto statement and the SSHSIG of the CI identity
(`ci.bench`, the key `sign_org` registered for the runner), written exactly as
`wb.clocks.start` and `workbench notify` write them (`governance.records.render`, the
predicates of `signing.statement`), committed 600 files at a time. Together with the
co-signatures and the runs that makes ~5,000 signatures at 1,000 contracts, the case the
gate re-verifies on every run (issue 18).
"""

from __future__ import annotations

import argparse
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.governance import clocks as ck
from workbench.governance.records import render
from workbench.model.clocks import LIBRARY
from workbench.notify import records as dr
from workbench.repo.git import Author, GitRepo
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing.statement import (
    CLOCK_PREDICATE,
    DELIVERY_PREDICATE,
    ChainLink,
    ClockPredicate,
    DeliveryPredicate,
    sha256_hex,
    write_statement,
)

WHO = Author("CI", "ci.bench@bench.example")
KIND = "eu-ai-act-art73"


def _signed(path: str, data: bytes, ptype: str, predicate: object, key: object, ns: str) -> dict:
    statement = write_statement(ptype, path, hashlib.sha256(data).hexdigest(), predicate)
    return {
        path: data,
        path.removesuffix(".toml") + ".statement.json": statement,
        path.removesuffix(".toml") + ".sig": sshsig.sign(key, statement, ns),  # type: ignore[arg-type]
    }


def add_records(root: Path, at: datetime, person: str, key: object) -> int:
    """Commit the records (recorded at `at`); returns how many signed records."""
    import tomllib

    git = GitRepo(root)
    files = git.read_files("HEAD")
    settings = tomllib.loads(files["workbench.toml"].decode())
    repository, domain = settings["org"]["repository_id"], settings["org"]["domain"]
    ns = reg.Namespaces.for_domain(domain).review
    versions = sorted(
        int(p.removeprefix(reg.REGISTRY_DIR + "v").split(".")[0])
        for p in files
        if p.startswith(reg.REGISTRY_DIR) and p.endswith(".statement.json")
    )
    head = versions[-1]
    link = ChainLink(version=head, statementSha256=sha256_hex(files[reg.statement_path(head)]))
    seams = sorted(
        tomllib.loads(d.decode())["id"]
        for p, d in files.items()
        if p.startswith("contracts/") and p.endswith(".toml")
    )
    defn = LIBRARY[KIND]
    batch: dict[str, bytes | None] = {}
    count = 0
    for n, seam in enumerate(seams):
        when = at + timedelta(seconds=n)
        event = when - timedelta(hours=2)
        cid = ck.clock_id(seam, KIND, event, person, when)
        path = ck.clock_record_path(cid, when, person, "start")
        fields = {
            "clock": cid,
            "act": "start",
            "kind": KIND,
            "seam": seam,
            "person": person,
            "recorded": when,
            "at": event,
            "duration": defn.duration.text,
            "deadline": ck.deadline_of(event, defn.duration, None),
            "title": defn.title,
            "stops": defn.stops,
            "source": defn.source or None,
            "note": f"benchmark incident on {seam}",
        }
        predicate = ClockPredicate(
            repository=repository, seam=seam, clock=cid, person=person, act="start", registry=link
        )
        batch.update(_signed(path, render(fields), CLOCK_PREDICATE, predicate, key, ns))
        for attempt, (kind, outcome) in enumerate((("notice", "delivered"), ("page", "failed"))):
            what = f"{kind}:{seam}:bench-{n}"
            sent = when - timedelta(minutes=5 - attempt)
            path = dr.delivery_path(what, when, person)
            fields = {
                "key": dr.key_sha256(what),
                "what": what,
                "kind": kind,
                "channel": "ops",
                "target": "ops@bench.example",
                "recipient": f"{seam}-owner",
                "contract": seam,
                "person": person,
                "recorded": when,
                "sent": sent,
                "attempt": 1,
                "outcome": outcome,
                "answer": "250 OK" if outcome == "delivered" else "503 try later",
                "retry_after": when + timedelta(hours=1) if outcome == "failed" else None,
            }
            predicate = DeliveryPredicate(
                repository=repository, key=dr.key_sha256(what), person=person, registry=link
            )
            batch.update(_signed(path, render(fields), DELIVERY_PREDICATE, predicate, key, ns))
        count += 3
        if len(batch) > 600 or n == len(seams) - 1:
            # Committed when its last record was made: no record is dated after its own
            # commit nor before its parent (the record-time rule).
            git.commit_files(batch, "Clocks and deliveries\n", WHO, when=when)
            batch = {}
    return count


def main() -> None:
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--at", required=True, help="UTC time the records are made")
    parser.add_argument("--person", default="ci.bench")
    parser.add_argument("--key", type=Path, required=True, help="the person's OpenSSH key")
    args = parser.parse_args()
    key = load_ssh_private_key(args.key.read_bytes(), None)
    at = datetime.strptime(args.at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    print(f"{add_records(args.repo, at, args.person, key)} signed records")


if __name__ == "__main__":
    main()
