"""A hostile insider with an ordinary member key against pages and deliveries: each attack
is reproduced, and each must fail to change what counts and must fail `records_valid`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.notify.conftest import Receiver, channel_env
from tests.notify.helpers import T0, THRESHOLD_CONTRACT, notify_at, service, threshold_violation
from workbench.governance.pages import page_ack_path
from workbench.governance.records import render
from workbench.service.core import Workbench
from workbench.service.signed_records import SignedRecords


def _checks(repo: Path, at=None):  # type: ignore[no-untyped-def]
    result = Workbench(repo, now=at).obligations.gate.evaluate()
    return {(c.contract, c.rule): c for c in result.checks}


def _forge_ack(repo: Path, at, signer: str, vid: str, **fields: object) -> str:  # type: ignore[no-untyped-def]
    wb = Workbench(repo, now=at, actor=signer)
    path = page_ack_path(vid, at, signer)
    data = {
        "violation": vid,
        "contract": THRESHOLD_CONTRACT,
        "person": signer,
        "recorded": at,
        "acknowledged": fields.pop("acknowledged", at),
        "acknowledged_by": fields.pop("acknowledged_by", signer),
        "source": fields.pop("source", "workbench"),
        **fields,
    }
    SignedRecords(wb).write(
        path,
        render(data),
        signer,
        {"violation": vid, "contract": THRESHOLD_CONTRACT},
        "page ack\n",
    )
    return path


def test_read_back_acknowledgement_signed_by_a_member_does_not_count(
    demo_repo: Path, receiver: Receiver
) -> None:
    """A member "reads back" a PagerDuty acknowledgement in time for a page nobody answered:
    only a runner the signed policy names may record what PagerDuty said."""
    notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)
    late = T0 + timedelta(minutes=40)
    path = _forge_ack(
        demo_repo,
        late,
        "lena.fischer",
        vid,
        source="pagerduty",
        acknowledged_by="priya.nair",
        acknowledged=T0 + timedelta(minutes=5),
    )
    page = next(p for p in service(demo_repo, late).page_verdicts().pages if p.violation == vid)
    assert page.state == "missed" and page.ack is None
    checks = _checks(demo_repo, late)
    assert checks[(THRESHOLD_CONTRACT, "page_test")].outcome == "fail"
    records = checks[(THRESHOLD_CONTRACT, "records_valid")]
    assert records.outcome == "fail" and path in records.message
    assert "not an authorised runner" in records.message


def test_acknowledging_in_someone_elses_name_does_not_count(
    demo_repo: Path, receiver: Receiver
) -> None:
    notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)
    at = T0 + timedelta(minutes=5)
    path = _forge_ack(demo_repo, at, "lena.fischer", vid, acknowledged_by="priya.nair")
    assert service(demo_repo, at).page_verdicts().acks == {}
    records = _checks(demo_repo, at)[(THRESHOLD_CONTRACT, "records_valid")]
    assert records.outcome == "fail" and path in records.message
    assert "for someone else" in records.message


def test_an_ack_by_someone_never_paged_does_not_count(demo_repo: Path, receiver: Receiver) -> None:
    notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)
    at = T0 + timedelta(minutes=5)
    path = _forge_ack(demo_repo, at, "lena.fischer", vid)
    assert vid not in service(demo_repo, at).page_verdicts().acks
    records = _checks(demo_repo, at)[(THRESHOLD_CONTRACT, "records_valid")]
    assert (
        records.outcome == "fail" and path in records.message and "was not paged" in records.message
    )


def test_backdated_page_ack_is_flagged(demo_repo: Path, receiver: Receiver) -> None:
    """The primary acknowledges an hour late but dates the record within the SLA: it is
    older than its parent commit (the page's delivery), so it does not count."""
    notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)
    wb = Workbench(demo_repo, now=T0 + timedelta(minutes=70), actor="priya.nair")
    forged = T0 + timedelta(minutes=5)
    path = page_ack_path(vid, forged, "priya.nair")
    data = render(
        {
            "violation": vid,
            "contract": THRESHOLD_CONTRACT,
            "person": "priya.nair",
            "recorded": forged,
            "acknowledged": forged,
            "acknowledged_by": "priya.nair",
            "source": "workbench",
        }
    )
    # Delivery records later than the forged time make its parent commit newer than it.
    notify_at(demo_repo, T0 + timedelta(minutes=60), channel_env(receiver))
    SignedRecords(wb).write(
        path, data, "priya.nair", {"violation": vid, "contract": THRESHOLD_CONTRACT}, "ack\n"
    )
    later = T0 + timedelta(minutes=71)
    assert vid not in service(demo_repo, later).page_verdicts().acks
    records = _checks(demo_repo, later)[(THRESHOLD_CONTRACT, "records_valid")]
    assert records.outcome == "fail" and "before its parent commit" in records.message


