"""Where things live inside an audit bundle (see docs/audit.md).

    README.txt  VERIFY.sh  SHA256SUMS
    snapshot.json  snapshot.<principal>.sig        the exporter's signed snapshot
    bundle.json                                    index: scope, heads, every file's sha256
    heads.json                                     registry and contract heads (whole repo)
    workbench.toml                                 settings (signing policy) at export
    registry/v<N>/{allowed_signers,revoked_keys,policy.toml,people.toml,
                   statement.json,statement.<principal>.sig}
    contracts/<id>/v<N>/{contract.toml,statement.json,statement.<principal>.sig,
                         required.json}
    contracts/<id>/current.toml                    only when HEAD differs from the head version
    reviews/ acks/ reports/receipts/ actions/ diagnostics/   as in the repository
    evidence/manifest.toml  evidence/snapshots/...  findings/...
    exports/v<K>.snapshot.json  exports/v<K>.<principal>.sig  earlier snapshots
    exports/v<K>.heads.json                        the head map snapshot vK signed
    oscal/{assessment-plan,assessment-results,poam}.json

Why ``bundle.json`` is a snapshot subject (and not every contract head directly): the
signing room caps a statement at 16 subjects and 64 KiB, and a 1,000-contract snapshot
would not fit. ``bundle.json`` lists the head of every chain *and* the sha256 of every
other file, so the exporter's one signature covers the whole bundle.
"""

from __future__ import annotations

import re

README = "README.txt"
VERIFY_SH = "VERIFY.sh"
SUMS = "SHA256SUMS"
SNAPSHOT = "snapshot.json"
INDEX = "bundle.json"
HEADS = "heads.json"
SETTINGS = "workbench.toml"
FORMAT = "handshake-workbench/audit-bundle@1"
REGISTRY_FILE_NAMES = {
    "keys/allowed_signers": "allowed_signers",
    "keys/revoked_keys": "revoked_keys",
    "keys/policy.toml": "policy.toml",
    "keys/people.toml": "people.toml",
}
OSCAL_AP = "oscal/assessment-plan.json"
OSCAL_AR = "oscal/assessment-results.json"
OSCAL_POAM = "oscal/poam.json"
EXPORTS_DIR = "exports/"

PRINCIPAL_RE = re.compile(r"[a-z0-9][a-z0-9._-]*@[a-z0-9.-]+")
SNAPSHOT_SIG_RE = re.compile(r"snapshot\.([a-z0-9][a-z0-9._-]*@[a-z0-9.-]+)\.sig")
STATEMENT_SIG_RE = re.compile(r"statement\.([a-z0-9][a-z0-9._-]*@[a-z0-9.-]+)\.sig")
EXPORT_STATEMENT_RE = re.compile(r"exports/v([1-9][0-9]{0,6})\.snapshot\.json")
EXPORT_HEADS_RE = re.compile(r"exports/v([1-9][0-9]{0,6})\.heads\.json")
EXPORT_SIG_RE = re.compile(r"exports/v([1-9][0-9]{0,6})\.([a-z0-9][a-z0-9._-]*)\.sig")


def registry_dir(version: int) -> str:
    return f"registry/v{version}/"


def contract_dir(contract_id: str, version: int) -> str:
    return f"contracts/{contract_id}/v{version}/"


def current_path(contract_id: str) -> str:
    return f"contracts/{contract_id}/current.toml"


def snapshot_sig(principal: str) -> str:
    return f"snapshot.{principal}.sig"


def statement_sig(directory: str, principal: str) -> str:
    if not PRINCIPAL_RE.fullmatch(principal):
        raise ValueError(f"unsafe principal {principal!r} for a bundle file name")
    return f"{directory}statement.{principal}.sig"


def export_statement(version: int) -> str:
    return f"{EXPORTS_DIR}v{version}.snapshot.json"


def export_heads(version: int) -> str:
    return f"{EXPORTS_DIR}v{version}.heads.json"


def export_sig(version: int, person: str) -> str:
    return f"{EXPORTS_DIR}v{version}.{person}.sig"


def is_unindexed(path: str) -> bool:
    """Files ``bundle.json`` cannot list: itself, what signs it, and SHA256SUMS."""
    return path in (INDEX, SNAPSHOT, SUMS) or bool(SNAPSHOT_SIG_RE.fullmatch(path))


def is_signed_json(path: str) -> bool:
    """The JSON files both verifiers read only in their one compact form
    (``signing.canonical.written_form_problem``): the index, the head maps, every snapshot
    and statement, required.json; not the evidence (its registrant's bytes), the findings
    (numbers as measured) or the OSCAL view. VERIFY.sh's ``find`` in section 1b is this
    test, word for word."""
    if path.startswith(("evidence/snapshots/", "evidence/tables/")):
        return False
    name = path.rsplit("/", 1)[-1]
    return (
        name.endswith("statement.json")
        or name == "required.json"
        or path in (INDEX, HEADS, SNAPSHOT)
        or (path.startswith(EXPORTS_DIR + "v") and path.endswith(".json"))
    )


def render_sums(files: dict[str, bytes]) -> bytes:
    import hashlib

    lines = [f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in sorted(files) if p != SUMS]
    return "".join(lines).encode("ascii")
