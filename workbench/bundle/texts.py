"""The README for the auditor, written into every bundle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from workbench.bundle.verify_sh import VERIFY_SH, VERIFY_SH_SHA256
from workbench.model import safe_text

__all__ = ["VERIFY_SH", "readme"]


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def readme(
    index: dict[str, Any], version: int, exported_at: datetime, expires: datetime, root: str
) -> bytes:
    # Names come from the repo: each on one line, its controls shown (the auditor `cat`s this).
    line = safe_text.line
    scope = index["scope"]
    contracts = index["contracts"]
    ev = index["evidence"]
    head = index["registry"]["head"]
    exporter = index["exporter"]
    lines = [
        f"HANDSHAKE WORKBENCH AUDIT BUNDLE - {line(index['organisation'])}",
        "",
        f"Snapshot v{version}, exported {_utc(exported_at)} by {line(exporter['name'])} "
        f"({line(exporter['principal'])}); the snapshot claims current status until "
        f"{_utc(expires)}.",
        f"Repository {line(index['repository'])} at commit {index['source']['commit']}.",
        f"Scope: {'all contracts' if not scope['contracts'] else line(', '.join(scope['contracts']))}; "
        f"period {scope['since'] or 'start'} to {scope['until'] or 'export'}; evidence files "
        f"{'included' if ev['files_included'] else 'NOT included (hashes and metadata only)'}.",
        f"{len(contracts)} contract(s), key registry v1..v{head}, "
        f"{len(index['records'])} signed record(s), {len(index['findings'])} findings run(s), "
        f"{len(ev['snapshots'])} evidence snapshot(s).",
        "",
        "VERIFY (no network, nothing of ours to install: ssh-keygen >= 8.2, sha256sum, jq, tar,",
        "gzip)",
        "",
        "  sh VERIFY.sh BUNDLE.tar.gz ROOT_SHA256 [PREVIOUS_SNAPSHOT_SHA256]",
        "",
        "Run YOUR OWN copy of VERIFY.sh (`workbench verify-script` prints it), whose sha256 you",
        "got with the trust root: the copy in this bundle is code from the bundle's author.",
        f"This bundle's copy has sha256 {VERIFY_SH_SHA256}; if you have no copy of your own,",
        "compare that with the value you were given, then take it out of the archive and run it",
        "on the archive (it extracts the archive itself, so a member tar refuses is a failure):",
        "",
        "  tar -xzf BUNDLE.tar.gz VERIFY.sh && sh VERIFY.sh BUNDLE.tar.gz ROOT_SHA256",
        "",
        "ROOT_SHA256 is the sha256 of registry/v1/statement.json as you obtained it OUT OF BAND",
        "(engagement letter, an earlier audit). Do not take it from this bundle: whoever made",
        "the bundle could have made the registry too. For reference, this bundle's registry v1",
        f"has sha256 {root} - compare it with yours, do not copy it.",
        "",
        "Keep sha256(snapshot.json) after a successful check and pass it as",
        "PREVIOUS_SNAPSHOT_SHA256 next time: without that memory an older, genuinely signed",
        "bundle (a rollback) cannot be told from a current one.",
        "",
        "BY HAND",
        "",
        "  sha256sum -c SHA256SUMS",
        f"  ssh-keygen -Y verify -f registry/v{head}/allowed_signers -r registry/v{head}/revoked_keys \\",
        f"     -I {exporter['principal']} -n {index['namespaces']['snapshot']} \\",
        f"     -s snapshot.{exporter['principal']}.sig < snapshot.json",
        "  ssh-keygen -Y verify -f registry/vN/allowed_signers -r "
        f"registry/v{head}/revoked_keys \\",
        f"     -I PRINCIPAL -n {index['namespaces']['contract']} \\",
        "     -s contracts/ID/vN/statement.PRINCIPAL.sig < contracts/ID/vN/statement.json",
        "  sha256sum < contracts/ID/vN/contract.toml   # = jq -r '.subject[0].digest.sha256' "
        "contracts/ID/vN/statement.json",
        "  jq -r '.required[]' contracts/ID/vN/required.json   # who must have signed vN (the",
        "      exporter's statement; VERIFY.sh derives it from contract.toml and the registry)",
        "",
        "WHAT IS HERE",
        "",
        "  snapshot.json + snapshot.<exporter>.sig  the exporter's signed snapshot (in-toto):",
        "                        subjects are the registry head statement and bundle.json",
        "  bundle.json           the signed index: scope, head of every chain, sha256 of every file",
        "  heads.json            the registry head and every signed contract's head (signed with",
        "                        the snapshot; exports/vK.heads.json are the earlier ones)",
        "  registry/vN/          key registry version N: allowed_signers, revoked_keys,",
        "                        policy.toml, people.toml, statement.json and admin signatures",
        "  contracts/ID/vN/      contract ID as approved in version N: contract.toml (exact",
        "                        bytes), statement.json, one statement.PRINCIPAL.sig per signer,",
        "                        required.json (who had to sign, and in which role)",
        "  contracts/ID/current.toml  the contract at export when it changed after its head",
        "  reviews/ acks/        signed reviews and change-notice acknowledgements",
        "  actions/ diagnostics/ post-mortem action items and seam diagnostics",
        "  evidence/             manifest.toml (sha256, kind, capture time of every snapshot)",
        "                        and, unless left out, the snapshot files",
        "  findings/             every evaluation run in the period, with the SQL used;",
        "                        closures.toml (resolutions and exemptions)",
        "  exports/              the earlier snapshots this one extends",
        "  oscal/                OSCAL 1.1 assessment plan, assessment results and POA&M (JSON)",
        "",
        "A failure means: a file changed after export (hash), the registry is not the one you",
        "trust (root), a signature is bad, revoked or by the wrong person, a chain has a gap or",
        "a fork, or the bundle is older than one you saw (rollback). See docs/audit.md of",
        "Handshake Workbench for each message.",
        "",
    ]
    return safe_text.terminal("\n".join(lines)).encode("utf-8")
