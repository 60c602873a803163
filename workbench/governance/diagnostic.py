"""The seam diagnostic: the article's six questions, answered separately by each side's lead.

Stored as ``diagnostics/<seam>/<stamp>.<person>.toml``, one file per answering (the newest
counts; earlier versions wrote ``<person>.toml``, still read); ``<seam>`` is a contract id,
or ``<provider>--<consumer>`` for an exchange that has no contract yet. The workbench flags
the seam when the two leads' answers disagree, or when each says the *other* side watches
it, or when either says nobody does: that is the ungoverned seam the article hunts for.

Pure: ``seam_diagnostics(state, files)``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import Field, ValidationError

from workbench.governance.records import render, toml_str
from workbench.governance.timing import iso, utc
from workbench.model.base import PersonRef, Strict
from workbench.model.contract import Contract
from workbench.model.duration import DurationField
from workbench.model.state import GovernanceState

# The moment in a file name: 20261127T090000Z (see `answers_path`).
_STAMP = re.compile(r"\d{8}T\d{6}Z")

DIAGNOSTICS_DIR = "diagnostics/"
Side = Literal["provider", "consumer"]
Watcher = Literal["our-side", "other-side", "both", "nobody"]
Surface = Literal["alert", "dashboard", "downstream-report", "audit", "unknown"]
YesNo = Literal["yes", "no", "unsure"]


@dataclass(frozen=True)
class Question:
    number: int
    key: str
    prompt: str
    kind: Literal["person", "text", "duration", "choice"]
    choices: tuple[str, ...] = ()
    help: str = ""


# The article's six questions; some have several parts so they can be compared.
QUESTIONS: tuple[Question, ...] = (
    Question(
        1,
        "interface_owner",
        "Who owns the interface between the two teams?",
        "person",
        help="a person id; 'the team' is not an answer",
    ),
    Question(
        2,
        "promises",
        "What does each side promise the other?",
        "text",
        help="in your words; shown side by side with the other lead's answer",
    ),
    Question(
        3, "paged", "If this seam's behaviour changed meaningfully tonight, who is paged?", "person"
    ),
    Question(
        3,
        "page_within",
        "How fast must they acknowledge the page?",
        "duration",
        help="ISO-8601, e.g. PT30M",
    ),
    Question(
        3,
        "page_mechanism",
        "Through what mechanism are they paged?",
        "text",
        help="e.g. pagerduty:applicant-data-oncall",
    ),
    Question(
        4,
        "violation_surfaces",
        "How would a violation surface?",
        "choice",
        ("alert", "dashboard", "downstream-report", "audit", "unknown"),
    ),
    Question(
        4,
        "watched_by",
        "Who watches this seam for violations?",
        "choice",
        ("our-side", "other-side", "both", "nobody"),
    ),
    Question(
        5,
        "change_channel",
        "How are changes to the seam notified?",
        "text",
        help="e.g. slack:#seam-applicant-credit",
    ),
    Question(5, "change_ack_by", "Who must acknowledge a change?", "person"),
    Question(5, "change_ack_within", "Within how long?", "duration", help="e.g. PT48H"),
    Question(
        6,
        "last_reviewed",
        "When was the contract last reviewed?",
        "text",
        help="YYYY-MM-DD, 'never' or 'unknown'",
    ),
    Question(
        6,
        "people_still_right",
        "Are the named people still the right people?",
        "choice",
        ("yes", "no", "unsure"),
    ),
)


class Answers(Strict):
    interface_owner: PersonRef
    promises: str = Field(min_length=1)
    paged: PersonRef
    page_within: DurationField
    page_mechanism: str = Field(min_length=1)
    violation_surfaces: Surface
    watched_by: Watcher
    change_channel: str = Field(min_length=1)
    change_ack_by: PersonRef
    change_ack_within: DurationField
    last_reviewed: str = Field(pattern=r"^(\d{4}-\d{2}-\d{2}|never|unknown)$")
    people_still_right: YesNo


class AnswerFile(Strict):
    seam: str
    respondent: PersonRef
    answered: datetime
    answers: Answers


@dataclass
class SeamRef:
    id: str  # contract id, or "<provider>--<consumer>"
    provider: str
    consumer: str
    provider_lead: str | None
    consumer_lead: str | None
    contract: Contract | None = None

    def side_of(self, person: str) -> Side | None:
        if person == self.provider_lead:
            return "provider"
        if person == self.consumer_lead:
            return "consumer"
        return None


@dataclass
class Flag:
    question: int
    key: str
    message: str

    def to_json(self) -> dict[str, object]:
        return {"question": self.question, "key": self.key, "message": self.message}


DiagnosticState = Literal["not-started", "incomplete", "agrees", "mismatch"]


@dataclass
class SeamDiagnostic:
    seam: str
    provider_lead: str | None
    consumer_lead: str | None
    answers: dict[str, AnswerFile] = field(default_factory=dict)  # side -> answers
    flags: list[Flag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def state(self) -> DiagnosticState:
        if self.flags and len(self.answers) == 2:
            return "mismatch"
        if not self.answers:
            return "not-started"
        if len(self.answers) < 2:
            return "incomplete"
        return "agrees"

    @property
    def waiting_for(self) -> list[str]:
        out = []
        if "provider" not in self.answers and self.provider_lead:
            out.append(self.provider_lead)
        if "consumer" not in self.answers and self.consumer_lead:
            out.append(self.consumer_lead)
        return out

    def side_by_side(self) -> list[tuple[int, str, str, str, str]]:
        """(question number, key, prompt, provider answer, consumer answer)."""
        rows = []
        for q in QUESTIONS:
            cells = []
            for side in ("provider", "consumer"):
                f = self.answers.get(side)
                cells.append(str(getattr(f.answers, q.key)) if f else "—")
            rows.append((q.number, q.key, q.prompt, cells[0], cells[1]))
        return rows

    def to_json(self) -> dict[str, object]:
        return {
            "seam": self.seam,
            "state": self.state,
            "provider_lead": self.provider_lead,
            "consumer_lead": self.consumer_lead,
            "waiting_for": self.waiting_for,
            "flags": [f.to_json() for f in self.flags],
            "notes": self.notes,
            "problems": self.problems,
            "answers": {
                side: {
                    "respondent": f.respondent,
                    "answered": iso(f.answered),
                    **f.answers.model_dump(mode="json"),
                }
                for side, f in self.answers.items()
            },
        }


def seam_refs(state: GovernanceState) -> dict[str, SeamRef]:
    out: dict[str, SeamRef] = {}
    for cid, doc in state.contracts.items():
        c = doc.contract
        out[cid] = SeamRef(
            cid,
            c.seam.provider,
            c.seam.consumer,
            c.parties.provider_lead,
            c.parties.consumer_lead,
            c,
        )
    governed = {(r.provider, r.consumer) for r in out.values()}
    if state.settings is not None:
        for ex in state.settings.exchanges:
            if (ex.provider, ex.consumer) in governed:
                continue
            pt, ct = state.teams.get(ex.provider), state.teams.get(ex.consumer)
            sid = f"{ex.provider}--{ex.consumer}"
            out[sid] = SeamRef(
                sid, ex.provider, ex.consumer, pt.lead if pt else None, ct.lead if ct else None
            )
    return out


def normalise_seam_id(seam: str) -> str:
    return seam.replace("->", "--")


def answers_path(seam: str, person: str, when: datetime | None = None) -> str:
    """`diagnostics/<seam>/<stamp>.<person>.toml`: one file per answering, so answers given
    in two clones never collide and the earlier answers stay as history (the newest
    counts). `when=None`: `<person>.toml`, the name of earlier versions (still read)."""
    moment = f"{utc(when).strftime('%Y%m%dT%H%M%SZ')}." if when is not None else ""
    return f"{DIAGNOSTICS_DIR}{normalise_seam_id(seam)}/{moment}{person}.toml"


def validate_answers(data: Mapping[str, object]) -> tuple[Answers | None, list[str]]:
    """Check one lead's answers (for the form and --answers FILE): value, or messages."""
    try:
        return Answers.model_validate(dict(data)), []
    except ValidationError as exc:
        msgs = []
        for err in exc.errors(include_url=False):
            key = ".".join(str(p) for p in err["loc"])
            q = next((q for q in QUESTIONS if q.key == key), None)
            label = f"question {q.number} ({key})" if q else key
            if err["type"] == "missing":
                msgs.append(f"{label}: no answer")
            elif err["type"] == "extra_forbidden":
                msgs.append(f"{key}: not one of the diagnostic questions")
            else:
                msgs.append(f"{label}: {str(err['msg']).removeprefix('Value error, ')}")
        return None, msgs


