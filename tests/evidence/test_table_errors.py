"""Registering a table version the way a newcomer does (issue 18, walked as a user): the
catalog's `file://` metadata location pasted as is, a version the table does not have, one
whose log was cleaned up, one whose files were vacuumed, a wrong Iceberg snapshot id. Each
is exit 2 naming the table and the version, in the table's terms, nothing written; what is
registered says which version it pinned."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.evidence.test_tables import iceberg_table, repo, scores
from workbench.cli.main import main


def _add(root: Path, location: str, *extra: str) -> list[str]:
    return [
        "--repo",
        str(root),
        "--as",
        "data.lead",
        "evidence",
        "add",
        location,
        "--kind",
        "score_samples",
        "--contract",
        "scores",
        *extra,
    ]


def _head(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout


def test_the_catalogs_file_uri_registers_and_the_output_names_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/engines.md: "get it from your catalog: catalog.load_table(…).metadata_location",
    which is a `file://` URI; it was refused as "--table-version needs … an Iceberg
    metadata file" although it is one."""
    root = repo(tmp_path, monkeypatch)
    table, first, _second = iceberg_table(tmp_path / "lake")
    assert table.metadata_location.startswith("file://")
    code = main(_add(root, table.metadata_location, "--table-version", str(first)))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"(score_samples, iceberg version {first}, " in out.out
    assert main(["--repo", str(root), "evidence", "list"]) == 0
    assert f"(iceberg version {first})" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("version", "says"),
    [
        ("99", "Delta table has no version 99 yet (its latest is 2)"),
        ("-1", "Delta version -1: a version is a number from 0"),
    ],
)
def test_a_delta_version_the_table_does_not_have_is_named(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    version: str,
    says: str,
) -> None:
    from tests.evidence.test_tables import delta_table

    root = repo(tmp_path, monkeypatch)
    table = tmp_path / "lake" / "scores"
    delta_table(table)
    before = _head(root)
    code = main(_add(root, str(table), "--table-version", version))
    err = capsys.readouterr().err
    assert code == 2 and f"{table}: {says}" in err, err
    assert "kernel" not in err.lower() and "Traceback" not in err
    assert _head(root) == before


def test_a_delta_version_whose_log_was_cleaned_up_or_files_vacuumed_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from deltalake import DeltaTable, write_deltalake

    root = repo(tmp_path, monkeypatch)
    table = tmp_path / "lake" / "scores"
    for _ in range(3):
        write_deltalake(str(table), scores([0.2] * 5), mode="overwrite")
    dt = DeltaTable(str(table))
    dt.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    code = main(_add(root, str(table), "--table-version", "0"))
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"delta table {table} version 0: its data file part-" in err, err
    assert "does not exist (vacuumed, expired or moved" in err and "missing:" not in err
    dt = DeltaTable(str(table))
    dt.alter.set_table_properties({"delta.logRetentionDuration": "interval 0 days"})
    dt.create_checkpoint()
    dt.cleanup_metadata()
    code = main(_add(root, str(table), "--table-version", "0"))
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{table}: Delta version 0 can no longer be read: its log was cleaned up" in err, err


def test_a_wrong_iceberg_snapshot_id_lists_the_ones_there_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, monkeypatch)
    table, first, second = iceberg_table(tmp_path / "lake")
    code = main(_add(root, table.metadata_location, "--table-version", "12345"))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Iceberg table has no snapshot 12345 in this metadata file" in err
    assert f"latest last: {first}, {second})" in err


def test_a_table_that_moved_makes_its_terms_error_naming_table_and_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from tests.evidence.test_tables import NOW, delta_table, evaluate, finding, svc

    root = repo(tmp_path, monkeypatch)
    table = tmp_path / "lake" / "scores"
    delta_table(table)
    svc(root).add(
        table,
        "score_samples",
        contract="scores",
        captured_at=NOW - timedelta(hours=1),
        table_version=1,
    )
    table.rename(tmp_path / "lake" / "scores-moved")
    f = finding(evaluate(root), "range")
    assert f["status"] == "error"
    assert (
        f"missing: delta table {table} (version 1) does not exist: moved or deleted?"
        in (f["reason"])
    ), f["reason"]


def test_an_iceberg_listing_registered_before_ids_were_written_as_digits_still_verifies(
    tmp_path: Path,
) -> None:
    """Past 2^53 a listing now names the version by its digits (bundles carry it exactly);
    a snapshot registered earlier pinned the listing with the number and is not `tampered`."""
    from workbench.evidence import tables

    (tmp_path / "lake").mkdir()
    table, _first, _second = iceberg_table(tmp_path / "lake")
    rows = scores([0.4])
    while table.current_snapshot().snapshot_id <= tables.MAX_EXACT_VERSION:
        table.append(rows)
    metadata = Path(table.metadata_location.removeprefix("file://"))
    pinned = tables.pin("iceberg", metadata, None)
    assert f'"version": "{pinned.version}"' in pinned.listing().decode()
    assert f'"version": {pinned.version}\n' in pinned.listing(legacy=True).decode()
    for registered in (pinned.sha256, pinned.legacy_sha256):
        assert tables.verify("iceberg", metadata, pinned.version, registered)[0] == "ok"
    assert tables.verify("iceberg", metadata, pinned.version, "0" * 64)[0] == "tampered"
