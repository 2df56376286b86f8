"""Requests for help (issue 16): recorded, posted once, moved open → acknowledged → resolved by
conditional updates (a double click or two replicas record each step once), and read back for
`/plan <goal>` and the digest until resolved. No Slack here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.clean import clean_text
from models.cycle import Holder, claimable_by_state
from models.plans import bump_revision
from models.tables import (
    Department,
    HelpRequest,
    HelpStatus,
    Initiative,
    InitiativeGoal,
    PostState,
)

MAX_TEXT = 2000
MOST_POST_ATTEMPTS = 8


@dataclass(frozen=True)
class HelpView:
    """A request as it is shown: the initiative, what is blocked, where it stands."""

    id: int
    department_key: str
    department_name: str
    number: int
    initiative_text: str
    asked_by: str
    blocked: str
    unblock: str
    status: HelpStatus
    created_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    channel_id: str | None
    message_ts: str | None
    period: str
    department_id: int


async def ask_for_help(
    session: AsyncSession,
    *,
    department_id: int,
    initiative_id: int,
    period: str,
    asked_by: str,
    blocked: str,
    unblock: str,
    now: datetime,
) -> int:
    """Record a request (before anything is posted); its id."""
    row = HelpRequest(
        department_id=department_id,
        initiative_id=initiative_id,
        period=period,
        asked_by=asked_by,
        blocked=clean_text(blocked)[:MAX_TEXT],
        unblock=clean_text(unblock)[:MAX_TEXT],
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await bump_revision(session, department_id=department_id)
    assert row.id is not None
    return row.id


def _views() -> sa.Select[tuple[HelpRequest, str, str, int, str]]:
    return (
        sa.select(
            HelpRequest,
            col(Department.key),
            col(Department.name),
            col(Initiative.number),
            col(Initiative.text),
        )
        .join(Department, col(Department.id) == col(HelpRequest.department_id))
        .join(Initiative, col(Initiative.id) == col(HelpRequest.initiative_id))
    )


def _view(row: HelpRequest, key: str, name: str, number: int, text: str) -> HelpView:
    assert row.id is not None
    return HelpView(
        id=row.id,
        department_key=key,
        department_name=name,
        number=number,
        initiative_text=text,
        asked_by=row.asked_by,
        blocked=row.blocked,
        unblock=row.unblock,
        status=HelpStatus(row.status),
        created_at=row.created_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        period=row.period,
        department_id=row.department_id,
    )


async def help_request(session: AsyncSession, request_id: int) -> HelpView | None:
    found = (
        await session.exec(_views().where(col(HelpRequest.id) == request_id))  # type: ignore[call-overload]
    ).first()
    return None if found is None else _view(*found)


async def unresolved(
    session: AsyncSession,
    plan_id: int,
    *,
    goal_id: int | None = None,
    department_ids: Sequence[int] | None = None,
) -> list[HelpView]:
    """Requests not yet resolved, oldest first: the plan's, a goal's or some departments'."""
    query = _views().where(
        col(Department.plan_id) == plan_id, col(HelpRequest.status) != HelpStatus.RESOLVED
    )
    if goal_id is not None:
        query = query.where(
            col(HelpRequest.initiative_id).in_(
                select(col(InitiativeGoal.initiative_id)).where(
                    col(InitiativeGoal.goal_id) == goal_id
                )
            )
        )
    if department_ids is not None:
        query = query.where(col(HelpRequest.department_id).in_(list(department_ids)))
    rows = await session.exec(query.order_by(col(HelpRequest.created_at), col(HelpRequest.id)))  # type: ignore[call-overload]
    return [_view(*row) for row in rows]


async def claim_help_post(
    session: AsyncSession, request_id: int, now: datetime, holder: Holder
) -> int | None:
    """Claim the request's post for sending; None when it is posted or another process has
    it (or it failed too often)."""
    # The row exists (recorded before any post): claimed by a conditional update alone.
    claimed = (
        await session.exec(
            sa.update(HelpRequest)
            .where(
                col(HelpRequest.id) == request_id,
                claimable_by_state(HelpRequest, (PostState.PENDING, PostState.FAILED), now),
            )
            .values(
                state=PostState.POSTING,
                claimed_at=now,
                holder=holder.name,
                lease_until=now + holder.lease,
                attempts=col(HelpRequest.attempts) + 1,
            )
            .returning(col(HelpRequest.id), col(HelpRequest.attempts))
        )
    ).first()
    if claimed is not None and claimed.attempts > MOST_POST_ATTEMPTS:
        await finish_help_post(session, request_id, now, error="gave up after repeated failures")
        await session.exec(
            sa.update(HelpRequest)
            .where(col(HelpRequest.id) == request_id)
            .values(state=PostState.BLOCKED)
        )
        return None
    return None if claimed is None else int(claimed.id)


async def finish_help_post(
    session: AsyncSession,
    request_id: int,
    now: datetime,
    *,
    channel_id: str | None = None,
    ts: str | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, object] = (
        {"state": PostState.POSTED, "channel_id": channel_id, "message_ts": ts, "last_error": None}
        if error is None
        else {"state": PostState.FAILED, "last_error": error[:500]}
    )
    await session.exec(
        sa.update(HelpRequest).where(col(HelpRequest.id) == request_id).values(**values)
    )


async def waiting_posts(session: AsyncSession, now: datetime, most: int = 100) -> list[int]:
    """Requests whose post failed or was never made (a crash between record and post)."""
    rows = await session.exec(
        select(col(HelpRequest.id))
        .where(
            sa.or_(
                col(HelpRequest.state).in_((PostState.PENDING, PostState.FAILED)),
                sa.and_(
                    col(HelpRequest.state) == PostState.POSTING,
                    col(HelpRequest.lease_until) < now,
                ),
            )
        )
        .order_by(col(HelpRequest.id))
        .limit(most)
    )
    return [r for r in rows if r is not None]


async def move(
    session: AsyncSession, request_id: int, to: HelpStatus, by: str, now: datetime
) -> bool:
    """Acknowledge (from open) or resolve (from open or acknowledged), once: True when this
    call moved it."""
    if to == HelpStatus.ACKNOWLEDGED:
        allowed: tuple[str, ...] = (HelpStatus.OPEN,)
        values = {"acknowledged_by": by, "acknowledged_at": now}
    elif to == HelpStatus.RESOLVED:
        allowed = (HelpStatus.OPEN, HelpStatus.ACKNOWLEDGED)
        values = {"resolved_by": by, "resolved_at": now}
    else:
        raise ValueError(f"a request cannot move to {to}")
    moved = await session.exec(
        sa.update(HelpRequest)
        .where(col(HelpRequest.id) == request_id, col(HelpRequest.status).in_(allowed))
        .values(status=to, **values)
        .returning(col(HelpRequest.department_id))
    )
    department_id = moved.first()
    if department_id is None:
        return False
    await bump_revision(session, department_id=department_id[0])
    return True
