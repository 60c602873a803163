"""VERIFY.sh's two awk programs against the Python rules they mirror.

* toml.awk reads the wanted keys exactly as tomllib does on the plain layout, is not fooled
  by text inside strings, and fails closed (an ERROR naming the line) on everything else;
* derive.awk gives the signers `signing.verdict.required_signers` gives, and the exporters
  `signing.snapshot.authorised_exporters` gives, for the same files.

Run for real with the system's awk (mawk on Debian), as VERIFY.sh does.
"""

from __future__ import annotations

import itertools
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from workbench.bundle.verify_sh import DERIVE_AWK, TOML_AWK
from workbench.model.contract import Contract
from workbench.model.settings import DEFAULT_EXPORTERS
from workbench.signing.registry import parse_policy
from workbench.signing.snapshot import authorised_exporters
from workbench.signing.verdict import parse_people, required_signers

WANT_CONTRACT = (
    "seam.provider=s seam.consumer=s cosigners=a terms[].kind=s terms[].id=s "
    "terms[].change_cosigner=s terms[]=c"
)
WANT_PEOPLE = "teams[].id=s teams[].lead=s people[].id=s people[].team=s"
WANT_POLICY = (
    "admins=a approval.no_self_approval=b approval.compliance_team=s "
    "approval.compliance_term_kinds=a export.exporters=a"
)


@pytest.fixture(scope="module")
def awk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("awk")
    (d / "toml.awk").write_text(TOML_AWK)
    (d / "derive.awk").write_text(DERIVE_AWK)
    return d


