"""The weekly digest's content: where the plan stands, what changed since the last digest, what
needs attention, who is missing. Plain results; the Block Kit is built in handlers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.attention import AttentionItem, ItemRef, StillRed, plan_attention, still_red
from models.cycle import Holder, claim_for_posting
from models.help import HelpView, unresolved
from models.measure_status import SEVERITY, Judged, MeasureStatus, due_periods, worse
from models.measures import MeasureView, measure_views
from models.periods import parse_period, recent_periods
from models.queries import (
    DepartmentRef,
    GoalsOverview,
    ResponseRate,
    StatusCounts,
    dialect_of,
    fetch_rows,
    goals_overview,
    response_rate,
)
from models.status import Status
from models.tables import Department, Digest, Initiative, InitiativeGoal, PostState, Source, Update

TREND_PERIODS = 6
# A measure's figures are read for a year: its trend, its year to date, a quarterly measure's
# last quarters.
MEASURE_MONTHS = 12


@dataclass(frozen=True)
class Change:
    item: ItemRef
    before: Status | None  # None: it had no update before
    after: Status
    author: str
    received_at: datetime


@dataclass(frozen=True)
class MeasureAttention:
    """A measure the digest lists: Missed, or worse than at the previous digest and not Met."""

    measure: MeasureView
    judged: Judged  # as it stands at the open period (at its last figure)
    before: Judged | None  # as it stood at the previous digest; None: no figure then, or none

    @property
    def got_worse(self) -> bool:
        return worse(self.before, self.judged, self.measure.direction)

    @property
    def shortfall(self) -> float:
        """How far the figure is from its target, as a share of the target (0 when unknown)."""
        figure, target = self.judged.figure, self.judged.target
        if figure is None or target is None or target == 0:
            return 0.0
        return abs(figure - target) / abs(target)


@dataclass(frozen=True)
class MeasureDigest:
    """The plan's measures as the digest reads them."""

    count: int  # the plan's measures (0: the digest says nothing about measures)
    attention: list[MeasureAttention]  # worst first
    periods: list[str]  # the months read, oldest first, ending with the open one
    start_month: int = 7  # the fiscal year's first month

    def series(self, item: MeasureAttention) -> list[Judged]:
        """The measure judged at each period read that it is due in and has a figure for,
        oldest first: what its chart draws (asked for only for the measures drawn)."""
        view = item.measure
        return [
            view.judged(p, self.start_month)
            for p in due_periods(view.rule.frequency, self.periods, self.start_month)
            if p in view.values
        ]

    def shown(self, most: int) -> MeasureDigest:
        """The same with only the first `most` measures needing attention: what a chart of
        them needs (the count listed is the caller's to keep)."""
        return replace(self, attention=self.attention[:most])


NO_MEASURES = MeasureDigest(0, [], [])


async def measure_digest(
    session: AsyncSession,
    plan_id: int,
    period: str,
    *,
    since: datetime | None,
    start_month: int,
) -> MeasureDigest:
    """The measures needing attention at the open `period`: Missed, or Near and worse than they
    stood at the previous digest (`since`). Missed first, then Near; the furthest from target
    first within each. One statement for a plan without measures, four with them."""
    periods = recent_periods(period, MEASURE_MONTHS)
    views = await measure_views(
        session, plan_id, periods, start_month=start_month, details=False, then=since
    )
    if not views:
        return NO_MEASURES
    found = []
    for view in views:
        judged = view.status(period, start_month)
        before = view.status_then(period, start_month) if since is not None else None
        entry = MeasureAttention(view, judged, before)
        if judged.status is MeasureStatus.MISSED or (
            judged.status is MeasureStatus.NEAR and entry.got_worse
        ):
            found.append(entry)
    rank = {s: i for i, s in enumerate(SEVERITY)}
    found.sort(key=lambda a: (rank[a.judged.status], -a.shortfall, a.measure.position))
    return MeasureDigest(len(views), found, periods, start_month)


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
    response: ResponseRate  # who reported for the period, and who did not
    trend: list[tuple[str, StatusCounts]]  # the last periods, oldest first
    until: datetime  # when it was drawn up: the week it covers ends here
    measures: MeasureDigest = field(default=NO_MEASURES)
    # Off track for two periods or more, or stale: for the COO, with the last reason (issue 16).
    still_red: list[StillRed] = field(default_factory=list)
    # Requests for help not yet resolved, oldest first (issue 16).
    help: list[HelpView] = field(default_factory=list)


