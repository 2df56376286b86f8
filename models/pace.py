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


async def take_slot(
    session: AsyncSession, now: float, start_gap: float, key: str = WORKSPACE, burst: int = 1
) -> tuple[float, float]:
    """The moment (seconds since the epoch) this post may go out, and the gap it was given
    at. One statement, so that concurrent processes each get a slot of their own. `key` names
    the budget: the workspace's posts, or another method's (`chat.update`).

    A budget left unused may go `burst` posts at once, as a token bucket allows (Slack allows
    short bursts): the slots are never more than `burst - 1` starting gaps behind now, so
    after a quiet spell the first `burst` posts go straight away and the rest one gap apart
    (the generic cell rate algorithm, with `burst - 1` gaps of tolerance). A pace a 429 has
    slowed gets no burst until it is back at its starting gap: Slack has just said the bucket
    is empty."""
    await insert_ignoring_duplicates(session, PostPace, key=key, next_at=0.0, gap=start_gap)
    pace = _table()
    idle = pace.c.next_at < now - IDLE_SECONDS
    gap = sa.case(
        (idle, start_gap),
        (pace.c.gap * RECOVERY < start_gap, start_gap),
        else_=pace.c.gap * RECOVERY,
    )
    earliest = sa.case((gap > start_gap, now), else_=now - start_gap * (max(1, burst) - 1))
    start = sa.case((pace.c.next_at > earliest, pace.c.next_at), else_=earliest)
    row = (
        await session.exec(
            sa.update(pace)
            .where(pace.c.key == key)
            .values(next_at=start + gap, gap=gap)
            .returning(pace.c.next_at, pace.c.gap)
        )
    ).one()
    return float(row.next_at) - float(row.gap), float(row.gap)


async def slow_down(
    session: AsyncSession, until: float, seen_gap: float, most_gap: float, key: str = WORKSPACE
) -> None:
    """Slack answered 429: no slot before `until` (now + Retry-After), for anyone; and the gap
    widens, once for all the posts that were in flight at `seen_gap`."""
    pace = _table()
    wider = sa.case((pace.c.gap * SLOWER > most_gap, most_gap), else_=pace.c.gap * SLOWER)
    await session.exec(
        sa.update(pace)
        .where(pace.c.key == key)
        .values(
            next_at=sa.case((pace.c.next_at > until, pace.c.next_at), else_=until),
            gap=sa.case((pace.c.gap <= seen_gap * 1.0001, wider), else_=pace.c.gap),
        )
    )


async def try_slot(session: AsyncSession, now: float, gap: float, key: str, burst: int = 1) -> bool:
    """A slot now or never, for a call worth making only when the budget `key` has room (a ✅
    on a thread reply): True when it had (and the slot is taken). Up to `burst` calls may go
    at once after a quiet spell; then one per `gap`. One statement, shared by every process."""
    await insert_ignoring_duplicates(session, PostPace, key=key, next_at=0.0, gap=gap)
    pace = _table()
    start = sa.case((pace.c.next_at > now, pace.c.next_at), else_=now)
    row = (
        await session.exec(
            sa.update(pace)
            .where(pace.c.key == key, pace.c.next_at <= now + gap * (burst - 1))
            .values(next_at=start + gap)
            .returning(pace.c.key)
        )
    ).first()
    return row is not None
