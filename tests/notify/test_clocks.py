"""Regulatory clocks: started from an incident by a named person (signed), judged on both
sides of every boundary with `--now`, stopped by who may, failing the gate once expired,
reminding the owner through `workbench notify`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.notify.helpers import T0, THRESHOLD_CONTRACT, cli, git_commit
from workbench.governance.clocks import clock_record_path
from workbench.governance.records import render
from workbench.service.clocks import ClocksService
from workbench.service.core import Workbench
from workbench.service.signed_records import SignedRecords

SEAM = THRESHOLD_CONTRACT
ISO = "%Y-%m-%dT%H:%M:%SZ"


def _iso(moment: datetime) -> str:
    return moment.strftime(ISO)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _start(repo: Path, kind: str, at: datetime, who: str = "grace.whitfield") -> dict:  # type: ignore[type-arg]
    code, out, err = cli(
        repo,
        "--as",
        who,
        "clocks",
        "start",
        kind,
        "--seam",
        SEAM,
        "--at",
        _iso(at),
        "--note",
        "INC-2051: scores shifted for 3 hours",
        "--json",
    )
    assert code == 0, err
    return json.loads(out)


def _clocks(repo: Path, now: datetime, *extra: str) -> tuple[int, list[dict]]:  # type: ignore[type-arg]
    code, out, err = cli(repo, "--now", _iso(now), "clocks", "--json", *extra)
    assert code in (0, 1), err
    return code, json.loads(out)["clocks"]


def _gate_clock(repo: Path, now: datetime) -> tuple[str, str, list[str]]:
    code, out, err = cli(repo, "--now", _iso(now), "gate", "--format", "json")
    check = next(
        c
        for c in json.loads(out)["checks"]
        if c["contract"] == SEAM and c["rule"] == "clock_expired"
    )
    return check["outcome"], check["message"], check["fixers"]


def test_a_clock_is_started_signed_and_judged_on_both_sides_of_each_boundary(
    demo_repo: Path,
) -> None:
    real = datetime.now(UTC).replace(microsecond=0)
    started = _start(demo_repo, "eu-ai-act-art73-widespread", real - timedelta(days=1))
    clock = started["clock"]
    assert started["signed"] and started["path"].startswith(f"clocks/{clock['id']}/")
    assert (demo_repo / started["path"]).with_suffix(".sig").is_file()
    assert clock["owner"] == "grace.whitfield"  # the compliance lead owns Art. 73 reports
    assert clock["duration"] == "P2D" and "Art. 73(3)" in clock["source"]
    deadline, remind = _parse(clock["deadline"]), _parse(clock["remind_at"])
    assert deadline == real + timedelta(days=1) and remind == deadline - timedelta(hours=12)
    second = timedelta(seconds=1)
    # The reminder boundary: running, then due soon (and notify reminds the owner).
    assert _clocks(demo_repo, remind - second)[1][0]["state"] == "running"
    assert _clocks(demo_repo, remind)[1][0]["state"] == "due-soon"

    def reminders(at: datetime) -> list[dict]:  # type: ignore[type-arg]
        code, out, err = cli(demo_repo, "--now", _iso(at), "notify", "--dry-run", "--json")
        return [d for d in json.loads(out)["due"] if d["kind"] in ("remind-clock", "clock-expired")]

    assert reminders(remind - second) == []
    [due] = reminders(remind)
    assert due["kind"] == "remind-clock" and due["recipient"] == "grace.whitfield"
    assert due["channel"] == "email" and due["target"] == "grace.whitfield@meridian.example"
    # The deadline boundary: the gate passes one second before, fails at the deadline.
    code, listed = _clocks(demo_repo, deadline - second)
    assert code == 0 and listed[0]["state"] == "due-soon" and listed[0]["seconds_left"] == 1
    assert _gate_clock(demo_repo, deadline - second)[0] == "pass"
    code, listed = _clocks(demo_repo, deadline)
    assert code == 1 and listed[0]["state"] == "expired"
    outcome, message, fixers = _gate_clock(demo_repo, deadline)
    assert outcome == "fail" and f"EXPIRED {clock['id']}" in message
    assert "serious-incident report is submitted" in message and fixers == ["grace.whitfield"]
    assert [d["kind"] for d in reminders(deadline)] == ["clock-expired"]
    # Before the start was recorded the clock does not exist yet (a what-if in the past).
    assert _clocks(demo_repo, real - timedelta(hours=1))[1] == []
    # Stopped in time by its owner: met; the gate passes at any later moment.
    code, out, err = cli(
        demo_repo,
        "--as",
        "grace.whitfield",
        "clocks",
        "stop",
        clock["id"],
        "--note",
        "report MSA-2026-117 submitted",
    )
    assert code == 0, err and "stopped" in out
    assert _clocks(demo_repo, deadline + timedelta(days=3)) == (0, [])
    _code, everything = _clocks(demo_repo, deadline + timedelta(days=3), "--all")
    assert everything[0]["state"] == "met" and everything[0]["stopped_by"] == "grace.whitfield"
    assert _gate_clock(demo_repo, deadline + timedelta(days=3))[0] == "pass"


def test_a_late_stop_settles_the_clock_as_met_late(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=T0, actor="ravi.iyer")
    clock, _written = ClocksService(wb).start(
        "eu-ai-act-art73-widespread", SEAM, T0 - timedelta(days=3), "INC-2040"
    )
    assert clock.state == "expired"
    assert _gate_clock(demo_repo, T0 + timedelta(minutes=30))[0] == "fail"
    wb = Workbench(demo_repo, now=T0 + timedelta(hours=1), actor="grace.whitfield")
    stopped, written = ClocksService(wb).stop(clock.id, "report filed late")
    assert stopped.state == "met-late" and written.signed
    assert _gate_clock(demo_repo, T0 + timedelta(hours=2))[0] == "pass"
    # Judged at a moment before the stop was recorded, it was expired.
    assert _gate_clock(demo_repo, T0 + timedelta(minutes=59))[0] == "fail"


def test_who_may_start_and_stop(demo_repo: Path) -> None:
    real = datetime.now(UTC).replace(microsecond=0)
    # Anyone in the registry may start a clock (whoever learns of an incident).
    clock = _start(demo_repo, "ecoa-adverse-action", real - timedelta(hours=2), "lena.fischer")
    cid = clock["clock"]["id"]
    assert clock["clock"]["owner"] == "ravi.iyer"  # the contract owner owns Reg B notices
    # An event in the future cannot start a clock; --now never records one.
    code, _out, err = cli(
        demo_repo,
        "--as",
        "lena.fischer",
        "clocks",
        "start",
        "ecoa-adverse-action",
        "--seam",
        SEAM,
        "--at",
        _iso(real + timedelta(hours=1)),
        "--note",
        "x",
    )
    assert code == 2 and "in the future" in err
    code, _out, err = cli(
        demo_repo,
        "--now",
        _iso(real),
        "--as",
        "lena.fischer",
        "clocks",
        "start",
        "ecoa-adverse-action",
        "--seam",
        SEAM,
        "--note",
        "x",
    )
    assert code == 2 and "what-if" in err
    code, _out, err = cli(
        demo_repo,
        "--as",
        "lena.fischer",
        "clocks",
        "start",
        "no-such-kind",
        "--seam",
        SEAM,
        "--note",
        "x",
    )
    assert code == 2 and "no clock kind 'no-such-kind'" in err
    # Someone who is neither owner, contract owner, party lead nor compliance lead: refused.
    code, _out, err = cli(demo_repo, "--as", "noah.kim", "clocks", "stop", cid, "--note", "done")
    assert code == 2 and "may not stop clock" in err
    # The starter may withdraw it (started in error); nobody else but the compliance lead.
    code, _out, err = cli(
        demo_repo, "--as", "ravi.iyer", "clocks", "stop", cid, "--withdrawn", "--note", "oops"
    )
    assert code == 2 and "may not withdraw" in err
    code, _out, err = cli(
        demo_repo,
        "--as",
        "lena.fischer",
        "clocks",
        "stop",
        cid,
        "--withdrawn",
        "--note",
        "opened on the wrong seam",
    )
    assert code == 0, err
    _code, listed = _clocks(demo_repo, real + timedelta(minutes=5), "--all")
    assert listed[0]["state"] == "withdrawn"


def test_a_forged_stop_does_not_count_and_fails_records_valid(demo_repo: Path) -> None:
    """A member signs a stop of a clock they may not stop, in its own name: ignored, and
    the gate's records_valid names it."""
    wb = Workbench(demo_repo, now=T0, actor="grace.whitfield")
    clock, _ = ClocksService(wb).start("eu-ai-act-art73", SEAM, T0 - timedelta(hours=1), "INC-1")
    svc = ClocksService(Workbench(demo_repo, now=T0 + timedelta(minutes=5)))
    start = next(r for r in svc.inputs().records if r.act == "start")
    at = T0 + timedelta(minutes=5)
    path = clock_record_path(clock.id, at, "noah.kim", "stop")
    data = render(
        {
            "clock": clock.id,
            "act": "stop",
            "seam": SEAM,
            "person": "noah.kim",
            "recorded": at,
            "outcome": "met",
            "start": start.path,
            "start_sha256": start.sha256,
            "note": "done",
        }
    )
    SignedRecords(Workbench(demo_repo, now=at, actor="noah.kim")).write(
        path, data, "noah.kim", {"seam": SEAM, "clock": clock.id, "act": "stop"}, "stop\n"
    )
    later = T0 + timedelta(minutes=10)
    view = ClocksService(Workbench(demo_repo, now=later)).clock(clock.id)
    assert view.running and view.stopped_by is None
    assert any("may not stop clock" in n for n in view.notes)
    code, out, _err = cli(demo_repo, "--now", _iso(later), "gate", "--format", "json")
    records = next(
        c
        for c in json.loads(out)["checks"]
        if c["contract"] == SEAM and c["rule"] == "records_valid"
    )
    assert records["outcome"] == "fail" and path in records["message"]


