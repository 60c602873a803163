"""Real bundles exported from the signed demo (one repo copy per worker, shared), and the
helpers the bundle and security tests share. The `exported` fixture lives in
tests/conftest.py so tests/bundle and tests/security build it once per worker."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tests.conftest import FIXED_NOW
from workbench.bundle.archive import read_archive, write_archive
from workbench.bundle.layout import render_sums
from workbench.bundle.verify import BundleReport, verify_bundle
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench
from workbench.signing import keys as keymod

STALE = "credit-model-to-loan-decisioning"  # v1 signed, then edited: we sign v2 here
APPROVED = "applicant-data-to-credit-model"
EXPORT_AT = FIXED_NOW + timedelta(hours=1)
VERIFY_AT = FIXED_NOW + timedelta(hours=2)


def signer(root: Path, person: str) -> keymod.FileSigner:
    s = keymod.FileSigner(
        root / ".git" / "handshake-workbench" / "demo-keys" / f"{person}_ed25519", None
    )
    s.person = person  # type: ignore[attr-defined]
    return s


EXPORTER = "grace.whitfield"  # an authorised exporter: a registry admin and the compliance lead


@dataclass
class Exported:
    root: Path  # the repo (do not change it: shared by the worker's tests)
    trust_root: str
    first: bytes  # snapshot v1 (before STALE v2 was signed)
    second: bytes  # snapshot v2 (STALE at v2)
    no_evidence: bytes  # like second, --no-evidence-files, not recorded


def build_exported(demo_template: Path, target: Path) -> Exported:
    """The `exported` fixture's bundles (tests/conftest.py shares them across folders)."""
    root = target / "demo"
    shutil.copytree(demo_template, root, symlinks=True)
    wb = Workbench(root, now=EXPORT_AT, actor=EXPORTER)
    svc = wb.bundles
    out = target / "first.tar.gz"
    svc.export(out, ExportOptions(), signer=signer(root, EXPORTER))
    first = out.read_bytes()
    for person in ("ravi.iyer", "sofia.marquez"):
        w = Workbench(root, now=EXPORT_AT + timedelta(minutes=5), actor=person)
        w.signing.contracts.sign(STALE, signer(root, person))
    wb = Workbench(root, now=EXPORT_AT + timedelta(minutes=10), actor=EXPORTER)
    out = target / "second.tar.gz"
    wb.bundles.export(out, ExportOptions(), signer=signer(root, EXPORTER))
    second = out.read_bytes()
    no_ev = wb.bundles.build(
        ExportOptions(evidence_files=False, record=False), signer(root, EXPORTER)
    )
    trust = wb.signing.registry_state().root_sha256
    assert trust
    return Exported(root, trust, first, second, no_ev.data)


def members(data: bytes) -> dict[str, bytes]:
    return read_archive(data)


def pack(files: dict[str, bytes], resum: bool = False) -> bytes:
    """Re-pack (as an attacker would), optionally fixing SHA256SUMS to match."""
    files = dict(files)
    if resum:
        files["SHA256SUMS"] = render_sums(files)
    return write_archive(files, 0)


def run_verify_sh(
    bundle: bytes | dict[str, bytes],
    root: str,
    previous: str | None = None,
    *,
    script: str | None = None,
    strict: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run VERIFY.sh for real under `sh` (dash on Debian) on the archive, as the auditor
    does: their own copy of the script (`workbench verify-script`), the .tar.gz as given."""
    from workbench.bundle.verify_sh import VERIFY_SH

    data = bundle if isinstance(bundle, bytes) else pack(bundle)
    with tempfile.TemporaryDirectory(prefix="verify-sh-") as tmp:
        (Path(tmp) / "VERIFY.sh").write_text(script or VERIFY_SH)
        (Path(tmp) / "bundle.tar.gz").write_bytes(data)
        args = ["sh", str(Path(tmp) / "VERIFY.sh"), str(Path(tmp) / "bundle.tar.gz"), root]
        env = {k: v for k, v in os.environ.items() if k != "STRICT"}
        if strict:
            env["STRICT"] = "1"
        return subprocess.run(
            [*args, *([previous] if previous else [])],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )


def verify(data: bytes, root: str, **kwargs: object) -> BundleReport:
    return verify_bundle(data, root=root, now=VERIFY_AT, **kwargs)  # type: ignore[arg-type]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_tar(entries: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """A hand-made .tar.gz (for the hardened-reader cases)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for entry in entries:
            if isinstance(entry, tuple):
                info, data = entry
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(entry)
    import gzip

    return gzip.compress(raw.getvalue(), mtime=0)
