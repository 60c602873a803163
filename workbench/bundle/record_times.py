"""Where git placed each record a bundle carries, and the time each record states: the
inputs of the verifiers' time rule (``governance.record_time``), written into bundle.json's
``records`` by the export."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.bundle.source import ExportSource


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_record_times(
    wb: ExportSource, records_index: list[dict[str, Any]], files: Mapping[str, bytes]
) -> None:
    """Each record's placement in git (committer times of the commit that wrote it and of
    its parent) and the time of what it answers, for the verifiers' time rule. Signed by
    the exporter with bundle.json: the auditor relies on the exporter for these times."""
    from workbench.model.record_folders import (
        CLOCKS_DIR,
        CLOSURES_DIR,
        NOTIFY_RECORD_DIRS,
        REGISTRATIONS_DIR,
        SIGNED_RECORD_DIRS,
    )

    placed = wb.git.placements(
        (*SIGNED_RECORD_DIRS, CLOSURES_DIR, CLOCKS_DIR, REGISTRATIONS_DIR, *NOTIFY_RECORD_DIRS)
    )
    version_times: dict[str, dict[str, datetime]] = {}
    for entry in records_index:
        path = entry["path"]
        where = placed.get(path)
        entry["commit_time"] = _utc(where[0]) if where else None
        entry["parent_time"] = _utc(where[1]) if where and where[1] else None
        answers = None
        try:
            doc = tomllib.loads(files[path].decode("utf-8"))
        except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            doc = {}
        if entry["kind"] == "ack" and isinstance(doc.get("commit"), str):
            try:
                answers = wb.git.commit_info(doc["commit"]).time
            except (KeyError, ValueError):
                answers = None
        elif entry["kind"] == "clock" and isinstance(doc.get("start"), str):
            # A stop answers its clock's start.
            answers = record_time(doc["start"], files.get(doc["start"], b""))
        elif entry["kind"] == "review" and isinstance(doc.get("contract"), str):
            cid = doc["contract"]
            if cid not in version_times:
                version_times[cid] = wb.version_times(cid)
            answers = version_times[cid].get(str(doc.get("contract_sha256", "")))
        entry["answers_time"] = _utc(answers) if answers else None


def record_time(path: str, data: bytes) -> datetime | None:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for key in ("completed", "acknowledged", "received", "recorded"):
        value = doc.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None
