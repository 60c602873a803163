"""Review obligations: each contract's scheduled review and its escalation-contact check.

Pure: ``review_statuses(state, history, records, now, signatures_required)``.

* Only ``active`` and ``deprecated`` contracts are reviewed. Adoption is the contract's
  ``adopted`` date, or the day of its first commit when that field is empty.
* The first review falls due ``review.first_after`` (default ``first_review_after``, P30D)
  after adoption; afterwards ``review.cadence`` (default P3M) after the last completed
  review (calendar months).
* The contact check (is each named escalation contact still the right person?) falls due
  ``review.contact_check`` (default P3M) after adoption, then after the last review that
  confirmed the contacts. A contact who has left makes it overdue at once.
* Who may complete a review: the contract owner or either party lead, who has not left,
  or their delegate (``workbench.governance.delegation``). Records by anyone else, or with
  an invalid signature, are listed but do not count; an unsigned record counts only while
  the repository has no key registry.
* A term that names another in ``triggers_review_of`` (a distribution shift naming the
  decision threshold) opens a review of that term when it fails: a *term review*, due at
  the moment of the failing run (so overdue at once) until someone reviews that term
  afterwards (``workbench review ID --term TERM``): the term's owner or change co-signer,
  the contract owner or a party lead. Each new failing episode opens it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from workbench.governance.delegation import delegation_problem
from workbench.governance.history import History
from workbench.governance.records import Records, ReviewRecord
from workbench.governance.timing import (
    cadence_state,
    end_of_day,
    iso,
    relative,
    start_of_day,
)
from workbench.model.contract import Contract, ContractStatus
from workbench.model.duration import Duration
from workbench.model.settings import Defaults
from workbench.model.state import GovernanceState

ReviewKind = Literal["review", "contact-check", "term-review"]
ReviewState = Literal["ok", "due-soon", "overdue", "not-scheduled"]
REVIEWED_STATUSES = (ContractStatus.active, ContractStatus.deprecated)


@dataclass(frozen=True)
class Departed:
    """Someone named on the contract who has left, with their recorded successor."""

    role: str
    person: str
    name: str
    left: str
    replaced_by: str | None

    def render(self) -> str:
        successor = f", replaced by {self.replaced_by}" if self.replaced_by else ", no successor"
        return f"{self.role} {self.name} ({self.person}) left {self.left}{successor}"

    def to_json(self) -> dict[str, object]:
        return {
            "role": self.role,
            "person": self.person,
            "name": self.name,
            "left": self.left,
            "replaced_by": self.replaced_by,
        }


@dataclass
class ReviewStatus:
    contract: str
    title: str
    kind: ReviewKind
    state: ReviewState
    due: datetime | None
    basis: str
    reviewers: list[str]  # who can complete it
    last: ReviewRecord | None = None
    departed: list[Departed] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # records that did not count, and why
    now: datetime | None = None
    term: str | None = None  # term-review: the term to review

    @property
    def when(self) -> str:
        if self.due is None or self.now is None:
            return "—"
        return relative(self.due, self.now)

    @property
    def action(self) -> str:
        """What to do, in one line (for the Due screen and the CLI)."""
        if self.state == "not-scheduled":
            return self.basis
        who = " or ".join(self.reviewers) or "nobody eligible (name a new owner)"
        if self.kind == "term-review":
            return f"{who}: `workbench review {self.contract} --term {self.term}`"
        if self.kind == "contact-check":
            return f"{who}: `workbench review {self.contract} --contacts-confirmed`"
        return f"{who}: `workbench review {self.contract}`"

    def to_json(self) -> dict[str, object]:
        return {
            "contract": self.contract,
            "title": self.title,
            "kind": self.kind,
            "term": self.term,
            "state": self.state,
            "due": iso(self.due),
            "when": self.when,
            "basis": self.basis,
            "reviewers": self.reviewers,
            "action": self.action,
            "last": self.last.to_json() if self.last else None,
            "departed": [d.to_json() for d in self.departed],
            "ignored": self.ignored,
        }


def eligible_reviewers(contract: Contract, term: str | None = None) -> list[str]:
    """Who may complete the contract's review, or (with `term`) the review of that term."""
    out = [contract.owner, contract.parties.provider_lead, contract.parties.consumer_lead]
    reviewed = contract.term(term) if term else None
    if reviewed is not None:
        cosigner = getattr(reviewed, "change_cosigner", None)
        out = [reviewed.owner, *([cosigner] if cosigner else []), *out]
    return list(dict.fromkeys(out))


