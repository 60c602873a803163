"""The one rule deciding which evidence registrations count (``decide_registrations``):
authority, signatures, time, withdrawals, re-pointed names and the legacy manifest. Pure:
real record bytes rendered and parsed, inputs built as the service and verify-bundle do."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from workbench.evidence.manifest import MANIFEST_PATH, Manifest, Snapshot, snapshot_id
from workbench.evidence.registrations import (
    RegistrationInputs,
    decide_registrations,
    parse_registrations,
    registration_path,
    render_registration,
)
from workbench.governance.record_time import Placement

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TEAMS = {"pia.provider": "feed", "cora.consumer": "model", "ci.pipeline": "platform"}


def snap(
    n: int, *, contract: str | None = "feed-to-model", name: str | None = None, **kw: Any
) -> Snapshot:
    sha = hashlib.sha256(str(n).encode()).hexdigest()
    sid = snapshot_id(sha)
    fields: dict[str, Any] = {
        "id": sid, "kind": "freshness_lags", "path": f"evidence/snapshots/{sid}.csv",
        "sha256": sha, "size": 10, "format": "csv", "captured_at": NOW - timedelta(hours=2),
        "source": "export", "contract": contract, "term": None, "name": name,
    }  # fmt: skip
    return Snapshot(**(fields | kw))


def record(s: Snapshot, who: str, at: datetime, act: str = "register") -> tuple[str, bytes]:
    path = registration_path(s.id, at, who, act)
    return path, render_registration(s if act == "register" else None, s.id, who, act, at, "x")


def decide(
    *records: tuple[str, bytes],
    signatures: dict[str, str] | None = None,
    required: bool = True,
    legacy: Manifest | None = None,
    placements: dict[str, Placement] | None = None,
    providers: dict[str, str] | None = None,
) -> Any:
    parsed, unreadable = parse_registrations(dict(records))
    sig = {r.path: "valid" for r in parsed} | (signatures or {})
    return decide_registrations(
        RegistrationInputs(
            records=parsed,
            signatures=sig,  # type: ignore[arg-type]
            placements=placements or {},
            signatures_required=required,
            providers=providers or {"feed-to-model": "feed"},
            teams=TEAMS,
            runners=frozenset({"ci.pipeline"}),
            runners_named=("ci.pipeline",),
            people_left=lambda pid, day: False,
            legacy=legacy,
            now=NOW,
            unreadable=unreadable,
        )
    )


def ids(selection: Any) -> set[str]:
    return {s.id for s in selection.manifest.snapshots}


def test_provider_and_runner_count_consumer_does_not() -> None:
    a, b, c = snap(1), snap(2), snap(3)
    at = NOW - timedelta(hours=1)
    sel = decide(
        record(a, "pia.provider", at), record(b, "ci.pipeline", at), record(c, "cora.consumer", at)
    )
    assert ids(sel) == {a.id, b.id}
    [(contract, message)] = sel.flags
    assert contract == "feed-to-model"
    assert "cora.consumer may not register evidence for feed-to-model" in message
    assert message.startswith(f"evidence/registrations/{c.id}/")
    registered = sel.manifest.get(a.id)
    assert registered.registered_by == "pia.provider" and registered.registered_at == at


def test_repository_wide_evidence_needs_a_runner() -> None:
    wide = snap(4, contract=None)
    at = NOW - timedelta(hours=1)
    assert ids(decide(record(wide, "pia.provider", at))) == set()
    assert ids(decide(record(wide, "ci.pipeline", at))) == {wide.id}


def test_unsigned_invalid_backdated_and_future_captures_do_not_count() -> None:
    s = snap(5)
    at = NOW - timedelta(hours=1)
    path, data = record(s, "pia.provider", at)
    assert (
        "not signed by pia.provider"
        in decide((path, data), signatures={path: "unsigned"}).flags[0][1]
    )
    assert "does not verify" in decide((path, data), signatures={path: "invalid"}).flags[0][1]
    late = Placement(NOW - timedelta(minutes=30), NOW - timedelta(minutes=40))
    assert "backdated" in decide((path, data), placements={path: late}).flags[0][1]
    ahead = snap(6, captured_at=NOW)
    assert "after it was registered" in decide(record(ahead, "pia.provider", at)).flags[0][1]
    # Without a key registry an unsigned registration by the provider counts.
    assert ids(decide((path, data), signatures={path: "unsigned"}, required=False)) == {s.id}


def test_withdrawal_needs_the_same_authority() -> None:
    s = snap(7)
    at = NOW - timedelta(hours=2)
    reg = record(s, "pia.provider", at)
    by_outsider = record(s, "cora.consumer", at + timedelta(minutes=30), "withdraw")
    sel = decide(reg, by_outsider)
    assert ids(sel) == {s.id} and "cora.consumer may not" in sel.flags[0][1]
    by_provider = record(s, "pia.provider", at + timedelta(minutes=30), "withdraw")
    sel = decide(reg, by_provider)
    assert ids(sel) == set() and "withdrawn by pia.provider" in sel.ignored[s.id]


def test_a_name_belongs_to_the_latest_counting_registration() -> None:
    taken = NOW - timedelta(hours=4)
    old, new, forged = (snap(n, name="ref", captured_at=taken) for n in (8, 9, 10))
    at = NOW - timedelta(hours=3)
    sel = decide(
        record(old, "pia.provider", at),
        record(new, "pia.provider", at + timedelta(hours=1)),
        record(forged, "cora.consumer", at + timedelta(hours=2)),
    )
    assert sel.manifest.resolve("ref").id == new.id
    assert sel.manifest.get(old.id).name is None
    assert forged.id not in ids(sel)


def test_taking_a_name_needs_authority_over_the_contract_that_holds_it() -> None:
    # Failed before: the consumer team (provider of its own downstream contract) took the
    # name its provider's reference is registered under, and so chose the baseline its
    # provider's drift term is judged against.
    providers = {"feed-to-model": "feed", "model-to-app": "model"}
    taken = NOW - timedelta(hours=4)
    ref = snap(20, name="ref", captured_at=taken)
    theirs = snap(21, name="ref", captured_at=taken, contract="model-to-app")
    at = NOW - timedelta(hours=3)
    sel = decide(
        record(ref, "pia.provider", at),
        record(theirs, "cora.consumer", at + timedelta(hours=1)),
        providers=providers,
    )
    assert sel.manifest.resolve("ref").id == ref.id  # the name stays with its holder
    assert theirs.id in ids(sel) and sel.manifest.get(theirs.id).name is None
    [(contract, message)] = sel.flags
    # Flagged on the taker's own contract: on the holder's, anyone could fail its gate.
    assert contract == "model-to-app" and f"cannot take the name 'ref' from {ref.id}" in message
    assert "cora.consumer may not register evidence for feed-to-model" in message
    # An evaluation runner may register for every contract, so it may move the name.
    runner = snap(22, name="ref", captured_at=taken, contract="model-to-app")
    moved = decide(
        record(ref, "pia.provider", at),
        record(runner, "ci.pipeline", at + timedelta(hours=1)),
        providers=providers,
    )
    assert moved.manifest.resolve("ref").id == runner.id and not moved.flags


def test_legacy_manifest_counts_only_without_a_registry() -> None:
    legacy = Manifest(snapshots=(snap(11, registered_by="pia.provider"),))
    sid = legacy.snapshots[0].id
    assert ids(decide(legacy=legacy, required=False)) == {sid}
    sel = decide(legacy=legacy, required=True)
    assert ids(sel) == set()
    [(_contract, message)] = sel.flags
    assert (
        message.startswith(f"{MANIFEST_PATH}: snapshot {sid}")
        and "workbench evidence register" in message
    )
    # A signed registration of the same snapshot makes it count (the migration).
    at = NOW - timedelta(hours=1)
    assert ids(decide(record(legacy.snapshots[0], "pia.provider", at), legacy=legacy)) == {sid}


def test_a_record_whose_name_and_content_disagree_is_unreadable() -> None:
    s = snap(12)
    at = NOW - timedelta(hours=1)
    path, data = record(s, "pia.provider", at)
    renamed = path.replace("pia.provider", "ci.pipeline")
    sel = decide((renamed, data))
    assert (
        ids(sel) == set()
        and "file name and its snapshot/person/act/time disagree" in sel.flags[0][1]
    )