async def previous_digest_time(
    session: AsyncSession, channel_id: str, week: str
) -> datetime | None:
    """When the last digest before this week's was posted in the channel."""
    return (
        await session.exec(
            select(col(Digest.posted_at))
            .where(
                col(Digest.channel_id) == channel_id,
                col(Digest.week) < week,
                col(Digest.state) == PostState.POSTED,
            )
            .order_by(col(Digest.week).desc())
            .limit(1)
        )
    ).first()


async def last_digest_time(session: AsyncSession, channel_id: str) -> datetime | None:
    """When the latest digest was posted in the channel (this week's included)."""
    return (
        await session.exec(
            select(col(Digest.posted_at))
            .where(col(Digest.channel_id) == channel_id, col(Digest.state) == PostState.POSTED)
            .order_by(col(Digest.week).desc())
            .limit(1)
        )
    ).first()


async def changes_since(
    session: AsyncSession,
    plan_id: int,
    since: datetime,
    now: datetime,
    goal_id: int | None = None,
) -> list[Change]:
    """`/plan changes [goal]`: the status changes received since `since` — the digest's own
    definition — for the whole plan or the initiatives serving one goal. One statement."""
    changed = _changed_since(plan_id, since, now, dialect_of(session)).subquery("changed")
    query = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
            changed,
            col(Initiative.number),
            col(Initiative.text),
            col(Department.key),
            col(Department.name),
        )
        .join(Initiative, col(Initiative.id) == changed.c.initiative_id)
        .join(Department, col(Department.id) == col(Initiative.department_id))
    )
    if goal_id is not None:
        query = query.join(
            InitiativeGoal,
            sa.and_(
                col(InitiativeGoal.initiative_id) == col(Initiative.id),
                col(InitiativeGoal.goal_id) == goal_id,
            ),
        )
    # In the order the changes began, as the digest lists them.
    query = query.order_by(changed.c.first_period, changed.c.first_received_at, changed.c.first_id)
    departments: dict[str, DepartmentRef] = {}
    changes = []
    for row in await fetch_rows(session, query):
        department = departments.setdefault(row.key, DepartmentRef(row.key, row.name))
        changes.append(
            Change(
                ItemRef(department, row.number, row.text),
                None if row.before is None else Status(row.before),
                Status(row.status),
                row.author,
                row.received_at,
            )
        )
    return changes


@dataclass(frozen=True)
class DigestFigures:
    """The part of the digest its charts draw: status by goal, the trend, and the measures
    needing attention (against their targets)."""

    goals: GoalsOverview
    trend: list[tuple[str, StatusCounts]]  # the last periods, oldest first
    measures: MeasureDigest = field(default=NO_MEASURES)


async def digest_figures(
    session: AsyncSession,
    plan_id: int,
    period: str,
    *,
    since: datetime | None = None,
    start_month: int = 7,
) -> DigestFigures:
    """Queried first, so that the charts can be drawn while the rest of the digest is queried.
    Five statements (eight when the plan has measures). `since` is the previous digest, for
    the measures that got worse; the fiscal year starts in `start_month`."""
    parse_period(period)
    goals = await goals_overview(session, plan_id, period)
    trend = await status_trend(session, plan_id, period)
    measures = await measure_digest(session, plan_id, period, since=since, start_month=start_month)
    return DigestFigures(goals, trend, measures)


async def status_trend(
    session: AsyncSession, plan_id: int, period: str
) -> list[tuple[str, StatusCounts]]:
    """The trend the digest draws: the last TREND_PERIODS periods up to `period`, oldest
    first, each with every initiative's status at its end. Two statements."""
    return await _trend(session, plan_id, recent_periods(period, TREND_PERIODS))


@dataclass(frozen=True)
class DigestStanding:
    """The part of the digest its charts do not draw: every initiative's standing, what changed
    since the previous digest, who reported, what stays red, the open requests for help."""

    totals: StatusCounts
    attention: list[AttentionItem]
    response: ResponseRate
    changes: list[Change]
    new_updates: int
    late_updates: int
    still_red: list[StillRed]
    help: list[HelpView]


async def digest_standing(
    session: AsyncSession, plan_id: int, period: str, *, since: datetime | None, now: datetime
) -> DigestStanding:
    """Everything the digest says but its figures. A fixed number of statements whatever the
    plan's size; none of them reads what `digest_figures` reads, so the two may be read at
    once on connections of their own."""
    parse_period(period)
    response = await response_rate(session, plan_id, period)

    standing = await plan_attention(session, plan_id, period)
    staying = await still_red(session, standing.attention, period)

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
                    sa.func.coalesce(sa.func.sum(sa.case((col(Update.late), 1), else_=0)), 0),
                )
            )
        ).one()
        new_updates, late_updates = int(counted[0]), int(counted[1])
        for row in await fetch_rows(
            session, _changed_since(plan_id, since, now, dialect_of(session))
        ):
            item = standing.item(row.initiative_id)
            if item is not None:
                before = None if row.before is None else Status(row.before)
                changes.append(
                    Change(item, before, Status(row.status), row.author, row.received_at)
                )

    return DigestStanding(
        totals=standing.totals,
        attention=standing.attention,
        response=response,
        changes=changes,
        new_updates=new_updates,
        late_updates=late_updates,
        still_red=staying,
        help=await unresolved(session, plan_id),
    )


