"""Deadlines and cadence states shared by reviews, notices and action items.

Rules (docs/obligations.md, "Time rules"):

* a deadline given as a *date* lasts through that day in UTC: it falls due at 00:00:00 UTC
  of the next day;
* a deadline computed from an instant (a commit, a completed review) is that exact instant;
* an obligation is *overdue* from its due instant on (``now >= due``);
* it is *due soon* when it is not overdue and ``due - now <= due_soon`` (7 days by default,
  so exactly 7 days before the due instant is already "due soon").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, overload

from workbench.model.duration import Duration

CadenceState = Literal["ok", "due-soon", "overdue"]


def end_of_day(day: date) -> datetime:
    """The due instant of a date-only deadline: the start of the following UTC day."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def cadence_state(due: datetime, now: datetime, due_soon: Duration) -> CadenceState:
    if now >= due:
        return "overdue"
    if due - now <= due_soon.approx():
        return "due-soon"
    return "ok"


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_delta(delta: timedelta) -> str:
    """'3d 4h', '47m', '0m' for a non-negative span (the sign is the caller's business)."""
    seconds = int(abs(delta).total_seconds())
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if minutes and not days:
        parts.append(f"{minutes}m")
    return " ".join(parts) or f"{seconds}s"


def relative(due: datetime, now: datetime) -> str:
    """'in 3d 4h' or '2d 1h ago'."""
    if due >= now:
        return f"in {human_delta(due - now)}"
    return f"{human_delta(now - due)} ago"
