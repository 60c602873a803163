"""The seam map: teams, the seams between them, and each seam's state at `now`.

Pure function of the governance state. Later rooms (signatures, reviews, violations,
notices, diagnostics) add their verdicts through `SeamView.marks`.
"""

from __future__ import annotations

from datetime import date

from workbench.governance.seam_view import MapSnapshot, SeamView
from workbench.model.conflict import CONFLICT_CODE, side_text
from workbench.model.contract import SeamKind
from workbench.model.state import GovernanceState, parse_contract

__all__ = ["MapSnapshot", "SeamView", "map_snapshot", "seam_views", "team_layers"]

# The order in which the chain reads left to right: data → model → product → compliance.
KIND_ORDER = {
    SeamKind.data_model: 0,
    SeamKind.model_product: 1,
    SeamKind.product_compliance: 2,
    SeamKind.custom: 3,
}


def seam_views(state: GovernanceState, today: date) -> list[SeamView]:
    views: list[SeamView] = []
    governed_pairs: set[tuple[str, str]] = set()
    for contract_id, doc in sorted(state.contracts.items()):
        c = doc.contract
        governed_pairs.add((c.seam.provider, c.seam.consumer))
        owner = state.people.get(c.owner)
        departed = sorted(
            {
                value
                for _where, value in c.person_refs()
                if (p := state.people.get(value)) is not None and p.has_left(today)
            }
        )
        views.append(
            SeamView(
                id=contract_id,
                provider=c.seam.provider,
                consumer=c.seam.consumer,
                kind=c.seam.kind.value,
                title=c.title,
                governed=True,
                owner=c.owner if owner else None,
                owner_name=owner.name if owner else None,
                provider_lead=c.parties.provider_lead,
                consumer_lead=c.parties.consumer_lead,
                status=c.status.value,
                problems=[p.message for p in state.problems_for(doc.path) if p.severity == "error"],
                departed=departed,
            )
        )
    # Files that failed to parse still are seams someone meant to govern.
    for path in sorted(state.documents):
        if path.startswith("contracts/") and path.endswith(".toml"):
            cid = path.removeprefix("contracts/").removesuffix(".toml")
            if cid not in state.contracts:
                views.append(_unparsed_view(state, path, cid))
    if state.settings is not None:
        for ex in state.settings.exchanges:
            if (ex.provider, ex.consumer) not in governed_pairs:
                views.append(
                    SeamView(
                        id=f"{ex.provider}->{ex.consumer}",
                        provider=ex.provider,
                        consumer=ex.consumer,
                        kind="custom",
                        title=ex.what,
                        governed=False,
                        exchange=ex.what,
                    )
                )
    return views


def _unparsed_view(state: GovernanceState, path: str, cid: str) -> SeamView:
    """A contract file that does not parse. A merge conflict is named as one, and drawn
    where our side of the merge puts the seam (both sides usually agree on the teams)."""
    errors = [p for p in state.problems_for(path) if p.severity == "error"]
    conflicts = [p for p in errors if p.code == CONFLICT_CODE]
    view = SeamView(
        id=cid,
        provider="?",
        consumer="?",
        kind="custom",
        title=cid,
        governed=True,
        problems=[p.message for p in errors],
        conflict=bool(conflicts),
    )
    if not conflicts:
        return view
    if len(conflicts) > 1:
        view.problems = [conflicts[0].message, f"{len(conflicts) - 1} more conflicted region(s)"]
    doc = state.documents.get(path)
    ours = parse_contract(path, side_text(doc.text, "ours").encode()) if doc and doc.text else None
    if ours is not None:
        view.provider, view.consumer = ours.seam.provider, ours.seam.consumer
        view.kind, view.title = ours.seam.kind.value, ours.title
        owner = state.people.get(ours.owner)
        if owner is not None:
            view.owner, view.owner_name = ours.owner, owner.name
        view.provider_lead = ours.parties.provider_lead
        view.consumer_lead = ours.parties.consumer_lead
    return view


def team_layers(state: GovernanceState, views: list[SeamView]) -> list[list[str]]:
    """Teams in layers so that every seam points left to right (longest-path layering)."""
    teams = set(state.teams) | {v.provider for v in views} | {v.consumer for v in views}
    teams.discard("?")
    edges = {(v.provider, v.consumer) for v in views if v.provider in teams and v.consumer in teams}
    depth = dict.fromkeys(teams, 0)
    # Bellman-Ford style relaxation; bounded by the team count so cycles cannot loop forever.
    for _ in range(len(teams)):
        changed = False
        for a, b in edges:
            if depth[b] < depth[a] + 1 and depth[a] + 1 < len(teams):
                depth[b] = depth[a] + 1
                changed = True
        if not changed:
            break
    connected = {t for edge in edges for t in edge}
    layers: dict[int, list[str]] = {}
    for team in sorted(teams):
        if team in connected:
            layers.setdefault(depth[team], []).append(team)
    out = [layers[k] for k in sorted(layers)]
    isolated = sorted(teams - connected)
    if isolated:
        out.append(isolated)
    return out


def map_snapshot(state: GovernanceState, views: list[SeamView]) -> MapSnapshot:
    """What the seam map draws, as plain data (see `MapSnapshot`)."""
    return MapSnapshot(
        org=state.settings.org.name if state.settings else "?",
        team_names={t.id: t.name for t in state.teams.values()},
        team_leads={
            t.id: state.people[t.lead].name for t in state.teams.values() if t.lead in state.people
        },
        person_names={p.id: p.name for p in state.people.values()},
        layers=team_layers(state, views),
        views=views,
    )
