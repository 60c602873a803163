"""The floors of `workbench verify` and `workbench gate`: the least any correct program does.

    python -m benchmarks.floor verify CLONE
    python -m benchmarks.floor gate CLONE

Run as a fresh process, like the command it is the floor of, importing only pygit2,
cryptography and the standard library (no workbench code):

* `verify`: open the repository, walk every commit from HEAD (a verifier must see the
  history: a deleted statement or a rolled-back registry is found there), read every blob
  under `attestations/` and `keys/` at HEAD, and check each SSHSIG signature with a bare
  `Ed25519PublicKey.verify` over the signed data (armor decoded, blob sliced, statement
  hashed: nothing else).
* `gate`: the same over every file at HEAD (contracts, attestations, registry, findings runs,
  the violation ledger, clocks, deliveries), plus parsing every TOML file with `tomllib`
  and every JSON file with `json`, plus every committed version of every contract (the
  change notices compare consecutive versions): each distinct `contracts/` tree of the
  history listed, each distinct contract blob parsed. The checks themselves are dictionary
  look-ups over what was parsed, which the floor does not count.

It prints the number of signatures verified and files parsed, so a run shows it saw the same
organisation as the command it is compared with.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import sys
import tomllib

import pygit2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_HASHES = {b"sha256": hashlib.sha256, b"sha512": hashlib.sha512}


def _strings(blob: bytes, pos: int, n: int) -> tuple[list[bytes], int]:
    out = []
    for _ in range(n):
        (size,) = struct.unpack_from(">I", blob, pos)
        out.append(blob[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return out, pos


def verify_sig(armored: bytes, message: bytes) -> None:
    """SSHSIG: MAGIC, version, public key, namespace, reserved, hash alg, signature."""
    body = b"".join(armored.strip().splitlines()[1:-1])
    blob = base64.b64decode(body)
    (pub, namespace, reserved, alg, sig), _ = _strings(blob, 10, 5)
    (_, raw_key), _ = _strings(pub, 0, 2)
    (_, raw_sig), _ = _strings(sig, 0, 2)
    digest = _HASHES[alg](message).digest()
    data = b"SSHSIG" + b"".join(
        struct.pack(">I", len(s)) + s for s in (namespace, reserved, alg, digest)
    )
    Ed25519PublicKey.from_public_bytes(raw_key).verify(raw_sig, data)


def _blobs(repo: pygit2.Repository, tree: pygit2.Tree, prefix: str = "") -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for entry in tree:
        path = prefix + entry.name
        if entry.type_str == "tree":
            out.update(_blobs(repo, repo[entry.id], path + "/"))
        else:
            out[path] = repo[entry.id].data
    return out


def _statement_of(sig_path: str, files: dict[str, bytes]) -> bytes | None:
    """`x/v1.person.sig` -> `x/v1.statement.json`; `x/rec.sig` -> `x/rec.statement.json`."""
    stem = sig_path.removesuffix(".sig")
    while True:
        found = files.get(stem + ".statement.json")
        if found is not None or "." not in stem.rsplit("/", 1)[-1]:
            return found
        stem = stem.rsplit(".", 1)[0]


def floor(kind: str, path: str) -> str:
    repo = pygit2.Repository(path)
    head = repo.head.peel(pygit2.Commit)
    commits = 0
    versions: set[pygit2.Oid] = set()
    seen_trees: set[pygit2.Oid] = set()
    for commit in repo.walk(head.id, pygit2.enums.SortMode.TOPOLOGICAL):
        commits += 1
        if kind == "gate" and "contracts" in commit.tree:
            # Every committed version of every contract (change notices compare them):
            # each distinct contracts/ tree listed once, each distinct blob parsed below.
            tree_id = commit.tree["contracts"].id
            if tree_id not in seen_trees:
                seen_trees.add(tree_id)
                versions.update(e.id for e in repo[tree_id] if e.name.endswith(".toml"))
    files = _blobs(repo, head.tree)
    if kind == "verify":
        files = {p: d for p, d in files.items() if p.startswith(("attestations/", "keys/"))}
    verified = 0
    for p, data in files.items():
        if p.endswith(".sig"):
            statement = _statement_of(p, files)
            if statement is not None:
                verify_sig(data, statement)
                verified += 1
    parsed = 0
    for oid in versions:
        tomllib.loads(repo[oid].data.decode())
        parsed += 1
    if kind == "gate":
        for p, data in files.items():
            if p.endswith(".toml"):
                tomllib.loads(data.decode())
                parsed += 1
            elif p.endswith(".json"):
                json.loads(data)
                parsed += 1
    return f"{commits} commits, {len(files)} files, {verified} signatures, {parsed} parsed"


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("verify", "gate"):
        sys.exit("usage: python -m benchmarks.floor {verify,gate} CLONE")
    print(floor(sys.argv[1], sys.argv[2]))