def render_answers(seam: str, respondent: str, answered: datetime, answers: Answers) -> bytes:
    head = render({"seam": normalise_seam_id(seam), "respondent": respondent, "answered": answered})
    lines = ["", "[answers]"]
    for q in QUESTIONS:
        value = getattr(answers, q.key)
        lines.append(f"{q.key} = {toml_str(str(value))}")
    return head + ("\n".join(lines) + "\n").encode("utf-8")


def _absolute(side: Side, watcher: str) -> str:
    other = "consumer" if side == "provider" else "provider"
    return {"our-side": side, "other-side": other}.get(watcher, watcher)


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def compare(ref: SeamRef, provider: Answers, consumer: Answers) -> list[Flag]:
    flags: list[Flag] = []

    def differ(number: int, key: str, what: str) -> None:
        a, b = getattr(provider, key), getattr(consumer, key)
        same = _same_text(str(a), str(b)) if isinstance(a, str) else a == b
        if not same:
            flags.append(
                Flag(
                    number,
                    key,
                    f"{what}: {ref.provider_lead} says {a}, {ref.consumer_lead} says {b}",
                )
            )

    differ(1, "interface_owner", "the two leads name different owners of the interface")
    differ(3, "paged", "they disagree on who is paged")
    differ(3, "page_within", "they disagree on how fast the page must be acknowledged")
    differ(3, "page_mechanism", "they disagree on the paging mechanism")
    differ(4, "violation_surfaces", "they disagree on how a violation would surface")
    p_watch = _absolute("provider", provider.watched_by)
    c_watch = _absolute("consumer", consumer.watched_by)
    if p_watch == "consumer" and c_watch == "provider":
        flags.append(
            Flag(4, "watched_by", "each side says the other side watches this seam: nobody owns it")
        )
    elif "nobody" in (p_watch, c_watch):
        flags.append(Flag(4, "watched_by", "a lead says nobody watches this seam"))
    elif p_watch != c_watch:
        flags.append(
            Flag(
                4,
                "watched_by",
                f"they disagree on who watches it: {ref.provider_lead} says {p_watch}, {ref.consumer_lead} says {c_watch}",
            )
        )
    for a in (provider, consumer):
        if a.violation_surfaces == "unknown":
            flags.append(
                Flag(4, "violation_surfaces", "a lead does not know how a violation would surface")
            )
            break
    differ(5, "change_channel", "they disagree on how changes are notified")
    differ(5, "change_ack_by", "they disagree on who acknowledges a change")
    differ(5, "change_ack_within", "they disagree on the acknowledgement window")
    differ(6, "last_reviewed", "they disagree on when the contract was last reviewed")
    for side, a in (("provider", provider), ("consumer", consumer)):
        if a.people_still_right != "yes":
            lead = ref.provider_lead if side == "provider" else ref.consumer_lead
            flags.append(
                Flag(
                    6,
                    "people_still_right",
                    f"{lead} is not sure the named people are still right ({a.people_still_right})",
                )
            )
    return flags


