"""The monthly prompt: one message per department and period, posted exactly once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.channels import CHANNEL_ERRORS, BlockedPost, by_channel, post_joining
from handlers.context import PlanContext
from handlers.cover import Cover, away_as_read
from handlers.messages.channels import render_unreachable
from handlers.messages.layout import Message, People
from handlers.messages.prompt import render_prompt, render_unowned
from handlers.people import mention
from jobs.delivery import (
    SharedPace,
    careful_client,
    claim_or_take_over,
    deliver,
    holder,
    keep_leases,
)
from jobs.failures import POST_FAILURES, describe
from jobs.posted import find_posted, post_metadata
from models.cycle import (
    DepartmentState,
    Holder,
    claim_prompt,
    complete_prompt,
    department_states,
    fail_prompt,
    note_unowned,
    reopen_blocked_prompts,
    settled_prompts,
)
from models.db import session_scope
from models.lookup import load_directory
from models.periods import period_label
from models.plans import active_plan, stored_id
from models.tables import Prompt

log = logging.getLogger(__name__)

PROMPT_EVENT = "planbot_prompt"
CONCURRENT_POSTS = 16


class UnknownDepartment(LookupError):
    pass


class BeforeThePlan(ValueError):
    """A period before the plan's first month: nobody is asked about it."""


@dataclass
class PromptRun:
    period: str
    posted: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)
    no_channel: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Refused for their channel (private, archived, missing): not retried until someone acts.
    blocked: list[BlockedPost] = field(default_factory=list)
    # Being posted right now by another process: (department, its holder, since when).
    in_progress: list[tuple[str, str, datetime | None]] = field(default_factory=list)


def _payload(department_key: str, period: str) -> dict[str, Any]:
    return {"department": department_key, "period": period}


def prompt_metadata(department_key: str, period: str) -> dict[str, Any]:
    return post_metadata(PROMPT_EVENT, _payload(department_key, period))


async def post_monthly_prompts(
    ctx: PlanContext,
    client: AsyncWebClient,
    period: str,
    *,
    department: str | None = None,
    retry_blocked: bool = False,
) -> PromptRun:
    """Ask every owned department (or one) how the period went. Safe to run again and from
    several processes at once: a prompt is claimed in the database before it is posted, and
    posted once (jobs/delivery.py). Posts go out concurrently at a pace every posting process
    shares. A prompt blocked by its channel is tried again only when `retry_blocked` (a person
    asked) or once the bot is invited there."""
    run = PromptRun(period)
    pace = SharedPace(ctx.engine, ctx.posts_per_second)
    me = holder(ctx)
    careful = careful_client(client)
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        plan_id = stored_id(plan.id)
        if plan.first_period is not None and period < plan.first_period:
            raise BeforeThePlan(
                f"{period_label(period)} is before this plan's first month "
                f"({period_label(plan.first_period)}); no prompt is posted for it"
            )
        ids = None
        if department is not None:
            found = (await load_directory(session, plan_id)).resolve(
                department, kinds=("department",)
            )
            if found.target is None:
                raise UnknownDepartment(f"no department {department!r}")
            ids = [found.target.id]
        states = await department_states(
            session, plan_id, period, ids, start_month=ctx.fiscal_year_start
        )
        if retry_blocked:
            await reopen_blocked_prompts(session, period=period, department_ids=ids)
        settled = await settled_prompts(session, period)
    newly_unowned: list[str] = []
    ready: list[tuple[DepartmentState, str]] = []
    for state in states:
        channel = state.channel_id or ctx.updates_channel
        if not state.owners:
            run.unowned.append(state.name)
            async with session_scope(ctx.engine) as session:
                if await note_unowned(session, state.id, period, channel or "-"):
                    newly_unowned.append(state.name)
        elif channel is None:
            run.no_channel.append(state.name)
        else:
            ready.append((state, channel))
    slots = asyncio.Semaphore(CONCURRENT_POSTS)

    async def post(state: DepartmentState, channel: str, cover: Cover, names: People) -> None:
        async with slots:
            await _post_one(ctx, client, careful, state, channel, run, pace, me, cover, names)

    # Who is away (`/plan away`, or a Slack status read now) is not pinged: the prompt names
    # who answers meanwhile. A department's prompt goes as soon as its people's statuses are
    # in: on a workspace of thousands, the first pages of members are read in a moment and
    # the rest at Slack's Tier 2 pace, while the first prompts are already going out.
    # A prompt in Slack already (a catch-up run) needs nobody's status: it is only counted.
    waiting = [
        (state, channel, set() if state.id in settled else {*state.owners, *state.backups} - {""})
        for state, channel in ready
    ]
    posts: list[asyncio.Task[None]] = []
    async with keep_leases(ctx, me):
        try:
            cover, read = Cover(), set[str]()
            names: People = mention
            async for part in away_as_read(ctx, client, [u for *_, us in waiting for u in us]):
                cover = cover.joined(part)
                read.update(part.profiles)
                names = await ctx.people.names(client, cover.away) if cover.away else mention
                due = [w for w in waiting if w[2] <= read]
                waiting = [w for w in waiting if not w[2] <= read]
                posts += [asyncio.create_task(post(s, c, cover, names)) for s, c, _ in due]
            # Everyone's statuses have been read by now: nothing should be left waiting.
            posts += [asyncio.create_task(post(s, c, cover, names)) for s, c, _ in waiting]
            await asyncio.gather(*posts)
        except asyncio.CancelledError:
            # The bot is stopping. Each post still going out is cancelled once: gather() has
            # cancelled those it was waiting for already, and a second cancel would land in the
            # post's own clean-up (its session handing the connection back to the pool) and
            # cut that short. The run ends when they have.
            for task in posts:
                if not task.cancelling():
                    task.cancel()
            await asyncio.gather(*posts, return_exceptions=True)
            raise
        except Exception:
            # The prompts already going out finish: each is claimed and recorded on its own.
            await asyncio.gather(*posts, return_exceptions=True)
            raise
    run.posted.sort()
    run.already.sort()
    run.failed.sort()
    if newly_unowned:
        await _tell_admins(ctx, client, render_unowned(period, newly_unowned), "unowned")
    if run.blocked:
        message = render_unreachable(period, by_channel(run.blocked))
        await _tell_admins(ctx, client, message, "unreachable channels")
    log.info(
        "prompts for %s: %d posted, %d already, %d in progress elsewhere, %d without owner, "
        "%d failed, %d blocked",
        period,
        len(run.posted),
        len(run.already),
        len(run.in_progress),
        len(run.unowned),
        len(run.failed),
        len(run.blocked),
        extra={"period": period},
    )
    return run


