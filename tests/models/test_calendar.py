"""When the monthly cycle happens: prompts on the first business day at 09:00 in the plan's zone,
reminders some business days later, a period closing when the next one's prompt goes out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.calendar import Calendar, public_holidays

NY = ZoneInfo("America/New_York")
CT = Calendar(holidays=public_holidays("US-CT"))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def test_new_years_day_moves_the_december_prompt_to_the_second() -> None:
    assert CT.prompt_at("2025-12") == local(2026, 1, 2, 9, 0)


def test_a_weekday_first_is_the_prompt_day() -> None:
    assert CT.prompt_at("2026-08") == local(2026, 9, 1, 9, 0)  # Tuesday 1 September


@pytest.mark.parametrize(
    ("period", "monday"),
    [("2026-07", date(2026, 8, 3)), ("2025-10", date(2025, 11, 3))],
)
def test_a_first_on_a_saturday_moves_to_the_monday(period: str, monday: date) -> None:
    assert monday.replace(day=1).weekday() == 5  # the 1st is a Saturday
    prompt = CT.prompt_at(period)
    assert prompt.date() == monday and prompt.strftime("%A") == "Monday"
    assert (prompt.hour, prompt.minute) == (9, 0)


def test_reminders_count_business_days_skipping_weekends_and_veterans_day() -> None:
    assert CT.prompt_at("2026-10") == local(2026, 11, 2, 9, 0)  # Sunday the 1st → Monday
    assert CT.reminder_at("2026-10", 1) == local(2026, 11, 5, 9, 0)  # Thursday
    # 3, 4, 5, 6, 9, 10, (Veterans Day 11 skipped), 12
    assert CT.reminder_at("2026-10", 2) == local(2026, 11, 12, 9, 0)


def test_connecticut_holidays_count_too() -> None:
    """Good Friday is a Connecticut holiday, not a federal one."""
    federal = Calendar(holidays=public_holidays("US"))
    assert CT.prompt_at("2026-03") == federal.prompt_at("2026-03") == local(2026, 4, 1, 9, 0)
    # Thursday 2, (Good Friday 3 skipped), Monday 6, Tuesday 7
    assert CT.reminder_at("2026-03", 1) == local(2026, 4, 7, 9, 0)
    assert federal.reminder_at("2026-03", 1) == local(2026, 4, 6, 9, 0)


def test_nine_stays_nine_local_across_daylight_saving() -> None:
    november = CT.prompt_at("2024-10")  # Friday 1 November 2024, still daylight time
    march = CT.prompt_at("2025-02")  # Monday 3 March 2025, standard time
    assert november.date() == date(2024, 11, 1) and march.date() == date(2025, 3, 3)
    assert november.astimezone(NY).hour == march.astimezone(NY).hour == 9
    assert november.utcoffset() == timedelta(hours=-4)
    assert march.utcoffset() == timedelta(hours=-5)
    assert november.astimezone(UTC) == datetime(2024, 11, 1, 13, 0, tzinfo=UTC)
    assert march.astimezone(UTC) == datetime(2025, 3, 3, 14, 0, tzinfo=UTC)


def test_a_reminder_after_the_clocks_change_is_still_at_nine_local() -> None:
    prompt = CT.prompt_at("2026-02")  # Monday 2 March 2026, standard time
    second = CT.reminder_at("2026-02", 2)  # Wednesday 11 March, after the 8 March change
    assert second == local(2026, 3, 11, 9, 0)
    assert prompt.astimezone(UTC).hour == 14 and second.astimezone(UTC).hour == 13


@pytest.mark.parametrize(
    ("period", "following", "closes"),
    [
        ("2025-11", "2025-12", date(2026, 1, 2)),
        ("2026-09", "2026-10", date(2026, 11, 2)),
        ("2026-12", "2027-01", date(2027, 2, 1)),
    ],
)
def test_a_period_closes_when_the_next_prompt_goes_out(
    period: str, following: str, closes: date
) -> None:
    assert CT.closes_at(period) == CT.prompt_at(following)
    assert CT.closes_at(period) == datetime.combine(closes, time(9, 0), tzinfo=NY)


def test_an_answer_is_late_from_the_moment_the_period_closes() -> None:
    closes = CT.closes_at("2026-10")
    assert closes == local(2026, 12, 1, 9, 0)
    assert not CT.is_late("2026-10", closes - timedelta(seconds=1))
    assert CT.is_late("2026-10", closes)
    assert CT.is_late("2026-10", closes + timedelta(seconds=1))
    # The same moments seen from UTC (14:00 UTC is 09:00 in New York in December).
    assert not CT.is_late("2026-10", datetime(2026, 12, 1, 13, 59, 59, tzinfo=UTC))
    assert CT.is_late("2026-10", datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    # After the second reminder but before the close is still on time.
    assert not CT.is_late("2026-10", CT.reminder_at("2026-10", 2))


def test_no_holidays_means_new_years_day_is_a_business_day() -> None:
    none = public_holidays("none")
    assert len(none) == 0 and date(2026, 1, 1) not in none  # type: ignore[arg-type]
    plain = Calendar(holidays=none)
    assert plain.is_business_day(date(2026, 1, 1))
    assert not CT.is_business_day(date(2026, 1, 1))
    assert plain.prompt_at("2025-12") == local(2026, 1, 1, 9, 0)
    # Weekends are never business days.
    assert not plain.is_business_day(date(2026, 1, 3))


def test_a_custom_prompt_time_and_reminder_days_are_honoured() -> None:
    early = Calendar(
        holidays=public_holidays("US-CT"), prompt_time=time(7, 30), reminder_days=(2, 5)
    )
    assert early.prompt_at("2026-10") == local(2026, 11, 2, 7, 30)
    assert early.reminder_at("2026-10", 1) == local(2026, 11, 4, 7, 30)
    assert early.reminder_at("2026-10", 2) == local(2026, 11, 9, 7, 30)  # 3, 4, 5, 6, 9
    assert early.closes_at("2026-10") == local(2026, 12, 1, 7, 30)


def test_another_time_zone_keeps_its_own_wall_clock() -> None:
    west = Calendar(timezone="America/Los_Angeles", holidays=public_holidays("US-CT"))
    prompt = west.prompt_at("2025-12")
    assert prompt == datetime(2026, 1, 2, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert prompt.astimezone(UTC) == datetime(2026, 1, 2, 17, 0, tzinfo=UTC)
