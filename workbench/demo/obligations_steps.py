"""Demo: obligations over time, after the signing and evidence steps.

After this step the demo shows, at ``now``:

* one overdue review: ``claims-agent-to-claims-product`` (never reviewed since its
  adoption; every other contract was reviewed, signed, with its contacts confirmed);
* one change notice past its 48 h window: the Marcus Webb → Yuki Tanaka hand-over on
  ``policy-data-to-claims-agent`` is still unacknowledged by aisha.rahman (the earlier SLA
  tightening on the credit chain was acknowledged a day late: it is on the quarterly
  boundary review's agenda);
* two post-mortem action items from the stale-policy incident: one good, one vague
  ("Resolve ownership ambiguity …");
* one diagnostic mismatch: on ``policy-data-to-claims-agent`` each lead says the other
  side watches the seam.

``docs/obligations.md`` walks through fixing each of them with the CLI.
"""

from __future__ import annotations

from datetime import timedelta

from workbench.demo.build import DemoContext

OVERDUE_REVIEW = "claims-agent-to-claims-product"
UNACKED = "policy-data-to-claims-agent"
VAGUE_ACTION = "inc-2041-ownership"
GOOD_ACTION = "inc-2041-sidecar-index"
MISMATCH = "policy-data-to-claims-agent"

# (days ago, reviewer, contract)
# Signed records must be made after their parent commit (docs/obligations.md, "What a
# signed local time can and cannot prove"), so the demo's reviews and its acknowledgement
# follow the signing room's last commit (the comment-only edit 6 days ago) in build order.
REVIEWS = [
    (5.9, "dana.okafor", "applicant-data-to-credit-model"),
    (5.8, "ravi.iyer", "credit-model-to-loan-decisioning"),
    (5.7, "priya.nair", "loan-decisioning-to-fair-lending"),
    (5.6, "tomas.lindqvist", "policy-data-to-claims-agent"),
]

GOOD_ACTION_TOML = """\
title = "Index the endorsements-sidecar system in the claims agent's retrieval pipeline, with its lag under the 24h policy-freshness SLA"
seam = "policy-data-to-claims-agent"
term = "policy-freshness"
owner = "tomas.lindqvist"
authority = "lead"
incident = "INC-2041"
opened = {opened}
due = {due}
cadence = "P14D"
status = "open"
"""

VAGUE_ACTION_TOML = """\
title = "Resolve ownership ambiguity between policy data and claims agent teams"
seam = "policy-data-to-claims-agent"
owner = "erin.walsh"
authority = "vp"
incident = "INC-2041"
opened = {opened}
due = {due}
cadence = "P14D"
status = "open"
"""

# Each lead thinks the other side watches the seam: the article's ungoverned seam.
PROVIDER_ANSWERS = {
    "interface_owner": "tomas.lindqvist",
    "promises": "Policy changes from the core policy system are indexed within 24 hours.",
    "paged": "yuki.tanaka",
    "page_within": "PT30M",
    "page_mechanism": "pagerduty:policy-data-oncall",
    "violation_surfaces": "alert",
    "watched_by": "other-side",
    "change_channel": "slack:#seam-policy-claims",
    "change_ack_by": "aisha.rahman",
    "change_ack_within": "PT48H",
    "last_reviewed": "unknown",
    "people_still_right": "yes",
}
CONSUMER_ANSWERS = {
    **PROVIDER_ANSWERS,
    "interface_owner": "tomas.lindqvist",
    "promises": "The agent only answers from policies in the retrieval index.",
    "violation_surfaces": "downstream-report",
    "watched_by": "other-side",
}


def obligations_step(ctx: DemoContext) -> None:
    from workbench.service.core import Workbench
    from workbench.service.obligations import Obligations

    def service(pid: str, days: float) -> Obligations:
        return Workbench(ctx.root, now=ctx.now - timedelta(days=days), actor=pid).obligations

    for days, pid, contract in REVIEWS:
        service(pid, days).reviews.complete(
            contract,
            contacts_confirmed=True,
            notes="Terms, owners and escalation contacts checked with both leads.",
        )

    # The credit-chain SLA tightening (120 days ago) was acknowledged late, once the key
    # registry was in place.
    late = service("ravi.iyer", 5.5)
    late.notices.acknowledge(
        "applicant-data-to-credit-model",
        "1",
        note="Acknowledged after the quarter-end freeze; the model already reads daily features.",
    )

    today = ctx.now.date()
    wb = Workbench(ctx.root, now=ctx.now - timedelta(days=5), actor="tomas.lindqvist")
    wb.commit(
        {
            f"actions/{GOOD_ACTION}.toml": GOOD_ACTION_TOML.format(
                opened=today - timedelta(days=5), due=today + timedelta(days=20)
            ).encode(),
            f"actions/{VAGUE_ACTION}.toml": VAGUE_ACTION_TOML.format(
                opened=today - timedelta(days=5), due=today + timedelta(days=30)
            ).encode(),
        },
        "Post-mortem INC-2041 (stale policy data): action items\n",
    )

    service("tomas.lindqvist", 4.0).diagnostics.answer(MISMATCH, PROVIDER_ANSWERS)
    service("aisha.rahman", 3.0).diagnostics.answer(MISMATCH, CONSUMER_ANSWERS)
