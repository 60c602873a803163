"""The evidence files the evaluation tests write, in the shapes the demo's evidence has:
freshness lags, threshold changes and assertion runs as CSV. One writer per shape, shared by
the evaluation, Spark, evidence-limit and attack tests, so a change to an evidence kind's
columns is made once (docs/evidence.md lists the kinds).

Times are written as the demo writes them: ``YYYY-MM-DD HH:MM:SS`` in UTC, no offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import FIXED_NOW

LAGS = "source,updated_at,available_at"
THRESHOLDS = "name,value,changed_at,changed_by,cosigned_by"
ASSERTION_RUNS = "assertion_id,run_at,passed,test"

Cell = str | datetime | None


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def hours_ago(hours: float, now: datetime = FIXED_NOW) -> str:
    return stamp(now - timedelta(hours=hours))


def write_csv(path: Path, header: str, rows: Iterable[Sequence[Cell]]) -> Path:
    """`header` and one line per row (a datetime as `stamp`, None as an empty cell)."""
    lines = [header]
    for row in rows:
        lines.append(
            ",".join("" if c is None else stamp(c) if isinstance(c, datetime) else c for c in row)
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lags_csv(path: Path, rows: Iterable[tuple[str, Cell, Cell]]) -> Path:
    """freshness_lags: (source, updated_at, available_at; None: not yet accessible)."""
    return write_csv(path, LAGS, rows)


def thresholds_csv(path: Path, rows: Iterable[tuple[str, str, Cell, str, str]]) -> Path:
    """threshold_config: (name, value, changed_at, changed_by, cosigned_by)."""
    return write_csv(path, THRESHOLDS, rows)


def assertion_runs_csv(path: Path, rows: Iterable[tuple[str, Cell, str, str]]) -> Path:
    """assertion_results: (assertion_id, run_at, passed, test)."""
    return write_csv(path, ASSERTION_RUNS, rows)


def contract_head(cid: str, title: str, ack_sla: str = "PT30M") -> str:
    """The identity, seam, parties and escalation of the tests' data → model contract
    (`data.lead` / `model.lead`), before its terms."""
    return f'''\
id = "{cid}"
title = "{title}"
status = "active"
adopted = 2026-06-01
owner = "data.lead"

[seam]
provider = "data"
consumer = "model"
kind = "data-model"

[parties]
provider_lead = "data.lead"
consumer_lead = "model.lead"

[escalation]
primary = "data.lead"
backup = "model.lead"
channel = "pagerduty:data"
ack_sla = "{ack_sla}"
'''


# The channels the test contracts page through (`pagerduty:data`, `pagerduty:model`, and the
# `email:` of `workbench init`'s contract), declared: their page test then judges people and
# SLA, as these tests expect. A repository without [channels] warns (docs/notify.md).
CHANNELS = """
[channels.pagerduty]
kind = "pagerduty"

[channels.email]
kind = "email"
host = "smtp.example.org"
from = "governance@example.org"
"""


def declare_channels(root: Path, when: datetime) -> None:
    """Commit CHANNELS into a `workbench init` repo's workbench.toml at `when`."""
    from workbench.repo.git import Author, GitRepo

    text = (root / "workbench.toml").read_text(encoding="utf-8")
    GitRepo(root).commit_files(
        {"workbench.toml": (text + CHANNELS).encode()},
        "Declare the paging channels",
        Author("Data Lead", "data.lead@example.org"),
        when=when,
    )
