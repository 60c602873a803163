"""A synthetic organisation for scale runs: teams, people, seams, and a long history.

    python -m benchmarks.generate OUT --contracts 1000 --commits 2000

Deterministic for a given seed. Later capabilities add attestations and evidence rows on
top of the repo this builds (see the other benchmarks).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.repo.git import Author, GitRepo

KINDS = ["data-model", "model-product", "product-compliance", "custom"]
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _people_toml(teams: int, per_team: int) -> tuple[str, list[list[str]]]:
    lines = ["# Synthetic organisation for benchmarks.\n"]
    members: list[list[str]] = []
    for t in range(teams):
        lines.append(
            f'[[teams]]\nid = "team-{t:03d}"\nname = "Team {t:03d}"\nlead = "p{t:03d}-0"\n'
        )
        members.append([f"p{t:03d}-{i}" for i in range(per_team)])
    for t, people in enumerate(members):
        for i, pid in enumerate(people):
            lines.append(
                f'[[people]]\nid = "{pid}"\nname = "Person {t:03d} {i}"\n'
                f'email = "{pid}@bench.example"\nteam = "team-{t:03d}"\n'
                f'authority = "{"lead" if i == 0 else "member"}"\n'
            )
    return "\n".join(lines), members


def contract_text(
    cid: str, a: int, b: int, members: list[list[str]], fail_hours: int, kind: str
) -> str:
    pa, pb = members[a], members[b]
    return f'''#:schema ../schema/contract.schema.json
id = "{cid}"
title = "Seam {cid}"
status = "active"
adopted = 2026-03-01
owner = "{pa[1]}"

[seam]
provider = "team-{a:03d}"
consumer = "team-{b:03d}"
kind = "{kind}"

[parties]
provider_lead = "{pa[0]}"
consumer_lead = "{pb[0]}"

[escalation]
primary = "{pa[2]}"
backup = "{pa[0]}"
channel = "pagerduty:{cid}"
ack_sla = "PT30M"

[change_protocol]
notify = ["{pb[0]}"]

[[terms]]
id = "freshness"
kind = "freshness"
title = "Freshness"
owner = "{pa[1]}"
fail_after = "PT{fail_hours}H"
warn_after = "PT{max(1, fail_hours // 2)}H"

[[terms]]
id = "range"
kind = "calibration"
title = "Operating range"
owner = "{pb[1]}"
calibration_reference = "cards/{cid}.md"
range_min = 0.0
range_max = 1.0

[[terms]]
id = "threshold"
kind = "decision_threshold"
title = "Threshold"
owner = "{pb[0]}"
name = "threshold_{cid.replace("-", "_")}"
value = 0.5
change_cosigner = "{pa[0]}"
'''


def generate(
    root: Path, contracts: int = 1000, commits: int = 2000, teams: int = 60, seed: int = 7
) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=False)
    git = GitRepo.init(root)
    people, members = _people_toml(teams, per_team=4)
    settings = (
        '[org]\nname = "Bench Org"\ndomain = "bench.example"\n'
        'repository_id = "00000000-0000-4000-8000-000000000001"\n'
    )
    files: dict[str, bytes | None] = {
        "workbench.toml": settings.encode(),
        "keys/people.toml": people.encode(),
    }
    pairs: list[tuple[str, int, int, str]] = []
    for i in range(contracts):
        a = rng.randrange(teams - 1)
        b = rng.randrange(a + 1, teams)
        cid = f"seam-{i:05d}"
        kind = KINDS[min(3, (b - a) // 15)]
        pairs.append((cid, a, b, kind))
        files[f"contracts/{cid}.toml"] = contract_text(cid, a, b, members, 24, kind).encode()
    author = Author("Bench Admin", "admin@bench.example")
    start = NOW - timedelta(days=365)
    git.commit_files(files, "Initial synthetic organisation", author, when=start)
    step = timedelta(days=364) / max(commits, 1)
    for n in range(commits - 1):
        cid, a, b, kind = pairs[rng.randrange(len(pairs))]
        hours = rng.choice([12, 24, 36, 48])
        text = contract_text(cid, a, b, members, hours, kind)
        who = members[a][0]
        git.commit_files(
            {f"contracts/{cid}.toml": text.encode()},
            f"Set {cid} freshness to {hours}h",
            Author(who, f"{who}@bench.example"),
            when=start + step * (n + 1),
        )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=60)
    args = parser.parse_args()
    t0 = time.perf_counter()
    generate(args.out, args.contracts, args.commits, args.teams)
    print(
        f"generated {args.contracts} contracts, {args.commits} commits in {time.perf_counter() - t0:.1f}s: {args.out}"
    )


if __name__ == "__main__":
    main()
