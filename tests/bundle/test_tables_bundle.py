"""Table evidence in audit bundles (issue 18): a Delta table registered by version leaves
its rows where they are; the bundle carries its data-file listing
(``evidence/tables/<id>.json``: every file's path, size and sha256), whose sha256 is the one
the manifest registers, and names the table's format and version. Both verifiers check it;
each edit fails both, naming why."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bundle.conftest import EXPORT_AT, EXPORTER, members, pack, signer
from tests.conftest import copy_demo
from tests.security.forge import resign
from tests.security.test_bundles import both
from workbench.bundle import layout as bl
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench
from workbench.signing.canonical import canonical_json

CONTRACT = "credit-model-to-loan-decisioning"


@pytest.fixture(scope="module")
def tabled(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The demo with a Delta table pinned at version 0 (version 1 written after), exported."""
    import pyarrow as pa
    from deltalake import write_deltalake

    base = tmp_path_factory.mktemp("tables")
    root = copy_demo(demo_template, base / "demo")
    lake = base / "lake"
    table = lake / "scores"
    stamps = [EXPORT_AT - timedelta(hours=3, seconds=i) for i in range(50)]
    rows = pa.table(
        {
            "scored_at": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "score": pa.array([i / 50 for i in range(50)], pa.float64()),
        }
    )
    write_deltalake(str(table), rows)
    write_deltalake(str(table), rows, mode="append")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_EVIDENCE_ROOTS", str(lake))
        wb = Workbench(root, now=EXPORT_AT - timedelta(minutes=30), actor="ravi.iyer")
        snap = wb.evidence.add(
            table,
            "score_samples",
            contract=CONTRACT,
            captured_at=EXPORT_AT - timedelta(hours=1),
            table_version=0,
        )
        wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
        data = wb.bundles.build(ExportOptions(record=False), signer(root, EXPORTER)).data
        trust = wb.signing.registry_state().root_sha256
    return root, data, trust, snap.id


def test_a_table_ships_its_listing_and_both_verifiers_check_it(tabled) -> None:  # type: ignore[no-untyped-def]
    _root, data, trust, sid = tabled
    files = members(data)
    listing = f"evidence/tables/{sid}.json"
    item = next(i for i in json.loads(files[bl.INDEX])["evidence"]["snapshots"] if i["id"] == sid)
    assert item["table"] == {"format": "delta", "version": 0}
    assert item["listing"] == listing and item["included"] is False
    doc = json.loads(files[listing])
    assert doc["version"] == 0 and len(doc["files"]) == 1 and len(doc["files"][0]["sha256"]) == 64
    # The rows themselves never travel.
    assert not [p for p in files if p.endswith(".parquet")]
    v = both(data, trust)
    assert v.py.ok, v.py.failures
    check = next(c for c in v.py.checks if c.name == "evidence")
    assert "1 table version(s) pinned by their data-file listing" in check.message
    assert "OK    1 table version(s) pinned by their data-file listing" in v.sh.stdout


def _forged(tabled, edit) -> tuple[bytes, str, str]:  # type: ignore[no-untyped-def]
    root, data, trust, sid = tabled
    files = members(data)
    edit(files, sid)
    return pack(resign(files, root, EXPORTER)), trust, sid


def test_an_edited_table_listing_fails_both(tabled) -> None:  # type: ignore[no-untyped-def]
    """A data file's hash swapped in the listing (to pass off other data as that version)."""

    def edit(files: dict[str, bytes], sid: str) -> None:
        path = f"evidence/tables/{sid}.json"
        doc = json.loads(files[path])
        doc["files"][0]["sha256"] = "0" * 64
        files[path] = (json.dumps(doc, sort_keys=True, indent=1) + "\n").encode()

    data, trust, sid = _forged(tabled, edit)
    v = both(data, trust)
    want = f"evidence/tables/{sid}.json: does not match its registered sha256"
    assert not v.py.ok and any(want in f for f in v.py.failures), v.py.failures
    assert f"FAIL  {want}" in v.sh.stdout


