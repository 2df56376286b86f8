"""Sample updates, so a demo or a new install shows summaries that are not empty."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.periods import next_period, parse_period
from models.plans import bump_revision
from models.status import Status
from models.tables import Department, Initiative, Update

SAMPLE_AUTHOR = "USAMPLE"
# The newest a sample may be: a little before now, so anything recorded now is newer.
_BEFORE_NOW = timedelta(minutes=5)
_NOTES = {
    Status.NOT_STARTED: ["Scoping with the vendor", "Waiting for the budget to be adopted"],
    Status.ON_TRACK: ["Milestones met this month", "Pilot running in two neighborhoods"],
    Status.AT_RISK: ["Waiting on the union agreement", "Procurement is slower than planned"],
    Status.OFF_TRACK: ["Grant not awarded; looking for other funding", "Key position vacant"],
    Status.COMPLETE: ["Done and handed over to operations"],
}
# How a status tends to move from one month to the next.
_NEXT = {
    Status.NOT_STARTED: [Status.NOT_STARTED, Status.ON_TRACK, Status.ON_TRACK, Status.AT_RISK],
    Status.ON_TRACK: [Status.ON_TRACK] * 6 + [Status.AT_RISK, Status.COMPLETE],
    Status.AT_RISK: [Status.AT_RISK, Status.ON_TRACK, Status.OFF_TRACK],
    Status.OFF_TRACK: [Status.OFF_TRACK, Status.AT_RISK],
    Status.COMPLETE: [Status.COMPLETE],
}


def next_month(
    rng: random.Random,
    moves: dict[Status, list[Status]],
    status: Status,
    percent: int,
) -> tuple[Status, int]:
    """One month of a plausible walk: the next status (drawn from `moves`) and percent done,
    which only grows and is 100 only when complete."""
    status = rng.choice(moves[status])
    if status == Status.COMPLETE:
        return status, 100
    if status != Status.NOT_STARTED:
        return status, min(95, percent + rng.randint(0, 15))
    return status, percent


async def add_sample_updates(
    session: AsyncSession,
    plan_id: int,
    first_period: str,
    periods: int,
    *,
    seed: int = 2016,
    skip_last_share: float = 0.2,
    now: datetime | None = None,
) -> int:
    """Add `periods` months of plausible updates to every initiative, starting at
    `first_period`; in the last month about `skip_last_share` of departments stay silent, so
    "missing" has something to show. Deterministic for a seed and `now`. Returns rows added.

    Each month's samples are dated a few days into the next month, as leads would answer its
    prompt, but never after `now` (default: the clock): a sample dated in the future would
    be the latest word of its period and hide what a lead records today."""
    rng = random.Random(seed)
    latest = (now or datetime.now(UTC)) - _BEFORE_NOW
    rows = (
        await session.exec(
            select(col(Initiative.id), col(Initiative.department_id))
            .join(Department, col(Department.id) == col(Initiative.department_id))
            .where(col(Department.plan_id) == plan_id)
            .order_by(col(Initiative.id))
        )
    ).all()
    departments = sorted({d for _, d in rows})
    silent = set(rng.sample(departments, k=int(len(departments) * skip_last_share)))
    done = set(
        (
            await session.exec(
                select(col(Update.initiative_id))
                .where(col(Update.status) == Status.COMPLETE)
                .distinct()
            )
        ).all()
    )
    state = {i: Status.COMPLETE if i in done else Status.NOT_STARTED for i, _ in rows}
    percent = {i: 0 for i, _ in rows}
    period = parse_period(first_period)
    added = 0
    for month in range(periods):
        last = month == periods - 1
        year, mon = (int(p) for p in period.split("-"))
        planned = datetime(year, mon, 1, 14, tzinfo=UTC) + timedelta(days=rng.randint(32, 40))
        received = min(planned, latest)
        for initiative_id, department_id in rows:
            if initiative_id is None or (last and department_id in silent):
                continue
            status, percent[initiative_id] = next_month(
                rng, _NEXT, state[initiative_id], percent[initiative_id]
            )
            state[initiative_id] = status
            session.add(
                Update(
                    initiative_id=initiative_id,
                    period=period,
                    status=status,
                    percent=percent[initiative_id] if status != Status.NOT_STARTED else None,
                    note=rng.choice(_NOTES[status]),
                    author=SAMPLE_AUTHOR,
                    source="import",
                    received_at=received,
                )
            )
            added += 1
        period = next_period(period)
    await session.flush()
    await bump_revision(session, plan_id=plan_id)
    return added


async def add_sample_actuals(
    session: AsyncSession,
    plan_id: int,
    first_period: str,
    periods: int,
    *,
    start_month: int,
    seed: int = 2016,
    now: datetime | None = None,
) -> int:
    """Plausible actuals for every measure of the plan in the periods it is due: a walk from its
    baseline (or its target's neighbourhood) that drifts towards the target, some measures
    falling short, and about a fifth left without the last period's value. Deterministic for a
    seed and `now`; dated like the sample updates. Returns rows added."""
    from models.measure_status import Direction, Frequency, fiscal_label, is_due
    from models.tables import Actual, ActualSource, Measure, MeasureTarget

    rng = random.Random(seed)
    latest = (now or datetime.now(UTC)) - _BEFORE_NOW
    measures = list(
        await session.exec(
            select(Measure).where(col(Measure.plan_id) == plan_id).order_by(col(Measure.id))
        )
    )
    targets: dict[int, dict[str, float]] = {}
    for target in await session.exec(select(MeasureTarget)):
        targets.setdefault(target.measure_id, {})[target.scope] = target.value
    months = []
    period = parse_period(first_period)
    for _ in range(periods):
        months.append(period)
        period = next_period(period)
    added = 0
    for measure in measures:
        if measure.id is None:
            continue
        frequency = Frequency(measure.frequency)
        own = targets.get(measure.id, {})
        yearly = [
            own[fiscal_label(p, start_month)] for p in months if fiscal_label(p, start_month) in own
        ]
        goal = yearly[-1] if yearly else (measure.baseline or 100.0)
        if measure.aggregation == "sum":
            goal = goal * frequency.months / 12  # a period's share of the year's total
        good = 1 if Direction(measure.direction) is Direction.HIGHER else -1
        # Some measures do well, some fall short: where a walk starts, relative to its target.
        start = goal * (1 - good * rng.choice((0.02, 0.08, 0.15, 0.25)))
        value = start
        skip_last = rng.random() < 0.2
        for index, month in enumerate(months):
            if not is_due(month, frequency, start_month):
                continue
            if index == len(months) - 1 and skip_last:
                continue
            value = value + (goal - value) * rng.uniform(0.0, 0.3) + goal * rng.uniform(-0.03, 0.03)
            shown = (
                round(value, 1)
                if measure.unit in ("%", "days", "minutes", "hours")
                else round(value)
            )
            if measure.unit == "%":
                shown = max(0.0, min(100.0, shown))
            year, mon = (int(p) for p in month.split("-"))
            planned = datetime(year, mon, 1, 14, tzinfo=UTC) + timedelta(days=rng.randint(32, 40))
            session.add(
                Actual(
                    measure_id=measure.id,
                    period=month,
                    value=float(shown),
                    author=SAMPLE_AUTHOR,
                    source=ActualSource.IMPORT.value,
                    received_at=min(planned, latest),
                )
            )
            added += 1
    await session.flush()
    if added:
        await bump_revision(session, plan_id=plan_id)
    return added
