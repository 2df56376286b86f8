"""Requests for help in the escalation channel (issue 16): each posted once (claimed, looked for
before any second send), refreshed when it is acknowledged or resolved, with a reply in its
thread and a direct message to the lead who asked. A post Slack refused is tried again by the
scheduler's next tick."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select

from handlers.context import PlanContext
from handlers.messages.help import render_help_news, render_help_post, render_help_step
from handlers.messages.layout import Message
from handlers.people import mention
from jobs.delivery import SharedPace, careful_client, claim_or_take_over, deliver, holder
from jobs.failures import POST_FAILURES, describe
from jobs.posted import find_posted, post_metadata
from models.cycle import department_state
from models.db import session_scope
from models.help import (
    HelpView,
    claim_help_post,
    finish_help_post,
    help_request,
    waiting_posts,
)
from models.plans import active_plan_id, contacts_of
from models.tables import ContactRole, DepartmentOwner, HelpRequest

log = logging.getLogger(__name__)

HELP_EVENT = "planbot_help_request"


@dataclass
class HelpPostRun:
    posted: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def help_channel(ctx: PlanContext) -> str | None:
    return ctx.escalation_channel or ctx.digest_channel


async def _message(ctx: PlanContext, client: AsyncWebClient, v: HelpView) -> Message:
    """The request as its post shows it now."""
    async with session_scope(ctx.engine) as session:
        plan_id = await active_plan_id(session)
        state = await department_state(
            session, plan_id, v.period, v.department_id, start_month=ctx.fiscal_year_start
        )
        contacts = await contacts_of(session, [v.department_id], ContactRole.ESCALATION)
        owners = list(
            await session.exec(
                select(col(DepartmentOwner.user_id))
                .where(col(DepartmentOwner.department_id) == v.department_id)
                .order_by(col(DepartmentOwner.user_id))
            )
        )
    mentions = list(
        dict.fromkeys([*contacts.get(v.department_id, ()), *sorted(ctx.escalation_users)])
    )
    if not mentions:
        mentions = sorted(ctx.admins)
    initiative = state.initiative(v.number) if state is not None else None
    named = [v.asked_by, *owners]
    for who in (v.acknowledged_by, v.resolved_by):
        if who:
            named.append(who)
    names = await ctx.people.names(client, named)
    return render_help_post(v, initiative, owners, mentions, names, mention, ctx.timezone)


async def post_help_request(ctx: PlanContext, client: AsyncWebClient, request_id: int) -> bool:
    """Post the request once to the escalation channel; True when it is there (now or by an
    earlier try). A failure is recorded for the next tick."""
    channel = help_channel(ctx)
    me = holder(ctx)
    async with session_scope(ctx.engine) as session:
        claimed, _ = await claim_or_take_over(
            session,
            lambda: claim_help_post(session, request_id, ctx.now(), me),
            HelpRequest,
            {"id": request_id},
            ctx.now(),
        )
        v = await help_request(session, request_id)
    if claimed is None or v is None:
        return v is not None and v.message_ts is not None
    if channel is None:
        async with session_scope(ctx.engine) as session:
            await finish_help_post(session, request_id, ctx.now(), error="no escalation channel")
        log.warning("request for help %d: no PLANBOT_ESCALATION_CHANNEL or digest channel", v.id)
        return False
    said = await _message(ctx, client, v)
    careful = careful_client(client)
    payload = {"request": request_id}

    async def post() -> Any:
        return await careful.chat_postMessage(
            channel=channel,
            text=said.text,
            blocks=said.blocks,
            metadata=post_metadata(HELP_EVENT, payload),
            unfurl_links=False,
        )

    async def find() -> str | None:
        return await find_posted(client, channel, HELP_EVENT, payload)

    pace = SharedPace(ctx.engine, ctx.posts_per_second)
    try:
        ts, where = await deliver(pace, channel, post, find, look_first=True)
    except POST_FAILURES as exc:
        error = describe(exc)
        log.warning("request for help %d could not be posted: %s", request_id, error)
        async with session_scope(ctx.engine) as session:
            await finish_help_post(session, request_id, ctx.now(), error=error)
        return False
    async with session_scope(ctx.engine) as session:
        await finish_help_post(session, request_id, ctx.now(), channel_id=where, ts=ts)
    return True


async def post_waiting_help(ctx: PlanContext, client: AsyncWebClient) -> HelpPostRun:
    """Every request whose post failed or never happened, tried again (the scheduler's tick)."""
    run = HelpPostRun()
    async with session_scope(ctx.engine) as session:
        waiting = await waiting_posts(session, ctx.now())
    for request_id in waiting:
        if await post_help_request(ctx, client, request_id):
            run.posted.append(request_id)
        else:
            run.failed.append((request_id, "not posted"))
    return run


async def permalink(client: AsyncWebClient, v: HelpView) -> str | None:
    if not v.channel_id or not v.message_ts:
        return None
    try:
        found = await client.chat_getPermalink(channel=v.channel_id, message_ts=v.message_ts)
        return found.get("permalink")
    except SlackApiError:
        return None


async def tell_of_a_step(
    ctx: PlanContext, client: AsyncWebClient, request_id: int, by: str
) -> None:
    """After an acknowledgement or a resolution (recorded once, by whoever clicked): the post
    shows it, its thread says it, and the lead who asked hears it. Each send is tried once; a
    failure loses nothing recorded."""
    async with session_scope(ctx.engine) as session:
        v = await help_request(session, request_id)
    if v is None:
        return
    said = await _message(ctx, client, v)
    names = await ctx.people.names(client, [by])
    try:
        if v.channel_id and v.message_ts:
            await client.chat_update(
                channel=v.channel_id, ts=v.message_ts, text=said.text, blocks=said.blocks
            )
            step = render_help_step(v, by, names)
            await client.chat_postMessage(
                channel=v.channel_id, thread_ts=v.message_ts, text=step.text, blocks=step.blocks
            )
        news = render_help_news(v, by, mention, await permalink(client, v))
        await client.chat_postMessage(channel=v.asked_by, text=news.text, blocks=news.blocks)
    except POST_FAILURES as exc:
        log.warning("request for help %d: could not tell of its step: %s", v.id, describe(exc))
