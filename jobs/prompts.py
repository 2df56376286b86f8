"""The monthly prompt: one message per department and period, posted exactly once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.cycle import render_prompt, render_unowned
from handlers.people import mention
from jobs.failures import POST_FAILURES, describe
from jobs.pacing import Pacer
from jobs.posted import find_posted, post_metadata
from models.cycle import (
    DepartmentState,
    claim_prompt,
    complete_prompt,
    department_states,
    fail_prompt,
    note_unowned,
)
from models.db import session_scope
from models.lookup import load_directory
from models.plans import active_plan

log = logging.getLogger(__name__)

PROMPT_EVENT = "planbot_prompt"
CONCURRENT_POSTS = 16


class UnknownDepartment(LookupError):
    pass


@dataclass
class PromptRun:
    period: str
    posted: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)
    no_channel: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


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
    pacer: Pacer | None = None,
) -> PromptRun:
    """Ask every owned department (or one) how the period went. Safe to run again and from
    several processes at once: a prompt is claimed in the database before it is posted. Posts
    go out concurrently, paced below Slack's limits."""
    run = PromptRun(period)
    pacer = pacer or Pacer()
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        ids = None
        if department is not None:
            found = (await load_directory(session, plan.id)).resolve(
                department, kinds=("department",)
            )
            if found.target is None:
                raise UnknownDepartment(f"no department {department!r}")
            ids = [found.target.id]
        states = await department_states(session, plan.id, period, ids)
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

    async def post(state: DepartmentState, channel: str) -> None:
        async with slots:
            await _post_one(ctx, client, state, channel, run, pacer)

    await asyncio.gather(*(post(state, channel) for state, channel in ready))
    run.posted.sort()
    run.already.sort()
    run.failed.sort()
    if newly_unowned:
        await _tell_admins(ctx, client, period, newly_unowned)
    log.info(
        "prompts for %s: %d posted, %d already, %d without owner, %d failed",
        period,
        len(run.posted),
        len(run.already),
        len(run.unowned),
        len(run.failed),
        extra={"period": period},
    )
    return run


async def _post_one(
    ctx: PlanContext,
    client: AsyncWebClient,
    state: DepartmentState,
    channel: str,
    run: PromptRun,
    pacer: Pacer,
) -> None:
    async with session_scope(ctx.engine) as session:
        claim = await claim_prompt(session, state.id, state.period, channel, ctx.now())
    if claim is None:
        run.already.append(state.key)
        return
    try:
        ts = None
        if claim.attempts > 1:  # an earlier attempt may have reached Slack before it was recorded
            payload = _payload(state.key, state.period)
            ts = await find_posted(client, channel, PROMPT_EVENT, payload)
        if ts is None:
            message = render_prompt(state, mention)
            await pacer.wait(channel)
            answer = await client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                metadata=prompt_metadata(state.key, state.period),
                unfurl_links=False,
            )
            ts, channel = str(answer["ts"]), str(answer.get("channel") or channel)
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
        async with session_scope(ctx.engine) as session:
            await fail_prompt(session, claim.id, error)
        run.failed.append((state.key, error))


async def _tell_admins(
    ctx: PlanContext, client: AsyncWebClient, period: str, names: list[str]
) -> None:
    message = render_unowned(period, names)
    for admin in sorted(ctx.admins):
        try:
            await client.chat_postMessage(channel=admin, text=message.text, blocks=message.blocks)
        except POST_FAILURES as exc:
            log.warning(
                "could not tell admin %s about unowned departments: %s", admin, describe(exc)
            )
