"""Red-team class: a bundle's texts reach the auditor's terminal without their controls.

The auditor reads README, runs VERIFY.sh and opens the OSCAL documents of a bundle made
from a hostile repo (tests/security/conftest.py), plus a file added under a hostile name.
"""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.security.conftest import CONTROLS, Hostile
from workbench.model import safe_text


def unpack(bundle: Path, target: Path) -> Path:
    with tarfile.open(bundle) as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member)
            if data is None:
                continue
            path = target / member.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data.read())
    return target


def raw_controls(text: str) -> list[str]:
    return sorted({safe_text.visible(c) for c in text if safe_text.is_unsafe(c) and c not in "\n"})


def test_bundle_readme_shows_repo_names_without_controls(
    hostile_template: Hostile, tmp_path: Path
) -> None:
    readme = (unpack(hostile_template.bundle, tmp_path) / "README.txt").read_text(encoding="utf-8")
    assert "Meridian Financial Group\\x1b]8;;http://e.vil" in readme  # the org, visibly
    assert not raw_controls(readme)
    # The header stays one line although the org and exporter names hold a newline.
    assert not re.search(r"^FORGED", readme, re.MULTILINE)


def test_oscal_documents_escape_controls(hostile_template: Hostile, tmp_path: Path) -> None:
    import json

    folder = unpack(hostile_template.bundle, tmp_path) / "oscal"
    texts = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.json")}
    assert texts
    joined = "".join(texts.values())
    assert "\\u001b]8;;http://e.vil" in joined, "the hostile text is there, JSON-escaped"
    for name, text in texts.items():
        assert not raw_controls(text), name
        json.loads(text)


@pytest.mark.skipif(
    not all(
        any(os.access(Path(d) / tool, os.X_OK) for d in os.environ["PATH"].split(os.pathsep))
        for tool in ("jq", "ssh-keygen", "sha256sum")
    ),
    reason="VERIFY.sh needs jq, ssh-keygen and sha256sum",
)
def test_verify_sh_prints_only_printable_ascii(hostile_template: Hostile, tmp_path: Path) -> None:
    folder = unpack(hostile_template.bundle, tmp_path / "b")
    env = {k: v for k, v in os.environ.items() if k not in ("STRICT", "VERIFY_SH_FILTERED")}
    result = subprocess.run(  # the script checks the archive itself
        [
            "sh",
            str(folder / "VERIFY.sh"),
            str(hostile_template.bundle),
            hostile_template.trust_root,
        ],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout.decode("utf-8", "replace")
    for stream in (result.stdout, result.stderr):
        bad = {b for b in stream if not (32 <= b < 127 or b in (9, 10))}
        assert not bad, f"raw bytes {sorted(bad)} in VERIFY.sh output"
    out = result.stdout.decode()
    # It still names the extra member (as tar lists it, its control bytes escaped or shown
    # as '?') and fails the bundle before extracting anything.
    assert re.search(r"unsafe member name\(s\)[^\n]*: extra\S*\]8;;http:/+e\.vil", out), out
    assert out.rstrip().splitlines()[-1].startswith("RESULT: FAIL")
    # Exit codes pass through the filter: a usage error is still 2, on stderr.
    usage = subprocess.run(["sh", str(folder / "VERIFY.sh")], capture_output=True, env=env)
    assert usage.returncode == 2 and b"usage" in usage.stderr


def test_verify_bundle_cli_names_the_hostile_file_visibly(
    hostile_template: Hostile,
) -> None:
    from tests.security.conftest import run_cli

    code, out, err = run_cli(
        None, "verify-bundle", str(hostile_template.bundle), "--root", hostile_template.trust_root
    )
    assert code == 1
    assert safe_text.line(f"extra{CONTROLS}.txt") in out
    assert not raw_controls(out + err)
