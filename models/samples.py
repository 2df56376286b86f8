"""Sample updates, so a demo or a new install shows summaries that are not empty."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.periods import next_period, parse_period
from models.plans import bump_revision
from models.status import Status
from models.tables import Department, Initiative, Update

SAMPLE_AUTHOR = "USAMPLE"
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
) -> int:
    """Add `periods` months of plausible updates to every initiative, starting at
    `first_period`; in the last month about `skip_last_share` of departments stay silent, so
    "missing" has something to show. Deterministic for a seed. Returns rows added."""
    rng = random.Random(seed)
    rows = (
        await session.exec(
            select(Initiative.id, Initiative.department_id)
            .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
            .where(Department.plan_id == plan_id)
            .order_by(Initiative.id)
        )
    ).all()
    departments = sorted({d for _, d in rows})
    silent = set(rng.sample(departments, k=int(len(departments) * skip_last_share)))
    done = set(
        (
            await session.exec(
                select(Update.initiative_id).where(Update.status == Status.COMPLETE).distinct()
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
        received = datetime(year, mon, 1, 14, tzinfo=UTC) + timedelta(days=rng.randint(32, 40))
        for initiative_id, department_id in rows:
            if last and department_id in silent:
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
