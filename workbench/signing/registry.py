"""The key registry: who may sign what, itself versioned, chained and signed.

Files in the governance repo (all written deterministically):

* ``keys/pub/<person-id>.pub`` - the source: each person's Ed25519 public key(s);
* ``keys/policy.toml`` - registry admins, the registry threshold, optional key expiry;
* ``keys/allowed_signers`` - generated from the two above, stock ssh-keygen format,
  ``namespaces="..."`` on every line, validity times in UTC with ``Z``;
* ``keys/revoked_keys`` - revoked public keys (a plain list, as ``ssh-keygen -r`` reads);
* ``keys/registry/v<N>.statement.json`` + ``v<N>.<admin>.sig`` - registry version N.
  Its subjects are the sha256 of allowed_signers, revoked_keys, policy.toml and
  people.toml (people.toml says who leads which team, i.e. who must sign); its
  predicate names version N, the digest of N-1, the admins' keys and the threshold.

Chain rule (TUF root rotation): v1 is the trust root, signed by ``threshold`` of its
own admins. v(N+1) must have version exactly N+1, name sha256(vN) as previous, and be
signed by ``threshold(vN)`` distinct admins of vN *and* ``threshold(vN+1)`` distinct
admins of vN+1. A change can therefore never authorise itself.

Everything here is pure: bytes in, verdicts out. Reading git is the service's job.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import Field, ValidationError

from workbench.model.policy_floor import GateFloor, Limits
from workbench.model.settings import EvaluationPolicy, ExemptionPolicy, ExportPolicy
from workbench.model.settings import Policy as ApprovalPolicy
from workbench.signing import sshsig
from workbench.signing.errors import KeyLoadError, SignatureFormatError, SigningError
from workbench.signing.statement import (
    REGISTRY_PREDICATE,
    ChainLink,
    RegistryAdmin,
    RegistryPredicate,
    RegistryVersion,
    Statement,
    StatementError,
    StrictModel,
    parse_statement,
    sha256_hex,
    write_statements_bytes,
)

KEYS_DIR = "keys/"
PUB_DIR = "keys/pub/"
ALLOWED_SIGNERS = "keys/allowed_signers"
REVOKED_KEYS = "keys/revoked_keys"
POLICY = "keys/policy.toml"
PEOPLE = "keys/people.toml"
REGISTRY_DIR = "keys/registry/"
REGISTRY_FILES = (ALLOWED_SIGNERS, PEOPLE, POLICY, REVOKED_KEYS)

PERSON_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
PRINCIPAL_RE = re.compile(r"[a-z0-9][a-z0-9._-]*@[a-z0-9.-]+")
_STATEMENT_NAME = re.compile(r"v([1-9][0-9]{0,6})\.statement\.json")
_SIG_NAME = re.compile(r"v([1-9][0-9]{0,6})\.([a-z0-9][a-z0-9._-]*)\.sig")
_TIME = re.compile(r"(\d{8})(\d{4})?(\d{2})?Z")
MAX_SIGS_PER_STATEMENT = 64


class RegistryError(SigningError):
    """The registry files or chain are malformed, or an edit to them is refused."""


# --- namespaces and principals ------------------------------------------------------


@dataclass(frozen=True)
class Namespaces:
    contract: str
    ack: str
    review: str
    registry: str
    snapshot: str
    git: str = "git"

    @classmethod
    def for_domain(cls, domain: str) -> Namespaces:
        return cls(
            contract=f"handshake-contract-v1@{domain}",
            ack=f"handshake-ack-v1@{domain}",
            review=f"handshake-review-v1@{domain}",
            registry=f"handshake-registry-v1@{domain}",
            snapshot=f"handshake-snapshot-v1@{domain}",
        )

    def for_person(self, admin: bool) -> tuple[str, ...]:
        names = [self.contract, self.ack, self.review, self.snapshot, self.git]
        if admin:
            names.append(self.registry)
        return tuple(sorted(names))


def check_person_id(person: str) -> str:
    if not isinstance(person, str) or not PERSON_RE.fullmatch(person) or len(person) > 80:
        raise RegistryError(
            f"invalid person id {person!r}: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return person


def principal_of(person: str, domain: str) -> str:
    principal = f"{check_person_id(person)}@{domain}"
    if not PRINCIPAL_RE.fullmatch(principal):
        raise RegistryError(f"invalid principal {principal!r}")
    return principal


def person_of(principal: str) -> str:
    return principal.partition("@")[0]


# --- keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredKey:  # frozen, but fingerprint is cached on first use
    person: str
    principal: str
    raw: bytes
    namespaces: frozenset[str]
    valid_before: datetime | None = None
    key: Ed25519PublicKey | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def fingerprint(self) -> str:
        return sshsig.fingerprint(self.raw)

    @property
    def openssh(self) -> str:
        return sshsig.openssh_public_key(self.raw)

    def public_key(self) -> Ed25519PublicKey:
        return self.key or Ed25519PublicKey.from_public_bytes(self.raw)

    def valid_at(self, when: datetime) -> bool:
        # ssh-keygen: expired only when verify-time > valid-before.
        return self.valid_before is None or when <= self.valid_before


def parse_key_lines(data: bytes, what: str) -> list[tuple[bytes, str]]:
    """``ssh-ed25519 AAAA... [comment]`` lines (blank and ``#`` lines skipped)."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise RegistryError(f"{what}: not ASCII") from None
    if "\r" in text:
        raise RegistryError(f"{what}: CRLF line endings are not allowed")
    out = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            raw = sshsig.public_key_from_openssh(line)
        except KeyLoadError as exc:
            raise RegistryError(f"{what}:{number}: {exc}") from None
        parts = line.split(maxsplit=2)
        out.append((raw, parts[2].strip() if len(parts) > 2 else ""))
    return out


# --- policy.toml -------------------------------------------------------------------------


class RegistryPolicy(StrictModel):
    admins: list[str] = Field(min_length=1, max_length=64)
    registry_threshold: int = Field(ge=1, le=64)
    key_expiry: dict[str, str] = Field(default_factory=dict)
    # Who must co-sign beyond the leads decides who may approve what, so it is signed with
    # the registry (a plain commit to workbench.toml could otherwise drop a co-signer).
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    # Who may accept a violation, and for how long: signed for the same reason.
    exemptions: ExemptionPolicy = Field(default_factory=ExemptionPolicy)
    # Who may record the evaluation runs the gate judges from: signed for the same reason.
    evaluation: EvaluationPolicy = Field(default_factory=EvaluationPolicy)
    # Who may sign an audit snapshot (whose signature covers every file of a bundle).
    export: ExportPolicy = Field(default_factory=ExportPolicy)
    # The signed floor (workbench.model.policy_floor): what the gate always checks and the
    # loosest window a verdict may use; workbench.toml can only tighten it.
    gate: GateFloor = Field(default_factory=GateFloor)
    limits: Limits = Field(default_factory=Limits)


def parse_policy(data: bytes) -> RegistryPolicy:
    try:
        obj = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"{POLICY}: {exc}") from None
    try:
        policy = RegistryPolicy.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RegistryError(f"{POLICY}: {where}: {err['msg']}") from None
    for admin in policy.admins:
        check_person_id(admin)
    for runner in policy.evaluation.runners:
        # A person id or team:<team>; VERIFY.sh reads plain ids straight from these bytes.
        if not PERSON_RE.fullmatch(runner.removeprefix("team:")) or len(runner) > 86:
            raise RegistryError(
                f"{POLICY}: [evaluation] runners: {runner!r} is not a person id or 'team:<team>'"
            )
    if len(set(policy.admins)) != len(policy.admins):
        raise RegistryError(f"{POLICY}: an admin is listed twice")
    if policy.registry_threshold > len(policy.admins):
        raise RegistryError(
            f"{POLICY}: registry_threshold {policy.registry_threshold} is more than the "
            f"{len(policy.admins)} admin(s)"
        )
    for person, when in policy.key_expiry.items():
        check_person_id(person)
        parse_utc(when, f"{POLICY}: key_expiry.{person}")
    return policy


