"""The bundle's OSCAL documents validate against NIST's published JSON Schemas (issue 7).

The schemas are vendored unchanged under ``tests/data/oscal/`` (see its README for the
source commit, the sha256 of each file and how the copies were checked). Two honest
adaptations are made, in memory only, and nothing is skipped:

* ``\\p{L}`` / ``\\p{N}`` (Unicode letter / number classes, used by ``TokenDatatype``) do
  not exist in Python's ``re``. :func:`_load_schema` replaces exactly those two
  constructs by explicit character classes built from ``unicodedata`` (categories
  L* and N*), so the pattern keeps its meaning and is enforced.
* jsonschema's own checkers for ``date-time``, ``uri`` and ``uri-reference`` need optional
  packages that are not dependencies of this project; :data:`FORMATS` adds small
  stdlib checkers for them (on top of the schema's own ``pattern`` for these datatypes).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft7Validator, FormatChecker

from tests.bundle.conftest import EXPORT_AT, Exported, members, signer
from workbench.bundle.oscal import OSCAL_VERSION
from workbench.service.bundle import ExportOptions
from workbench.service.core import Workbench

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "oscal"
DOCUMENTS = {
    "oscal/assessment-plan.json": "oscal_assessment-plan_schema.json",
    "oscal/assessment-results.json": "oscal_assessment-results_schema.json",
    "oscal/poam.json": "oscal_poam_schema.json",
}
# The only regex constructs in the vendored schemas that Python's `re` rejects.
UNICODE_CLASSES = {r"\p{L}": "L", r"\p{N}": "N"}


@cache
def _category_class(major: str) -> str:
    """A `re` character class of every code point whose general category starts `major`."""
    ranges: list[tuple[int, int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)).startswith(major):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    body = "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)
    return f"[{body}]"


def _translate(pattern: str) -> str:
    for construct, major in UNICODE_CLASSES.items():
        pattern = pattern.replace(construct, _category_class(major))
    return pattern


# translated pattern -> the published one, so failures print what NIST wrote
ORIGINAL_PATTERN: dict[str, str] = {}


def _translated(node: Any, changed: list[str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str) and r"\p{" in value:
                changed.append(value)
                out[key] = _translate(value)
                ORIGINAL_PATTERN[out[key]] = value
            else:
                out[key] = _translated(value, changed)
        return out
    if isinstance(node, list):
        return [_translated(v, changed) for v in node]
    return node


@cache
def _load_schema(name: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The vendored schema with only the `\\p{..}` constructs made Python-compatible."""
    changed: list[str] = []
    schema = _translated(json.loads((SCHEMAS / name).read_text(encoding="utf-8")), changed)
    assert all(r"\p{" not in p for p in _patterns(schema)), "an unknown \\p class is left"
    Draft7Validator.check_schema(schema)  # every remaining pattern compiles
    return schema, tuple(sorted(set(changed)))


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


FORMATS = FormatChecker()
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))  # raises on 2026-02-30 etc.
    return True


@FORMATS.checks("uri-reference")
def _uri_reference(value: object) -> bool:
    if not isinstance(value, str):
        return True
    urlsplit(value)
    return bool(_URI_CHARS.match(value))


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return _uri_reference(value) and bool(re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", value))


def _errors(document: bytes, schema_name: str) -> list[str]:
    schema, _ = _load_schema(schema_name)
    validator = Draft7Validator(schema, format_checker=FORMATS)
    instance = json.loads(document)
    out = []
    for e in validator.iter_errors(instance):
        message = e.message
        if e.validator == "pattern" and e.validator_value in ORIGINAL_PATTERN:
            message = f"{e.instance!r} does not match {ORIGINAL_PATTERN[e.validator_value]!r}"
        out.append(f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {message}")
    return sorted(out)


def _assert_valid(files: dict[str, bytes]) -> None:
    report = {}
    for path, schema_name in DOCUMENTS.items():
        errors = _errors(files[path], schema_name)
        if errors:
            report[path] = errors
    assert report == {}, "\n".join(
        f"{path}: {len(errs)} error(s)\n  " + "\n  ".join(errs) for path, errs in report.items()
    )


def test_vendored_schemas_are_one_release_matching_the_export() -> None:
    ids = set()
    for schema_name in DOCUMENTS.values():
        raw = json.loads((SCHEMAS / schema_name).read_text(encoding="utf-8"))
        ids.add(raw["$id"].split("/oscal/")[1].split("/")[0])
        _, changed = _load_schema(schema_name)
        # exactly the TokenDatatype pattern needed translating; nothing else was touched
        assert changed == (r"^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$",)
    assert ids == {OSCAL_VERSION}


def test_unicode_class_translation_keeps_the_meaning() -> None:
    token = re.compile(_translate(r"^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$"))
    for ok in ("signer", "credit-model", "_x.1", "Ωmega", "x٣", "dé-jà"):
        assert token.match(ok), ok
    for bad in ("1abc", "-x", "a b", "a:b", "", "x/y"):
        assert not token.match(bad), bad


def test_demo_bundle_oscal_validates(demo_repo: Path) -> None:
    wb = Workbench(demo_repo, now=EXPORT_AT, actor="grace.whitfield")
    built = wb.bundles.build(ExportOptions(record=False), signer(demo_repo, "grace.whitfield"))
    files = members(built.data)
    _assert_valid(files)
    again = members(
        wb.bundles.build(ExportOptions(record=False), signer(demo_repo, "grace.whitfield")).data
    )
    assert {p: again[p] for p in DOCUMENTS} == {p: files[p] for p in DOCUMENTS}, "deterministic"
    for path in DOCUMENTS:
        doc = json.loads(files[path])
        (root,) = doc.values()
        assert root["metadata"]["oscal-version"] == OSCAL_VERSION


@pytest.mark.parametrize("which", ["first", "second", "no_evidence"])
def test_shared_bundles_oscal_validates(exported: Exported, which: str) -> None:
    """The shared exports cover an exempt/closed mix and a re-signed contract."""
    _assert_valid(members(getattr(exported, which)))


def test_schema_rejects_a_broken_document(exported: Exported) -> None:
    """The validation is live: a document the schema forbids is reported, with its path."""
    files = members(exported.second)
    ar = json.loads(files["oscal/assessment-results.json"])
    result = ar["assessment-results"]["results"][0]
    result["findings"][0]["target"]["status"]["state"] = "broken"
    result["observations"][0]["collected"] = "yesterday"
    del ar["assessment-results"]["metadata"]["version"]
    ar["assessment-results"]["metadata"]["roles"][0]["id"] = "not a token"
    errors = _errors(json.dumps(ar).encode(), DOCUMENTS["oscal/assessment-results.json"])
    joined = "\n".join(errors)
    assert "findings/0/target/status/state" in joined
    assert "observations/0/collected" in joined
    assert "'version' is a required property" in joined
    assert "roles/0/id: 'not a token' does not match '^(\\\\p{L}|_)" in joined


def test_timestamps_given_as_text_are_normalised_to_rfc3339_utc() -> None:
    from workbench.bundle.oscal import _ts

    assert _ts("2026-11-27T10:00:00+01:00") == "2026-11-27T09:00:00Z"
    assert _ts("2026-11-27T09:00:00") == "2026-11-27T09:00:00Z"  # naive is UTC
    assert _ts("2026-11-27T09:00:00Z") == "2026-11-27T09:00:00Z"
    assert _date_time(_ts("2026-11-27T09:00:00.250+00:00"))
