"""`workbench init` with two teams: a repo where the first signature works in one go.

Creates the repo (settings, the two teams and their leads), an Ed25519 key per lead in
OpenSSH format (what `ssh-keygen -t ed25519` writes: `ssh-keygen -y -f KEY` reads it), the
key registry v1 with both leads as admins (threshold 2) and as evaluation runners, signed by
both, the trust root pinned for this clone, and git's local config set to the first lead
(so `workbench` commands in the clone act as them, and `git verify-commit` works).

A lead whose key lives elsewhere gives `--pubkey PERSON=FILE.pub`: no key is made for them,
their public key is registered, and v1 waits for their `workbench registry sign`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from workbench.repo import layout
from workbench.service.errors import WorkbenchError


@dataclass(frozen=True)
class LeadSpec:
    team: str
    team_name: str
    person: str
    name: str
    email: str


@dataclass
class SetupResult:
    root: Path
    leads: list[LeadSpec]
    keys: dict[str, Path] = field(default_factory=dict)
    registered: dict[str, Path] = field(default_factory=dict)
    signed_by: list[str] = field(default_factory=list)
    root_sha256: str | None = None
    waiting_for: list[str] = field(default_factory=list)


def people_toml(leads: list[LeadSpec]) -> str:
    from workbench.governance.records import toml_str

    out = ["# Named people and their teams. Teams never own anything; their leads co-sign.\n"]
    for lead in leads:
        out.append(
            f"[[teams]]\nid = {toml_str(lead.team)}\nname = {toml_str(lead.team_name)}\n"
            f"lead = {toml_str(lead.person)}\n"
        )
    for lead in leads:
        out.append(
            f"[[people]]\nid = {toml_str(lead.person)}\nname = {toml_str(lead.name)}\n"
            f"email = {toml_str(lead.email)}\nteam = {toml_str(lead.team)}\n"
            f'role = {toml_str(lead.team_name + " lead")}\nauthority = "lead"\n'
        )
    return "\n".join(out)


def start_repo(
    target: Path,
    *,
    org: str,
    domain: str,
    leads: list[LeadSpec],
    passphrases: Mapping[str, str | None] | None = None,
    pubkeys: dict[str, Path] | None = None,
    now: datetime | None = None,
) -> SetupResult:
    """Create the repo, keys and signed registry v1. `passphrases[person]`: the passphrase
    for that lead's new key (absent or None: unencrypted), used again to sign v1."""
    from workbench.model.ids import checked_id
    from workbench.model.people import checked_text
    from workbench.repo.git import Author, GitRepo
    from workbench.service.init import (
        SETTINGS_TEMPLATE,
        _inside_quotes,
        _refuse_invalid,
        contract_schema_json,
    )
    from workbench.signing import keys as keymod

    pubkeys = dict(pubkeys or {})
    phrases = dict(passphrases or {})
    if len(leads) != 2:
        raise WorkbenchError("init takes two teams, each with its lead (--team ... twice)")
    checked_text("--org", org)
    for lead in leads:
        checked_id(lead.team, "team")
        checked_id(lead.person, "person")
        checked_text("--team-name", lead.team_name, name=True)
        checked_text("--lead-name", lead.name, name=True)
    if leads[0].team == leads[1].team:
        raise WorkbenchError(f"both teams are {leads[0].team!r}: a seam joins two teams")
    if leads[0].person == leads[1].person:
        raise WorkbenchError(f"{leads[0].person!r} cannot lead both teams")
    unknown = sorted(set(pubkeys) - {lead.person for lead in leads})
    if unknown:
        raise WorkbenchError(f"--pubkey {unknown[0]}: not one of the two leads")
    # The target first (init pasted twice: the repo is what exists, not only the keys),
    # then the keys; nothing is created when either is in the way.
    target = Path(target)
    if (target / layout.SETTINGS).exists():
        raise WorkbenchError(f"{target} already has a workbench.toml")
    if target.exists() and any(p.name != ".git" for p in target.iterdir()):
        raise WorkbenchError(f"{target} is not empty; init needs an empty or new directory")
    for lead in leads:
        path = keymod.default_key_path(lead.person)
        if lead.person not in pubkeys and (path.exists() or keymod.public_key_path(path).exists()):
            raise WorkbenchError(
                f"{path} exists already: register it with --pubkey {lead.person}="
                f"{keymod.public_key_path(path)} (init never overwrites a key)"
            )
    settings = SETTINGS_TEMPLATE.format(
        org=_inside_quotes(org), domain=_inside_quotes(domain), repo_id=str(uuid.uuid4())
    ).encode()
    files = {
        layout.SETTINGS: settings,
        layout.PEOPLE: people_toml(leads).encode(),
        layout.SCHEMA: contract_schema_json(),
        ".gitattributes": b"contracts/*.toml text eol=lf\n*.sig -text\n",
        "evidence/manifest.toml": b"# Registered evidence snapshots (workbench evidence add).\n",
    }
    when = now or datetime.now(UTC)
    _refuse_invalid(files, when.date(), "--org, --domain, --team-name, --lead-name, --lead-email")
    target.mkdir(parents=True, exist_ok=True)
    git = GitRepo(target) if (target / ".git").exists() else GitRepo.init(target)
    first = leads[0]
    git.commit_files(
        files,
        "Start the governance repo\n\nCreated by `workbench init`.",
        Author(first.name, first.email),
        when=when,
    )
    _configure_git(target.resolve(), first)
    result = SetupResult(target.resolve(), leads)
    for lead in leads:
        if lead.person in pubkeys:
            result.registered[lead.person] = pubkeys[lead.person]
            continue
        path = keymod.default_key_path(lead.person)
        keymod.generate_keypair(path, phrases.get(lead.person), f"{lead.person}@{domain}")
        result.keys[lead.person] = path
        result.registered[lead.person] = keymod.public_key_path(path)
    _start_registry(result, phrases, now)
    return result


def _configure_git(root: Path, first: LeadSpec) -> None:
    """The clone acts as the lead who ran init (git's user.email matches the registry), and
    `git verify-commit` / `git log --show-signature` work."""
    import pygit2

    config = pygit2.Repository(str(root)).config
    config["user.name"] = first.name
    config["user.email"] = first.email
    config["gpg.format"] = "ssh"
    config["gpg.ssh.allowedSignersFile"] = str(root / "keys" / "allowed_signers")


def _start_registry(
    result: SetupResult, phrases: dict[str, str | None], now: datetime | None
) -> None:
    from workbench.service.core import Workbench
    from workbench.service.signing import SigningService

    leads = [lead.person for lead in result.leads]
    first = leads[0]

    def service(actor: str) -> SigningService:
        return Workbench(result.root, now=now, actor=actor).signing

    svc = service(first)
    svc.registry.init(leads, 2)
    for person in leads:
        text = result.registered[person].read_text(encoding="utf-8").strip()
        service(first).registry.add_key(person, text)
    service(first).registry.set_runners(leads)
    for person in leads:
        if person not in result.keys:
            result.waiting_for.append(person)
            continue
        s = service(person)
        signer = s.keys.make_signer(
            person, key_path=result.keys[person], passphrase=phrases.get(person)
        )
        s.registry.sign(signer)
        result.signed_by.append(person)
    if not result.waiting_for:
        result.root_sha256 = service(first).pin_root()
