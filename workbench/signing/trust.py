"""The trust root: which registry v1 a verifier trusts, and where it learnt that.

Registry v1 is signed by its own admins, so a repository can always vouch for itself: a
wholly replaced history (a new v1 by other admins) verifies perfectly. Only a digest of v1
obtained *out of band* tells the two apart. Sources, strongest first:

* ``--root SHA256`` on the command line (a CI job passes it from its own configuration);
* ``$WORKBENCH_TRUST_ROOT`` (a CI secret or variable, set outside the repository);
* the clone's pin, ``.git/handshake-workbench/trust-root`` (``workbench registry root
  --pin``: trust on first use, kept outside the tree, never cloned).

``keys/trust-root`` is a *committed* pin: it documents the root in the repository. It is a
statement, not a trust anchor: it must equal the repository's own v1 and the root given out
of band, and it never counts as pinned by itself (whoever can replace the history can
replace it too).

The root pins v1 only. A history force-pushed to drop a later registry version (the one that
revoked a key) still holds v1, and a verifier with no memory of its own (a fresh CI clone)
cannot tell it from the real one. The **registry seen** pin is that memory, given out of band
like the root: ``vN:SHA256``, the newest registry version the verifier knows was complete and
its statement's digest (``workbench registry head``). The chain must hold version N complete
with exactly that statement; as each version's statement names the one before it, this pins
v1..vN. Sources, strongest first: ``--registry-seen``, ``$WORKBENCH_REGISTRY_SEEN``, the
clone's ``.git/handshake-workbench/registry-seen`` (``workbench registry head --pin``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.signing.errors import SigningError

COMMITTED_PIN = "keys/trust-root"
ROOT_ENV = "WORKBENCH_TRUST_ROOT"
SOURCE_FLAG = "--root"
SOURCE_ENV = ROOT_ENV
SOURCE_CLONE = "clone pin"
_SHA256 = re.compile(r"[0-9a-f]{64}")
SEEN_ENV = "WORKBENCH_REGISTRY_SEEN"
SEEN_FLAG = "--registry-seen"
SEEN_FILE = "registry-seen"
_SEEN = re.compile(r"v?([1-9][0-9]{0,8}):([0-9a-f]{64})")


class TrustRootError(SigningError, ValueError):
    """A trust root that is not a sha256 (hex, 64 characters)."""


def check_root(text: str, what: str) -> str:
    value = text.strip().lower()
    if not _SHA256.fullmatch(value):
        raise TrustRootError(
            f"{what}: {text.strip()[:80]!r} is not a sha256 (64 hex characters); "
            "get it with `workbench registry root` on a clone you trust"
        )
    return value


def pinned_source(flag: str | None, clone_pin: Path) -> tuple[str | None, str | None]:
    """The trust root given out of band and where from, strongest first: ``--root``, the
    environment, the clone's pin (``clone_pin``). A malformed one is an error."""
    if flag:
        return check_root(flag, SOURCE_FLAG), SOURCE_FLAG
    env = os.environ.get(ROOT_ENV)
    if env and env.strip():
        return check_root(env, f"${ROOT_ENV}"), SOURCE_ENV
    if clone_pin.is_file():
        text = clone_pin.read_text(encoding="ascii", errors="replace")
        return check_root(text, str(clone_pin)), SOURCE_CLONE
    return None, None


@dataclass(frozen=True)
class SeenPin:
    """A registry version the verifier knows was complete, and where it learnt that."""

    version: int
    sha256: str  # of that version's statement
    source: str  # SEEN_FLAG | f"${SEEN_ENV}" | the clone's file

    def __str__(self) -> str:
        return f"v{self.version}:{self.sha256}"


