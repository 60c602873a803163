"""Pages in audit bundles: the delivery records and page acknowledgements of the seams in
scope are shipped with their signatures, bundle.json states each page, and both verifiers
judge them: verify-bundle by the repository's own rules (which deliveries count, who may
acknowledge, a missed acknowledgement, the page test), VERIFY.sh what a shell can (the
files, the signatures, the statements naming their files, the record times) and a WARN
for the rest. Each new member edited: both verifiers fail, naming why."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bundle.conftest import EXPORT_AT, EXPORTER, members, pack, run_verify_sh, signer, verify
from tests.conftest import copy_demo
from tests.notify.conftest import channel_env, serve_receiver
from tests.notify.helpers import T0, notify_at, service, threshold_violation
from workbench.bundle import layout as bl
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench
from workbench.signing.canonical import canonical_json

AT = EXPORT_AT + timedelta(minutes=30)  # after the pages' SLA (PT15M): the others missed


@pytest.fixture(scope="module")
def paged(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A bundle with three pages: one acknowledged in time, two missed at export."""
    root = copy_demo(demo_template, tmp_path_factory.mktemp("pages") / "demo")
    with serve_receiver() as receiver:
        notify_at(root, T0, channel_env(receiver))
    vid = threshold_violation(root)
    service(root, T0 + timedelta(minutes=7), "priya.nair").acknowledge(vid, "on it")
    wb = Workbench(root, now=AT, actor=EXPORTER)
    out = root.parent / "bundle.tar.gz"
    wb.bundles.export(out, ExportOptions(), signer=signer(root, EXPORTER))
    trust = wb.signing.registry_state().root_sha256
    return root, out.read_bytes(), trust, vid


def _ack_path(files: dict[str, bytes], vid: str) -> str:
    return next(
        p for p in files if p.startswith(f"notify/page-acks/{vid}/") and p.endswith(".toml")
    )


def _page_delivery(files: dict[str, bytes], vid: str) -> str:
    return next(
        p
        for p in files
        if p.startswith("notify/deliveries/")
        and p.endswith(".toml")
        and f'violation = "{vid}"'.encode() in files[p]
    )


def test_pages_are_shipped_stated_and_judged_by_both_verifiers(paged) -> None:  # type: ignore[no-untyped-def]
    _root, data, trust, vid = paged
    files = members(data)
    index = json.loads(files[bl.INDEX])
    states = {p["violation"]: p["state"] for p in index["pages"]}
    assert states[vid] == "acknowledged" and sorted(states.values()).count("missed") == 2
    kinds = {e["kind"] for e in index["records"]}
    assert {"delivery", "page-ack"} <= kinds
    ack = _ack_path(files, vid)
    for path in (ack, _page_delivery(files, vid)):
        stem = path.removesuffix(".toml")
        assert stem + ".statement.json" in files and stem + ".sig" in files
    report = verify(data, trust)
    assert report.ok, report.failures
    check = next(c for c in report.checks if c.name == "pages")
    assert check.severity == "warn" and "2 MISSED at export" in check.message
    assert "page test FAILS" in check.message and "NOT acknowledged within" in check.message
    assert not verify(data, trust, strict=True).ok
    result = run_verify_sh(data, trust)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARN  pages:" in result.stdout and "workbench verify-bundle" in result.stdout
    assert "page/delivery records verified" in result.stdout


def _resealed(paged, edit) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    from tests.security.forge import resign

    root, data, trust, vid = paged
    files = members(data)
    edit(files, vid)
    return pack(resign(files, root, EXPORTER)), trust


def test_a_page_acknowledgement_edited_and_resealed_fails_both(paged) -> None:  # type: ignore[no-untyped-def]
    """Moving the acknowledgement earlier in the record (the exporter re-seals): the
    acknowledger's signature no longer covers it."""
    path = ""

    def edit(files: dict[str, bytes], vid: str) -> None:
        nonlocal path
        path = _ack_path(files, vid)
        files[path] = files[path].replace(b'note = "on it"', b'note = "on it at once"')

    data, trust = _resealed(paged, edit)
    report = verify(data, trust)
    assert any(f"records: {path}: does not match its statement" in f for f in report.failures)
    result = run_verify_sh(data, trust)
    assert result.returncode == 1 and f"FAIL  {path}: does not match its statement" in result.stdout


def test_a_delivery_record_edited_and_resealed_fails_both(paged) -> None:  # type: ignore[no-untyped-def]
    """Moving a page's send time later (so a missed page looks in time): the notifier's
    signature no longer covers the record."""
    path = ""

    def edit(files: dict[str, bytes], vid: str) -> None:
        nonlocal path
        path = _page_delivery(files, vid)
        files[path] = files[path].replace(b"attempt = 1", b"attempt = 2")

    data, trust = _resealed(paged, edit)
    report = verify(data, trust)
    assert any(f"records: {path}: does not match its statement" in f for f in report.failures)
    result = run_verify_sh(data, trust)
    assert result.returncode == 1 and f"FAIL  {path}: does not match its statement" in result.stdout


