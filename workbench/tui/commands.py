"""The command palette (ctrl+p): namespaced commands such as "seam: open …", "view: people"."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


def workbench_commands(
    app: WorkbenchApp, *, per_seam: bool = True
) -> list[tuple[str, Callable[[], object], str]]:
    """(name, callback, help) for every command that makes sense right now; without
    `per_seam`, none of the commands each seam has (6,000 of them at 1,000 contracts)."""
    views = app.views if per_seam else []
    cmds: list[tuple[str, Callable[[], object], str]] = [
        ("view: seam map", partial(app.show_seams, "map-view"), "The layered map of seams"),
        ("view: seam list", partial(app.show_seams, "list-view"), "All seams as a filterable list"),
        ("view: contracts", app.action_show_contracts, "Search the contracts"),
        ("view: people", app.action_show_people, "The people registry"),
        ("view: keys", app.action_key_help, "Keys on this screen"),
        ("app: reload", app.action_reload, "Re-read the governance repo"),
        ("app: quit", app.action_quit, "Quit (unsaved edits are kept as drafts)"),
    ]
    for view in views:
        label = f"{view.provider} → {view.consumer}"
        cmds.append((f"seam: open {view.id}", partial(app.open_seam, view.id), label))
        if view.governed:
            cmds.append(
                (f"contract: edit {view.id}", partial(app.edit_contract, view.id), view.title)
            )
            cmds.append(
                (f"contract: history {view.id}", partial(app.show_history, view.id), view.title)
            )
            if not app.readonly:
                cmds.append(
                    (
                        f"contract: change person in {view.id}",
                        partial(app.change_person, view.id),
                        "Owner, term owner or escalation contact, from the registry",
                    )
                )
    # Authoring: new contracts, people and teams (the CLI's contract new, person, team).
    if not app.readonly:
        from workbench.tui.modals import authoring, new_contract

        cmds += [
            (
                "contract: new",
                partial(new_contract.new_contract, app),
                "A contract from a seam template; then the editor on the draft",
            ),
            ("people: add person", partial(authoring.add_person, app), "Add to the registry"),
            ("people: add team", partial(authoring.add_team, app), "A team and its lead"),
            ("people: team lead", partial(authoring.team_lead, app), "Name a team's new lead"),
            (
                "people: record a leave",
                partial(authoring.pick_and_leave, app),
                "Who leaves, when, and their successor",
            ),
        ]
        for view in views:
            if not view.governed:
                cmds.append(
                    (
                        f"contract: govern {view.id}",
                        partial(new_contract.new_contract, app, view),
                        f"A contract for {view.provider} → {view.consumer}: {view.exchange}",
                    )
                )
    # Working across clones (issue 15).
    cmds.append(("repo: sync", app.action_sync, "Fetch, verify what came in, merge, push"))
    cmds.append(
        ("repo: sync (dry run)", partial(app.action_sync, True), "What a sync would do; no change")
    )
    cmds.append(
        ("repo: resolve conflicts", app.action_show_conflicts, "Both sides; commit the merge")
    )
    # Signing, the key registry and audit bundles (issues 4 and 7).
    cmds.append(("view: key registry", app.show_registry, "Admins, keys, revocations, pending"))
    cmds.append(("bundle: verify", app.verify_bundle, "Verify an audit bundle file, offline"))
    if not app.readonly:
        cmds.append(("bundle: export", app.export_bundle, "Export a signed audit bundle"))
        for view in views:
            if view.governed:
                state = view.marks.get("signature", "")
                help_text = f"Co-sign {view.title}" + (f" (now {state})" if state else "")
                cmds.append(
                    (f"contract: sign {view.id}", partial(app.sign_contract, view.id), help_text)
                )
    # Evidence, violations and obligations (issues 5 and 6).
    cmds += [
        ("view: violations", app.action_show_violations, "Violation history; who was paged"),
        ("view: due", app.action_show_due, "Overdue reviews, pending acks, action items"),
        ("view: action items", app.show_actions, "Post-mortem action items, linted inline"),
        ("evidence: console", app.action_evidence_console, "Read-only SQL over the evidence"),
        ("gate: preview", app.show_gate, "Every gate check; who can fix each failure"),
        ("report: weekly", partial(app.show_report, "weekly"), "Weekly attestation summary"),
        ("report: boundary", partial(app.show_report, "boundary"), "Boundary-failure agenda"),
    ]
    if not app.readonly:
        from workbench.tui.notify_action import send_due

        cmds.append(
            (
                "notify: send what is due",
                partial(send_due, app),
                "Pages, escalations, notices, summaries and reminders: deliver and record",
            )
        )
    for view in views:
        if view.governed:
            cmds.append(
                (
                    f"violations: {view.id}",
                    partial(app.action_show_violations, view.id),
                    "Violations and term history of this seam",
                )
            )
        cmds.append(
            (
                f"seam: diagnose {view.id}",
                partial(app.show_diagnostic, view.id),
                "The six-question seam diagnostic",
            )
        )
    for name in sorted(app.available_themes):
        cmds.append((f"theme: {name}", partial(setattr, app, "theme", name), "Switch theme"))
    return cmds


class WorkbenchCommands(Provider):
    _commands: list[tuple[str, Callable[[], object], str]] | None = None

    async def discover(self) -> Hits:
        # What the palette lists before anything is typed: the per-seam commands are never
        # among it, and building them cost the palette's opening ~30 ms at 1,000 contracts.
        general = workbench_commands(cast("WorkbenchApp", self.app), per_seam=False)
        for name, callback, help_text in general:
            if name.startswith(("view:", "app:", "bundle:", "contract: new", "people:", "repo:")):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        if self._commands is None:
            # Once per opening of the palette (a provider lives as long as the palette), not
            # once per key typed into it.
            self._commands = workbench_commands(cast("WorkbenchApp", self.app))
        for name, callback, help_text in self._commands:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