def parse_seen(text: str, what: str) -> tuple[int, str]:
    """``vN:SHA256`` (or ``N:SHA256``) as (N, sha256); a malformed value is an error."""
    m = _SEEN.fullmatch(text.strip().lower())
    if m is None:
        raise TrustRootError(
            f"{what}: {text.strip()[:80]!r} is not a registry version and its statement's "
            "sha256 (vN:64 hex characters); get it with `workbench registry head` on a clone "
            "you trust"
        )
    return int(m.group(1)), m.group(2)


def seen_source(flag: str | None, clone_file: Path) -> SeenPin | None:
    """The registry-seen pin given out of band, strongest first: the flag, the environment,
    the clone's file. None when there is none; a malformed one is an error."""
    if flag:
        return SeenPin(*parse_seen(flag, SEEN_FLAG), SEEN_FLAG)
    env = os.environ.get(SEEN_ENV)
    if env and env.strip():
        return SeenPin(*parse_seen(env, f"${SEEN_ENV}"), f"${SEEN_ENV}")
    if clone_file.is_file():
        text = clone_file.read_text(encoding="ascii", errors="replace")
        return SeenPin(*parse_seen(text, str(clone_file)), str(clone_file))
    return None


@dataclass(frozen=True)
class TrustRoot:
    """How far the registry of one revision can be trusted, for every front end to show."""

    root_sha256: str | None  # this repository's registry v1
    pinned: str | None = None  # the root given out of band
    source: str | None = None  # SOURCE_FLAG | SOURCE_ENV | SOURCE_CLONE
    committed: str | None = None  # keys/trust-root of this revision, if any
    problems: tuple[str, ...] = ()  # the registry's problems (chain, history, pins)
    seen: SeenPin | None = None  # the registry version known complete, given out of band

    @property
    def is_pinned(self) -> bool:
        return self.pinned is not None

    @property
    def warning(self) -> str | None:
        """The loud line when nothing out of band says which registry to trust."""
        if self.is_pinned:
            return None
        if self.root_sha256 is None:
            return (
                "trust root NOT pinned: the repository has no registry v1, so no signature "
                "can be verified"
            )
        committed = (
            f"; {COMMITTED_PIN} is committed in the repository and vouches only for itself"
            if self.committed
            else ""
        )
        return (
            f"trust root NOT pinned: registry v1 {self.root_sha256} is trusted because the "
            f"repository says so{committed}. A wholly replaced history would pass. Pin it: "
            f"--root SHA256, ${ROOT_ENV}, or `workbench registry root --pin`"
        )

    def describe(self) -> str:
        """One line: pinned (and from where) or the warning; the registry-seen pin after it."""
        line = (
            f"trust root pinned ({self.source}): {self.pinned}"
            if self.is_pinned
            else self.warning or ""
        )
        if self.seen is not None:
            line += f"; registry v{self.seen.version} known complete ({self.seen.source})"
        return line


def committed_pin_problems(
    data: bytes | None, root_sha256: str | None, pinned: str | None, source: str | None
) -> list[str]:
    """``keys/trust-root`` must be one sha256 equal to v1 and to the out-of-band root."""
    if data is None:
        return []
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return [f"{COMMITTED_PIN}: not ASCII; it must hold one sha256 (64 hex characters)"]
    try:
        committed = check_root(text, COMMITTED_PIN)
    except TrustRootError as exc:
        return [str(exc)]
    problems = []
    if root_sha256 is not None and committed != root_sha256:
        problems.append(
            f"{COMMITTED_PIN} names {committed}, but this repository's registry v1 is "
            f"{root_sha256}: the committed pin does not match the registry"
        )
    if pinned is not None and committed != pinned:
        problems.append(
            f"{COMMITTED_PIN} names {committed}, not the trust root given by {source} "
            f"({pinned}): this is not the repository you trust"
        )
    return problems


def committed_pin(data: bytes | None) -> str | None:
    """The committed pin's value when it is a well-formed sha256, else None."""
    if data is None:
        return None
    try:
        return check_root(data.decode("ascii"), COMMITTED_PIN)
    except (UnicodeDecodeError, TrustRootError):
        return None
