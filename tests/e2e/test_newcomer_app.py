"""The newcomer path in the app, in a real terminal (tmux, 80×24), as a user types it.

`workbench init` from the CLI, then in the app: two people and a team on the People screen,
the registry version that makes the new lead count, a contract from the data → model
template via the palette, its four placeholders filled in the editor (one by a bracketed
paste of three lines), the commit, and both leads' co-signatures (two sessions); then the
CLI checks it as CI would (`verify`, evidence, `evaluate`, `gate --strict`, `status`); then a
third session exports the audit bundle from the app and verifies it in the app's bundle
viewer, and the CLI's `verify-bundle` checks the same file against the trust root (VERIFY.sh
runs in the CLI path, tests/e2e/test_newcomer_path.py).
The keys are in `benchmarks/newcomer_app.py`, which also times the path
(docs/performance.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from benchmarks.newcomer_app import VERIFY_BUNDLE, run_app_path

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is the oracle"),
]
BIN = Path(sys.executable).parent


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=env
    ).stdout


def test_newcomer_path_in_the_app(tmp_path: Path) -> None:
    path = run_app_path(tmp_path, BIN)
    repo = path.repo
    # Both sessions ended with q, exit code 0.
    assert path.codes["session_ada"] == 0 and path.codes["session_alan"] == 0
    assert path.codes["session_export"] == 0
    # The keys a person presses are counted (a measure, docs/performance.md): each
    # session took some, the People/contract session by far the most.
    keys = path.keystrokes
    assert set(keys) == {"session_ada", "session_alan", "session_export"}
    assert keys["session_ada"] > keys["session_alan"] > 0 and keys["session_export"] > 0
    # What CI checks: both signatures verify, the gate passes, the seam is governed.
    assert "approved" in path.outputs["cli: workbench verify"]
    assert "gate PASSED" in path.outputs["cli: workbench gate --strict"]
    status = path.outputs["cli: workbench status"]
    assert "data-to-model" in status and "signature:approved" in status

    # Every change was made in the app, as the person it speaks for.
    log = git(repo, "log", "--format=%an|%s").splitlines()
    for expected in (
        "Ada Lovelace|Add grace.hopper (Grace Hopper) to team data",
        "Ada Lovelace|Add joan.clarke (Joan Clarke) to team data",
        "Ada Lovelace|Add team product (Loan Product), led by joan.clarke",
        "Ada Lovelace|Sign registry v2 as ada",
        "Alan Turing|Sign registry v2 as alan",
        "Ada Lovelace|Add contract data-to-model",
        "Ada Lovelace|Co-sign data-to-model v1",
        "Alan Turing|Co-sign data-to-model v1",
    ):
        assert expected in log, (expected, log)

    # The placeholders were filled in the editor (the groups by one paste of three lines),
    # and the contract names the teams' leads.
    text = (repo / "contracts" / "data-to-model.toml").read_text(encoding="utf-8")
    assert '"TODO' not in text  # (the header comment still explains them)
    contract = tomllib.loads(text)
    assert contract["parties"] == {"provider_lead": "ada", "consumer_lead": "alan"}
    terms = {t["id"]: t for t in contract["terms"]}
    assert terms["freshness"]["sources"] == ["warehouse.orders"]
    assert terms["representation"]["attribute"] == "age_band"
    assert list(terms["representation"]["groups"]) == ["18-34", "35-54", "55+"]
    people = tomllib.loads((repo / "keys" / "people.toml").read_text(encoding="utf-8"))
    assert {"id": "product", "name": "Loan Product", "lead": "joan.clarke"} in people["teams"]

    # Oracles: git's own checks of every commit, and the co-signature commits are
    # SSH-signed with the signer's key (after signing, the session signs its commits).
    git(repo, "fsck", "--strict")
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    env.pop("XDG_CONFIG_HOME", None)
    cosign = git(repo, "log", "--format=%H", "--grep", "^Co-sign data-to-model v1").split()
    assert len(cosign) == 2
    for commit in cosign:
        verified = subprocess.run(
            ["git", "verify-commit", commit], cwd=repo, capture_output=True, text=True, env=env
        )
        assert verified.returncode == 0, verified.stderr
    assert git(repo, "status", "--porcelain") == ""

    # The bundle the app exported: beside the repo (the dialog's default), its snapshot
    # recorded by ada, and verified offline against the trust root by the CLI too.
    bundles = list(tmp_path.glob("acme-governance-audit-*.tar.gz"))
    assert len(bundles) == 1, bundles
    assert path.codes[VERIFY_BUNDLE] == 0
    verified = path.outputs[VERIFY_BUNDLE]
    assert "RESULT: OK" in verified, verified
    assert "contract data-to-model v1: approved" in verified
    assert any(line.startswith("Ada Lovelace|") and "snapshot" in line.lower() for line in
               git(repo, "log", "--format=%an|%s", "-3").splitlines()), log  # fmt: skip
    print(
        f"newcomer path: {sum(s.seconds for s in path.steps):.1f} s, in the app "
        f"{path.app_seconds:.1f} s, {sum(path.keystrokes.values())} keys pressed in the app"
    )