def read(awk_dir: Path, text: str | bytes, want: str, name: str = "f.toml") -> list[str]:
    path = awk_dir / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    result = subprocess.run(
        ["awk", "-v", f"want={want}", "-f", str(awk_dir / "toml.awk"), str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    lines = result.stdout.splitlines()
    errors = [line for line in lines if line.startswith("ERROR\t")]
    assert (result.returncode == 3) == bool(errors), (result.returncode, result.stdout)
    return errors or lines


def values(lines: list[str]) -> dict[str, object]:
    """The records as {pattern[idx]: value or [values]} for comparing with tomllib."""
    out: dict[str, object] = {}
    for line in lines:
        kind, pattern, *rest = line.split("\t")
        key = pattern if rest[0] == "-" else f"{pattern}#{rest[0]}" if kind != "T" else None
        if kind == "V":
            out[key] = rest[1]  # type: ignore[index]
        elif kind == "E":
            out[key] = []  # type: ignore[index]
        elif kind == "A":
            out[key].append(rest[1])  # type: ignore[index, union-attr]
        # C lines (an element's text, for telling versions apart) are compared below
    return out


def expected(doc: dict) -> dict[str, object]:  # type: ignore[type-arg]
    out: dict[str, object] = {}
    seam = doc.get("seam", {})
    for side in ("provider", "consumer"):
        if side in seam:
            out[f"seam.{side}"] = seam[side]
    if "cosigners" in doc:
        out["cosigners"] = list(doc["cosigners"])
    for i, term in enumerate(doc.get("terms", []), 1):
        for key in ("kind", "id", "change_cosigner"):
            if key in term:
                out[f"terms[].{key}#{i}"] = term[key]
    return out


DEMO = sorted((PROJECT / "contracts").glob("*.toml"))

TRICKY_PLAIN = {
    "strings-that-look-like-keys": '''
title = "seam.provider = \\"x\\" # [seam]"
description = """
[seam]
provider = "evil"
cosigners = ["mallory"]
\\""" still inside """
notes = \'\'\'
[[terms]]
kind = "representation"
\'\'\'
[seam] # the real one
provider = "applicant-data"  # comment
consumer = 'credit-risk-model'
''',
    "arrays-over-lines": """
cosigners = [
  "grace.whitfield", # compliance
  'ravi.iyer',
]
[seam]
provider = "a"
consumer = "b"
""",
    "quoted-and-dotted-elsewhere": """
"title" = "x"
meta.owner = "someone"
[ "seam" ]
provider = "a"
consumer = "b"
extra = { provider = "not-this-one" }
[seam.more]
provider = "not-this-either"
[[terms]]
id = "t1"
kind = "representation"
groups."18-25" = { min = 0.1, max = 0.2 }
inline = { kind = "freshness" }
when = 1979-05-27 07:32:00Z
list = [ { kind = "x" }, [1, 2], "s" ]
[[terms.included]]
kind = "lineage-source"
[[terms]]
id = "t2"
kind = "freshness"
""",
    "crlf": '[seam]\r\nprovider = "a"\r\nconsumer = "b"\r\ncosigners = []\r\n',
}

NOT_PLAIN = {
    "dotted-from-root": (
        'seam.provider = "a"\nseam.consumer = "b"\n',
        "must be written as a [table]",
    ),
    "inline-table": ('seam = { provider = "a", consumer = "b" }\n', "not as a value"),
    "plain-terms-table": (
        '[seam]\nprovider = "a"\nconsumer = "b"\n[terms]\n',
        "must be written [[terms]]",
    ),
    "inline-terms": ('terms = [{ id = "x", kind = "representation" }]\n', "not as a value"),
    "aot-seam": ("[[seam]]\n", "must be written [seam]"),
    "table-twice": ('[seam]\nprovider = "a"\n[seam]\nconsumer = "b"\n', "defined twice"),
    "key-twice": ('[seam]\nprovider = "a"\nprovider = "b"\n', "given twice"),
    "escape-in-value": ('[seam]\nprovider = "appl\\u0069cant-data"\n', "plain string"),
    "escape-in-key": ('[seam]\n"provid\\u0065r" = "x"\n', "escape in a quoted key"),
    "not-an-id": ('[seam]\nprovider = "Applicant Data"\n', "plain string"),
    "ml-value": ('[[terms]]\nkind = """representation"""\n', "plain string"),
    "cosigners-string": ('cosigners = "grace.whitfield"\n', "array of plain strings"),
    "cosigners-nested": ('cosigners = [["grace.whitfield"]]\n', "array of plain strings"),
    "header-is-leaf": ("[seam.provider]\n", "redefines the key"),
    "unterminated": ('title = "oops\n', "unterminated string"),
    "garbage": ("[seam]\nprovider = a b c\n", "unexpected text"),
}


@pytest.mark.parametrize("path", DEMO, ids=[p.stem for p in DEMO])
def test_reads_the_demo_contracts_as_tomllib_does(awk_dir: Path, path: Path) -> None:
    text = path.read_bytes()
    assert values(read(awk_dir, text, WANT_CONTRACT)) == expected(tomllib.loads(text.decode()))


@pytest.mark.parametrize("case", list(TRICKY_PLAIN))
def test_text_inside_strings_and_other_keys_cannot_pass_for_a_wanted_key(
    awk_dir: Path, case: str
) -> None:
    text = TRICKY_PLAIN[case]
    doc = tomllib.loads(text)  # valid TOML
    assert values(read(awk_dir, text, WANT_CONTRACT)) == expected(doc)


@pytest.mark.parametrize("case", list(NOT_PLAIN))
def test_fails_closed_on_what_is_not_the_plain_layout(awk_dir: Path, case: str) -> None:
    text, why = NOT_PLAIN[case]
    lines = read(awk_dir, text, WANT_CONTRACT)
    assert len(lines) == 1 and lines[0].startswith("ERROR\tline "), lines
    assert why in lines[0]


def test_reads_the_registry_files_of_the_demo(awk_dir: Path, demo_template: Path) -> None:
    people = (demo_template / "keys" / "people.toml").read_bytes()
    doc = tomllib.loads(people.decode())
    got = values(read(awk_dir, people, WANT_PEOPLE))
    want: dict[str, object] = {}
    for group, keys in (("teams", ("id", "lead")), ("people", ("id", "team"))):
        for i, item in enumerate(doc[group], 1):
            for key in keys:
                want[f"{group}[].{key}#{i}"] = item[key]
    assert got == want
    policy = (demo_template / "keys" / "policy.toml").read_bytes()
    got = values(read(awk_dir, policy, WANT_POLICY))
    doc = tomllib.loads(policy.decode())
    assert got["admins"] == doc["admins"]
    assert got["approval.compliance_team"] == doc["approval"]["compliance_team"]
    assert got["approval.no_self_approval"] == "true"


# --- derive.awk against the Python rules -------------------------------------------------------

PEOPLE = """
[[teams]]
id = "data"
name = "Data"
lead = "dana"
[[teams]]
id = "model"
name = "Model"
lead = "ravi"
[[teams]]
id = "compliance"
name = "Compliance"
lead = "{compliance_lead}"
[[people]]
id = "dana"
name = "Dana"
email = "dana@x.example"
team = "data"
[[people]]
id = "ravi"
name = "Ravi"
email = "ravi@x.example"
team = "model"
[[people]]
id = "grace"
name = "Grace"
email = "grace@x.example"
team = "compliance"
[[people]]
id = "lena"
name = "Lena"
email = "lena@x.example"
team = "compliance"
[[people]]
id = "sam"
name = "Sam"
email = "sam@x.example"
team = "data"
"""

CONTRACT = """
id = "c"
title = "C"
owner = "dana"
cosigners = [{cosigners}]
[seam]
provider = "{provider}"
consumer = "model"
kind = "data-model"
[parties]
provider_lead = "dana"
consumer_lead = "ravi"
[escalation]
primary = "dana"
backup = "ravi"
channel = "pager:x"
ack_sla = "PT30M"
[[terms]]
id = "t"
kind = "{kind}"
title = "T"
owner = "dana"
{term_body}
"""

TERM_BODIES = {
    "representation": 'attribute = "age"\ngroups."a" = { min = 0.1, max = 0.9 }',
    "freshness": 'fail_after = "PT24H"',
    # A change cosigner who is no party lead: if the rule ever requires them, this case
    # makes VERIFY.sh's copy follow.
    "decision_threshold": 'name = "t"\nvalue = 0.5\nchange_cosigner = "sam"',
}


def _policy(team: str | None, self_ok: bool, kinds: list[str], exporters: list[str] | None) -> str:
    lines = ['admins = ["grace", "ravi"]', "registry_threshold = 2", "[approval]"]
    lines.append(f"no_self_approval = {'false' if self_ok else 'true'}")
    if team:
        lines.append(f'compliance_team = "{team}"')
    lines.append("compliance_term_kinds = [" + ", ".join(f'"{k}"' for k in kinds) + "]")
    if exporters is not None:
        lines += ["[export]", "exporters = [" + ", ".join(f'"{e}"' for e in exporters) + "]"]
    return "\n".join(lines) + "\n"


def _records(awk_dir: Path, name: str, text: str, want: str) -> Path:
    lines = read(awk_dir, text, want, f"{name}.toml")
    assert not lines or not lines[0].startswith("ERROR"), lines
    rec = awk_dir / f"{name}.rec"
    rec.write_text("".join(line + "\n" for line in sorted(lines)))  # VERIFY.sh sorts them
    return rec


def _derive(
    awk_dir: Path, mode: str, *texts: tuple[str, str], base: str | None = None
) -> list[str]:
    paths = [
        str(_records(awk_dir, name, text, want))
        for name, (text, want) in zip(("people", "policy", "contract"), texts, strict=False)
    ]
    if mode == "signers":
        rec = awk_dir / "base.rec"
        if base is None:
            rec.write_text("BASE\tnone\n")
        else:
            lines = _records(awk_dir, "base", base, WANT_CONTRACT).read_text()
            rec.write_text("BASE\tyes\n" + lines)
        paths.append(str(rec))
    result = subprocess.run(
        [
            "awk",
            "-v",
            f"mode={mode}",
            "-v",
            "DEFAULT_EXPORTERS=" + " ".join(DEFAULT_EXPORTERS),
            "-f",
            str(awk_dir / "derive.awk"),
            *paths,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


SIGNER_CASES = list(
    itertools.product(
        ("grace", "dana"),  # the compliance lead: independent, or also a party lead
        ("compliance", None, "nobody-team"),  # [approval] compliance_team
        (False, True),  # no_self_approval off / on
        ("representation", "freshness", "decision_threshold"),  # the term's kind
        ("", '"grace"', '"lena"', '"lena", "sam"'),  # cosigners
        ("data", "ghost"),  # the provider team (ghost: not in people.toml)
    )
)


@pytest.mark.parametrize(
    ("lead", "team", "self_ok", "kind", "cosigners", "provider"),
    SIGNER_CASES,
    ids=[f"case{i}" for i in range(len(SIGNER_CASES))],
)
def test_derived_signers_match_required_signers(  # noqa: PLR0913
    awk_dir: Path,
    lead: str,
    team: str | None,
    self_ok: bool,
    kind: str,
    cosigners: str,
    provider: str,
) -> None:
    people_text = PEOPLE.format(compliance_lead=lead)
    policy_text = _policy(team, self_ok, ["representation"], None)
    contract_text = CONTRACT.format(
        cosigners=cosigners, provider=provider, kind=kind, term_body=TERM_BODIES[kind]
    )
    contract = Contract.model_validate(tomllib.loads(contract_text))
    want = required_signers(
        contract, parse_people(people_text.encode()), parse_policy(policy_text.encode()).approval
    )
    lines = _derive(
        awk_dir,
        "signers",
        (people_text, WANT_PEOPLE),
        (policy_text, WANT_POLICY),
        (contract_text, WANT_CONTRACT),
    )
    assert {x.split("\t")[1] for x in lines if x.startswith("R\t")} == set(want.roles)
    assert sum(x.startswith("B\t") for x in lines) == len(want.blocked)


@pytest.mark.parametrize(
    "exporters",
    [
        None,
        ["admins"],
        ["compliance-lead"],
        ["lead:data", "sam"],
        ["lead:nobody", "compliance-lead", "lena"],
        ["admins", "lead:model"],
    ],
)
@pytest.mark.parametrize("team", ["compliance", None])
def test_derived_exporters_match_authorised_exporters(
    awk_dir: Path, exporters: list[str] | None, team: str | None
) -> None:
    people_text = PEOPLE.format(compliance_lead="grace")
    policy_text = _policy(team, False, ["representation"], exporters)
    want = authorised_exporters(
        parse_policy(policy_text.encode()), parse_people(people_text.encode())
    )
    lines = _derive(awk_dir, "exporters", (people_text, WANT_PEOPLE), (policy_text, WANT_POLICY))
    assert {x.split("\t")[1] for x in lines if x.startswith("X\t")} == set(want)


def test_verify_sh_uses_the_same_wanted_keys_and_defaults() -> None:
    from workbench.bundle.verify_sh import VERIFY_SH

    assert f"WANT_CONTRACT='{WANT_CONTRACT}'" in VERIFY_SH
    assert f"WANT_PEOPLE='{WANT_PEOPLE}'" in VERIFY_SH
    assert f"WANT_POLICY='{WANT_POLICY}'" in VERIFY_SH
    assert f"DEFAULT_EXPORTERS='{' '.join(DEFAULT_EXPORTERS)}'" in VERIFY_SH


# Versions of a decision-threshold term against the last approved one: which change
# co-signers they need (Python's rule compares the parsed terms; VERIFY.sh compares the
# terms as written, comments and spacing aside, so it never asks for fewer).
THRESHOLD = 'name = "t"\nvalue = 0.5\nchange_cosigner = "sam"'
CHANGES = {
    "first-version": (None, THRESHOLD),
    "unchanged": (THRESHOLD, THRESHOLD),
    "comment-and-spacing-only": (
        THRESHOLD,
        'name = "t"   # the key\nvalue=0.5\n\nchange_cosigner = "sam"',
    ),
    "keys-reordered": (THRESHOLD, 'change_cosigner = "sam"\nname = "t"\nvalue = 0.5'),
    "value-moved": (THRESHOLD, 'name = "t"\nvalue = 0.6\nchange_cosigner = "sam"'),
    "cosigner-replaced": (THRESHOLD, 'name = "t"\nvalue = 0.5\nchange_cosigner = "lena"'),
    "title-edited": (
        THRESHOLD,
        'name = "t"\nvalue = 0.5\nchange_cosigner = "sam"\ndescription = "x"',
    ),
}


@pytest.mark.parametrize("case", list(CHANGES))
def test_change_cosigners_match_the_python_rule(awk_dir: Path, case: str) -> None:
    before, after = CHANGES[case]
    people_text = PEOPLE.format(compliance_lead="grace")
    policy_text = _policy("compliance", True, ["representation"], None)

    def contract(body: str) -> str:
        return CONTRACT.format(
            cosigners="", provider="data", kind="decision_threshold", term_body=body
        )

    new = Contract.model_validate(tomllib.loads(contract(after)))
    old = Contract.model_validate(tomllib.loads(contract(before))) if before else None
    want = required_signers(
        new, parse_people(people_text.encode()), parse_policy(policy_text.encode()).approval, old
    )
    lines = _derive(
        awk_dir,
        "signers",
        (people_text, WANT_PEOPLE),
        (policy_text, WANT_POLICY),
        (contract(after), WANT_CONTRACT),
        base=contract(before) if before else None,
    )
    assert {x.split("\t")[1] for x in lines if x.startswith("R\t")} == set(want.roles)
