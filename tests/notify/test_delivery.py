"""`workbench notify` against real receivers on loopback: what each receiver got, that a
delivery is recorded once and never sent twice, retries with backoff, escalation to the
backup, PagerDuty's lifecycle, and secrets that never leave the user's side."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.notify.conftest import (
    SECRET_ROUTING_KEY,
    SECRET_SLACK_URL_PART,
    SECRET_TOKEN,
    SECRETS,
    SMTP_PASSWORD,
    Mailbox,
    Receiver,
    channel_env,
)
from tests.notify.helpers import (
    NOTIFIER,
    T0,
    THRESHOLD_CONTRACT,
    cli,
    committed_text,
    git_commit,
    notify_at,
    service,
    threshold_violation,
)
from workbench.service.core import Workbench


def _pd_triggers(receiver: Receiver) -> list[dict]:  # type: ignore[type-arg]
    return [r.json for r in receiver.to("/v2/enqueue") if r.json["event_action"] == "trigger"]


def test_notify_pages_each_open_violation_once_and_records_each_delivery(
    demo_repo: Path, receiver: Receiver, smtp: Mailbox
) -> None:
    env = channel_env(receiver, smtp)
    report = notify_at(demo_repo, T0, env)
    triggers = _pd_triggers(receiver)
    vid = threshold_violation(demo_repo)
    # One page per open fail-level violation, to the primary, with the routing key of the
    # user's side and one stable dedup_key per violation.
    assert len(triggers) == 3
    page = next(t for t in triggers if t["dedup_key"] == f"handshake-{vid}")
    assert page["routing_key"] == SECRET_ROUTING_KEY
    assert page["payload"]["severity"] == "critical"
    assert page["payload"]["component"] == THRESHOLD_CONTRACT
    assert page["payload"]["group"] == "loan-decisioning"
    assert page["payload"]["custom_details"]["recipient"] == "priya.nair"
    assert "approval-threshold" in page["payload"]["summary"]
    # The change notice to its recipient and the weekly summary to each named reviewer,
    # by e-mail over STARTTLS with the user's credentials.
    assert smtp.logins and all(m["tls"] for m in smtp.messages)
    to = sorted(a for m in smtp.messages for a in m["to"])
    assert to == [
        "aisha.rahman@meridian.example",
        "ben.carter@meridian.example",
        "helen.brooks@meridian.example",
    ]
    weekly = next(m for m in smtp.messages if m["to"] == ["helen.brooks@meridian.example"])
    assert "Weekly living-attestation summary 2026-W47" in weekly["data"]
    assert report.ok and len(report.sent) == 6
    # One signed record per delivery, committed by the notifier.
    paths = [s.path for s in report.sent]
    assert len(set(paths)) == 6
    for path in paths:
        assert path is not None and path.startswith("notify/deliveries/")
        assert (demo_repo / path).with_suffix(".sig").is_file()
        text = (demo_repo / path).read_text()
        assert f'person = "{NOTIFIER}"' in text and 'outcome = "delivered"' in text
    status = subprocess.run(
        ["git", "-C", str(demo_repo), "status", "--porcelain"], capture_output=True, text=True
    ).stdout
    assert status == ""
    # Idempotent: a second run sends nothing and records nothing.
    head = subprocess.run(
        ["git", "-C", str(demo_repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    before = len(receiver.requests), len(smtp.messages)
    again = notify_at(demo_repo, T0 + timedelta(minutes=5), env)
    assert again.sent == [] and again.ok
    assert (len(receiver.requests), len(smtp.messages)) == before
    assert (
        head
        == subprocess.run(
            ["git", "-C", str(demo_repo), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout
    )
    # The gate counts the records (signed by a registered person, times that hold).
    result = Workbench(demo_repo).obligations.gate.evaluate()
    assert all(c.outcome == "pass" for c in result.checks if c.rule == "records_valid"), [
        c.message for c in result.checks if c.rule == "records_valid" and c.outcome != "pass"
    ]


def test_delivery_signature_verifies_with_ssh_keygen(
    demo_repo: Path, receiver: Receiver, tmp_path: Path
) -> None:
    """The oracle: the notifier's signature over the statement verifies with ssh-keygen."""
    notify_at(demo_repo, T0, channel_env(receiver))
    record = next((demo_repo / "notify/deliveries").glob("*/*.toml"))
    statement = record.with_name(record.name.replace(".toml", ".statement.json"))
    signature = record.with_suffix(".sig")
    pub = (demo_repo / ".git/handshake-workbench/demo-keys/ci.pipeline_ed25519.pub").read_text()
    allowed = tmp_path / "allowed"
    allowed.write_text(f"ci.pipeline@meridian.example {pub.split()[0]} {pub.split()[1]}\n")
    done = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(allowed),
            "-I",
            "ci.pipeline@meridian.example",
            "-n",
            "handshake-review-v1@meridian.example",
            "-s",
            str(signature),
        ],
        input=statement.read_bytes(),
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(statement.read_text())
    assert data["predicateType"] == "https://handshake-workbench.dev/delivery/v1"
    assert data["subject"][0]["name"] == str(record.relative_to(demo_repo))


