"""Storing a plan: load a plan file into the tables; owners, channels and the active plan."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.planfile import PlanSpec
from models.tables import (
    Department,
    DepartmentOwner,
    Goal,
    Initiative,
    InitiativeGoal,
    Plan,
    Update,
)

Progress = Callable[[int, int], None]


class NoActivePlan(LookupError):
    """No plan has been loaded yet."""

    def __str__(self) -> str:
        return "no plan is loaded: run `planbot plan load`"


@dataclass(frozen=True)
class LoadResult:
    plan_id: int
    created: int  # rows added (goals, departments, initiatives, alignments, import updates)
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


async def bump_revision(
    session: AsyncSession, *, plan_id: int | None = None, department_id: int | None = None
) -> None:
    """Mark the plan changed, so cached answers are computed again."""
    target = (
        plan_id
        if plan_id is not None
        else select(Department.plan_id).where(Department.id == department_id).scalar_subquery()
    )
    await session.exec(  # type: ignore[call-overload]
        update(Plan).where(Plan.id == target).values(revision=Plan.revision + 1)
    )


async def active_plan(session: AsyncSession) -> Plan:
    plan = (await session.exec(select(Plan).where(Plan.active))).first()
    if plan is None:
        raise NoActivePlan
    return plan


async def load_plan(
    session: AsyncSession, spec: PlanSpec, *, period: str, progress: Progress | None = None
) -> LoadResult:
    """Make the tables match the plan file and make it the active plan. Loading the same file
    again changes nothing. Departments' owners and channels, and all updates, are kept; initiatives
    no longer in the file are kept too (their history matters). The caller commits."""
    created = changed = 0
    plan = (await session.exec(select(Plan).where(Plan.key == spec.key))).first()
    if plan is None:
        plan = Plan(key=spec.key, name=spec.name, fiscal_year=spec.fiscal_year)
        session.add(plan)
        created += 1
    elif (plan.name, plan.fiscal_year) != (spec.name, spec.fiscal_year):
        plan.name, plan.fiscal_year = spec.name, spec.fiscal_year
        changed += 1
    if not plan.active:
        await session.exec(update(Plan).where(Plan.active).values(active=False))  # type: ignore[call-overload]
        plan.active = True
    await session.flush()
    assert plan.id is not None

    goals = {g.key: g for g in (await session.exec(select(Goal).where(Goal.plan_id == plan.id)))}
    for position, goal_spec in enumerate(spec.goals):
        values = {
            "name": goal_spec.name,
            "kind": goal_spec.kind,
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
        for d in (await session.exec(select(Department).where(Department.plan_id == plan.id)))
    }
    for position, dept_spec in enumerate(spec.departments):
        values = {"name": dept_spec.name, "position": position, "aliases": list(dept_spec.aliases)}
        dept = departments.get(dept_spec.key)
        if dept is None:
            departments[dept_spec.key] = Department(plan_id=plan.id, key=dept_spec.key, **values)
            session.add(departments[dept_spec.key])
            created += 1
        else:
            changed += _assign(dept, values)
    await session.flush()

    rows = await session.exec(
        select(Initiative, Department.key)
        .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
        .where(Department.plan_id == plan.id)
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
                select(InitiativeGoal.initiative_id, InitiativeGoal.goal_id).where(
                    InitiativeGoal.goal_id.in_([g.id for g in goals.values()])  # type: ignore[union-attr]
                )
            )
        ).all()
    )
    wanted_links = {
        (initiatives[(d.key, i.number)].id, goals[g].id)
        for d in spec.departments
        for i in d.initiatives
        for g in i.goals
    }
    for initiative_id, goal_id in sorted(wanted_links - existing_links):  # type: ignore[type-var]
        session.add(InitiativeGoal(initiative_id=initiative_id, goal_id=goal_id))
        created += 1
    file_ids = {i for i, _ in wanted_links}
    stale = [link for link in existing_links - wanted_links if link[0] in file_ids]
    for initiative_id, goal_id in stale:
        await session.exec(
            delete(InitiativeGoal).where(  # type: ignore[call-overload]
                InitiativeGoal.initiative_id == initiative_id, InitiativeGoal.goal_id == goal_id
            )
        )
        changed += 1

    # A status written in the file ("(completed)") is an import update, made once: an
    # initiative that already has any update has been reported on since and is left alone.
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
                    select(Update.initiative_id)
                    .where(Update.initiative_id.in_(list(with_status)))  # type: ignore[attr-defined]
                    .distinct()
                )
            ).all()
        )
        for initiative_id, status in with_status.items():
            if initiative_id not in reported and initiative_id is not None and status is not None:
                session.add(
                    Update(
                        initiative_id=initiative_id,
                        period=period,
                        status=status,
                        note="Marked completed in the plan document",
                        source="import",
                    )
                )
                created += 1
    await session.flush()
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
        delete(DepartmentOwner).where(DepartmentOwner.department_id == department.id)  # type: ignore[call-overload]
    )
    for user_id in dict.fromkeys(user_ids):
        session.add(DepartmentOwner(department_id=department.id, user_id=user_id))
    if channel_id is not None:
        department.channel_id = channel_id
        session.add(department)
    await session.flush()
    await bump_revision(session, department_id=department.id)


async def list_owners(session: AsyncSession) -> list[DepartmentOwners]:
    plan = await active_plan(session)
    departments = (
        await session.exec(
            select(Department).where(Department.plan_id == plan.id).order_by(Department.position)
        )
    ).all()
    owners: dict[int, list[str]] = {}
    rows = await session.exec(
        select(DepartmentOwner.department_id, DepartmentOwner.user_id)
        .join(Department, Department.id == DepartmentOwner.department_id)  # type: ignore[arg-type]
        .where(Department.plan_id == plan.id)
        .order_by(DepartmentOwner.user_id)
    )
    for department_id, user_id in rows:
        owners.setdefault(department_id, []).append(user_id)
    counts = dict(
        (
            await session.exec(
                select(Initiative.department_id, func.count())
                .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
                .where(Department.plan_id == plan.id)
                .group_by(Initiative.department_id)
            )
        ).all()
    )
    return [
        DepartmentOwners(
            key=d.key,
            name=d.name,
            owners=tuple(owners.get(d.id or 0, ())),
            channel_id=d.channel_id,
            initiatives=counts.get(d.id, 0),
        )
        for d in departments
    ]


async def department_by_key(session: AsyncSession, plan_id: int, key: str) -> Department | None:
    return (
        await session.exec(
            select(Department).where(Department.plan_id == plan_id, Department.key == key)
        )
    ).first()


async def departments_owned_by(session: AsyncSession, user_id: str) -> list[Department]:
    plan = await active_plan(session)
    return list(
        (
            await session.exec(
                select(Department)
                .join(DepartmentOwner, DepartmentOwner.department_id == Department.id)  # type: ignore[arg-type]
                .where(Department.plan_id == plan.id, DepartmentOwner.user_id == user_id)
                .order_by(Department.position)
            )
        ).all()
    )
