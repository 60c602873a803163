"""The one module that makes text safe per medium (workbench/model/safe_text.py)."""

from __future__ import annotations

import html
import json
import re
import sys
import unicodedata
from xml.etree import ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.model import safe_text

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
# Any text, weighted towards the characters that matter here.
texts = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
        st.sampled_from(list("\x1b\x9b\x07\x7f\u202e\u2066\u200b\n\t\r[]()<>|`*_!#&$@\\ab ")),
        st.characters(),
    ),
    max_size=40,
)


def test_every_control_and_format_character_is_unsafe() -> None:
    missing = [
        f"U+{cp:04X}"
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in UNSAFE_CATEGORIES and not safe_text.is_unsafe(chr(cp))
    ]
    assert not missing, missing[:20]
    assert safe_text.is_unsafe("\ufffe") and safe_text.is_unsafe("\uffff")
    assert not any(safe_text.is_unsafe(c) for c in "aé→ 漢\u0301😀")


def test_visible_notation() -> None:
    assert safe_text.line("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert safe_text.line("x\u202ey") == "x\\u202ey"
    assert safe_text.line("tag\U000e0041") == "tag\\U000e0041"
    assert safe_text.line("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert safe_text.terminal("a\nb\tc\rd\x9b") == "a\nb\tc\\rd\\x9b"


@settings(max_examples=300, deadline=None)
@given(texts)
def test_terminal_and_line_leave_nothing_unsafe(text: str) -> None:
    shown = safe_text.terminal(text)
    assert not [c for c in shown if safe_text.is_unsafe(c) and c not in "\n\t"]
    assert shown.count("\n") == text.count("\n")
    one = safe_text.line(text)
    assert not [c for c in one if safe_text.is_unsafe(c)]
    assert safe_text.line(one) == one and safe_text.terminal(shown) == shown  # idempotent
    ET.fromstring(f"<a b='{html.escape(one)}'>{html.escape(safe_text.xml(text))}</a>")


@settings(max_examples=300, deadline=None)
@given(st.recursive(texts | st.integers(), lambda c: st.lists(c) | st.dictionaries(texts, c)))
def test_json_is_exact_data_without_raw_unsafe_characters(data: object) -> None:
    text = safe_text.json_dumps(data, indent=2)
    assert not [c for c in text if safe_text.is_unsafe(c) and c not in "\n"]
    assert json.loads(text) == data


@settings(max_examples=300, deadline=None)
@given(texts)
def test_markdown_renders_as_the_text_itself(text: str) -> None:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    rendered = md.render(f"x {safe_text.markdown(text)} y")
    inner = re.fullmatch(r"<p>(.*)</p>\n", rendered, re.DOTALL)
    assert inner, rendered
    assert "<" not in inner.group(1), rendered  # no tag of any kind
    assert html.unescape(inner.group(1)) == f"x {safe_text.line(text)} y"


def test_tui_table_keeps_length() -> None:
    table = safe_text.tui_table()
    assert all(len(v) == 1 for v in table.values())
    assert "\n" not in {chr(k) for k in table} and "\x1b" in {chr(k) for k in table}
    assert "\n" in {chr(k) for k in safe_text.tui_table(keep="")}
