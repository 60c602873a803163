"""Records of signed acts kept in the governance repo: completed reviews, acknowledgements
of change notices, and receipts of weekly reports.

Each record is a small TOML file written deterministically by the workbench. When the key
registry is set up, the acting person's signature accompanies it as an in-toto statement
(subject: the record file and its sha256) and a detached SSHSIG signature:

    reviews/<contract>/<stamp>.<person>.toml            the record
    reviews/<contract>/<stamp>.<person>.statement.json  the statement over it
    reviews/<contract>/<stamp>.<person>.sig             the signature (review namespace)

Acknowledgements live in ``acks/<contract>/<commit12>-<stamp>.<person>.toml`` (ack
namespace), receipts in ``reports/receipts/<week>/<contract>--<term>--<person>--<stamp>.toml``
(review namespace). Every name carries its person and moment, so two clones never write the
same path (docs/sync.md); the names of earlier versions, without the moment, are still read.

A record is named after the person whose obligation it settles (``reviewer`` / ``person``).
When their delegate acts for them, ``by`` names the delegate: the signature is the
delegate's, and the record counts only while keys/people.toml names them as that person's
delegate with enough authority (``workbench.governance.delegation``). A review of one term
(a review a failing term triggered, ``triggers_review_of``) names it in ``term``.

Pure: parsing takes ``{path: bytes}``; signature checking is the service's job, whose
result comes back in as ``SigStatus`` per record path.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol, TypeVar

from workbench.governance.timing import iso, utc
from workbench.model.record_folders import ACKS_DIR, RECEIPTS_DIR, REVIEWS_DIR
from workbench.model.toml_cache import record_table

# valid: a good signature by the record's person; unsigned: no signature file (accepted
# only where the repo has no key registry); invalid: a signature that does not verify or
# is by someone else (never counts).
SigStatus = Literal["valid", "unsigned", "invalid"]

_RECORD = re.compile(r"(?P<stem>[A-Za-z0-9][A-Za-z0-9_-]*)\.(?P<person>[a-z0-9][a-z0-9._-]*)\.toml")


def toml_str(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML also forbids DEL.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return iso(value) or ""
    if isinstance(value, date):
        return value.isoformat()  # a TOML local date
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return toml_str(str(value))


def render(fields: Mapping[str, Any]) -> bytes:
    """Deterministic TOML for a flat record (None values are left out)."""
    lines = [f"{k} = {toml_value(v)}" for k, v in fields.items() if v is not None]
    return ("\n".join(lines) + "\n").encode("utf-8")


def stamp(moment: datetime) -> str:
    """The moment in a record's file name: UTC, to the second."""
    return utc(moment).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class RecordProblem:
    path: str
    message: str


@dataclass(frozen=True)
class ReviewRecord:
    path: str
    contract: str
    reviewer: str
    completed: datetime
    contract_sha256: str
    contacts_confirmed: bool
    outcome: str
    notes: str
    signature: SigStatus = "unsigned"
    by: str = ""  # the delegate who acted for `reviewer`, if anyone
    term: str = ""  # a review of this term only (one a failing term triggered)

    @property
    def signer(self) -> str:
        return self.by or self.reviewer

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "contract": self.contract,
            "reviewer": self.reviewer,
            "by": self.by or None,
            "term": self.term or None,
            "completed": iso(self.completed),
            "contract_sha256": self.contract_sha256,
            "contacts_confirmed": self.contacts_confirmed,
            "outcome": self.outcome,
            "notes": self.notes,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class AckRecord:
    path: str
    contract: str
    commit: str
    person: str
    acknowledged: datetime
    coverage_confirmed: bool
    note: str
    signature: SigStatus = "unsigned"
    by: str = ""  # the delegate who acted for `person`, if anyone

    @property
    def signer(self) -> str:
        return self.by or self.person

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "contract": self.contract,
            "commit": self.commit,
            "person": self.person,
            "by": self.by or None,
            "acknowledged": iso(self.acknowledged),
            "coverage_confirmed": self.coverage_confirmed,
            "note": self.note,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class ReceiptRecord:
    path: str
    week: str
    term: str
    contract: str
    person: str
    received: datetime
    report_sha256: str
    signature: SigStatus = "unsigned"


