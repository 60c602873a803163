"""The three seam templates, one per table of the article ("What a Handshake Contract
Actually Looks Like").

* data → model: data freshness SLA, demographic representation assertion, lineage
  attestation, break-glass escalation path, change notification protocol (48 h ack).
* model → product: calibration documentation and the score's valid operating range, the
  distribution shift that triggers a threshold review, the product threshold whose change
  needs the model lead's co-signature.
* product → compliance: a living compliance attestation with a named compliance reviewer
  who receives a weekly summary, and the engineering lead who confirms test coverage
  within 48 hours of an assertion change.

Owners, leads and contacts are filled from the teams; what only the teams know is a
`TODO: ...` placeholder (see placeholders.py) or a `--set NAME=VALUE` parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


def _toml_str(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML also forbids DEL.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


@dataclass(frozen=True)
class TemplateParameter:
    name: str
    help: str
    default: str
    number: bool = False


@dataclass(frozen=True)
class SeamTemplate:
    kind: str
    title: str
    terms: tuple[str, ...]
    parameters: tuple[TemplateParameter, ...]
    body: str

    def parameter(self, name: str) -> TemplateParameter | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class TemplateInput:
    """Everything a template needs, read from the repo by the service."""

    contract_id: str
    provider: str
    consumer: str
    provider_name: str
    consumer_name: str
    provider_lead: str
    consumer_lead: str
    provider_lead_email: str
    values: dict[str, str] = field(default_factory=dict)
    title: str | None = None


_HEADER = """\
{schema_line}
# {title}
# Made from the {kind} seam template (`workbench contract new --template {kind}`).
# Every `TODO: ...` is something only the two teams know: `workbench validate` lists each
# one with its line, and nobody can sign the contract until all are filled in.
id = {id}
title = {title_str}
status = "draft"
owner = {provider_lead}

[seam]
provider = {provider}
consumer = {consumer}
kind = "{kind}"

[parties]
provider_lead = {provider_lead}
consumer_lead = {consumer_lead}

[review]
cadence = "P3M"          # quarterly review of the contract
contact_check = "P3M"    # and of the named people below: are they still the right ones?

