"""The line reader (`model/toml_lines.py`) reads a document exactly as `tomllib` does, or
refuses it (None) so that `tomllib` is asked: never a different value, never a document
`tomllib` rejects. Checked on every TOML file in the repository and the demo, on
hand-picked traps, and on random documents built from valid and invalid lines."""

from __future__ import annotations

import random
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.model import toml_cache, toml_lines

ROOT = Path(__file__).resolve().parents[2]


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 == 1.0 == True in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime):
        return a == b and a.tzinfo == b.tzinfo and a.utcoffset() == b.utcoffset()
    return bool(a == b)


def check(text: str) -> bool:
    """Asserts the reader agrees with tomllib; True when it read the text itself."""
    fast = toml_lines.loads(text)
    if fast is None:
        return False
    assert same(fast, tomllib.loads(text)), text  # tomllib raising here is a failure too
    return True


def toml_files(*roots: Path) -> list[Path]:
    skip = {".git", ".venv", "node_modules"}
    return [p for root in roots for p in root.rglob("*.toml") if not skip.intersection(p.parts)]


def test_every_toml_file_of_the_repository_and_the_demo(demo_template: Path) -> None:
    files = toml_files(ROOT, demo_template)
    read = [p for p in files if check(p.read_text(encoding="utf-8"))]
    # The contracts as the workbench writes them are in the subset; the demo's other files
    # (inline tables, multi-line queries) go to tomllib.
    assert len(files) >= 40
    assert len(read) >= len(files) // 2
    assert any(p.name == "people.toml" for p in read)
    assert any(p.parent.name == "contracts" for p in read)


def test_the_benchmark_generators_contracts_are_read() -> None:
    # What the 1,000-contract benchmarks judge: every one in the subset.
    from benchmarks.generate import contract_text

    members = [[f"p{t}-{i}" for i in range(3)] for t in range(4)]
    kinds = ["data-model", "model-product", "product-compliance", "custom"]
    texts = [contract_text(f"seam-{i}", i, i + 1, members, 24, kinds[i]) for i in range(3)]
    assert all(check(t) for t in texts)


READ = {
    "empty": "",
    "comments and blanks": "# a\n\n   \t\n# b \t é\n",
    "scalars": "a = \"x\"\nb = 'y\\n'\nc = 0\nd = -12\ne = +3\nf = 1.5\ng = -0.0\nh = 2.5e-3\n"
    "i = true\nj = false\n",
    "dates": "d = 2026-02-28\nt = 2026-02-28T10:11:12Z\nu = 2026-02-28 10:11:12z\n",
    "escapes": 'a = "q\\"z \\\\ \\t\\n\\b\\f\\r"\nb = "tab\there"\n',
    "arrays": 'a = []\nb = ["x"]\nc = [ "x" , \'y\' , ]\nd = ["a,b", "c]d"]\n',
    "headers": '[a]\nx = 1\n[ b . c ]\ny = 2\n[[t]]\nid = "1"\n[[t.s]]\nk = 1\n[t.u]\n'
    '[[t]]\nid = "2"\n[t.u]\n[[t.s]]\n',
    "implicit parent": "[p.q]\nx = 1\n[p.r]\ny = 2\n",
    "bare keys": "1 = 1\n-_ = 2\ntrue = 3\n",
    "trailing comments": 'a = "#not" # yes\n[b] # c\n[[d]]   # e\n',
    "unicode": 'name = "Zoë Ångström 李"\n',
}

REFUSED_VALID = {
    # Valid TOML outside the subset: tomllib reads these.
    "crlf": 'a = "x"\r\n',
    "dotted key": "a.b = 1\n",
    "quoted key": '"a b" = 1\n',
    "inline table": "a = { b = 1 }\n",
    "multi-line string": 'a = """\nx"""\n',
    "multi-line array": "a = [\n 1,\n]\n",
    "unicode escape": 'a = "\\u00e9"\n',
    "underscore int": "a = 1_000\n",
    "hex": "a = 0x1f\n",
    "exponent without point": "a = 1e5\n",
    "inf": "a = inf\n",
    "local datetime": "a = 2026-01-01T10:00:00\n",
    "offset datetime": "a = 2026-01-01T10:00:00+01:00\n",
    "fraction of a second": "a = 2026-01-01T10:00:00.5Z\n",
    "time": "a = 10:00:00\n",
    "array of numbers": "a = [1, 2]\n",
    "table defined after its sub-table": "[a.b]\n[a]\n",
}

