"""Checking the registry chain: which registry version a revision trusts, and why.

The shape is python-tuf's trusted metadata set: the walk accepts one version at a time, each
step only on top of the version accepted before it, and each step returns a typed result
that says what it decided and why (``ChainStep``). ``resolve_registry`` then runs the steps
that turn the accepted statement into the registry in force:

1. ``registry_paths``: the statements and signatures under keys/registry/ (``RegistryPaths``);
2. ``walk_chain``: v1..vN, one ``ChainStep`` per version: read (the statement parses, names
   exactly this version, this repository and the digest of the version accepted before),
   then counted (``threshold`` distinct admins of the version before *and* of itself):
   ``complete``, ``pending`` (the last one, not yet signed enough) or ``broken``;
   the result is a ``ChainWalk``;
3. ``head_files``: the bytes the accepted statement signed, from this revision or from
   history (``HeadFiles``);
4. ``load_head``: those files agree with the statement (threshold, admins): a ``Registry``;
5. the keys earlier versions listed and the head no longer does (rotated out), and the notes
   on what changed since the head or waits for signatures (a ``RegistryState``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from workbench.signing import sshsig, verified
from workbench.signing.errors import SignatureFormatError, SigningError
from workbench.signing.registry_files import (
    ALLOWED_SIGNERS,
    MAX_SIGS_PER_STATEMENT,
    POLICY,
    REGISTRY_FILES,
    REVOKED_KEYS,
    Namespaces,
    RegisteredKey,
    RegistryError,
    RegistryPolicy,
    parse_allowed_signers,
    parse_key_lines,
    parse_policy,
    person_of,
    principal_of,
    registry_paths,
)
from workbench.signing.statement import (
    REGISTRY_PREDICATE,
    ChainLink,
    RegistryPredicate,
    Statement,
    StatementError,
    parse_statement,
    sha256_hex,
)


@dataclass
class AdminCount:
    signed: list[str]  # person ids, sorted
    threshold: int
    admins: list[str]
    bad: list[str] = field(default_factory=list)  # loud problems with individual signatures

    @property
    def met(self) -> bool:
        return len(self.signed) >= self.threshold

    @property
    def missing(self) -> list[str]:
        return sorted(set(self.admins) - set(self.signed))


def count_admin_signatures(
    statement: Statement,
    sigs: Mapping[str, bytes],
    admin_statement: Statement,
    namespace: str,
    revoked: frozenset[bytes] = frozenset(),
) -> AdminCount:
    """Distinct admins of ``admin_statement`` whose key signed ``statement``."""
    pred: RegistryPredicate = admin_statement.predicate
    admin_keys: dict[bytes, str] = {}
    for admin in pred.admins:
        admin_keys[sshsig.public_key_from_openssh(admin.key)] = person_of(admin.principal)
    data: dict[str, bytes] = {}  # the signed data per hash algorithm (sha512, sha256)
    signed: set[str] = set()
    bad: list[str] = []
    for name in sorted(sigs)[:MAX_SIGS_PER_STATEMENT]:
        try:
            parsed = sshsig.parse(sigs[name])
        except SignatureFormatError as exc:
            bad.append(f"{name}: {exc}")
            continue
        person = admin_keys.get(parsed.public_key)
        if person is None:
            continue  # not an admin of this version: does not count, is not an error here
        if parsed.public_key in revoked:
            bad.append(f"{name}: signed with revoked key {sshsig.fingerprint(parsed.public_key)}")
            continue
        if parsed.namespace != namespace:
            bad.append(f"{name}: namespace {parsed.namespace!r}, expected {namespace!r}")
            continue
        if parsed.hash_alg not in data:
            data[parsed.hash_alg] = sshsig.signed_data(namespace, parsed.hash_alg, statement.raw)
        try:
            verified.verify(
                parsed, data[parsed.hash_alg], Ed25519PublicKey.from_public_bytes(parsed.public_key)
            )
        except SigningError as exc:
            bad.append(f"{name}: {exc}")
            continue
        signed.add(person)
    admins = sorted(set(admin_keys.values()))
    return AdminCount(sorted(signed), pred.threshold, admins, bad)


@dataclass
class PendingRegistry:
    version: int
    statement: Statement
    old: AdminCount
    new: AdminCount
    problems: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """Admins who could still sign (old or new)."""
        out = set()
        if not self.old.met:
            out |= set(self.old.missing)
        if not self.new.met:
            out |= set(self.new.missing)
        return sorted(out)


@dataclass
class Registry:
    """A verified registry version with its files (the head the app trusts)."""

    version: int
    statement: Statement
    domain: str
    repository: str
    files: dict[str, bytes]
    keys: dict[bytes, RegisteredKey]
    revoked: frozenset[bytes]
    policy: RegistryPolicy
    retired: dict[bytes, str] = field(default_factory=dict)  # key -> person, from earlier versions

    @property
    def namespaces(self) -> Namespaces:
        return Namespaces.for_domain(self.domain)

    @property
    def admins(self) -> list[str]:
        return sorted(self.policy.admins)

    def lookup(self, raw: bytes) -> RegisteredKey | None:
        return self.keys.get(raw)

    def keys_of(self, person: str) -> list[RegisteredKey]:
        return sorted(
            (k for k in self.keys.values() if k.person == person), key=lambda k: k.openssh
        )

    def principal(self, person: str) -> str:
        return principal_of(person, self.domain)

    def link(self) -> ChainLink:
        return ChainLink(version=self.version, statementSha256=self.statement.sha256)


@dataclass
class RegistryState:
    """The outcome of walking the registry chain in one revision."""

    head: Registry | None
    root_sha256: str | None
    statements: dict[int, Statement] = field(default_factory=dict)
    pending: PendingRegistry | None = None
    problems: list[str] = field(default_factory=list)  # loud: the chain or files are wrong
    notes: list[str] = field(default_factory=list)  # quiet: e.g. live files not yet signed
    trust_root_pinned: bool = False
    complete: dict[int, Statement] = field(default_factory=dict)  # the signed chain v1..head

    @property
    def ok(self) -> bool:
        return self.head is not None and not self.problems


@dataclass(frozen=True)
class ChainStep:
    """One version's step of the walk: what was decided, and why.

    ``read``: the statement parses and links to the version accepted before (else
    ``broken``, with problems). ``complete``: signed by enough admins of the version before
    and of itself. ``pending``: not signed enough yet (the last version only; an earlier one
    breaks the chain). ``broken``: a problem stops the walk here."""

    version: int
    outcome: Literal["read", "complete", "pending", "broken"]
    statement: Statement | None = None
    old: AdminCount | None = None  # the version before's admins (v1: its own)
    new: AdminCount | None = None  # its own admins
    problems: tuple[str, ...] = ()


@dataclass
class ChainWalk:
    """The registry chain v1..vN of one revision, checked link by link (no files loaded)."""

    statements: dict[int, Statement] = field(default_factory=dict)  # parsed, pending included
    complete: dict[int, Statement] = field(default_factory=dict)  # signed by enough admins
    pending: PendingRegistry | None = None
    problems: list[str] = field(default_factory=list)
    root_sha256: str | None = None
    steps: list[ChainStep] = field(default_factory=list)  # one per version walked

    @property
    def accepted(self) -> Statement | None:
        return self.complete[max(self.complete)] if self.complete else None


# (statement sha256, admin statement sha256, signature names and bytes) -> the count.
AdminCountMemo = dict[tuple[str, str, frozenset[tuple[str, bytes]]], AdminCount]


def walk_chain(
    raw_statements: Mapping[int, bytes],
    sigs: Mapping[int, Mapping[str, bytes]],
    repository: str,
    domain: str,
    *,
    trust_root: str | None = None,
    memo: AdminCountMemo | None = None,
) -> ChainWalk:
    """Verify v1..vN: each statement, its link to the last complete version, its signatures.

    A version is complete when ``threshold`` distinct admins of the version before it and
    of itself signed it. The walk stops at the first version that is not complete (it is
    pending when it is the last one) or has a problem. ``memo`` keeps signature counts
    between walks of many trees of the same history.
    """
    ns = Namespaces.for_domain(domain)
    walk = ChainWalk()
    if not raw_statements:
        return walk
    top = max(raw_statements)
    accepted: Statement | None = None
    for version in range(1, top + 1):
        step = read_version(raw_statements.get(version), version, accepted, repository)
        if step.statement is None:
            walk.steps.append(step)
            walk.problems += step.problems
            break
        statement = step.statement
        walk.statements[version] = statement
        if version == 1:
            walk.root_sha256 = statement.sha256
            if trust_root is not None and trust_root != statement.sha256:
                walk.steps.append(step)
                walk.problems.append(
                    f"registry v1 has sha256 {statement.sha256}, not the pinned trust root "
                    f"{trust_root}: this is not the registry you trust"
                )
                return walk
        step = count_version(step, sigs.get(version, {}), accepted, ns.registry, memo)
        if step.outcome == "pending" and version != top:
            step = replace(
                step,
                outcome="broken",
                problems=(
                    f"registry v{version} is not signed by enough admins, but later versions exist",
                ),
            )
        walk.steps.append(step)
        if step.outcome == "complete":
            accepted = statement
            walk.complete[version] = statement
            continue
        if step.outcome == "pending":
            assert step.old is not None and step.new is not None
            walk.pending = PendingRegistry(version, statement, step.old, step.new)
        walk.problems += step.problems
        break
    return walk


def read_version(
    raw: bytes | None, version: int, accepted: Statement | None, repository: str
) -> ChainStep:
    """Step one of a version: its statement parses, names exactly this version and
    repository, the registry files as subjects, and the version accepted before."""
    if raw is None:
        return ChainStep(
            version, "broken", problems=(f"registry v{version} is missing: the chain is broken",)
        )
    try:
        statement = parse_statement(raw, REGISTRY_PREDICATE, subjects=len(REGISTRY_FILES))
    except StatementError as exc:
        return ChainStep(version, "broken", problems=(f"registry v{version}: {exc}",))
    pred: RegistryPredicate = statement.predicate
    problems = _link_problems(statement, pred, version, accepted, repository)
    if [n for n, _ in statement.subjects] != list(REGISTRY_FILES):
        problems.append(
            f"registry v{version}: subjects must be exactly {', '.join(REGISTRY_FILES)}"
        )
    if problems:
        return ChainStep(version, "broken", problems=tuple(problems))
    return ChainStep(version, "read", statement)


def count_version(
    step: ChainStep,
    sigs: Mapping[str, bytes],
    accepted: Statement | None,
    namespace: str,
    memo: AdminCountMemo | None = None,
) -> ChainStep:
    """Step two of a read version: distinct admins of the version accepted before (v1: of
    itself) and of itself who signed it. A bad signature breaks the chain, it is never
    skipped."""
    statement = step.statement
    assert statement is not None and step.outcome == "read"
    try:
        old = _count(statement, sigs, accepted or statement, namespace, memo)
        new = _count(statement, sigs, statement, namespace, memo)
    except SigningError as exc:  # e.g. an admin key in the statement that is not a key
        return replace(step, outcome="broken", problems=(f"registry v{step.version}: {exc}",))
    bad = sorted(set(old.bad + new.bad))
    if bad:
        return replace(
            step,
            outcome="broken",
            old=old,
            new=new,
            problems=tuple(f"registry v{step.version}: {b}" for b in bad),
        )
    outcome: Literal["complete", "pending"] = "complete" if old.met and new.met else "pending"
    return replace(step, outcome=outcome, old=old, new=new)


def _count(
    statement: Statement,
    sigs: Mapping[str, bytes],
    admin_statement: Statement,
    namespace: str,
    memo: AdminCountMemo | None,
) -> AdminCount:
    if memo is None:
        return count_admin_signatures(statement, sigs, admin_statement, namespace)
    key = (statement.sha256, admin_statement.sha256, frozenset(sigs.items()))
    if key not in memo:
        memo[key] = count_admin_signatures(statement, sigs, admin_statement, namespace)
    return memo[key]


def resolve_registry(
    files: Mapping[str, bytes],
    repository: str,
    domain: str,
    *,
    trust_root: str | None = None,
    find_blob: Callable[[str, str], bytes | None] | None = None,
) -> RegistryState:
    """Walk v1..vN, verify each step, and load the head's files (steps 1-5 of the module
    docstring).

    ``files`` are the governance files of one revision. The head's files are taken from
    there when their sha256 matches the head statement's subjects; otherwise (a registry
    change is pending) ``find_blob(path, sha256)`` fetches the signed bytes from history.
    """
    paths = registry_paths(files)
    state = RegistryState(head=None, root_sha256=None, trust_root_pinned=trust_root is not None)
    state.notes += [f"{p}: not a registry statement or signature name; ignored" for p in paths.odd]
    if not paths.statements:
        state.notes.append("no key registry yet: start one with `workbench registry init`")
        return state
    walk = walk_chain(paths.statements, paths.sigs, repository, domain, trust_root=trust_root)
    state.statements = walk.statements
    state.complete = walk.complete
    state.pending = walk.pending
    state.problems += walk.problems
    state.root_sha256 = walk.root_sha256
    accepted = walk.accepted
    if accepted is None:
        if not state.problems and state.pending is not None:
            state.notes.append(
                f"registry v{state.pending.version} waits for admin signatures: "
                + ", ".join(state.pending.missing)
            )
        return state
    signed = head_files(accepted, files, find_blob)
    if signed.missing:
        state.problems += [
            f"{p}: the bytes signed in registry v{accepted.predicate.registry.version} "
            "are not in this repository"
            for p in signed.missing
        ]
        return state
    try:
        state.head = load_head(accepted, signed.files, repository, domain)
    except RegistryError as exc:
        state.problems.append(f"registry v{accepted.predicate.registry.version}: {exc}")
        return state
    state.head.retired = _retired_keys(state, files, find_blob, domain)
    state.notes += _change_notes(state, files, signed.files)
    return state


def _change_notes(
    state: RegistryState, files: Mapping[str, bytes], signed: Mapping[str, bytes]
) -> list[str]:
    """What changed since the head and is not signed yet, or waits for admin signatures
    (a pending version that no longer matches the files is its problem)."""
    assert state.head is not None
    notes = []
    live_differs = [p for p in REGISTRY_FILES if files.get(p) != signed[p]]
    if live_differs and state.pending is None:
        notes.append(
            "changed since the signed registry v"
            f"{state.head.version} and not yet in a registry version: {', '.join(live_differs)}"
        )
    if state.pending is not None:
        pend = state.pending
        stale = [n for n, d in pend.statement.subjects if sha256_hex(files.get(n, b"")) != d]
        if stale:
            pend.problems.append(
                f"registry v{pend.version} does not match the current files: {', '.join(stale)}"
            )
        notes.append(
            f"registry v{pend.version} waits for admin signatures: {', '.join(pend.missing)}"
        )
    return notes


def _retired_keys(
    state: RegistryState,
    files: Mapping[str, bytes],
    find_blob: Callable[[str, str], bytes | None] | None,
    domain: str,
) -> dict[bytes, str]:
    """Keys of earlier accepted versions that the head no longer lists (rotated out)."""
    head = state.head
    assert head is not None
    out: dict[bytes, str] = {}
    for version, statement in state.statements.items():
        if version >= head.version:
            continue
        digest = dict(statement.subjects)[ALLOWED_SIGNERS]
        data, _missing = head_files(
            Statement(b"", "", REGISTRY_PREDICATE, ((ALLOWED_SIGNERS, digest),), None),
            files,
            find_blob,
        )
        if ALLOWED_SIGNERS not in data:
            continue
        try:
            keys = parse_allowed_signers(data[ALLOWED_SIGNERS], domain)
        except RegistryError:
            continue
        for raw, key in keys.items():
            if raw not in head.keys and raw not in head.revoked:
                out[raw] = key.person
    return out


def _link_problems(
    statement: Statement,
    pred: RegistryPredicate,
    version: int,
    accepted: Statement | None,
    repository: str,
) -> list[str]:
    problems = []
    if pred.registry.version != version:
        problems.append(
            f"registry v{version}: statement says version {pred.registry.version} (rollback or skip)"
        )
    if pred.repository != repository:
        problems.append(f"registry v{version}: made for repository {pred.repository}")
    if version == 1:
        if pred.registry.previous is not None:
            problems.append("registry v1 must not name a previous version")
    else:
        prev = pred.registry.previous
        if accepted is None or prev is None or prev.version != version - 1:
            problems.append(f"registry v{version} must name v{version - 1} as previous")
        elif prev.statementSha256 != accepted.sha256:
            problems.append(
                f"registry v{version} names a previous statement that is not v{version - 1} "
                "(the chain is forked or rewritten)"
            )
    return problems


class HeadFiles(NamedTuple):
    """The bytes a registry statement signed (``files``), and the subjects not found."""

    files: dict[str, bytes]
    missing: list[str]


def head_files(
    statement: Statement,
    files: Mapping[str, bytes],
    find_blob: Callable[[str, str], bytes | None] | None,
) -> HeadFiles:
    """Each subject's bytes: from ``files`` when the digest matches, else ``find_blob``."""
    out: dict[str, bytes] = {}
    missing = []
    for name, digest in statement.subjects:
        data = files.get(name)
        if data is None or sha256_hex(data) != digest:
            data = find_blob(name, digest) if find_blob else None
            if data is None or sha256_hex(data) != digest:
                missing.append(name)
                continue
        out[name] = data
    return HeadFiles(out, missing)


def load_head(
    statement: Statement, files: dict[str, bytes], repository: str, domain: str
) -> Registry:
    """The accepted statement's files as the registry in force, once they agree with it
    (threshold and admin keys)."""
    policy = parse_policy(files[POLICY])
    keys = parse_allowed_signers(files[ALLOWED_SIGNERS], domain)
    revoked = frozenset(raw for raw, _ in parse_key_lines(files[REVOKED_KEYS], REVOKED_KEYS))
    pred: RegistryPredicate = statement.predicate
    if pred.threshold != policy.registry_threshold:
        raise RegistryError("statement threshold differs from keys/policy.toml")
    registry_ns = Namespaces.for_domain(domain).registry
    listed = {(a.principal, a.key) for a in pred.admins}
    actual = {
        (k.principal, k.openssh)
        for k in keys.values()
        if k.person in policy.admins and registry_ns in k.namespaces
    }
    if listed != actual:
        raise RegistryError("statement admins differ from the admin keys in allowed_signers")
    return Registry(
        version=pred.registry.version,
        statement=statement,
        domain=domain,
        repository=repository,
        files=dict(files),
        keys=keys,
        revoked=revoked,
        policy=policy,
    )