def compose_digest(
    period: str,
    *,
    since: datetime | None,
    now: datetime,
    figures: DigestFigures,
    standing: DigestStanding,
) -> DigestContent:
    """The digest's content from its two halves, read apart."""
    return DigestContent(
        period=period,
        since=since,
        totals=standing.totals,
        goals=figures.goals,
        changes=standing.changes,
        new_updates=standing.new_updates,
        late_updates=standing.late_updates,
        attention=standing.attention,
        response=standing.response,
        until=now,
        trend=figures.trend,
        measures=figures.measures,
        still_red=standing.still_red,
        help=standing.help,
    )


async def digest_content(
    session: AsyncSession,
    plan_id: int,
    period: str,
    *,
    since: datetime | None,
    now: datetime,
    figures: DigestFigures | None = None,
    start_month: int = 7,
) -> DigestContent:
    """Everything the digest says, on one session. A fixed number of statements whatever the
    plan's size. `figures` are this plan's and period's `digest_figures`, when the caller has
    them already."""
    parse_period(period)
    if figures is None:
        figures = await digest_figures(
            session, plan_id, period, since=since, start_month=start_month
        )
    standing = await digest_standing(session, plan_id, period, since=since, now=now)
    return compose_digest(period, since=since, now=now, figures=figures, standing=standing)


def _received(plan_id: int, since: datetime, now: datetime, *columns: Any) -> Any:
    """`columns` over the plan's updates received after `since`, up to `now`; the plan file's
    own statuses are not news."""
    return (
        select(*columns)
        .select_from(Update)
        .join(Initiative, col(Initiative.id) == col(Update.initiative_id))
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .where(
            col(Department.plan_id) == plan_id,
            col(Update.received_at) > since,
            col(Update.received_at) <= now,
            col(Update.source) != Source.PLAN,
        )
    )


def _changed_since(plan_id: int, since: datetime, now: datetime, dialect: str) -> Any:
    """Initiatives whose last status received since `since` differs from the status they had
    before the first update received since (or that had none), in the order of that first
    update; with that status before, and the last update's status, author and time.

    Each database reads it the way it runs it well: PostgreSQL numbers what was received in
    one pass, SQLite probes each initiative touched (see the two below). Numbering every row
    received and joining the numbered rows to themselves instead grew with what was received:
    280 ms on SQLite once a busy week had put 20,000 answers on Hartford's 87 initiatives."""
    pairs = (
        _numbered_pairs(plan_id, since, now)
        if dialect == "postgresql"
        else _probed_pairs(plan_id, since, now)
    )
    return (
        select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
            pairs.c.initiative_id,
            pairs.c.before,
            pairs.c.status,
            pairs.c.author,
            pairs.c.received_at,
            pairs.c.first_period,
            pairs.c.first_received_at,
            pairs.c.first_id,
        )
        .where(sa.or_(pairs.c.before.is_(None), pairs.c.before != pairs.c.status))
        .order_by(pairs.c.first_period, pairs.c.first_received_at, pairs.c.first_id)
    )


_ANSWER_ORDER = ("period", "received_at", "id")


def _status_before(first: Any) -> Any:
    """The status of the update just before `first` (its period, received_at and id), in the
    order answers are read: a backward probe of `ix_updates_latest`."""
    earlier = aliased(Update)
    return (
        select(col(earlier.status))
        .where(
            earlier.initiative_id == first.initiative_id,
            sa.tuple_(*(getattr(earlier, name) for name in _ANSWER_ORDER))
            < sa.tuple_(*(getattr(first, name) for name in _ANSWER_ORDER)),
        )
        .order_by(*(getattr(earlier, name).desc() for name in _ANSWER_ORDER))
        .limit(1)
    )


