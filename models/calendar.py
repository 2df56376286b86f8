"""Business days and the monthly cycle's moments, in the plan's time zone.

A period's prompt goes out on the first business day of the following month at the prompt
time; reminders follow after a number of business days; a period closes when the next period's
prompt goes out, and an answer after that is recorded and flagged late."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_tables

from models.periods import next_period, parse_period

_MAX_SCAN_DAYS = 60


def public_holidays(region: str) -> Container[date]:
    """`US-CT` → the United States' and Connecticut's public holidays; `none` → none."""
    if region.strip().lower() in ("", "none"):
        return frozenset()
    country, _, subdivision = region.strip().partition("-")
    return holiday_tables.country_holidays(country.upper(), subdiv=subdivision.upper() or None)


@dataclass(frozen=True)
class Calendar:
    timezone: str = "America/New_York"
    holidays: Container[date] = field(default_factory=frozenset)
    prompt_time: time = time(9, 0)
    reminder_days: tuple[int, ...] = (3, 7)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def first_business_day(self, year: int, month: int) -> date:
        day = date(year, month, 1)
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_business_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no business day in the first {_MAX_SCAN_DAYS} days of {year}-{month}")

    def add_business_days(self, day: date, count: int) -> date:
        for _ in range(count):
            day += timedelta(days=1)
            while not self.is_business_day(day):
                day += timedelta(days=1)
        return day

    def prompt_day(self, period: str) -> date:
        year, month = (int(part) for part in next_period(parse_period(period)).split("-"))
        return self.first_business_day(year, month)

    def _at(self, day: date) -> datetime:
        # Wall-clock time in the plan's zone, so 09:00 stays 09:00 across daylight saving.
        return datetime.combine(day, self.prompt_time, tzinfo=self.zone)

    def prompt_at(self, period: str) -> datetime:
        return self._at(self.prompt_day(period))

    def reminder_at(self, period: str, ordinal: int) -> datetime:
        """When reminder `ordinal` (1, 2, …) for a period is due."""
        days = self.reminder_days[ordinal - 1]
        return self._at(self.add_business_days(self.prompt_day(period), days))

    def closes_at(self, period: str) -> datetime:
        return self.prompt_at(next_period(period))

    def is_late(self, period: str, received_at: datetime) -> bool:
        return received_at >= self.closes_at(period)


WORKDAY_ENDS = time(18, 0)  # no reminder by direct message from this hour until the next morning


def their_hours(
    moment: datetime, zone: ZoneInfo, starts: time, ends: time = WORKDAY_ENDS
) -> datetime:
    """The first instant at or after `moment` that is within someone's working hours in their
    own `zone`: Monday to Friday, from `starts` (the prompt's hour) until `ends`. So a reminder
    due at 9:00 in Hartford reaches Honolulu at 9:00 there, and nobody gets one at night."""
    local = moment.astimezone(zone)
    day = local.date()
    for _ in range(8):
        opens = datetime.combine(day, starts, tzinfo=zone)
        closes = datetime.combine(day, ends, tzinfo=zone)
        if day.weekday() < 5:
            if local < opens:
                return opens.astimezone(moment.tzinfo)
            if local < closes:
                return moment
        day += timedelta(days=1)
    return moment  # not reached: a week always has a working day
