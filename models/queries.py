"""The questions leadership asks, as queries: goal and department summaries, the goals overview,
who is missing, an initiative's history. Each returns a typed result and runs a fixed number of
SQL statements whatever the plan's size."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.status import DISPLAY_ORDER, Status
from models.tables import Department, DepartmentOwner, Goal, Initiative, InitiativeGoal, Update


@dataclass(frozen=True)
class DepartmentRef:
    key: str
    name: str
    owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoalRef:
    key: str
    name: str
    kind: str
    objectives: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateView:
    status: Status
    percent: int | None
    note: str
    author: str
    period: str
    received_at: datetime
    source: str
    late: bool


@dataclass(frozen=True)
class InitiativeLine:
    department: DepartmentRef
    number: int
    text: str
    parent_number: int | None
    latest: UpdateView | None
    reported: bool  # has an update for the period asked about

    @property
    def status(self) -> Status | None:
        return None if self.latest is None else self.latest.status


@dataclass(frozen=True)
class StatusCounts:
    """How many initiatives are at each status; None counts those with no update."""

    by_status: Mapping[Status | None, int] = field(default_factory=dict)

    @classmethod
    def of(cls, statuses: Iterable[Status | None]) -> StatusCounts:
        return cls(dict(Counter(statuses)))

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def __getitem__(self, status: Status | None) -> int:
        return self.by_status.get(status, 0)

    def shown(self) -> list[tuple[Status | None, int]]:
        """Non-zero counts, in display order."""
        return [(s, self[s]) for s in DISPLAY_ORDER if self[s]]


@dataclass(frozen=True)
class DepartmentLine:
    department: DepartmentRef
    counts: StatusCounts
    reported: bool


@dataclass(frozen=True)
class GoalSummary:
    goal: GoalRef
    period: str
    counts: StatusCounts
    departments: list[DepartmentLine]
    attention: list[InitiativeLine]
    missing: list[DepartmentRef]


@dataclass(frozen=True)
class DepartmentSummary:
    department: DepartmentRef
    period: str
    initiatives: list[InitiativeLine]
    counts: StatusCounts

    @property
    def reported(self) -> bool:
        return any(line.reported for line in self.initiatives)


@dataclass(frozen=True)
class GoalLine:
    goal: GoalRef
    counts: StatusCounts
    reporting: int  # initiatives with an update for the period

    @property
    def reporting_share(self) -> float:
        return self.reporting / self.counts.total if self.counts.total else 0.0


@dataclass(frozen=True)
class GoalsOverview:
    period: str
    goals: list[GoalLine]


@dataclass(frozen=True)
class MissingReport:
    period: str
    missing: list[DepartmentRef]
    expected: int  # departments with initiatives

    @property
    def reported(self) -> int:
        return self.expected - len(self.missing)


@dataclass(frozen=True)
class InitiativeHistory:
    department: DepartmentRef
    number: int
    text: str
    updates: list[UpdateView]  # newest first


# --- building blocks ----------------------------------------------------------------------------

_UPDATE_FIELDS = ("status", "percent", "note", "author", "period", "received_at", "source", "late")


def dialect_of(session: AsyncSession) -> str:
    """The session's database: "sqlite" or "postgresql"."""
    bind = session.bind
    assert bind is not None, "sessions are made from an engine (models.db.session_scope)"
    return bind.dialect.name


async def fetch_rows(session: AsyncSession, statement: Any) -> Sequence[sa.Row[Any]]:
    """The rows of a query for columns (not entities), through the session's connection and
    transaction but without the ORM's per-row work: about a third less time on 10,000 rows.
    Nothing is flushed first, so only for reads."""
    connection = await session.connection()
    return (await connection.execute(statement)).all()


@dataclass(frozen=True)
class LatestUpdate:
    """Each initiative's latest update (the newest period, then the newest row), to LEFT JOIN
    onto `Initiative`: `query.outerjoin(latest.source, latest.on)`, columns in `latest.c`."""

    source: Any
    on: Any

    @property
    def c(self) -> Any:
        return self.source.c

    def columns(self) -> tuple[Any, ...]:
        return tuple(self.c[name] for name in _UPDATE_FIELDS)


def latest_update(dialect: str) -> LatestUpdate:
    """One index probe per initiative on either database, written the way each plans it well.

    PostgreSQL gets `LEFT JOIN LATERAL (… ORDER BY … LIMIT 1) ON true`. Joined on a correlated
    subquery for the id instead, it hashes every update of every plan first (190–260 ms on the
    Large benchmark plan, against 45 ms). SQLite has no LATERAL and runs the correlated id
    subquery as the probe it is."""
    updates = Update.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        latest = (
            sa.select(updates)
            .where(updates.c.initiative_id == Initiative.id)
            .order_by(updates.c.period.desc(), updates.c.received_at.desc(), updates.c.id.desc())
            .limit(1)
            .lateral("latest")
        )
        return LatestUpdate(latest, sa.true())
    latest = updates.alias("latest")
    return LatestUpdate(latest, latest.c.id == latest_update_id())