@dataclass
class Records:
    reviews: dict[str, list[ReviewRecord]] = field(default_factory=dict)  # by contract
    acks: dict[str, list[AckRecord]] = field(default_factory=dict)  # by contract
    receipts: list[ReceiptRecord] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)


def review_path(contract: str, when: datetime, person: str) -> str:
    return f"{REVIEWS_DIR}{contract}/{stamp(when)}.{person}.toml"


def ack_path(contract: str, commit: str, person: str, when: datetime | None = None) -> str:
    """`acks/<contract>/<commit12>-<stamp>.<person>.toml`: unique to its person and moment,
    so the same person acknowledging in two clones writes two files, never one path twice
    (the earliest counts). `when=None` names it as earlier versions did (still read)."""
    moment = f"-{stamp(when)}" if when is not None else ""
    return f"{ACKS_DIR}{contract}/{commit[:12]}{moment}.{person}.toml"


def receipt_path(
    week: str, term: str, contract: str, person: str, when: datetime | None = None
) -> str:
    """`reports/receipts/<week>/<contract>--<term>--<person>--<stamp>.toml` (the moment
    makes it unique across clones; `when=None`: the name of earlier versions, still read)."""
    moment = f"--{stamp(when)}" if when is not None else ""
    return f"{RECEIPTS_DIR}{week}/{contract}--{term}--{person}{moment}.toml"