def test_a_dishonest_exporter_stating_a_missed_page_as_acknowledged_fails(paged) -> None:  # type: ignore[no-untyped-def]
    """bundle.json's pages (the exporter's word): verify-bundle recomputes them from the
    records and fails; VERIFY.sh cannot judge a page and says so (WARN), never OK."""
    missed = ""

    def edit(files: dict[str, bytes], vid: str) -> None:
        nonlocal missed
        index = json.loads(files[bl.INDEX])
        page = next(p for p in index["pages"] if p["state"] == "missed")
        missed = page["violation"]
        page["state"] = "acknowledged"
        files[bl.INDEX] = canonical_json(index) + b"\n"

    data, trust = _resealed(paged, edit)
    report = verify(data, trust)
    assert any(
        "pages: bundle.json states other pages than its records give" in f and missed in f
        for f in report.failures
    )
    result = run_verify_sh(data, trust)
    assert "WARN  pages:" in result.stdout and "OK    pages" not in result.stdout


def test_an_acknowledgement_by_someone_not_paged_is_a_finding_in_both(paged) -> None:  # type: ignore[no-untyped-def]
    """A member signs a page acknowledgement for a page that was not theirs (a hostile
    insider with an ordinary key, the exporter ships it): verify-bundle fails it by the
    repository's rule; VERIFY.sh verifies the signature and WARNs that authority is not
    checked by a shell."""
    # Built in the repository itself, as an insider would commit it, then exported.
    import shutil

    root, _data, trust, vid = paged
    copy = root.parent / "insider"
    shutil.copytree(root, copy, symlinks=True)
    other = next(
        p["violation"]
        for p in json.loads(members(_data)[bl.INDEX])["pages"]
        if p["state"] == "missed"
    )
    from workbench.governance.pages import page_ack_path

    wb = Workbench(copy, now=AT - timedelta(minutes=5), actor="omar.haddad")
    records = wb.notify.records
    when = wb.now
    contract = next(
        p["contract"]
        for p in json.loads(members(_data)[bl.INDEX])["pages"]
        if p["violation"] == other
    )
    path = page_ack_path(other, when, "omar.haddad")
    body = (
        f'violation = "{other}"\ncontract = "{contract}"\nperson = "omar.haddad"\n'
        f"recorded = {when.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        f"acknowledged = {when.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        'acknowledged_by = "omar.haddad"\nsource = "workbench"\n'
    ).encode()
    records.write(
        path,
        body,
        "omar.haddad",
        {"violation": other, "contract": contract},
        "page ack",
        signer=signer(copy, "omar.haddad"),
    )
    out = copy.parent / "insider.tar.gz"
    Workbench(copy, now=AT, actor=EXPORTER).bundles.export(
        out, ExportOptions(record=False), signer=signer(copy, EXPORTER)
    )
    data = out.read_bytes()
    report = verify(data, trust)
    assert any(
        f"pages: {path}: omar.haddad was not paged for {other}" in f for f in report.failures
    ), report.failures
    result = run_verify_sh(data, trust)
    assert "WARN  pages:" in result.stdout and "OK    pages" not in result.stdout


def _member(files: dict[str, bytes], vid: str, which: str) -> str:
    record = _ack_path(files, vid) if which.startswith("ack") else _page_delivery(files, vid)
    suffix = ".statement.json" if which.endswith("statement") else ".sig"
    return record.removesuffix(".toml") + suffix


@pytest.mark.parametrize(
    "which", ["ack-statement", "ack-sig", "delivery-statement", "delivery-sig"]
)
def test_a_page_statement_or_signature_edited_fails_both(paged, which: str) -> None:  # type: ignore[no-untyped-def]
    """The statement re-pointed at another violation or delivery (a signature moved), or
    the signature itself edited: the record no longer counts in either verifier."""
    path = ""

    def edit(files: dict[str, bytes], vid: str) -> None:
        nonlocal path
        path = _member(files, vid, which)
        if which.endswith("sig"):
            lines = files[path].split(b"\n")
            body = bytearray(lines[3])
            body[10] = ord("A") if body[10] != ord("A") else ord("B")
            lines[3] = bytes(body)
            files[path] = b"\n".join(lines)
        else:
            doc = json.loads(files[path])
            if which.startswith("ack"):
                doc["predicate"]["violation"] = "v-0000000000"
            else:
                doc["predicate"]["key"] = "0" * 64
            files[path] = canonical_json(doc)

    data, trust = _resealed(paged, edit)
    record = path.removesuffix(".statement.json").removesuffix(".sig") + ".toml"
    report = verify(data, trust)
    if which.endswith("sig"):
        assert any(f"records: {record}:" in f for f in report.failures), report.failures
        want = f"FAIL  {record}: no valid signature by"
    else:
        assert any(
            f"records: {record}: the statement is for another violation, delivery or person" in f
            for f in report.failures
        ), report.failures
        want = f"FAIL  {record}: the statement is for another violation, delivery or person"
    result = run_verify_sh(data, trust)
    assert result.returncode == 1 and want in result.stdout, result.stdout