def parse_utc(text: str, what: str) -> datetime:
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text):
        raise RegistryError(f"{what}: {text!r} must be a UTC time like 2027-01-31T00:00:00Z")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def render_policy(policy: RegistryPolicy) -> bytes:
    lines = [
        "# Key registry policy, signed with every registry version.",
        "# Change it with `workbench registry ...`; a change needs the admins' signatures.",
        "admins = [" + ", ".join(f'"{a}"' for a in sorted(policy.admins)) + "]",
        f"registry_threshold = {policy.registry_threshold}",
    ]
    if policy.key_expiry:
        lines += ["", "# Keys of these people stop being valid at this UTC time.", "[key_expiry]"]
        lines += [f'"{p}" = "{t}"' for p, t in sorted(policy.key_expiry.items())]
    approval = policy.approval
    lines += [
        "",
        "# Who must co-sign contracts beyond both party leads and the contract's cosigners.",
        "[approval]",
        f"no_self_approval = {'true' if approval.no_self_approval else 'false'}",
    ]
    if approval.compliance_team:
        lines.append(f'compliance_team = "{approval.compliance_team}"')
    kinds = ", ".join(f'"{k}"' for k in approval.compliance_term_kinds)
    lines.append(f"compliance_term_kinds = [{kinds}]")
    exemptions = policy.exemptions
    if exemptions != ExemptionPolicy():
        lines += [
            "",
            "# Who may approve an exemption of a violation, and for at most how many days.",
            "[exemptions]",
            "approvers = [" + ", ".join(f'"{a}"' for a in exemptions.approvers) + "]",
            f"max_days = {exemptions.max_days}",
        ]
    evaluation = policy.evaluation
    if evaluation != EvaluationPolicy():
        # Written only when set, so the bytes of every registry without it stay the same.
        lines += [
            "",
            "# Who may sign the evaluation runs (findings) that the gate judges from.",
            "[evaluation]",
            "runners = [" + ", ".join(f'"{r}"' for r in evaluation.runners) + "]",
        ]
    if policy.export != ExportPolicy():
        lines += [
            "",
            "# Who may sign the snapshot of an audit bundle (workbench export-bundle).",
            "[export]",
            "exporters = [" + ", ".join(f'"{e}"' for e in policy.export.exporters) + "]",
        ]
    lines += render_floor(policy)
    return ("\n".join(lines) + "\n").encode()