def latest_update_id() -> Any:
    """The id of an initiative's latest update: the newest period, then the newest row."""
    newer = aliased(Update)
    return (
        select(newer.id)
        .where(newer.initiative_id == Initiative.id)
        .order_by(newer.period.desc(), newer.received_at.desc(), newer.id.desc())  # type: ignore[union-attr,attr-defined]
        .limit(1)
        .correlate(Initiative)
        .scalar_subquery()
    )


def _reported_in(period: str) -> Any:
    this_period = aliased(Update)
    return (
        sa.exists()
        .where(this_period.initiative_id == Initiative.id, this_period.period == period)
        .correlate(Initiative)
    )


def update_view(row: Any) -> UpdateView | None:
    if row.status is None:
        return None
    return UpdateView(
        status=Status(row.status),
        percent=row.percent,
        note=row.note,
        author=row.author,
        period=row.period,
        received_at=row.received_at,
        source=row.source,
        late=row.late,
    )


def initiative_rows(period: str, dialect: str) -> Any:
    """Every initiative with its department, parent number, latest update and reported flag."""
    parent = aliased(Initiative)
    latest = latest_update(dialect)
    return (
        select(
            Initiative.id,
            Initiative.number,
            Initiative.text,
            parent.number.label("parent_number"),  # type: ignore[attr-defined]
            Department.id.label("department_id"),  # type: ignore[union-attr]
            Department.key.label("department_key"),  # type: ignore[attr-defined]
            Department.name.label("department_name"),  # type: ignore[attr-defined]
            *latest.columns(),
            _reported_in(period).label("reported"),
        )
        .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
        .outerjoin(parent, parent.id == Initiative.parent_id)  # type: ignore[arg-type]
        .outerjoin(latest.source, latest.on)
    )