REFUSED_INVALID = {
    # Invalid TOML: refused here, so tomllib reports the error and its position.
    "duplicate key": "a = 1\na = 2\n",
    "table twice": "[a]\n[a]\n",
    "table over a key": 'a = "x"\n[a]\n',
    "array over a table": "[a]\n[[a]]\n",
    "table over an array of tables": "[[a]]\n[a]\n",
    "array of tables over a static array": 'a = ["x"]\n[[a]]\n',
    "header through a value": 'a = "x"\n[a.b]\n',
    "header through a static array": 'a = ["x"]\n[a.b]\n',
    "sub-table twice": "[[t]]\n[t.u]\n[t.u]\n",
    "key into a sub-table twice": "[a]\nx = 1\n[a.b]\n[a]\n",
    "leading zero": "a = 01\n",
    "bad float": "a = 1.\n",
    "no such day": "a = 2026-02-30\n",
    "no such hour": "a = 2026-02-01T25:00:00Z\n",
    "unknown escape": 'a = "\\q"\n',
    "control character": 'a = "\x01"\n',
    "control in comment": "# \x7f\n",
    "lone cr": 'a = "x"\rb = 1\n',
    "unclosed string": 'a = "x\n',
    "missing value": "a =\n",
    "two values": 'a = "x" "y"\n',
    "unicode digit": "a = \u0661\n",
    "vertical tab": "a = 1\x0b\n",
    "nbsp around =": "a\u00a0= 1\n",
    "array without comma": 'a = ["x" "y"]\n',
    "array comma only": "a = [,]\n",
    "bare true prefix": "a = truex\n",
    "empty header": "[]\n",
    "header with trailing dot": "[a.]\n",
    "spaced array header": "[ [a] ]\n",
    "byte order mark": '\ufeffa = "x"\n',
}


@pytest.mark.parametrize("text", READ.values(), ids=READ.keys())
def test_read_as_tomllib_reads_it(text: str) -> None:
    assert check(text)


@pytest.mark.parametrize("text", REFUSED_VALID.values(), ids=REFUSED_VALID.keys())
def test_valid_toml_outside_the_subset_goes_to_tomllib(text: str) -> None:
    tomllib.loads(text)
    assert toml_lines.loads(text) is None


@pytest.mark.parametrize("text", REFUSED_INVALID.values(), ids=REFUSED_INVALID.keys())
def test_invalid_toml_is_refused_so_tomllib_reports_it(text: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    assert toml_lines.loads(text) is None


def test_the_parse_cache_gives_tomllib_s_errors_and_values() -> None:
    # The one entry point the documents use: the subset read here, the rest by tomllib,
    # errors raised by tomllib with its position.
    assert toml_cache.loads('[a]\nb = "x"\nwhen = 2026-01-02\n') == {
        "a": {"b": "x", "when": date(2026, 1, 2)}
    }
    assert toml_cache.loads("a = { b = 1 }\n") == {"a": {"b": 1}}
    with pytest.raises(tomllib.TOMLDecodeError, match=r"line 2, column 6"):
        toml_cache.loads("a = 1\na = 2\n")


NAMES = ["a", "b", "t", "id", "1", "x-y"]
VALUES = [
    '"s"',
    "'lit'",
    '"e\\"\\\\\\n"',
    '"\\u00e9"',
    '"\\x"',
    '"tab\tin"',
    "0",
    "-7",
    "+7",
    "07",
    "1.5",
    "-0.0",
    "1e3",
    "1.0e+3",
    "1.",
    ".5",
    "true",
    "false",
    "True",
    "2026-01-31",
    "2026-02-30",
    "2026-01-31T23:59:59Z",
    "2026-01-31 00:00:00z",
    "2026-01-31T24:00:00Z",
    "2026-01-31T10:00:00",
    "[]",
    '["a", "b",]',
    '["a" , ]',
    "[,]",
    '["a" "b"]',
    "[1]",
    "{ a = 1 }",
    '"unterminated',
    "",
]
OTHER_LINES = ["", "# c", "  # é", "\t", "#\x01", "x", "[a", "a = 1 # c", "\r", "a = 1\r"]


def random_line(pick: Any) -> str:
    """One line of a random document; `pick(seq)` chooses (hypothesis or random)."""
    dotted = ".".join(pick(NAMES) for _ in range(pick([1, 1, 2, 3])))
    form = pick(["kv", "kv", "kv", "dotted kv", "table", "aot", "spaced", "other"])
    if form == "kv":
        return f"{pick(NAMES)} = {pick(VALUES)}"
    if form == "dotted kv":
        return f"{dotted}={pick(VALUES)}"
    if form == "table":
        return f"[{dotted}]"
    if form == "aot":
        return f"[[{dotted}]]"
    if form == "spaced":
        return f"[ {dotted.replace('.', ' . ')} ]"
    return str(pick(OTHER_LINES))


@st.composite
def documents(draw: st.DrawFn) -> str:
    def pick(seq: list[Any]) -> Any:
        return draw(st.sampled_from(seq))

    return "\n".join(random_line(pick) for _ in range(draw(st.integers(0, 14)))) + "\n"


@given(documents())
@settings(max_examples=3000, deadline=None)
def test_random_documents(text: str) -> None:
    check(text)


def test_random_documents_are_often_read() -> None:
    # The property above is only worth something if the reader does read many of them.
    rng = random.Random(18)
    texts = [
        "\n".join(random_line(rng.choice) for _ in range(rng.randint(0, 6))) for _ in range(2000)
    ]
    assert sum(check(t) for t in texts) > 200
