"""Measures judged against their targets: the vocabularies (direction, frequency, how a year is
read), fiscal years, and the one status computed from the numbers. Pure: no database here.

A fiscal year is named for the calendar year it ends in: with a July start, FY2016 runs from
July 2015 to June 2016. Every actual is for a month (YYYY-MM, as updates are); a quarterly
measure is due in the last month of each fiscal quarter, an annual one in the fiscal year's last
month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from models.periods import parse_period

DEFAULT_BAND = 0.10


class Direction(StrEnum):
    HIGHER = "higher"  # higher is better (graduation rate)
    LOWER = "lower"  # lower is better (311 response time)

    @property
    def arrow(self) -> str:
        return "↑" if self is Direction.HIGHER else "↓"

    @property
    def words(self) -> str:
        return "higher is better" if self is Direction.HIGHER else "lower is better"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "annual": 12}[self.value]


class Aggregation(StrEnum):
    """How a measure's figure for a period is read from its actuals."""

    LATEST = "latest"  # the period's own value (a rate, a level)
    SUM = "sum"  # the fiscal year's values so far, added up, against the year's target pro rata
    AVERAGE = "average"  # the fiscal year's values so far, averaged


class MeasureStatus(StrEnum):
    """Computed from the numbers, never typed."""

    MET = "met"
    NEAR = "near"
    MISSED = "missed"
    NO_DATA = "no_data"  # no actual for the period
    NO_TARGET = "no_target"  # a number, but nothing to judge it against

    @property
    def symbol(self) -> str:
        return _LOOK[self][0]

    @property
    def word(self) -> str:
        return _LOOK[self][1]

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.word}"

    @property
    def needs_attention(self) -> bool:
        return self in (MeasureStatus.NEAR, MeasureStatus.MISSED)


# One symbol and one word, readable without colour, none shared with an initiative's status.
_LOOK = {
    MeasureStatus.MET: ("✓", "Met"),
    MeasureStatus.NEAR: ("≈", "Near"),
    MeasureStatus.MISSED: ("✗", "Missed"),
    MeasureStatus.NO_DATA: ("–", "No data"),
    MeasureStatus.NO_TARGET: ("·", "No target"),
}
# Worst first: the order lists and the digest show measures in.
SEVERITY = (
    MeasureStatus.MISSED,
    MeasureStatus.NEAR,
    MeasureStatus.NO_DATA,
    MeasureStatus.NO_TARGET,
    MeasureStatus.MET,
)


def judge(
    value: float | None, target: float | None, direction: Direction, band: float
) -> MeasureStatus:
    """Met at or beyond the target in the good direction; Near within `band` (a share of the
    target's size) short of it; Missed beyond that."""
    if value is None:
        return MeasureStatus.NO_DATA
    if target is None:
        return MeasureStatus.NO_TARGET
    short = target - value if direction is Direction.HIGHER else value - target
    if short <= 0:
        return MeasureStatus.MET
    # A hair of tolerance so that "exactly at the band's edge" is Near whatever the float.
    if short <= band * abs(target) * (1 + 1e-9):
        return MeasureStatus.NEAR
    return MeasureStatus.MISSED


# --- fiscal years ---------------------------------------------------------------------------
# Cached: a digest or `/plan measures` judges thousands of measures over the same dozen months,
# and these were most of its time. Their arguments are a few distinct months and settings.


# Calendar answers kept per function: the periods a plan is read at are few, but every period
# someone types is one more key; bounded, so that no stream of them grows the process (issue
# 18: memory that stays flat).
CACHED = 1024


@lru_cache(maxsize=CACHED)
def _year_month(period: str) -> tuple[int, int]:
    year, month = (int(part) for part in parse_period(period).split("-"))
    return year, month


@lru_cache(maxsize=CACHED)
def fiscal_year(period: str, start_month: int) -> int:
    """The fiscal year a month falls in, named for the calendar year it ends in."""
    year, month = _year_month(period)
    if start_month == 1:
        return year
    return year + 1 if month >= start_month else year


@lru_cache(maxsize=CACHED)
def fiscal_label(period: str, start_month: int) -> str:
    return f"FY{fiscal_year(period, start_month)}"


