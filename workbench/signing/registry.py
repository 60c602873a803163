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

Everything here is pure: bytes in, verdicts out. Reading git is the service's job. The
registry lives in three modules, one job each, and every name is importable from here:

* ``registry_files``: the file formats (policy.toml, allowed_signers, revoked_keys, the
  version names under keys/registry/), parsed strictly and rendered deterministically;
* ``registry_source``: editing (``RegistrySource``) and the statement of a new version;
* ``registry_chain``: checking the chain, a typed result per step (``ChainStep``,
  ``ChainWalk``, ``HeadFiles``, ``Registry``, ``RegistryState``).
"""

from __future__ import annotations

from workbench.signing.registry_chain import (
    AdminCount,
    AdminCountMemo,
    ChainStep,
    ChainWalk,
    HeadFiles,
    PendingRegistry,
    Registry,
    RegistryState,
    count_admin_signatures,
    count_version,
    head_files,
    load_head,
    read_version,
    resolve_registry,
    walk_chain,
)
from workbench.signing.registry_files import (
    ALLOWED_SIGNERS,
    KEYS_DIR,
    MAX_SIGS_PER_STATEMENT,
    PEOPLE,
    PERSON_RE,
    POLICY,
    PRINCIPAL_RE,
    PUB_DIR,
    REGISTRY_DIR,
    REGISTRY_FILES,
    REVOKED_KEYS,
    Namespaces,
    RegisteredKey,
    RegistryError,
    RegistryPaths,
    RegistryPolicy,
    check_person_id,
    parse_allowed_signers,
    parse_key_lines,
    parse_policy,
    parse_utc,
    person_of,
    principal_of,
    registry_paths,
    render_allowed_signers,
    render_floor,
    render_policy,
    render_revoked,
    sig_path,
    statement_path,
)
from workbench.signing.registry_source import (
    RegistrySource,
    build_registry_statement,
)
from workbench.signing.statement import REGISTRY_PREDICATE

__all__ = [
    "ALLOWED_SIGNERS",
    "AdminCount",
    "AdminCountMemo",
    "ChainStep",
    "ChainWalk",
    "HeadFiles",
    "KEYS_DIR",
    "MAX_SIGS_PER_STATEMENT",
    "Namespaces",
    "PEOPLE",
    "PERSON_RE",
    "POLICY",
    "PRINCIPAL_RE",
    "PUB_DIR",
    "PendingRegistry",
    "REGISTRY_DIR",
    "REGISTRY_FILES",
    "REGISTRY_PREDICATE",
    "REVOKED_KEYS",
    "RegisteredKey",
    "Registry",
    "RegistryError",
    "RegistryPaths",
    "RegistryPolicy",
    "RegistrySource",
    "RegistryState",
    "build_registry_statement",
    "check_person_id",
    "count_admin_signatures",
    "count_version",
    "head_files",
    "load_head",
    "parse_allowed_signers",
    "parse_key_lines",
    "parse_policy",
    "parse_utc",
    "person_of",
    "principal_of",
    "read_version",
    "registry_paths",
    "render_allowed_signers",
    "render_floor",
    "render_policy",
    "render_revoked",
    "resolve_registry",
    "sig_path",
    "statement_path",
    "walk_chain",
]
