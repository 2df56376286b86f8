"""The questions leadership asks, as queries: goal and department summaries, the goals overview,
the response rate and who is missing, an initiative's history. Each returns a typed result and
runs a fixed number of SQL statements whatever the plan's size.

"Reported" has one definition, used by every answer, the digest and the reminders: a
department reported for a period when one of its initiatives has an update for that period
that is a report — the plan file's own statuses (source "plan") are a baseline, never a
report. The response rate counts departments that have initiatives (the others have nothing to
report)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.plans import backups_of
from models.status import DISPLAY_ORDER, Status
from models.tables import (
    Department,
    DepartmentOwner,
    Goal,
    Initiative,
    InitiativeGoal,
    Source,
    Update,
)


@dataclass(frozen=True)
class DepartmentRef:
    key: str
    name: str
    owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoalRef:
    key: str
    name: str
    kind: str  # its group's key
    objectives: tuple[str, ...] = ()
    short: str = ""  # the plan file's short name, "" when there is none
    group: str = "Goals"  # its group as the plan file names it ("Mayor's goals")
    group_one: str = "Goal"  # one goal of that group ("Mayor's goal")
    group_position: int = 0  # the group's place in the plan; 0 is the plan's main goals

    @property
    def short_name(self) -> str:
        return self.short or self.name


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
    on_behalf_of: str | None = None  # the away owner the author answered for (issue 16)


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
    departments: list[DepartmentLine]  # worst first
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
    departments: int = 0  # departments with initiatives serving the goal
    departments_reported: int = 0  # of those, how many reported for the period


@dataclass(frozen=True)
class GoalsOverview:
    period: str
    goals: list[GoalLine]

    def by_group(self) -> list[tuple[str, list[GoalLine]]]:
        """The goals under their groups' names, groups in the plan's order (goals keep theirs)."""
        groups: dict[tuple[int, str], list[GoalLine]] = {}
        for line in self.goals:
            groups.setdefault((line.goal.group_position, line.goal.group), []).append(line)
        return [(name, lines) for (_, name), lines in sorted(groups.items(), key=lambda g: g[0][0])]

    @property
    def main_goals(self) -> list[GoalLine]:
        """The goals of the plan's first group: its main goals."""
        groups = self.by_group()
        return groups[0][1] if groups else []


@dataclass(frozen=True)
class ResponseRate:
    """Who reported for a period: of the departments with initiatives (`expected`), those that
    did not (`missing`, with their owners); `unowned` of the expected have nobody to ask."""

    period: str
    missing: list[DepartmentRef]
    expected: int
    unowned: int = 0

    @property
    def reported(self) -> int:
        return self.expected - len(self.missing)

    @property
    def percent(self) -> int:
        """Rounded down, so 17 of 18 never shows as 100%."""
        return self.reported * 100 // self.expected if self.expected else 0


@dataclass(frozen=True)
class InitiativeHistory:
    department: DepartmentRef
    number: int
    text: str
    updates: list[UpdateView]  # newest first, at most HISTORY_READ
    older: int = 0  # updates older than these, not read


# The newest updates `/plan history` reads: more than a message can show (each takes a line of
# 40 characters or more), so an initiative answered thousands of times costs no more than this.
HISTORY_READ = 400


# --- building blocks ----------------------------------------------------------------------------

_UPDATE_FIELDS = (
    "status",
    "percent",
    "note",
    "author",
    "period",
    "received_at",
    "source",
    "late",
    "on_behalf_of",
)


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


def latest_update(dialect: str, columns: Sequence[str] = ()) -> LatestUpdate:
    """One index probe per initiative on either database, written the way each plans it well.

    PostgreSQL gets `LEFT JOIN LATERAL (… ORDER BY … LIMIT 1) ON true`. Joined on a correlated
    subquery for the id instead, it hashes every update of every plan first (190–260 ms on the
    Large benchmark plan, against 45 ms). SQLite has no LATERAL and runs the correlated id
    subquery as the probe it is. `columns`: the only ones wanted (default: all); with only
    "status", PostgreSQL's probe reads `ix_updates_latest` alone, never the table."""
    updates = Update.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        latest = (
            sa.select(*([updates.c[name] for name in columns] if columns else [updates]))
            .where(updates.c.initiative_id == col(Initiative.id))
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
        .where(newer.initiative_id == col(Initiative.id))
        .order_by(newer.period.desc(), newer.received_at.desc(), newer.id.desc())  # type: ignore[union-attr,attr-defined]
        .limit(1)
        .correlate(Initiative)
        .scalar_subquery()
    )


def is_report(update: Any, period: str) -> Any:
    """The condition an update (`Update` or an alias of it) meets when it reports for `period`."""
    return sa.and_(update.period == period, update.source != Source.PLAN)


