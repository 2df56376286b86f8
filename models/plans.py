"""Storing a plan: load a plan file into the tables; owners, channels and the active plan."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.periods import previous_period
from models.planfile import PlanSpec
from models.tables import (
    ContactRole,
    Department,
    DepartmentContact,
    DepartmentOwner,
    Goal,
    Initiative,
    InitiativeGoal,
    Plan,
    Source,
    Update,
)

Progress = Callable[[int, int], None]
PLAN_NOTE = "Marked completed in the plan document"


def baseline_period(period: str) -> str:
    """The period of a plan file's own statuses when it is loaded during `period` (the open
    one): the one before, so that its first prompt finds them already there, not reported."""
    return previous_period(period)


def baseline_time(period: str) -> datetime:
    """When a baseline counts from: the start of its period, so that any report for that
    period (sample data included) is newer and wins."""
    year, month = (int(part) for part in baseline_period(period).split("-"))
    return datetime(year, month, 1, tzinfo=UTC)


class NoActivePlan(LookupError):
    """No plan has been loaded yet."""

    def __str__(self) -> str:
        return "no plan is loaded: run `planbot plan load`"


@dataclass(frozen=True)
class LoadResult:
    plan_id: int
    created: int  # rows added (goals, departments, initiatives, alignments, baseline updates)
    changed: int  # rows whose text, names or alignment changed
    initiatives: int
    departments: int
    goals: int

    @property
    def unchanged(self) -> bool:
        return self.created == 0 and self.changed == 0


@dataclass(frozen=True)
class DepartmentOwners:
    key: str
    name: str
    owners: tuple[str, ...]
    channel_id: str | None
    initiatives: int
    backups: tuple[str, ...] = ()  # may answer too; reminded from the second reminder on
    escalation: tuple[str, ...] = ()  # told when a period closes unanswered; () = the admins


async def bump_revision(
    session: AsyncSession, *, plan_id: int | None = None, department_id: int | None = None
) -> None:
    """Mark the plan changed, so cached answers are computed again."""
    target = (
        plan_id
        if plan_id is not None
        else select(col(Department.plan_id))
        .where(col(Department.id) == department_id)
        .scalar_subquery()
    )
    await session.exec(
        update(Plan).where(col(Plan.id) == target).values(revision=col(Plan.revision) + 1)
    )


def stored_id(row_id: int | None) -> int:
    """The id of a row that has been flushed (it always has one then)."""
    assert row_id is not None
    return row_id


async def active_plan(session: AsyncSession) -> Plan:
    plan = (await session.exec(select(Plan).where(col(Plan.active)))).first()
    if plan is None or plan.id is None:
        raise NoActivePlan
    return plan


async def active_plan_id(session: AsyncSession) -> int:
    """The active plan's id (a stored plan always has one); NoActivePlan when none is loaded."""
    return stored_id((await active_plan(session)).id)


