"""Types as code (issue 14): the packages mypy checks strictly are named once, in the
Makefile's TYPED list, and pyproject.toml [tool.mypy] gives each of them every flag of
`mypy --strict`; `make lint` and .ci/run run it, and it passes."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The pure and inner rooms issue 14 asks to be strict, the service layer the front ends
# talk to, and every front end, the terminal app included.
IN_SCOPE = {
    "workbench.model",
    "workbench.governance",
    "workbench.repo",
    "workbench.signing",
    "workbench.evidence",
    "workbench.bundle",
    "workbench.service",
    "workbench.notify",
    "workbench.interop",
    "workbench.demo",
    "workbench.cli",
    "workbench.tui",
}


def typed_packages() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    m = re.search(r"^TYPED := (.+)$", text, re.MULTILINE)
    assert m, "the Makefile names no TYPED list"
    return m.group(1).split()


def strict_overrides() -> dict[str, dict[str, object]]:
    """{module pattern: its settings} for every override of pyproject.toml [tool.mypy]."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    out: dict[str, dict[str, object]] = {}
    for override in config.get("overrides", []):
        modules = override["module"]
        for module in [modules] if isinstance(modules, str) else modules:
            out[module] = {k: v for k, v in override.items() if k != "module"}
    return out


def strict_flags() -> set[str]:
    """The config names of the flags `mypy --strict` turns on, read from mypy's own help."""
    help_text = subprocess.run(
        [sys.executable, "-m", "mypy", "--help"], capture_output=True, text=True, check=True
    ).stdout
    paragraph = re.split(r"\n  --strict\s", help_text, maxsplit=1)[1].split("\n  --", 1)[0]
    flags = re.findall(r"--([a-z-]+)", re.sub(r"-\n\s+", "-", paragraph))
    # --no-implicit-reexport is `implicit_reexport = false` in a config file.
    return {f.replace("-", "_") for f in flags} - {"no_implicit_reexport"} | {"implicit_reexport"}


def test_the_typed_list_is_in_scope_and_runs_in_lint_and_ci() -> None:
    typed = typed_packages()
    assert typed, "no package is type-checked"
    assert set(typed) <= IN_SCOPE
    assert len(set(typed)) == len(typed)
    assert "$(MAKE) typecheck" in (ROOT / "Makefile").read_text().split("\nlint:", 1)[1]
    assert "make typecheck" in (ROOT / ".ci" / "run").read_text()


def test_ci_runs_the_ci_step_tests_after_make_test() -> None:
    """`make test` leaves out the `ci_step` tests (tests/conftest.py); CI must still run
    them, as a step of their own."""
    ci = (ROOT / ".ci" / "run").read_text()
    steps = [line.strip() for line in ci.splitlines() if line and not line.startswith("#")]
    assert "make test" in steps
    [step] = [s for s in steps if "-m ci_step" in s]
    assert step.startswith(".venv/bin/python -m pytest") and steps.index(step) > steps.index(
        "make test"
    )


def test_every_typed_package_gets_every_strict_flag() -> None:
    overrides = strict_overrides()
    flags = strict_flags()
    assert len(flags) >= 10, flags  # the help text was read
    global_only = {"warn_redundant_casts"}  # mypy takes this one only for the whole run
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    for flag in global_only:
        assert config.get(flag) is True, flag
    for package in typed_packages():
        settings = overrides.get(f"{package}.*")
        assert settings is not None, f"{package} has no strict override"
        for flag in flags - global_only:
            expected = flag != "implicit_reexport"
            assert settings.get(flag) is expected, f"{package}: {flag} is not set"


@pytest.mark.ci_step  # .ci/run's `pytest -m ci_step`; `make typecheck` and `make lint` too
def test_mypy_passes_on_the_typed_packages() -> None:
    args = [a for p in typed_packages() for a in ("-p", p)]
    run = subprocess.run(
        [sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout[-4000:]