def test_a_table_listing_left_out_fails_both(tabled) -> None:  # type: ignore[no-untyped-def]
    def edit(files: dict[str, bytes], sid: str) -> None:
        del files[f"evidence/tables/{sid}.json"]
        index = json.loads(files[bl.INDEX])
        for item in index["evidence"]["snapshots"]:
            if item["id"] == sid:
                del item["listing"]
        files[bl.INDEX] = canonical_json(index) + b"\n"

    data, trust, sid = _forged(tabled, edit)
    v = both(data, trust)
    assert not v.py.ok and any(
        f"{sid}: a delta table without its data-file listing" in f for f in v.py.failures
    )
    assert f"FAIL  {sid}: a table without its data-file listing" in v.sh.stdout


def test_another_table_version_claimed_fails_both(tabled) -> None:  # type: ignore[no-untyped-def]
    """bundle.json names version 1 for the snapshot pinned at version 0."""

    def edit(files: dict[str, bytes], sid: str) -> None:
        index = json.loads(files[bl.INDEX])
        for item in index["evidence"]["snapshots"]:
            if item["id"] == sid:
                item["table"]["version"] = 1
        files[bl.INDEX] = canonical_json(index) + b"\n"

    data, trust, sid = _forged(tabled, edit)
    v = both(data, trust)
    assert not v.py.ok and any(
        f"{sid}: bundle.json and the manifest disagree on the table and its version" in f
        for f in v.py.failures
    )
    assert "lists another table or version than bundle.json names (delta@1)" in v.sh.stdout


# --- one reading of the listing and of bundle.json's table (tests/bundle/test_verifiers_agree.py
# for the rest of the bundle) ---------------------------------------------------------------------


def _listed_as(
    tabled, demo_template: Path, listing: Callable[[bytes], bytes], tmp: Path
) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    """The provider registers the table at version 0 with a listing of their own making (a
    member signs what they like: here a workbench whose listing writer was changed), and
    an authorised exporter exports it as it is."""
    from workbench.evidence import tables

    root0 = tabled[0]  # (its lake: the Delta table at versions 0 and 1)
    root = copy_demo(demo_template, tmp / "demo")
    original = tables.TableVersion.listing
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_EVIDENCE_ROOTS", str(root0.parent / "lake"))
        mp.setattr(tables.TableVersion, "listing", lambda self: listing(original(self)))
        wb = Workbench(root, now=EXPORT_AT - timedelta(minutes=30), actor="ravi.iyer")
        wb.evidence.add(
            root0.parent / "lake" / "scores",
            "score_samples",
            contract=CONTRACT,
            captured_at=EXPORT_AT - timedelta(hours=1),
            table_version=0,
        )
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    data = wb.bundles.build(ExportOptions(record=False), signer(root, EXPORTER)).data
    trust = wb.signing.registry_state().root_sha256
    assert trust
    return data, trust


LISTINGS: dict[str, Callable[[bytes], bytes]] = {
    # the red team's case: the version as the string "0" (a version is a number)
    'version "0"': lambda d: d.replace(b'"version": 0\n', b'"version": "0"\n'),
    # False == 0 in Python: it must not be version 0 either
    "version false": lambda d: d.replace(b'"version": 0\n', b'"version": false\n'),
    # jq keeps the last of two keys: here version 0, after a version 1
    "duplicate version key": lambda d: d.replace(b'{\n "files"', b'{\n "version": 1,\n "files"'),
    "NaN in an extra key": lambda d: d.replace(b'{\n "files"', b'{\n "a": NaN,\n "files"'),
    "compact, not its written form": lambda d: json.dumps(json.loads(d)).encode() + b"\n",
}


