"""Examples shown at the end of every `--help` (a test checks every command has some).

Ids are the demo's (`workbench demo`) or the README's newcomer path, so each one runs.
"""

from __future__ import annotations

EXAMPLES: dict[str, list[str]] = {
    "": [
        "workbench init acme --team data --lead ada --team model --lead alan --no-passphrase",
        "workbench status",
        "workbench gate --strict",
        "workbench                  # the terminal app",
    ],
    "init": [
        "workbench init acme-governance --org Acme --domain acme.example \\",
        '    --team data --team-name "Data Engineering" --lead ada --lead-name "Ada Lovelace" \\',
        '    --team model --team-name "Modelling" --lead alan --lead-name "Alan Turing"',
        "workbench init acme-governance      # on a terminal: asks for the teams and leads",
        "workbench init acme --team data --lead ada --team model --lead alan --pubkey alan=alan.pub",
    ],
    "validate": ["workbench validate", "workbench validate --rev HEAD~1 --json"],
    "status": ["workbench status", 'workbench status --json --root "$TRUSTED_ROOT"'],
    "show": ["workbench show data-to-model", "workbench show data-to-model --raw --rev HEAD"],
    "log": ["workbench log data-to-model"],
    "diff": ["workbench diff data-to-model", "workbench diff data-to-model HEAD~3 HEAD"],
    "demo": ["workbench demo", "workbench demo /tmp/demo --no-tui"],
    "person": [
        'workbench person add grace.hopper --name "Grace Hopper" --email grace@acme.example'
    ],
    "person add": [
        'workbench person add grace.hopper --name "Grace Hopper" --email grace@acme.example \\',
        '    --team data --role "Data engineer"',
        'workbench person add joan.clarke --name "Joan Clarke" --email joan@acme.example \\',
        "    --key joan_ed25519.pub       # also prepares the registry change for the admins",
    ],
    "person leave": [
        "workbench person leave grace.hopper --on 2027-03-31 --replaced-by joan.clarke"
    ],
    "team": ['workbench team add product --name "Loan Product" --lead joan.clarke'],
    "team add": ['workbench team add product --name "Loan Product" --lead joan.clarke'],
    "team lead": ["workbench team lead data grace.hopper"],
    "contract": [
        "workbench contract new data-to-model --template data-model --provider data --consumer model"
    ],
    "contract new": [
        "workbench contract new data-to-model --template data-model --provider data --consumer model \\",
        "    --set source=warehouse.orders --set attribute=age_band --set groups=18-34,35-54,55+",
        "workbench contract new score-to-loans --template model-product --provider model --consumer product",
        "workbench contract params model-product     # what --set takes",
    ],
    "contract params": ["workbench contract params data-model"],
    "contract save": ['workbench contract save data-to-model -m "Name the upstream source"'],
    "keygen": [
        "workbench keygen --person grace.hopper",
        "workbench keygen --person grace.hopper --no-passphrase --path ./grace_ed25519",
    ],
    "sign": [
        "workbench sign data-to-model",
        "workbench sign data-to-model --as alan --key ~/.ssh/alan_ed25519",
        "workbench sign --reattest --as alan     # after a key rotation",
    ],
    "verify": [
        "workbench verify",
        "workbench verify data-to-model --json",
        "workbench verify --findings",
    ],
    "registry": ["workbench registry show", "workbench registry sign"],
    "registry init": ["workbench registry init --admin ada --admin alan --threshold 2"],
    "registry add-key": [
        "workbench registry add-key grace.hopper ~/.config/handshake-workbench/keys/grace.hopper_ed25519.pub"
    ],
    "registry revoke": ["workbench registry revoke SHA256:0bq…   # or a person with one key"],
    "registry rotate": ["workbench registry rotate alan alan_new_ed25519.pub"],
    "registry runners": ["workbench registry runners ci.pipeline team:platform"],
    "registry exporters": ["workbench registry exporters admins lead:compliance"],
    "registry sign": [
        "workbench registry sign",
        "workbench --as alan registry sign --key alan_ed25519",
    ],
    "registry root": ["workbench registry root", "workbench registry root --pin"],
    "registry head": [
        "workbench registry head",
        "workbench registry head --pin",
        'WORKBENCH_REGISTRY_SEEN="$(workbench registry head)"  # then set it in CI',
    ],
    "registry floor": [
        "workbench registry floor",
        "workbench registry floor --limit evidence_max_age=P7D",
    ],
    "registry show": ["workbench registry show --json"],
    "evidence": ["workbench evidence list"],
    "evidence add": [
        "workbench evidence add lags.csv --kind freshness_lags",
        "workbench evidence add scores.parquet --kind score_samples --name reference-2026q4",
    ],
    "evidence register": [
        "workbench --as yuki.tanaka evidence register",
        "workbench --as ci.pipeline evidence register ev-0123456789ab --key ci_ed25519",
    ],
    "evidence withdraw": [
        "workbench evidence withdraw ev-0123456789ab --reason 'exported from the wrong cluster'",
    ],
    "evidence list": ["workbench evidence list --verify"],
    "evidence query": [
        "workbench evidence query 'SELECT source, max(updated_at) FROM freshness_lags GROUP BY 1'"
    ],
    "evaluate": ["workbench evaluate", "workbench evaluate --readonly --contract data-to-model"],
    "violations": ["workbench violations --open"],
    "violations show": ["workbench violations show V-1"],
    "violations close": ["workbench violations close V-1 --resolved --note 'pipeline re-run'"],
    "violations approve": ["workbench violations approve V-1"],
    "reviews": ["workbench reviews --overdue"],
    "review": ["workbench review data-to-model --contacts-confirmed --outcome no-change"],
    "notices": ["workbench notices --pending"],
    "ack": ["workbench ack data-to-model --note 'checked the new source'"],
    "actions": ["workbench actions lint", "workbench actions --overdue"],
    "diagnose": ["workbench diagnose data-to-model --show"],
    "due": ["workbench due"],
    "sync": [
        "workbench sync                      # fetch, verify, merge, push the checked-out branch",
        "workbench sync --dry-run            # what would come in and go out; nothing changes",
        "workbench sync --remote backup --json",
    ],
    "merge-driver": [
        "workbench merge-driver install      # once per clone (sync does it too)",
        "# git runs: workbench merge-driver manifest %O %A %B %P",
    ],
    "gate": [
        "workbench gate --strict",
        'WORKBENCH_TRUST_ROOT="$ROOT" workbench gate --strict --format junit --output gate.xml',
    ],
    "notify": [
        "workbench notify --dry-run                 # what is due, where it would go",
        'workbench --as ci.pipeline notify --key "$CI_KEY"   # CI: after evaluate',
    ],
    "page": [
        "workbench page                             # pages sent, time to acknowledge",
        "workbench page ack V-1 --note 'looking at the feed'",
    ],
    "clocks": [
        "workbench clocks --json",
        "workbench clocks kinds",
        "workbench clocks start eu-ai-act-art73 --seam data-to-model \\",
        "    --at 2026-11-27T08:00:00Z --note 'INC-2051: decisions on a shifted score'",
        "workbench clocks stop c-0123456789 --note 'report MSA-2026-117 submitted'",
    ],
    "report": ["workbench report weekly --format md"],
    "report weekly": ["workbench report weekly --week 2026-W48 --format html --output weekly.html"],
    "report boundary": ["workbench report boundary --quarter 2026-Q4"],
    "export-bundle": [
        "workbench export-bundle                     # beside the repo: ../REPO-audit-<time>.tar.gz",
        "workbench export-bundle --out ../audit.tar.gz --contracts data-to-model",
    ],
    "verify-bundle": ['workbench verify-bundle ../audit.tar.gz --root "$ROOT" --recompute'],
    "import": ["workbench import odcs orders.odcs.yaml --provider data --consumer model"],
    "import odcs": [
        "workbench import odcs orders.odcs.yaml     # teams from the document and the registry",
        "workbench import odcs orders.odcs.yaml --provider data --consumer model",
        "workbench import odcs orders.odcs.yaml --provider data --consumer model --id orders-to-model",
    ],
    "export": ["workbench export odcs data-to-model > data-to-model.odcs.yaml"],
    "export odcs": [
        "workbench export odcs data-to-model                # YAML on standard output",
        "workbench export odcs data-to-model --out ../data-to-model.odcs.yaml",
    ],
    "completion": [
        'eval "$(workbench completion bash)"     # in ~/.bashrc',
        'eval "$(workbench completion zsh)"      # in ~/.zshrc',
        "workbench completion fish | source      # in ~/.config/fish/config.fish",
    ],
    "verify-script": [
        'workbench verify-script > VERIFY.sh && sh VERIFY.sh audit.tar.gz "$ROOT"',
        "workbench verify-script --sha256",
    ],
}