def _numbered_pairs(plan_id: int, since: datetime, now: datetime) -> Any:
    """PostgreSQL: what was received, in one pass numbered per initiative (its first row, with
    the last row's status, author and time beside it), then one probe per initiative for the
    status before. On the Large plan's week (9,100 answers) 58–71 ms, against 115–141 ms with
    the first and the last row probed too (the probes sort each initiative's answers of the
    window: `ix_updates_answered` is not in their order). The pass grows with what was
    received rather than with the initiatives touched: over a year of answers (~110,000) it
    took 249 ms against 184 ms, over every answer 490 against 255 ms."""
    order = [col(getattr(Update, name)) for name in _ANSWER_ORDER]
    window: dict[str, Any] = {"partition_by": col(Update.initiative_id), "order_by": order}
    whole: dict[str, Any] = {**window, "rows": (None, None)}

    def last(column: Any) -> Any:
        return sa.func.last_value(column, type_=column.type).over(**whole)

    received = _received(
        plan_id,
        since,
        now,
        col(Update.initiative_id),
        col(Update.period),
        col(Update.received_at),
        col(Update.id),
        sa.func.row_number().over(**window).label("nth"),
        last(col(Update.status)).label("last_status"),
        last(col(Update.author)).label("last_author"),
        last(col(Update.received_at)).label("last_received_at"),
    ).subquery("received")
    first = received.c
    before = _status_before(first).correlate(received).scalar_subquery()
    # Materialized, so that the probe runs once a row: inlined, PostgreSQL copies it into the
    # caller's filter and runs it there twice more.
    return (
        sa.select(
            first.initiative_id,
            first.period.label("first_period"),
            first.received_at.label("first_received_at"),
            first.id.label("first_id"),
            before.label("before"),
            first.last_status.label("status"),
            first.last_author.label("author"),
            first.last_received_at.label("received_at"),
        )
        .where(first.nth == 1)
        .cte("pairs")
        .prefix_with("MATERIALIZED")
    )


def _probed_pairs(plan_id: int, since: datetime, now: datetime) -> Any:
    """SQLite: what was received, grouped by initiative; then each initiative's first and last
    update since, and the one before, are index probes (~75 ms on the Large plan's week,
    against ~82 ms numbered in one pass as PostgreSQL does, and 2–3× as long as that over a
    year or more of answers)."""
    touched = (
        _received(plan_id, since, now, col(Update.initiative_id), sa.func.min(col(Update.period)))
        .group_by(col(Update.initiative_id))
        .subquery("touched")
    )
    initiative_id, first_period = touched.c

    def probe(newest: bool) -> Any:
        one = aliased(Update)
        return (
            select(one.id)
            .where(
                one.initiative_id == initiative_id,
                *([] if newest else [one.period >= first_period]),
                col(one.received_at) > since,
                col(one.received_at) <= now,
                one.source != Source.PLAN,
            )
            .order_by(
                *(
                    getattr(one, name).desc() if newest else getattr(one, name)
                    for name in _ANSWER_ORDER
                )
            )
            .limit(1)
            .correlate(touched)
            .scalar_subquery()
        )

    first, last = aliased(Update), aliased(Update)
    before = _status_before(first).correlate(first).scalar_subquery()
    return (
        sa.select(
            initiative_id,
            col(first.period).label("first_period"),
            col(first.received_at).label("first_received_at"),
            col(first.id).label("first_id"),
            before.label("before"),
            col(last.status).label("status"),
            col(last.author).label("author"),
            col(last.received_at).label("received_at"),
        )
        .select_from(touched)
        .join(first, col(first.id) == probe(False))
        .join(last, col(last.id) == probe(True))
        .subquery("pairs")
    )


def _last_words(plan_id: int, periods: list[str]) -> Any:
    """PostgreSQL: each initiative's last word in each of `periods` it has one in: initiative,
    period, status. DISTINCT ON walks the rows in index order once: 55–60 ms on the Large plan,
    where a correlated form takes 380–630 ms (PostgreSQL nests it under a join)."""
    return (
        select(col(Update.initiative_id), col(Update.period), col(Update.status))
        .join(Initiative, col(Initiative.id) == col(Update.initiative_id))
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .where(col(Department.plan_id) == plan_id, col(Update.period).in_(periods))
        .distinct(col(Update.initiative_id), col(Update.period))
        .order_by(
            col(Update.initiative_id),
            col(Update.period),
            col(Update.received_at).desc(),
            col(Update.id).desc(),
        )
    )


def _months(periods: list[str]) -> Any:
    return sa.union_all(*(select(sa.literal(p).label("period")) for p in periods)).subquery(
        "months"
    )


