"""Build the demo governance repo with a believable history.

The sample content at the top of the source checkout (workbench.toml, keys/, contracts/,
evidence/) is the final state. Earlier versions are derived from it by small text edits,
and each version is committed by the person who would have made it, backdated relative to
`now` so that cadences and deadlines look realistic whenever the demo is built.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.repo import layout
from workbench.service.errors import WorkbenchError


def content_root() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / layout.SETTINGS).is_file() or not (root / "contracts").is_dir():
        raise WorkbenchError(
            "the demo content ships with the source checkout (workbench.toml, keys/, contracts/); "
            f"not found next to {Path(__file__).resolve().parents[1]}"
        )
    return root


@dataclass
class Step:
    """One commit of the demo history."""

    days_ago: float
    author: str
    message: str
    files: dict[str, bytes | None]


@dataclass
class DemoContext:
    root: Path
    content: Path
    now: datetime
    people: dict[str, tuple[str, str]]

    def read(self, path: str) -> bytes:
        return (self.content / path).read_bytes()

    def text(self, path: str) -> str:
        if path == layout.PEOPLE:
            return people_toml(self.read(path).decode("utf-8"), self.now)
        return self.read(path).decode("utf-8")


# Marcus Webb leaves four days before `now`: after he handed the pager and the freshness term
# to Yuki Tanaka and the policy-data lead co-signed and reviewed the seam, but with the
# lineage term still in his name. From then on the contract does not validate, so its
# consumer lead cannot co-sign it until the term names a current owner.
DEPARTED = "marcus.webb"
DEPARTED_DAYS_AGO = 4


def people_toml(text: str, now: datetime) -> str:
    """The people registry with the departure dated relative to `now` (the demo is built at
    any time; the shipped file is dated for the tests' fixed moment, 2026-11-27)."""
    left = (now - timedelta(days=DEPARTED_DAYS_AGO)).date().isoformat()
    blocks = text.split("[[people]]")
    for i, block in enumerate(blocks):
        if f'id = "{DEPARTED}"' in block:
            blocks[i] = re.sub(r"(?m)^left = \d{4}-\d{2}-\d{2}$", f"left = {left}", block)
    return "[[people]]".join(blocks)


DemoStep = Callable[["DemoContext"], None]


def demo_steps() -> list[DemoStep]:
    """The rooms' demo steps, in order of their times: keys and signatures first, then
    obligations (signed reviews and the acknowledgement, days ago), then evidence (its
    commits are signed; its runs end now). A signed record's time must not precede its
    parent commit, so the order matters."""
    from workbench.demo.evidence_steps import add_evidence
    from workbench.demo.obligations_steps import obligations_step
    from workbench.demo.signing_steps import signing_step

    return [signing_step, obligations_step, add_evidence]


def _people(content: Path) -> dict[str, tuple[str, str]]:
    import tomllib

    data = tomllib.loads((content / layout.PEOPLE).read_text(encoding="utf-8"))
    return {p["id"]: (p["name"], p["email"]) for p in data.get("people", [])}


def history_steps(ctx: DemoContext) -> list[Step]:
    c = ctx.text
    credit1 = "contracts/applicant-data-to-credit-model.toml"
    credit2 = "contracts/credit-model-to-loan-decisioning.toml"
    credit3 = "contracts/loan-decisioning-to-fair-lending.toml"
    claims1 = "contracts/policy-data-to-claims-agent.toml"
    claims2 = "contracts/claims-agent-to-claims-product.toml"

    credit1_final = c(credit1)
    credit1_v1 = credit1_final.replace(
        'fail_after = "PT24H"\nwarn_after = "PT12H"', 'fail_after = "PT48H"\nwarn_after = "PT24H"'
    )
    credit2_final = c(credit2)
    # A comment-only edit later clarifies the seam header; the first version lacks it.
    credit2_v1 = credit2_final.replace(
        "# Seam 2 of the credit chain: the model's score meets the product's decision threshold.\n",
        "# Seam 2 of the credit chain.\n",
    )
    claims1_final = c(claims1)
    claims1_v1 = claims1_final.replace(
        'owner = "yuki.tanaka"\nfail_after', 'owner = "marcus.webb"\nfail_after'
    ).replace('primary = "yuki.tanaka"', 'primary = "marcus.webb"')
    b = str.encode
    return [
        Step(
            190,
            "grace.whitfield",
            "Set up the governance repo: settings and people registry",
            {
                layout.SETTINGS: ctx.read(layout.SETTINGS),
                layout.PEOPLE: ctx.text(layout.PEOPLE).encode("utf-8"),
                ".gitattributes": b"contracts/*.toml text eol=lf\n*.sig -text\n",
            },
        ),
        Step(
            188,
            "dana.okafor",
            "Propose the applicant data → credit-risk model contract",
            {credit1: b(credit1_v1)},
        ),
        Step(
            175,
            "ravi.iyer",
            "Add the credit-risk model → loan decisioning contract",
            {credit2: b(credit2_v1)},
        ),
        Step(
            160,
            "priya.nair",
            "Add the living compliance attestation for loan decisioning",
            {credit3: c(credit3).encode()},
        ),
        Step(
            205,
            "tomas.lindqvist",
            "Add the policy data → claims agent retrieval contract",
            {claims1: b(claims1_v1)},
        ),
        Step(
            150,
            "aisha.rahman",
            "Add the claims agent → claims product contract",
            {claims2: c(claims2).encode()},
        ),
        Step(
            120,
            "dana.okafor",
            "Tighten the feature freshness SLA from 48h to 24h\n\nThe model team asked for next-day features after the Q2 review.",
            {credit1: b(credit1_final)},
        ),
        Step(
            64,
            "ravi.iyer",
            "Clarify the seam description comment (no change to terms)",
            {credit2: b(credit2_final)},
        ),
        Step(
            25,
            "tomas.lindqvist",
            "Hand policy freshness and on-call from Marcus Webb to Yuki Tanaka\n\nMarcus is leaving the company; Yuki takes over the pager.",
            {claims1: b(claims1_final)},
        ),
        Step(
            24,
            "tomas.lindqvist",
            "Publish the contract JSON Schema for editors",
            {layout.SCHEMA: _schema()},
        ),
    ]


def _schema() -> bytes:
    from workbench.service.init import contract_schema_json

    return contract_schema_json()


def build_demo(
    target: Path,
    now: datetime | None = None,
    force: bool = False,
    steps: Sequence[DemoStep] | None = None,
) -> Path:
    """Build the demo repo; `steps` overrides `demo_steps()` (tests build only the rooms
    they need)."""
    from workbench.repo.git import Author, GitRepo

    now = now or datetime.now(UTC)
    target = Path(target)
    marker = layout.demo_marker(target)
    if target.exists() and any(target.iterdir()):
        # An interrupted build is ours to redo; anything else needs --force.
        unfinished = marker.is_file()
        if not force and not unfinished:
            raise WorkbenchError(f"{target} is not empty; pick a new directory or pass --force")
        if not unfinished and not (target / layout.SETTINGS).is_file():
            raise WorkbenchError(f"{target} is not a demo repo; refusing to overwrite it")
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    content = content_root()
    ctx = DemoContext(target, content, now, _people(content))
    git = GitRepo.init(target)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"demo build started {now.isoformat()} by pid {os.getpid()}\n")
    history = sorted(history_steps(ctx), key=lambda s: -s.days_ago)
    for step in history:
        name, email = ctx.people[step.author]
        git.commit_files(
            step.files, step.message, Author(name, email), when=now - timedelta(days=step.days_ago)
        )
    for act in demo_steps() if steps is None else steps:
        act(ctx)
    marker.unlink()
    return target
