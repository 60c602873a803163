"""The findings writer renders exactly what ``json.dumps(..., indent=1)`` renders: a findings
file's bytes are fixed by its inputs, and a re-run must find the same file."""

from __future__ import annotations

import json
from enum import IntEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.evidence.indent_json import dumps_indent1


def reference(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.text(alphabet=st.characters(codec=None, exclude_categories=()))
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(values)
@settings(max_examples=400, deadline=None)
def test_same_bytes_as_json_dumps(obj: object) -> None:
    assert dumps_indent1(obj) == reference(obj)


class Level(IntEnum):
    HIGH = 2


def test_what_json_converts_is_left_to_json() -> None:
    # Non-str keys, mixed keys, subclasses and surrogates: rendered as json renders them.
    for obj in (
        {1: "a", 2: [1.5, float("nan"), -float("inf")]},
        {"x": Level.HIGH, "y": True, "z": {"": [], "e": {}}},
        {"s": '\ud800 lone surrogate, \u2028 line separator, \x00 nul, "quote"\n'},
        [[[]], [{}], (1, 2.0, "3")],
        {2.5: None, True: False},
    ):
        assert dumps_indent1(obj) == reference(obj)
    for bad in ({1: "a", "b": 2}, {"set": {1}}):  # json refuses these: so does the writer
        with pytest.raises(TypeError):
            reference(bad)
        with pytest.raises(TypeError):
            dumps_indent1(bad)


def test_a_run_renders_as_before(tmp_path: object) -> None:
    from workbench.evidence.findings import render_run

    run = {
        "format": "x",
        "findings": [
            {"term": "t", "observed": 0.1 + 0.2, "details": [{"bins": [1, 2], "ok": None}]}
        ],
        "summary": {"pass": 1},
    }
    assert render_run(run) == (reference(run) + "\n").encode()  # type: ignore[arg-type]
