"""The latest status of every initiative, as rows a city could publish on its open-data portal:
statuses in words ("On track") and people by name, with the status key kept in its own column
for whoever joins the file with other data."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.planfile import slug
from models.queries import dialect_of, initiative_rows
from models.status import Status, look
from models.tables import (
    Actual,
    Department,
    Goal,
    Initiative,
    InitiativeGoal,
    Measure,
    Plan,
)

EXPORT_FORMATS = ("csv", "json")


@dataclass(frozen=True)
class ExportRow:
    department_key: str
    department_name: str
    number: int
    parent_number: int | None
    text: str
    goals: str  # goal keys separated by ";"
    status: str  # as people read it: "On track", "No update"
    status_key: str  # as programs read it: "on_track", "no_update"
    percent: int | None
    note: str
    period: str
    author: str  # the person's name (see `with_names`); a Slack user id until then
    updated_at: str  # ISO 8601, UTC


NO_UPDATE_KEY = "no_update"


async def export_rows(session: AsyncSession, plan_id: int, period: str) -> list[ExportRow]:
    """Two statements: initiatives with their latest update, and their goals."""
    rows = (
        await session.exec(
            initiative_rows(period, dialect_of(session))
            .where(col(Department.plan_id) == plan_id)
            .order_by(col(Department.position), col(Initiative.number))
        )
    ).all()
    goal_rows = await session.exec(
        select(col(InitiativeGoal.initiative_id), col(Goal.key))
        .join(Goal, col(Goal.id) == col(InitiativeGoal.goal_id))
        .where(col(Goal.plan_id) == plan_id)
        .order_by(col(InitiativeGoal.initiative_id), sa.asc(col(Goal.position)))
    )
    goals: dict[int, list[str]] = {}
    for initiative_id, key in goal_rows:
        goals.setdefault(initiative_id, []).append(key)
    return [
        ExportRow(
            department_key=row.department_key,
            department_name=row.department_name,
            number=row.number,
            parent_number=row.parent_number,
            text=row.text,
            goals=";".join(goals.get(row.id, [])),
            status=look(Status(row.status) if row.status else None).word,
            status_key=row.status or NO_UPDATE_KEY,
            percent=row.percent,
            note=row.note or "",
            period=row.period or "",
            author=row.author or "",
            updated_at=row.received_at.isoformat() if row.received_at else "",
        )
        for row in rows
    ]


def authors(rows: list[ExportRow]) -> list[str]:
    """The user ids of everyone who wrote a latest update, once each."""
    return list(dict.fromkeys(row.author for row in rows if row.author))


def with_names(rows: list[ExportRow], names: Mapping[str, str]) -> list[ExportRow]:
    """The rows with each author's user id replaced by their name, where it is known."""
    return [replace(row, author=names.get(row.author, row.author)) for row in rows]


def export_filename(plan: Plan, period: str, fmt: str = "csv") -> str:
    """'city-of-hartford-fiscal-year-2016-strategic-plan-status-2026-10.csv': the plan's name,
    and its fiscal year only when the name does not say it already."""
    name = slug(plan.name) or "plan"
    years = re.findall(r"\d+", plan.fiscal_year)
    if plan.fiscal_year and not all(year in name for year in years):
        name += "-" + slug(plan.fiscal_year)
    return f"{name}-status-{period}.{fmt}"


def _cell(value: object) -> object:
    """A note typed as `=HYPERLINK(…)` must stay text when the file is opened in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: Sequence[Any], row_type: type[Any] = ExportRow) -> str:
    """Rows (dataclasses of `row_type`) as CSV with a header, every cell safe to open in a
    spreadsheet."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[f.name for f in fields(row_type)])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in asdict(row).items()})
    return buffer.getvalue()


def to_json(rows: Sequence[Any]) -> str:
    return json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2) + "\n"


def render_export(rows: Sequence[Any], fmt: str, row_type: type[Any] = ExportRow) -> str:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use csv or json")
    return to_csv(rows, row_type) if fmt == "csv" else to_json(rows)