async def load_plan(
    session: AsyncSession, spec: PlanSpec, *, period: str, progress: Progress | None = None
) -> LoadResult:
    """Make the tables match the plan file and make it the active plan. Loading the same file
    again changes nothing. Departments' owners and channels, and all updates, are kept; initiatives
    no longer in the file are kept too (their history matters). The caller commits."""
    created = changed = 0
    plan = (await session.exec(select(Plan).where(col(Plan.key) == spec.key))).first()
    if plan is None:
        plan = Plan(key=spec.key, name=spec.name, fiscal_year=spec.fiscal_year)
        session.add(plan)
        created += 1
    elif (plan.name, plan.fiscal_year) != (spec.name, spec.fiscal_year):
        plan.name, plan.fiscal_year = spec.name, spec.fiscal_year
        changed += 1
    if not plan.active:
        await session.exec(update(Plan).where(col(Plan.active)).values(active=False))
        plan.active = True
    if plan.first_period is None or period < plan.first_period:
        plan.first_period = period  # loading it again later keeps the periods reported since
    await session.flush()
    assert plan.id is not None

    goals = {
        g.key: g for g in (await session.exec(select(Goal).where(col(Goal.plan_id) == plan.id)))
    }
    for position, goal_spec in enumerate(spec.goals):
        group_position, group = spec.group(goal_spec.kind)
        values: dict[str, Any] = {
            "name": goal_spec.name,
            "short": goal_spec.short,
            "kind": goal_spec.kind,
            "group_name": group.name,
            "group_one": group.one,
            "group_position": group_position,
            "position": position,
            "objectives": list(goal_spec.objectives),
            "aliases": list(goal_spec.aliases),
        }
        goal = goals.get(goal_spec.key)
        if goal is None:
            goals[goal_spec.key] = Goal(plan_id=plan.id, key=goal_spec.key, **values)
            session.add(goals[goal_spec.key])
            created += 1
        else:
            changed += _assign(goal, values)

    departments = {
        d.key: d
        for d in (await session.exec(select(Department).where(col(Department.plan_id) == plan.id)))
    }
    for position, dept_spec in enumerate(spec.departments):
        dept_values: dict[str, Any] = {
            "name": dept_spec.name,
            "position": position,
            "aliases": list(dept_spec.aliases),
        }
        dept = departments.get(dept_spec.key)
        if dept is None:
            departments[dept_spec.key] = Department(
                plan_id=plan.id, key=dept_spec.key, **dept_values
            )
            session.add(departments[dept_spec.key])
            created += 1
        else:
            changed += _assign(dept, dept_values)
    await session.flush()

    rows = await session.exec(
        select(Initiative, col(Department.key))
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .where(col(Department.plan_id) == plan.id)
    )
    initiatives = {(key, i.number): i for i, key in rows}
    new: set[tuple[str, int]] = set()
    done = 0
    for dept_spec in spec.departments:
        dept_id = departments[dept_spec.key].id
        assert dept_id is not None
        for item in dept_spec.initiatives:
            initiative = initiatives.get((dept_spec.key, item.number))
            if initiative is None:
                initiative = Initiative(department_id=dept_id, number=item.number, text=item.text)
                initiatives[(dept_spec.key, item.number)] = initiative
                new.add((dept_spec.key, item.number))
                session.add(initiative)
                created += 1
            elif initiative.text != item.text:
                initiative.text = item.text
                changed += 1
        done += len(dept_spec.initiatives)
        if progress is not None:
            progress(done, spec.initiative_count)
    await session.flush()

    for dept_spec in spec.departments:
        for item in dept_spec.initiatives:
            initiative = initiatives[(dept_spec.key, item.number)]
            parent_id = (
                None if item.parent is None else initiatives[(dept_spec.key, item.parent)].id
            )
            if initiative.parent_id != parent_id:
                initiative.parent_id = parent_id
                changed += (dept_spec.key, item.number) not in new

    initiative_ids = [i.id for i in initiatives.values()]
    existing_links = set(
        (
            await session.exec(
                select(col(InitiativeGoal.initiative_id), col(InitiativeGoal.goal_id)).where(
                    col(InitiativeGoal.goal_id).in_([g.id for g in goals.values()])
                )
            )
        ).all()
    )
    wanted_links: set[tuple[int, int]] = {
        (stored_id(initiatives[(d.key, i.number)].id), stored_id(goals[g].id))
        for d in spec.departments
        for i in d.initiatives
        for g in i.goals
    }
    for initiative_id, goal_id in sorted(wanted_links - existing_links):
        session.add(InitiativeGoal(initiative_id=initiative_id, goal_id=goal_id))
        created += 1
    file_ids = {i for i, _ in wanted_links}
    stale = [link for link in existing_links - wanted_links if link[0] in file_ids]
    for initiative_id, goal_id in stale:
        await session.exec(
            delete(InitiativeGoal).where(
                col(InitiativeGoal.initiative_id) == initiative_id,
                col(InitiativeGoal.goal_id) == goal_id,
            )
        )
        changed += 1

    # A status written in the file ("(completed)") is the initiative's baseline, made once: the
    # plan's word, not a report, dated the period before the first prompt (so it never counts
    # as reporting for one). An initiative that already has any update is left alone.
    with_status = {
        initiatives[(d.key, i.number)].id: i.status
        for d in spec.departments
        for i in d.initiatives
        if i.status is not None
    }
    if with_status:
        reported = set(
            (
                await session.exec(
                    select(col(Update.initiative_id))
                    .where(col(Update.initiative_id).in_(list(with_status)))
                    .distinct()
                )
            ).all()
        )
        for baseline_id, status in with_status.items():
            if baseline_id not in reported and baseline_id is not None and status is not None:
                session.add(
                    Update(
                        initiative_id=baseline_id,
                        period=baseline_period(period),
                        status=status,
                        note=PLAN_NOTE,
                        source=Source.PLAN,
                        received_at=baseline_time(period),
                    )
                )
                created += 1
    await session.flush()
    if spec.measures:
        from models.measures import load_measures  # measures are read with the plan's helpers

        loaded = await load_measures(session, plan.id, spec.measures, source=spec.source)
        created, changed = created + loaded.created, changed + loaded.changed
    if created or changed:
        await bump_revision(session, plan_id=plan.id)
    return LoadResult(
        plan_id=plan.id,
        created=created,
        changed=changed,
        initiatives=len([i for i in initiative_ids if i in file_ids]),
        departments=len(spec.departments),
        goals=len(spec.goals),
    )


