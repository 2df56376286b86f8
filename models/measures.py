"""Measures in the database: loading their definitions into a plan, recording actuals (from a
form, a thread, a file, the API or a fetch), and reading them back judged against target.

Reading is a fixed number of statements however many measures there are: the measures, their
targets, their goals, and the actuals of the periods asked for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.lookup import normalise
from models.measure_status import (
    Aggregation,
    Direction,
    Frequency,
    Judged,
    MeasureRule,
    MeasureStatus,
    fiscal_months,
    fiscal_year,
    is_due,
    judge_period,
)
from models.measurefile import ActualRow, MeasureFileError, MeasureSpec
from models.plans import bump_revision, stored_id
from models.tables import (
    Actual,
    ActualSource,
    Department,
    Goal,
    Initiative,
    Measure,
    MeasureGoal,
    MeasureInitiative,
    MeasureTarget,
    utcnow,
)


@dataclass(frozen=True)
class MeasureLoad:
    created: int
    changed: int
    measures: int


async def load_measures(
    session: AsyncSession,
    plan_id: int,
    specs: Sequence[MeasureSpec],
    *,
    source: str,
    sample: bool = False,
) -> MeasureLoad:
    """Make the plan's measures match `specs` (measures not named are kept, with their
    actuals). Every department, goal and initiative named must exist: the first that does not
    is refused, naming its entry, before anything is written. The caller commits."""
    departments = {
        d.key: d
        for d in await session.exec(select(Department).where(col(Department.plan_id) == plan_id))
    }
    goals = {g.key: g for g in await session.exec(select(Goal).where(col(Goal.plan_id) == plan_id))}
    numbered = {
        (key, number): stored_id(initiative_id)
        for initiative_id, number, key in await session.exec(
            select(col(Initiative.id), col(Initiative.number), col(Department.key))
            .join(Department, col(Department.id) == col(Initiative.department_id))
            .where(col(Department.plan_id) == plan_id)
        )
    }
    resolved: list[tuple[MeasureSpec, int | None, list[int], list[int]]] = []
    for spec in specs:
        where = f"{source} {spec.where}".strip()
        department = departments.get(spec.department) if spec.department else None
        if spec.department and department is None:
            raise MeasureFileError(where, f"no department {spec.department!r} in the plan")
        goal_ids = []
        for key in spec.goals:
            if key not in goals:
                raise MeasureFileError(where, f"no goal {key!r} in the plan")
            goal_ids.append(stored_id(goals[key].id))
        initiative_ids = []
        for dept_key, number in spec.initiatives:
            owner = dept_key or spec.department
            if owner is None:
                raise MeasureFileError(
                    where, f"initiative {number}: name its department (fire {number})"
                )
            if (owner, number) not in numbered:
                raise MeasureFileError(where, f"no initiative {owner} #{number} in the plan")
            initiative_ids.append(numbered[(owner, number)])
        resolved.append(
            (spec, None if department is None else department.id, goal_ids, initiative_ids)
        )

    existing = {
        m.key: m for m in await session.exec(select(Measure).where(col(Measure.plan_id) == plan_id))
    }
    position_base = max((m.position for m in existing.values()), default=-1) + 1
    created = changed = 0
    rows: list[tuple[Measure, MeasureSpec, list[int], list[int]]] = []
    for offset, (spec, department_id, goal_ids, initiative_ids) in enumerate(resolved):
        values: dict[str, Any] = {
            "name": spec.name,
            "description": spec.description,
            "unit": spec.unit,
            "direction": spec.direction.value,
            "frequency": spec.frequency.value,
            "aggregation": spec.aggregation.value,
            "band": spec.band,
            "department_id": department_id,
            "baseline": spec.baseline,
            "baseline_period": spec.baseline_period,
            "aliases": list(spec.aliases),
            "source_url": spec.source.url if spec.source else None,
            "source_format": spec.source.format if spec.source else None,
            "source_value": spec.source.value if spec.source else None,
            "source_period": spec.source.period if spec.source else None,
            "sample": sample,
        }
        measure = existing.get(spec.key)
        if measure is None:
            measure = Measure(
                plan_id=plan_id, key=spec.key, position=position_base + offset, **values
            )
            session.add(measure)
            created += 1
        else:
            differs = {k: v for k, v in values.items() if getattr(measure, k) != v}
            for k, v in differs.items():
                setattr(measure, k, v)
            changed += bool(differs)
        rows.append((measure, spec, goal_ids, initiative_ids))
    await session.flush()
    for measure, spec, goal_ids, initiative_ids in rows:
        measure_id = stored_id(measure.id)
        targets = {
            t.scope: t.value
            for t in await session.exec(
                select(MeasureTarget).where(col(MeasureTarget.measure_id) == measure_id)
            )
        }
        if targets != dict(spec.targets):
            await session.exec(
                delete(MeasureTarget).where(col(MeasureTarget.measure_id) == measure_id)
            )
            session.add_all(
                MeasureTarget(measure_id=measure_id, scope=scope, value=value)
                for scope, value in spec.targets
            )
            changed += bool(targets)
        links = set(
            (
                await session.exec(
                    select(col(MeasureGoal.goal_id)).where(
                        col(MeasureGoal.measure_id) == measure_id
                    )
                )
            ).all()
        )
        if links != set(goal_ids):
            await session.exec(delete(MeasureGoal).where(col(MeasureGoal.measure_id) == measure_id))
            session.add_all(
                MeasureGoal(measure_id=measure_id, goal_id=g) for g in dict.fromkeys(goal_ids)
            )
        served = set(
            (
                await session.exec(
                    select(col(MeasureInitiative.initiative_id)).where(
                        col(MeasureInitiative.measure_id) == measure_id
                    )
                )
            ).all()
        )
        if served != set(initiative_ids):
            await session.exec(
                delete(MeasureInitiative).where(col(MeasureInitiative.measure_id) == measure_id)
            )
            session.add_all(
                MeasureInitiative(measure_id=measure_id, initiative_id=i)
                for i in dict.fromkeys(initiative_ids)
            )
    await session.flush()
    if created or changed:
        await bump_revision(session, plan_id=plan_id)
    return MeasureLoad(created=created, changed=changed, measures=len(specs))


# --- naming a measure -------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureName:
    id: int
    key: str
    name: str
    unit: str
    department_id: int | None


async def measure_names(session: AsyncSession, plan_id: int) -> dict[str, MeasureName]:
    """Every word a measure answers to (key, name, aliases), normalised as goals' names are."""
    names: dict[str, MeasureName] = {}
    for m in await session.exec(
        select(Measure).where(col(Measure.plan_id) == plan_id).order_by(col(Measure.position))
    ):
        named = MeasureName(stored_id(m.id), m.key, m.name, m.unit, m.department_id)
        for word in (m.key, m.name, *m.aliases):
            names.setdefault(normalise(word), named)
    return names