@lru_cache(maxsize=CACHED)
def fiscal_months(year: int, start_month: int) -> tuple[str, ...]:
    """The twelve periods of fiscal year `year`, in order."""
    first_year = year if start_month == 1 else year - 1
    return tuple(
        f"{first_year + (start_month - 1 + offset) // 12:04d}-"
        f"{(start_month - 1 + offset) % 12 + 1:02d}"
        for offset in range(12)
    )


def month_of_fiscal_year(period: str, start_month: int) -> int:
    """1 for the fiscal year's first month … 12 for its last."""
    _, month = _year_month(period)
    return (month - start_month) % 12 + 1


@lru_cache(maxsize=CACHED)
def is_due(period: str, frequency: Frequency, start_month: int) -> bool:
    """Whether a measure of this frequency takes a value for `period`."""
    return month_of_fiscal_year(period, start_month) % frequency.months == 0


def due_periods(frequency: Frequency, periods: Iterable[str], start_month: int) -> list[str]:
    return [p for p in periods if is_due(p, frequency, start_month)]


@lru_cache(maxsize=CACHED)  # the digest judges thousands of measures at a handful of periods
def due_to_date(period: str, frequency: Frequency, start_month: int) -> tuple[str, ...]:
    """The periods of `period`'s fiscal year, up to it, that a measure of this frequency is
    due in, in order."""
    months = fiscal_months(fiscal_year(period, start_month), start_month)
    return tuple(due_periods(frequency, (p for p in months if p <= period), start_month))


# --- a period's figure and its target ----------------------------------------------------------


@dataclass(frozen=True)
class MeasureRule:
    """What judging a measure needs to know about it."""

    direction: Direction
    frequency: Frequency
    aggregation: Aggregation
    band: float = DEFAULT_BAND


@dataclass(frozen=True)
class Judged:
    period: str
    actual: float | None  # the period's own value
    figure: float | None  # what is judged: the value, or the year to date
    target: float | None  # what the figure is judged against
    status: MeasureStatus


def target_for(targets: Mapping[str, float], period: str, start_month: int) -> float | None:
    """The period's own target, else its fiscal year's."""
    if period in targets:
        return targets[period]
    return targets.get(fiscal_label(period, start_month))


def judge_period(
    rule: MeasureRule,
    values: Mapping[str, float],
    targets: Mapping[str, float],
    period: str,
    start_month: int,
) -> Judged:
    """`values` are the latest value of each period. A LATEST measure is its period's value
    against the period's target; SUM and AVERAGE read the fiscal year to date (its due periods
    up to `period`): a sum against the year's target pro rata (a period's own target, when
    set, is taken as the year-to-date target), an average against the target as it is."""
    actual = values.get(period)
    if actual is None:
        return Judged(
            period, None, None, target_for(targets, period, start_month), MeasureStatus.NO_DATA
        )
    if rule.aggregation is Aggregation.LATEST:
        target = target_for(targets, period, start_month)
        return Judged(
            period, actual, actual, target, judge(actual, target, rule.direction, rule.band)
        )
    year = fiscal_year(period, start_month)
    due = due_to_date(period, rule.frequency, start_month)
    given = [values[p] for p in due if p in values]
    if rule.aggregation is Aggregation.SUM:
        figure = sum(given)
        if period in targets:
            year_target: float | None = targets[period]
        else:
            yearly = targets.get(f"FY{year}")
            per_year = 12 // rule.frequency.months
            year_target = None if yearly is None else yearly * len(due) / per_year
    else:
        figure = sum(given) / len(given)
        year_target = target_for(targets, period, start_month)
    return Judged(
        period, actual, figure, year_target, judge(figure, year_target, rule.direction, rule.band)
    )


def worse(before: Judged | None, now: Judged, direction: Direction) -> bool:
    """Whether a measure got worse from one judged period to another: a worse status, or the
    same status with the figure moved the wrong way."""
    if before is None or before.figure is None or now.figure is None:
        return False
    rank = {s: i for i, s in enumerate(SEVERITY)}
    if rank[now.status] != rank[before.status]:
        return rank[now.status] < rank[before.status]
    moved = now.figure - before.figure
    return moved < 0 if direction is Direction.HIGHER else moved > 0