def render_floor(policy: RegistryPolicy) -> list[str]:
    """[gate] and [limits], each only when it differs from the built-in floor, so that a
    registry that never set them keeps its bytes (and its signatures)."""
    lines: list[str] = []

    def strings(values: Sequence[str]) -> str:
        return "[" + ", ".join(f'"{v}"' for v in values) + "]"

    if policy.gate != GateFloor():
        lines += [
            "",
            "# What the gate always checks and judges, whatever workbench.toml lists.",
            "[gate]",
            f"deny = {strings(policy.gate.deny)}",
            f"warn = {strings(policy.gate.warn)}",
            f"contracts = {strings(policy.gate.contracts)}",
        ]
    if policy.limits != Limits():
        lines += [
            "",
            "# The loosest window a verdict may use (a longer value: this applies).",
            "[limits]",
        ]
        lines += [f'{name} = "{value.text}"' for name, value in policy.limits]
    return lines


# --- allowed_signers and revoked_keys ------------------------------------------------

_HEADER = (
    "# Generated by `workbench registry` from keys/pub/ and keys/policy.toml: do not edit.\n"
    "# Stock ssh-keygen ALLOWED SIGNERS format; verify with ssh-keygen -Y verify -f this file.\n"
)


def _ssh_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def render_allowed_signers(
    pubkeys: Mapping[str, list[bytes]], policy: RegistryPolicy, domain: str
) -> bytes:
    """Deterministic allowed_signers: sorted by principal then key; one key, one principal."""
    ns = Namespaces.for_domain(domain)
    seen: dict[bytes, str] = {}
    lines = []
    for person in sorted(pubkeys):
        principal = principal_of(person, domain)
        options = [f'namespaces="{",".join(ns.for_person(person in policy.admins))}"']
        expiry = policy.key_expiry.get(person)
        if expiry:
            options.append(f'valid-before="{_ssh_time(parse_utc(expiry, POLICY))}"')
        for raw in sorted(pubkeys[person], key=sshsig.openssh_public_key):
            if raw in seen:
                raise RegistryError(
                    f"key {sshsig.fingerprint(raw)} is listed for both {seen[raw]} and {person}; "
                    "one key belongs to exactly one person"
                )
            seen[raw] = person
            lines.append(f"{principal} {','.join(options)} {sshsig.openssh_public_key(raw)}")
    return (_HEADER + "".join(line + "\n" for line in lines)).encode()


def render_revoked(revoked: Mapping[bytes, str]) -> bytes:
    header = "# Revoked keys: every signature they ever made is invalid (ssh-keygen -r).\n"
    lines = sorted(
        f"{sshsig.openssh_public_key(raw)} {who}".rstrip() for raw, who in revoked.items()
    )
    return (header + "".join(line + "\n" for line in lines)).encode()


def _split_options(text: str) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise RegistryError("unbalanced quotes in allowed_signers options")
    out.append("".join(current))
    return out


