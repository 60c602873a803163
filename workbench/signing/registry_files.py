"""The key registry's files: what each holds, how it is parsed (strictly) and rendered
(deterministically), and the names of the signed registry versions under keys/registry/.
Pure: bytes in, values out. See ``workbench.signing.registry`` for the whole registry."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import Field, ValidationError

from workbench.model.policy_floor import GateFloor, Limits
from workbench.model.settings import EvaluationPolicy, ExemptionPolicy, ExportPolicy
from workbench.model.settings import Policy as ApprovalPolicy
from workbench.signing import sshsig
from workbench.signing.errors import KeyLoadError, SigningError
from workbench.signing.statement import (
    StrictModel,
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

    def strings(values: list[str]) -> str:
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
    out, current, quoted = [], [], False
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


# --- registry versions: file names ---------------------------------------------------


def statement_path(version: int) -> str:
    return f"{REGISTRY_DIR}v{version}.statement.json"


def sig_path(version: int, person: str) -> str:
    return f"{REGISTRY_DIR}v{version}.{check_person_id(person)}.sig"


class RegistryPaths(NamedTuple):
    """What keys/registry/ holds, by version: statement bytes, signature files by name, and
    the paths that are neither (reported, never read)."""

    statements: dict[int, bytes]
    sigs: dict[int, dict[str, bytes]]
    odd: list[str]


def registry_paths(files: Mapping[str, bytes]) -> RegistryPaths:
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
    return RegistryPaths(statements, sigs, odd)
