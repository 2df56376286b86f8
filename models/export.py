"""The latest status of every initiative, as rows a city could publish on its open-data portal."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.queries import dialect_of, initiative_rows
from models.tables import Department, Goal, Initiative, InitiativeGoal

EXPORT_FORMATS = ("csv", "json")


@dataclass(frozen=True)
class ExportRow:
    department_key: str
    department_name: str
    number: int
    parent_number: int | None
    text: str
    goals: str  # goal keys separated by ";"
    status: str
    percent: int | None
    note: str
    period: str
    author: str
    updated_at: str  # ISO 8601, UTC


async def export_rows(session: AsyncSession, plan_id: int, period: str) -> list[ExportRow]:
    """Two statements: initiatives with their latest update, and their goals."""
    rows = (
        await session.exec(
            initiative_rows(period, dialect_of(session))
            .where(Department.plan_id == plan_id)
            .order_by(Department.position, Initiative.number)
        )
    ).all()
    goal_rows = await session.exec(
        select(InitiativeGoal.initiative_id, Goal.key)
        .join(Goal, Goal.id == InitiativeGoal.goal_id)  # type: ignore[arg-type]
        .where(Goal.plan_id == plan_id)
        .order_by(InitiativeGoal.initiative_id, sa.asc(Goal.position))
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
            status=row.status or "no_update",
            percent=row.percent,
            note=row.note or "",
            period=row.period or "",
            author=row.author or "",
            updated_at=row.received_at.isoformat() if row.received_at else "",
        )
        for row in rows
    ]


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