def _parse_ssh_time(text: str, what: str) -> datetime:
    match = _TIME.fullmatch(text)
    if not match:
        # Without Z, ssh-keygen reads the time in the verifier's local timezone.
        raise RegistryError(f"{what}: time {text!r} must be YYYYMMDD[HHMM[SS]]Z (UTC, with Z)")
    digits = match.group(1) + (match.group(2) or "0000") + (match.group(3) or "00")
    return datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def parse_allowed_signers(data: bytes, domain: str) -> dict[bytes, RegisteredKey]:
    """Strictly read an allowed_signers file: one principal per key, no patterns."""
    keys: dict[bytes, RegisteredKey] = {}
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise RegistryError(f"{ALLOWED_SIGNERS}: not ASCII") from None
    if "\r" in text:
        raise RegistryError(f"{ALLOWED_SIGNERS}: CRLF line endings are not allowed")
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        where = f"{ALLOWED_SIGNERS}:{number}"
        parts = line.split(" ")
        if len(parts) < 3:
            raise RegistryError(f"{where}: expected 'principal options ssh-ed25519 KEY'")
        principal = parts[0]
        # ssh-keygen reads this field as a pattern list: '*', '?', ',' and '!' are live.
        if not PRINCIPAL_RE.fullmatch(principal) or not principal.endswith(f"@{domain}"):
            raise RegistryError(
                f"{where}: principal {principal!r} must be '<person-id>@{domain}' "
                "(no wildcards, commas or spaces)"
            )
        namespaces: frozenset[str] | None = None
        valid_before = None
        rest = parts[1:]
        if rest[0] != sshsig.KEY_TYPE:
            for option in _split_options(rest[0]):
                name, _, value = option.partition("=")
                value = value.strip('"')
                if name == "namespaces":
                    namespaces = frozenset(v for v in value.split(",") if v)
                elif name == "valid-before":
                    valid_before = _parse_ssh_time(value, where)
                else:
                    raise RegistryError(f"{where}: option {name!r} is not allowed in the registry")
            rest = rest[1:]
        if not namespaces:
            raise RegistryError(f'{where}: every key must list its namespaces="..."')
        try:
            raw = sshsig.public_key_from_openssh(" ".join(rest))
        except KeyLoadError as exc:
            raise RegistryError(f"{where}: {exc}") from None
        if raw in keys:
            raise RegistryError(
                f"{where}: key {sshsig.fingerprint(raw)} is listed twice "
                f"(also for {keys[raw].principal}); one key belongs to exactly one person"
            )
        keys[raw] = RegisteredKey(
            person=person_of(principal),
            principal=principal,
            raw=raw,
            namespaces=namespaces,
            valid_before=valid_before,
            key=Ed25519PublicKey.from_public_bytes(raw),
        )
    return keys


# --- the editable source -------------------------------------------------------------


@dataclass
class RegistrySource:
    """What `workbench registry` edits; the generated files follow from it."""

    domain: str
    pubkeys: dict[str, list[bytes]]
    revoked: dict[bytes, str]
    policy: RegistryPolicy

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], domain: str) -> RegistrySource:
        pubkeys: dict[str, list[bytes]] = {}
        for path in sorted(files):
            if path.startswith(PUB_DIR) and path.endswith(".pub"):
                person = path.removeprefix(PUB_DIR).removesuffix(".pub")
                if "/" in person:
                    continue
                check_person_id(person)
                pubkeys[person] = [raw for raw, _ in parse_key_lines(files[path], path)]
        revoked = {}
        if REVOKED_KEYS in files:
            revoked = {
                raw: comment for raw, comment in parse_key_lines(files[REVOKED_KEYS], REVOKED_KEYS)
            }
        if POLICY not in files:
            raise RegistryError(
                f"{POLICY} is missing: start the registry with `workbench registry init`"
            )
        return cls(domain, pubkeys, revoked, parse_policy(files[POLICY]))

    def person_of_key(self, raw: bytes) -> str | None:
        return next((p for p, keys in self.pubkeys.items() if raw in keys), None)

    def render(self) -> dict[str, bytes]:
        """Every generated file (and the sources), deterministically."""
        out = {
            ALLOWED_SIGNERS: render_allowed_signers(self.pubkeys, self.policy, self.domain),
            REVOKED_KEYS: render_revoked(self.revoked),
            POLICY: render_policy(self.policy),
        }
        for person, keys in self.pubkeys.items():
            out[f"{PUB_DIR}{person}.pub"] = (
                "".join(
                    sshsig.openssh_public_key(raw, principal_of(person, self.domain)) + "\n"
                    for raw in sorted(keys, key=sshsig.openssh_public_key)
                ).encode()
                if keys
                else b""
            )
        return out

    def add_key(self, person: str, raw: bytes) -> None:
        check_person_id(person)
        if raw in self.revoked:
            raise RegistryError(f"key {sshsig.fingerprint(raw)} is revoked and cannot be added")
        owner = self.person_of_key(raw)
        if owner is not None:
            raise RegistryError(f"key {sshsig.fingerprint(raw)} is already registered for {owner}")
        self.pubkeys.setdefault(person, []).append(raw)

    def remove_key(self, raw: bytes) -> str:
        owner = self.person_of_key(raw)
        if owner is None:
            raise RegistryError(f"key {sshsig.fingerprint(raw)} is not in the registry")
        self.pubkeys[owner].remove(raw)
        return owner

    def keys_of(self, person: str) -> list[bytes]:
        return list(self.pubkeys.get(person, []))

    def find_key(self, ref: str) -> bytes:
        """A key by ``SHA256:...`` fingerprint or by person id (if they have exactly one)."""
        if ref.startswith("SHA256:"):
            for keys in self.pubkeys.values():
                for raw in keys:
                    if sshsig.fingerprint(raw) == ref:
                        return raw
            raise RegistryError(f"no registered key has fingerprint {ref}")
        keys = self.keys_of(check_person_id(ref))
        if not keys:
            raise RegistryError(f"{ref} has no key in the registry")
        if len(keys) > 1:
            raise RegistryError(
                f"{ref} has {len(keys)} keys; name one by fingerprint: "
                + ", ".join(sshsig.fingerprint(k) for k in keys)
            )
        return keys[0]


