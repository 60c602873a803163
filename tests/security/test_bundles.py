"""Red-team classes for audit bundles (issue 13, "Bundles"): each test is an attack on a real
exported bundle, run through both verifiers - `verify-bundle` and VERIFY.sh for real under
`sh` (dash) - which must reach the same verdict (OK vs FAIL) on every crafted bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bundle.conftest import (
    APPROVED,
    EXPORT_AT,
    STALE,
    Exported,
    run_verify_sh,
    sha,
    signer,
    verify,
)
from tests.conftest import copy_demo
from tests.security.forge import (
    Files,
    extend,
    members,
    pack,
    regular,
    resign,
    set_head,
    with_members,
)
from workbench.bundle import layout as bl
from workbench.bundle.verify import BundleReport
from workbench.signing.canonical import canonical_json

ZERO_ROOT = "0" * 64


@dataclass
class Verdicts:
    py: BundleReport
    sh: subprocess.CompletedProcess[str]

    @property
    def ok(self) -> bool:
        return self.py.ok


def both(bundle: bytes, root: str, previous: str | None = None, **kw: object) -> Verdicts:
    """Both verifiers on the same bytes; they must agree (OK vs FAIL)."""
    py = verify(bundle, root, previous=previous, **kw)
    sh = run_verify_sh(bundle, root, previous)
    assert sh.returncode in (0, 1), sh.stdout + sh.stderr
    assert py.ok == (sh.returncode == 0), (
        f"the verifiers disagree: verify-bundle ok={py.ok} {py.failures}\n"
        f"VERIFY.sh rc={sh.returncode}:\n{sh.stdout}{sh.stderr}"
    )
    assert ("RESULT: OK" in sh.stdout) == py.ok
    return Verdicts(py, sh)


def _sigs(files: Files, contract: str, version: int) -> list[str]:
    base = bl.contract_dir(contract, version)
    return [p for p in files if p.startswith(base + "statement.") and p.endswith(".sig")]


# --- forged approval --------------------------------------------------------------------------


def test_forged_required_json_resigned_by_member_fails_both_verifiers(exported: Exported) -> None:
    files = members(exported.second)
    required = bl.contract_dir(APPROVED, 1) + "required.json"
    files[required] = (
        canonical_json({"blocked": [], "registry_version": 1, "required": [], "roles": {}}) + b"\n"
    )
    for path in _sigs(files, APPROVED, 1):
        del files[path]
    approved_line = f"contract {APPROVED}: v1 approved"

    # An ordinary member re-signs the snapshot with their own key.
    member = both(pack(resign(files, exported.root, "sam.ortiz")), exported.trust_root)
    assert not member.ok
    assert approved_line not in member.sh.stdout
    assert "sam.ortiz may not sign an audit snapshot" in member.sh.stdout
    assert any("sam.ortiz may not sign" in f for f in member.py.failures)

    # Even an authorised exporter cannot make VERIFY.sh take who must sign from required.json.
    insider = both(pack(resign(files, exported.root, "erin.walsh")), exported.trust_root)
    assert not insider.ok
    assert approved_line not in insider.sh.stdout
    assert f"{APPROVED} v1: required.json disagrees" in insider.sh.stdout
    state = {c.contract_id: c for c in insider.py.contracts}[APPROVED]
    assert state.state == "pending" and any("required.json disagrees" in p for p in state.problems)


def test_snapshot_signed_by_unauthorised_exporter_fails_both(exported: Exported) -> None:
    files = members(exported.second)
    for person in ("dana.okafor", "sam.ortiz"):  # a team lead, an ordinary member
        v = both(pack(resign(files, exported.root, person)), exported.trust_root)
        assert not v.ok
        assert f"{person} may not sign an audit snapshot" in v.sh.stdout
        assert any(f"{person} may not sign" in f for f in v.py.failures)
    # A registry admin may (the default policy: admins and the compliance lead).
    assert both(pack(resign(files, exported.root, "erin.walsh")), exported.trust_root).ok


@dataclass
class RegistryV2:
    root: Path
    trust_root: str
    kept: bytes  # a bundle exported by dana.okafor at registry v2


@pytest.fixture(scope="module")
def registry_v2(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> RegistryV2:
    """The demo with registry v2, whose policy lets the applicant-data lead and erin.walsh
    (only) export; the auditor kept the bundle dana.okafor exported then."""
    from workbench.service.bundle import ExportOptions
    from workbench.service.core import Workbench

    root = copy_demo(demo_template, tmp_path_factory.mktemp("registry-v2") / "demo")
    at = EXPORT_AT
    change = Workbench(root, now=at, actor="grace.whitfield").signing
    assert change.registry.set_exporters(["lead:applicant-data", "erin.walsh"]).version == 2
    for n, admin in enumerate(("grace.whitfield", "erin.walsh"), 1):
        wb = Workbench(root, now=at + timedelta(minutes=n), actor=admin)
        wb.signing.registry.sign(signer(root, admin))
    wb = Workbench(root, now=at + timedelta(minutes=5), actor="dana.okafor")
    assert wb.signing.registry_state().head.version == 2
    kept = wb.bundles.build(ExportOptions(), signer(root, "dana.okafor")).data
    trust = wb.signing.registry_state().root_sha256
    assert trust
    return RegistryV2(root, trust, kept)


def test_exporters_named_in_the_signed_policy_are_honoured_by_both(registry_v2: RegistryV2) -> None:
    from workbench.bundle.export import ExportError
    from workbench.service.bundle import ExportOptions
    from workbench.service.core import Workbench

    policy = members(registry_v2.kept)["registry/v2/policy.toml"]
    assert b'[export]\nexporters = ["lead:applicant-data", "erin.walsh"]' in policy
    assert both(registry_v2.kept, registry_v2.trust_root).ok
    # The compliance lead, authorised by the default policy, is not named in v2's.
    wb = Workbench(registry_v2.root, now=EXPORT_AT + timedelta(hours=1), actor="grace.whitfield")
    with pytest.raises(ExportError, match="grace.whitfield may not sign an audit snapshot"):
        wb.bundles.build(ExportOptions(record=False), signer(registry_v2.root, "grace.whitfield"))
    forged = resign(members(registry_v2.kept), registry_v2.root, "grace.whitfield")
    v = both(pack(forged), registry_v2.trust_root)
    assert not v.ok and "grace.whitfield may not sign an audit snapshot" in v.sh.stdout


# --- rollback against the kept snapshot -----------------------------------------------------


def test_registry_rollback_against_kept_snapshot_fails_both(registry_v2: RegistryV2) -> None:
    """After a registry rollback (v2 gone, v1 the head again) the next bundle still chains to
    the snapshot the auditor kept; that snapshot signed registry head v2."""
    kept_snapshot = members(registry_v2.kept)[bl.SNAPSHOT]
    files = extend(members(registry_v2.kept), registry_v2.root, "erin.walsh")
    for path in [p for p in files if p.startswith("registry/v2/")]:
        del files[path]
    index = json.loads(files[bl.INDEX])
    index["registry"]["head"] = 1
    index["registry"]["head_statement"] = "registry/v1/statement.json"
    index["registry"]["versions"] = index["registry"]["versions"][:1]
    files[bl.INDEX] = canonical_json(index) + b"\n"
    heads = json.loads(files[bl.HEADS])
    heads["registry"] = {"version": 1, "statementSha256": sha(files["registry/v1/statement.json"])}
    files[bl.HEADS] = canonical_json(heads) + b"\n"
    rolled = pack(resign(files, registry_v2.root, "erin.walsh"))

    # Without the memory of the kept snapshot the rolled-back bundle is genuinely valid...
    assert both(rolled, registry_v2.trust_root).ok
    # ...with it, both see the registry head went back.
    v = both(rolled, registry_v2.trust_root, sha(kept_snapshot))
    assert not v.ok
    assert "registry head v1 is OLDER than the v2" in v.sh.stdout
    assert any("registry head v1 is OLDER than the v2" in f for f in v.py.failures)


def test_contract_rollback_against_kept_snapshot_digest_fails_both(exported: Exported) -> None:
    """The auditor kept only the digest of snapshot v2 (STALE at v2). A later bundle that
    extends it but rolls STALE back to v1 (its v2 statement deleted) fails both."""
    second = members(exported.second)
    files = extend(second, exported.root, "erin.walsh")
    set_head(files, STALE, 1)
    rolled = pack(resign(files, exported.root, "erin.walsh"))
    assert both(rolled, exported.trust_root).ok  # nothing to compare with
    v = both(rolled, exported.trust_root, sha(second[bl.SNAPSHOT]))
    assert not v.ok
    assert f"{STALE}: head v1 is OLDER than the v2 in the snapshot v2 you kept" in v.sh.stdout
    assert any(f"{STALE}: head v1 is OLDER than the v2" in f for f in v.py.failures)
    # Against snapshot v1 (STALE was at v1 then) nothing went back.
    first = members(exported.first)[bl.SNAPSHOT]
    assert both(rolled, exported.trust_root, sha(first)).ok
    # Rewriting the kept head map does not help: the kept snapshot signed its digest.
    files[bl.export_heads(2)] = files[bl.HEADS]
    forged = pack(resign(files, exported.root, "erin.walsh"))
    v = both(forged, exported.trust_root, sha(second[bl.SNAPSHOT]))
    assert not v.ok and "exports/v2.heads.json is missing or not the head map" in v.sh.stdout


# --- findings: --recompute ---------------------------------------------------------------------


def _flip(files: Files, status: str = "fail", to: str = "pass") -> tuple[str, str, str]:
    """Turn the first finding with ``status`` into ``to`` in its run (summary too)."""
    for path in sorted(files):
        if not (path.startswith("findings/") and path.endswith(".json") and path.count("/") == 1):
            continue
        run = json.loads(files[path])
        for finding in run["findings"]:
            if finding["status"] == status and finding["sql"]:
                finding["status"] = to
                run["summary"][status] -= 1
                run["summary"][to] = run["summary"].get(to, 0) + 1
                files[path] = (json.dumps(run, sort_keys=True, indent=1) + "\n").encode()
                return path, finding["contract"], finding["term"]
    raise AssertionError(f"no {status} finding with SQL")


def test_recompute_detects_flipped_finding(
    exported: Exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    honest = verify(exported.second, exported.trust_root, recompute=True)
    assert honest.ok, honest.failures
    assert {c.name: c.severity for c in honest.checks}["recompute"] == "ok"
    assert {f.outcome for f in honest.recomputed or []} <= {"same", "no-query"}
    assert sum(f.outcome == "same" for f in honest.recomputed or []) >= 20

    files = members(exported.second)
    run, contract, term = _flip(files)
    flipped = pack(resign(files, exported.root, "erin.walsh"))
    # The exporter's signature covers the flip, but the run's own signature (its runner's,
    # over its bytes) does not: both verifiers refuse it even without recomputing.
    refused = both(flipped, exported.trust_root)
    assert not refused.ok
    runs = next(c for c in refused.py.checks if c.name == "runs")
    assert runs.severity == "fail" and "does not match its signed statement" in runs.message
    report = verify(flipped, exported.trust_root, recompute=True)
    assert not report.ok
    bad = [f for f in report.recomputed or [] if f.outcome == "different"]
    assert [(f.run, f.contract, f.term) for f in bad] == [(run, contract, term)]
    assert "status: recorded 'pass', recomputed 'fail'" in bad[0].message

    path = tmp_path / "flipped.tar.gz"
    path.write_bytes(flipped)
    now = ["--now", "2026-11-27T12:00:00Z"]
    code = main([*now, "verify-bundle", str(path), "--root", exported.trust_root, "--recompute"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"FAIL  finding {run.removeprefix('findings/')} {contract}/{term}: status" in out


def test_recompute_reports_missing_evidence_files(
    exported: Exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    report = verify(exported.no_evidence, exported.trust_root, recompute=True)
    checks = {c.name: c for c in report.checks}
    assert checks["recompute"].severity == "warn"  # never OK silently
    assert report.ok  # the bundle itself is fine; --strict makes this a failure
    skipped = [f for f in report.recomputed or [] if f.outcome == "skipped"]
    assert skipped and all("is not shipped in the bundle" in f.message for f in skipped)
    assert not [f for f in report.recomputed or [] if f.outcome == "different"]
    strict = verify(exported.no_evidence, exported.trust_root, recompute=True, strict=True)
    assert any(c.name == "recompute" and c.severity == "fail" for c in strict.checks)

    path = tmp_path / "no-evidence.tar.gz"
    path.write_bytes(exported.no_evidence)
    now = ["--now", "2026-11-27T12:00:00Z"]
    main([*now, "verify-bundle", str(path), "--root", exported.trust_root, "--recompute"])
    out = capsys.readouterr().out
    for f in skipped:
        assert f"WARN  finding {f.run.removeprefix('findings/')} {f.contract}/{f.term}: not" in out


# --- the verifier script itself -------------------------------------------------------------------


def test_verify_script_matches_shipped_script(
    exported: Exported, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    import hashlib

    from workbench.bundle.verify_sh import VERIFY_SH, VERIFY_SH_SHA256
    from workbench.cli.main import main

    assert main(["verify-script"]) == 0
    printed = capfdbinary.readouterr().out
    assert printed == VERIFY_SH.encode() == members(exported.second)["VERIFY.sh"]
    assert main(["verify-script", "--sha256"]) == 0
    digest = capfdbinary.readouterr().out.decode().strip()
    assert digest == hashlib.sha256(printed).hexdigest() == VERIFY_SH_SHA256

    # ...travels with the trust root: registry root (stderr, stdout stays the bare root).
    assert main(["--repo", str(exported.root), "registry", "root"]) == 0
    out = capfdbinary.readouterr()
    assert out.out.decode().strip() == exported.trust_root
    assert digest in out.err.decode()
    assert main(["--repo", str(exported.root), "registry", "root", "--json"]) == 0
    assert json.loads(capfdbinary.readouterr().out) == {
        "root_sha256": exported.trust_root,
        "verify_script_sha256": digest,
    }
    # ...and in the exporter's output and the README.
    out_path = tmp_path / "b.tar.gz"
    args = ["--repo", str(exported.root), "--as", "grace.whitfield", "export-bundle"]
    assert main([*args, "--out", str(out_path), "--no-record"]) == 0
    assert f"verify script    {digest}" in capfdbinary.readouterr().out.decode()
    assert digest in members(out_path.read_bytes())["README.txt"].decode()

    # The auditor's own copy, run on the archive, reaches the verdict the bundle's copy does.
    script = tmp_path / "VERIFY.sh"
    script.write_bytes(printed)
    ours = run_verify_sh(exported.second, exported.trust_root, script=script.read_text())
    assert ours.returncode == 0 and "differs from the script you ran" not in ours.stdout
    lying = printed.replace(b'echo "RESULT: FAIL', b'echo "RESULT: OK" #')
    assert lying != printed
    noted = run_verify_sh(exported.second, exported.trust_root, script=lying.decode())
    assert "the bundle's own VERIFY.sh differs from the script you ran" in noted.stdout


# --- the archive ----------------------------------------------------------------------------------


def test_partial_extraction_never_ok(exported: Exported, tmp_path: Path) -> None:
    """A member tar refuses leaves everything else extracted: never RESULT: OK."""
    refused = {
        # tar cannot create it: README.txt is a file, not a directory
        "not-a-directory": with_members(exported.second, [(regular("README.txt/x"), b"x")]),
        # GNU tar skips members with '..' (and says so on stderr, exit 2)
        "dotdot": with_members(exported.second, [(regular("evidence/../../escape"), b"x")]),
    }
    for name, bundle in refused.items():
        v = both(bundle, exported.trust_root)
        assert not v.ok, name
        assert "RESULT: FAIL" in v.sh.stdout and "RESULT: OK" not in v.sh.stdout
        assert "the rest of the bundle was not read" in v.sh.stdout
    # The command the README gives for the bundle's own copy: take only VERIFY.sh out of the
    # archive, then verify the archive itself.
    path = tmp_path / "bundle.tar.gz"
    path.write_bytes(refused["not-a-directory"])
    result = subprocess.run(
        ["sh", "-c", f"tar -xzf {path} VERIFY.sh && sh VERIFY.sh {path} {exported.trust_root}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tar refused or could not extract a member" in result.stdout
    assert "RESULT: OK" not in result.stdout


def gzip_bomb(size: int) -> bytes:
    """~``size`` bytes of gzip that inflate about 1000 times: a tar header for a member
    just under the 1 GiB per-file cap, then zeros (built without inflating anything)."""
    info = tarfile.TarInfo("evidence/snapshots/bomb.csv")
    info.size = (1 << 30) - 1
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = deflate.compress(info.tobuf(format=tarfile.GNU_FORMAT)) + deflate.flush(
        zlib.Z_FULL_FLUSH
    )
    zeros = bytes(1 << 20)
    pieces = [deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH) for _ in range(3)]
    assert pieces[1] == pieces[2]  # after a full flush each MiB of zeros deflates the same
    return head + pieces[2] * ((size - len(head)) // len(pieces[2])) + deflate.flush()


def test_gzip_bomb_rejected_early_low_rss(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(gzip_bomb(21 << 20))
    assert 20 << 20 < bomb.stat().st_size <= 21 << 20
    # Measured in a process of its own, so no earlier child of this worker counts.
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(r.returncode, peak); print(r.stdout)\n"
    )
    cmd = [sys.executable, "-m", "workbench", "verify-bundle", str(bomb), "--root", ZERO_ROOT]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [sys.executable, "-c", probe, *cmd], capture_output=True, text=True, env=env, timeout=300
    )
    first, _, out = result.stdout.partition("\n")
    code, peak_kib = (int(x) for x in first.split())
    assert code == 1, result.stdout + result.stderr
    assert "decompression bomb" in out
    assert peak_kib < 300 * 1024, f"peak RSS {peak_kib // 1024} MiB"

    # VERIFY.sh inflates to a pipe up to its cap (the ratio cap of the whole file) before it
    # writes anything; the same shape, smaller, shows it (the 21 MB one takes ~4 GiB of CPU).
    sh = run_verify_sh(gzip_bomb(2 << 20), ZERO_ROOT)
    assert sh.returncode == 1
    assert "a decompression bomb? Not extracted" in sh.stdout
    assert "extracted whole" not in sh.stdout


# --- both verifiers agree on every crafted bundle -------------------------------------------------


def _heads_edited(e: Exported) -> bytes:
    files = members(e.second)
    heads = json.loads(files[bl.HEADS])
    heads["contracts"][APPROVED]["version"] = 7
    files[bl.HEADS] = canonical_json(heads) + b"\n"
    return pack(resign(files, e.root, "erin.walsh"))


def _without_heads(e: Exported) -> bytes:
    files = members(e.second)
    del files[bl.HEADS]
    return pack(resign(files, e.root, "erin.walsh"))


def _contract_left_out(e: Exported) -> bytes:
    files = members(e.second)
    index = json.loads(files[bl.INDEX])
    del index["contracts"][APPROVED]
    files[bl.INDEX] = canonical_json(index) + b"\n"
    for path in [p for p in files if p.startswith(f"contracts/{APPROVED}/")]:
        del files[path]
    return pack(resign(files, e.root, "erin.walsh"))


def _required_inflated(e: Exported) -> bytes:
    files = members(e.second)
    path = bl.contract_dir(APPROVED, 1) + "required.json"
    doc = json.loads(files[path])
    doc["required"].append("erin.walsh@meridian.example")
    files[path] = canonical_json(doc) + b"\n"
    return pack(resign(files, e.root, "erin.walsh"))


def _extra_subject(e: Exported) -> bytes:
    from tests.security.forge import snapshot_of
    from workbench.signing.snapshot import write_snapshot

    files = members(e.second)
    pred = snapshot_of(files)
    subjects = {
        p: files[p] for p in ("registry/v1/statement.json", bl.INDEX, bl.HEADS, "README.txt")
    }
    from tests.security.forge import _when

    snapshot = write_snapshot(
        subjects,
        pred.repository,
        pred.snapshotVersion,
        files[bl.export_statement(pred.snapshotVersion - 1)],
        _when(pred.exportedAt),
        _when(pred.expires),
    )
    files[bl.SNAPSHOT] = snapshot
    sig = "snapshot.grace.whitfield@meridian.example.sig"
    files[sig] = signer(e.root, "grace.whitfield").sign(
        snapshot, "handshake-snapshot-v1@meridian.example"
    )
    files[bl.SUMS] = bl.render_sums(files)
    return pack(files)


def _gzip_tail(e: Exported, tail: bytes) -> bytes:
    return e.second + tail


def _two_gzip_members(e: Exported) -> bytes:
    import gzip

    raw = gzip.decompress(e.second)
    return gzip.compress(raw[:4096], mtime=0) + gzip.compress(raw[4096:], mtime=0)


def _link_member(e: Exported, kind: bytes) -> bytes:
    info = tarfile.TarInfo("README2.txt")
    info.type = kind
    info.linkname = "README.txt"
    return with_members(e.second, [(info, None)])


def _directory_member(e: Exported) -> bytes:
    info = tarfile.TarInfo("extra")
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return with_members(e.second, [(info, None)])


# (The honest bundles, re-signed ones and the attacks above are run through both already.)
CRAFTED = {
    "honest-no-evidence": (lambda e: e.no_evidence, True),
    "required-inflated": (_required_inflated, False),
    "heads-edited": (_heads_edited, False),
    "heads-removed": (_without_heads, True),
    "contract-left-out": (_contract_left_out, False),
    "extra-snapshot-subject": (_extra_subject, False),
    "gzip-trailing-garbage": (lambda e: _gzip_tail(e, b"junk"), False),
    "gzip-trailing-zeros": (lambda e: _gzip_tail(e, b"\0" * 64), True),
    "gzip-two-members": (_two_gzip_members, True),
    "symlink-member": (lambda e: _link_member(e, tarfile.SYMTYPE), False),
    "hardlink-member": (lambda e: _link_member(e, tarfile.LNKTYPE), False),
    "directory-member": (_directory_member, False),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_both_verifiers_agree_on_crafted_bundles(exported: Exported, case: str) -> None:
    build, expected = CRAFTED[case]
    v = both(build(exported), exported.trust_root)  # asserts they agree
    assert v.ok is expected, (case, v.py.failures, v.sh.stdout)


def test_contract_outside_the_plain_layout_fails_closed_in_verify_sh(
    demo_repo: Path,
) -> None:
    """The same seam written as an inline table is valid TOML and approved by its signers:
    verify-bundle says approved; VERIFY.sh cannot derive who must sign from it, so it
    fails (closed) and says to use verify-bundle, rather than guess."""
    from workbench.service.bundle import ExportOptions
    from workbench.service.core import Workbench

    path = demo_repo / "contracts" / f"{APPROVED}.toml"
    text = path.read_text()
    plain = '[seam]\nprovider = "applicant-data"\nconsumer = "credit-risk-model"\n'
    assert plain in text
    inline = text.replace(
        plain, 'seam = { provider = "applicant-data", consumer = "credit-risk-model", '
    ).replace('kind = "data-model"\ndescription = ', 'kind = "data-model", description = ', 1)
    inline = inline.replace('bureau data."\n', 'bureau data." }\n', 1)
    import tomllib

    assert tomllib.loads(inline)["seam"]["provider"] == "applicant-data"
    at = EXPORT_AT
    wb = Workbench(demo_repo, now=at, actor="dana.okafor")
    wb.commit({f"contracts/{APPROVED}.toml": inline.encode()}, "Seam as an inline table\n")
    for n, person in enumerate(("dana.okafor", "ravi.iyer", "grace.whitfield"), 1):
        w = Workbench(demo_repo, now=at + timedelta(minutes=n), actor=person)
        w.signing.contracts.sign(APPROVED, signer(demo_repo, person))
    wb = Workbench(demo_repo, now=at + timedelta(minutes=10), actor="grace.whitfield")
    bundle = wb.bundles.build(ExportOptions(record=False), signer(demo_repo, "grace.whitfield"))
    trust = wb.signing.registry_state().root_sha256
    assert trust
    py = verify(bundle.data, trust)
    assert py.ok and {c.contract_id: c.state for c in py.contracts}[APPROVED] == "approved"
    sh = run_verify_sh(bundle.data, trust)
    assert sh.returncode == 1
    assert (
        f"FAIL  {APPROVED} v2: cannot derive the required signers from "
        f"contracts/{APPROVED}/v2/contract.toml: line "
    ) in sh.stdout
    assert "use workbench verify-bundle" in sh.stdout
