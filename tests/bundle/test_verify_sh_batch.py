"""VERIFY.sh's batched reads give exactly what its per-file reads give, or give up.

VERIFY.sh reads the fields of many JSON files with one `jq` (`jrows`) and the sha256 of many
files with one `sha256sum` (`sums`) instead of one process per file and field. Its verdicts
must not move: for every file, each batched field is byte-for-byte what `j FILE EXPR` (one
`jq -r` on the file, "?" when it fails) prints, or the batch fails and the script reads
that section file by file as before. Checked here for real, under `sh` (dash) with the
system's jq, on hostile JSON: two values in a file, a raw NUL byte (which jq's input
reader and its file loader read differently), control characters, invalid UTF-8, a byte
order mark, arrays where a string belongs, a missing file, files named "-" and "-x" (which
`j` hands to jq as stdin and as an option).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.bundle.conftest import Exported, members, pack, run_verify_sh, sha
from workbench.bundle.verify_sh import VERIFY_SH

ODD_FILES: dict[str, bytes] = {
    "plain.json": b'{"a":"x","n":1.0,"b":null,"t":true}\n',
    "bom.json": b'\xef\xbb\xbf{"a":"bom","n":2}',
    "two-values.json": b'{"a":"x"}{"a":"y"}',
    "newline.json": b'{"a":"x\\ny"}',
    "tab.json": b'{"a":"x\\ty"}',
    "bad-utf8.json": b'{"a":"\xff\xfe bad"}',
    "nul-in-string.json": b'{"a":"x\x00"}',
    "nul-after.json": b'{"a":1}\x00',
    "nul-between.json": b'{"a":\x00 1}',
    "escaped-nul.json": b'{"a":"\\u0000"}',
    "array.json": b'{"a":[1,2]}',
    "top-array.json": b"[1,2]",
    "empty.json": b"",
    "blank.json": b"   ",
    "huge-number.json": b'{"a":1e1000,"n":-0}',
    "trailing-junk.json": b'{"a":"x"} junk',
    "nan.json": b"nan",
    "duplicate-key.json": b'{"a":"x","a":"y"}',
    "del.json": b'{"a":"x\\u007f"}',
    "spaces.json": b'{"a":"  lead trail  "}',
    "backslash.json": b'{"a":"\\\\back"}',
    "trailing-lines.json": b'{"a":"x"}\n\n',
    "big-int.json": b'{"a": 100000000000000000000001}',
    "exponent.json": b'{"a": 0.1e2}',
    "-": b'{"a":"dash"}',
    "-x.json": b'{"a":"dash"}',
}
# Over every file: a string, a joined list as the script reads statements, an error on most.
EXPRESSIONS = (".a", '[.a, .n] | map(tostring) | join(" ")', ".a.b")
# Over the files holding numbers, null and booleans: how jq -r prints each.
SCALARS = (".n", ".b", ".t", ".a | length")
SCALAR_FILES = ("plain.json", "huge-number.json", "big-int.json", "exponent.json", "nan.json")


def _functions(*names: str) -> str:
    """The named shell functions, cut from the shipped script itself."""
    parts = [re.search(r"^TAB=.*$", VERIFY_SH, re.M).group(0)]  # type: ignore[union-attr]
    for name in names:
        match = re.search(rf"^{name}\(\) {{\n.*?^}}\n", VERIFY_SH, re.M | re.S)
        assert match, name
        parts.append(match.group(0))
    return "\n".join(parts)


def _sh(tmp: Path, body: str) -> str:
    script = "set -eu\nLC_ALL=C\nexport LC_ALL\nW=" + str(tmp / "w") + '\nmkdir -p "$W"\n'
    script += _functions("sha", "j", "jrows", "jrows_run", "sums") + "\n" + body
    (tmp / "t.sh").write_text(script)
    result = subprocess.run(
        ["sh", str(tmp / "t.sh")], cwd=tmp / "files", capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("latin-1")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    d = tmp_path / "files"
    d.mkdir()
    for name, data in ODD_FILES.items():
        (d / name).write_bytes(data)
    return tmp_path


def _batch_and_single(
    tmp: Path, names: list[str], expr: str, single: bool = True
) -> tuple[bool, list[str], list[str]]:
    (tmp / "list").write_text("".join(f"{n}\n" for n in names))
    q = expr.replace("'", "'\\''")
    out = _sh(
        tmp,
        f"""if jrows {tmp / "list"} "$W/rows" 'one({q})'; then echo FAST; else echo SLOW; fi