def test_a_delivery_record_edited_after_signing_does_not_count_and_is_sent_again(
    demo_repo: Path, receiver: Receiver
) -> None:
    """A failed page rewritten as delivered (to silence it) breaks its signature: it does
    not count, the gate says so, and the page is still sent."""
    env = channel_env(receiver)
    receiver.answer("/v2/enqueue", *[(500, "down", {})] * 3)
    first = notify_at(demo_repo, T0, env)
    vid = threshold_violation(demo_repo)
    record = next(s for s in first.sent if s.event.violation == vid and s.event.kind == "page")
    file = demo_repo / str(record.path)
    file.write_text(file.read_text().replace('outcome = "failed"', 'outcome = "delivered"'))
    import subprocess

    subprocess.run(["git", "-C", str(demo_repo), "add", "-A"], check=True)
    from tests.notify.helpers import git_commit

    git_commit(demo_repo, "tidy", T0 + timedelta(minutes=1), who="Lena Fischer")
    at = T0 + timedelta(minutes=3)
    records = _checks(demo_repo, at)[(THRESHOLD_CONTRACT, "records_valid")]
    assert records.outcome == "fail" and str(record.path) in records.message
    again = notify_at(demo_repo, at, env)
    resent = [s for s in again.sent if s.event.violation == vid and s.event.kind == "page"]
    assert len(resent) == 1 and resent[0].answer.ok


def test_an_unsigned_delivery_record_does_not_silence_a_page(
    demo_repo: Path, receiver: Receiver
) -> None:
    """A hand-written 'delivered' record without a signature, in a repository with a key
    registry: it does not count; the page goes out."""
    from workbench.notify.records import delivery_path, key_sha256

    vid = threshold_violation(demo_repo)
    key = f"page:{vid}:primary"
    path = delivery_path(key, T0, "lena.fischer")
    (demo_repo / path).parent.mkdir(parents=True)
    (demo_repo / path).write_bytes(
        render(
            {
                "key": key_sha256(key),
                "what": key,
                "kind": "page",
                "channel": "pagerduty",
                "contract": THRESHOLD_CONTRACT,
                "violation": vid,
                "person": "lena.fischer",
                "recorded": T0,
                "sent": T0,
                "attempt": 1,
                "outcome": "delivered",
                "answer": "202",
            }
        )
    )
    import subprocess

    subprocess.run(["git", "-C", str(demo_repo), "add", "-A"], check=True)
    from tests.notify.helpers import git_commit

    git_commit(demo_repo, "delivered", T0, who="Lena Fischer")
    report = notify_at(demo_repo, T0 + timedelta(minutes=1), channel_env(receiver))
    assert any(s.event.key == key and s.answer.ok for s in report.sent)
    records = _checks(demo_repo, T0 + timedelta(minutes=2))[(THRESHOLD_CONTRACT, "records_valid")]
    assert records.outcome == "fail" and "not signed by lena.fischer" in records.message


def test_the_gate_judges_pages_without_folding_the_run_history(
    demo_repo: Path, receiver: Receiver, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A page record names its violation's term and opening: the gate's page test reads no
    older run than the head runs (the ledger guarantee holds with notify in use)."""
    from workbench.evidence.ledger import ledger_path
    from workbench.service.runs import RunBook

    notify_at(demo_repo, T0, channel_env(receiver))
    vid = threshold_violation(demo_repo)
    at = T0 + timedelta(minutes=30)
    before = _checks(demo_repo, at)[(THRESHOLD_CONTRACT, "page_test")]
    assert before.outcome == "fail" and vid in before.message
    *old, head = sorted(p.stem for p in (demo_repo / "findings").glob("*.json"))
    assert old
    for run in old:
        (demo_repo / f"findings/{run}.json").write_bytes(b"{ not json")
        (demo_repo / ledger_path(run)).write_bytes(b"{ not json")
    opened: list[str] = []
    read = RunBook._read

    def spy(self: RunBook, path: str, limit: int | None = None) -> bytes | None:
        opened.append(path)
        return read(self, path, limit)

    monkeypatch.setattr(RunBook, "_read", spy)
    after = _checks(demo_repo, at)[(THRESHOLD_CONTRACT, "page_test")]
    assert (after.outcome, after.message) == (before.outcome, before.message)
    big = {p for p in opened if not p.endswith((".statement.json", ".sig"))}
    assert big == {f"findings/{head}.json", ledger_path(head)}, big
