"""The CLI and service layer never import the terminal app's (or other heavy) libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("textual", "duckdb", "pygit2")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()
    )
    return set(filter(None, out[-1].split(","))) if out else set()


def test_service_and_cli_imports_stay_light() -> None:
    assert _loaded_after("import workbench.service.core, workbench.cli.main") == set()


def test_help_does_not_import_textual_duckdb_or_pygit2() -> None:
    code = (
        "import contextlib, io\n"
        "from workbench.cli.main import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])"
    )
    assert _loaded_after(code) == set()


def test_nothing_outside_the_tui_imports_textual() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "workbench"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tui" not in path.relative_to(root).parts
        and (
            "import textual" in (text := path.read_text(encoding="utf-8")) or "from textual" in text
        )
    ]
    assert offenders == []