def _reported_in(period: str) -> Any:
    this_period = aliased(Update)
    return (
        sa.exists()
        .where(col(this_period.initiative_id) == col(Initiative.id), is_report(this_period, period))
        .correlate(Initiative)
    )


def reported_departments(period: str) -> Any:
    """The ids of the departments that reported for `period`, for `Department.id.in_(…)`:
    index probes per department, stopping at its first initiative with a report. Read from
    the month's updates instead, it grew with every answer (a busy month with 230 answers an
    initiative on Hartford: 8.5 ms each time, against 1 ms); probed per initiative, with the
    initiatives (Large: 4 ms → 22 ms)."""
    reporting, report = aliased(Initiative), aliased(Update)
    return (
        select(col(Department.id))
        .where(
            sa.exists().where(
                col(reporting.department_id) == col(Department.id),
                col(report.initiative_id) == col(reporting.id),
                is_report(report, period),
            )
        )
        .correlate_except(Department)  # its own, even inside a query of the departments
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
        on_behalf_of=row.on_behalf_of,
    )


def initiative_rows(period: str, dialect: str) -> Any:
    """Every initiative with its department, parent number, latest update and reported flag."""
    parent = aliased(Initiative)
    latest = latest_update(dialect)
    return (
        select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
            col(Initiative.id),
            col(Initiative.number),
            col(Initiative.text),
            parent.number.label("parent_number"),  # type: ignore[attr-defined]
            col(Department.id).label("department_id"),
            col(Department.key).label("department_key"),
            col(Department.name).label("department_name"),
            *latest.columns(),
            _reported_in(period).label("reported"),
        )
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .outerjoin(parent, parent.id == col(Initiative.parent_id))
        .outerjoin(latest.source, latest.on)
    )


