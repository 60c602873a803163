"""Regulatory clocks in audit bundles: shipped with their signed records, stated in
bundle.json, a milestone in the OSCAL POA&M, and checked by both verifiers (an expired
clock warns, and fails with strict; a dishonest exporter's statement of a clock fails)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bundle.conftest import (
    EXPORT_AT,
    EXPORTER,
    members,
    pack,
    run_verify_sh,
    signer,
    verify,
)
from tests.conftest import copy_demo
from workbench.bundle import layout as bl
from workbench.service.bundle import ExportOptions
from workbench.service.clocks import ClocksService
from workbench.service.core import Workbench

SEAM = "credit-model-to-loan-decisioning"


@pytest.fixture(scope="module")
def clocked(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A bundle with one clock met in time, one met late and one expired at export."""
    root = copy_demo(demo_template, tmp_path_factory.mktemp("clocks") / "demo")
    start = EXPORT_AT - timedelta(minutes=50)

    def svc(at, who):  # type: ignore[no-untyped-def]
        return ClocksService(Workbench(root, now=at, actor=who))

    met, _ = svc(start, "lena.fischer").start("ecoa-adverse-action", SEAM, start, "INC-1")
    late, _ = svc(start + timedelta(minutes=1), "grace.whitfield").start(
        "eu-ai-act-art73-widespread", SEAM, start - timedelta(days=3), "INC-2"
    )
    expired, _ = svc(start + timedelta(minutes=2), "grace.whitfield").start(
        "eu-ai-act-art73", SEAM, start - timedelta(days=16), "INC-3"
    )
    svc(start + timedelta(minutes=10), "ravi.iyer").stop(met.id, "notices sent, batch 2026-11")
    svc(start + timedelta(minutes=11), "grace.whitfield").stop(late.id, "report MSA-7 filed")
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    out = root.parent / "bundle.tar.gz"
    wb.bundles.export(out, ExportOptions(), signer=signer(root, EXPORTER))
    trust = wb.signing.registry_state().root_sha256
    return root, out.read_bytes(), trust, {"met": met.id, "late": late.id, "expired": expired.id}


def test_clocks_are_shipped_stated_and_checked_by_both_verifiers(clocked) -> None:  # type: ignore[no-untyped-def]
    _root, data, trust, ids = clocked
    files = members(data)
    index = json.loads(files[bl.INDEX])
    states = {c["id"]: c["state"] for c in index["clocks"]}
    assert states == {ids["met"]: "met", ids["late"]: "met-late", ids["expired"]: "expired"}
    shipped = sorted(p for p in files if p.startswith("clocks/"))
    assert len(shipped) == 5 * 3  # 3 starts, 2 stops; each with statement and signature
    assert all(e["commit_time"] for e in index["records"] if e["kind"] == "clock")
    report = verify(data, trust)
    assert report.ok, report.failures
    check = next(c for c in report.checks if c.name == "clocks")
    assert check.severity == "warn" and f"EXPIRED at export: {ids['expired']}" in check.message
    assert "1 met late" in check.message
    assert not verify(data, trust, strict=True).ok
    result = run_verify_sh(data, trust)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"WARN  clock {ids['expired']} (eu-ai-act-art73 on {SEAM}): EXPIRED" in result.stdout
    assert "OK    3 clock(s): deadlines and states as the signed records give them" in result.stdout
    strict = run_verify_sh(data, trust, strict=True)
    assert strict.returncode == 1 and f"FAIL  clock {ids['expired']}" in strict.stdout
    # The POA&M lists each clock as a milestone with its deadline and owner.
    poam = json.loads(files[bl.OSCAL_POAM])["plan-of-action-and-milestones"]
    clocks = [i for i in poam["poam-items"] if i["title"].startswith("Clock ")]
    assert len(clocks) == 3
    expired = next(i for i in clocks if ids["expired"] in i["description"])
    props = {p["name"]: p["value"] for p in expired["props"]}
    assert props["status"] == "expired" and props["clock-kind"] == "eu-ai-act-art73"
    assert expired["origins"][0]["actors"][0]["type"] == "party"


def test_a_dishonest_exporter_stating_an_expired_clock_as_met_fails_both(
    clocked, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from tests.security.forge import resign

    root, data, trust, ids = clocked
    files = members(data)
    index = json.loads(files[bl.INDEX])
    for c in index["clocks"]:
        if c["id"] == ids["expired"]:
            c["state"] = "met"
    from workbench.signing.canonical import canonical_json

    files[bl.INDEX] = canonical_json(index) + b"\n"
    forged = resign(files, root, EXPORTER)
    report = verify(pack(forged), trust)
    assert not report.ok
    assert any("clocks: bundle.json states other clocks" in f for f in report.failures)
    result = run_verify_sh(pack(forged), trust)
    assert result.returncode == 1
    assert f"FAIL  clock {ids['expired']}: bundle.json says met, its records give expired" in (
        result.stdout
    )


def test_a_clock_record_edited_and_resealed_fails_both(clocked) -> None:  # type: ignore[no-untyped-def]
    """Pushing a deadline back in the start record itself (the exporter re-seals): the
    starter's signature no longer covers it."""
    from tests.security.forge import resign

    root, data, trust, ids = clocked
    files = members(data)
    path = next(
        p for p in files if p.startswith(f"clocks/{ids['expired']}/") and p.endswith(".start.toml")
    )
    files[path] = files[path].replace(b'duration = "P15D"', b'duration = "P150D"')
    forged = resign(files, root, EXPORTER)
    report = verify(pack(forged), trust)
    assert not report.ok and any("does not match its statement" in f for f in report.failures)
    result = run_verify_sh(pack(forged), trust)
    assert result.returncode == 1 and f"FAIL  {path}: does not match its statement" in result.stdout


def test_a_dropped_stop_record_is_caught(clocked) -> None:  # type: ignore[no-untyped-def]
    """The exporter drops the late stop and keeps saying met-late: both verifiers see the
    clock expired by its records."""
    from tests.security.forge import resign

    root, data, trust, ids = clocked
    files = members(data)
    for path in [p for p in files if p.startswith(f"clocks/{ids['late']}/") and ".stop." in p]:
        del files[path]
    index = json.loads(files[bl.INDEX])
    index["records"] = [r for r in index["records"] if r["path"] in files]
    from workbench.signing.canonical import canonical_json

    files[bl.INDEX] = canonical_json(index) + b"\n"
    forged = resign(files, root, EXPORTER)
    assert not verify(pack(forged), trust).ok
    result = run_verify_sh(pack(forged), trust)
    assert result.returncode == 1
    assert (
        f"clock {ids['late']}: bundle.json says met-late, its records give expired" in result.stdout
    )
