"""Changes to the key registry (``wb.signing.registry``): start it, add, revoke and
rotate keys, name who may record runs and export bundles, propose a signed floor, and
sign a pending version as an admin.

Each change writes a *pending* registry version (``keys/registry/v<N>.statement.json``)
that counts once enough admins signed it (``sign``); the chain and its rules are
``workbench.signing.registry``'s. See docs/signing.md, "The key registry".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.service.errors import SigningRefused
from workbench.signing import keys as keymod
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing.errors import KeyLoadError

if TYPE_CHECKING:
    from workbench.model.settings import Policy
    from workbench.service.signing import SigningService

HEAD = "HEAD"


@dataclass
class RegistryChange:
    version: int | None  # the pending registry version written, None if not yet possible
    commit: str
    description: str
    note: str = ""


class RegistryEdits:
    def __init__(self, signing: SigningService) -> None:
        self._signing = signing
        self.wb = signing.wb

    def _edit(
        self,
        description: str,
        mutate: Callable[[reg.RegistrySource], None],
        *,
        init: reg.RegistryPolicy | None = None,
    ) -> RegistryChange:
        self.wb.require_writable("change the key registry")
        _state, settings = self._signing.settings_at("WORKTREE")
        files = self._signing.files_at(HEAD)
        worktree = self.wb.files("WORKTREE")
        dirty = sorted(
            p
            for p in set(files) | set(worktree)
            if p.startswith(reg.KEYS_DIR) and files.get(p) != worktree.get(p)
        )
        if dirty:
            from workbench.model.safe_text import line

            # File names are repo text: one visible line each, so a name cannot start a
            # line of its own in the refusal (the same rendering as the gate's note).
            raise SigningRefused(
                "uncommitted changes under keys/: "
                + ", ".join(line(p) for p in dirty)
                + "; commit or discard them"
            )
        domain, repository = settings.org.domain, settings.org.repository_id
        committed = files
        if init is not None:
            if reg.POLICY in files:
                raise SigningRefused(f"{reg.POLICY} exists already: the registry is started")
            files = {**files, reg.POLICY: reg.render_policy(init), reg.REVOKED_KEYS: b""}
        source = reg.RegistrySource.from_files(files, domain)
        mutate(source)
        rendered = source.render()
        new_files = {**files, **rendered}
        rs = self._signing.registry_state(HEAD, committed)
        if rs.problems:
            raise SigningRefused("the key registry is broken: " + "; ".join(rs.problems))
        changes: dict[str, bytes | None] = {
            p: (None if p.startswith(reg.PUB_DIR) and not data else data)
            for p, data in rendered.items()
            if committed.get(p) != data
        }
        head = rs.head
        version = head.version + 1 if head else 1
        if rs.pending is not None:
            # A pending version is amended until signed; its signatures are dropped.
            for name in sorted(self._sigs(committed, rs.pending.version)):
                changes[name] = None
        note = ""
        try:
            statement = reg.build_registry_statement(
                new_files, version, head.statement if head else None, repository, domain
            )
            changes[reg.statement_path(version)] = statement
        except reg.RegistryError as exc:
            if head is not None:
                raise
            version_written = None
            note = f"registry v1 is not written yet: {exc}"
        else:
            version_written = version
        if not changes:
            raise SigningRefused("nothing to change in the key registry")
        title = f"Registry v{version}: {description}" if version_written else description
        commit = self.wb.commit(changes, title + "\n")
        return RegistryChange(version_written, commit, description, note)

    def _sigs(self, files: dict[str, bytes], version: int) -> list[str]:
        prefix = f"{reg.REGISTRY_DIR}v{version}."
        return [p for p in files if p.startswith(prefix) and p.endswith(".sig")]

    def init(
        self, admins: list[str], threshold: int, approval: Policy | None = None
    ) -> RegistryChange:
        """Start the registry; `approval` says who must co-sign beyond the party leads."""
        from workbench.model.settings import Policy

        state = self.wb.state()
        for a in admins:
            reg.check_person_id(a)
            if a not in state.people:
                raise SigningRefused(f"admin {a!r} is not a person in keys/people.toml")
        approval = approval or Policy()
        if approval.compliance_team and approval.compliance_team not in state.teams:
            raise SigningRefused(f"compliance team {approval.compliance_team!r} is not a team")
        policy = reg.RegistryPolicy(
            admins=sorted(admins), registry_threshold=threshold, approval=approval
        )
        reg.parse_policy(reg.render_policy(policy))  # same checks as on load
        return self._edit(
            f"start the key registry (admins {', '.join(sorted(admins))}, threshold {threshold})",
            lambda _source: None,
            init=policy,
        )

    def set_runners(self, runners: list[str]) -> RegistryChange:
        """Name who may sign evaluation runs (keys/policy.toml [evaluation] runners): person
        ids or ``team:<team>``. A registry change: the admins sign it before it counts."""
        from workbench.model.settings import EvaluationPolicy

        state = self.wb.state()
        for entry in runners:
            team = entry.removeprefix("team:")
            if entry.startswith("team:"):
                if team not in state.teams:
                    raise SigningRefused(f"runner {entry!r}: no team {team!r} in keys/people.toml")
            elif entry not in state.people:
                raise SigningRefused(f"runner {entry!r} is not a person in keys/people.toml")

        def mutate(source: reg.RegistrySource) -> None:
            source.policy = source.policy.model_copy(
                update={"evaluation": EvaluationPolicy(runners=list(dict.fromkeys(runners)))}
            )
            reg.parse_policy(reg.render_policy(source.policy))  # the same checks as on load

        named = ", ".join(runners) or "nobody"
        return self._edit(f"evaluation runners: {named}", mutate)

    def propose(self, description: str) -> RegistryChange:
        """A registry version that carries the committed keys/people.toml (who leads which
        team) and nothing else new; the admins sign it like any registry change."""
        return self._edit(description, lambda _source: None)

    def add_key(self, person: str, public_key: str) -> RegistryChange:
        reg.check_person_id(person)
        if person not in self.wb.state().people:
            raise SigningRefused(f"{person!r} is not a person in keys/people.toml")
        raw = _public_key_arg(public_key)
        return self._edit(
            f"add key {sshsig.fingerprint(raw)} for {person}",
            lambda source: source.add_key(person, raw),
        )

    def set_exporters(self, entries: list[str]) -> RegistryChange:
        """Who may sign audit snapshots (keys/policy.toml [export]); a registry change, so
        it counts once the admins have signed the new version."""
        from pydantic import ValidationError

        from workbench.model.settings import ExportPolicy

        try:
            export = ExportPolicy(exporters=list(entries))
        except ValidationError as exc:
            raise SigningRefused(
                "exporters: " + "; ".join(e["msg"] for e in exc.errors(include_url=False))
            ) from None
        state = self.wb.state()
        for entry in export.exporters:
            team = entry.removeprefix("lead:")
            if entry.startswith("lead:") and team not in state.teams:
                raise SigningRefused(f"exporters: {team!r} is not a team in keys/people.toml")
            if (
                ":" not in entry
                and entry not in ("admins", "compliance-lead")
                and (entry not in state.people)
            ):
                raise SigningRefused(f"exporters: {entry!r} is not a person in keys/people.toml")

        def mutate(source: reg.RegistrySource) -> None:
            source.policy = source.policy.model_copy(update={"export": export})

        return self._edit("let " + ", ".join(export.exporters) + " sign audit snapshots", mutate)

    def revoke(self, ref: str) -> RegistryChange:
        """Revoke a key (``SHA256:...`` or a person with one key): all its signatures die."""
        holder: list[str] = []

        def mutate(source: reg.RegistrySource) -> None:
            raw = source.find_key(ref) if not ref.startswith("ssh-") else _public_key_arg(ref)
            holder.append(sshsig.fingerprint(raw))
            owner = source.remove_key(raw)
            source.revoked[raw] = owner

        return self._edit(f"revoke key {ref}", mutate)

    def rotate(self, person: str, public_key: str) -> RegistryChange:
        """Retire ``person``'s current key(s) (not revoked) and register the new one."""
        raw = _public_key_arg(public_key)

        def mutate(source: reg.RegistrySource) -> None:
            for old in source.keys_of(person):
                source.remove_key(old)
            source.add_key(person, raw)

        return self._edit(f"rotate {person}'s key to {sshsig.fingerprint(raw)}", mutate)

    def propose_floor(
        self,
        *,
        deny: list[str] | None = None,
        warn: list[str] | None = None,
        contracts: list[str] | None = None,
        limits: dict[str, str] | None = None,
        reset: bool = False,
    ) -> RegistryChange:
        """Propose a new signed floor (keys/policy.toml [gate], [limits]): a pending registry
        version, in force once the admins signed it. Lists replace the floor's; ``limits``
        set the named limits; ``reset`` starts from the built-in floor."""
        from workbench.model.policy_floor import GateFloor, Limits

        changed = {
            k: v
            for k, v in (("deny", deny), ("warn", warn), ("contracts", contracts))
            if v is not None
        }
        said = ["reset to the built-in floor"] if reset else []
        said += [f"{k} {', '.join(v) or 'none'}" for k, v in changed.items()]
        said += [f"{k} <= {v}" for k, v in (limits or {}).items()]

        def mutate(source: reg.RegistrySource) -> None:
            policy = source.policy
            gate = GateFloor() if reset else policy.gate
            current = Limits() if reset else policy.limits
            new_gate = _floor_table("gate", GateFloor, {**gate.model_dump(mode="json"), **changed})
            new_limits = _floor_table(
                "limits", Limits, {**current.model_dump(mode="json"), **(limits or {})}
            )
            if new_gate == policy.gate and new_limits == policy.limits:
                raise SigningRefused("the signed floor already says this: nothing to change")
            source.policy = policy.model_copy(update={"gate": new_gate, "limits": new_limits})

        return self._edit("signed floor: " + "; ".join(said), mutate)

    def sign(self, signer: keymod.Signer) -> RegistryChange:
        """An admin signs the pending registry version."""
        self.wb.require_writable("sign the key registry")
        actor = self.wb.actor()
        files = self._signing.files_at(HEAD)
        rs = self._signing.registry_state(HEAD, files)
        if rs.problems:
            raise SigningRefused("the key registry is broken: " + "; ".join(rs.problems))
        pending = rs.pending
        if pending is None:
            raise SigningRefused("no registry version is waiting for signatures")
        if pending.problems:
            raise SigningRefused("; ".join(pending.problems))
        pub = signer.public_key
        admin_keys = {
            sshsig.public_key_from_openssh(a.key): reg.person_of(a.principal)
            for st in filter(None, [pending.statement, rs.head.statement if rs.head else None])
            for a in st.predicate.admins
        }
        if admin_keys.get(pub) != actor.id:
            raise SigningRefused(
                f"key {sshsig.fingerprint(pub)} is not an admin key of {actor.id} in registry "
                f"v{pending.version} or the version before it"
            )
        _state, settings = self._signing.settings_at(HEAD)
        ns = reg.Namespaces.for_domain(settings.org.domain)
        armored = signer.sign(pending.statement.raw, ns.registry)
        path = reg.sig_path(pending.version, actor.id)
        commit = self.wb.commit(
            {path: armored}, f"Sign registry v{pending.version} as {actor.id}\n", signer=signer
        )
        return RegistryChange(pending.version, commit, f"signed by {actor.id}")


def _floor_table(table: str, model, data: dict[str, object]):  # type: ignore[no-untyped-def]
    """One table of the signed floor, validated like the file; a clear refusal otherwise."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = "".join(f" {p}" if i == 0 else f".{p}" for i, p in enumerate(err["loc"]))
        message = err["msg"].removeprefix("Value error, ")
        raise SigningRefused(f"{reg.POLICY} [{table}]{where}: {message}") from None


def _public_key_arg(value: str) -> bytes:
    """A public key given as a file path or as an ``ssh-ed25519 AAAA...`` line."""
    text = value.strip()
    if not text.startswith("ssh-"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise KeyLoadError(f"{value}: not a public key line and no such file")
        return keymod.load_public_key(path)
    return sshsig.public_key_from_openssh(text)
