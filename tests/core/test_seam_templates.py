"""The three seam templates render byte for byte as pinned in tests/data/templates/: a
contract made from a template is what the docs show and what people have already signed,
so a change to how the templates are built must not change a byte of what they make."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from workbench.model.templates.seams import TEMPLATES, TemplateInput, render_template

GOLDEN = Path(__file__).parent.parent / "data" / "templates"
SCHEMA_LINE = "#:schema ../schema/contract.schema.json"

# Values for every parameter of every template, including ones that need quoting, a
# number given as text and several representation groups.
SET = {
    "data-model": {
        "source": 'crm "events"',
        "fail_after": "PT6H",
        "warn_after": "PT3H",
        "refresh_cadence": "PT1H",
        "attribute": "age_band",
        "groups": "18-29, 30-49 ,50+,",
    },
    "model-product": {
        "calibration_reference": "https://wiki.example/calibration",
        "range_min": "0",
        "range_max": "1e0",
        "reference": "scores-2026q3",
        "threshold_name": "approve_cutoff",
        "threshold": "0.62",
    },
    "product-compliance": {
        "assertion_id": "no-protected-features",
        "assertion": "no protected attribute is a model feature\x7f",
        "test": "tests/test_features.py::test_no_protected",
        "min_pass_rate": "0.995",
    },
}


def _input(kind: str, values: dict[str, str], title: str | None) -> TemplateInput:
    return TemplateInput(
        contract_id=f"{kind}-seam",
        provider="data-platform",
        consumer="credit-model",
        provider_name="Data Platform",
        consumer_name="Credit Model",
        provider_lead="ana",
        consumer_lead="ben",
        provider_lead_email="ana@example.com",
        values=values,
        title=title,
    )


CASES = [
    (kind, variant)
    for kind in ("data-model", "model-product", "product-compliance")
    for variant in ("defaults", "set")
]


@pytest.mark.parametrize(("kind", "variant"), CASES)
def test_template_output_is_pinned(kind: str, variant: str) -> None:
    if variant == "defaults":
        text = render_template(kind, _input(kind, {}, None), SCHEMA_LINE)
    else:
        text = render_template(kind, _input(kind, SET[kind], "Scores\nfor lending"))
    golden = (GOLDEN / f"{kind}.{variant}.toml").read_text(encoding="utf-8")
    assert text == golden
    parsed = tomllib.loads(text)
    assert parsed["seam"]["kind"] == kind
    assert [t["id"] for t in parsed["terms"]] == list(TEMPLATES[kind].terms)
