"""The one written form of signed JSON, read by both verifiers' own code, byte for byte.

`verify-bundle` asks `signing.canonical.written_form_problem`; VERIFY.sh runs its
`json_form` shell function (section 1b, `bundle.verify_sh_json.JSON_SH`) under `sh` with
jq. Every way two JSON readers part that is a matter of form alone (a float for an integer,
a leading zero, `-0`, a number past 2^53, a duplicate key, NaN, Infinity, a byte-order mark,
garbage or a second value after the document, another layout, keys out of order, an escaped
letter) is fed here to both, on the real bytes of each kind of signed file of an exported
bundle: both must refuse it, and both must take the honest bytes. One case of each file kind
also runs through both whole verifiers in `test_verifiers_agree.py`, which proves that
section 1b and `verify-bundle` apply this rule to that file.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bundle.conftest import APPROVED, Exported, members
from workbench.bundle import layout as bl
from workbench.bundle.verify_sh_json import JSON_FORM_JQ, JSON_SH
from workbench.signing.canonical import written_form_problem

MAX = 64 << 20


def _sub(pattern: str, repl: str) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        out, n = re.subn(pattern.encode(), repl.encode(), data, count=1)
        assert n, f"{pattern!r} not found"
        return out

    return change


RHEAD = r'"registry":\{"head":1,'
RHEAD_AS = '"registry":{"head":%s,'
HEADS_V = r'"registry":\{"statementSha256":"([0-9a-f]{64})","version":1\}'

# name -> (which signed file, the change to its bytes)
FORM_MUTATIONS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "registry.head as 1.0": ("index", _sub(RHEAD, RHEAD_AS % "1.0")),
    "registry.head as 1e0": ("index", _sub(RHEAD, RHEAD_AS % "1e0")),
    "registry.head leading zero": ("index", _sub(RHEAD, RHEAD_AS % "01")),
    "registry.head huge": ("index", _sub(RHEAD, RHEAD_AS % "100000000000000000001")),
    "registry.head -0": ("index", _sub(RHEAD, RHEAD_AS % "-0")),
    "contract head as 1.0": (
        "index",
        _sub(r'"head":1,"head_statement', '"head":1.0,"head_statement'),
    ),
    "bundle.json duplicate key (last wins)": (
        "index",
        _sub(r"\}\n$", ',"domain":"meridian.example"}\n'),
    ),
    "bundle.json NaN in an unread key": ("index", _sub(r"^\{", '{"aaa":NaN,')),
    "bundle.json Infinity in an unread key": ("index", _sub(r"^\{", '{"aaa":Infinity,')),
    "bundle.json float in an unread key": ("index", _sub(r"^\{", '{"aaa":0.5,')),
    "bundle.json byte-order mark": ("index", lambda d: b"\xef\xbb\xbf" + d),
    "bundle.json trailing garbage": ("index", lambda d: d + b"x"),
    "bundle.json a second value after it": ("index", lambda d: d + b"{}\n"),
    "bundle.json two final newlines": ("index", lambda d: d + b"\n"),
    "bundle.json pretty-printed": (
        "index",
        lambda d: (json.dumps(json.loads(d), indent=1, sort_keys=True) + "\n").encode(),
    ),
    "bundle.json keys out of order": (
        "index",
        lambda d: (
            json.dumps(dict(reversed(json.loads(d).items())), separators=(",", ":")) + "\n"
        ).encode(),
    ),
    "bundle.json an escaped letter": ("index", _sub(r'"domain"', '"\\\\u0064omain"')),
    "bundle.json a NUL byte in a string": ("index", _sub(r'"domain"', '"dom\x00ain"')),
    "heads.json version as 1.0": (
        "heads",
        _sub(HEADS_V, r'"registry":{"statementSha256":"\1","version":1.0}'),
    ),
    "required.json duplicate key": ("required", _sub(r"^\{", '{"required":[],')),
    "review statement registry version as 1.0": (
        "review",
        _sub(r'"version":1\}', '"version":1.0}'),
    ),
    "review statement a space after a colon": ("review", _sub(r'"_type":', '"_type": ')),
}


@pytest.fixture(scope="module")
def signed_files(exported: Exported) -> dict[str, bytes]:
    files = members(exported.second)
    review = sorted(p for p in files if p.startswith("reviews/") and p.endswith(".statement.json"))
    return {
        "index": files[bl.INDEX],
        "heads": files[bl.HEADS],
        "required": files[bl.contract_dir(APPROVED, 1) + "required.json"],
        "review": files[review[0]],
    }


def _json_form_script() -> str:
    """VERIFY.sh's own `json_form` function, taken from the section that defines it."""
    body = re.search(r"^json_form\(\) \{\n.*?^\}\n", JSON_SH, re.S | re.M)
    assert body is not None
    return (
        "W=$(mktemp -d) || exit 3\ntrap 'rm -rf \"$W\"' EXIT\n"
        f"JSON_FORM='{JSON_FORM_JQ}'\n{body.group(0)}"
        'for f do if json_form "$f"; then echo "$f ok"; else echo "$f refused"; fi; done\n'
    )


def _shell_verdicts(tmp: Path, texts: dict[str, bytes]) -> dict[str, bool]:
    """name -> True when VERIFY.sh's json_form takes the bytes (one sh, one jq per file)."""
    names = {}
    for i, (name, data) in enumerate(texts.items()):
        (tmp / f"{i}.json").write_bytes(data)
        names[f"./{i}.json"] = name
    script = tmp / "form.sh"
    script.write_text(_json_form_script())
    out = subprocess.run(
        ["sh", str(script), *names], cwd=tmp, capture_output=True, text=True, check=True
    ).stdout
    got = dict(line.rsplit(" ", 1) for line in out.splitlines())
    assert set(got) == set(names), out
    return {names[f]: verdict == "ok" for f, verdict in got.items()}


def test_both_readers_take_the_honest_files_and_refuse_every_other_form(
    signed_files: dict[str, bytes], tmp_path: Path
) -> None:
    texts = {f"honest {kind}": data for kind, data in signed_files.items()}
    texts |= {name: change(signed_files[kind]) for name, (kind, change) in FORM_MUTATIONS.items()}
    shell = _shell_verdicts(tmp_path, texts)
    python = {name: written_form_problem(data, MAX) is None for name, data in texts.items()}
    disagree = {n: (python[n], shell[n]) for n in texts if python[n] != shell[n]}
    assert not disagree, disagree
    assert {n for n, ok in python.items() if ok} == {f"honest {k}" for k in signed_files}
