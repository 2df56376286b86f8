"""Publishing a period (issue 17): what becomes public, decided once by an admin, kept as an
immutable snapshot that the public site and the open data serve as they are.

The snapshot is built from the plan as it stood at the end of the period — each initiative's
latest update of that period or earlier —, names people only by their role in the department
("department lead"), and carries a note only when the admin left it in. Nothing is served that
is not in a `Publication` row; a period is published once (a second publish is refused).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.attention import NO_CHANGE_NOTE
from models.export import NO_UPDATE_KEY, measure_export_rows
from models.periods import period_label
from models.status import DISPLAY_ORDER, Status, look
from models.tables import (
    ContactRole,
    Department,
    DepartmentContact,
    DepartmentOwner,
    Goal,
    Initiative,
    InitiativeGoal,
    Plan,
    Publication,
    Source,
    Update,
)

SCHEMA = "/public/data/plan.schema.json"  # served beside it; docs/open-data/plan.schema.json
# The roles an update's author is named by: never a Slack identity.
ROLE_LEAD = "department lead"
ROLE_BACKUP = "backup owner"
ROLE_DEPUTY = "deputy for the department lead"
ROLE_ADMIN = "plan administrator"
ROLE_STAFF = "city staff"
ROLE_PLAN = "the plan document"


class AlreadyPublished(Exception):
    """The period was published before: a published period never changes."""

    def __init__(self, publication: Publication) -> None:
        super().__init__(publication.period)
        self.publication = publication


@dataclass(frozen=True)
class Note:
    """A note the snapshot would make public, as the admin's preview lists it."""

    initiative: str  # "fire-3"
    department: str
    number: int
    status: str  # the status word
    text: str


def initiative_key(department_key: str, number: int) -> str:
    return f"{department_key}-{number}"


def _status_key(status: str | None) -> str:
    return status or NO_UPDATE_KEY


def _counts(statuses: Sequence[str | None]) -> dict[str, int]:
    """Counts by status key, in the display order, every status present (zeros included)."""
    found = Counter(_status_key(s) for s in statuses)
    return {
        (s.value if s else NO_UPDATE_KEY): found.get(s.value if s else NO_UPDATE_KEY, 0)
        for s in DISPLAY_ORDER
    }


async def _latest_as_of(session: AsyncSession, plan_id: int, period: str) -> list[Any]:
    """Each initiative of the plan with its latest update of `period` or before (and whether
    it reported for `period` itself). Two statements' worth, one round trip."""
    ranked = (
        sa.select(
            col(Update.initiative_id),
            col(Update.status),
            col(Update.percent),
            col(Update.note),
            col(Update.author),
            col(Update.on_behalf_of),
            col(Update.period),
            col(Update.source),
            col(Update.received_at),
            sa.func.row_number()
            .over(
                partition_by=col(Update.initiative_id),
                order_by=(
                    col(Update.period).desc(),
                    col(Update.received_at).desc(),
                    col(Update.id).desc(),
                ),
            )
            .label("rank"),
        )
        .join(Initiative, col(Initiative.id) == col(Update.initiative_id))
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .where(col(Department.plan_id) == plan_id, col(Update.period) <= period)
        .subquery("ranked")
    )
    parent = sa.orm.aliased(Initiative)
    statement = (
        sa.select(
            col(Initiative.id),
            col(Initiative.number),
            col(Initiative.text),
            parent.number.label("parent_number"),  # type: ignore[attr-defined]
            col(Department.id).label("department_id"),
            col(Department.key).label("department_key"),
            col(Department.name).label("department_name"),
            ranked.c.status,
            ranked.c.percent,
            ranked.c.note,
            ranked.c.author,
            ranked.c.on_behalf_of,
            ranked.c.period,
            ranked.c.source,
            ranked.c.received_at,
        )
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .outerjoin(parent, parent.id == col(Initiative.parent_id))  # type: ignore[arg-type]
        .outerjoin(
            ranked,
            sa.and_(ranked.c.initiative_id == col(Initiative.id), ranked.c.rank == sa.literal(1)),
        )
        .where(col(Department.plan_id) == plan_id)
        .order_by(col(Department.position), col(Initiative.number))
    )
    return list((await session.exec(statement)).all())  # type: ignore[call-overload]


