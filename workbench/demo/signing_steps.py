"""Demo: keys for its people, a signed key registry and co-signed contracts.

Demo keys are generated at demo time, unencrypted (empty passphrase), into
``<demo>/.git/handshake-workbench/demo-keys/<person-id>_ed25519`` - inside .git, so
never in the tree and never committed. The workbench finds them there for the
acting person (``--as PERSON``), so the CLI and the TUI can sign in the demo.

After this step:
* registry v1 (admins grace.whitfield and erin.walsh, threshold 2), signed by both,
  pinned as this clone's trust root;
* approved: applicant-data-to-credit-model (with the compliance co-signature),
  claims-agent-to-claims-product, loan-decisioning-to-fair-lending;
* stale: credit-model-to-loan-decisioning - co-signed, then the product lead added a
  comment (comments count: people read them);
* pending: policy-data-to-claims-agent - signed by the policy-data lead only.
Every commit of this step is SSH-signed by its author.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from workbench.demo.build import DemoContext

ADMINS = ("erin.walsh", "grace.whitfield")
# The demo acts as her in its clone (her entry in keys/people.toml of the sample content).
DEMO_ACTOR_EMAIL = "dana.okafor@meridian.example"
STALE_CONTRACT = "credit-model-to-loan-decisioning"
PENDING_CONTRACT = "policy-data-to-claims-agent"
# (days ago, person, contract): who signs what, in order.
SIGNATURES = [
    (21.0, "dana.okafor", "applicant-data-to-credit-model"),
    (20.5, "ravi.iyer", "applicant-data-to-credit-model"),
    (20.0, "grace.whitfield", "applicant-data-to-credit-model"),
    (19.0, "aisha.rahman", "claims-agent-to-claims-product"),
    (18.5, "ben.carter", "claims-agent-to-claims-product"),
    (18.0, "ravi.iyer", STALE_CONTRACT),
    (17.0, "sofia.marquez", STALE_CONTRACT),
    (16.0, "sofia.marquez", "loan-decisioning-to-fair-lending"),
    (15.0, "grace.whitfield", "loan-decisioning-to-fair-lending"),
    (12.0, "tomas.lindqvist", PENDING_CONTRACT),
]
STALE_EDIT_DAYS = 6.0
STALE_COMMENT = "# Decline threshold confirmed at the quarterly pricing review; value unchanged.\n"


def demo_keys_dir(root: Path) -> Path:
    return root / ".git" / "handshake-workbench" / "demo-keys"


def signing_step(ctx: DemoContext) -> None:
    import tomllib

    from workbench.model.settings import EvaluationPolicy, Policy
    from workbench.service.core import Workbench
    from workbench.service.signing import SigningService
    from workbench.signing import keys as keymod
    from workbench.signing import registry as reg
    from workbench.signing import sshsig

    settings = tomllib.loads(ctx.text("workbench.toml"))
    domain = settings["org"]["domain"]
    repository = settings["org"]["repository_id"]
    people = tomllib.loads(ctx.text(reg.PEOPLE))["people"]
    current = [p["id"] for p in people if not _has_left(p, ctx)]

    key_dir = demo_keys_dir(ctx.root)
    signers = {}
    for pid in current:
        key_path = key_dir / f"{pid}_ed25519"
        keymod.generate_keypair(key_path, None, f"{pid}@{domain}")
        signers[pid] = keymod.FileSigner(key_path, None, person=pid)

    def service(pid: str, days: float) -> SigningService:
        wb = Workbench(ctx.root, now=ctx.now - timedelta(days=days), actor=pid)
        return wb.signing

    # Registry v1: Grace writes and signs it, Erin adds the second admin signature.
    svc = service("grace.whitfield", 22.0)
    source = reg.RegistrySource(
        domain,
        {pid: [s.public_key] for pid, s in signers.items()},
        {},
        reg.RegistryPolicy(
            admins=list(ADMINS),
            registry_threshold=2,
            # Compliance co-signs the representation assertion (the article's table).
            approval=Policy(compliance_team="fair-lending-compliance"),
            # The CI identity records the findings runs; nobody else's runs count.
            evaluation=EvaluationPolicy(runners=["ci.pipeline"]),
        ),
    )
    rendered = source.render()
    head_files = svc.wb.files("HEAD")
    statement = reg.build_registry_statement(
        {**head_files, **rendered}, 1, None, repository, domain
    )
    ns = reg.Namespaces.for_domain(domain)
    changes: dict[str, bytes | None] = dict(rendered)
    changes[reg.statement_path(1)] = statement
    changes[reg.sig_path(1, "grace.whitfield")] = signers["grace.whitfield"].sign(
        statement, ns.registry
    )
    svc.wb.commit(
        changes,
        "Registry v1: register the signing keys of every lead and member\n\n"
        "Admins: erin.walsh and grace.whitfield; two admin signatures per registry change.\n",
        signer=signers["grace.whitfield"],
    )
    service("erin.walsh", 21.5).registry.sign(signers["erin.walsh"])
    root = Workbench(ctx.root, now=ctx.now).signing.pin_root()
    _ = sshsig, root

    for days, pid, contract_id in SIGNATURES:
        service(pid, days).contracts.sign(contract_id, signers[pid])

    # A believable later edit: the product lead notes the pricing review in a comment.
    path = f"contracts/{STALE_CONTRACT}.toml"
    text = (ctx.root / path).read_text(encoding="utf-8")
    marker = '[[terms]]\nid = "approval-threshold"'
    if marker in text:
        edited = text.replace(marker, STALE_COMMENT + marker, 1)
    else:
        edited = text + "\n" + STALE_COMMENT
    wb = Workbench(ctx.root, now=ctx.now - timedelta(days=STALE_EDIT_DAYS), actor="sofia.marquez")
    wb.commit(
        {path: edited.encode("utf-8")},
        "Note the Q3 pricing review on the decision threshold (comment only)\n",
        signer=signers["sofia.marquez"],
    )
    _configure_git(ctx.root)


def _has_left(person: dict, ctx: DemoContext) -> bool:  # type: ignore[type-arg]
    left = person.get("left")
    return left is not None and left <= ctx.now.date()


def _configure_git(root: Path) -> None:
    """`git log --show-signature` and `git verify-commit` work in the demo out of the box."""
    import pygit2

    config = pygit2.Repository(str(root)).config
    # The demo acts as the lead of its first seam in this clone (git's user.email matches
    # her registry entry), so every command of the README's tour pastes and runs.
    config["user.name"] = "Dana Okafor"
    config["user.email"] = DEMO_ACTOR_EMAIL
    config["gpg.format"] = "ssh"
    config["gpg.ssh.allowedSignersFile"] = str(root / "keys" / "allowed_signers")
