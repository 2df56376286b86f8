"""The latest status of every initiative, as rows a city could publish on its open-data portal:
statuses in words ("On track") and people by name, with the status key kept in its own column
for whoever joins the file with other data."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.planfile import slug
from models.queries import dialect_of, initiative_rows
from models.status import Status, look
from models.tables import Department, Goal, Initiative, InitiativeGoal, Plan

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


def to_csv(rows: list[ExportRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ExportRow.__dataclass_fields__))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in asdict(row).items()})
    return buffer.getvalue()


def to_json(rows: list[ExportRow]) -> str:
    return json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2) + "\n"


def render_export(rows: list[ExportRow], fmt: str) -> str:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use csv or json")
    return to_csv(rows) if fmt == "csv" else to_json(rows)
