"""Followers (issue 16): who gets which goal's lines of the weekly digest by direct message."""

from __future__ import annotations

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cycle import insert_ignoring_duplicates
from models.tables import Follower, Goal, utcnow


async def follow(session: AsyncSession, user_id: str, goal_id: int) -> bool:
    """True when the person did not follow the goal yet. The caller commits."""
    return await insert_ignoring_duplicates(
        session, Follower, user_id=user_id, goal_id=goal_id, created_at=utcnow()
    )


async def unfollow(session: AsyncSession, user_id: str, goal_id: int) -> bool:
    """True when the person followed the goal. The caller commits."""
    result = await session.exec(
        delete(Follower).where(col(Follower.user_id) == user_id, col(Follower.goal_id) == goal_id)
    )
    return bool(result.rowcount)


async def followed_goals(session: AsyncSession, plan_id: int, user_id: str) -> list[Goal]:
    """The goals of the plan a person follows, in the plan's order."""
    return list(
        await session.exec(
            select(Goal)
            .join(Follower, col(Follower.goal_id) == col(Goal.id))
            .where(col(Goal.plan_id) == plan_id, col(Follower.user_id) == user_id)
            .order_by(col(Goal.position))
        )
    )


async def followers_of_plan(session: AsyncSession, plan_id: int) -> list[tuple[str, Goal]]:
    """Every (follower, goal) of the plan, by follower then the plan's order of goals."""
    return [
        (user_id, goal)
        for user_id, goal in await session.exec(
            select(col(Follower.user_id), Goal)
            .join(Goal, col(Goal.id) == col(Follower.goal_id))
            .where(col(Goal.plan_id) == plan_id)
            .order_by(col(Follower.user_id), col(Goal.position))
        )
    ]