def contract_notes(ref: SeamRef, side: str, a: Answers) -> list[str]:
    """Where an answer differs from what the contract says (shown, not flagged)."""
    c = ref.contract
    if c is None:
        return [f"{side}: there is no contract for this seam yet"]
    notes = []
    checks = [
        ("interface_owner", c.owner, "owner"),
        ("paged", c.escalation.primary, "escalation.primary"),
        ("page_mechanism", c.escalation.channel, "escalation.channel"),
    ]
    for key, expected, where in checks:
        if not _same_text(str(getattr(a, key)), str(expected)):
            notes.append(
                f"{side}: {key} {getattr(a, key)} differs from the contract's {where} {expected}"
            )
    if a.page_within != c.escalation.ack_sla:
        notes.append(
            f"{side}: page_within {a.page_within} differs from the contract's ack_sla {c.escalation.ack_sla}"
        )
    return notes


def seam_diagnostics(
    state: GovernanceState, files: Mapping[str, bytes]
) -> dict[str, SeamDiagnostic]:
    refs = seam_refs(state)
    out = {sid: SeamDiagnostic(sid, r.provider_lead, r.consumer_lead) for sid, r in refs.items()}
    for path in sorted(files):
        if not path.startswith(DIAGNOSTICS_DIR) or not path.endswith(".toml"):
            continue
        seam, _, name = path.removeprefix(DIAGNOSTICS_DIR).partition("/")
        diag = out.get(seam)
        if diag is None:
            continue  # a seam that no longer exists: its answers are history
        stem = name.removesuffix(".toml")
        # <stamp>.<person>.toml, or <person>.toml as earlier versions wrote it.
        first, _, rest = stem.partition(".")
        person = rest if _STAMP.fullmatch(first) and rest else stem
        try:
            data = tomllib.loads(files[path].decode("utf-8"))
            parsed = AnswerFile.model_validate(data)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
            diag.problems.append(f"{path}: unreadable answers: {str(exc).splitlines()[0]}")
            continue
        ref = refs[seam]
        side = ref.side_of(parsed.respondent)
        if parsed.respondent != person or side is None:
            diag.problems.append(
                f"{path}: {parsed.respondent} is not a lead of this seam (or the file name differs); ignored"
            )
            continue
        parsed = parsed.model_copy(update={"answered": utc(parsed.answered)})
        earlier = diag.answers.get(side)
        if earlier is not None and earlier.answered > parsed.answered:
            continue  # the newest answers count; earlier ones are history
        diag.answers[side] = parsed
    for sid, diag in out.items():
        for answered_side, parsed in diag.answers.items():
            diag.notes += contract_notes(refs[sid], answered_side, parsed.answers)
        if "provider" in diag.answers and "consumer" in diag.answers:
            diag.flags = compare(
                refs[sid], diag.answers["provider"].answers, diag.answers["consumer"].answers
            )
    return out