# Break-glass path: a named individual (not "the team") is paged when a term is violated.
[escalation]
primary = {provider_lead}
backup = {consumer_lead}
channel = {channel}
ack_sla = "PT1H"
"""

# The body of each template: its change protocol, then its terms, each as one row. A row
# gives what every term has (the comment above it, id, kind, title, owner) and the fields
# and sub-tables that are its own; `{name}` is filled from the people and the parameters.


@dataclass(frozen=True)
class _Term:
    comment: str  # the lines above the term, without their "# "
    id: str
    kind: str
    title: str
    owner: str  # provider_lead | consumer_lead
    fields: tuple[tuple[str, str], ...]
    tables: str = ""  # sub-tables after the fields, as TOML


def _body(notice: str, notify: str, terms: tuple[_Term, ...]) -> str:
    out = [f'\n# {notice}\n[change_protocol]\nnotify = [{{{notify}}}]\nack_window = "PT48H"\n']
    for t in terms:
        comment = "".join(f"# {line}\n" for line in t.comment.split("\n"))
        head = (
            f"[[terms]]\nid = {_toml_str(t.id)}\nkind = {_toml_str(t.kind)}\n"
            f"title = {_toml_str(t.title)}\nowner = {{{t.owner}}}\n"
        )
        fields = "".join(f"{k} = {v}\n" for k, v in t.fields)
        out.append("\n" + comment + head + fields + (f"\n{t.tables}" if t.tables else ""))
    return "".join(out)


def _seam(
    kind: str,
    title: str,
    parameters: tuple[TemplateParameter, ...],
    notice: tuple[str, str],
    terms: tuple[_Term, ...],
) -> SeamTemplate:
    body = _body(*notice, terms)
    return SeamTemplate(kind, title, tuple(t.id for t in terms), parameters, body)


_P = TemplateParameter
_PROVIDER, _CONSUMER = "provider_lead", "consumer_lead"

DATA_MODEL = _seam(
    "data-model",
    "Data → model",
    (
        _P("source", "the upstream source, as named in evidence", "TODO: the upstream source"),
        _P("fail_after", "freshness SLA (ISO-8601 duration)", "PT24H"),
        _P("warn_after", "freshness alerting threshold", "PT12H"),
        _P("refresh_cadence", "how often the source refreshes", "P1D"),
        _P(
            "attribute",
            "protected-class proxy, e.g. age_band",
            "TODO: the protected-class proxy attribute, e.g. age_band",
        ),
        _P(
            "groups",
            "its groups, comma-separated (bounds 0..1 to tighten)",
            "TODO: a group of the attribute",
        ),
    ),
    ("Change notification: the model team lead acknowledges within 48 hours.", _CONSUMER),
    (
        _Term(
            "Data freshness SLA: maximum lag between a source update and the model-accessible"
            " state.",
            "freshness",
            "freshness",
            "Data freshness SLA",
            _PROVIDER,
            (
                ("fail_after", "{fail_after}"),
                ("warn_after", "{warn_after}"),
                ("sources", "[{source}]"),
            ),
        ),
        _Term(
            "Demographic representation: distribution bounds for protected-class proxies.",
            "representation",
            "representation",
            "Demographic representation assertion",
            _PROVIDER,
            (
                ("attribute", "{attribute}"),
                (
                    "reevaluation_trigger",
                    '"a share outside its bounds triggers re-evaluation of the model"',
                ),
            ),
            "[terms.groups]\n{groups}\n",
        ),
        _Term(
            "Lineage attestation: which upstream sources are included, their refresh cadence,"
            " and which\nare excluded, as code. The model team has read-only access and an"
            " alert subscription.",
            "lineage",
            "lineage",
            "Lineage attestation",
            _PROVIDER,
            (("subscribers", "[{consumer_lead}]"),),
            "[[terms.included]]\nsource = {source}\nrefresh_cadence = {refresh_cadence}\n",
        ),
    ),
)

MODEL_PRODUCT = _seam(
    "model-product",
    "Model → product",
    (
        _P(
            "calibration_reference",
            "where the calibration documentation lives",
            "TODO: link to the calibration report",
        ),
        _P("range_min", "lowest valid score", "0.0", number=True),
        _P("range_max", "highest valid score", "1.0", number=True),
        _P(
            "reference",
            "--name of the reference score_samples snapshot",
            "TODO: the evidence name of the reference score distribution",
        ),
        _P(
            "threshold_name",
            "the threshold's key in threshold_config evidence",
            "TODO: the threshold's config key",
        ),
        _P("threshold", "the threshold's value", "0.5", number=True),
    ),
    ("Changes to the score are acknowledged by the product lead within 48 hours.", _CONSUMER),
    (
        _Term(
            "What the score means (calibration documentation) and its valid operating range.",
            "calibration",
            "calibration",
            "Calibration and operating range",
            _PROVIDER,
            (
                ("calibration_reference", "{calibration_reference}"),
                ("score", '"score"'),
                ("range_min", "{range_min}"),
                ("range_max", "{range_max}"),
                ("fail_share_outside", "0.01"),
            ),
        ),
        _Term(
            "The distribution shift that should trigger a product threshold review.",
            "shift",
            "distribution_shift",
            "Distribution shift trigger",
            _PROVIDER,
            (
                ("reference", "{reference}"),
                ("method", '"psi"'),
                ("warn", "0.1"),
                ("fail", "0.25"),
                ("triggers_review_of", '"threshold"'),
            ),
        ),
        _Term(
            "The product threshold: moving it needs the model team lead's co-signature.",
            "threshold",
            "decision_threshold",
            "Decision threshold",
            _CONSUMER,
            (
                ("name", "{threshold_name}"),
                ("value", "{threshold}"),
                ("calibrated_against", '"calibration"'),
                ("change_cosigner", "{provider_lead}"),
            ),
        ),
    ),
)

PRODUCT_COMPLIANCE = _seam(
    "product-compliance",
    "Product → compliance",
    (
        _P("assertion_id", "id of the first assertion", "assertion-1"),
        _P(
            "assertion",
            "what the system must keep doing",
            "TODO: a behavioural assertion, e.g. no protected attribute is a model feature",
        ),
        _P("test", "the automated test that covers it", "TODO: the test that covers it"),
        _P("min_pass_rate", "lowest acceptable weekly pass rate", "0.99", number=True),
    ),
    (
        "A changed assertion: the engineering side confirms test coverage within 48 hours.",
        _PROVIDER,
    ),
    (
        _Term(
            "A living compliance attestation: behavioural assertions the system must keep"
            " satisfying,\neach covered by an automated test, with a named compliance reviewer"
            " who receives a weekly\nsummary of pass/fail rates.",
            "attestation",
            "living_attestation",
            "Living compliance attestation",
            _PROVIDER,
            (
                ("reviewer", "{consumer_lead}"),
                ("engineering_lead", "{provider_lead}"),
                ("weekly_summary", "true"),
                ("window", '"P7D"'),
                ("min_pass_rate", "{min_pass_rate}"),
            ),
            "[[terms.assertions]]\nid = {assertion_id}\nstatement = {assertion}\ntest = {test}\n",
        ),
    ),
)

TEMPLATES: dict[str, SeamTemplate] = {
    t.kind: t for t in (DATA_MODEL, MODEL_PRODUCT, PRODUCT_COMPLIANCE)
}


class TemplateError(ValueError):
    pass


def _number(name: str, value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        raise TemplateError(f"--set {name}={value!r}: expected a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise TemplateError(f"--set {name}={value!r}: expected a finite number")
    return repr(number)


def render_template(kind: str, data: TemplateInput, schema_line: str = "") -> str:
    """The contract text for `kind` filled with `data`; TemplateError names a bad value."""
    template = TEMPLATES.get(kind)
    if template is None:
        raise TemplateError(f"no seam template {kind!r}; choose one of {', '.join(TEMPLATES)}")
    unknown = sorted(set(data.values) - {p.name for p in template.parameters})
    if unknown:
        names = ", ".join(p.name for p in template.parameters)
        raise TemplateError(
            f"the {kind} template has no parameter {', '.join(unknown)}; it takes: {names}"
        )
    values: dict[str, str] = {}
    for p in template.parameters:
        raw = data.values.get(p.name, p.default)
        if p.name == "groups":
            groups = [g.strip() for g in raw.split(",") if g.strip()] or [p.default]
            values[p.name] = "\n".join(
                f"{_toml_str(g)} = {{ min = 0.0, max = 1.0 }}" for g in groups
            )
        elif p.number and not raw.startswith("TODO"):
            values[p.name] = _number(p.name, raw)
        else:
            values[p.name] = _toml_str(raw)
    title = data.title or (
        f"{data.provider_name} → {data.consumer_name}"
        if data.provider_name and data.consumer_name
        else template.title
    )
    people = {
        "id": _toml_str(data.contract_id),
        "title": title.replace("\n", " "),
        "title_str": _toml_str(title),
        "kind": kind,
        "provider": _toml_str(data.provider),
        "consumer": _toml_str(data.consumer),
        "provider_lead": _toml_str(data.provider_lead),
        "consumer_lead": _toml_str(data.consumer_lead),
        "channel": _toml_str(f"email:{data.provider_lead_email}"),
        "schema_line": schema_line,
    }
    head = _HEADER.format(**people)
    if not schema_line:
        head = head.lstrip("\n")
    return head + template.body.format(**people, **values)