async def _owners(
    session: AsyncSession, department_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    rows = await session.exec(
        select(col(DepartmentOwner.department_id), col(DepartmentOwner.user_id))
        .where(col(DepartmentOwner.department_id).in_(department_ids))
        .order_by(col(DepartmentOwner.department_id), col(DepartmentOwner.user_id))
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


def goal_ref(goal: Goal) -> GoalRef:
    return GoalRef(
        goal.key,
        goal.name,
        goal.kind,
        tuple(goal.objectives),
        goal.short,
        goal.group_name,
        goal.group_one,
        goal.group_position,
    )


# --- the questions ------------------------------------------------------------------------------


async def goal_summary(session: AsyncSession, goal: Goal, period: str) -> GoalSummary:
    """Where a goal stands: counts, a line per department, what needs attention, who is missing.
    Three statements."""
    rows = (
        await session.exec(
            initiative_rows(period, dialect_of(session))
            .join(InitiativeGoal, col(InitiativeGoal.initiative_id) == col(Initiative.id))
            .where(col(InitiativeGoal.goal_id) == goal.id)
            .order_by(col(Department.position), col(Initiative.number))
        )
    ).all()
    department_ids = list(dict.fromkeys(row.department_id for row in rows))
    owners = await _owners(session, department_ids)
    reported = set(
        (
            await session.exec(
                reported_departments(period).where(col(Department.id).in_(department_ids))
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
        goal=goal_ref(goal),
        period=period,
        counts=StatusCounts.of(line.status for line in lines),
        departments=sorted(
            (
                DepartmentLine(departments[d], StatusCounts.of(s), d in reported)
                for d, s in by_department.items()
            ),
            key=_worst_first,
        ),
        attention=_needing_attention(lines),
        missing=[departments[d] for d in department_ids if d not in reported],
    )


def _worst_first(line: DepartmentLine) -> tuple[int, ...]:
    """More off track first, then more at risk, then not reported, then more without any
    update; otherwise plan order (the sort is stable)."""
    c = line.counts
    return (-c[Status.OFF_TRACK], -c[Status.AT_RISK], line.reported, -c[None])


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
            .where(col(Initiative.department_id) == department.id)
            .order_by(col(Initiative.number))
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
    """One line per goal: counts by status, and how many of the departments serving it
    reported. Three statements."""
    goals = (
        await session.exec(
            select(Goal).where(col(Goal.plan_id) == plan_id).order_by(col(Goal.position))
        )
    ).all()
    # Only the status: on PostgreSQL an index-only probe (~60 → ~40 ms on the Large plan).
    latest = latest_update(dialect_of(session), ("status",))
    per_initiative = (
        select(
            col(Initiative.id).label("initiative_id"),
            latest.c.status.label("status"),
        )
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .outerjoin(latest.source, latest.on)
        .where(col(Department.plan_id) == plan_id)
        .subquery()
    )
    rows = await session.exec(
        select(col(InitiativeGoal.goal_id), per_initiative.c.status, sa.func.count())
        .join(per_initiative, per_initiative.c.initiative_id == col(InitiativeGoal.initiative_id))
        .group_by(col(InitiativeGoal.goal_id), per_initiative.c.status)
    )
    counts: dict[int, Counter[Status | None]] = {}
    for goal_id, status, n in rows:
        counts.setdefault(goal_id, Counter())[None if status is None else Status(status)] += n
    serving = (
        select(
            col(InitiativeGoal.goal_id),
            col(Initiative.department_id),
            col(Initiative.department_id).in_(reported_departments(period)).label("reported"),
        )
        .join(Initiative, col(Initiative.id) == col(InitiativeGoal.initiative_id))
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .where(col(Department.plan_id) == plan_id)
        .distinct()
    )
    departments: Counter[int] = Counter()
    reporting: Counter[int] = Counter()
    for goal_id, _, reported in await session.exec(serving):
        departments[goal_id] += 1
        reporting[goal_id] += bool(reported)
    return GoalsOverview(
        period=period,
        goals=[
            GoalLine(
                goal=goal_ref(g),
                counts=StatusCounts(dict(counts.get(g.id or 0, Counter()))),
                departments=departments[g.id or 0],
                departments_reported=reporting[g.id or 0],
            )
            for g in goals
        ],
    )


async def response_rate(session: AsyncSession, plan_id: int, period: str) -> ResponseRate:
    """The response rate, the one used everywhere: of the departments with initiatives, which
    reported for the period, which did not (with their owners), and how many have no owner.
    Two statements."""
    has_initiatives = sa.exists().where(col(Initiative.department_id) == col(Department.id))
    owned = sa.exists().where(col(DepartmentOwner.department_id) == col(Department.id))
    rows: Sequence[Any] = (
        await session.exec(
            select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
                col(Department.id),
                col(Department.key),
                col(Department.name),
                col(Department.id).in_(reported_departments(period)).label("reported"),
                owned.label("owned"),
            )
            .where(col(Department.plan_id) == plan_id, has_initiatives)
            .order_by(col(Department.position))
        )
    ).all()
    missing_ids = [row.id for row in rows if not row.reported]
    owners = await _owners(session, missing_ids)
    return ResponseRate(
        period=period,
        missing=[
            DepartmentRef(row.key, row.name, owners.get(row.id, ()))
            for row in rows
            if not row.reported
        ],
        expected=len(rows),
        unowned=sum(1 for row in rows if not row.owned),
    )


async def initiative_history(
    session: AsyncSession, department: Department, number: int
) -> InitiativeHistory | None:
    """One initiative's updates, newest first (the newest HISTORY_READ, and how many more);
    None when it has no such number. Two statements."""
    initiative = (
        await session.exec(
            select(Initiative).where(
                col(Initiative.department_id) == department.id, col(Initiative.number) == number
            )
        )
    ).first()
    if initiative is None:
        return None
    rows = await fetch_rows(
        session,
        select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
            *(getattr(Update, name) for name in _UPDATE_FIELDS),
            sa.func.count().over().label("total"),
        )
        .where(col(Update.initiative_id) == initiative.id)
        .order_by(col(Update.period).desc(), col(Update.received_at).desc(), col(Update.id).desc())
        .limit(HISTORY_READ),
    )
    updates = [view for view in map(update_view, rows) if view is not None]
    return InitiativeHistory(
        department=DepartmentRef(department.key, department.name),
        number=initiative.number,
        text=initiative.text,
        updates=updates,
        older=rows[0].total - len(rows) if rows else 0,
    )


@dataclass(frozen=True)
class InitiativeDetail:
    """One initiative: where it belongs, what it serves, its latest word and its recent past."""

    department: DepartmentRef  # with its owners
    number: int
    text: str
    parent_number: int | None
    goals: list[GoalRef]
    latest: UpdateView | None
    periods: list[tuple[str, UpdateView | None]]  # the last periods, newest first


async def initiative_detail(
    session: AsyncSession, department: Department, number: int, periods: Sequence[str]
) -> InitiativeDetail | None:
    """`/plan fire 3`: the initiative's goals, owners, latest update, and its last word in each
    of `periods`; None when the department has no such number. Four statements."""
    parent = aliased(Initiative)
    found = (
        await session.exec(
            select(Initiative, parent.number)
            .outerjoin(parent, parent.id == col(Initiative.parent_id))  # type: ignore[arg-type]
            .where(col(Initiative.department_id) == department.id, col(Initiative.number) == number)
        )
    ).first()
    if found is None:
        return None
    initiative, parent_number = found
    assert department.id is not None
    owners = await _owners(session, [department.id])
    goals = (
        await session.exec(
            select(Goal)
            .join(InitiativeGoal, col(InitiativeGoal.goal_id) == col(Goal.id))
            .where(col(InitiativeGoal.initiative_id) == initiative.id)
            .order_by(col(Goal.position))
        )
    ).all()
    rows = (
        await session.exec(
            select(*(getattr(Update, name) for name in _UPDATE_FIELDS))
            .where(col(Update.initiative_id) == initiative.id)
            .order_by(
                col(Update.period).desc(), col(Update.received_at).desc(), col(Update.id).desc()
            )
        )
    ).all()
    updates = [view for view in map(update_view, rows) if view is not None]
    last_word: dict[str, UpdateView] = {}
    for view in updates:
        last_word.setdefault(view.period, view)
    return InitiativeDetail(
        department=DepartmentRef(department.key, department.name, owners.get(department.id, ())),
        number=initiative.number,
        text=initiative.text,
        parent_number=parent_number,
        goals=[goal_ref(g) for g in goals],
        latest=updates[0] if updates else None,
        periods=[(p, last_word.get(p)) for p in sorted(periods, reverse=True)],
    )


@dataclass(frozen=True)
class OwnerLine:
    department: DepartmentRef  # with its owners
    initiatives: int
    reported: bool  # for the period asked about
    last_answer: UpdateView | None  # the department's latest report, whoever sent it
    backups: tuple[str, ...] = ()  # backup owners (issue 16)


@dataclass(frozen=True)
class OwnersOverview:
    period: str
    departments: list[OwnerLine]  # departments with initiatives, in plan order


def _last_answers(department_ids: list[int], dialect: str) -> Any:
    """Each department's newest answer by when it was received, whoever sent it: the newest
    of its initiatives' newest, each an index probe on `ix_updates_answered`. Ordered by
    when it was received across all the department's updates instead, PostgreSQL walked the
    whole plan's updates backwards for every department: 2.7–3.6 s for `/plan owners` on the
    Large benchmark plan."""
    reporting, answered, last = aliased(Initiative), aliased(Update), aliased(Update)
    newest = (
        select(answered)
        .where(answered.initiative_id == reporting.id, answered.source != Source.PLAN)
        .order_by(answered.received_at.desc(), answered.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(1)
    )
    if dialect == "postgresql":
        per_initiative = newest.lateral("newest")
        department_last = (
            sa.select(per_initiative)
            .select_from(reporting)
            .join(per_initiative, sa.true())
            .where(col(reporting.department_id) == col(Department.id))
            .order_by(per_initiative.c.received_at.desc(), per_initiative.c.id.desc())
            .limit(1)
            .lateral("last_answer")
        )
        return (
            select(
                col(Department.id).label("department_id"),
                *(department_last.c[name] for name in _UPDATE_FIELDS),
            )
            .join(department_last, sa.true())
            .where(col(Department.id).in_(department_ids))
        )
    newest_id = newest.with_only_columns(col(answered.id)).correlate(reporting).scalar_subquery()
    last_id = (
        select(last.id)
        .select_from(reporting)
        .join(last, col(last.id) == newest_id)
        .where(reporting.department_id == col(Department.id))
        .order_by(last.received_at.desc(), last.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(1)
        .correlate(Department)
        .scalar_subquery()
    )
    return (
        select(
            col(Department.id).label("department_id"),
            *(getattr(Update, name) for name in _UPDATE_FIELDS),
        )
        .join(Update, col(Update.id) == last_id)
        .where(col(Department.id).in_(department_ids))
    )


async def owners_overview(session: AsyncSession, plan_id: int, period: str) -> OwnersOverview:
    """`/plan owners`: who owns each department with initiatives (and its backup owners), and
    when it last answered. Four statements."""
    has_initiatives = sa.exists().where(col(Initiative.department_id) == col(Department.id))
    count = (
        select(sa.func.count())
        .where(col(Initiative.department_id) == col(Department.id))
        .correlate(Department)
        .scalar_subquery()
    )
    departments: Sequence[Any] = (
        await session.exec(
            select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
                col(Department.id),
                col(Department.key),
                col(Department.name),
                count.label("initiatives"),
                col(Department.id).in_(reported_departments(period)).label("reported"),
            )
            .where(col(Department.plan_id) == plan_id, has_initiatives)
            .order_by(col(Department.position))
        )
    ).all()
    ids = [row.id for row in departments]
    owners = await _owners(session, ids)
    backups = await backups_of(session, ids)
    last = {
        row.department_id: update_view(row)
        for row in await fetch_rows(session, _last_answers(ids, dialect_of(session)))
    }
    return OwnersOverview(
        period=period,
        departments=[
            OwnerLine(
                DepartmentRef(row.key, row.name, owners.get(row.id, ())),
                row.initiatives,
                bool(row.reported),
                last.get(row.id),
                backups.get(row.id, ()),
            )
            for row in departments
        ],
    )
