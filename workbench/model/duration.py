"""ISO-8601 durations (`PT48H`, `P3M`, `P1Y2M10DT2H30M`) as used throughout contracts.

Calendar parts (years, months) are kept apart from exact parts so that "quarterly" means
three calendar months when added to a date, while SLAs such as `PT1H` compare exactly.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from workbench.model.errors import WorkbenchError

_PATTERN = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)

# Used only to order durations that mix calendar and exact parts (e.g. "is P1M longer than
# P30D?"). Adding a duration to a date never uses these approximations.
_APPROX_MONTH = timedelta(days=30)


class DurationError(WorkbenchError, ValueError):
    pass


@dataclass(frozen=True, order=False)
class Duration:
    text: str
    months: int
    exact: timedelta

    @classmethod
    def parse(cls, text: str) -> Duration:
        if isinstance(text, str):
            return _parse_cached(text)
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str) -> Duration:
        if not isinstance(text, str):
            raise DurationError(
                f"expected an ISO-8601 duration string such as 'PT48H', got {text!r}"
            )
        match = _PATTERN.match(text.strip())
        if not match or text.strip() in ("P", "PT"):
            raise DurationError(
                f"{text!r} is not an ISO-8601 duration (examples: 'PT48H', 'PT30M', 'P7D', 'P3M')"
            )
        parts = {k: v for k, v in match.groupdict().items() if v is not None}
        months = int(parts.get("years", 0)) * 12 + int(parts.get("months", 0))
        exact = timedelta(
            weeks=int(parts.get("weeks", 0)),
            days=int(parts.get("days", 0)),
            hours=int(parts.get("hours", 0)),
            minutes=int(parts.get("minutes", 0)),
            seconds=float(parts.get("seconds", 0)),
        )
        if months == 0 and exact == timedelta(0):
            raise DurationError(f"{text!r} is a zero duration; give a positive length")
        return cls(text=text.strip(), months=months, exact=exact)

    def approx(self) -> timedelta:
        return self.months * _APPROX_MONTH + self.exact

    def total_seconds(self) -> float:
        return self.approx().total_seconds()

    def add_to(self, moment: datetime | date) -> Any:
        """Add calendar months first (clamping the day), then the exact part."""
        if self.months:
            moment = _add_months(moment, self.months)
        if isinstance(moment, datetime):
            return moment + self.exact
        return moment + timedelta(days=self.exact.days)

    def __str__(self) -> str:
        return self.text

    def __lt__(self, other: Duration) -> bool:
        return self.approx() < other.approx()

    def __le__(self, other: Duration) -> bool:
        return self.approx() <= other.approx()

    def __gt__(self, other: Duration) -> bool:
        return self.approx() > other.approx()

    def __ge__(self, other: Duration) -> bool:
        return self.approx() >= other.approx()

    def human(self) -> str:
        seconds = int(self.exact.total_seconds())
        parts: list[str] = []
        if self.months:
            years, months = divmod(self.months, 12)
            if years:
                parts.append(f"{years}y")
            if months:
                parts.append(f"{months}mo")
        days, rem = divmod(seconds, 86400)
        hours, rem = divmod(rem, 3600)
        minutes = rem // 60
        if days:
            parts.append(f"{days}d")
        if hours:
            parts.append(f"{hours}h")
        if minutes:
            parts.append(f"{minutes}m")
        return " ".join(parts) or self.text


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Duration:
    # Durations are immutable and a repo repeats a handful of them thousands of times.
    return Duration._parse(text)


def _add_months(moment: Any, months: int) -> Any:
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, _days_in_month(year, month))
    return moment.replace(year=year, month=month, day=day)


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def _coerce(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    return Duration.parse(value)


DurationField = Annotated[
    Duration,
    BeforeValidator(_coerce),
    PlainSerializer(lambda d: d.text, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _PATTERN.pattern,
            "description": "ISO-8601 duration, e.g. PT48H, PT30M, P7D, P3M",
        }
    ),
]
