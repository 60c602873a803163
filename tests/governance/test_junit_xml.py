"""The gate's JUnit writer (`governance/junit_xml.py`) against the ElementTree report it
replaced: byte-identical output on hostile strings in every text and attribute, every trust
outcome, a merge in progress, ignored loosenings of the policy, contracts with no checks and
an empty scope; and the result still parses as XML with the made-safe strings in it."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest

from workbench.governance.gate_ignored import CHANGED_NOTHING
from workbench.governance.gate_model import (
    TRUST_FILE,
    TRUST_RULE,
    Check,
    GateResult,
    TrustInfo,
)
from workbench.governance.gate_render import render_junit
from workbench.governance.merge_check import MERGE_RULE, UnfinishedMerge
from workbench.governance.timing import iso
from workbench.model import safe_text
from workbench.model.policy_floor import DEFAULT_FLOOR, EffectivePolicy
from workbench.model.problems import Problem
from workbench.model.settings import Defaults, Gate

# Strings an attacker can put into a contract id, a title, a person's name or a path: XML
# syntax, quotes, every kind of line break and control, escapes, bidi marks, astral
# characters, a lone surrogate, and nothing at all.
HOSTILE = [
    "",
    "plain",
    '<script>alert("x")</script>',
    "a & b &amp; c &#10; d",
    "]]><!-- x --><![CDATA[",
    "quote \" and ' apostrophe",
    "line\nbreak",
    "carriage\rreturn\r\n",
    "tab\there",
    "\x00\x01\x07\x08\x0b\x0c\x1b[31mred\x1b[0m\x7f",
    "\u0085\u2028\u2029",
    "\u202eevil\u202c \u200b\ufeff",
    "\ud800 lone surrogate",
    "\U0001f600 emoji \U000e0041",
    "\ufffe\uffff",
    "  leading and trailing  ",
    "\n",
    "\t",
]


def _elementtree_junit(result: GateResult) -> str:
    """The report as it was written before `junit_xml` (ElementTree, then made safe): the
    oracle the writer must equal byte for byte."""
    trust_fails = int(result.shows_trust and result.trust_outcome == "fail")
    merge_fails = int(result.merge is not None)
    ignored = result.policy.ignored if result.policy is not None else ()
    root = ET.Element(
        "testsuites",
        name="workbench gate",
        tests=str(len(result.checks) + int(result.shows_trust) + merge_fails + len(ignored)),
        failures=str(len(result.failures) + trust_fails + merge_fails),
        errors="0",
        skipped=str(len(ignored)),
        timestamp=iso(result.now) or "",
    )
    if result.merge is not None:
        merge = result.merge
        suite = ET.SubElement(
            root,
            "testsuite",
            name="merge state",
            tests="1",
            failures="1",
            errors="0",
            skipped="0",
            timestamp=iso(result.now) or "",
        )
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"gate.{MERGE_RULE}",
            name=MERGE_RULE,
            file=merge.location,
            line="1",
        )
        failure = ET.SubElement(case, "failure", message=merge.message, type=MERGE_RULE)
        failure.text = f"{merge.message}\nhow: {merge.how}"
    if result.shows_trust:
        suite = ET.SubElement(
            root,
            "testsuite",
            name="trust root",
            tests="1",
            failures=str(trust_fails),
            errors="0",
            skipped="0",
            timestamp=iso(result.now) or "",
        )
        case = ET.SubElement(
            suite,
            "testcase",
            classname="gate.trust_root",
            name=TRUST_RULE,
            file=TRUST_FILE,
            line="1",
        )
        text = result.trust_message + (f"\nhow: {result.trust_fix}" if result.trust_fix else "")
        if result.trust_outcome == "fail":
            ET.SubElement(
                case, "failure", message=result.trust_message, type=TRUST_RULE
            ).text = text
        elif result.trust_outcome == "warn":
            ET.SubElement(case, "system-out").text = f"WARNING: {text}"
        else:
            ET.SubElement(case, "system-out").text = f"PASS: {text}"
    if ignored:
        suite = ET.SubElement(
            root,
            "testsuite",
            name="policy",
            tests=str(len(ignored)),
            failures="0",
            errors="0",
            skipped=str(len(ignored)),
            timestamp=iso(result.now) or "",
        )
        for number, p in enumerate(ignored, 1):
            case = ET.SubElement(
                suite, "testcase", classname="gate.policy_ignored", name=f"{p.code} #{number}",
                file=p.file, line=str(p.line),
            )  # fmt: skip
            message = f"IGNORED {p.file}:{p.line}:{p.column}: {p.message}"
            ET.SubElement(case, "skipped", message=message).text = f"{message}\n{CHANGED_NOTHING}"
    for cid in result.scope:
        mine = [c for c in result.checks if c.contract == cid]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=cid,
            tests=str(len(mine)),
            failures=str(sum(c.blocking for c in mine)),
            errors="0",
            skipped="0",
            timestamp=iso(result.now) or "",
        )
        for c in mine:
            case = ET.SubElement(
                suite, "testcase", classname=f"gate.{cid}", name=c.rule, file=c.path,
                line=str(c.line),
            )  # fmt: skip
            text = safe_text.line(c.message)
            if c.fixers:
                text += f"\nwho can fix it: {safe_text.line(', '.join(c.fixers))}"
            if c.fix:
                text += f"\nhow: {safe_text.line(c.fix)}"
            if c.blocking:
                ET.SubElement(case, "failure", message=c.message, type=c.rule).text = text
            elif c.outcome != "pass":
                ET.SubElement(case, "system-out").text = f"WARNING: {text}"
            else:
                ET.SubElement(case, "system-out").text = f"PASS: {text}"
    for element in root.iter():
        if element.text:
            element.text = safe_text.xml(element.text)
        for name, value in element.attrib.items():
            element.set(name, safe_text.line(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


NOW = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)


def _check(rng: random.Random, contract: str) -> Check:
    pick = lambda: rng.choice(HOSTILE)  # noqa: E731
    line, column = rng.randint(1, 400), rng.randint(1, 80)
    return Check(
        contract=contract,
        rule=rng.choice(["approval", "review_overdue", pick()]),
        severity=rng.choice(["deny", "warn"]),
        outcome=rng.choice(["pass", "warn", "fail"]),
        message=pick() + pick(),
        fixers=[pick() for _ in range(rng.randint(0, 3))],
        fix=rng.choice(["", pick()]),
        path=rng.choice(["", f"contracts/{contract}.toml", pick()]),
        position=rng.choice([None, lambda: (line, column)]),
    )


def _trust(rng: random.Random) -> TrustInfo | None:
    pick = lambda: rng.choice(HOSTILE)  # noqa: E731
    return rng.choice(
        [
            None,
            TrustInfo(pinned=True, source="--root", root_sha256="ab" * 32, summary=pick()),
            TrustInfo(pinned=False, source=None, root_sha256=None, summary=pick()),
            TrustInfo(pinned=False, source=None, root_sha256=None, problems=(pick(), pick())),
        ]
    )


def _policy(rng: random.Random, count: int) -> EffectivePolicy | None:
    """A policy whose workbench.toml asked for `count` loosenings, every text hostile."""
    if count < 0:
        return None
    pick = lambda: rng.choice(HOSTILE)  # noqa: E731
    ignored = tuple(
        Problem(pick() or "workbench.toml", rng.randint(0, 90), rng.randint(0, 9), "warning",
                pick() or "policy.floor-deny", pick() + pick(), pick())
        for _ in range(count)
    )  # fmt: skip
    return EffectivePolicy(DEFAULT_FLOOR, Gate(), Defaults(), Gate(), Defaults(), ignored)


def _result(rng: random.Random) -> GateResult:
    pick = lambda: rng.choice(HOSTILE)  # noqa: E731
    scope = list(dict.fromkeys([pick() for _ in range(rng.randint(0, 6))]))
    checks = [_check(rng, cid) for cid in scope for _ in range(rng.randint(0, 4))]
    merge = rng.choice(
        [None, UnfinishedMerge(what=pick(), how=pick(), conflicts=(pick(),) * rng.randint(0, 2))]
    )
    return GateResult(
        now=NOW,
        scope=scope,
        checks=checks,
        deny=["approval"],
        warn=[],
        trust=_trust(rng),
        strict=rng.random() < 0.3,
        merge=merge,
        policy=_policy(rng, rng.randint(-1, 3)),
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_writer_equals_elementtree_on_hostile_reports(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(100):
        result = _result(rng)
        assert render_junit(result) == _elementtree_junit(result)


def test_every_hostile_string_in_every_field_gives_the_same_bytes_and_parses() -> None:
    for text in HOSTILE:
        check = Check(
            contract=text or "c",
            rule=text,
            severity="deny",
            outcome="fail",
            message=text,
            fixers=[text, text],
            fix=text,
            path=text,
        )
        warned = Check(
            contract=text or "c", rule="r", severity="warn", outcome="fail", message=text
        )
        result = GateResult(
            now=NOW,
            scope=[text or "c", "empty"],  # "empty": a contract with no checks
            checks=[check, warned],
            deny=["approval"],
            warn=[],
            trust=TrustInfo(pinned=False, source=None, root_sha256=None, problems=(text,)),
            strict=True,
            merge=UnfinishedMerge(what=text, how=text, conflicts=(text,) if text else ()),
            policy=EffectivePolicy(
                DEFAULT_FLOOR,
                Gate(),
                Defaults(),
                Gate(),
                Defaults(),
                (Problem(text, 3, 1, "warning", text, text, text),) * 2,
            ),  # fmt: skip
        )
        written = render_junit(result)
        assert written == _elementtree_junit(result)
        if "\ud800" not in text:  # a lone surrogate cannot be encoded for a parser
            parsed = ET.fromstring(written.encode())
            failures = parsed.findall(".//failure")
            assert failures and all(
                f.get("message") == safe_text.line(f.get("message") or "") for f in failures
            )
            skipped = parsed.findall(".//skipped")
            assert len(skipped) == 2 and parsed.get("skipped") == "2"
            assert all(s.get("message") == safe_text.line(s.get("message") or "") for s in skipped)


def test_an_empty_report_is_one_empty_element() -> None:
    result = GateResult(now=NOW, scope=[], checks=[], deny=[], warn=[])
    written = render_junit(result)
    assert written == _elementtree_junit(result)
    assert written.endswith("/>\n") and written.count("<testsuites ") == 1
