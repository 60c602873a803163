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
        pytest.fail(f"locate() did not end on {text[:200]!r}", pytrace=False)
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


# --------------------------------------------------------- any input ends in linear work
# Every read of a committed contract locates its keys, and a contract is untrusted input.
# Two constructs made the scanner quadratic (minutes on a few hundred kilobytes): a
# multi-line basic string full of backslashes (the closing quotes were searched for again
# after every escape; valid TOML) and a table header with 100,000 dotted keys (each prefix
# looked up among the arrays of tables). The work is counted, not timed.


class _CountingText(str):
    """A text that counts the characters `find` looks at."""

    looked = 0

    def find(self, sub: str, start: int | None = None, end: int | None = None) -> int:  # type: ignore[override]
        start = 0 if start is None else start
        found = str.find(self, sub, start, end)
        stop = found + len(sub) if found != -1 else (len(self) if end is None else end)
        _CountingText.looked += max(0, stop - start)
        return found


@pytest.mark.parametrize(
    "body",
    [
        "\\\\" * 20_000 + '"""\nb = 1\n',  # valid: escaped backslashes, then the closing
        "\\x" * 20_000,  # never closed
        '\\"""' * 10_000 + '"""\nb = 1\n',  # escaped quotes before the closing
    ],
    ids=["escaped-backslashes-then-closed", "never-closed", "escaped-quotes-then-closed"],
)
def test_a_multi_line_string_of_escapes_is_scanned_once(body: str) -> None:
    text = _CountingText('a = """' + body)
    _CountingText.looked = 0
    loc = locate(text)
    assert loc.positions[("a",)] == (1, 1)
    if body.endswith("b = 1\n"):
        assert loc.positions[("b",)] == (text.count("\n"), 1)
    assert _CountingText.looked <= 4 * len(text), (_CountingText.looked, len(text))


def _triple_end_reference(text: str, i: int) -> int:
    """The search as it was (quadratic), as the oracle of where a string ends."""
    j = i
    while True:
        end = text.find('"""', j)
        escape = text.find("\\", j, end if end != -1 else len(text))
        if escape == -1:
            return end if end != -1 else len(text)
        j = min(escape + 2, len(text))


def test_the_linear_search_ends_strings_where_the_old_one_did() -> None:
    from workbench.model.locate import _Scanner

    rng = random.Random(4122026)
    for _ in range(3000):
        text = "".join(rng.choice(['"', "\\", "a", "\n", '"""']) for _ in range(rng.randint(0, 30)))
        scanner = _Scanner(text)
        assert scanner._triple_end('"') == _triple_end_reference(text, 0), repr(text)


def test_a_header_of_many_dotted_keys_ends() -> None:
    deep = "[[a]]\n[" + "a." * 300_000 + "b]\nc = 1\n"
    with _ends_within(20, deep[:50]):  # it took minutes; now a fraction of a second
        loc = locate(deep)
    assert loc.positions[("a",)] == (1, 1) and loc.positions[("a", 0)] == (1, 1)
    deepest = [p for p in loc.positions if len(p) > 1000]
    assert len(deepest) == 2 and all(p[:2] == ("a", 0) and p[-1] in ("b", "c") for p in deepest)
    assert loc.positions[deepest[-1]] == (3, 1)


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
