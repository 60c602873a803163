"""A findings file read back from a repository or a bundle is untrusted: `parse_run` gives a
typed run only when every key the fold indexes is there with its type, and otherwise a
FindingsError naming the file and the key (exit code 2 on the CLI), never a KeyError deep
in the fold."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from workbench.evidence.findings import (
    FORMAT,
    FindingsError,
    parse_run,
    render_run,
    term_series,
)
from workbench.model.findings import Finding, Run

NAME = "findings/20261127T090000Z-0123456789.json"


def _run() -> Run:
    finding: Finding = {
        "contract": "policy-data-to-claims-agent",
        "contract_sha256": "0" * 64,
        "term": "policy-freshness",
        "kind": "freshness",
        "title": "Freshness",
        "status": "fail",
        "observed": 9.0,
        "observed_text": "9 days",
        "limit": "at most 1 day",
        "reason": "the endorsements sidecar lags 9 days",
        "sql": "SELECT 1",
        "details": [],
        "clock": "2026-11-27T09:00:00Z",
        "snapshots": [],
        "owner": {"id": "yuki.tanaka", "name": "Yuki Tanaka", "departed": False},
    }
    return {
        "format": FORMAT,
        "run": "20261127T090000Z-0123456789",
        "time": "2026-11-27T09:00:00Z",
        "scope": None,
        "inputs": {},
        "summary": {"fail": 1},
        "findings": [finding],
    }


def test_a_well_formed_run_reads_back_as_written() -> None:
    run = _run()
    parsed = parse_run(render_run(run), NAME)
    assert parsed == json.loads(json.dumps(run))
    [(key, points)] = term_series([parsed]).items()
    assert key == ("policy-data-to-claims-agent", "policy-freshness")
    assert [p.status for p in points] == ["fail"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("time",), None, "time must be a date-time"),
        (("time",), "yesterday", "time must be a date-time"),
        (("run",), 7, "run must be a string"),
        (("findings",), {"a": 1}, "findings must be a list"),
        (("findings", 0), "pass", "findings[0] must be an object"),
        (("findings", 0, "status"), None, "findings[0]: status must be a string"),
        (("findings", 0, "term"), ["x"], "findings[0]: term must be a string"),
        (("findings", 0, "contract"), None, "findings[0]: contract must be a string"),
    ],
)
def test_a_run_missing_a_key_the_fold_reads_is_refused(
    path: tuple[str | int, ...], value: Any, message: str
) -> None:
    doc: Any = copy.deepcopy(_run())
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    data = (json.dumps(doc) + "\n").encode()
    with pytest.raises(FindingsError) as caught:
        parse_run(data, NAME)
    assert str(caught.value).startswith(f"{NAME}: ")
    assert message in str(caught.value)
    assert caught.value.exit_code == 2