echo ROWS
cat "$W/rows"
echo SINGLE
[ {int(single)} = 1 ] || exit 0
while IFS= read -r f; do v=$(j "$f" '{q}'); printf '%s' "=$v" | od -An -tx1 | tr -d ' \\n'; echo; done <{tmp / "list"}
""",
    )
    head, rest = out.split("ROWS\n", 1)
    rows, single = rest.split("SINGLE\n", 1)
    hexed = [row.encode("latin-1").hex() for row in rows.split("\n")[:-1]]
    return head.strip() == "FAST", hexed, single.split("\n")[:-1]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_each_field_is_what_j_prints_or_the_batch_gives_up(files: Path, expr: str) -> None:
    for name in ODD_FILES:
        fast, rows, single = _batch_and_single(files, [name], expr)
        if fast:
            assert rows == single, (name, expr)


@pytest.mark.parametrize("expr", SCALARS)
def test_numbers_null_and_booleans_are_printed_as_j_prints_them(files: Path, expr: str) -> None:
    for name in SCALAR_FILES:
        fast, rows, single = _batch_and_single(files, [name], expr)
        if fast:
            assert rows == single, (name, expr)


def test_ordinary_files_take_the_fast_path(files: Path) -> None:
    names = ["plain.json", "bom.json", "bad-utf8.json", "spaces.json", "backslash.json"]
    fast, rows, single = _batch_and_single(files, names, ".a")
    assert fast
    assert rows == single


@pytest.mark.parametrize(
    "name",
    [
        "two-values.json",
        "newline.json",
        "tab.json",
        "nul-in-string.json",
        "nul-after.json",
        "nul-between.json",
        "escaped-nul.json",
        "array.json",
        "empty.json",
        "trailing-junk.json",
        "no-such-file.json",
        "-",
        "-x.json",
    ],
)
def test_a_file_jq_would_read_otherwise_sends_the_whole_batch_the_slow_way(
    files: Path, name: str
) -> None:
    fast, _, _ = _batch_and_single(files, ["plain.json", name, "spaces.json"], ".a")
    assert not fast


def test_many_files_keep_their_order_across_chunks(files: Path) -> None:
    """Past 400 files jrows runs jq again; rows stay in the list's order, one per file."""
    d = files / "files" / "many"
    d.mkdir()
    names = []
    for i in range(950):
        (d / f"{i}.json").write_text(f'{{"a":"v{i}","n":{i}}}')
        names.append(f"many/{i}.json")
    names.append("plain.json")
    fast, rows, _ = _batch_and_single(files, names, '"\\(.a) \\(.n)"', single=False)
    assert fast
    expected = [f"=v{i} {i}" for i in range(950)] + ["=x 1"]
    assert rows == [row.encode().hex() for row in expected]


def test_sums_is_sha_per_file(files: Path) -> None:
    names = ["plain.json", "no-such-file.json", "-", "nul-after.json", "bom.json"]
    (files / "list").write_text("".join(f"{n}\n" for n in names))
    out = _sh(
        files,
        f"""sums {files / "list"} "$W/sums"
cat "$W/sums"
echo SINGLE
while IFS= read -r f; do sha "$f"; done <{files / "list"}
""",
    )
    batched, single = out.split("SINGLE\n")
    assert batched == single
    assert batched.splitlines()[1] == "(missing)"
    assert len(batched.splitlines()[0]) == 64


def _per_file_script() -> str:
    """VERIFY.sh with every batched read turned off: each file read as before the batches."""
    script = VERIFY_SH
    for before, after in (
        (': >"$_jout"\n', ': >"$_jout"\n    return 1\n'),
        (': >"$_sout"\n', ': >"$_sout"\n    return 1\n'),
        (': >"$W/$_jf_tag.ok"\n', ': >"$W/$_jf_tag.none"\n'),
        ("    tfast=1\n", "    tfast=0\n"),
        ("        wfast=1\n", "        wfast=0\n"),
    ):
        assert script.count(before) == 1, before
        script = script.replace(before, after)
    return script


def _statement_retargeted(files: dict[str, bytes]) -> None:
    """A contract statement and a record statement that still parse, now about other bytes."""
    for prefix in ("contracts/", "reviews/"):
        name = min(n for n in files if n.startswith(prefix) and n.endswith("statement.json"))
        files[name] = files[name].replace(b'"sha256":"', b'"sha256":"0', 1)


def test_verify_sh_says_the_same_with_and_without_the_batched_reads(exported: Exported) -> None:
    """The whole script on a real bundle, given the snapshot kept before, whose contract
    and record statements were edited (so most checks pass and some fail): byte-for-byte
    the same report and exit code both ways."""
    files = members(exported.second)
    _statement_retargeted(files)
    data = pack(files, resum=True)
    kept = sha(members(exported.first)["snapshot.json"])
    batched = run_verify_sh(data, exported.trust_root, kept)
    per_file = run_verify_sh(data, exported.trust_root, kept, script=_per_file_script())
    assert (batched.returncode, batched.stdout, batched.stderr) == (
        per_file.returncode,
        per_file.stdout.replace(
            "NOTE  the bundle's own VERIFY.sh differs from the script you ran (another "
            "workbench version, or changed); this run used yours\n",
            "",
        ),
        per_file.stderr,
    )
    assert batched.returncode == 1
    assert "does not match its statement" in batched.stdout
    assert "contract.toml does not match the statement's subject digest" in batched.stdout
    assert "the snapshot v1 you kept" in batched.stdout
    assert batched.stdout.count("\nOK    ") > 15