def _assign(row: object, values: dict[str, object]) -> int:
    """Set the values that differ; 1 when anything changed."""
    differs = {k: v for k, v in values.items() if getattr(row, k) != v}
    for k, v in differs.items():
        setattr(row, k, v)
    return 1 if differs else 0


async def set_owners(
    session: AsyncSession,
    department: Department,
    user_ids: Sequence[str],
    channel_id: str | None = None,
) -> None:
    """Replace a department's owners (and its channel, when given). The caller commits."""
    assert department.id is not None
    await session.exec(
        delete(DepartmentOwner).where(col(DepartmentOwner.department_id) == department.id)
    )
    for user_id in dict.fromkeys(user_ids):
        session.add(DepartmentOwner(department_id=department.id, user_id=user_id))
    if channel_id is not None:
        department.channel_id = channel_id
        session.add(department)
    await session.flush()
    await bump_revision(session, department_id=department.id)


async def set_contacts(
    session: AsyncSession, department: Department, role: ContactRole, user_ids: Sequence[str]
) -> None:
    """Replace a department's people in `role` (none: an empty list). The caller commits."""
    assert department.id is not None
    await session.exec(
        delete(DepartmentContact).where(
            col(DepartmentContact.department_id) == department.id,
            col(DepartmentContact.role) == role,
        )
    )
    for user_id in dict.fromkeys(user_ids):
        session.add(DepartmentContact(department_id=department.id, role=role, user_id=user_id))
    await session.flush()
    await bump_revision(session, department_id=department.id)


async def set_backups(
    session: AsyncSession, department: Department, user_ids: Sequence[str]
) -> None:
    """Replace a department's backup owners. The caller commits."""
    await set_contacts(session, department, ContactRole.BACKUP, user_ids)


async def contacts_of(
    session: AsyncSession, department_ids: Sequence[int], role: ContactRole
) -> dict[int, tuple[str, ...]]:
    """Each department's people in `role`, in user id order (departments without: absent)."""
    found: dict[int, list[str]] = {}
    for department_id, user_id in await session.exec(
        select(col(DepartmentContact.department_id), col(DepartmentContact.user_id))
        .where(
            col(DepartmentContact.department_id).in_(list(department_ids)),
            col(DepartmentContact.role) == role,
        )
        .order_by(col(DepartmentContact.user_id))
    ):
        found.setdefault(department_id, []).append(user_id)
    return {d: tuple(users) for d, users in found.items()}


async def backups_of(
    session: AsyncSession, department_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    return await contacts_of(session, department_ids, ContactRole.BACKUP)


async def list_owners(session: AsyncSession) -> list[DepartmentOwners]:
    plan = await active_plan(session)
    departments = (
        await session.exec(
            select(Department)
            .where(col(Department.plan_id) == plan.id)
            .order_by(col(Department.position))
        )
    ).all()
    owners: dict[int, list[str]] = {}
    rows = await session.exec(
        select(col(DepartmentOwner.department_id), col(DepartmentOwner.user_id))
        .join(Department, col(Department.id) == col(DepartmentOwner.department_id))
        .where(col(Department.plan_id) == plan.id)
        .order_by(col(DepartmentOwner.user_id))
    )
    for department_id, user_id in rows:
        owners.setdefault(department_id, []).append(user_id)
    counts = dict(
        (
            await session.exec(
                select(col(Initiative.department_id), func.count())
                .join(Department, col(Department.id) == col(Initiative.department_id))
                .where(col(Department.plan_id) == plan.id)
                .group_by(col(Initiative.department_id))
            )
        ).all()
    )
    ids = [d.id for d in departments if d.id is not None]
    backups = await backups_of(session, ids)
    escalation = await contacts_of(session, ids, ContactRole.ESCALATION)
    return [
        DepartmentOwners(
            key=d.key,
            name=d.name,
            owners=tuple(owners.get(d.id or 0, ())),
            channel_id=d.channel_id,
            initiatives=counts.get(d.id or 0, 0),
            backups=backups.get(d.id or 0, ()),
            escalation=escalation.get(d.id or 0, ()),
        )
        for d in departments
    ]


async def department_by_key(session: AsyncSession, plan_id: int, key: str) -> Department | None:
    return (
        await session.exec(
            select(Department).where(col(Department.plan_id) == plan_id, col(Department.key) == key)
        )
    ).first()


async def departments_owned_by(session: AsyncSession, user_id: str) -> list[Department]:
    plan = await active_plan(session)
    return list(
        (
            await session.exec(
                select(Department)
                .join(DepartmentOwner, col(DepartmentOwner.department_id) == col(Department.id))
                .where(col(Department.plan_id) == plan.id, col(DepartmentOwner.user_id) == user_id)
                .order_by(col(Department.position))
            )
        ).all()
    )