@dataclass(frozen=True)
class MeasureFound:
    measure: MeasureName | None
    suggestions: tuple[MeasureName, ...] = ()
    guessed: bool = False


def find_measure(names: dict[str, MeasureName], text: str) -> MeasureFound:
    """The measure `text` names: its key, name or alias; else one slip away from exactly one of
    them; else the one measure whose name holds every word typed ("potholes"); else a close
    spelling that clearly beats the rest. Otherwise the closest, as suggestions."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import OSA

    wanted = normalise(text)[:200]
    if not wanted:
        return MeasureFound(None)
    if wanted in names:
        return MeasureFound(names[wanted])
    if len(wanted) >= 4:
        slips = {m for name, m in names.items() if OSA.distance(wanted, name) <= 1}
        if len(slips) == 1:
            return MeasureFound(slips.pop(), guessed=True)
    words = set(wanted.split())
    holding = {m for name, m in names.items() if words <= set(name.split())}
    if len(holding) == 1:
        return MeasureFound(holding.pop(), guessed=True)
    scored: dict[MeasureName, float] = {}
    for name, score, _ in process.extract(
        wanted, list(names), scorer=fuzz.ratio, limit=20, score_cutoff=55
    ):
        scored[names[name]] = max(score, scored.get(names[name], 0.0))
    ranked = sorted(scored.items(), key=lambda item: -item[1])
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if not holding and ranked and len(wanted) > 3 and ranked[0][1] >= max(85, runner_up + 5):
        return MeasureFound(ranked[0][0], guessed=True)
    suggestions = list(
        dict.fromkeys([*sorted(holding, key=lambda m: m.name), *(m for m, _ in ranked)])
    )
    return MeasureFound(None, tuple(suggestions[:3]))


# --- recording actuals ------------------------------------------------------------------------


@dataclass
class ActualsResult:
    stored: int = 0
    unchanged: int = 0  # the period's latest value already, or the sender's reference seen
    measure_ids: set[int] = field(default_factory=set)


async def record_actuals(
    session: AsyncSession,
    plan_id: int,
    rows: Sequence[ActualRow],
    *,
    source: ActualSource,
    author: str,
    received_at: datetime | None = None,
    allowed: Iterable[int] | None = None,
) -> ActualsResult:
    """Store a batch of actuals, all or nothing: a row naming no measure of the plan (or one
    outside `allowed`) refuses the whole batch, naming the row. A row whose sender's reference
    was stored before for its measure and period is not stored again; a row without a
    reference that repeats the period's latest value and note is not either. The caller
    commits."""
    names = await measure_names(session, plan_id)
    allowed_ids = None if allowed is None else set(allowed)
    targets: list[tuple[ActualRow, MeasureName]] = []
    for row in rows:
        named = names.get(normalise(row.measure))
        if named is None or (allowed_ids is not None and named.id not in allowed_ids):
            raise MeasureFileError(row.where or "actual", f"no measure {row.measure!r} in the plan")
        targets.append((row, named))
    result = ActualsResult()
    if not targets:
        return result
    ids = sorted({named.id for _, named in targets})
    periods = sorted({row.period for row, _ in targets})
    seen_refs: set[tuple[int, str, str]] = set()
    latest: dict[tuple[int, str], tuple[float, str]] = {}  # the period's value and note
    # Plain rows through Core, both ways: a batch is a thousand rows, and no ORM object is
    # wanted (the ORM's unit of work was most of a 1,000-row batch's time).
    connection = await session.connection()
    for measure_id, period, value, note, ref in await connection.execute(
        sa.select(
            col(Actual.measure_id),
            col(Actual.period),
            col(Actual.value),
            col(Actual.note),
            col(Actual.source_ref),
        )
        .where(col(Actual.measure_id).in_(ids), col(Actual.period).in_(periods))
        .order_by(col(Actual.received_at), col(Actual.id))
    ):
        latest[(measure_id, period)] = (value, note)
        if ref is not None:
            seen_refs.add((measure_id, period, ref))
    when = received_at or utcnow()
    new: list[dict[str, Any]] = []
    for row, named in targets:
        key = (named.id, row.period)
        if row.ref is not None:
            if (named.id, row.period, row.ref) in seen_refs:
                result.unchanged += 1
                continue
            seen_refs.add((named.id, row.period, row.ref))
        elif latest.get(key) == (row.value, row.note):
            result.unchanged += 1
            continue
        new.append(
            {
                "measure_id": named.id,
                "period": row.period,
                "value": row.value,
                "note": row.note,
                "author": author[:60],
                "source": source.value,
                "source_ref": row.ref,
                "received_at": when,
            }
        )
        latest[key] = (row.value, row.note)
        result.stored += 1
        result.measure_ids.add(named.id)
    if new:
        await connection.execute(sa.insert(Actual), new)
    if result.stored:
        await bump_revision(session, plan_id=plan_id)
    return result


# --- reading measures back, judged ------------------------------------------------------------


@dataclass(frozen=True)
class LatestActual:
    period: str
    value: float
    note: str
    author: str
    source: str
    received_at: datetime


@dataclass(frozen=True)
class MeasureView:
    id: int
    key: str
    name: str
    description: str
    unit: str
    rule: MeasureRule
    department_key: str | None
    department_name: str | None
    baseline: float | None
    baseline_period: str | None
    goal_ids: tuple[int, ...]
    targets: dict[str, float]
    values: dict[str, float]  # each period's latest value, within the periods read
    latest: dict[str, LatestActual]  # each period's latest actual, within the periods read
    position: int
    sample: bool
    source_url: str | None
    aliases: tuple[str, ...] = ()
    # Each period's latest value among those received by a moment in the past (measure_views'
    # `then`): the measure as it stood then, for what changed since.
    values_then: dict[str, float] = field(default_factory=dict)

    @property
    def direction(self) -> Direction:
        return self.rule.direction

    def judged(self, period: str, start_month: int) -> Judged:
        return judge_period(self.rule, self.values, self.targets, period, start_month)

    def due(self, period: str, start_month: int) -> bool:
        return is_due(period, self.rule.frequency, start_month)

    def last_period(self, period: str, start_month: int) -> str | None:
        """The latest period up to `period` this measure is due in and has a value for."""
        given = [p for p in self.values if p <= period]
        return max(given) if given else None

    def status(self, period: str, start_month: int) -> Judged:
        """The measure as it stands at `period`: judged at the last period it has a value for
        (a quarterly measure in a month between quarters), or No data."""
        last = self.last_period(period, start_month)
        return self.judged(last if last is not None else period, start_month)

    def status_then(self, period: str, start_month: int) -> Judged | None:
        """The measure as it stood at `then` (see `values_then`), judged the way `status` is;
        None when it had no figure yet."""
        given = [p for p in self.values_then if p <= period]
        if not given:
            return None
        return judge_period(self.rule, self.values_then, self.targets, max(given), start_month)


async def measure_views(
    session: AsyncSession,
    plan_id: int,
    periods: Sequence[str],
    *,
    goal_id: int | None = None,
    department_id: int | None = None,
    department_ids: Sequence[int] | None = None,
    measure_ids: Sequence[int] | None = None,
    start_month: int | None = None,
    details: bool = True,
    then: datetime | None = None,
) -> list[MeasureView]:
    """The plan's measures (those serving a goal, owned by a department, or by id) with the
    actuals of `periods`, and of the fiscal year's months before them for year-to-date figures
    (from the fiscal year's start with `start_month`, else eleven months before: any start).
    Without `details`, only values are read (`latest` stays empty): what a long list needs.
    With `then`, each view also holds its values as they stood at that moment (`values_then`),
    read in the same pass. Four statements, however many measures."""
    chosen = select(col(Measure.id)).where(col(Measure.plan_id) == plan_id)
    if goal_id is not None:
        chosen = chosen.where(
            col(Measure.id).in_(
                select(col(MeasureGoal.measure_id)).where(col(MeasureGoal.goal_id) == goal_id)
            )
        )
    if department_id is not None:
        chosen = chosen.where(col(Measure.department_id) == department_id)
    if department_ids is not None:
        chosen = chosen.where(col(Measure.department_id).in_(list(department_ids)))
    if measure_ids is not None:
        chosen = chosen.where(col(Measure.id).in_(list(measure_ids)))
    # Plain rows through Core, here and below: thousands of them, and no ORM object is wanted.
    table = Measure.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(
            table,
            col(Department.key).label("department_key"),
            col(Department.name).label("department_name"),
        )
        .outerjoin(Department, col(Department.id) == table.c.department_id)
        .where(table.c.id.in_(chosen))
        .order_by(table.c.position, table.c.id)
    )
    connection = await session.connection()
    found = (await connection.execute(query)).all()
    if not found:
        return []  # a plan without measures pays one statement for them
    ids = [m.id for m in found]
    # Each statement below takes the same selection as a subquery: no list of ids to send.
    targets: dict[int, dict[str, float]] = {i: {} for i in ids}
    target_query = select(
        col(MeasureTarget.measure_id), col(MeasureTarget.scope), col(MeasureTarget.value)
    ).where(col(MeasureTarget.measure_id).in_(chosen))
    for measure_id, scope, value in await connection.execute(target_query):
        if measure_id in targets:
            targets[measure_id][scope] = value
    goal_links: dict[int, list[int]] = {i: [] for i in ids}
    link_query = select(col(MeasureGoal.measure_id), col(MeasureGoal.goal_id)).where(
        col(MeasureGoal.measure_id).in_(chosen)
    )
    for measure_id, linked_goal in await connection.execute(link_query):
        if measure_id in goal_links:
            goal_links[measure_id].append(linked_goal)
    values: dict[int, dict[str, float]] = {i: {} for i in ids}
    latest: dict[int, dict[str, LatestActual]] = {i: {} for i in ids}
    values_then: dict[int, dict[str, float]] = {i: {} for i in ids}
    if periods:
        first = min(periods)
        if start_month is not None:
            since = min(first, fiscal_months(fiscal_year(first, start_month), start_month)[0])
        else:
            year, month = (int(p) for p in first.split("-"))
            index = year * 12 + month - 1 - 11
            since = f"{index // 12:04d}-{index % 12 + 1:02d}"
        wanted = [
            col(Actual.measure_id),
            col(Actual.period),
            col(Actual.value),
            *(
                [col(Actual.note), col(Actual.author), col(Actual.source), col(Actual.received_at)]
                if details
                else []
            ),
            # Compared in the database: its clock type, not Python's, decides what "by then" is.
            *([(col(Actual.received_at) <= then).label("by_then")] if then is not None else []),
        ]
        # In the order of ix_actuals_latest: the last row of a measure's period is its value.
        actual_query = (
            select(*wanted)
            .where(
                col(Actual.measure_id).in_(chosen),
                col(Actual.period) >= since,
                col(Actual.period) <= max(periods),
            )
            .order_by(
                col(Actual.measure_id),
                col(Actual.period),
                col(Actual.received_at),
                col(Actual.id),
            )
        )
        rows: Sequence[Any] = (await connection.execute(actual_query)).all()
        # Tens of thousands of rows on a large plan: the plain case is a loop of its own.
        if not details and then is None:
            for measure_id, period, value in rows:
                values[measure_id][period] = value
        else:
            for row in rows:
                measure_id, period, value = row[0], row[1], row[2]
                values[measure_id][period] = value
                if details:
                    latest[measure_id][period] = LatestActual(period, value, *row[3:7])
                if then is not None and row[-1]:
                    values_then[measure_id][period] = value
    return [
        MeasureView(
            id=m.id,
            key=m.key,
            name=m.name,
            description=m.description,
            unit=m.unit,
            rule=_rule(m.direction, m.frequency, m.aggregation, m.band),
            department_key=m.department_key,
            department_name=m.department_name,
            baseline=m.baseline,
            baseline_period=m.baseline_period,
            goal_ids=tuple(goal_links[m.id]),
            targets=targets[m.id],
            values=values[m.id],
            latest=latest[m.id],
            position=m.position,
            sample=m.sample,
            source_url=m.source_url,
            aliases=tuple(m.aliases),
            values_then=values_then[m.id],
        )
        for m in found
    ]


@cache
def _rule(direction: str, frequency: str, aggregation: str, band: float) -> MeasureRule:
    """One rule object per kind of measure, not one per measure: they are few."""
    return MeasureRule(Direction(direction), Frequency(frequency), Aggregation(aggregation), band)


def by_severity(views: Sequence[MeasureView], period: str, start_month: int) -> list[MeasureView]:
    """Missed first, then Near, No data, No target and Met; the plan's order within each."""
    from models.measure_status import SEVERITY

    rank = {s: i for i, s in enumerate(SEVERITY)}
    return sorted(views, key=lambda v: (rank[v.status(period, start_month).status], v.position))


def missing_measures(
    views: Sequence[MeasureView], period: str, start_month: int
) -> list[MeasureView]:
    """Measures due for `period` with no value for it yet."""
    return [v for v in views if v.due(period, start_month) and period not in v.values]


__all__ = [
    "ActualsResult",
    "LatestActual",
    "MeasureFound",
    "MeasureLoad",
    "MeasureName",
    "MeasureStatus",
    "MeasureView",
    "by_severity",
    "find_measure",
    "load_measures",
    "measure_names",
    "measure_views",
    "missing_measures",
    "record_actuals",
]
