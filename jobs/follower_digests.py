"""The followers' weekly messages (issue 16): each person who follows a goal (`/plan follow
safety`) gets, when the weekly digest goes out, that goal's lines by direct message — the goal
as `/plan safety` shows it — and is never asked to report. Claimed per follower, goal and week
in the digests table, as a channel's digest is, so a rerun, a restart or a second replica
sends nothing twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from handlers.commands.plan import measure_board
from handlers.context import PlanContext
from handlers.digest_build import week_of
from handlers.messages.answers import render_goal_summary
from handlers.messages.followers import render_follower_intro
from handlers.messages.layout import MESSAGE_BLOCKS, context
from handlers.messages.measures import measures_part
from handlers.people import mention
from jobs.delivery import SharedPace, careful_client, holder, keep_leases
from jobs.failures import POST_FAILURES, describe
from models.db import session_scope
from models.digest_content import claim_digest, finish_digest
from models.followers import followers_of_plan
from models.plans import active_plan_id
from models.queries import goal_summary

log = logging.getLogger(__name__)


@dataclass
class FollowerRun:
    week: str
    sent: list[str] = field(default_factory=list)  # "U0COO/safety"
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def follower_key(user_id: str, goal_id: int) -> str:
    """The digests row's "channel" for one follower and goal."""
    return f"{user_id}/{goal_id}"


async def send_follower_digests(ctx: PlanContext, client: AsyncWebClient) -> FollowerRun:
    """This week's message to every follower of every goal they follow, once."""
    now = ctx.now()
    week = week_of(now, ctx.timezone)
    period = ctx.open_period()
    run = FollowerRun(week)
    pace = SharedPace(ctx.engine, ctx.posts_per_second)
    careful = careful_client(client)
    me = holder(ctx)
    async with session_scope(ctx.engine) as session:
        plan_id = await active_plan_id(session)
        following = await followers_of_plan(session, plan_id)
    async with keep_leases(ctx, me):
        for user_id, goal in following:
            assert goal.id is not None
            key = follower_key(user_id, goal.id)
            shown = f"{user_id}/{goal.key}"
            async with session_scope(ctx.engine) as session:
                claim = await claim_digest(session, key, week, ctx.now(), me)
                if claim is None:
                    run.already.append(shown)
                    continue
                summary = await goal_summary(session, goal, period)
                board = await measure_board(
                    session, plan_id, period, ctx.fiscal_year_start, goal_id=goal.id
                )
            said = render_goal_summary(
                summary, mention, timezone=ctx.timezone, measures=measures_part(board)
            )
            intro = context(render_follower_intro(goal.name, week)).to_dict()
            blocks = [intro, *said.blocks[: MESSAGE_BLOCKS - 1]]
            try:
                await pace.wait(user_id)
                posted = await careful.chat_postMessage(
                    channel=user_id, text=said.text, blocks=blocks, unfurl_links=False
                )
                async with session_scope(ctx.engine) as session:
                    await finish_digest(
                        session, claim.id, message_ts=posted.get("ts"), now=ctx.now()
                    )
                run.sent.append(shown)
            except POST_FAILURES as exc:
                error = describe(exc)
                log.warning("weekly lines for %s failed: %s", shown, error)
                async with session_scope(ctx.engine) as session:
                    await finish_digest(
                        session, claim.id, message_ts=None, now=ctx.now(), error=error
                    )
                run.failed.append((shown, error))
    if following:
        log.info("followers' weekly lines for %s: %d sent", week, len(run.sent))
    return run
