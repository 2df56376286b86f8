"""The workspace's posting pace, shared through the database by every process that posts: each
post takes the next slot, a 429 pushes every slot past its Retry-After and widens the gap, and
the gap narrows again post by post. Two replicas fanning out at once share Slack's budget
instead of each assuming it has all of it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cycle import insert_ignoring_duplicates
from models.tables import PostPace

WORKSPACE = "workspace"
# After a 429 the gap grows by this factor (once per 429 seen at the current gap); each post
# then narrows it by RECOVERY until the starting pace is back.
SLOWER = 2.0
RECOVERY = 0.97
# A pace unused for this long starts a new run at the starting pace.
IDLE_SECONDS = 60.0


def _table() -> sa.Table:
    return PostPace.metadata.tables[PostPace.__tablename__]  # the Core table, typed


async def take_slot(session: AsyncSession, now: float, start_gap: float) -> tuple[float, float]:
    """The moment (seconds since the epoch) this post may go out, and the gap it was given
    at. One statement, so that concurrent processes each get a slot of their own."""
    await insert_ignoring_duplicates(session, PostPace, key=WORKSPACE, next_at=0.0, gap=start_gap)
    pace = _table()
    idle = pace.c.next_at < now - IDLE_SECONDS
    gap = sa.case(
        (idle, start_gap),
        (pace.c.gap * RECOVERY < start_gap, start_gap),
        else_=pace.c.gap * RECOVERY,
    )
    start = sa.case((pace.c.next_at > now, pace.c.next_at), else_=now)
    row = (
        await session.exec(
            sa.update(pace)
            .where(pace.c.key == WORKSPACE)
            .values(next_at=start + gap, gap=gap)
            .returning(pace.c.next_at, pace.c.gap)
        )
    ).one()
    return float(row.next_at) - float(row.gap), float(row.gap)


async def slow_down(session: AsyncSession, until: float, seen_gap: float, most_gap: float) -> None:
    """Slack answered 429: no slot before `until` (now + Retry-After), for anyone; and the gap
    widens, once for all the posts that were in flight at `seen_gap`."""
    pace = _table()
    wider = sa.case((pace.c.gap * SLOWER > most_gap, most_gap), else_=pace.c.gap * SLOWER)
    await session.exec(
        sa.update(pace)
        .where(pace.c.key == WORKSPACE)
        .values(
            next_at=sa.case((pace.c.next_at > until, pace.c.next_at), else_=until),
            gap=sa.case((pace.c.gap <= seen_gap * 1.0001, wider), else_=pace.c.gap),
        )
    )