async def _roles(
    session: AsyncSession, plan_id: int
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Owners and backup owners of each department: an author is named by their role."""
    owners: dict[int, set[str]] = {}
    backups: dict[int, set[str]] = {}
    for department_id, user_id in await session.exec(
        select(col(DepartmentOwner.department_id), col(DepartmentOwner.user_id))
        .join(Department, col(Department.id) == col(DepartmentOwner.department_id))
        .where(col(Department.plan_id) == plan_id)
    ):
        owners.setdefault(department_id, set()).add(user_id)
    for department_id, user_id in await session.exec(
        select(col(DepartmentContact.department_id), col(DepartmentContact.user_id))
        .join(Department, col(Department.id) == col(DepartmentContact.department_id))
        .where(
            col(Department.plan_id) == plan_id, col(DepartmentContact.role) == ContactRole.BACKUP
        )
    ):
        backups.setdefault(department_id, set()).add(user_id)
    return owners, backups


def _role(row: Any, owners: set[str], backups: set[str], admins: Collection[str]) -> str | None:
    if row.status is None:
        return None
    if row.source == Source.PLAN:
        return ROLE_PLAN
    if row.on_behalf_of and row.author not in owners:
        return ROLE_DEPUTY
    if row.author in owners:
        return ROLE_LEAD
    if row.author in backups:
        return ROLE_BACKUP
    if row.author in admins:
        return ROLE_ADMIN
    return ROLE_STAFF


def _note_of(row: Any) -> str:
    """The note an update would publish: its own words, not the "No change" placeholder."""
    note = (row.note or "").strip()
    return "" if note == NO_CHANGE_NOTE else note


async def build_snapshot(
    session: AsyncSession,
    plan_id: int,
    period: str,
    *,
    start_month: int,
    admins: Collection[str] = (),
    left_out: Collection[str] = (),
    published_at: datetime | None = None,
) -> dict[str, Any]:
    """The period as the public will see it: goals, departments and initiatives with their
    statuses at the end of `period`, notes except those `left_out` (initiative keys), people by
    role, and the measures' figures for the period."""
    plan = (await session.exec(select(Plan).where(col(Plan.id) == plan_id))).one()
    rows = await _latest_as_of(session, plan_id, period)
    goals = (
        await session.exec(
            select(Goal)
            .where(col(Goal.plan_id) == plan_id)
            .order_by(col(Goal.group_position), col(Goal.position))
        )
    ).all()
    goal_of: dict[int, list[str]] = {}
    for initiative_id, key in await session.exec(
        select(col(InitiativeGoal.initiative_id), col(Goal.key))
        .join(Goal, col(Goal.id) == col(InitiativeGoal.goal_id))
        .where(col(Goal.plan_id) == plan_id)
        .order_by(col(Goal.group_position), col(Goal.position))
    ):
        goal_of.setdefault(initiative_id, []).append(key)
    owners, backups = await _roles(session, plan_id)
    skipped = set(left_out)
    initiatives = []
    for row in rows:
        key = initiative_key(row.department_key, row.number)
        note = _note_of(row)
        initiatives.append(
            {
                "id": key,
                "department": row.department_key,
                "number": row.number,
                "part_of": (
                    initiative_key(row.department_key, row.parent_number)
                    if row.parent_number is not None
                    else None
                ),
                "text": row.text,
                "goals": goal_of.get(row.id, []),
                "status": _status_key(row.status),
                "status_label": look(Status(row.status) if row.status else None).word,
                "percent": row.percent,
                "note": None if not note or key in skipped else note,
                "as_of": row.period if row.status else None,
                "reported_for_period": bool(
                    row.status and row.period == period and row.source != Source.PLAN
                ),
                "updated_by": _role(
                    row,
                    owners.get(row.department_id, set()),
                    backups.get(row.department_id, set()),
                    admins,
                ),
                "updated_at": row.received_at.isoformat() if row.received_at else None,
            }
        )
    by_goal: dict[str, list[dict[str, Any]]] = {}
    by_department: dict[str, list[dict[str, Any]]] = {}
    for item in initiatives:
        for goal in item["goals"]:
            by_goal.setdefault(goal, []).append(item)
        by_department.setdefault(item["department"], []).append(item)
    departments = []
    seen: set[str] = set()
    for row in rows:
        if row.department_key in seen:
            continue
        seen.add(row.department_key)
        items = by_department[row.department_key]
        departments.append(
            {
                "key": row.department_key,
                "name": row.department_name,
                "counts": _counts(
                    [i["status"] if i["status"] != NO_UPDATE_KEY else None for i in items]
                ),
                "reported_for_period": any(i["reported_for_period"] for i in items),
                "initiatives": [i["id"] for i in items],
            }
        )
    measures = [
        {
            "key": m.indicator_key,
            "name": m.indicator,
            "unit": m.unit,
            "direction": m.direction,
            "frequency": m.frequency,
            "fiscal_year": m.fiscal_year,
            "period": m.period,
            "actual": m.actual,
            "year_to_date": m.year_to_date,
            "target": m.target,
            "status": m.status_key,
            "status_label": m.status,
            "goals": [g for g in m.goal.split(";") if g],
            "department": m.department_key,
            "sample": m.sample,
        }
        for m in await measure_export_rows(
            session, plan_id, period, start_month=start_month, only_period=True
        )
    ]
    return {
        "$schema": SCHEMA,
        "plan": {"name": plan.name, "fiscal_year": plan.fiscal_year},
        "period": period,
        "period_label": period_label(period),
        "published_at": published_at.isoformat() if published_at else None,
        "published_by": ROLE_ADMIN,
        "statuses": [
            {"key": s.value if s else NO_UPDATE_KEY, "label": look(s).word} for s in DISPLAY_ORDER
        ],
        "counts": _counts(
            [i["status"] if i["status"] != NO_UPDATE_KEY else None for i in initiatives]
        ),
        "goals": [
            {
                "key": g.key,
                "name": g.name,
                "group": g.group_name,
                "objectives": list(g.objectives),
                "counts": _counts(
                    [
                        i["status"] if i["status"] != NO_UPDATE_KEY else None
                        for i in by_goal.get(g.key, [])
                    ]
                ),
                "initiatives": [i["id"] for i in by_goal.get(g.key, [])],
            }
            for g in goals
        ],
        "departments": departments,
        "initiatives": initiatives,
        "measures": measures,
    }


def notes_to_review(snapshot: dict[str, Any]) -> list[Note]:
    """Every note the snapshot would publish, in the plan's order: what the admin reviews."""
    names = {d["key"]: d["name"] for d in snapshot["departments"]}
    return [
        Note(i["id"], names[i["department"]], i["number"], i["status_label"], i["note"])
        for i in snapshot["initiatives"]
        if i["note"]
    ]


def dump(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def publication(session: AsyncSession, plan_id: int, period: str) -> Publication | None:
    return (
        await session.exec(
            select(Publication).where(
                col(Publication.plan_id) == plan_id, col(Publication.period) == period
            )
        )
    ).first()


async def published_periods(session: AsyncSession, plan_id: int) -> list[str]:
    """The periods published, newest first."""
    rows = await session.exec(
        select(col(Publication.period))
        .where(col(Publication.plan_id) == plan_id)
        .order_by(col(Publication.period).desc())
    )
    return list(rows)


async def publish(
    session: AsyncSession,
    plan_id: int,
    period: str,
    *,
    by: str,
    now: datetime,
    start_month: int,
    admins: Collection[str] = (),
    left_out: Collection[str] = (),
) -> Publication:
    """Publish `period` as it stands, without the notes `left_out`. A period published before
    raises `AlreadyPublished` (the unique key settles two admins confirming at once)."""
    earlier = await publication(session, plan_id, period)
    if earlier is not None:
        raise AlreadyPublished(earlier)
    snapshot = await build_snapshot(
        session,
        plan_id,
        period,
        start_month=start_month,
        admins=admins,
        left_out=left_out,
        published_at=now,
    )
    content = dump(snapshot)
    row = Publication(
        plan_id=plan_id,
        period=period,
        published_by=by,
        published_at=now,
        left_out=sorted(set(left_out)),
        content=content,
        etag=hashlib.sha256(content.encode()).hexdigest()[:32],
    )
    from models.cycle import insert_ignoring_duplicates  # the one ON CONFLICT helper

    values = {c.name: getattr(row, c.name) for c in Publication.__table__.columns if c.name != "id"}  # type: ignore[attr-defined]
    if not await insert_ignoring_duplicates(session, Publication, **values):
        found = await publication(session, plan_id, period)
        assert found is not None
        raise AlreadyPublished(found)
    found = await publication(session, plan_id, period)
    assert found is not None
    return found