async def _post_one(
    ctx: PlanContext,
    client: AsyncWebClient,
    careful: AsyncWebClient,
    state: DepartmentState,
    channel: str,
    run: PromptRun,
    pace: SharedPace,
    me: Holder,
    cover: Cover,
    names: People,
) -> None:
    async with session_scope(ctx.engine) as session:
        claim, held = await claim_or_take_over(
            session,
            lambda: claim_prompt(session, state.id, state.period, channel, ctx.now(), me),
            Prompt,
            {"department_id": state.id, "period": state.period},
            ctx.now(),
        )
    if claim is None:
        if held is not None:
            run.in_progress.append((state.key, held.holder, held.since))
        else:
            run.already.append(state.key)
        return
    payload = _payload(state.key, state.period)
    message = render_prompt(
        state,
        mention,
        due=ctx.calendar.closes_at(state.period),
        away=cover.away,
        names=names,
        timezone=ctx.timezone,
    )

    async def post() -> Any:
        return await post_joining(
            careful,
            channel,
            text=message.text,
            blocks=message.blocks,
            metadata=prompt_metadata(state.key, state.period),
            unfurl_links=False,
        )

    async def find() -> str | None:
        return await find_posted(client, channel, PROMPT_EVENT, payload)

    try:
        # An earlier attempt may have reached Slack before it was recorded: look first.
        ts, channel = await deliver(pace, channel, post, find, look_first=claim.attempts > 1)
        async with session_scope(ctx.engine) as session:
            await complete_prompt(session, claim.id, channel, ts, ctx.now())
        run.posted.append(state.key)
    except POST_FAILURES as exc:
        error = describe(exc)
        log.warning(
            "prompt for %s %s failed: %s",
            state.key,
            state.period,
            error,
            extra={"department": state.key, "period": state.period},
        )
        blocked = error in CHANNEL_ERRORS
        async with session_scope(ctx.engine) as session:
            await fail_prompt(session, claim.id, error, blocked=blocked)
        if blocked:
            updates = state.channel_id is None
            run.blocked.append(BlockedPost(state.name, state.key, channel, error, updates))
        else:
            run.failed.append((state.key, error))


async def _tell_admins(
    ctx: PlanContext, client: AsyncWebClient, message: Message, about: str
) -> None:
    if not ctx.admins:
        log.warning("no PLANBOT_ADMINS to tell about %s", about)
    for admin in sorted(ctx.admins):
        try:
            await client.chat_postMessage(channel=admin, text=message.text, blocks=message.blocks)
        except POST_FAILURES as exc:
            log.warning("could not tell admin %s about %s: %s", admin, about, describe(exc))
