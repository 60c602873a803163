"""The code's shape, checked: no function over 120 lines and no module over 800 lines in
`workbench/` (issue 14). A function that long no longer reads as its steps; split it along
the stages its own docstring numbers. Lengths are source lines from the first decorator to
the last line, nested functions and methods included.

Run as a script to list every function and module over the limits, longest first:

    .venv/bin/python tests/test_shape.py
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"
MAX_FUNCTION_LINES = 120
MAX_MODULE_LINES = 800


@dataclass(frozen=True)
class Oversize:
    path: str  # relative to the repository root
    name: str  # the function's qualified name, or "" for the module itself
    lines: int

    def __str__(self) -> str:
        what = f"{self.name}()" if self.name else "module"
        limit = MAX_FUNCTION_LINES if self.name else MAX_MODULE_LINES
        return f"{self.path}: {what} is {self.lines} lines (limit {limit})"


def _functions(tree: ast.AST) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    out: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((prefix + child.name, child))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def oversized(paths: list[Path], root: Path = ROOT) -> list[Oversize]:
    found: list[Oversize] = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        rel = str(path.relative_to(root))
        count = len(source.splitlines())
        if count > MAX_MODULE_LINES:
            found.append(Oversize(rel, "", count))
        for name, node in _functions(ast.parse(source, rel)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            span = (node.end_lineno or node.lineno) - first + 1
            if span > MAX_FUNCTION_LINES:
                found.append(Oversize(rel, name, span))
    return sorted(found, key=lambda o: -o.lines)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_measure_counts_decorators_nested_functions_and_methods(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 2))
    (tmp_path / "m.py").write_text(
        "import functools\n\n"
        "@functools.cache\n"  # the decorator's line counts: 121 lines in all
        f"def long():\n{body}\n    return x0\n\n\n"
        "class C:\n"
        f"    def short(self):\n        return 1\n\n"
        "    def outer(self):\n"
        "        def inner():\n"
        + "\n".join(f"            y{i} = {i}" for i in range(MAX_FUNCTION_LINES))
        + "\n        return inner\n"
    )
    found = {(o.name, o.lines) for o in oversized([tmp_path / "m.py"], tmp_path)}
    assert found == {
        ("long", MAX_FUNCTION_LINES + 1),
        ("C.outer", MAX_FUNCTION_LINES + 3),
        ("C.outer.inner", MAX_FUNCTION_LINES + 1),
    }


def test_no_function_or_module_over_the_limits() -> None:
    modules = _modules()
    assert len(modules) > 100, "the measure reads the package"
    found = oversized(modules)
    assert not found, "split along the steps the docstring names:\n" + "\n".join(map(str, found))


if __name__ == "__main__":
    for item in oversized(sorted(PACKAGE.rglob("*.py"))):
        print(item)
