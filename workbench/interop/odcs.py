"""Open Data Contract Standard v3 ⇄ a handshake contract: the mapping, and nothing else.

The ODCS document is read and validated by the `open-data-contract-standard` package (its
own pydantic model); this module only maps. Every mapping is listed in docs/contracts.md,
"ODCS import and export". Whatever is not mapped is returned as `unmapped` (the key path
and why), never dropped silently: the package itself ignores unknown keys below the top
level, so the raw document is walked too.

Import:
* `slaProperties` with `property` latency or freshness → a `freshness` term (`fail_after`
  from value + unit; `element` → `sources`).
* `schema[].properties[].logicalTypeOptions` minimum / maximum → a `bounds` term over
  the `custom` evidence view, column = physicalName or name.
* `schema[].quality[]` and `schema[].properties[].quality[]` of `type: sql` with a `query`
  and `mustBeLessOrEqualTo` / `mustBeGreaterOrEqualTo` → a read-only `sql` term.
* `team` members (or `team.members`) → people: `username` (an email's local part becomes
  the id), `name`, `role`, `dateOut` → `left`, `replacedByUsername` → `replaced_by`.
Export: freshness terms → `slaProperties` latency (hours); bounds terms → schema
properties' `logicalTypeOptions`; sql terms → schema-level `quality` of type sql; the
provider team's people → `team.members`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

UNITS = {
    "d": "D", "day": "D", "days": "D",
    "h": "H", "hr": "H", "hour": "H", "hours": "H",
    "m": "M", "min": "M", "minute": "M", "minutes": "M",
    "s": "S", "sec": "S", "second": "S", "seconds": "S",
}  # fmt: skip
FRESHNESS_PROPERTIES = {"latency", "freshness"}
BOUNDS_VIEW = "custom"


class OdcsError(ValueError):
    pass


@dataclass
class ImportedPerson:
    id: str
    name: str
    email: str
    role: str = ""
    left: date | None = None
    replaced_by: str | None = None


@dataclass
class OdcsImport:
    contract_id: str
    title: str
    terms: list[dict[str, Any]] = field(default_factory=list)
    people: list[ImportedPerson] = field(default_factory=list)
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    member_ids: dict[str, str] = field(default_factory=dict)  # username → person id
    used: set[str] = field(default_factory=set)  # key paths a mapping read


def parse(text: str):  # type: ignore[no-untyped-def]
    """The document as the package's model (OdcsError with the package's message)."""
    import yaml
    from open_data_contract_standard.model import OpenDataContractStandard
    from pydantic import ValidationError

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OdcsError(f"not YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise OdcsError("an ODCS document is a mapping at the top level")
    try:
        return raw, OpenDataContractStandard(**raw)
    except (ValidationError, TypeError) as exc:
        raise OdcsError(f"not a valid ODCS v3 document: {exc}") from None


def slug(value: str) -> str:
    text = re.sub(r"[^a-z0-9._-]+", "-", value.strip().lower()).strip("-._")
    return (text or "x")[:80]


def iso_duration(value: object, unit: str | None) -> str:
    code = UNITS.get((unit or "").strip().lower())
    if code is None or isinstance(value, bool) or not isinstance(value, int | float):
        raise OdcsError(f"value {value!r} unit {unit!r}")
    amount = int(value) if float(value).is_integer() else value
    return f"P{amount}D" if code == "D" else f"PT{amount}{code}"


def _walk(node: Any, path: str):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")
    elif node is not None:
        yield path


def map_import(
    raw: dict[str, Any], doc: Any, *, domain: str, contract_id: str | None
) -> OdcsImport:
    """Map a parsed ODCS document. `domain`: for the emails of members without one. The
    keys left unread are listed by `report_unmapped` once the parties are decided."""
    used: set[str] = {"apiVersion", "kind", "version", "id", "name", "status"}
    cid = slug(contract_id or doc.id or doc.name or "imported")
    out = OdcsImport(cid, doc.name or cid)
    owner = "{owner}"  # filled by the service with the provider team's lead

    for i, sla in enumerate(doc.slaProperties or []):
        where = f"slaProperties[{i}]"
        if (sla.property or "").lower() not in FRESHNESS_PROPERTIES:
            continue
        try:
            fail_after = iso_duration(sla.value, sla.unit)
        except OdcsError as exc:
            out.unmapped.append(f"{where}: {sla.property} with {exc}: not a duration")
            used.add(where)
            continue
        term: dict[str, Any] = {
            "id": slug(f"freshness-{sla.element}" if sla.element else "freshness"),
            "kind": "freshness",
            "title": sla.description or f"Freshness ({sla.property})",
            "owner": owner,
            "fail_after": fail_after,
        }
        if sla.element:
            term["sources"] = [sla.element]
        out.terms.append(term)
        out.mapped.append(f"{where} ({sla.property} {sla.value} {sla.unit}) → term {term['id']}")
        used.update(f"{where}.{k}" for k in ("property", "value", "unit", "element", "description"))

    for i, obj in enumerate(doc.schema_ or []):
        base = f"schema[{i}]"
        used.update({f"{base}.name", f"{base}.physicalName"})
        for j, prop in enumerate(obj.properties or []):
            where = f"{base}.properties[{j}]"
            used.update({f"{where}.name", f"{where}.physicalName"})
            options = prop.logicalTypeOptions or {}
            low, high = options.get("minimum"), options.get("maximum")
            column = prop.physicalName or prop.name
            if (low is not None or high is not None) and column:
                bad = [v for v in (low, high) if v is not None and not _number(v)]
                if bad:
                    out.unmapped.append(f"{where}.logicalTypeOptions: {bad[0]!r} is not a number")
                else:
                    term = {
                        "id": slug(f"{obj.name or 'data'}-{column}-bounds"),
                        "kind": "bounds",
                        "title": f"{obj.name or 'data'}.{column} within bounds",
                        "owner": owner,
                        "view": BOUNDS_VIEW,
                        "column": column,
                    }
                    if low is not None:
                        term["min"] = float(low)
                        used.add(f"{where}.logicalTypeOptions.minimum")
                    if high is not None:
                        term["max"] = float(high)
                        used.add(f"{where}.logicalTypeOptions.maximum")
                    out.terms.append(term)
                    out.mapped.append(f"{where}.logicalTypeOptions → term {term['id']}")
            for k, rule in enumerate(prop.quality or []):
                _quality(out, rule, f"{where}.quality[{k}]", obj.name, used, owner)
        for k, rule in enumerate(obj.quality or []):
            _quality(out, rule, f"{base}.quality[{k}]", obj.name, used, owner)

    members = doc.team.members if hasattr(doc.team, "members") else (doc.team or [])
    team_base = "team.members" if hasattr(doc.team, "members") else "team"
    ids: dict[str, str] = {}
    for member in members or []:
        if member.username:
            ids[member.username] = slug(member.username.split("@")[0])
    out.member_ids = dict(ids)
    for i, member in enumerate(members or []):
        where = f"{team_base}[{i}]"
        if not member.username:
            out.unmapped.append(f"{where}: a member without username is not a named person")
            continue
        pid = ids[member.username]
        email = member.username if "@" in member.username else f"{pid}@{domain}"
        left = None
        if member.dateOut:
            try:
                left = date.fromisoformat(str(member.dateOut)[:10])
                used.add(f"{where}.dateOut")
            except ValueError:
                out.unmapped.append(f"{where}.dateOut: {member.dateOut!r} is not a date")
        replaced = None
        if member.replacedByUsername:
            replaced = ids.get(
                member.replacedByUsername, slug(member.replacedByUsername.split("@")[0])
            )
            used.add(f"{where}.replacedByUsername")
        out.people.append(
            ImportedPerson(pid, member.name or pid, email, member.role or "", left, replaced)
        )
        used.update({f"{where}.username", f"{where}.name", f"{where}.role"})
        out.mapped.append(f"{where} ({member.username}) → person {pid}")
    used.update({"team.id", "team.name"})
    out.used = used
    return out


def report_unmapped(out: OdcsImport, raw: dict[str, Any], also_used: set[str]) -> None:
    """Every key path of the document no mapping read (`out.used`, `also_used`: the
    parties' keys), as `unmapped`: never dropped silently."""
    used = out.used | also_used
    for path in _walk(raw, ""):
        if path in used or any(path.startswith(u + ".") or path.startswith(u + "[") for u in used):
            continue
        out.unmapped.append(f"{path}: no handshake-contract field for it")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _quality(
    out: OdcsImport, rule: Any, where: str, obj: str | None, used: set[str], owner: str
) -> None:
    if (rule.type or "").lower() != "sql" or not rule.query:
        return
    if rule.mustBeLessOrEqualTo is not None:
        direction, fail, key = "at_most", rule.mustBeLessOrEqualTo, "mustBeLessOrEqualTo"
    elif rule.mustBeGreaterOrEqualTo is not None:
        direction, fail, key = "at_least", rule.mustBeGreaterOrEqualTo, "mustBeGreaterOrEqualTo"
    else:
        out.unmapped.append(
            f"{where}: an sql rule is mapped only with mustBeLessOrEqualTo or "
            "mustBeGreaterOrEqualTo"
        )
        used.add(where)
        return
    term = {
        "id": slug(rule.name or rule.id or f"{obj or 'data'}-sql-{len(out.terms) + 1}"),
        "kind": "sql",
        "title": rule.description or rule.name or "SQL quality rule",
        "owner": owner,
        "query": rule.query,
        "views": [BOUNDS_VIEW],
        "direction": direction,
        "fail": float(fail),
    }
    out.terms.append(term)
    out.mapped.append(f"{where} (sql) → read-only term {term['id']}")
    used.update(f"{where}.{k}" for k in ("type", "query", key, "name", "id", "description"))


def map_export(contract: Any, people: list[Any], today: date) -> tuple[dict[str, Any], list[str]]:
    """An ODCS v3 document (as a dict) for a contract's data-side terms, and what was left
    out (terms with no ODCS counterpart)."""
    left_out: list[str] = []
    sla: list[dict[str, Any]] = []
    properties: dict[str, list[dict[str, Any]]] = {}
    quality: list[dict[str, Any]] = []
    for term in contract.terms:
        if term.kind == "freshness":
            hours = (
                term.fail_after.total_seconds() / 3600
                if hasattr(term.fail_after, "total_seconds")
                else None
            )
            if hours is None:
                left_out.append(f"term {term.id}: fail_after {term.fail_after} has no fixed length")
                continue
            entry: dict[str, Any] = {"property": "latency", "value": hours, "unit": "h"}
            if term.sources:
                entry["element"] = term.sources[0]
            sla.append(entry)
        elif term.kind == "bounds":
            options = {
                k: v for k, v in (("minimum", term.min), ("maximum", term.max)) if v is not None
            }
            properties.setdefault(term.view, []).append(
                {"name": term.column, "logicalType": "number", "logicalTypeOptions": options}
            )
        elif term.kind == "sql":
            rule: dict[str, Any] = {"type": "sql", "name": term.id, "query": term.query}
            rule[
                "mustBeLessOrEqualTo" if term.direction == "at_most" else "mustBeGreaterOrEqualTo"
            ] = term.fail
            if term.title:
                rule["description"] = term.title
            quality.append(rule)
        else:
            left_out.append(f"term {term.id} ({term.kind}): no ODCS counterpart")
    schema = [{"name": view, "properties": props} for view, props in properties.items()]
    if quality:
        if not schema:
            schema.append({"name": BOUNDS_VIEW})
        schema[0]["quality"] = quality
    members = []
    for person in people:
        member: dict[str, Any] = {"username": person.email, "name": person.name}
        if person.role:
            member["role"] = person.role
        if person.left:
            member["dateOut"] = person.left.isoformat()
        if person.replaced_by:
            member["replacedByUsername"] = next(
                (p.email for p in people if p.id == person.replaced_by), person.replaced_by
            )
        members.append(member)
    data: dict[str, Any] = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": contract.id,
        "name": contract.title,
        "version": "1.0.0",
        "status": contract.status.value,
        "team": {"name": contract.seam.provider, "members": members},
    }
    if schema:
        data["schema"] = schema
    if sla:
        data["slaProperties"] = sla
    return data, left_out
