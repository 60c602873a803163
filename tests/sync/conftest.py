"""Real bare repositories and clones of the demo (no git mocks): an origin every test
copies, and clones that carry the demo's keys and the pinned trust root, as a lead's laptop
would (keys and the pin never travel through git)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW, copy_demo
from workbench.service.core import Workbench

APPLICANT = "applicant-data-to-credit-model"  # dana (provider) / ravi (consumer)
CREDIT = "credit-model-to-loan-decisioning"  # stale in the demo: ravi and sofia sign v2
CLAIMS = "claims-agent-to-claims-product"  # its review is overdue (aisha)
THRESHOLD = "credit-model-to-loan-decisioning/approval-threshold"
LOCAL = Path(".git") / "handshake-workbench"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=check
    )


@dataclass
class Origin:
    bare: Path
    keys: Path  # the demo's keys (a folder of <person>_ed25519)
    pin: Path  # the demo clone's trust-root pin

    def clone(self, target: Path, url: str | None = None) -> Path:
        git(target.parent, "clone", "-q", url or str(self.bare), str(target))
        return self.clone_files(target)

    def clone_files(self, target: Path) -> Path:
        """What a lead has beside a fresh clone: the demo's keys and the pinned root."""
        local = target / LOCAL
        local.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.keys, local / "demo-keys")
        shutil.copy(self.pin, local / "trust-root")
        return target


@pytest.fixture(scope="session")
def origin_template(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Origin:
    """The demo plus one tightening change by the provider lead (a notice the consumer lead
    must acknowledge), as a bare repository. Never changed: tests copy it."""
    base = tmp_path_factory.mktemp("origin-template")
    work = copy_demo(demo_template, base / "work")
    wb = Workbench(work, now=FIXED_NOW + timedelta(minutes=10), actor="dana.okafor")
    text = wb.contract_text(APPLICANT).replace('warn_after = "PT12H"', 'warn_after = "PT10H"')
    wb.save_contract(APPLICANT, text, "Warn earlier when applicant features lag\n")
    git(base, "clone", "-q", "--bare", str(work), str(base / "origin.git"))
    return Origin(base / "origin.git", work / LOCAL / "demo-keys", work / LOCAL / "trust-root")


@pytest.fixture
def origin(origin_template: Origin, tmp_path: Path) -> Origin:
    bare = tmp_path / "origin.git"
    shutil.copytree(origin_template.bare, bare)
    return Origin(bare, origin_template.keys, origin_template.pin)
