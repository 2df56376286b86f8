"""Reporting periods (YYYY-MM) and the one time-zone helper."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    """Text that is not a reporting period."""


def local_now(timezone: str, now: datetime | None = None) -> datetime:
    """The time in the plan's time zone; `now` (aware) lets callers and tests fix the clock."""
    moment = now if now is not None else datetime.now(UTC)
    return moment.astimezone(ZoneInfo(timezone))


def parse_period(text: str) -> str:
    text = text.strip()
    if not _PERIOD.match(text):
        raise PeriodError(f"{text!r} is not a period: write YYYY-MM, e.g. 2026-10")
    return text


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@lru_cache(maxsize=1024)  # called per row by the digest's attention list and the calendar
def previous_period(period: str) -> str:
    year, month = (int(part) for part in parse_period(period).split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


@lru_cache(maxsize=1024)
def next_period(period: str) -> str:
    year, month = (int(part) for part in parse_period(period).split("-"))
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def open_period(timezone: str, now: datetime | None = None) -> str:
    """The period leads are reporting on now: last month, asked for at the start of this one."""
    return previous_period(period_of(local_now(timezone, now).date()))


@lru_cache(maxsize=256)  # a digest labels thousands of lines with a few months
def period_label(period: str) -> str:
    """'2026-10' → 'October 2026'."""
    year, month = (int(part) for part in parse_period(period).split("-"))
    return date(year, month, 1).strftime("%B %Y")


def recent_periods(last: str, count: int) -> list[str]:
    """`count` periods ending with `last`, oldest first."""
    periods = [parse_period(last)]
    while len(periods) < count:
        periods.append(previous_period(periods[-1]))
    return periods[::-1]
