"""`workbench init`: a new governance repo with its layout, settings and an example."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from workbench.repo import layout
from workbench.service.errors import WorkbenchError

SETTINGS_TEMPLATE = """\
# Handshake Workbench settings for this governance repo.
[org]
name = "{org}"
domain = "{domain}"             # signing namespaces are handshake-*-v1@<domain>
repository_id = "{repo_id}"  # fixed at init; bound into every signed statement

# These windows and the gate's rules can only be tightened here: the registry admins sign
# the loosest values allowed in keys/policy.toml (see `workbench registry floor`).
[defaults]
review_cadence = "P3M"       # quarterly
first_review_after = "P30D"  # first review 30 days after adoption
ack_window = "PT48H"         # change notices must be acknowledged within 48 hours
page_ack_sla_max = "PT1H"    # the page test: a named person acknowledges within an hour
"""

PEOPLE_TEMPLATE = """\
# Named people and their teams. Teams never own anything; their leads co-sign.

[[teams]]
id = "data"
name = "Data Engineering"
lead = "{person}"

[[teams]]
id = "model"
name = "Modelling"
lead = "{consumer}"

[[people]]
id = "{person}"
name = "{name}"
email = "{email}"
team = "data"
role = "Data engineering lead"
authority = "lead"

[[people]]
id = "{consumer}"
name = "Example Model Lead"
email = "model.lead@{domain}"
team = "model"
role = "Model lead"
authority = "lead"
"""

CONTRACT_TEMPLATE = """\
{schema_line}
# An example handshake contract. Edit it, or copy it for each seam between two teams.
id = "data-to-model"
title = "Data → model"
status = "draft"
owner = "{person}"

[seam]
provider = "data"
consumer = "model"
kind = "data-model"

[parties]
provider_lead = "{person}"
consumer_lead = "{consumer}"

[escalation]
primary = "{person}"
backup = "{consumer}"
channel = "email:{email}"
ack_sla = "PT1H"

[change_protocol]
notify = ["{consumer}"]
ack_window = "PT48H"

[[terms]]
id = "freshness"
kind = "freshness"
title = "Data freshness SLA"
owner = "{person}"
fail_after = "PT24H"
warn_after = "PT12H"
"""


def contract_schema_json() -> bytes:
    from workbench.model.schema import contract_schema

    return (json.dumps(contract_schema(), indent=2, sort_keys=True) + "\n").encode()


def init_repo(
    target: Path,
    *,
    org: str = "Example Org",
    domain: str = "example.org",
    person: str = "data.lead",
    name: str = "Example Data Lead",
    email: str | None = None,
    now: datetime | None = None,
) -> Path:
    from workbench.repo.git import Author, GitRepo

    layout.checked_id(person, "person")  # it becomes a file name (keys, records)
    from workbench.model.people import checked_text

    checked_text("--org", org)
    checked_text("--name", name, name=True)
    target = Path(target)
    if (target / layout.SETTINGS).exists():
        raise WorkbenchError(f"{target} already has a workbench.toml")
    if target.exists() and any(p.name != ".git" for p in target.iterdir()):
        raise WorkbenchError(f"{target} is not empty; init needs an empty or new directory")
    target.mkdir(parents=True, exist_ok=True)
    git = GitRepo(target) if (target / ".git").exists() else GitRepo.init(target)
    email = email or f"{person}@{domain}"
    # What the user typed goes inside TOML strings: escaped, never spliced in raw.
    values = {
        "org": _inside_quotes(org),
        "domain": _inside_quotes(domain),
        "repo_id": str(uuid.uuid4()),
        "person": person,
        "consumer": "model.lead",
        "name": _inside_quotes(name),
        "email": _inside_quotes(email),
        "schema_line": layout.SCHEMA_LINE,
    }
    files = {
        layout.SETTINGS: SETTINGS_TEMPLATE.format(**values).encode(),
        layout.PEOPLE: PEOPLE_TEMPLATE.format(**values).encode(),
        "contracts/data-to-model.toml": CONTRACT_TEMPLATE.format(**values).encode(),
        layout.SCHEMA: contract_schema_json(),
        ".gitattributes": b"contracts/*.toml text eol=lf\n*.sig -text\n",
        "evidence/manifest.toml": b"# Registered evidence snapshots (workbench evidence add).\n",
    }
    _refuse_invalid(files, (now or datetime.now(UTC)).date())
    git.commit_files(
        files,
        "Start the governance repo\n\nCreated by `workbench init`.",
        Author(name, email),
        when=now or datetime.now(UTC),
    )
    return target


def _inside_quotes(value: str) -> str:
    from workbench.governance.records import toml_str

    return toml_str(value)[1:-1]


def _refuse_invalid(
    files: dict[str, bytes], today: date, options: str = "--org, --domain, --name, --email"
) -> None:
    """A new repo starts valid: a name or domain the files cannot hold is refused before
    anything is written, naming the options that set them."""
    from workbench.model.state import load_state

    problems = [
        p
        for path in (layout.SETTINGS, layout.PEOPLE)
        for p in load_state(files, today).problems_for(path)
        if p.severity == "error"
    ]
    if problems:
        raise WorkbenchError(
            f"cannot start a repository with these values (check {options}):\n  "
            + "\n  ".join(p.render() for p in problems)
        )