@pytest.mark.parametrize("case", list(LISTINGS))
def test_a_listing_read_two_ways_fails_both(
    tabled, demo_template: Path, case: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    changed = LISTINGS[case](b'{\n "files": [],\n "format": "delta",\n "version": 0\n}\n')
    assert changed != b'{\n "files": [],\n "format": "delta",\n "version": 0\n}\n', case
    data, trust = _listed_as(tabled, demo_template, LISTINGS[case], tmp_path)
    v = both(data, trust)  # asserts the two verdicts agree
    assert not v.py.ok
    assert any("evidence/tables/" in f for f in v.py.failures), v.py.failures
    assert "FAIL  evidence/tables/" in v.sh.stdout, v.sh.stdout


@pytest.mark.parametrize(
    "table",
    [
        {"format": "delta", "version": "0"},
        {"format": "delta", "version": False},
        {"format": "delta", "version": 0, "x": 1},
    ],
    ids=["string", "false", "extra key"],
)
def test_bundle_json_naming_the_table_version_otherwise_fails_both(tabled, table: object) -> None:  # type: ignore[no-untyped-def]
    def edit(files: dict[str, bytes], sid: str) -> None:
        index = json.loads(files[bl.INDEX])
        for item in index["evidence"]["snapshots"]:
            if item["id"] == sid:
                item["table"] = table
        files[bl.INDEX] = canonical_json(index) + b"\n"

    data, trust, sid = _forged(tabled, edit)
    v = both(data, trust)
    assert not v.py.ok and any(
        f"{sid}: bundle.json and the manifest disagree on the table and its version" in f
        for f in v.py.failures
    ), v.py.failures
    assert f"FAIL  {sid}: bundle.json names no table format and version" in v.sh.stdout


def test_an_iceberg_snapshot_exports_and_both_verifiers_check_its_exact_id(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Iceberg snapshot id is a 63-bit number: above I-JSON's safe range (2^53), so
    `export-bundle` refused every repository with Iceberg evidence ("integer … is outside
    the I-JSON safe range") and jq 1.6 rounds it. Past 2^53 bundle.json and the listing
    name the version by its decimal digits, and both verifiers compare them exactly."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog

    root = copy_demo(demo_template, tmp_path / "demo")
    lake = tmp_path / "lake"
    lake.mkdir()
    catalog = SqlCatalog(
        "local", uri=f"sqlite:///{lake / 'catalog.db'}", warehouse=f"file://{lake / 'wh'}"
    )
    catalog.create_namespace("ml")
    stamps = [EXPORT_AT - timedelta(hours=3, seconds=i) for i in range(20)]
    rows = pa.table(
        {
            "scored_at": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "score": pa.array([i / 40 for i in range(20)], pa.float64()),
        }
    )
    table = catalog.create_table("ml.scores", schema=rows.schema)
    table.append(rows)
    # pyiceberg's ids are random 63-bit numbers (below 2^53 once in 1,024): one past it.
    while table.current_snapshot().snapshot_id <= 2**53:
        table.append(rows)
    snapshot_id = table.current_snapshot().snapshot_id
    monkeypatch.setenv("WORKBENCH_EVIDENCE_ROOTS", str(lake))
    wb = Workbench(root, now=EXPORT_AT - timedelta(minutes=30), actor="ravi.iyer")
    snap = wb.evidence.add(
        Path(table.metadata_location.removeprefix("file://")),
        "score_samples",
        contract=CONTRACT,
        captured_at=EXPORT_AT - timedelta(hours=1),
        table_version=snapshot_id,
    )
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    data = wb.bundles.build(ExportOptions(record=False), signer(root, EXPORTER)).data
    trust = wb.signing.registry_state().root_sha256
    files = members(data)
    item = next(
        i for i in json.loads(files[bl.INDEX])["evidence"]["snapshots"] if i["id"] == snap.id
    )
    assert item["table"] == {"format": "iceberg", "version": str(snapshot_id)}
    assert json.loads(files[f"evidence/tables/{snap.id}.json"])["version"] == str(snapshot_id)
    v = both(data, trust)
    assert v.py.ok, v.py.failures
    assert "OK    1 table version(s) pinned by their data-file listing" in v.sh.stdout

    # Another snapshot id that jq 1.6 would round to the same number is still caught.
    def edit(files: dict[str, bytes], sid: str) -> None:
        index = json.loads(files[bl.INDEX])
        for i in index["evidence"]["snapshots"]:
            if i["id"] == sid:
                i["table"]["version"] = str(snapshot_id + 1)
        files[bl.INDEX] = canonical_json(index) + b"\n"

    edit(files, snap.id)
    forged = both(pack(resign(files, root, EXPORTER)), trust)
    assert not forged.py.ok and any(
        "disagree on the table and its version" in f for f in forged.py.failures
    )
    assert f"than bundle.json names (iceberg@{snapshot_id + 1})" in forged.sh.stdout