def reviewable_terms(contract: Contract) -> list[str]:
    """Terms another term names in ``triggers_review_of``: the ones with a term review."""
    named = [getattr(t, "triggers_review_of", "") for t in contract.terms]
    return list(dict.fromkeys(t for t in named if t and contract.term(t) is not None))


@dataclass(frozen=True)
class ReviewTrigger:
    """A failing term that opens the review of the term it names."""

    contract: str
    term: str  # the term to review (e.g. the decision threshold)
    by_term: str  # the term that failed (e.g. the distribution shift)
    since: datetime  # the failing run
    ref: str  # the violation episode


def review_triggers(
    state: GovernanceState, failures: Iterable[tuple[str, str, datetime, str]]
) -> list[ReviewTrigger]:
    """Failures (contract, term, first failing run, violation id) of terms that name another
    in ``triggers_review_of``, as the term reviews they open."""
    out = []
    for cid, term_id, since, ref in failures:
        doc = state.contracts.get(cid)
        term = doc.contract.term(term_id) if doc is not None else None
        target = getattr(term, "triggers_review_of", "") if term is not None else ""
        if target and doc is not None and doc.contract.term(target) is not None:
            out.append(ReviewTrigger(cid, target, term_id, since, ref))
    return out


def departed_people(state: GovernanceState, contract: Contract, now: datetime) -> list[Departed]:
    """People who own, lead or get paged for this contract and have left."""
    roles = [
        ("owner", contract.owner),
        ("provider lead", contract.parties.provider_lead),
        ("consumer lead", contract.parties.consumer_lead),
        ("escalation primary", contract.escalation.primary),
        ("escalation backup", contract.escalation.backup),
    ]
    roles += [(f"owner of term {t.id}", t.owner) for t in contract.terms]
    out = []
    for role, pid in roles:
        person = state.people.get(pid)
        if person is not None and person.has_left(now.date()):
            out.append(Departed(role, pid, person.name, str(person.left), person.replaced_by))
    return out


def _settings_defaults(state: GovernanceState) -> Defaults:
    """workbench.toml's defaults, each at most its signed limit (docs/obligations.md)."""
    return state.policy.defaults


def adoption(state_contract: Contract, history: History) -> datetime | None:
    if state_contract.adopted is not None:
        return start_of_day(state_contract.adopted)
    hist = history.get(state_contract.id)
    if hist and hist.first:
        return hist.first.time
    return None


def counting_reviews(
    contract: Contract,
    records: list[ReviewRecord],
    state: GovernanceState,
    signatures_required: bool,
    term: str | None = None,
) -> tuple[list[ReviewRecord], list[str]]:
    """The records that complete the contract's review (or, with `term`, that term's
    review), and why each other one does not count."""
    eligible = set(eligible_reviewers(contract, term))
    counted, ignored = [], []
    for rec in records:
        if (rec.term or None) != term:
            continue
        person = state.people.get(rec.reviewer)
        delegated = (
            delegation_problem(state, rec.signer, rec.reviewer, rec.completed)
            if rec.signer != rec.reviewer
            else None
        )
        if rec.reviewer not in eligible:
            what = f"term {term}" if term else "this contract"
            ignored.append(f"{rec.path}: {rec.reviewer} may not review {what}")
        elif person is not None and person.has_left(rec.completed.date()):
            ignored.append(f"{rec.path}: {rec.reviewer} had left when this review was recorded")
        elif delegated is not None:
            ignored.append(f"{rec.path}: {delegated}")
        elif rec.signature == "invalid":
            ignored.append(f"{rec.path}: the signature does not verify")
        elif rec.signature == "unsigned" and signatures_required:
            ignored.append(f"{rec.path}: not signed (sign it with `workbench review`)")
        else:
            counted.append(rec)
    return counted, ignored


