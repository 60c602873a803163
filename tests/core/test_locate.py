"""Key positions (`model/locate.py`): the line and column every message points at.

The scanner moves an index and derives line and column from it (issue 18: locating every
check of 1,000 contracts made `gate --format junit` slow). The expected positions below are
those of the character-by-character scanner it replaced, on the constructs where the two
could differ: multi-line strings with escapes, inline tables spanning lines, quoted and
non-ASCII keys, CRLF line ends.
"""

from __future__ import annotations

import pytest

from workbench.model.locate import locate

CASES = {
    "tables_and_arrays": (
        'id = "seam-1"\n# a comment\n[seam]\nprovider = "a"  # trailing\n\n[[terms]]\n'
        'id = "t1"\nowner = "p"\n[[terms]]\nid = "t2"\n[terms.check]\nkind = "range"\n',
        {
            (): (1, 1),
            ("id",): (1, 1),
            ("seam",): (3, 1),
            ("seam", "provider"): (4, 1),
            ("terms",): (6, 1),
            ("terms", 0): (6, 1),
            ("terms", 0, "id"): (7, 1),
            ("terms", 0, "owner"): (8, 1),
            ("terms", 1): (9, 1),
            ("terms", 1, "id"): (10, 1),
            ("terms", 1, "check"): (11, 1),
            ("terms", 1, "check", "kind"): (12, 1),
        },
    ),
    "multiline_basic_with_escapes": (
        'a = """x\\"""y\n"""\nb = 1\nc = "q\\"z"\n',
        {(): (1, 1), ("a",): (1, 1), ("b",): (3, 1), ("c",): (4, 1)},
    ),
    "multiline_literal": (
        "a = '''line1\nline2'''\nb = 'lit'\n",
        {(): (1, 1), ("a",): (1, 1), ("b",): (3, 1)},
    ),
    "inline_tables_and_lists": (
        'p = { name = "x", n = [1, 2,\n 3] }\nq = [\n  "a",\n  { k = 1 },\n]\n',
        {
            (): (1, 1),
            ("p",): (1, 1),
            ("p", "name"): (1, 7),
            ("p", "n"): (1, 19),
            ("p", "n", 0): (1, 24),
            ("p", "n", 1): (1, 27),
            ("p", "n", 2): (2, 2),
            ("q",): (3, 1),
            ("q", 0): (4, 3),
            ("q", 1): (5, 3),
            ("q", 1, "k"): (5, 5),
        },
    ),
    "quoted_and_unicode_keys": (
        "\"quoted key\" = 1\nclé = 2\n'lit.key' = 3\nd.e.f = 4\n",
        {
            (): (1, 1),
            ("quoted key",): (1, 1),
            ("clé",): (2, 1),
            ("lit.key",): (3, 1),
            ("d", "e", "f"): (4, 1),
        },
    ),
    "crlf": (
        "a = 1\r\n[t]\r\nb = 2\r\n",
        {(): (1, 1), ("a",): (1, 1), ("t",): (2, 1), ("t", "b"): (3, 1)},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_positions_are_those_of_the_character_scanner(name: str) -> None:
    text, expected = CASES[name]
    assert locate(text).positions == expected


def test_find_falls_back_to_the_nearest_ancestor_and_skips_union_tags() -> None:
    loc = locate(CASES["tables_and_arrays"][0])
    assert loc.find(("terms", 1, "check", "kind")) == (12, 1)
    assert loc.find(("terms", 1, "check", "missing")) == (11, 1)
    # pydantic puts a union tag ("range") into an error's location; it is skipped.
    assert loc.find(("terms", 1, "check", "range", "kind")) == (12, 1)
    assert loc.find(("nowhere",)) == (1, 1)
