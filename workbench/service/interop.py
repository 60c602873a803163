"""ODCS import and export: read the file, map it (workbench.interop.odcs), validate the
result against the whole repo, and commit it as the acting person in one commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.repo import layout
from workbench.service.authoring import PEOPLE, AuthoringResult, _append
from workbench.service.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.service.core import Workbench


@dataclass
class ImportResult(AuthoringResult):
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def import_odcs(
    wb: Workbench,
    file: Path,
    *,
    provider: str | None = None,
    consumer: str | None = None,
    contract_id: str | None = None,
) -> ImportResult:
    """Without `provider`/`consumer`, the teams come from the document and the registry
    (workbench.interop.odcs_parties); an undecidable side is an error naming the flag."""
    import tomlkit

    from workbench.interop.odcs import OdcsError, map_import, parse, report_unmapped
    from workbench.interop.odcs_parties import PartiesError, infer_parties
    from workbench.model.ids import checked_id

    state = wb.state()
    authoring = wb.authoring
    for flag, team in (("--provider", provider), ("--consumer", consumer)):
        if team is not None:
            authoring._require_team(state, team, flag)
    try:
        raw, doc = parse(Path(file).read_text(encoding="utf-8"))
        domain = state.settings.org.domain if state.settings else "example.org"
        mapped = map_import(raw, doc, domain=domain, contract_id=contract_id)
        parties = infer_parties(
            raw, doc, state, provider=provider, consumer=consumer, member_ids=mapped.member_ids
        )
        report_unmapped(mapped, raw, parties.used)
    except (OdcsError, PartiesError) as exc:
        raise WorkbenchError(f"{file}: {exc}") from None
    except UnicodeDecodeError:
        raise WorkbenchError(f"{file}: not UTF-8 text") from None
    except OSError as exc:
        raise WorkbenchError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    provider, consumer = parties.provider, parties.consumer
    checked_id(mapped.contract_id)
    path = layout.contract_path(mapped.contract_id)
    if path in wb.files():
        raise WorkbenchError(f"{path} exists already; give another id with --id")
    p_lead = state.teams[provider].lead
    c_lead = state.teams[consumer].lead
    # People first: members not yet in the registry join the provider team.
    people_doc = tomlkit.parse(authoring._people_text())
    added = []
    # A member already in the registry (same email, or same id) is that person, not a new one.
    by_email = {p.email.lower(): p.id for p in state.people.values()}
    same = {person.id: by_email.get(person.email.lower(), person.id) for person in mapped.people}
    for person in mapped.people:
        if same[person.id] in state.people:
            mapped.mapped.append(f"person {person.id} is {same[person.id]} (already registered)")
            continue
        if person.replaced_by:
            person.replaced_by = same.get(person.replaced_by, person.replaced_by)
        entry: dict[str, Any] = {
            "id": person.id,
            "name": person.name,
            "email": person.email,
            "team": provider,
        }
        if person.role:
            entry["role"] = person.role
        if person.left:
            entry["left"] = person.left
        if person.replaced_by:
            entry["replaced_by"] = person.replaced_by
        _append(people_doc, "people", entry)
        added.append(person.id)
    terms = [{**t, "owner": p_lead} for t in mapped.terms]
    contract: dict[str, Any] = {
        "id": mapped.contract_id,
        "title": mapped.title,
        "status": "draft",
        "owner": p_lead,
        "seam": {"provider": provider, "consumer": consumer, "kind": "data-model"},
        "parties": {"provider_lead": p_lead, "consumer_lead": c_lead},
        "escalation": {
            "primary": p_lead,
            "backup": c_lead,
            "channel": f"email:{state.people[p_lead].email}",
            "ack_sla": "PT1H",
        },
        "change_protocol": {"notify": [c_lead], "ack_window": "PT48H"},
        "terms": terms,
    }
    text = (
        f"{layout.SCHEMA_LINE}\n# Imported from {Path(file).name} (Open Data Contract Standard)"
        " by `workbench import odcs`.\n" + tomlkit.dumps(contract)
    )
    from workbench.model.state import load_state
    from workbench.model.text import normalise
    from workbench.service.errors import InvalidEdit

    changes = {PEOPLE: normalise(tomlkit.dumps(people_doc)).encode(), path: text.encode()}
    after = load_state({**wb.files(), **changes}, wb.now.date(), floor=wb.policy_floor())
    errors = [p for p in after.errors if p.file in changes]
    if errors:
        raise InvalidEdit("the imported contract would not validate; nothing was committed", errors)
    commit = wb.commit(
        changes if added else {path: changes[path]},
        f"Import {mapped.contract_id} from {Path(file).name} (ODCS)\n\n"
        + ("People: " + ", ".join(added) + "\n" if added else ""),
    )
    result = ImportResult(f"imported {path}", commit, path)
    result.mapped = mapped.mapped
    result.unmapped = mapped.unmapped
    result.notes.extend(parties.found)
    if added:
        result.notes.append(f"added to team {provider}: {', '.join(added)}")
    return result


def export_odcs(wb: Workbench, contract_id: str) -> tuple[str, list[str]]:
    """The contract's data-side terms as ODCS v3 YAML (validated by the ODCS package), and
    what has no ODCS counterpart."""
    from open_data_contract_standard.model import OpenDataContractStandard

    from workbench.interop.odcs import map_export

    state = wb.state()
    contract = wb.contract(contract_id).contract
    people = [p for p in state.people.values() if p.team == contract.seam.provider]
    data, left_out = map_export(contract, people, wb.now.date())
    document = OpenDataContractStandard(**data)  # the package's own validation
    return document.to_yaml(), left_out