def review_statuses(
    state: GovernanceState,
    history: History,
    records: Records,
    now: datetime,
    *,
    signatures_required: bool = False,
    triggers: Sequence[ReviewTrigger] = (),
) -> list[ReviewStatus]:
    defaults = _settings_defaults(state)
    out: list[ReviewStatus] = []
    by_contract: dict[str, list[ReviewTrigger]] = {}
    for trigger in triggers:
        by_contract.setdefault(trigger.contract, []).append(trigger)
    for cid, doc in sorted(state.contracts.items()):
        c = doc.contract
        reviewers = [
            p
            for p in eligible_reviewers(c)
            if (person := state.people.get(p)) is not None and not person.has_left(now.date())
        ]
        departed = departed_people(state, c, now)
        adopted = adoption(c, history)
        if c.status not in REVIEWED_STATUSES or adopted is None:
            why = (
                f"not reviewed while {c.status.value}"
                if c.status not in REVIEWED_STATUSES
                else "no adoption date and no commit yet"
            )
            for kind in ("review", "contact-check"):
                out.append(
                    ReviewStatus(
                        cid,
                        c.title,
                        kind,
                        "not-scheduled",
                        None,
                        why,
                        reviewers,
                        None,
                        departed,
                        now=now,
                    )
                )
            continue
        counted, ignored = counting_reviews(
            c, records.reviews.get(cid, []), state, signatures_required
        )
        # The contract's own value, else the default; never beyond the signed limit.
        cadence = state.policy.window("review_cadence", c.review.cadence)
        first_after = state.policy.window("first_review_after", c.review.first_after)
        contact_every = state.policy.window("contact_check", c.review.contact_check)
        last = counted[-1] if counted else None
        adopted_text = f"adopted {adopted.date()}"
        if last is None:
            due = _due_from(adopted, first_after, date_based=c.adopted is not None)
            basis = f"first review: {adopted_text} + {first_after}"
        else:
            due = cadence.add_to(last.completed)
            basis = f"last review {iso(last.completed)} by {last.reviewer} + {cadence}"
        out.append(
            ReviewStatus(
                cid,
                c.title,
                "review",
                cadence_state(due, now, defaults.due_soon),
                due,
                basis,
                reviewers,
                last,
                departed,
                ignored,
                now,
            )
        )
        confirmed = [r for r in counted if r.contacts_confirmed]
        last_check = confirmed[-1] if confirmed else None
        if last_check is None:
            due = _due_from(adopted, contact_every, date_based=c.adopted is not None)
            basis = f"first contact check: {adopted_text} + {contact_every}"
        else:
            due = contact_every.add_to(last_check.completed)
            basis = f"contacts confirmed {iso(last_check.completed)} by {last_check.reviewer} + {contact_every}"
        contacts = [d for d in departed if d.role.startswith("escalation")]
        check_state = cadence_state(due, now, defaults.due_soon)
        if contacts:
            check_state = "overdue"
            basis = "; ".join(d.render() for d in contacts) + " (the contact must be re-named)"
        out.append(
            ReviewStatus(
                cid,
                c.title,
                "contact-check",
                check_state,
                due,
                basis,
                reviewers,
                last_check,
                departed,
                [],
                now,
            )
        )
        out += _term_reviews(
            state, c, by_contract.get(cid, []), records, now, signatures_required, departed
        )
    return out


def _term_reviews(
    state: GovernanceState,
    c: Contract,
    triggers: list[ReviewTrigger],
    records: Records,
    now: datetime,
    signatures_required: bool,
    departed: list[Departed],
) -> list[ReviewStatus]:
    """One status per term a failure opened a review of: overdue from the failing run until
    someone eligible reviews that term after it."""
    defaults = _settings_defaults(state)
    out = []
    for term in dict.fromkeys(t.term for t in triggers):
        latest = max((t for t in triggers if t.term == term), key=lambda t: t.since)
        counted, ignored = counting_reviews(
            c, records.reviews.get(c.id, []), state, signatures_required, term
        )
        last = counted[-1] if counted else None
        reviewers = [
            p
            for p in eligible_reviewers(c, term)
            if (person := state.people.get(p)) is not None and not person.has_left(now.date())
        ]
        basis = (
            f"{latest.by_term} failed at {iso(latest.since)} ({latest.ref}); "
            f"it triggers a review of {term}"
        )
        review_state: ReviewState
        if last is not None and last.completed >= latest.since:
            review_state = "ok"
            basis += f": reviewed {iso(last.completed)} by {last.reviewer}"
        else:
            review_state = cadence_state(latest.since, now, defaults.due_soon)
        out.append(
            ReviewStatus(
                c.id,
                c.title,
                "term-review",
                review_state,
                latest.since,
                basis,
                reviewers,
                last,
                departed,
                ignored,
                now,
                term,
            )
        )
    return out


def _due_from(start: datetime, span: Duration, date_based: bool) -> datetime:
    """Adoption dates are days: the due date is a day, due through its end (UTC)."""
    if date_based:
        return end_of_day(span.add_to(start.date()))
    return span.add_to(start)
