"""Term-level comparison of two versions of a contract (for diffs and change notices)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.model.contract import Contract

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class TermChange:
    term: str
    change: ChangeKind
    kind: str
    fields: list[FieldChange] = field(default_factory=list)

    def render(self) -> str:
        if self.change != "changed":
            return f"term {self.term} ({self.kind}) {self.change}"
        details = "; ".join(f"{f.field}: {_show(f.old)} → {_show(f.new)}" for f in self.fields)
        return f"term {self.term} ({self.kind}) changed: {details}"


@dataclass(frozen=True)
class ContractComparison:
    contract_fields: list[FieldChange]
    terms: list[TermChange]

    @property
    def empty(self) -> bool:
        return not self.contract_fields and not self.terms

    def lines(self) -> list[str]:
        out = [f"{f.field}: {_show(f.old)} → {_show(f.new)}" for f in self.contract_fields]
        out += [t.render() for t in self.terms]
        return out


def _show(value: Any) -> str:
    if value is None:
        return "—"
    return str(value)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        out = {}
        for i, value in enumerate(data):
            key = value.get("id") or value.get("source") or str(i)
            out.update(_flatten(value, f"{prefix}[{key}]"))
        return out
    return {prefix: data}


def _diff_fields(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    keys = [*old, *(k for k in new if k not in old)]
    if not all(isinstance(k, str) and k.isidentifier() for k in keys):
        return _diff_flat(_flatten(old), _flatten(new))
    # Consecutive versions differ in a few fields: flatten only the top-level values that
    # differ. Exact: every flattened key of a value is its top-level key or starts with it
    # and "." or "[", so when the top-level keys are identifiers no two of them can yield
    # the same flattened key; and a value skipped here flattens to the same entries on both
    # sides ("the same" also by repr: 1, 1.0 and True are equal but name a list item
    # differently).
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    for key in keys:
        if key in old and key in new and _same(old[key], new[key]):
            continue
        if key in old:
            a.update(_flatten(old[key], key))
        if key in new:
            b.update(_flatten(new[key], key))
    return _diff_flat(a, b)


def _same(x: Any, y: Any) -> bool:
    # A NaN inside a list or dict compares equal to itself (identity), unlike its entry
    # once flattened: any "nan" in the text takes the full path.
    text = repr(x)
    return "nan" not in text and text == repr(y) and bool(x == y)


def _diff_flat(a: dict[str, Any], b: dict[str, Any]) -> list[FieldChange]:
    return [
        FieldChange(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
    ]


def compare_contracts(old: Contract | None, new: Contract | None) -> ContractComparison:
    old_data = old.model_dump(mode="json", exclude={"terms"}) if old else {}
    new_data = new.model_dump(mode="json", exclude={"terms"}) if new else {}
    contract_fields = _diff_fields(old_data, new_data)
    old_terms = {t.id: t for t in old.terms} if old else {}
    new_terms = {t.id: t for t in new.terms} if new else {}
    terms: list[TermChange] = []
    for term_id in [*old_terms, *(t for t in new_terms if t not in old_terms)]:
        before, after = old_terms.get(term_id), new_terms.get(term_id)
        if before is None and after is not None:
            terms.append(TermChange(term_id, "added", after.kind))
        elif after is None and before is not None:
            terms.append(TermChange(term_id, "removed", before.kind))
        elif before is not None and after is not None and before != after:
            fields = _diff_fields(before.model_dump(mode="json"), after.model_dump(mode="json"))
            terms.append(TermChange(term_id, "changed", after.kind, fields))
    return ContractComparison(contract_fields, terms)