# --- measures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureExportRow:
    """One measure in one period, named as performance records name them (the US Commerce
    Department's KPI records: indicator, unit, direction, fiscal year, period, actual, target,
    status), so that a city's open-data team recognises the columns."""

    indicator: str  # the measure's name
    indicator_key: str
    unit: str
    direction: str  # "higher is better" / "lower is better"
    frequency: str  # monthly, quarterly, annual
    fiscal_year: str  # "FY2027"
    period: str  # YYYY-MM
    actual: float | None  # the period's value (empty when none came)
    year_to_date: float | None  # what is judged for sums and averages; empty for the others
    target: float | None  # what the figure is judged against (year to date, pro rata, for sums)
    status: str  # as people read it: "Met", "Near", "Missed", "No data", "No target"
    status_key: str  # as programs read it: met, near, missed, no_data, no_target
    goal: str  # goal keys separated by ";"
    department: str
    department_key: str
    note: str
    source: str  # form, thread, file, api, fetch, import (sample data)
    sample: bool  # made-up figures shipped for trying Plan Bot, never a city's own
    updated_at: str  # ISO 8601, UTC


def _rounded(value: float | None) -> float | None:
    """A computed figure (a pro rata target, an average) without float noise: 104.1667."""
    return None if value is None else round(value, 4)


async def measure_export_rows(
    session: AsyncSession,
    plan_id: int,
    period: str,
    *,
    start_month: int,
    only_period: bool = False,
) -> list[MeasureExportRow]:
    """Every measure's figures up to `period`: one row per period it has a value for, oldest
    first, measure by measure. With `only_period`, one row per measure due in `period`, with no
    figure ("No data") where none came. Five statements."""
    from models.measure_status import fiscal_label
    from models.measures import measure_views
    from models.periods import recent_periods

    first = (
        await session.exec(
            select(sa.func.min(col(Actual.period)))
            .join(Measure, col(Measure.id) == col(Actual.measure_id))
            .where(col(Measure.plan_id) == plan_id, col(Actual.period) <= period)
        )
    ).one()
    span = 1 if only_period or first is None else _months(first, period) + 1
    periods = recent_periods(period, span)
    views = await measure_views(session, plan_id, periods, start_month=start_month)
    if not views:
        return []
    # In the plan's order of goals, as the initiatives' export lists them.
    goals = (
        await session.exec(
            select(col(Goal.id), col(Goal.key))
            .where(col(Goal.plan_id) == plan_id)
            .order_by(col(Goal.position))
        )
    ).all()
    rows = []
    for view in views:
        wanted = (
            [period]
            if only_period and view.due(period, start_month)
            else []
            if only_period
            else [p for p in periods if p in view.values]
        )
        for p in wanted:
            judged = view.judged(p, start_month)
            latest = view.latest.get(p)
            ytd = view.rule.aggregation.value != "latest"
            rows.append(
                MeasureExportRow(
                    indicator=view.name,
                    indicator_key=view.key,
                    unit=view.unit,
                    direction=view.direction.words,
                    frequency=view.rule.frequency.value,
                    fiscal_year=fiscal_label(p, start_month),
                    period=p,
                    actual=judged.actual,
                    year_to_date=_rounded(judged.figure) if ytd else None,
                    target=_rounded(judged.target),
                    status=judged.status.word,
                    status_key=judged.status.value,
                    goal=";".join(key for goal_id, key in goals if goal_id in view.goal_ids),
                    department=view.department_name or "",
                    department_key=view.department_key or "",
                    note=latest.note if latest else "",
                    source=latest.source if latest else "",
                    sample=view.sample,
                    updated_at=latest.received_at.isoformat() if latest else "",
                )
            )
    return rows


def _months(first: str, last: str) -> int:
    """Months from `first` to `last` (YYYY-MM), 0 when the same."""
    (y1, m1), (y2, m2) = (map(int, first.split("-")), map(int, last.split("-")))
    return max(0, (y2 - y1) * 12 + m2 - m1)


def measures_filename(plan: Plan, period: str, fmt: str = "csv") -> str:
    """'city-of-hartford-…-measures-2026-10.csv', named as `export_filename` names the plan's."""
    return export_filename(plan, period, fmt).replace(f"-status-{period}.", f"-measures-{period}.")
