"""Generate docs/rules.md: every problem code, finding status, gate rule, contract verdict and
verify-bundle check the code emits, where it lives and which test covers it.

    .venv/bin/python scripts/rules_index.py           # rewrite docs/rules.md
    .venv/bin/python scripts/rules_index.py --check   # exit 1, naming what differs

Everything is read from the source, never listed by hand, so the page cannot drift
(tests/test_rules_index.py regenerates it and compares):

* problem codes: the code argument of every ``Problem(...)``, ``<document>.problem(...)`` and
  ``TextIssue(...)`` under workbench/, a variable resolved through its assignments in the
  same function; the severity from the same call (``.problem`` defaults to error);
* finding statuses: ``evidence.check_base.STATUSES`` and ``VIOLATING``;
* gate rules: ``governance.gate.RULES`` and the function ``RULE_CHECKS`` runs for each
  (``valid`` is ``_rule_valid``), plus the trust root;
* contract verdicts: every ``<verdict>.state = "..."`` in ``signing/verdict.py``;
* verify-bundle checks: the name of every ``report.add(name, severity, message)`` under
  workbench/bundle/, with the severities it can have.

A test covers an item when its function (decorators included, and the module-level tables it
names, such as a parametrize list) holds the item as a string:
a problem code anywhere in a string (codes are distinctive); the other names as a whole
string, in a test whose own text names what they belong to (``gate``/``rule`` for a gate
rule, ``status`` for a finding status, ``state`` or ``verdict`` for a verdict,
``report``/``checks``/``failures``/``found`` for a verify-bundle check; a failure line
``"<check>: ..."`` counts too). One test is named: the first in the category's own test
folders, else the first in path order (one, so that a new test rarely changes the page).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"
TESTS = ROOT / "tests"
OUT = ROOT / "docs" / "rules.md"

CODE_RE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_.-]*[a-z0-9]")
# call name -> (index of the code argument, index of the severity argument or None,
# severity when not given)
EMITTERS: dict[str, tuple[int, int | None, str]] = {
    "Problem": (4, 3, "error"),
    "problem": (1, 3, "error"),
    "TextIssue": (2, None, "error"),
}
SEVERITIES = ("ok", "fail", "warn", "info")
MAX_TESTS = 1


@dataclass
class Item:
    name: str
    where: set[str] = field(default_factory=set)  # "path::function"
    severities: set[str] = field(default_factory=set)
    meaning: str = ""
    tests: list[str] = field(default_factory=list)


# --- reading the source -------------------------------------------------------------------


def _modules(root: Path, *needles: str) -> Iterator[tuple[str, ast.Module]]:
    """The modules under ``root`` (those whose text holds one of ``needles``, if given)."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        if not needles or any(n in source for n in needles):
            yield rel, ast.parse(source, rel)


def _scopes(tree: ast.AST, name: str = "") -> Iterator[tuple[str, ast.AST]]:
    """(qualified function name, function node) for every function, outermost first; the
    module itself as ""."""
    yield name, tree
    for node in ast.iter_child_nodes(tree):
        yield from _nested(node, name)


def _nested(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.AST]]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        qual = f"{prefix}.{node.name}" if prefix else node.name
        yield qual, node
        for child in ast.iter_child_nodes(node):
            yield from _nested(child, qual)
    elif isinstance(node, ast.ClassDef):
        qual = f"{prefix}.{node.name}" if prefix else node.name
        for child in ast.iter_child_nodes(node):
            yield from _nested(child, qual)
    else:
        for child in ast.iter_child_nodes(node):
            yield from _nested(child, prefix)


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function, not those of the functions nested in it."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _strings(node: ast.AST | None) -> list[str]:
    if node is None:
        return []
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _arg(call: ast.Call, index: int | None, keyword: str) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if index is not None and index < len(call.args):
        return call.args[index]
    return None