def test_pagerduty_429_and_5xx_are_retried_with_backoff_and_never_lost(
    demo_repo: Path, receiver: Receiver
) -> None:
    env = channel_env(receiver)
    vid = threshold_violation(demo_repo)
    # PagerDuty throttles, then fails, then takes it (for every page).
    receiver.answer(
        "/v2/enqueue",
        *[(429, {"status": "throttle", "message": "Requests throttled"}, {"Retry-After": "300"})]
        * 3,
        *[(503, "upstream unavailable", {})] * 3,
    )
    first = notify_at(demo_repo, T0, env)
    pages = [s for s in first.sent if s.event.channel == "pagerduty"]
    assert len(pages) == 3 and not any(s.answer.ok for s in pages) and not first.ok
    attempt = next(s for s in pages if s.event.violation == vid)
    text = (demo_repo / str(attempt.path)).read_text()
    assert 'outcome = "failed"' in text and "429" in text and "retry_after" in text

    def paged(report):  # type: ignore[no-untyped-def]
        return [s for s in report.sent if s.event.channel == "pagerduty"]

    # Within Retry-After (5 minutes): waiting, nothing sent, nothing recorded.
    wait = notify_at(demo_repo, T0 + timedelta(minutes=4), env)
    assert paged(wait) == []
    assert len([d for d in wait.waiting if d.event.channel == "pagerduty"]) == 3
    assert len(receiver.to("/v2/enqueue")) == 3
    # After it: attempt 2 gets a 503, then the backoff doubles (2 minutes).
    second = paged(notify_at(demo_repo, T0 + timedelta(minutes=5), env))
    assert [s.attempt for s in second] == [2, 2, 2] and not any(s.answer.ok for s in second)
    assert "503" in second[0].answer.detail
    assert paged(notify_at(demo_repo, T0 + timedelta(minutes=6), env)) == []
    third = paged(notify_at(demo_repo, T0 + timedelta(minutes=7), env))
    assert [s.attempt for s in third] == [3, 3, 3] and all(s.answer.ok for s in third)
    # Every attempt is on record, and the same dedup_key went each time.
    keys = [r.json["dedup_key"] for r in receiver.to("/v2/enqueue")]
    assert keys.count(f"handshake-{vid}") == 3
    folder = (demo_repo / str(attempt.path)).parent
    assert len(list(folder.glob("*.toml"))) == 3
    later = paged(notify_at(demo_repo, T0 + timedelta(hours=1), env))
    assert [s.event.kind for s in later] == ["escalation"] * 3  # pages: never again


