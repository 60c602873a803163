"""The rooms of docs/architecture.md are the code: the table says what the import-linter
contracts in pyproject.toml allow, every package of `workbench/` has a row and a layer, and
the contracts hold (function-local imports included); a planted import breaks them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"


def rooms_on_disk() -> set[str]:
    return {
        p.parent.name
        for p in (ROOT / "workbench").glob("*/__init__.py")
        if p.parent.name != "__pycache__"
    }


def rooms_table(text: str) -> dict[str, set[str]]:
    """{room: the rooms its "may import" cell names} from the table under "## Rooms"."""
    section = text.split("\n## Rooms\n", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for row in section.splitlines():
        m = re.fullmatch(r"\| `workbench/(\w+)/` \|.*\| ([^|]*) \|", row)
        if m:
            out[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(2)))
    return out


def contract_allowed(pyproject: dict[str, object]) -> dict[str, set[str]]:
    """{room: the rooms it may import} as the contracts say: every room below it in the
    layers (siblings split by '|' are independent), less what a forbidden contract names."""
    contracts = pyproject["tool"]["importlinter"]["contracts"]  # type: ignore[index]
    [layers] = [c for c in contracts if c["type"] == "layers"]
    groups = [
        [m.strip().removeprefix("workbench.") for m in re.split(r"[|:]", layer)]
        for layer in layers["layers"]
    ]
    allowed = {
        room: {r for lower in groups[i + 1 :] for r in lower}
        for i, group in enumerate(groups)
        for room in group
    }
    for c in contracts:
        if c["type"] != "forbidden":
            continue
        forbidden = {
            m.removeprefix("workbench.")
            for m in c["forbidden_modules"]
            if m.startswith("workbench.")
        }
        for source in c["source_modules"]:
            allowed[source.removeprefix("workbench.")] -= forbidden
    return allowed


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _mismatches(table: dict[str, set[str]], allowed: dict[str, set[str]]) -> list[str]:
    out = [f"{r}: a package with no row in the rooms table" for r in rooms_on_disk() - set(table)]
    out += [f"{r}: a row for no package" for r in set(table) - rooms_on_disk()]
    out += [f"{r}: in no layer of the contracts" for r in rooms_on_disk() - set(allowed)]
    for room in sorted(set(table) & set(allowed)):
        if table[room] != allowed[room]:
            out.append(
                f"{room}: the table says {sorted(table[room])}, "
                f"the contracts allow {sorted(allowed[room])}"
            )
    return out


def test_the_rooms_table_is_what_the_contracts_allow() -> None:
    table = rooms_table(DOC.read_text(encoding="utf-8"))
    assert {"bundle", "service", "model"} <= set(table)
    assert _mismatches(table, contract_allowed(_pyproject())) == []


def test_a_table_that_drifts_is_caught() -> None:
    text = DOC.read_text(encoding="utf-8")
    allowed = contract_allowed(_pyproject())
    no_bundle = "\n".join(r for r in text.splitlines() if not r.startswith("| `workbench/bundle/`"))
    assert "bundle: a package with no row in the rooms table" in _mismatches(
        rooms_table(no_bundle), allowed
    )
    looser = text.replace("| `model`; pygit2, tomlkit |", "| `model`, `signing`; pygit2, tomlkit |")
    assert looser != text
    assert any(
        m.startswith("repo: the table says") for m in _mismatches(rooms_table(looser), allowed)
    )


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("lint-imports is not installed (pip install -e '.[test]')")
    return subprocess.run([str(lint)], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_function_local_import_of_the_service_from_the_bundle_breaks_the_layers(
    tmp_path: Path,
) -> None:
    """The shape the offline verifier once had: a record predicate registered by importing
    the service inside a function."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "workbench", copy / "workbench", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    verify = copy / "workbench" / "bundle" / "verify.py"
    verify.write_text(
        verify.read_text(encoding="utf-8")
        + "\n\ndef _planted() -> None:\n    import workbench.service.obligations  # noqa: F401\n",
        encoding="utf-8",
    )
    result = _lint_imports(copy, pythonpath=copy)
    assert result.returncode != 0
    assert "workbench.bundle.verify -> workbench.service.obligations" in result.stdout
