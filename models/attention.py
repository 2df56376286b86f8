"""What needs a leader's attention across the plan: initiatives off track or at risk (and for how
long), and stale ones — no progress for three periods. The digest, `/plan off track`, `/plan at
risk` and `/plan stale` all read them here, so they agree.

Stale means no progress: the status and the percent unchanged and no new note for
STALE_PERIODS periods (the open one included), while the work is neither complete nor already
flagged off track or at risk. An update makes progress when it is an initiative's first, or
changes its status or percent, or brings a note that is new (not empty, not the "No change"
button's, not the previous note again). An initiative whose percent went 11% → 28% is moving."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.periods import next_period, recent_periods
from models.queries import (
    DepartmentRef,
    GoalRef,
    StatusCounts,
    dialect_of,
    fetch_rows,
    goal_ref,
    latest_update,
)
from models.status import Status
from models.tables import Department, Goal, Initiative, InitiativeGoal, Source, Update

STALE_PERIODS = 3
# How far back "no progress since" looks: a run older than this shows as since its start.
PROGRESS_LOOKBACK = 6
# Notes that say nothing new: the "No change" button's, and none at all.
NO_CHANGE_NOTE = "No change"
_SILENT_NOTES = ("", NO_CHANGE_NOTE)
_NEEDS_ATTENTION = frozenset(s.value for s in Status if s.needs_attention)

Which = Literal["off_track", "at_risk", "stale"]


@dataclass(frozen=True)
class ItemRef:
    department: DepartmentRef
    number: int
    text: str


@dataclass(frozen=True)
class AttentionItem:
    item: ItemRef
    status: Status
    note: str
    percent: int | None
    period: str  # of its latest update
    received_at: datetime
    stale_since: str | None  # stale items: the period of the last progress
    since: str | None = None  # the first period of the run at its current status
    initiative_id: int = 0

    @property
    def stale(self) -> bool:
        return self.stale_since is not None


@dataclass(frozen=True)
class PlanAttention:
    """Every initiative's standing, read once: totals by status, what needs attention (off
    track, then at risk, then stale; each longest first), and a way to name any initiative."""

    totals: StatusCounts
    attention: list[AttentionItem]
    item: Callable[[int], ItemRef | None]  # by initiative id; None when not in the plan

    @property
    def urgent(self) -> list[AttentionItem]:
        return [a for a in self.attention if not a.stale]

    @property
    def stale(self) -> list[AttentionItem]:
        return [a for a in self.attention if a.stale]


def _last_progress(initiative_ids: list[int], since: str) -> Any:
    """Per initiative, the period of its last update from `since` on that made progress. The
    first update read counts as progress (it is where the look back starts, or the initiative's
    first), so "no progress since" is never overstated."""
    order = (col(Update.period), col(Update.received_at), col(Update.id))
    window: dict[str, Any] = {"partition_by": col(Update.initiative_id), "order_by": order}
    ordered = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
            col(Update.initiative_id),
            col(Update.period),
            col(Update.status),
            col(Update.percent),
            col(Update.note),
            sa.func.lag(col(Update.status)).over(**window).label("status_before"),
            sa.func.lag(col(Update.percent)).over(**window).label("percent_before"),
            sa.func.lag(col(Update.note)).over(**window).label("note_before"),
            sa.func.row_number().over(**window).label("nth"),
        )
        .where(
            col(Update.initiative_id).in_(initiative_ids),
            col(Update.period) >= since,
        )
        .subquery("ordered")
    )
    c = ordered.c
    progress = sa.or_(
        c.nth == 1,
        c.status != c.status_before,
        c.percent.is_distinct_from(c.percent_before),
        sa.and_(c.note.not_in(_SILENT_NOTES), c.note.is_distinct_from(c.note_before)),
    )
    return (
        select(c.initiative_id, sa.func.max(c.period).label("last_progress"))
        .where(progress)
        .group_by(c.initiative_id)
    )


async def plan_attention(session: AsyncSession, plan_id: int, period: str) -> PlanAttention:
    """Each initiative once: its latest update, how long it has held its status, and when it
    last made progress. Three statements: every initiative (the status runs read from
    `ix_updates_latest` alone), the first period of those whose status never changed (24 of
    the Large plan's 10,000: a probe each of them rather than of every initiative), then the
    history of only those whose status has not moved for the stale window — comparing every
    update with the one before it across a whole large plan would cost seconds."""
    latest = latest_update(dialect_of(session))
    differing = aliased(Update)
    last_different = (
        select(sa.func.max(differing.period))
        .where(differing.initiative_id == col(Initiative.id), differing.status != latest.c.status)
        .correlate(Initiative, latest.source)
        .scalar_subquery()
    )
    rows = await fetch_rows(
        session,
        select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
            col(Initiative.id),
            col(Initiative.number),
            col(Initiative.text),
            col(Department.id).label("department_id"),
            col(Department.key),
            col(Department.name),
            latest.c.status,
            latest.c.note,
            latest.c.percent,
            latest.c.period,
            latest.c.received_at,
            latest.c.source,
            last_different.label("last_different"),
        )
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .outerjoin(latest.source, latest.on)
        .where(col(Department.plan_id) == plan_id)
        .order_by(col(Department.position), col(Initiative.number)),
    )
    # Ten thousand rows on a large plan: one pass, and a reference built only for the items
    # named.
    totals = StatusCounts(
        {
            None if value is None else Status(value): n
            for value, n in Counter(r.status for r in rows).items()
        }
    )
    departments: dict[int, DepartmentRef] = {}
    by_id = {r.id: r for r in rows}

    def item_of(r: Any) -> ItemRef:
        department = departments.get(r.department_id)
        if department is None:
            department = departments[r.department_id] = DepartmentRef(r.key, r.name)
        return ItemRef(department, r.number, r.text)

    def item(initiative_id: int) -> ItemRef | None:
        r = by_id.get(initiative_id)
        return None if r is None else item_of(r)

    window = recent_periods(period, STALE_PERIODS)[0]
    urgent: list[tuple[Any, AttentionItem]] = []
    # Stale needs the status unchanged through the window: only those are looked at further.
    unmoved: list[tuple[int, Any, str]] = []
    # Complete, never reported, or only as the plan file left it: not the list's business.
    listed = [
        (position, r)
        for position, r in enumerate(rows)
        if r.status is not None and r.status != Status.COMPLETE and r.source != Source.PLAN
    ]
    # A run began after the last update of another status; with none, at the first update.
    never_changed = [r.id for _, r in listed if r.last_different is None]
    # Asked even when none is, so that the statements do not depend on the plan's data.
    first_periods: dict[int, str] = dict(
        (
            await session.exec(
                select(col(Update.initiative_id), sa.func.min(col(Update.period)))
                .where(col(Update.initiative_id).in_(never_changed))
                .group_by(col(Update.initiative_id))
            )
        ).all()
    )
    for position, r in listed:
        since = first_periods[r.id] if r.last_different is None else next_period(r.last_different)
        if r.status in _NEEDS_ATTENTION:
            status = Status(r.status)
            found = AttentionItem(
                item_of(r), status, r.note, r.percent, r.period, r.received_at, None, since, r.id
            )
            urgent.append(((status != Status.OFF_TRACK, since, position), found))
        elif r.period >= window and since <= window:
            unmoved.append((position, r, since))
    # The status changed when its run began, which is progress: reading from before the run
    # finds it, and the look back bounds how much is read.
    lookback = recent_periods(period, PROGRESS_LOOKBACK)[0]
    ids = [r.id for _, r, _ in unmoved]
    last_progress = dict((await session.exec(_last_progress(ids, lookback))).all())
    stale: list[tuple[Any, AttentionItem]] = []
    for position, r, since in unmoved:
        progressed = last_progress.get(r.id)
        if progressed is not None and progressed <= window:
            found = AttentionItem(
                item_of(r),
                Status(r.status),
                r.note,
                r.percent,
                r.period,
                r.received_at,
                progressed,
                since,
                r.id,
            )
            stale.append(((progressed, position), found))
    urgent.sort(key=lambda pair: pair[0])
    stale.sort(key=lambda pair: pair[0])
    return PlanAttention(totals, [a for _, a in urgent] + [a for _, a in stale], item)


# --- what stays red: for the COO in the digest (issue 16) --------------------------------------

STILL_OFF_TRACK = 2  # periods off track, the open one included, before an item "stays red"
REASON_LOOKBACK = 12  # periods searched for the last reason given


@dataclass(frozen=True)
class StillRed:
    """Off track for two periods or more, or stale: how long, and the last reason given."""

    item: AttentionItem
    months: int  # off track for this many months, or this many without progress
    reason: str  # the last note that said something ("" when none in the last year)
    reason_period: str | None


def _months_between(first: str, last: str) -> int:
    (y1, m1), (y2, m2) = (map(int, first.split("-")), map(int, last.split("-")))
    return (y2 - y1) * 12 + m2 - m1


async def still_red(
    session: AsyncSession, attention: list[AttentionItem], period: str
) -> list[StillRed]:
    """The items that stay red at `period`: off track for STILL_OFF_TRACK periods or more
    (longest first), then the stale (longest first), each with the last reason given — its
    latest note that said something. One statement, none when nothing stays red."""
    chosen: list[tuple[AttentionItem, int]] = []
    for a in attention:
        if a.stale_since is not None:
            chosen.append((a, _months_between(a.stale_since, period)))
        elif a.status == Status.OFF_TRACK and a.since is not None:
            months = _months_between(a.since, period) + 1
            if months >= STILL_OFF_TRACK:
                chosen.append((a, months))
    if not chosen:
        return []
    ids = [a.initiative_id for a, _ in chosen]
    order = (col(Update.period).desc(), col(Update.received_at).desc(), col(Update.id).desc())
    ranked = (
        select(
            col(Update.initiative_id),
            col(Update.note),
            col(Update.period),
            sa.func.row_number()
            .over(partition_by=col(Update.initiative_id), order_by=order)
            .label("nth"),
        )
        .where(
            col(Update.initiative_id).in_(ids),
            col(Update.period) >= recent_periods(period, REASON_LOOKBACK)[0],
            col(Update.note).not_in(_SILENT_NOTES),
        )
        .subquery("ranked")
    )
    reasons = {
        initiative_id: (note, said_in)
        for initiative_id, note, said_in in await session.exec(
            select(ranked.c.initiative_id, ranked.c.note, ranked.c.period).where(ranked.c.nth == 1)
        )
    }
    found = []
    for a, months in chosen:
        note, said_in = reasons.get(a.initiative_id, ("", None))
        found.append(StillRed(a, months, note, said_in))
    off = sorted((r for r in found if not r.item.stale), key=lambda r: -r.months)
    stale = sorted((r for r in found if r.item.stale), key=lambda r: -r.months)
    return off + stale


# --- across the plan, grouped by goal: /plan off track, /plan at risk, /plan stale -----------


@dataclass(frozen=True)
class GoalGroup:
    goal: GoalRef
    items: list[AttentionItem]  # worst first


@dataclass(frozen=True)
class AttentionByGoal:
    period: str
    which: Which
    total: int
    groups: list[GoalGroup]  # the goal with the most first; each initiative in one group


def _wanted(which: Which) -> Callable[[AttentionItem], bool]:
    if which == "stale":
        return lambda a: a.stale
    status = Status(which)
    return lambda a: not a.stale and a.status == status


async def attention_by_goal(
    session: AsyncSession, plan_id: int, period: str, which: Which
) -> AttentionByGoal:
    """Initiatives off track, at risk or stale across the whole plan, each once, under the
    first goal it serves in the plan's order (the main goals come first), so that the groups
    add up to the total; within a goal the longest-running first. Four statements."""
    standing = await plan_attention(session, plan_id, period)
    wanted = [a for a in standing.attention if _wanted(which)(a)]
    goals = (
        await session.exec(
            select(Goal).where(col(Goal.plan_id) == plan_id).order_by(col(Goal.position))
        )
    ).all()
    links = await session.exec(
        select(col(InitiativeGoal.goal_id), col(Department.key), col(Initiative.number))
        .join(Initiative, col(Initiative.id) == col(InitiativeGoal.initiative_id))
        .join(Department, col(Department.id) == col(Initiative.department_id))
        .where(col(Department.plan_id) == plan_id)
    )
    position = {g.id: i for i, g in enumerate(goals)}
    first_goal: dict[tuple[str, int], int] = {}
    for goal_id, key, number in links:
        known = first_goal.get((key, number))
        if known is None or position[goal_id] < position[known]:
            first_goal[(key, number)] = goal_id
    under: dict[int, list[AttentionItem]] = {}
    for a in wanted:
        first = first_goal.get((a.item.department.key, a.item.number))
        if first is not None:
            under.setdefault(first, []).append(a)
    groups = [GoalGroup(goal_ref(g), under[g.id or 0]) for g in goals if under.get(g.id or 0)]
    groups.sort(key=lambda group: -len(group.items))  # stable: plan order among equals
    return AttentionByGoal(period, which, len(wanted), groups)