# --- registry statements -------------------------------------------------------------


def statement_path(version: int) -> str:
    return f"{REGISTRY_DIR}v{version}.statement.json"


def sig_path(version: int, person: str) -> str:
    return f"{REGISTRY_DIR}v{version}.{check_person_id(person)}.sig"


def build_registry_statement(
    files: Mapping[str, bytes],
    version: int,
    previous: Statement | None,
    repository: str,
    domain: str,
) -> bytes:
    """The statement for registry ``version`` over the given (generated) files."""
    missing = [p for p in REGISTRY_FILES if p not in files]
    if missing:
        raise RegistryError(f"registry files missing: {', '.join(missing)}")
    policy = parse_policy(files[POLICY])
    keys = parse_allowed_signers(files[ALLOWED_SIGNERS], domain)
    registry_ns = Namespaces.for_domain(domain).registry
    admins = []
    for key in sorted(keys.values(), key=lambda k: (k.principal, k.openssh)):
        if key.person in policy.admins and registry_ns in key.namespaces:
            admins.append(RegistryAdmin(principal=key.principal, key=key.openssh))
    without_key = sorted(set(policy.admins) - {person_of(a.principal) for a in admins})
    if len({person_of(a.principal) for a in admins}) < policy.registry_threshold:
        raise RegistryError(
            f"only {len({a.principal for a in admins})} admin(s) have a key, fewer than the "
            f"threshold {policy.registry_threshold}; add keys for: {', '.join(without_key)}"
        )
    predicate = RegistryPredicate(
        repository=repository,
        registry=RegistryVersion(
            version=version,
            previous=None
            if previous is None
            else ChainLink(version=version - 1, statementSha256=previous.sha256),
        ),
        admins=admins,
        threshold=policy.registry_threshold,
    )
    subjects = [(path, sha256_hex(files[path])) for path in REGISTRY_FILES]
    return write_statements_bytes(REGISTRY_PREDICATE, subjects, predicate)


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
    data = None
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
        if data is None or parsed.hash_alg != "sha512":
            data = sshsig.signed_data(namespace, parsed.hash_alg, statement.raw)
        try:
            sshsig.verify_parsed(
                parsed, data, Ed25519PublicKey.from_public_bytes(parsed.public_key)
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


def registry_paths(
    files: Mapping[str, bytes],
) -> tuple[dict[int, bytes], dict[int, dict[str, bytes]], list[str]]:
    """Statements and signatures under keys/registry/, by version (and odd names found)."""
    statements: dict[int, bytes] = {}
    sigs: dict[int, dict[str, bytes]] = {}
    odd = []
    for path in files:
        if not path.startswith(REGISTRY_DIR):
            continue
        name = path.removeprefix(REGISTRY_DIR)
        if m := _STATEMENT_NAME.fullmatch(name):
            statements[int(m.group(1))] = files[path]
        elif m := _SIG_NAME.fullmatch(name):
            sigs.setdefault(int(m.group(1)), {})[name] = files[path]
        else:
            odd.append(path)
    return statements, sigs, odd


@dataclass
class ChainWalk:
    """The registry chain v1..vN of one revision, checked link by link (no files loaded)."""

    statements: dict[int, Statement] = field(default_factory=dict)  # parsed, pending included
    complete: dict[int, Statement] = field(default_factory=dict)  # signed by enough admins
    pending: PendingRegistry | None = None
    problems: list[str] = field(default_factory=list)
    root_sha256: str | None = None

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
        raw = raw_statements.get(version)
        if raw is None:
            walk.problems.append(f"registry v{version} is missing: the chain is broken")
            break
        try:
            statement = parse_statement(raw, REGISTRY_PREDICATE, subjects=len(REGISTRY_FILES))
        except StatementError as exc:
            walk.problems.append(f"registry v{version}: {exc}")
            break
        pred: RegistryPredicate = statement.predicate
        step_problems = _link_problems(statement, pred, version, accepted, repository)
        if [n for n, _ in statement.subjects] != list(REGISTRY_FILES):
            step_problems.append(
                f"registry v{version}: subjects must be exactly {', '.join(REGISTRY_FILES)}"
            )
        if step_problems:
            walk.problems += step_problems
            break
        walk.statements[version] = statement
        if version == 1:
            walk.root_sha256 = statement.sha256
            if trust_root is not None and trust_root != statement.sha256:
                walk.problems.append(
                    f"registry v1 has sha256 {statement.sha256}, not the pinned trust root "
                    f"{trust_root}: this is not the registry you trust"
                )
                return walk
        old_admins = accepted or statement  # v1 is signed by its own admins
        mine = sigs.get(version, {})
        try:
            old = _count(statement, mine, old_admins, ns.registry, memo)
            new = _count(statement, mine, statement, ns.registry, memo)
        except SigningError as exc:  # e.g. an admin key in the statement that is not a key
            walk.problems.append(f"registry v{version}: {exc}")
            break
        bad = sorted(set(old.bad + new.bad))
        if bad:
            walk.problems += [f"registry v{version}: {b}" for b in bad]
            break
        if old.met and new.met:
            accepted = statement
            walk.complete[version] = statement
            continue
        if version == top:
            walk.pending = PendingRegistry(version, statement, old, new)
        else:
            walk.problems.append(
                f"registry v{version} is not signed by enough admins, but later versions exist"
            )
        break
    return walk


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
    """Walk v1..vN, verify each step, and load the head's files.

    ``files`` are the governance files of one revision. The head's files are taken from
    there when their sha256 matches the head statement's subjects; otherwise (a registry
    change is pending) ``find_blob(path, sha256)`` fetches the signed bytes from history.
    """
    raw_statements, sigs, odd = registry_paths(files)
    state = RegistryState(head=None, root_sha256=None, trust_root_pinned=trust_root is not None)
    state.notes += [f"{p}: not a registry statement or signature name; ignored" for p in odd]
    if not raw_statements:
        state.notes.append("no key registry yet: start one with `workbench registry init`")
        return state
    walk = walk_chain(raw_statements, sigs, repository, domain, trust_root=trust_root)
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
    head_files, missing = _head_files(accepted, files, find_blob)
    if missing:
        state.problems += [
            f"{p}: the bytes signed in registry v{accepted.predicate.registry.version} "
            "are not in this repository"
            for p in missing
        ]
        return state
    try:
        state.head = _load_head(accepted, head_files, repository, domain)
    except RegistryError as exc:
        state.problems.append(f"registry v{accepted.predicate.registry.version}: {exc}")
        return state
    state.head.retired = _retired_keys(state, files, find_blob, domain)
    live_differs = [p for p in REGISTRY_FILES if files.get(p) != head_files[p]]
    if live_differs and state.pending is None:
        state.notes.append(
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
        state.notes.append(
            f"registry v{pend.version} waits for admin signatures: {', '.join(pend.missing)}"
        )
    return state


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
        data, _missing = _head_files(
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


def _head_files(
    statement: Statement,
    files: Mapping[str, bytes],
    find_blob: Callable[[str, str], bytes | None] | None,
) -> tuple[dict[str, bytes], list[str]]:
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
    return out, missing


def _load_head(
    statement: Statement, files: dict[str, bytes], repository: str, domain: str
) -> Registry:
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