def test_a_clock_record_edited_after_signing_does_not_count(demo_repo: Path) -> None:
    """Stretching a started clock's deadline in its record breaks the signature."""
    wb = Workbench(demo_repo, now=T0, actor="grace.whitfield")
    clock, written = ClocksService(wb).start("eu-ai-act-art73", SEAM, T0 - timedelta(days=16), "x")
    assert clock.state == "expired"
    record = demo_repo / written.path
    record.write_text(record.read_text().replace('duration = "P15D"', 'duration = "P150D"'))
    git_commit(demo_repo, "tidy", T0 + timedelta(minutes=1), who="Noah Kim")
    at = T0 + timedelta(minutes=2)
    verdicts = ClocksService(Workbench(demo_repo, now=at)).verdicts()
    assert verdicts.clocks == []
    assert any("signature does not verify" in m for _s, m in verdicts.flags)


def test_declared_kinds_can_bring_a_deadline_forward_never_push_it_back(demo_repo: Path) -> None:
    settings = demo_repo / "workbench.toml"
    settings.write_text(
        settings.read_text()
        + '\n[[clocks]]\nid = "customer-notice"\ntitle = "Notify affected customers"\n'
        'duration = "P10D"\nstops = "every affected customer is notified"\n'
        'source = "house policy CP-7"\n'
    )
    git_commit(demo_repo, "customer-notice clock", T0 - timedelta(minutes=5))
    wb = Workbench(demo_repo, now=T0, actor="sofia.marquez")
    clock, _ = ClocksService(wb).start("customer-notice", SEAM, T0, "INC-3")
    assert clock.deadline == T0 + timedelta(days=10)
    # Stretching the kind afterwards changes nothing; shortening it applies.
    for duration, expected in (("P100D", 10), ("P5D", 5)):
        text = settings.read_text().replace('duration = "P10D"', f'duration = "{duration}"')
        text = text.replace('duration = "P100D"', f'duration = "{duration}"')
        settings.write_text(text)
        view = ClocksService(Workbench(demo_repo, now=T0 + timedelta(hours=1))).clock(clock.id)
        assert view.deadline == T0 + timedelta(days=expected), duration
    # A library kind cannot be redefined.
    settings.write_text(
        settings.read_text()
        + '\n[[clocks]]\nid = "eu-ai-act-art73"\ntitle = "x"\nduration = "P150D"\nstops = "x"\n'
    )
    code, out, err = cli(demo_repo, "validate")
    assert code == 1 and "clock kind 'eu-ai-act-art73' is in the shipped library" in out + err


def test_clocks_show_on_the_seam_map_and_the_due_list(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=T0, actor="grace.whitfield")
    ClocksService(wb).start("eu-ai-act-art73-death", SEAM, T0 - timedelta(days=9), "INC-9")
    later = Workbench(demo_repo, now=T0 + timedelta(hours=1))
    view = next(v for v in later.seam_map() if v.id == SEAM)
    assert view.marks["clock"].startswith("eu-ai-act-art73-death due in 23h")
    code, out, err = cli(demo_repo, "--now", _iso(T0 + timedelta(hours=1)), "due", "--json")
    item = next(i for i in json.loads(out) if i["kind"] == "clock")
    assert item["state"] == "due-soon" and item["people"] == ["grace.whitfield"]
    assert "workbench clocks stop" in item["command"]
    expired = Workbench(demo_repo, now=T0 + timedelta(days=2))
    view = next(v for v in expired.seam_map() if v.id == SEAM)
    assert view.marks["clock"] == "eu-ai-act-art73-death EXPIRED"