def _silent_counts(plan_id: int, periods: list[str]) -> Any:
    """PostgreSQL: for each period, the initiatives with no word in it, counted by their status
    carried from before (their last earlier word; None when they never had one): period,
    status, n."""
    months = _months(periods)
    updates = Update.__table__  # type: ignore[attr-defined]
    said = (
        sa.exists()
        .where(
            updates.c.initiative_id == col(Initiative.id),
            updates.c.period == months.c.period,
            # Said again as a list, so that PostgreSQL hashes only these months' updates for
            # the anti-join, not every update ever (~200 → ~40 ms on the Large plan).
            updates.c.period.in_(periods),
        )
        .correlate(Initiative, months)
    )
    silent = (
        select(col(Initiative.id).label("initiative_id"), months.c.period)
        .select_from(Initiative)
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .join(months, sa.true())
        .where(col(Department.plan_id) == plan_id, ~said)
        .subquery("silent")
    )
    carried = (
        sa.select(updates.c.status)
        .where(
            updates.c.initiative_id == silent.c.initiative_id,
            updates.c.period < silent.c.period,
        )
        .order_by(updates.c.period.desc(), updates.c.received_at.desc(), updates.c.id.desc())
        .limit(1)
        .lateral("carried")
    )
    return (
        select(silent.c.period, carried.c.status, sa.func.count())
        .select_from(silent)
        .outerjoin(carried, sa.true())
        .group_by(silent.c.period, carried.c.status)
    )


def _status_at_ends(plan_id: int, periods: list[str]) -> Any:
    """SQLite: for each period, the initiatives counted by their status at its end — their
    last word up to it (None when they never had one): period, status, n. One backward probe
    of `ix_updates_latest` per initiative and period, counted once the probes are done (a
    materialized CTE: grouped directly, SQLite ran each probe twice). On the Large plan ~110
    ms, where the last words of each period and the silent periods' carried words apart took
    ~240 ms (a probe for every word of the six months, then one for every initiative and
    month to find the silent ones)."""
    months = _months(periods)
    updates = Update.__table__  # type: ignore[attr-defined]
    status = (
        sa.select(updates.c.status)
        .where(
            updates.c.initiative_id == col(Initiative.id),
            updates.c.period <= months.c.period,
        )
        .order_by(updates.c.period.desc(), updates.c.received_at.desc(), updates.c.id.desc())
        .limit(1)
        .correlate(Initiative, months)
        .scalar_subquery()
    )
    ends = (
        select(months.c.period, status.label("status"))
        .select_from(Initiative)
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .join(months, sa.true())
        .where(col(Department.plan_id) == plan_id)
        .cte("ends")
        .prefix_with("MATERIALIZED")
    )
    return select(ends.c.period, ends.c.status, sa.func.count()).group_by(
        ends.c.period, ends.c.status
    )


async def _trend(
    session: AsyncSession, plan_id: int, periods: list[str]
) -> list[tuple[str, StatusCounts]]:
    """Per period, each initiative's status at its end: its last word in that period or, when
    it said nothing then, the one before — the same reading as the digest's totals, so the
    open period, still being reported, shows what the text says and no drop. Never reported
    counts as no update. Counted in the database: on PostgreSQL in two statements, the last
    words of each period by status and the initiatives silent in a period by the status they
    carry; on SQLite in one, each initiative's last word up to each period's end."""
    counts: dict[str, Counter[Status | None]] = {p: Counter() for p in periods}
    if dialect_of(session) == "postgresql":
        words = _last_words(plan_id, periods).subquery("words")
        statements = [
            select(words.c.period, words.c.status, sa.func.count()).group_by(
                words.c.period, words.c.status
            ),
            _silent_counts(plan_id, periods),
        ]
    else:
        statements = [_status_at_ends(plan_id, periods)]
    for statement in statements:
        for period, status, n in await session.exec(statement):
            counts[period][None if status is None else Status(status)] += n
    return [(p, StatusCounts({k: v for k, v in counts[p].items() if v})) for p in periods]


# --- the digest's record: claimed before posting, once per channel and week -------------------


@dataclass(frozen=True)
class DigestClaim:
    id: int
    attempts: int


async def claim_digest(
    session: AsyncSession, channel_id: str, week: str, now: datetime, holder: Holder
) -> DigestClaim | None:
    """Record this week's digest for the channel and claim it for posting; None when it is
    posted already or another process holds a live claim. The caller commits before posting."""
    claimed = await claim_for_posting(
        session,
        Digest,
        {"channel_id": channel_id, "week": week},
        claimable=(PostState.PENDING, PostState.FAILED),
        now=now,
        holder=holder,
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
        {"state": PostState.POSTED, "message_ts": message_ts, "posted_at": now, "last_error": None}
        if error is None
        else {"state": PostState.FAILED, "last_error": error[:500]}
    )
    await session.exec(sa.update(Digest).where(col(Digest.id) == digest_id).values(**values))
