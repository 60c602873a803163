"""People's signing keys (``wb.signing.keys``): making one, finding one, turning one into
a signer (a key file with its passphrase, or ssh-agent), and the signer of a commit.

Never prompts: a front end that needs a passphrase asks for it and passes it in (the app
after ``PassphraseRequired``), or sets $WORKBENCH_KEY_PASSPHRASE. See docs/signing.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.model.errors import WorkbenchError
from workbench.repo import layout
from workbench.signing import keys as keymod
from workbench.signing import registry as reg
from workbench.signing import sshsig
from workbench.signing.errors import KeyLoadError

if TYPE_CHECKING:
    from workbench.model.people import Person
    from workbench.service.signing import SigningService

PASSPHRASE_ENV = "WORKBENCH_KEY_PASSPHRASE"
DEMO_KEYS = "demo-keys"


@dataclass
class KeygenResult:
    path: Path
    public_key: str
    fingerprint: str


def local_dir(root: Path) -> Path:
    """``.git/handshake-workbench``: per-clone state that is never committed."""
    return Path(root) / layout.LOCAL_DIR


def key_path_for(root: Path, person: str) -> Path | None:
    """The person's private key: the demo's repo-local key, else the config-dir key."""
    candidates = [
        local_dir(root) / DEMO_KEYS / f"{person}_ed25519",
        keymod.default_key_path(person),
    ]
    return next((p for p in candidates if p.is_file()), None)


class Keys:
    def __init__(self, signing: SigningService) -> None:
        self._signing = signing
        self.wb = signing.wb

    def keygen(self, person: str, passphrase: str | None, path: Path | None = None) -> KeygenResult:
        reg.check_person_id(person)
        state = self.wb.state()
        if person not in state.people:
            raise WorkbenchError(f"{person!r} is not a person in keys/people.toml")
        settings = state.settings
        domain = settings.org.domain if settings else "example.org"
        path = path or keymod.default_key_path(person)
        keymod.generate_keypair(path, passphrase, f"{person}@{domain}")
        public = keymod.load_public_key(keymod.public_key_path(path))
        return KeygenResult(path, sshsig.openssh_public_key(public), sshsig.fingerprint(public))

    def key_path(self, person: str) -> Path | None:
        return key_path_for(self.wb.root, person)

    def make_signer(
        self,
        person: str,
        *,
        key_path: Path | None = None,
        agent: bool = False,
        passphrase: str | None = None,
    ) -> keymod.Signer:
        """A signer for ``person``: ssh-agent, or their key file with ``passphrase``.

        Without ``passphrase``, $WORKBENCH_KEY_PASSPHRASE is used; an encrypted key with
        neither raises ``PassphraseRequired`` (the TUI then asks for one).
        """
        if agent:
            signer: keymod.Signer = keymod.AgentSigner(self._agent_public_key(person, key_path))
        else:
            path = Path(key_path) if key_path else self.key_path(person)
            if path is None:
                raise KeyLoadError(
                    f"no key for {person}: create one with `workbench keygen --person {person}` "
                    f"(looked in {keymod.default_key_path(person)})"
                )
            signer = keymod.FileSigner(path, passphrase or os.environ.get(PASSPHRASE_ENV) or None)
        signer.person = person
        return signer

    def _agent_public_key(self, person: str, key_path: Path | None) -> Path:
        """The public half of the key ssh-agent should sign with.

        Given a path: that .pub, or the .pub beside that private key. Otherwise the .pub
        beside the person's own key file, else the key the verified registry lists for them
        (a hardware or agent-only key has no private file on disk); with several, the one
        the agent holds.
        """
        if key_path is not None:
            path = Path(key_path)
            return path if path.name.endswith(".pub") else keymod.public_key_path(path)
        local = self.key_path(person)
        if local is not None and keymod.public_key_path(local).is_file():
            return keymod.public_key_path(local)
        head = self._signing.registry_state().head
        registered = head.keys_of(person) if head is not None else []
        if not registered:
            raise KeyLoadError(
                f"no key for {person}: none in the key registry and no key file "
                f"(looked in {keymod.default_key_path(person)}); give --key PATH.pub"
            )
        if len(registered) > 1:
            held = set(keymod.agent_public_keys())
            registered = [k for k in registered if k.raw in held] or registered
        chosen = local_dir(self.wb.root) / "agent" / f"{person}.pub"
        from workbench.repo.atomic import atomic_write

        atomic_write(chosen, (registered[0].openssh + "\n").encode("ascii"), mode=0o600)
        return chosen

    def commit_signer(
        self, actor: Person, signer: keymod.Signer | None = None
    ) -> Callable[[bytes], str] | None:
        """How to SSH-sign a commit by ``actor`` (None: the commit is unsigned).

        ``signer`` when it is the actor's (the app's unlocked key; a signed record's
        signer); else the actor's key file (repo-local demo key, then the user's config
        dir), unencrypted or decrypted with $WORKBENCH_KEY_PASSPHRASE. Never prompts.
        """
        if signer is not None and signer.person in (None, actor.id):
            chosen = signer
            return lambda buffer: keymod.commit_signature(chosen, buffer)
        path = self.key_path(actor.id)
        if path is None:
            return None
        try:
            file_signer = keymod.FileSigner(path, os.environ.get(PASSPHRASE_ENV) or None)
        except KeyLoadError:
            return None
        return lambda buffer: keymod.commit_signature(file_signer, buffer)
