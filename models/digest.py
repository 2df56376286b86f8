"""The weekly digest's content: where the plan stands, what changed since the last digest, what
needs attention, who is missing. Plain results; the Block Kit is built in handlers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cycle import claim_for_posting
from models.periods import next_period, parse_period, recent_periods
from models.queries import (
    DepartmentRef,
    GoalLine,
    GoalsOverview,
    MissingReport,
    StatusCounts,
    dialect_of,
    fetch_rows,
    goals_overview,
    latest_update,
    missing_departments,
)
from models.status import Status
from models.tables import Department, DepartmentOwner, Digest, Initiative, Update

_NEEDS_ATTENTION = frozenset(s.value for s in Status if s.needs_attention)
STALE_PERIODS = 3  # unchanged for this many periods (the open one included) while not complete
TREND_PERIODS = 6


@dataclass(frozen=True)
class ItemRef:
    department: DepartmentRef
    number: int
    text: str


@dataclass(frozen=True)
class Change:
    item: ItemRef
    before: Status | None  # None: it had no update before
    after: Status
    author: str
    received_at: datetime


@dataclass(frozen=True)
class AttentionItem:
    item: ItemRef
    status: Status
    note: str
    percent: int | None
    period: str
    received_at: datetime
    stale_since: str | None  # the first period of an unchanged run, for stale items


@dataclass(frozen=True)
class DigestContent:
    period: str  # the open reporting period
    since: datetime | None  # the previous digest, or None for the first one
    totals: StatusCounts  # every initiative once
    goals: GoalsOverview  # an initiative aligned to two goals counts under each
    changes: list[Change]  # status changes since the previous digest
    new_updates: int  # updates received since the previous digest
    late_updates: int
    attention: list[AttentionItem]  # off track, at risk, then stale
    missing: MissingReport
    owned_departments: int  # departments with initiatives and an owner
    reported_owned: int  # of those, how many reported for the period
    trend: list[tuple[str, StatusCounts]]  # the last periods, oldest first

    @property
    def mayor_goals(self) -> list[GoalLine]:
        return [g for g in self.goals.goals if g.goal.kind == "mayor"]

    @property
    def response_rate(self) -> float:
        return self.reported_owned / self.owned_departments if self.owned_departments else 0.0


async def previous_digest_time(
    session: AsyncSession, channel_id: str, week: str
) -> datetime | None:
    """When the last digest before this week's was posted in the channel."""
    return (
        await session.exec(
            select(Digest.posted_at)
            .where(Digest.channel_id == channel_id, Digest.week < week, Digest.state == "posted")
            .order_by(Digest.week.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
    ).first()


@dataclass(frozen=True)
class DigestFigures:
    """The part of the digest its charts draw: status by goal, and the trend."""

    goals: GoalsOverview
    trend: list[tuple[str, StatusCounts]]  # the last periods, oldest first


async def digest_figures(session: AsyncSession, plan_id: int, period: str) -> DigestFigures:
    """Queried first, so that the charts can be drawn while the rest of the digest is queried.
    Four statements."""
    parse_period(period)
    goals = await goals_overview(session, plan_id, period)
    trend = await _trend(session, plan_id, recent_periods(period, TREND_PERIODS))
    return DigestFigures(goals, trend)


async def digest_content(
    session: AsyncSession,
    plan_id: int,
    period: str,
    *,
    since: datetime | None,
    now: datetime,
    figures: DigestFigures | None = None,
) -> DigestContent:
    """Everything the digest says. A fixed number of statements whatever the plan's size.
    `figures` are this plan's and period's `digest_figures`, when the caller has them already."""
    parse_period(period)
    if figures is None:
        figures = await digest_figures(session, plan_id, period)
    missing = await missing_departments(session, plan_id, period)

    # Each initiative once: its department, latest update, and the last period its status
    # differed (for staleness) and its first period. Both read `ix_updates_latest` alone.
    dialect = dialect_of(session)
    latest = latest_update(dialect)
    differing = aliased(Update)
    first = aliased(Update)
    last_different = (
        select(sa.func.max(differing.period))
        .where(differing.initiative_id == Initiative.id, differing.status != latest.c.status)
        .correlate(Initiative, latest.source)
        .scalar_subquery()
    )
    first_period = (
        select(sa.func.min(first.period))
        .where(first.initiative_id == Initiative.id)
        .correlate(Initiative)
        .scalar_subquery()
    )
    rows = await fetch_rows(
        session,
        select(
            Initiative.id,
            Initiative.number,
            Initiative.text,
            Department.id.label("department_id"),  # type: ignore[union-attr]
            Department.key,
            Department.name,
            latest.c.status,
            latest.c.note,
            latest.c.percent,
            latest.c.period,
            latest.c.received_at,
            last_different.label("last_different"),
            first_period.label("first_period"),
        )
        .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
        .outerjoin(latest.source, latest.on)
        .where(Department.plan_id == plan_id)
        .order_by(Department.position, Initiative.number),
    )
    # Ten thousand rows on a large plan: one pass, and a reference built only for the items
    # the digest names.
    totals = StatusCounts(
        {
            None if value is None else Status(value): n
            for value, n in Counter(r.status for r in rows).items()
        }
    )
    departments: dict[int, DepartmentRef] = {}
    by_id = {r.id: r for r in rows}

    def item(r: Any) -> ItemRef:
        department = departments.get(r.department_id)
        if department is None:
            department = departments[r.department_id] = DepartmentRef(r.key, r.name)
        return ItemRef(department, r.number, r.text)

    window = recent_periods(period, STALE_PERIODS)[0]
    urgent: list[AttentionItem] = []
    stale: list[AttentionItem] = []
    for r in rows:
        if r.status is None or r.status == Status.COMPLETE:
            continue
        if r.status in _NEEDS_ATTENTION:
            status = Status(r.status)
            urgent.append(
                AttentionItem(item(r), status, r.note, r.percent, r.period, r.received_at, None)
            )
            continue
        if r.period < window:
            continue
        run_start = r.first_period if r.last_different is None else next_period(r.last_different)
        if run_start is not None and run_start <= window:
            stale.append(
                AttentionItem(
                    item(r), Status(r.status), r.note, r.percent, r.period, r.received_at, run_start
                )
            )
    urgent.sort(key=lambda a: a.status != Status.OFF_TRACK)

    # What changed since the previous digest: for each initiative with updates received since,
    # the status just before the first of them against the last of them; only those that differ
    # come back (a thousand of the nine thousand updated on the Large plan).
    changes: list[Change] = []
    new_updates = late_updates = 0
    if since is not None:
        counted = (
            await session.exec(
                _received(
                    plan_id,
                    since,
                    now,
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(sa.case((Update.late, 1), else_=0)), 0),
                )
            )
        ).one()
        new_updates, late_updates = int(counted[0]), int(counted[1])
        for row in await fetch_rows(session, _changed_since(plan_id, since, now)):
            if row.initiative_id in by_id:
                before = None if row.before is None else Status(row.before)
                changes.append(
                    Change(
                        item(by_id[row.initiative_id]),
                        before,
                        Status(row.status),
                        row.author,
                        row.received_at,
                    )
                )

    # Response: departments with an owner and initiatives, and how many of them reported.
    owned = sa.exists().where(DepartmentOwner.department_id == Department.id)
    has_initiatives = sa.exists().where(Initiative.department_id == Department.id)
    reported = sa.exists().where(
        Initiative.department_id == Department.id,
        sa.exists().where(Update.initiative_id == Initiative.id, Update.period == period),
    )
    owned_rows = (
        await session.exec(
            select(reported.label("reported")).where(
                Department.plan_id == plan_id, owned, has_initiatives
            )
        )
    ).all()

    return DigestContent(
        period=period,
        since=since,
        totals=totals,
        goals=figures.goals,
        changes=changes,
        new_updates=new_updates,
        late_updates=late_updates,
        attention=urgent + stale,
        missing=missing,
        owned_departments=len(owned_rows),
        reported_owned=sum(1 for r in owned_rows if r),
        trend=figures.trend,
    )


def _received(plan_id: int, since: datetime, now: datetime, *columns: Any) -> Any:
    """`columns` over the plan's updates received after `since`, up to `now`."""
    return (
        select(*columns)
        .select_from(Update)
        .join(Initiative, Initiative.id == Update.initiative_id)  # type: ignore[arg-type]
        .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
        .where(
            Department.plan_id == plan_id,
            Update.received_at > since,  # type: ignore[operator]
            Update.received_at <= now,  # type: ignore[operator]
        )
    )


def _changed_since(plan_id: int, since: datetime, now: datetime) -> Any:
    """Initiatives whose last status received since `since` differs from the status they had
    before the first update received since (or that had none), in the order of that first
    update; with that status before, and the last update's status, author and time."""
    order = (Update.period, Update.received_at, Update.id)
    received = _received(
        plan_id,
        since,
        now,
        *order,
        Update.initiative_id,
        Update.status,
        Update.author,
        sa.func.row_number().over(partition_by=Update.initiative_id, order_by=order).label("nth"),
        sa.func.row_number()
        .over(
            partition_by=Update.initiative_id,
            order_by=[column.desc() for column in order],  # type: ignore[attr-defined]
        )
        .label("nth_last"),
    ).cte("received")
    first, last = received.alias("first_received"), received.alias("last_received")
    earlier = aliased(Update)
    before = (
        select(earlier.status)
        .where(
            earlier.initiative_id == first.c.initiative_id,
            sa.tuple_(earlier.period, earlier.received_at, earlier.id)
            < sa.tuple_(first.c.period, first.c.received_at, first.c.id),
        )
        .order_by(earlier.period.desc(), earlier.received_at.desc(), earlier.id.desc())  # type: ignore[union-attr,attr-defined]
        .limit(1)
        .correlate(first)
        .scalar_subquery()
    )
    pairs = (
        select(
            first.c.initiative_id,
            first.c.period.label("first_period"),
            first.c.received_at.label("first_received_at"),
            first.c.id.label("first_id"),
            before.label("before"),
            last.c.status,
            last.c.author,
            last.c.received_at,
        )
        .join(last, sa.and_(last.c.initiative_id == first.c.initiative_id, last.c.nth_last == 1))
        .where(first.c.nth == 1)
        .subquery()
    )
    return (
        select(
            pairs.c.initiative_id,
            pairs.c.before,
            pairs.c.status,
            pairs.c.author,
            pairs.c.received_at,
        )
        .where(sa.or_(pairs.c.before.is_(None), pairs.c.before != pairs.c.status))
        .order_by(pairs.c.first_period, pairs.c.first_received_at, pairs.c.first_id)
    )


async def _trend(
    session: AsyncSession, plan_id: int, periods: list[str]
) -> list[tuple[str, StatusCounts]]:
    """Per period, each initiative's last word in that period; silence counts as no update."""
    in_plan = (
        select(Update.period, Update.status)
        .join(Initiative, Initiative.id == Update.initiative_id)  # type: ignore[arg-type]
        .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
        .where(Department.plan_id == plan_id, Update.period.in_(periods))  # type: ignore[attr-defined]
    )
    if dialect_of(session) == "postgresql":
        # DISTINCT ON walks the rows in index order once: 55–60 ms on the Large plan, where
        # the correlated form below takes 380–630 ms (PostgreSQL nests it under a join).
        last_words = (
            in_plan.distinct(Update.initiative_id, Update.period)
            .order_by(
                Update.initiative_id,
                Update.period,
                Update.received_at.desc(),  # type: ignore[attr-defined]
                Update.id.desc(),  # type: ignore[union-attr]
            )
            .subquery()
        )
    else:
        # SQLite has no DISTINCT ON; it runs this as one index probe per row.
        same = aliased(Update)
        last_in_period = (
            select(same.id)
            .where(same.initiative_id == Update.initiative_id, same.period == Update.period)
            .order_by(same.received_at.desc(), same.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(1)
            .correlate(Update)
            .scalar_subquery()
        )
        last_words = in_plan.where(Update.id == last_in_period).subquery()
    rows = await session.exec(
        select(last_words.c.period, last_words.c.status, sa.func.count()).group_by(
            last_words.c.period, last_words.c.status
        )
    )
    total = (
        await session.exec(
            select(sa.func.count())
            .select_from(Initiative)
            .join(Department, Department.id == Initiative.department_id)  # type: ignore[arg-type]
            .where(Department.plan_id == plan_id)
        )
    ).one()
    counts: dict[str, Counter[Status | None]] = {p: Counter() for p in periods}
    for period, status, n in rows:
        counts[period][Status(status)] += n
    for period in periods:
        counts[period][None] = total - sum(counts[period].values())
    return [(p, StatusCounts({k: v for k, v in counts[p].items() if v})) for p in periods]


# --- the digest's record: claimed before posting, once per channel and week -------------------


@dataclass(frozen=True)
class DigestClaim:
    id: int
    attempts: int


async def claim_digest(
    session: AsyncSession, channel_id: str, week: str, now: datetime
) -> DigestClaim | None:
    """Record this week's digest for the channel and claim it for posting; None when it is
    posted already or another process holds a fresh claim. The caller commits before posting."""
    claimed = await claim_for_posting(
        session,
        Digest,
        {"channel_id": channel_id, "week": week},
        claimable=("pending", "failed"),
        now=now,
    )
    return None if claimed is None else DigestClaim(claimed.id, claimed.attempts)


async def finish_digest(
    session: AsyncSession,
    digest_id: int,
    *,
    message_ts: str | None,
    now: datetime,
    error: str | None = None,
) -> None:
    values: dict[str, object] = (
        {"state": "posted", "message_ts": message_ts, "posted_at": now, "last_error": None}
        if error is None
        else {"state": "failed", "last_error": error[:500]}
    )
    await session.exec(sa.update(Digest).where(Digest.id == digest_id).values(**values))  # type: ignore[call-overload]