def record_person(path: str, raw: bytes) -> str | None:
    """The person who signed a record (to check its signature): its delegate ``by`` when
    one acted, else the person it is for; None if unreadable."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    value = data.get("reviewer") if path.startswith(REVIEWS_DIR) else data.get("person")
    by = data.get("by")
    if by is not None and path.startswith((REVIEWS_DIR, ACKS_DIR)):
        value = by
    return value if isinstance(value, str) else None


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return utc(value)
    raise ValueError(f"expected a date-time such as 2026-11-27T09:00:00Z, got {value!r}")


def parse_records(
    files: Mapping[str, bytes], signatures: Mapping[str, SigStatus] | None = None
) -> Records:
    signatures = signatures or {}
    out = Records()
    for path in sorted(files):
        if not path.endswith(".toml"):
            continue
        if path.startswith(REVIEWS_DIR):
            kind = "review"
            rest = path.removeprefix(REVIEWS_DIR)
        elif path.startswith(ACKS_DIR):
            kind = "ack"
            rest = path.removeprefix(ACKS_DIR)
        elif path.startswith(RECEIPTS_DIR):
            kind = "receipt"
            rest = path.removeprefix(RECEIPTS_DIR)
        else:
            continue
        folder, _, name = rest.partition("/")
        match = (
            _RECORD.fullmatch(name) if kind != "receipt" else re.fullmatch(r"(?P<person>.+)", name)
        )
        if not folder or "/" in name or match is None:
            out.problems.append(RecordProblem(path, "not a record file name; ignored"))
            continue
        try:
            data = tomllib.loads(files[path].decode("utf-8"))
            sig = signatures.get(path, "unsigned")
            person = match.group("person")
            if kind == "review":
                rec = ReviewRecord(
                    path,
                    str(data["contract"]),
                    str(data["reviewer"]),
                    _time(data["completed"]),
                    str(data.get("contract_sha256", "")),
                    bool(data.get("contacts_confirmed", False)),
                    str(data.get("outcome", "no-change")),
                    str(data.get("notes", "")),
                    sig,
                    _optional(data, "by"),
                    _optional(data, "term"),
                )
                _check(rec.contract == folder and rec.reviewer == person, path)
                out.reviews.setdefault(rec.contract, []).append(rec)
            elif kind == "ack":
                ack = AckRecord(
                    path,
                    str(data["contract"]),
                    str(data["commit"]),
                    str(data["person"]),
                    _time(data["acknowledged"]),
                    bool(data.get("coverage_confirmed", False)),
                    str(data.get("note", "")),
                    sig,
                    _optional(data, "by"),
                )
                _check(ack.contract == folder and ack.person == person, path)
                out.acks.setdefault(ack.contract, []).append(ack)
            else:
                out.receipts.append(
                    ReceiptRecord(
                        path,
                        str(data["week"]),
                        str(data["term"]),
                        str(data["contract"]),
                        str(data["person"]),
                        _time(data["received"]),
                        str(data["report_sha256"]),
                        sig,
                    )
                )
        except (KeyError, ValueError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            out.problems.append(RecordProblem(path, f"unreadable record: {what}"))
    for recs in out.reviews.values():
        recs.sort(key=lambda r: (r.completed, r.path))
    for acks in out.acks.values():
        acks.sort(key=lambda r: (r.acknowledged, r.path))
    return out


def _optional(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {value!r}")
    return value


def _check(ok: bool, path: str) -> None:
    if not ok:
        raise ValueError(f"{path}: the file name and its contract/person fields disagree")


# --------------------------------------------------------------------------- one record folder
# Clock, closure, page-acknowledgement and delivery records share one shape: a folder of
# `<id>/<stamp>.<person>[.<act>].toml` files, each a flat TOML table whose fields must repeat
# what its name says. One reader serves all four, so a malformed file is refused the same
# way (and with the same words) by the CLI, the app, the gate and verify-bundle.


class _Recorded(Protocol):
    @property
    def recorded(self) -> datetime: ...


R = TypeVar("R", bound=_Recorded)

# What a record's own fields may raise when they are malformed (DurationError is a
# ValueError): each becomes a problem naming the file, never a traceback.
_UNREADABLE = (KeyError, TypeError, ValueError, UnicodeDecodeError, tomllib.TOMLDecodeError)


def read_record_folder(
    files: Mapping[str, bytes],
    folder: str,
    name: re.Pattern[str],
    what: str,
    build: Callable[[str, bytes, dict[str, Any]], R],
    named: Callable[[R], dict[str, str]],
) -> tuple[list[R], list[str]]:
    """Every record under `folder` (sorted by path), and why each other file there is not one.

    `name` matches a file's path below the folder and has a ``stamp`` group; `build` makes
    the record from its path, bytes and TOML table (raising on a bad field); `named` gives
    the fields the name must repeat, keyed by the name's groups (with ``stamp`` checked
    against ``recorded``). `what` names the kind in the problems ("clock record")."""
    out: list[R] = []
    problems: list[str] = []
    for path in sorted(files):
        if not (path.startswith(folder) and path.endswith(".toml")):
            continue
        m = name.fullmatch(path.removeprefix(folder))
        if m is None:
            problems.append(f"{path}: not a {what} name; ignored")
            continue
        try:
            raw = files[path]
            rec = build(path, raw, record_table(raw))
        except _UNREADABLE as exc:
            why = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            problems.append(f"{path}: unreadable {what}: {why}")
            continue
        fields = named(rec)
        if any(m.group(k) != v for k, v in fields.items()) or stamp(rec.recorded) != m.group(
            "stamp"
        ):
            problems.append(f"{path}: the file name and its {'/'.join(fields)}/time disagree")
            continue
        out.append(rec)
    return out, problems


def text_field(data: Mapping[str, Any], key: str) -> str:
    """A required, non-empty string field."""
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def time_field(data: Mapping[str, Any], key: str) -> datetime:
    """A required date-time field with its offset (TOML's offset date-time), in UTC."""
    value = data.get(key)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    raise ValueError(f"{key} must be a UTC date-time such as 2026-11-27T09:00:00Z, got {value!r}")


def optional_time_field(data: Mapping[str, Any], key: str) -> datetime | None:
    return time_field(data, key) if key in data else None
