"""Classify a contract change: loosening, tightening/adding, or editorial.

* **loosening** a bound or SLA (a longer ``fail_after``, a wider range or group bound, a
  lower ``min_pass_rate``, a higher drift ``fail``, a moved decision threshold, a removed
  term or assertion, a new exemption, a slower page SLA, …): both leads must co-sign
  the new version again;
* **tightening or adding** (anything else that changes meaning: a shorter SLA, a new term,
  a new owner or contact): the other side acknowledges within the ack window;
* **editorial** (comments, whitespace, titles and descriptions): no action.

A change to a living-compliance assertion (added, removed, reworded, other test) also
needs the term's engineering lead to confirm, within the window, that automated test
coverage reflects it.

Pure: works on the term-level comparison from ``workbench.model.compare``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from workbench.model.compare import ContractComparison, FieldChange, TermChange
from workbench.model.duration import Duration, DurationError
from workbench.model.settings import Defaults

Effect = Literal["loosening", "tightening", "editorial"]
Classification = Literal["loosening", "tightening", "editorial"]

# +1: a larger value is looser; -1: a smaller value is looser; 0: any change loosens.
_DIRECTION: dict[tuple[str, str], int] = {
    ("*", "evidence_max_age"): +1,
    ("freshness", "fail_after"): +1,
    ("freshness", "warn_after"): +1,
    ("freshness", "percentile"): -1,
    ("representation", "min"): -1,
    ("representation", "max"): +1,
    ("representation", "warn_margin"): -1,
    ("representation", "attribute"): 0,
    ("lineage", "refresh_cadence"): +1,
    ("calibration", "range_min"): -1,
    ("calibration", "range_max"): +1,
    ("calibration", "fail_share_outside"): +1,
    ("calibration", "warn_share_outside"): +1,
    ("calibration", "score"): 0,
    ("distribution_shift", "warn"): +1,
    ("distribution_shift", "fail"): +1,
    ("distribution_shift", "reference"): 0,
    ("distribution_shift", "method"): 0,
    ("distribution_shift", "column"): 0,
    ("distribution_shift", "bins"): 0,
    ("distribution_shift", "binning"): 0,
    ("decision_threshold", "value"): 0,
    ("decision_threshold", "name"): 0,
    ("decision_threshold", "tolerance"): +1,
    ("decision_threshold", "change_cosigner"): 0,
    ("living_attestation", "min_pass_rate"): -1,
    ("living_attestation", "warn_pass_rate"): -1,
    ("living_attestation", "window"): +1,
    ("living_attestation", "weekly_summary"): -1,
    ("bounds", "min"): -1,
    ("bounds", "max"): +1,
    ("bounds", "fail_share_outside"): +1,
    ("bounds", "warn_share_outside"): +1,
    ("bounds", "view"): 0,
    ("bounds", "column"): 0,
    ("sql", "query"): 0,
    ("sql", "direction"): 0,
    ("sql", "views"): 0,
}
_EDITORIAL_LEAVES = {"title", "description"}
_CONTRACT_DIRECTION: dict[str, int] = {
    "escalation.ack_sla": +1,
    "change_protocol.ack_window": +1,
    "review.cadence": +1,
    "review.first_after": +1,
    "review.contact_check": +1,
}
_CONTRACT_DEFAULTS = {
    "change_protocol.ack_window": "ack_window",
    "review.cadence": "review_cadence",
    "review.first_after": "first_review_after",
    "review.contact_check": "contact_check",
}
_CONTRACT_EDITORIAL = {"title", "seam.description"}


@dataclass(frozen=True)
class ChangeItem:
    where: str
    old: Any
    new: Any
    effect: Effect
    reason: str
    assertion: bool = False

    def render(self) -> str:
        return f"{self.where}: {_show(self.old)} → {_show(self.new)} ({self.effect}: {self.reason})"

    def to_json(self) -> dict[str, object]:
        return {
            "where": self.where,
            "old": self.old,
            "new": self.new,
            "effect": self.effect,
            "reason": self.reason,
            "assertion": self.assertion,
        }


def _show(value: Any) -> str:
    return "—" if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return Duration.parse(value).total_seconds()
        except DurationError:
            return None
    return None


def _directional(old: Any, new: Any, direction: int, what: str) -> tuple[Effect, str]:
    if direction == 0:
        return "loosening", f"{what} changed; the other side's assumptions no longer hold"
    a, b = _number(old), _number(new)
    if a is None or b is None:
        if new is None:
            return "loosening", f"{what} removed"
        if old is None:
            return "tightening", f"{what} added"
        return "loosening", f"{what} changed in a way that cannot be ordered"
    looser = (b > a) if direction > 0 else (b < a)
    if looser:
        return "loosening", f"{what} {'raised' if b > a else 'lowered'}: a looser bound"
    return "tightening", f"{what} {'raised' if b > a else 'lowered'}: a tighter bound"


def _leaf(field: str) -> str:
    return field.rsplit(".", 1)[-1].split("[", 1)[0]


def classify_term(change: TermChange, sql_direction: str | None = None) -> list[ChangeItem]:
    where = f"term {change.term}"
    if change.change == "added":
        return [
            ChangeItem(
                where,
                None,
                change.kind,
                "tightening",
                "term added",
                assertion=change.kind == "living_attestation",
            )
        ]
    if change.change == "removed":
        return [
            ChangeItem(
                where,
                change.kind,
                None,
                "loosening",
                "term removed: its promise no longer binds",
                assertion=change.kind == "living_attestation",
            )
        ]
    items = []
    assertions: dict[str, list[FieldChange]] = {}
    for f in change.fields:
        if f.field.startswith("assertions["):
            assertions.setdefault(f.field.split("[", 1)[1].split("]", 1)[0], []).append(f)
        else:
            items.append(_classify_field(change, f, where, sql_direction))
    for assertion_id, fields in assertions.items():
        at = f"{where} assertion {assertion_id}"
        if all(f.old is None for f in fields):
            items.append(ChangeItem(at, None, "added", "tightening", "assertion added", True))
        elif all(f.new is None for f in fields):
            items.append(ChangeItem(at, "present", None, "loosening", "assertion removed", True))
        else:
            what = ", ".join(_leaf(f.field) for f in fields)
            olds = "; ".join(_show(f.old) for f in fields)
            news = "; ".join(_show(f.new) for f in fields)
            items.append(
                ChangeItem(at, olds, news, "tightening", f"assertion {what} changed", True)
            )
    return items


def _classify_field(
    change: TermChange, f: FieldChange, where: str, sql_direction: str | None
) -> ChangeItem:
    leaf = _leaf(f.field)
    at = f"{where} {f.field}"
    kind = change.kind
    if f.field == "kind":
        return ChangeItem(at, f.old, f.new, "loosening", "the term changed kind")
    if leaf in _EDITORIAL_LEAVES and not f.field.startswith(("groups", "included", "excluded")):
        return ChangeItem(at, f.old, f.new, "editorial", "wording only")
    if f.field.startswith("excluded["):
        if f.new is None:
            return ChangeItem(
                at, f.old, None, "loosening", "an excluded source is no longer excluded"
            )
        if f.old is None:
            return ChangeItem(at, None, f.new, "tightening", "a source is newly excluded")
        return ChangeItem(at, f.old, f.new, "tightening", "exclusion changed")
    if f.field.startswith("groups[") or f.field.startswith("groups."):
        if f.new is None:
            return ChangeItem(at, f.old, None, "loosening", "group bound removed")
        if f.old is None:
            return ChangeItem(at, None, f.new, "tightening", "group bound added")
    if kind == "sql" and leaf in ("fail", "warn"):
        direction = -1 if sql_direction == "at_least" else +1
        effect, reason = _directional(f.old, f.new, direction, leaf)
        return ChangeItem(at, f.old, f.new, effect, reason)
    direction = _DIRECTION.get((kind, leaf), _DIRECTION.get(("*", leaf)))
    if direction is not None:
        effect, reason = _directional(f.old, f.new, direction, leaf)
        return ChangeItem(at, f.old, f.new, effect, reason)
    if f.field.startswith("included[") and f.new is None and leaf == "source":
        return ChangeItem(at, f.old, None, "tightening", "an included source was dropped")
    if f.field.startswith("included[") and f.old is None and leaf == "source":
        return ChangeItem(at, None, f.new, "tightening", "a source was added")
    return ChangeItem(at, f.old, f.new, "tightening", "changed; the other side must know")


def classify_contract_field(f: FieldChange, defaults: Defaults) -> ChangeItem:
    old, new = f.old, f.new
    if f.field in _CONTRACT_DEFAULTS:
        fallback = str(getattr(defaults, _CONTRACT_DEFAULTS[f.field]))
        old = fallback if old is None else old
        new = fallback if new is None else new
        if old == new:
            return ChangeItem(f.field, f.old, f.new, "editorial", "same as the default")
    if f.field in _CONTRACT_EDITORIAL:
        return ChangeItem(f.field, old, new, "editorial", "wording only")
    if f.field in _CONTRACT_DIRECTION:
        effect, reason = _directional(old, new, _CONTRACT_DIRECTION[f.field], f.field)
        return ChangeItem(f.field, old, new, effect, reason)
    if f.field.startswith("exemptions"):
        if new is None and old is not None:
            return ChangeItem(f.field, old, new, "tightening", "exemption withdrawn")
        return ChangeItem(f.field, old, new, "loosening", "an exemption excuses a term")
    if (
        f.field == "cosigners"
        and isinstance(old, list)
        and isinstance(new, list)
        and set(new) < set(old)
    ):
        return ChangeItem(f.field, old, new, "loosening", "fewer co-signers")
    return ChangeItem(f.field, old, new, "tightening", "changed; the other side must know")


def classify(
    comparison: ContractComparison, defaults: Defaults, sql_directions: dict[str, str] | None = None
) -> tuple[Classification, list[ChangeItem]]:
    """The overall class (the strictest of its items) and every item with its reason."""
    sql_directions = sql_directions or {}
    items = [classify_contract_field(f, defaults) for f in comparison.contract_fields]
    for term in comparison.terms:
        items += classify_term(term, sql_directions.get(term.term))
    if not items:
        return "editorial", [
            ChangeItem("text", None, None, "editorial", "comments or whitespace only")
        ]
    if any(i.effect == "loosening" for i in items):
        return "loosening", items
    if any(i.effect == "tightening" for i in items):
        return "tightening", items
    return "editorial", items
