"""Post-mortem action items (``actions/<id>.toml``): named owner, due date, follow-up
cadence, and a conscious closure.

Pure: ``load_actions(files, state)`` parses and lints; ``action_statuses(items, now)`` says
which are overdue. Lint problems carry file, line and column like ``workbench validate``.

The vague-wording heuristic (docs/obligations.md): a title (plus its optional ``outcome``)
that uses a vague verb or noun ("improve", "resolve", "ensure", "alignment", …) and names
no number, date or named artefact (a ticket id such as ``RISK-142``, a path, a URL, a
`backticked` name, a quoted name, a term, contract or person id) is an error: it names no
measurable outcome. "Improve monitoring" is a wish; "Page sam.ortiz when feature lag p95
exceeds 12h" is an action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_core import ErrorDetails

from workbench.governance.timing import cadence_state, end_of_day, iso, relative
from workbench.model.base import PersonRef, Slug, Strict
from workbench.model.duration import Duration, DurationField
from workbench.model.ids import checked_id
from workbench.model.people import Authority
from workbench.model.problems import Problem
from workbench.model.state import Document, GovernanceState, parse_document, person_problem

ACTIONS_DIR = "actions/"


def action_path(action_id: str) -> str:
    """actions/<id>.toml, for a valid id only (UnsafePath otherwise)."""
    return f"{ACTIONS_DIR}{checked_id(action_id, 'action item')}.toml"


DEFAULT_AUTHORITY = Authority.lead

VAGUE_TERMS = (
    "improve",
    "improving",
    "improvement",
    "resolve",
    "ensure",
    "align",
    "alignment",
    "enhance",
    "better",
    "look into",
    "investigate",
    "clarify",
    "address",
    "consider",
    "revisit",
    "streamline",
    "strengthen",
    "optimise",
    "optimize",
    "communicate",
    "communication",
    "coordinate",
    "coordination",
    "discuss",
    "follow up on",
    "work with",
    "explore",
    "raise awareness",
    "ambiguity",
    "as needed",
    "where possible",
    "going forward",
)
_VAGUE = re.compile(
    r"\b(" + "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in VAGUE_TERMS) + r")\b",
    re.IGNORECASE,
)
_ANCHORS = (
    re.compile(r"\d"),  # a number, a date, an SLA ("12h", "p95", "2026-12-15")
    re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b"),  # a ticket id
    re.compile(r"https?://\S+"),  # a URL
    re.compile(r"`[^`]+`"),  # a backticked name
    re.compile(r"[\"“][^\"”]+[\"”]"),  # a quoted name
    re.compile(r"\b[\w.-]+/[\w./-]+\b"),  # a path
)


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    not_doing = "not-doing"


class Closure(Strict):
    closed: date | None = None
    evidence: str = Field(default="", description="done: what shows it is done (link, commit)")
    reason: str = Field(default="", description="not-doing: why it will not be done")
    approver: PersonRef | None = Field(default=None, description="not-doing: who approved it")


class ActionItem(Strict):
    title: str = Field(min_length=1, max_length=300)
    seam: Slug = Field(description="contract id of the seam the incident crossed")
    term: str = Field(default="", description="id of the term that failed, if any")
    owner: PersonRef
    authority: Authority = Field(
        default=DEFAULT_AUTHORITY, description="the authority level the item needs"
    )
    due: date | None = None
    cadence: DurationField | None = Field(default=None, description="follow-up cadence")
    status: ActionStatus = ActionStatus.open
    outcome: str = Field(default="", description="the measurable outcome, if not in the title")
    incident: str = ""
    opened: date | None = None
    last_follow_up: date | None = None
    closure: Closure | None = None


@dataclass
class ActionDoc:
    id: str
    path: str
    item: ActionItem | None
    document: Document
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


ActionState = Literal["open", "due-soon", "overdue", "done", "not-doing", "invalid"]


@dataclass
class ActionView:
    id: str
    path: str
    title: str
    seam: str
    term: str
    owner: str
    owner_name: str
    due: datetime | None
    state: ActionState
    follow_up: datetime | None
    follow_up_due: bool
    problems: list[Problem]
    closure: str = ""
    now: datetime | None = None

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"

    @property
    def when(self) -> str:
        return relative(self.due, self.now) if self.due and self.now else "—"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "seam": self.seam,
            "term": self.term,
            "owner": self.owner,
            "owner_name": self.owner_name,
            "due": iso(self.due),
            "when": self.when,
            "state": self.state,
            "follow_up": iso(self.follow_up),
            "follow_up_due": self.follow_up_due,
            "closure": self.closure,
            "problems": [p.to_json() for p in self.problems],
        }


def is_action_path(path: str) -> bool:
    return path.startswith(ACTIONS_DIR) and path.endswith(".toml") and path.count("/") == 1


def vague_reason(text: str, named: set[str]) -> tuple[str, str] | None:
    """(the vague word, why) when `text` is vague wording with no measurable outcome."""
    match = _VAGUE.search(text)
    if match is None:
        return None
    if any(a.search(text) for a in _ANCHORS):
        return None
    words = set(re.findall(r"[a-z0-9][a-z0-9._-]*", text.lower()))
    if words & named:
        return None
    return match.group(1), (
        f"vague wording: {match.group(1)!r} with no measurable outcome (no number, date or "
        "named artefact such as a ticket, path, term or person); say what will exist or be "
        "true when it is done, e.g. 'Page sam.ortiz when feature lag p95 exceeds 12h'"
    )


def _schema_problem(doc: Document, err: ErrorDetails) -> Problem:
    loc = tuple(err["loc"])
    if err["type"] == "missing":
        message = f"missing required field '{loc[-1]}'"
    elif err["type"] == "extra_forbidden":
        message = f"unknown field '{loc[-1]}' (see docs/obligations.md)"
    else:
        message = str(err["msg"]).removeprefix("Value error, ")
        if not isinstance(err.get("input"), dict | list):
            message += f" (got {err.get('input')!r})"
    return doc.problem(loc, "action.schema", message)


def _value_position(doc: Document, key: str, needle: str) -> tuple[int, int]:
    line, column = doc.locations.find((key,)) or (1, 1)
    if doc.text:
        lines = doc.text.splitlines()
        if 0 < line <= len(lines):
            idx = lines[line - 1].lower().find(needle.lower())
            if idx >= 0:
                return line, idx + 1
    return line, column


def lint_action(
    doc: Document, item: ActionItem, state: GovernanceState, today: date
) -> list[Problem]:
    problems: list[Problem] = []
    owner_problem = person_problem(state, doc, ("owner",), item.owner, today, accountable=True)
    if owner_problem is not None:
        problems.append(owner_problem)
    else:
        person = state.people[item.owner]
        if person.authority.rank < item.authority.rank:
            problems.append(
                doc.problem(
                    ("owner",),
                    "action.authority",
                    f"{person.name} ({item.owner}) has authority {person.authority.value!r}; this "
                    f"item needs {item.authority.value!r} or above to change the cross-team structure",
                )
            )
    if item.due is None:
        problems.append(
            doc.problem(
                (),
                "action.no-due",
                "no due date: add `due = YYYY-MM-DD`; an item without a deadline never falls due",
            )
        )
    if item.cadence is None:
        problems.append(
            doc.problem(
                (),
                "action.no-cadence",
                'no follow-up cadence: add `cadence = "P14D"` (how often the owner reports progress)',
            )
        )
    contract_doc = state.contracts.get(item.seam)
    if contract_doc is None:
        problems.append(
            doc.problem(
                ("seam",),
                "action.unknown-seam",
                f"seam {item.seam!r} is not a contract id in contracts/",
            )
        )
    elif item.term and contract_doc.contract.term(item.term) is None:
        problems.append(
            doc.problem(
                ("term",), "action.unknown-term", f"contract {item.seam} has no term {item.term!r}"
            )
        )
    named = set(state.people) | set(state.contracts)
    if contract_doc is not None:
        named |= {t.id for t in contract_doc.contract.terms}
    vague = vague_reason(f"{item.title} {item.outcome}", named)
    if vague is not None:
        word, reason = vague
        line, column = _value_position(doc, "title", word)
        problems.append(Problem(doc.path, line, column, "error", "action.vague", reason, "title"))
    problems += _lint_closure(doc, item, state, today)
    return problems


def _lint_closure(
    doc: Document, item: ActionItem, state: GovernanceState, today: date
) -> list[Problem]:
    problems: list[Problem] = []
    closure = item.closure
    if item.status == ActionStatus.open:
        if closure is not None:
            problems.append(
                doc.problem(
                    ("closure",),
                    "action.closure",
                    "the item is open but has a [closure]; set status or remove it",
                    "warning",
                )
            )
        return problems
    if closure is None:
        what = "evidence" if item.status == ActionStatus.done else "reason and approver"
        return [
            doc.problem(
                ("status",),
                "action.closure",
                f"status {item.status.value!r} needs a [closure] with its {what}: closing is a conscious act",
            )
        ]
    if closure.closed is None:
        problems.append(
            doc.problem(("closure",), "action.closure", "[closure] needs `closed = YYYY-MM-DD`")
        )
    if item.status == ActionStatus.done and not closure.evidence.strip():
        problems.append(
            doc.problem(
                ("closure",),
                "action.closure",
                "done needs `evidence` (a link, commit or ticket showing it is done)",
            )
        )
    if item.status == ActionStatus.not_doing:
        if not closure.reason.strip():
            problems.append(
                doc.problem(("closure",), "action.closure", "not-doing needs a `reason`")
            )
        if closure.approver is None:
            problems.append(
                doc.problem(
                    ("closure",),
                    "action.closure",
                    "not-doing needs an `approver`: the named person who accepted not doing it",
                )
            )
        else:
            p = person_problem(
                state, doc, ("closure", "approver"), closure.approver, today, accountable=False
            )
            if p is not None:
                problems.append(p)
            elif closure.approver in state.people and (
                state.people[closure.approver].authority.rank < item.authority.rank
            ):
                problems.append(
                    doc.problem(
                        ("closure", "approver"),
                        "action.authority",
                        f"approver {closure.approver} has less authority than the item needs ({item.authority.value})",
                    )
                )
    return problems


def load_actions(
    files: Mapping[str, bytes], state: GovernanceState, today: date
) -> list[ActionDoc]:
    out: list[ActionDoc] = []
    for path in sorted(p for p in files if is_action_path(p)):
        action_id = path.removeprefix(ACTIONS_DIR).removesuffix(".toml")
        doc, problems = parse_document(path, files[path])
        item: ActionItem | None = None
        if doc.data is not None:
            try:
                item = ActionItem.model_validate(doc.data)
            except ValidationError as exc:
                problems += [_schema_problem(doc, e) for e in exc.errors(include_url=False)]
        if item is not None:
            problems += lint_action(doc, item, state, today)
        problems.sort(key=lambda p: (p.line, p.column, p.code))
        out.append(ActionDoc(action_id, path, item, doc, problems))
    return out


def action_statuses(
    docs: list[ActionDoc], state: GovernanceState, now: datetime
) -> list[ActionView]:
    defaults = state.policy.defaults
    out = []
    for d in docs:
        item = d.item
        if item is None:
            out.append(
                ActionView(
                    d.id,
                    d.path,
                    d.id,
                    "",
                    "",
                    "",
                    "",
                    None,
                    "invalid",
                    None,
                    False,
                    d.problems,
                    now=now,
                )
            )
            continue
        person = state.people.get(item.owner)
        due = end_of_day(item.due) if item.due else None
        closure = ""
        if item.status == ActionStatus.done:
            view_state: ActionState = "done"
            closure = f"done: {item.closure.evidence}" if item.closure else "done"
        elif item.status == ActionStatus.not_doing:
            view_state = "not-doing"
            if item.closure:
                closure = f"not doing: {item.closure.reason} (approved by {item.closure.approver})"
        elif due is None:
            view_state = "open"
        else:
            s = cadence_state(due, now, defaults.due_soon)
            view_state = "open" if s == "ok" else s
        follow_up, follow_due = _follow_up(item, item.cadence)
        out.append(
            ActionView(
                d.id,
                d.path,
                item.title,
                item.seam,
                item.term,
                item.owner,
                person.name if person else item.owner,
                due,
                view_state,
                follow_up,
                follow_due is not None and item.status == ActionStatus.open and now >= follow_due,
                d.problems,
                closure,
                now,
            )
        )
    return out


def _follow_up(
    item: ActionItem, cadence: Duration | None
) -> tuple[datetime | None, datetime | None]:
    base = item.last_follow_up or item.opened
    if cadence is None or base is None:
        return None, None
    moment = end_of_day(cadence.add_to(base))
    return moment, moment


def render_action(fields: Mapping[str, object]) -> bytes:
    """Deterministic TOML for a new action item (the CLI's `actions new`)."""
    from workbench.governance.records import toml_value

    lines = []
    closure = fields.get("closure")
    for key, value in fields.items():
        if key == "closure" or value is None or value == "":
            continue
        if isinstance(value, date) and not isinstance(value, datetime):
            lines.append(f"{key} = {value.isoformat()}")
        else:
            lines.append(f"{key} = {toml_value(value)}")
    if isinstance(closure, Mapping):
        lines.append("")
        lines.append("[closure]")
        for key, value in closure.items():
            if value is None or value == "":
                continue
            text = value.isoformat() if isinstance(value, date) else toml_value(value)
            lines.append(f"{key} = {text}")
    return ("\n".join(lines) + "\n").encode("utf-8")
