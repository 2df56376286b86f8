"""The canvases the bot keeps in Slack, as rows: wanted by answers, claimed by one process at a
time, and what each last showed. No Slack here: jobs/canvases.py edits them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cycle import Holder, insert_ignoring_duplicates
from models.tables import Canvas, Department

PLAN_CANVAS = "plan"


def department_canvas(department_id: int) -> str:
    """The key of a department's canvas."""
    return f"department:{department_id}"


@dataclass(frozen=True)
class CanvasClaim:
    """A canvas this process may edit now: where it is, what it showed, and how many answers
    the edit it is about to make covers (`wanted`)."""

    key: str
    channel_id: str | None
    canvas_id: str | None
    fingerprint: str | None
    wanted: int


async def want_canvas(session: AsyncSession, key: str, now: datetime) -> None:
    """An answer changed what the canvas shows: it is dirty until an edit covers this. One
    UPDATE (an INSERT the first time)."""
    for _ in range(2):
        bumped = await session.exec(
            sa.update(Canvas)
            .where(col(Canvas.key) == key)
            .values(wanted=col(Canvas.wanted) + 1, wanted_at=now)
            .returning(col(Canvas.key))
        )
        if bumped.first() is not None:
            return
        if await insert_ignoring_duplicates(
            session, Canvas, key=key, wanted=1, shown=0, wanted_at=now
        ):
            return


async def claim_canvas(
    session: AsyncSession, key: str, holder: Holder, now: datetime, *, even_if_shown: bool = False
) -> CanvasClaim | None:
    """Take the canvas to edit it, when it is dirty (or `even_if_shown`) and nobody holds it (or
    their lease ran out). None otherwise. The caller commits at once, before calling Slack."""
    await insert_ignoring_duplicates(session, Canvas, key=key, wanted=0, shown=0)
    conditions = [
        col(Canvas.key) == key,
        sa.or_(col(Canvas.holder).is_(None), col(Canvas.lease_until) < now),
    ]
    if not even_if_shown:
        conditions.append(col(Canvas.wanted) > col(Canvas.shown))
    claimed = (
        await session.exec(
            sa.update(Canvas)
            .where(*conditions)
            .values(holder=holder.name, lease_until=now + holder.lease)
            .returning(
                col(Canvas.key),
                col(Canvas.channel_id),
                col(Canvas.canvas_id),
                col(Canvas.fingerprint),
                col(Canvas.wanted),
            )
        )
    ).first()
    if claimed is None:
        return None
    return CanvasClaim(claimed[0], claimed[1], claimed[2], claimed[3], int(claimed[4]))


async def held_canvas(session: AsyncSession, key: str, now: datetime) -> str | None:
    """Who is editing the canvas right now, or None."""
    row = (
        await session.exec(select(Canvas.holder, Canvas.lease_until).where(col(Canvas.key) == key))
    ).first()
    if row is None or row[0] is None or row[1] is None or row[1] < now:
        return None
    return row[0]


async def finish_canvas(
    session: AsyncSession,
    claim: CanvasClaim,
    holder: Holder,
    now: datetime,
    *,
    channel_id: str | None,
    canvas_id: str | None,
    fingerprint: str | None,
    edited: bool,
    error: str | None = None,
) -> None:
    """The canvas shows everything up to the claim's `wanted` (answers after it keep it
    dirty); let go of it."""
    values: dict[str, object] = {
        "shown": claim.wanted,
        "channel_id": channel_id,
        "canvas_id": canvas_id,
        "fingerprint": fingerprint,
        "holder": None,
        "lease_until": None,
        "last_error": None if error is None else error[:200],
    }
    if edited:
        values["edited_at"] = now
    await session.exec(
        sa.update(Canvas)
        .where(col(Canvas.key) == claim.key, col(Canvas.holder) == holder.name)
        .values(**values)
    )


async def let_go_of_canvas(
    session: AsyncSession, claim: CanvasClaim, holder: Holder, error: str, *, shown: bool = False
) -> None:
    """The edit failed (Slack down, a 5xx): the canvas stays dirty, for the next try — unless
    `shown`: there is nothing to try again (the answers it covered need no edit)."""
    values: dict[str, object] = {"holder": None, "lease_until": None, "last_error": error[:200]}
    if shown:
        values["shown"] = claim.wanted
    await session.exec(
        sa.update(Canvas)
        .where(col(Canvas.key) == claim.key, col(Canvas.holder) == holder.name)
        .values(**values)
    )


async def wanted_canvases(session: AsyncSession, most: int = 500) -> list[str]:
    """The keys of canvases some answer changed since their last edit."""
    rows = await session.exec(
        select(Canvas.key)
        .where(col(Canvas.wanted) > col(Canvas.shown))
        .order_by(col(Canvas.wanted_at))
        .limit(most)
    )
    return list(rows.all())


async def canvas_row(session: AsyncSession, key: str) -> Canvas | None:
    return await session.get(Canvas, key)


async def department_ids(session: AsyncSession, plan_id: int) -> list[tuple[int, str]]:
    """Every department of the plan (id and key), in the plan's order."""
    rows = await session.exec(
        select(Department.id, Department.key)
        .where(col(Department.plan_id) == plan_id)
        .order_by(col(Department.position))
    )
    return [(i, key) for i, key in rows.all() if i is not None]


async def canvas_refusals(session: AsyncSession) -> dict[str, int]:
    """Slack's last refusal of each canvas, counted by error (for `planbot doctor`)."""
    rows = await session.exec(
        select(Canvas.last_error, sa.func.count())
        .where(col(Canvas.last_error).is_not(None))
        .group_by(col(Canvas.last_error))
    )
    return {str(error): int(count) for error, count in rows.all()}