async def _owners(
    session: AsyncSession, department_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    rows = await session.exec(
        select(DepartmentOwner.department_id, DepartmentOwner.user_id)
        .where(DepartmentOwner.department_id.in_(department_ids))  # type: ignore[attr-defined]
        .order_by(DepartmentOwner.department_id, DepartmentOwner.user_id)
    )
    owners: dict[int, list[str]] = {}
    for department_id, user_id in rows:
        owners.setdefault(department_id, []).append(user_id)
    return {k: tuple(v) for k, v in owners.items()}


def _line(row: Any, departments: Mapping[int, DepartmentRef]) -> InitiativeLine:
    return InitiativeLine(
        department=departments[row.department_id],
        number=row.number,
        text=row.text,
        parent_number=row.parent_number,
        latest=update_view(row),
        reported=bool(row.reported),
    )


def _goal_ref(goal: Goal) -> GoalRef:
    return GoalRef(goal.key, goal.name, goal.kind, tuple(goal.objectives))


# --- the questions ------------------------------------------------------------------------------


async def goal_summary(session: AsyncSession, goal: Goal, period: str) -> GoalSummary:
    """Where a goal stands: counts, a line per department, what needs attention, who is missing.
    Three statements."""
    rows = (
        await session.exec(
            initiative_rows(period, dialect_of(session))
            .join(InitiativeGoal, InitiativeGoal.initiative_id == Initiative.id)  # type: ignore[arg-type]
            .where(InitiativeGoal.goal_id == goal.id)
            .order_by(Department.position, Initiative.number)
        )
    ).all()
    department_ids = list(dict.fromkeys(row.department_id for row in rows))
    owners = await _owners(session, department_ids)
    reported_departments = set(
        (
            await session.exec(
                select(Initiative.department_id)
                .join(Update, Update.initiative_id == Initiative.id)  # type: ignore[arg-type]
                .where(Initiative.department_id.in_(department_ids), Update.period == period)  # type: ignore[attr-defined]
                .distinct()
            )
        ).all()
    )
    departments = {
        row.department_id: DepartmentRef(
            row.department_key, row.department_name, owners.get(row.department_id, ())
        )
        for row in rows
    }
    lines = [_line(row, departments) for row in rows]
    by_department: dict[int, list[Status | None]] = {d: [] for d in department_ids}
    for row, line in zip(rows, lines, strict=True):
        by_department[row.department_id].append(line.status)
    return GoalSummary(
        goal=_goal_ref(goal),
        period=period,
        counts=StatusCounts.of(line.status for line in lines),
        departments=[
            DepartmentLine(departments[d], StatusCounts.of(s), d in reported_departments)
            for d, s in by_department.items()
        ],
        attention=_needing_attention(lines),
        missing=[departments[d] for d in department_ids if d not in reported_departments],
    )


def _needing_attention(lines: Iterable[InitiativeLine]) -> list[InitiativeLine]:
    """Off track before at risk, then by department and number."""
    urgent = [line for line in lines if line.status is not None and line.status.needs_attention]
    return sorted(urgent, key=lambda line: line.status != Status.OFF_TRACK)


async def department_summary(
    session: AsyncSession, department: Department, period: str
) -> DepartmentSummary:
    """Each initiative of a department with its latest update. Two statements."""
    assert department.id is not None
    owners = await _owners(session, [department.id])
    ref = DepartmentRef(department.key, department.name, owners.get(department.id, ()))
    rows = (
        await session.exec(
            initiative_rows(period, dialect_of(session))
            .where(Initiative.department_id == department.id)
            .order_by(Initiative.number)
        )
    ).all()
    lines = [_line(row, {department.id: ref}) for row in rows]
    return DepartmentSummary(
        department=ref,
        period=period,
        initiatives=lines,
        counts=StatusCounts.of(line.status for line in lines),
    )


async def goals_overview(session: AsyncSession, plan_id: int, period: str) -> GoalsOverview:
    """One line per goal: counts by status and how many initiatives reported. Two statements."""
    goals = (
        await session.exec(select(Goal).where(Goal.plan_id == plan_id).order_by(Goal.position))
    ).all()
    latest = latest_update(dialect_of(session))
    per_initiative = (
        select(
            Initiative.id.label("initiative_id"),  # type: ignore[union-attr]
            latest.c.status.label("status"),
            _reported_in(period).label("reported"),
        )
        .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
        .outerjoin(latest.source, latest.on)
        .where(Department.plan_id == plan_id)
        .subquery()
    )
    rows = await session.exec(
        select(
            InitiativeGoal.goal_id,
            per_initiative.c.status,
            per_initiative.c.reported,
            sa.func.count(),
        )
        .join(per_initiative, per_initiative.c.initiative_id == InitiativeGoal.initiative_id)
        .group_by(InitiativeGoal.goal_id, per_initiative.c.status, per_initiative.c.reported)
    )
    counts: dict[int, Counter[Status | None]] = {}
    reporting: Counter[int] = Counter()
    for goal_id, status, reported, n in rows:
        counts.setdefault(goal_id, Counter())[None if status is None else Status(status)] += n
        if reported:
            reporting[goal_id] += n
    return GoalsOverview(
        period=period,
        goals=[
            GoalLine(
                goal=_goal_ref(g),
                counts=StatusCounts(dict(counts.get(g.id or 0, Counter()))),
                reporting=reporting[g.id or 0],
            )
            for g in goals
        ],
    )


async def missing_departments(session: AsyncSession, plan_id: int, period: str) -> MissingReport:
    """Departments with initiatives that have no update for the period, with their owners.
    Two statements."""
    has_initiatives = sa.exists().where(Initiative.department_id == Department.id)
    reported = (
        sa.exists()
        .where(Initiative.department_id == Department.id)
        .where(sa.exists().where(Update.initiative_id == Initiative.id, Update.period == period))
    )
    rows = (
        await session.exec(
            select(Department.id, Department.key, Department.name, reported.label("reported"))
            .where(Department.plan_id == plan_id, has_initiatives)
            .order_by(Department.position)
        )
    ).all()
    missing_ids = [row.id for row in rows if not row.reported]
    owners = await _owners(session, missing_ids)
    return MissingReport(
        period=period,
        missing=[
            DepartmentRef(row.key, row.name, owners.get(row.id, ()))
            for row in rows
            if not row.reported
        ],
        expected=len(rows),
    )


async def initiative_history(
    session: AsyncSession, department: Department, number: int
) -> InitiativeHistory | None:
    """Every update of one initiative, newest first; None when it has no such number.
    Two statements."""
    initiative = (
        await session.exec(
            select(Initiative).where(
                Initiative.department_id == department.id, Initiative.number == number
            )
        )
    ).first()
    if initiative is None:
        return None
    rows = (
        await session.exec(
            select(*(getattr(Update, name) for name in _UPDATE_FIELDS))
            .where(Update.initiative_id == initiative.id)
            .order_by(Update.period.desc(), Update.received_at.desc(), Update.id.desc())  # type: ignore[attr-defined,union-attr]
        )
    ).all()
    return InitiativeHistory(
        department=DepartmentRef(department.key, department.name),
        number=initiative.number,
        text=initiative.text,
        updates=[view for view in map(update_view, rows) if view is not None],
    )
