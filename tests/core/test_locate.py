"""Key positions (`model/locate.py`): the line and column every message points at.

The scanner moves an index and derives line and column from it (issue 18: locating every
check of 1,000 contracts made `gate --format junit` slow). The expected positions below are
those of the character-by-character scanner it replaced, on the constructs where the two
could differ: multi-line strings with escapes, inline tables spanning lines, quoted and
non-ASCII keys, CRLF line ends.
"""

from __future__ import annotations

import contextlib
import random
import signal
from collections.abc import Iterator
from pathlib import Path

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


# ----------------------------------------------------------------- any input terminates
# `locate` runs on text that parsed, but nothing stops a caller handing it text that did
# not: a value that cannot start ("a = [}") left the array loop spinning on one character.
# The scanner must end on any text; positions on valid TOML are those above.

PROJECT = Path(__file__).resolve().parents[2]
SEEDS = [text for text, _ in CASES.values()] + [
    (PROJECT / "tests/data/templates/data-model.set.toml").read_text(encoding="utf-8"),
    (PROJECT / "pyproject.toml").read_text(encoding="utf-8")[:4000],
]


class _Endless(BaseException):
    pass


@contextlib.contextmanager
def _ends_within(seconds: int, text: str) -> Iterator[None]:
    """Fail (not hang) when the scanner does not end: far above any real run's time, it
    only turns an endless loop into a failure naming the input."""

    def stop(signum: int, frame: object) -> None:
        raise _Endless  # not an Exception: locate() turns those into "no positions"

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    except _Endless:
        pytest.fail(f"locate() did not end on {text[:200]!r}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _mutations(rng: random.Random) -> Iterator[str]:
    alphabet = "[]{}=,.\"'#\n\r\t \\ab1-_é"
    for seed in SEEDS:
        for cut in range(0, len(seed), max(1, len(seed) // 60)):
            yield seed[:cut]  # truncations, as an editor buffer mid-typing
        for _ in range(60):
            chars = list(seed)
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(chars) + 1)
                if rng.random() < 0.5 and at < len(chars):
                    del chars[at]
                else:
                    chars.insert(at, rng.choice(alphabet))
            yield "".join(chars)
    for _ in range(300):  # bytes from nowhere, decoded as a reader would
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 80)))
        yield raw.decode("utf-8", errors="replace")
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


@pytest.mark.parametrize(
    "text", ["a = [}", "a = [1 }", "a = [\n}\n]", "x = [[}]]", "a = [{b = [}]}]"]
)
def test_locate_ends_on_a_value_that_cannot_start(text: str) -> None:
    with _ends_within(10, text):
        loc = locate(text)
    assert loc.positions[("a",) if text.startswith("a") else ("x",)] == (1, 1)


def test_locate_ends_on_any_text() -> None:
    rng = random.Random(20261204)  # fixed: a failure names its input and reproduces
    seen = 0
    for text in _mutations(rng):
        with _ends_within(10, text):
            loc = locate(text)
        assert loc.positions[()] == (1, 1)
        seen += 1
    assert seen > 1000


# -- the locator that stops early (`Locator`, used by the gate's reports) -----------------

RULE_KEYS = ["id", "adopted", "change_protocol", "terms", "escalation", "seam", "parties"]


def _questions(text: str) -> list[tuple[str | int, ...]]:
    """Every recorded path, its ancestors' near misses, union tags and absent keys."""
    known = list(locate(text).positions)
    extra = [(*p, "missing") for p in known] + [(*p, "range", "kind") for p in known]
    return [*(tuple([k]) for k in RULE_KEYS), *known, *extra, ("nowhere",), ()]


def _every_toml_text() -> list[str]:
    from pathlib import Path

    project = Path(__file__).resolve().parents[2]
    texts = [text for text, _ in CASES.values()]
    for path in sorted(project.glob("**/*.toml")):
        if ".venv" in path.parts or ".git" in path.parts:
            continue
        texts.append(path.read_text(encoding="utf-8", errors="surrogateescape"))
    return texts


PIECES = [
    'id = "c"\n',
    "adopted = 2026-01-01\n",
    '"terms" = 1\n',
    'change_protocol.ack_window = "PT48H"\n',
    "[change_protocol]\nack_window = 'PT1H'\n",
    "[escalation.backup]\nwho = 'x'\n",
    "[escalation]\nprimary = 'p'\n",
    "[[terms]]\nid = 't'\nbounds = { min = 1, max = [1,\n 2] }\n",
    "[terms.check]\nkind = 'range'\n",
    'note = """\n[terms]\nid = "fake"\n"""\n',
    "lit = '''\n[[seam]]\n'''\n",
    "[seam]\nprovider = 'a' # [parties]\n",
    "[[parties]]\nlead = 'b'\n",
    "[ parties . x ]\ny = 1\n",
    "# [adopted]\n",
    "q = [\n  { id = 'x' },\n  'a',\n]\n",
]


def _shuffled_documents() -> list[str]:
    """The rule keys in every order and shape: tables, arrays of tables, dotted keys,
    sub-tables only, and the same headers inside strings and comments (not all of them
    valid TOML: the scanner must agree with itself either way)."""
    import random

    rng = random.Random(18)
    return ["".join(rng.sample(PIECES, rng.randrange(1, len(PIECES)))) for _ in range(400)]


def test_the_early_stopping_locator_answers_what_the_whole_scan_answers() -> None:
    from workbench.model.locate import Locator

    texts = _every_toml_text() + _shuffled_documents()
    assert len(texts) > 400
    for text in texts:
        whole = locate(text)
        questions = _questions(text)
        # Asked one key at a time from a fresh start, and all in a row on one locator (the
        # order a gate asks in, each answer resuming the scan where the last one stopped).
        for q in questions:
            assert Locator(text).find(q) == whole.find(q), (q, text[:80])
        shared = Locator(text)
        for q in questions:
            assert shared.find(q) == whole.find(q), (q, text[:80])
        assert shared.complete().positions == whole.positions


def test_a_document_stops_scanning_at_the_key_asked_for_and_completes_on_demand() -> None:
    from workbench.model.documents import parse_document

    text = CASES["tables_and_arrays"][0]
    doc, problems = parse_document("contracts/x.toml", text.encode())
    assert not problems
    assert doc.position(("seam",)) == (3, 1)
    # Only the text up to [seam] was read; a full answer is still the whole scan's.
    assert doc._locator is not None and ("terms",) not in doc._locator._scanner.loc.positions  # type: ignore[union-attr]
    assert doc.locations.positions == locate(text).positions
    assert doc.position(("terms", 1, "check", "missing")) == (11, 1)
