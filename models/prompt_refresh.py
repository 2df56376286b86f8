"""Prompts waiting to show their answers, as rows (issue 18): wanted by answers, claimed by one
process at a time, oldest first. No Slack here: jobs/prompt_refresh.py edits them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cycle import Holder, insert_ignoring_duplicates
from models.tables import Prompt, PromptRefresh


@dataclass(frozen=True)
class RefreshClaim:
    """A prompt this process may edit now, and how many answers the edit covers (`wanted`)."""

    prompt_id: int
    wanted: int


async def want_prompt_refresh(
    session: AsyncSession, department_id: int, period: str, now: datetime
) -> bool:
    """An answer changed what the department's prompt for `period` shows: it waits for a
    refresh until one covers this answer. One UPDATE (an INSERT the first time). A prompt that
    waits already keeps its place in the queue. False when there is no posted prompt."""
    prompt_id = (
        await session.exec(
            select(Prompt.id).where(
                col(Prompt.department_id) == department_id,
                col(Prompt.period) == period,
                col(Prompt.message_ts).is_not(None),
            )
        )
    ).first()
    if prompt_id is None:
        return False
    waiting = col(PromptRefresh.wanted) > col(PromptRefresh.shown)
    for _ in range(2):
        bumped = await session.exec(
            sa.update(PromptRefresh)
            .where(col(PromptRefresh.prompt_id) == prompt_id)
            .values(
                wanted=col(PromptRefresh.wanted) + 1,
                wanted_at=sa.case((waiting, col(PromptRefresh.wanted_at)), else_=now),
            )
            .returning(col(PromptRefresh.prompt_id))
        )
        if bumped.first() is not None:
            return True
        if await insert_ignoring_duplicates(
            session, PromptRefresh, prompt_id=prompt_id, wanted=1, shown=0, wanted_at=now
        ):
            return True
    return True


async def claim_prompt_refresh(
    session: AsyncSession, holder: Holder, now: datetime, *, look_at: int = 8
) -> RefreshClaim | None:
    """The prompt that has waited longest and that nobody is refreshing (or whose refresher's
    lease ran out), taken by `holder`; None when none waits. The caller commits at once."""
    free = sa.or_(col(PromptRefresh.holder).is_(None), col(PromptRefresh.lease_until) < now)
    waiting = col(PromptRefresh.wanted) > col(PromptRefresh.shown)
    candidates = (
        await session.exec(
            select(PromptRefresh.prompt_id)
            .where(waiting, free)
            .order_by(col(PromptRefresh.wanted_at), col(PromptRefresh.prompt_id))
            .limit(look_at)
        )
    ).all()
    for prompt_id in candidates:  # another replica may take one between the read and here
        claimed = (
            await session.exec(
                sa.update(PromptRefresh)
                .where(col(PromptRefresh.prompt_id) == prompt_id, waiting, free)
                .values(holder=holder.name, lease_until=now + holder.lease)
                .returning(col(PromptRefresh.wanted))
            )
        ).first()
        if claimed is not None:
            return RefreshClaim(prompt_id, int(claimed[0]))
    return None


async def wanted_now(session: AsyncSession, claim: RefreshClaim) -> int:
    """How many answers have asked for the claimed prompt by now: an edit that reads the
    department after this covers them all."""
    wanted = await session.exec(
        select(PromptRefresh.wanted).where(col(PromptRefresh.prompt_id) == claim.prompt_id)
    )
    return int(wanted.one())


async def finish_prompt_refresh(
    session: AsyncSession,
    claim: RefreshClaim,
    holder: Holder,
    now: datetime,
    *,
    error: str | None = None,
) -> None:
    """The prompt shows every answer up to the claim's `wanted` (answers since keep it
    waiting), or Slack refused it for good (`error`: the message or channel is gone); let go."""
    values: dict[str, object] = {
        "shown": claim.wanted,
        "holder": None,
        "lease_until": None,
        "last_error": None if error is None else error[:200],
    }
    if error is None:
        values["refreshed_at"] = now
    await session.exec(
        sa.update(PromptRefresh)
        .where(
            col(PromptRefresh.prompt_id) == claim.prompt_id,
            col(PromptRefresh.holder) == holder.name,
        )
        .values(**values)
    )


async def let_go_of_prompt_refresh(
    session: AsyncSession, claim: RefreshClaim, holder: Holder, error: str
) -> None:
    """The edit did not happen (a 429, Slack down): the prompt keeps waiting, in its place."""
    await session.exec(
        sa.update(PromptRefresh)
        .where(
            col(PromptRefresh.prompt_id) == claim.prompt_id,
            col(PromptRefresh.holder) == holder.name,
        )
        .values(holder=None, lease_until=None, last_error=error[:200])
    )


async def waiting_prompt_refreshes(session: AsyncSession) -> int:
    """How many prompts wait to show their answers."""
    count = await session.exec(
        select(sa.func.count()).where(col(PromptRefresh.wanted) > col(PromptRefresh.shown))
    )
    return int(count.one())