def _template(node: ast.AST | None) -> str:
    """A message as written: constants kept, each interpolated value as …."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _template(node.left) + _template(node.right)
    return ""


def _one_line(text: str, width: int = 110) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _codes_with_messages(
    scope: ast.AST, code: ast.AST | None, message: ast.AST | None
) -> list[tuple[str, str]]:
    """Each code a call can emit, with its message template. A code held in a variable is
    found at each assignment; its message is the one assigned beside it (the same branch)."""
    if not isinstance(code, ast.Name):
        return [(c, _message(scope, message)) for c in _strings(code) if CODE_RE.fullmatch(c)]
    out = []
    for block in _blocks(scope):
        for stmt in block:
            if not (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == code.id for t in stmt.targets)
            ):
                continue
            beside = [
                _template(other.value)
                for other in block
                if isinstance(message, ast.Name)
                and isinstance(other, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == message.id for t in other.targets)
            ]
            text = next((t for t in beside if t), "")
            if not text:
                text = "(built from the error found)" if beside else _message(scope, message)
            out += [(c, text) for c in _strings(stmt.value) if CODE_RE.fullmatch(c)]
    return out


def _blocks(scope: ast.AST) -> Iterator[list[ast.stmt]]:
    """Every statement list of a function (its body, each branch), nested functions left out."""
    for node in [scope, *_own_nodes(scope)]:
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _message(scope: ast.AST, node: ast.AST | None) -> str:
    """The message template at a call; through a variable, its first assignment in the
    same function (a message built by another function is named as such)."""
    if isinstance(node, ast.Name):
        for value in _assigned(scope, node.id):
            if isinstance(value, ast.Call):
                return f"(the message of `{_call_name(value)}`)"
            if _template(value):
                return _template(value)
        return ""
    return _template(node)


def _assigned(scope: ast.AST, name: str) -> list[ast.AST]:
    return [
        node.value
        for node in _own_nodes(scope)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]


# --- what the code emits ------------------------------------------------------------------


def problem_codes() -> dict[str, Item]:
    items: dict[str, Item] = {}
    for rel, tree in _modules(PACKAGE, *(f"{name}(" for name in EMITTERS)):
        for qual, scope in _scopes(tree):
            for node in _own_nodes(scope):
                if not isinstance(node, ast.Call) or _call_name(node) not in EMITTERS:
                    continue
                code_at, severity_at, default = EMITTERS[_call_name(node)]
                code = _arg(node, code_at, "code")
                message_arg = _arg(node, code_at + 1, "message")
                severity = _arg(node, severity_at, "severity")
                sev = [s for s in _strings(severity) if s in ("error", "warning")]
                if severity is None:
                    sev = [default]
                for c, message in _codes_with_messages(scope, code, message_arg):
                    item = items.setdefault(c, Item(c))
                    item.where.add(f"{rel}::{qual or '(module)'}")
                    item.severities.update(sev or ["error or warning"])
                    item.meaning = item.meaning or message
    return items


def finding_statuses() -> dict[str, Item]:
    sys.path.insert(0, str(ROOT))
    from workbench.evidence import check_base

    where = "workbench/evidence/check_base.py::STATUSES"
    return {
        s: Item(
            s,
            {where},
            meaning="a violation (opens or keeps one open)"
            if s in check_base.VIOLATING
            else "not a violation",
        )
        for s in check_base.STATUSES
    }


def gate_rules() -> dict[str, Item]:
    sys.path.insert(0, str(ROOT))
    from workbench.governance import gate

    tree = ast.parse((PACKAGE / "governance" / "gate.py").read_text(encoding="utf-8"))
    runs: dict[str, str] = {"valid": "_rule_valid"}
    for node in ast.walk(tree):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "RULE_CHECKS":
            assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Dict)
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                assert isinstance(key, ast.Constant)
                calls = [_call_name(c) for c in ast.walk(value) if isinstance(c, ast.Call)]
                runs[key.value] = calls[0] if calls else getattr(value, "id", "?")
    items = {
        rule: Item(rule, {f"workbench/governance/gate.py::{runs[rule]}"}, meaning=text)
        for rule, text in gate.RULES.items()
    }
    items[gate.TRUST_RULE] = Item(
        gate.TRUST_RULE,
        {"workbench/governance/gate_model.py::GateResult.trust_outcome"},
        meaning=gate.TRUST_TEXT + " (above every contract; fails on any registry problem)",
    )
    return items


def verdict_states() -> dict[str, Item]:
    rel = "workbench/signing/verdict.py"
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"), rel)
    items: dict[str, Item] = {}
    for qual, scope in _scopes(tree):
        for node in _own_nodes(scope):
            found: list[str] = []
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Tuple):
                        elts = getattr(node.value, "elts", [])
                        pairs = list(zip(target.elts, elts, strict=False))
                    else:
                        pairs = [(target, node.value)]
                    found += [
                        s
                        for t, value in pairs
                        if isinstance(t, ast.Attribute) and t.attr == "state"
                        for s in _strings(value)
                    ]
            elif isinstance(node, ast.Call) and _call_name(node) == "ContractVerdict":
                found += _strings(node.args[1]) if len(node.args) > 1 else []
            for s in found:
                items.setdefault(s, Item(s)).where.add(f"{rel}::{qual}")
    # What each state means: the bullets of the module docstring ("* name - text").
    doc = ast.get_docstring(tree) or ""
    for m in re.finditer(r"^\* (\w+) +- (.+?)(?=^\* |^$|\Z)", doc, re.MULTILINE | re.DOTALL):
        if m.group(1) in items:
            items[m.group(1)].meaning = m.group(2)
    return items


def verify_checks() -> dict[str, Item]:
    items: dict[str, Item] = {}
    for rel, tree in _modules(PACKAGE / "bundle", "report.add("):
        for qual, scope in _scopes(tree):
            for node in _own_nodes(scope):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "report"
                    and len(node.args) == 3
                    and isinstance(node.args[0], ast.Constant)
                ):
                    continue
                name = node.args[0].value
                sev = [s for s in _strings(node.args[1]) if s in SEVERITIES]
                item = items.setdefault(name, Item(name))
                item.where.add(f"{rel}::{qual}")
                item.severities.update(sev)
                if "ok" in sev and not item.meaning:
                    item.meaning = "ok: " + _template(node.args[2])
    return items


# --- which tests cover it -----------------------------------------------------------------


@dataclass(frozen=True)
class TestFunction:
    ref: str  # tests/x/test_y.py::test_z
    text: str  # its source, decorators included
    strings: frozenset[str]


def _module_strings(tree: ast.Module) -> dict[str, set[str]]:
    """The strings each module-level name holds (a parametrize table is often one), with
    the strings of the module-level names it refers to."""
    direct: dict[str, set[str]] = {}
    refs: dict[str, set[str]] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                value = node.value  # type: ignore[attr-defined]
                direct[target.id] = set(_strings(value))
                refs[target.id] = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    out: dict[str, set[str]] = {}
    for name in direct:
        seen, todo, strings = {name}, [name], set()
        while todo:
            current = todo.pop()
            strings |= direct.get(current, set())
            for ref in refs.get(current, set()) - seen:
                if ref in direct:
                    seen.add(ref)
                    todo.append(ref)
        out[name] = strings
    return out


def test_functions() -> list[TestFunction]:
    out = []
    for path in sorted(TESTS.rglob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        lines = source.splitlines()
        tables = _module_strings(tree)
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name.startswith("test_")
            ):
                continue
            parts = [*node.decorator_list, node]
            first = min(d.lineno for d in parts)
            text = "\n".join(lines[first - 1 : node.end_lineno])
            strings = {s for d in parts for s in _strings(d)}
            for d in parts:
                for name in ast.walk(d):
                    if isinstance(name, ast.Name) and name.id in tables:
                        strings |= tables[name.id]
            out.append(TestFunction(f"{rel}::{node.name}", text, frozenset(strings)))
    return out


def _covers(kind: str, name: str, test: TestFunction) -> bool:
    if kind == "code":
        token = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])")
        return any(token.search(s) for s in test.strings)
    words = {
        "status": r"\bstatus",
        "rule": r"\bgate|\brule",
        "verdict": r"\bstate\b|verdict",
        "check": r"\breport\b|\.checks\b|failures|\bfound\b",
    }[kind]
    if not re.search(words, test.text):
        return False
    if name in test.strings:
        return True
    return kind == "check" and any(s.startswith(f"{name}: ") for s in test.strings)


def attach_tests(
    kind: str, items: dict[str, Item], tests: list[TestFunction], homes: tuple[str, ...]
) -> None:
    for item in items.values():
        found = [t.ref for t in tests if _covers(kind, item.name, t)]
        found.sort(key=lambda ref: (not ref.startswith(homes), ref))
        item.tests = found[:MAX_TESTS]


# --- the page -----------------------------------------------------------------------------


SECTIONS = (
    # (kind, title, collect, where its tests live (named first), introduction)
    (
        "code",
        "Problem codes",
        problem_codes,
        ("tests/core/",),
        "What `workbench validate` (and every command that reads the repo) reports, as "
        "`file:line:column: severity: message [field] (code)`. An error makes the file "
        "invalid: the gate's `valid` rule fails and the contract cannot be signed; a warning "
        "is shown and changes nothing. Signed records, evidence schemas and bundles report "
        "their problems as messages, without a code (below).",
    ),
    (
        "status",
        "Finding statuses",
        finding_statuses,
        ("tests/evidence/",),
        "The status of one term check in a findings run (`workbench evaluate`). A violating "
        "status opens a violation (or keeps it open) until a later run passes, or a signed "
        "closure resolves or exempts it; the gate's `violation_open` rule fails on it.",
    ),
    (
        "rule",
        "Gate rules",
        gate_rules,
        ("tests/governance/",),
        "`workbench gate` checks each rule of the policy in force for every contract in "
        "scope (docs/obligations.md, the gate; docs/guarantees.md for what each guarantees). "
        "`valid` and `records_valid` are always deny rules; the trust root stands above "
        "every contract.",
    ),
    (
        "verdict",
        "Contract verdicts",
        verdict_states,
        ("tests/signing/",),
        "The signing room's verdict on a contract at a revision (`workbench status`, "
        "`verify`, the gate's `approved` rule and `verify-bundle` use this one "
        "implementation, `signing.verdict.contract_verdict`).",
    ),
    (
        "check",
        "verify-bundle checks",
        verify_checks,
        (
            "tests/bundle/",
            "tests/security/test_bundles.py",
            "tests/security/test_findings_bundle.py",
        ),
        "Each line of `workbench verify-bundle` is one check: `OK`, `FAIL`, `WARN` or `NOTE` "
        "(info). Any `FAIL` makes the bundle invalid (exit 1). `VERIFY.sh` runs the same "
        "checks with stock tools and prints its own lines (docs/audit.md says where the two "
        "differ).",
    ),
)


def collect() -> list[tuple[str, str, str, dict[str, Item]]]:
    tests = test_functions()
    out = []
    for kind, title, make, home, intro in SECTIONS:
        items = make()
        attach_tests(kind, items, tests, home)
        out.append((kind, title, intro, items))
    return out


def render(sections: list[tuple[str, str, str, dict[str, Item]]]) -> str:
    lines = [
        "# Rules index",
        "",
        "Every problem code, finding status, gate rule, contract verdict and verify-bundle "
        "check the code emits, where it lives and a test that exercises it. Generated from "
        "the source by `scripts/rules_index.py` (do not edit by hand: run "
        "`.venv/bin/python scripts/rules_index.py`); `tests/test_rules_index.py` fails when "
        "this page and the code disagree, naming what is missing, and when anything here has "
        "no test.",
        "",
    ]
    for kind, title, intro, items in sections:
        lines += [f"## {title}", "", intro, ""]
        with_severity = kind in ("code", "check")
        head = (
            ["name"]
            + (["severity"] if with_severity else [])
            + ["meaning", "lives in", "tested by"]
        )
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for name in sorted(items):
            item = items[name]
            row = [f"`{name}`"]
            if with_severity:
                row.append(", ".join(sorted(item.severities)))
            row.append(_one_line(item.meaning))
            row.append("<br>".join(f"`{w}`" for w in sorted(item.where)))
            row.append("<br>".join(f"`{t}`" for t in item.tests) or "**none**")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    lines += [
        "## Reported without a code",
        "",
        "* signed records (reviews, acknowledgements, receipts, closures) that do not count: "
        "a message naming the file (`governance.records`, `workbench status`, the gate's "
        "`records_valid`);",
        "* evidence that does not fit its kind: file, column and what is wrong "
        "(`evidence.kinds`, `workbench evidence add`);",
        "* findings runs that do not count: a message naming the run (`evidence.run_chain`);",
        "* `VERIFY.sh`: `FAIL` lines per check, mirroring the verify-bundle checks above.",
        "",
    ]
    return "\n".join(lines)


def untested(sections: list[tuple[str, str, str, dict[str, Item]]]) -> list[str]:
    return [
        f"{title}: {name}"
        for _k, title, _i, items in sections
        for name, item in sorted(items.items())
        if not item.tests
    ]


def documented_names(text: str) -> dict[str, set[str]]:
    """{section title: names} as a rules page lists them."""
    out: dict[str, set[str]] = {}
    title = ""
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
        elif title and (m := re.match(r"^\| `([^`]+)` \|", line)):
            out.setdefault(title, set()).add(m.group(1))
    return out


def name_differences(
    sections: list[tuple[str, str, str, dict[str, Item]]], text: str
) -> tuple[list[str], list[str]]:
    """(emitted but not on the page, on the page but no longer emitted), as "section: name"."""
    documented = documented_names(text)
    missing, gone = [], []
    for _kind, title, _intro, items in sections:
        listed = documented.get(title, set())
        missing += [f"{title}: {name}" for name in sorted(set(items) - listed)]
        gone += [f"{title}: {name}" for name in sorted(listed - set(items))]
    return missing, gone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    sections = collect()
    text = render(sections)
    if args.check:
        current = OUT.read_text(encoding="utf-8")
        missing, gone = name_differences(sections, current)
        for name in missing:
            print(f"missing from {OUT.relative_to(ROOT)}: {name}")
        for name in gone:
            print(f"no longer emitted: {name}")
        for name in untested(sections):
            print(f"no test: {name}")
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run scripts/rules_index.py")
            return 1
        return 1 if untested(sections) else 0
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