def test_kill_9_between_send_and_record_resends_once_with_the_same_key(
    demo_repo: Path, receiver: Receiver
) -> None:
    """At least once: PagerDuty got the page, the notifier died before recording it; the
    next run sends it again with the same dedup_key (PagerDuty folds the two), records it,
    and a third run sends nothing."""
    import os

    env = {**os.environ, **channel_env(receiver)}
    for name in ("WORKBENCH_CHANNEL_SLACK_URL",):
        env.pop(name, None)
    command = [sys.executable, "-m", "workbench", "--repo", str(demo_repo), "--as", NOTIFIER]
    proc_holder: dict[str, subprocess.Popen[bytes]] = {}
    receiver.kill = (
        lambda r: r.path.startswith("/v2/enqueue"),
        lambda: proc_holder["p"].pid,
    )
    proc = subprocess.Popen(
        [*command, "notify"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc_holder["p"] = proc
    proc.communicate(timeout=120)
    assert proc.returncode == -9
    first_key = receiver.to("/v2/enqueue")[0].json["dedup_key"]
    # Nothing was recorded for it: the kill came between the send and the record.
    assert not list(demo_repo.glob("notify/deliveries/*/*.toml"))
    again = subprocess.run(
        [*command, "notify"], env=env, capture_output=True, text=True, timeout=120
    )
    keys = [r.json["dedup_key"] for r in receiver.to("/v2/enqueue")]
    assert keys.count(first_key) == 2, keys  # sent again, the same key
    assert again.returncode in (0, 1), again.stderr  # e-mail to the demo host may fail
    before = len(receiver.to("/v2/enqueue"))
    third = subprocess.run(
        [*command, "notify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert third.returncode in (0, 1), third.stderr
    assert len(receiver.to("/v2/enqueue")) == before  # every page recorded: none sent again
    status = subprocess.run(
        ["git", "-C", str(demo_repo), "status", "--porcelain"], capture_output=True, text=True
    ).stdout
    assert status == ""


def test_escalation_to_the_backup_after_ack_sla_and_time_to_ack(
    demo_repo: Path, receiver: Receiver
) -> None:
    env = channel_env(receiver)
    vid = threshold_violation(demo_repo)
    notify_at(demo_repo, T0, env)
    # ack_sla is PT15M: one second before, the page awaits; nobody else is paged.
    early = notify_at(demo_repo, T0 + timedelta(minutes=15) - timedelta(seconds=1), env)
    assert not [s for s in early.sent if s.event.kind == "escalation"]
    page = next(
        p
        for p in service(demo_repo, T0 + timedelta(minutes=14)).page_verdicts().pages
        if p.violation == vid
    )
    assert page.state == "awaiting"
    # At the SLA: missed; the backup is paged (an incident of its own).
    late = notify_at(demo_repo, T0 + timedelta(minutes=15), env)
    escalations = [
        s for s in late.sent if s.event.kind == "escalation" and s.event.violation == vid
    ]
    assert len(escalations) == 1 and escalations[0].event.recipient == "ravi.iyer"
    backup = [t for t in _pd_triggers(receiver) if t["dedup_key"] == f"handshake-{vid}-backup"]
    assert len(backup) == 1 and "did not acknowledge" in backup[0]["payload"]["summary"]
    # The missed acknowledgement is a finding on the seam: the gate's page_test fails.
    wb = Workbench(demo_repo, now=T0 + timedelta(minutes=20))
    checks = {(c.contract, c.rule): c for c in wb.obligations.gate.evaluate().checks}
    page_check = checks[(THRESHOLD_CONTRACT, "page_test")]
    assert page_check.outcome == "fail" and "NOT acknowledged within PT15M" in page_check.message
    assert "priya.nair" in page_check.fixers
    # One page test: `show`, the seam map and the violation history say the same.
    code, out, _err = cli(demo_repo, "--now", "2026-11-27T10:20:00Z", "show", THRESHOLD_CONTRACT)
    assert "page test    fail: page for" in out and "NOT acknowledged within PT15M" in out
    view = next(v for v in wb.seam_map() if v.id == THRESHOLD_CONTRACT)
    assert view.marks["page"] == "fails" and view.marks["paged"] == "1 page(s) NOT acknowledged"
    # The backup acknowledges, late: the page test passes again, the lateness stays.
    ack_at = T0 + timedelta(minutes=22)
    ack, written = service(demo_repo, ack_at, "ravi.iyer").acknowledge(vid, "on it")
    assert written.signed
    page = next(p for p in service(demo_repo, ack_at).page_verdicts().pages if p.violation == vid)
    assert page.state == "acknowledged-late"
    assert page.time_to_ack == timedelta(minutes=22) and page.sla == timedelta(minutes=15)
    checks = {
        (c.contract, c.rule): c for c in Workbench(demo_repo).obligations.gate.evaluate().checks
    }
    page_check = checks[(THRESHOLD_CONTRACT, "page_test")]
    assert page_check.outcome == "pass" and "22m LATE (SLA PT15M)" in page_check.message
    code, out, _err = cli(demo_repo, "page", "--json")
    shown = next(p for p in json.loads(out) if p["violation"] == vid)
    assert shown["time_to_ack_seconds"] == 22 * 60 and shown["within_sla"] is False
    assert shown["acknowledged_by"] == "ravi.iyer"
    code, out, _err = cli(demo_repo, "violations", "show", vid)
    assert "acknowledged by ravi.iyer in 22m LATE (SLA PT15M)" in out
    code, out, _err = cli(demo_repo, "violations", "show", vid, "--json")
    assert json.loads(out)["page"]["within_sla"] is False
    # No further escalation once acknowledged; PagerDuty hears of the acknowledgement for
    # both incidents, with their own dedup_keys.
    after = notify_at(demo_repo, ack_at + timedelta(minutes=1), env)
    acks = [s.event for s in after.sent if s.event.kind == "pd-acknowledge"]
    assert sorted(e.dedup_key for e in acks) == [f"handshake-{vid}", f"handshake-{vid}-backup"]
    sent_acks = [
        r.json for r in receiver.to("/v2/enqueue") if r.json["event_action"] == "acknowledge"
    ]
    assert len(sent_acks) == 2 and "payload" not in sent_acks[0]


def test_page_ack_on_the_command_line_and_resolve_reach_pagerduty(
    demo_repo: Path, receiver: Receiver
) -> None:
    from datetime import UTC, datetime

    env = channel_env(receiver)
    vid = threshold_violation(demo_repo)
    notify_at(demo_repo, T0, env)
    code, out, err = cli(demo_repo, "--as", "priya.nair", "page", "ack", vid, "--note", "on it")
    assert code == 0, err
    assert f"acknowledged {vid}" in out and "signed" in out
    page = next(p for p in service(demo_repo).page_verdicts().pages if p.violation == vid)
    assert page.ack is not None and page.ack.acknowledged_by == "priya.nair"
    assert page.ack.note == "on it"
    # Acknowledged once: a second acknowledgement is refused.
    code, _out, err = cli(demo_repo, "--as", "ravi.iyer", "page", "ack", vid)
    assert code == 2 and "already acknowledged by priya.nair" in err
    # `--now` is a what-if: it cannot record an acknowledgement.
    code, _out, err = cli(
        demo_repo, "--now", "2026-11-27T10:01:00Z", "--as", "priya.nair", "page", "ack", vid
    )
    assert code == 2 and "what-if" in err
    # Once the violation is resolved, PagerDuty's incident is resolved too.
    Workbench(demo_repo, actor="sofia.marquez").evidence.violations.close(
        vid, resolved=True, note="threshold restored to the co-signed 0.18"
    )
    done = notify_at(demo_repo, datetime.now(UTC), env)
    resolves = [r.json for r in receiver.to("/v2/enqueue") if r.json["event_action"] == "resolve"]
    assert [r["dedup_key"] for r in resolves] == [f"handshake-{vid}"]
    assert resolves[0]["routing_key"] == SECRET_ROUTING_KEY and "payload" not in resolves[0]
    assert any(s.event.kind == "pd-resolve" for s in done.sent)
    assert not [
        s for s in notify_at(demo_repo, datetime.now(UTC), env).sent if s.event.violation == vid
    ]


def test_page_acknowledged_in_time_shows_time_to_ack_within_sla(
    demo_repo: Path, receiver: Receiver
) -> None:
    env = channel_env(receiver)
    vid = threshold_violation(demo_repo)
    notify_at(demo_repo, T0, env)
    service(demo_repo, T0 + timedelta(minutes=7), "priya.nair").acknowledge(vid)
    page = next(p for p in service(demo_repo).page_verdicts().pages if p.violation == vid)
    assert page.state == "acknowledged" and page.time_to_ack == timedelta(minutes=7)
    assert page.to_json(T0)["within_sla"] is True


def test_someone_not_paged_cannot_acknowledge(demo_repo: Path, receiver: Receiver) -> None:
    notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)
    code, _out, err = cli(demo_repo, "--as", "lena.fischer", "page", "ack", vid)
    assert code == 2 and "was not paged" in err


def test_pagerduty_acknowledgement_read_back_only_when_the_user_allows(
    demo_repo: Path, receiver: Receiver
) -> None:
    env = channel_env(receiver)
    vid = threshold_violation(demo_repo)
    notify_at(demo_repo, T0, env)
    receiver.gets["/incidents"] = {
        "incidents": [
            {
                "id": "Q1ABC",
                "status": "acknowledged",
                "acknowledgements": [
                    {
                        "at": "2026-11-27T10:06:00Z",
                        "acknowledger": {
                            "id": "PU1",
                            "type": "user_reference",
                            "summary": "Priya Nair",
                        },
                    }
                ],
            }
        ]
    }
    receiver.gets["/users/PU1"] = {"user": {"id": "PU1", "email": "priya.nair@meridian.example"}}
    # Not allowed: no request to the REST API at all.
    notify_at(demo_repo, T0 + timedelta(minutes=8), env)
    assert not [r for r in receiver.requests if r.method == "GET"]
    allowed = {
        **env,
        "WORKBENCH_CHANNEL_PAGERDUTY_READ_ACKS": "1",
        "WORKBENCH_CHANNEL_PAGERDUTY_API_TOKEN": SECRET_TOKEN,
        "WORKBENCH_CHANNEL_PAGERDUTY_API_URL": receiver.url,
    }
    report = notify_at(demo_repo, T0 + timedelta(minutes=9), allowed)
    gets = [r for r in receiver.requests if r.method == "GET"]
    assert gets and gets[0].headers["Authorization"] == f"Token token={SECRET_TOKEN}"
    assert f"incident_key=handshake-{vid}" in gets[0].path
    assert any("acknowledged by priya.nair" in line for line in report.read_back)
    page = next(p for p in service(demo_repo).page_verdicts().pages if p.violation == vid)
    assert page.ack is not None and page.ack.source == "pagerduty"
    assert page.ack.person == NOTIFIER and page.ack.acknowledged_by == "priya.nair"
    assert page.state == "acknowledged" and page.time_to_ack == timedelta(minutes=6)
    # PagerDuty knows already: no acknowledge event is sent back to it.
    later = notify_at(demo_repo, T0 + timedelta(minutes=10), allowed)
    assert not [
        s for s in later.sent if s.event.kind == "pd-acknowledge" and s.event.violation == vid
    ]
    assert SECRET_TOKEN not in committed_text(demo_repo)


def test_slack_webhook_and_command_channels_get_what_was_sent(
    demo_repo: Path, receiver: Receiver, tmp_path: Path
) -> None:
    """A contract's change channel on Slack, the people channel as a webhook with a bearer
    token, and a command channel with the event on stdin."""
    settings = demo_repo / "workbench.toml"
    text = settings.read_text().replace('people = "email"', 'people = "hook"')
    text += f'\n[channels.hook]\nkind = "webhook"\nurl = "{receiver.url}/hook"\n'
    text += '\n[channels.local]\nkind = "command"\n'
    settings.write_text(text)
    contract = demo_repo / "contracts/policy-data-to-claims-agent.toml"
    contract.write_text(
        contract.read_text().replace(
            'ack_window = "PT48H"\n', 'ack_window = "PT48H"\nchannel = "slack:#policy-seam"\n', 1
        )
    )
    git_commit(demo_repo, "channels", FIXED_NOW + timedelta(minutes=10))
    out = tmp_path / "events.jsonl"
    script = tmp_path / "sink.py"
    script.write_text(
        "import sys\n"
        f"open({str(out)!r}, 'a').write(sys.stdin.read().replace('\\n', ' ') + '\\n')\n"
        "print('queued')\n"
    )
    env = {
        **channel_env(receiver),
        "WORKBENCH_CHANNEL_HOOK_URL": f"{receiver.url}/hook",
        "WORKBENCH_CHANNEL_HOOK_TOKEN": SECRET_TOKEN,
        "WORKBENCH_CHANNEL_LOCAL_COMMAND": f"{sys.executable} {script}",
    }
    # The page of the policy seam goes through the command channel.
    text = contract.read_text().replace(
        'channel = "pagerduty:policy-data-oncall"', 'channel = "local:oncall"'
    )
    contract.write_text(text)
    git_commit(demo_repo, "local pager", FIXED_NOW + timedelta(minutes=11))
    report = notify_at(demo_repo, T0, env)
    assert not report.failed, [s.answer.detail for s in report.failed]
    hooks = receiver.to("/hook")
    assert hooks and all(r.headers["Authorization"] == f"Bearer {SECRET_TOKEN}" for r in hooks)
    weekly = next(r.json for r in hooks if r.json["kind"] == "weekly")
    assert weekly["format"] == "handshake-workbench/event@1"
    assert weekly["recipient"]["id"] in ("helen.brooks", "ben.carter")
    assert hooks[0].headers["Idempotency-Key"] == hooks[0].json["key_sha256"]
    slack = receiver.to(f"/slack/{SECRET_SLACK_URL_PART}")
    assert slack and slack[0].json["channel"] == "#policy-seam"
    assert "policy-data-to-claims-agent#" in slack[0].json["text"]
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert {e["kind"] for e in lines} == {"page"} and len(lines) == 2
    assert all(e["contract"] == "policy-data-to-claims-agent" for e in lines)
    page = next(s for s in report.sent if s.event.channel == "local")
    assert page.answer.detail == "exit 0: queued"


def test_secrets_never_appear_in_outputs_records_or_errors(
    demo_repo: Path, receiver: Receiver, smtp: Mailbox
) -> None:
    """The receiver echoes the routing key back in an error (as a careless remote might);
    neither the CLI's output, the records, the commit messages nor an error shows it."""
    env = channel_env(receiver, smtp)
    receiver.answer(
        "/v2/enqueue",
        *[(500, f"bad routing key {SECRET_ROUTING_KEY} for service", {})] * 3,
    )
    import os

    full = {**os.environ, **env}
    run = subprocess.run(
        [sys.executable, "-m", "workbench", "--repo", str(demo_repo), "--as", NOTIFIER, "notify"],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1  # three pages failed
    assert "[secret]" in run.stdout
    dry = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "--repo",
            str(demo_repo),
            "notify",
            "--dry-run",
            "--json",
        ],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # A misconfigured channel's error does not carry the secret either.
    bad = {**full, "WORKBENCH_CHANNEL_EMAIL_HOST": ""}
    refused = subprocess.run(
        [sys.executable, "-m", "workbench", "--repo", str(demo_repo), "--as", NOTIFIER, "notify"],
        env={
            **bad,
            "WORKBENCH_CHANNEL_EMAIL_HOST": "",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    seen = run.stdout + run.stderr + dry.stdout + dry.stderr + refused.stdout + refused.stderr
    seen += committed_text(demo_repo)
    for path in demo_repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            seen += path.read_text(errors="replace")
    for secret in SECRETS:
        assert secret not in seen, secret
    assert SMTP_PASSWORD not in json.dumps([m["data"] for m in smtp.messages])


@pytest.mark.parametrize(
    ("channel", "refused"),
    [
        ("pagerduty", "no PagerDuty routing key"),
        ("slack", "no Slack webhook URL"),
    ],
)
def test_a_channel_without_its_secret_is_reported_not_lost(
    demo_repo: Path, receiver: Receiver, channel: str, refused: str
) -> None:
    env = channel_env(receiver)
    env.pop("WORKBENCH_CHANNEL_PAGERDUTY_ROUTING_KEY")
    report = notify_at(demo_repo, T0, env)
    if channel == "pagerduty":
        failed = [s for s in report.failed if s.event.channel == "pagerduty"]
        assert len(failed) == 3 and refused in failed[0].answer.detail
        assert not receiver.to("/v2/enqueue")
        # Recorded as failed attempts: the next run after the backoff tries again.
        again = notify_at(demo_repo, T0 + timedelta(minutes=2), channel_env(receiver))
        assert len([s for s in again.sent if s.answer.ok and s.event.kind == "page"]) == 3
    else:
        from workbench.model.channels import SlackChannel
        from workbench.notify.config import resolve

        ch = resolve("slack", SlackChannel(kind="slack"), "#x", env={}, config={})
        assert ch.problem is not None and refused in ch.problem


def test_repository_text_is_made_safe_for_each_channel(
    demo_repo: Path, receiver: Receiver, smtp: Mailbox
) -> None:
    """A notice summary carrying a Slack mention, an escape sequence and a newline: Slack
    gets it escaped, the e-mail subject stays one line with the controls visible."""
    contract = demo_repo / "contracts/policy-data-to-claims-agent.toml"
    text = contract.read_text()
    text = text.replace('ack_window = "PT48H"\n', 'ack_window = "PT48H"\nchannel = "slack:#p"\n', 1)
    contract.write_text(text)
    git_commit(demo_repo, "<!channel> \u001b[2J boom\nRESULT: OK", FIXED_NOW + timedelta(minutes=3))
    report = notify_at(demo_repo, T0, channel_env(receiver, smtp))
    assert not report.failed, [s.answer.detail for s in report.failed]
    posts = [r.json["text"] for r in receiver.to(f"/slack/{SECRET_SLACK_URL_PART}")]
    posted = next(t for t in posts if "policy-data-to-claims-agent#2" in t)
    assert "&lt;!channel&gt;" in posted and "<!channel>" not in posted
    assert "\x1b" not in posted and "\\x1b[2J" in posted
    notice = next(
        m for m in smtp.messages if "Change notice policy-data-to-claims-agent#2" in m["data"]
    )
    assert "\x1b" not in notice["data"] and "\\x1b[2J" in notice["data"]
    assert "RESULT: OK" not in [x.strip() for x in notice["data"].splitlines()]
