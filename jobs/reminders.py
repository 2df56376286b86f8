"""Reminders: in the prompt's thread and by direct message, to departments that have not
answered, each reminder at most once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.cycle import render_reminder, render_reminder_dm
from handlers.people import mention
from jobs.failures import POST_FAILURES, describe
from jobs.pacing import Pacer
from models.cycle import claim_reminder, department_states, mark_reminder_sent, prompts_of
from models.db import session_scope
from models.plans import active_plan

log = logging.getLogger(__name__)


@dataclass
class ReminderRun:
    period: str
    ordinal: int | None
    reminded: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def due_reminder(ctx: PlanContext, period: str, now: datetime) -> int | None:
    """The latest reminder whose time has come for the period, or None."""
    due = [
        ordinal
        for ordinal in range(1, len(ctx.calendar.reminder_days) + 1)
        if ctx.calendar.reminder_at(period, ordinal) <= now
    ]
    return max(due) if due else None


async def send_reminders(
    ctx: PlanContext, client: AsyncWebClient, period: str, ordinal: int | None = None
) -> ReminderRun:
    """Remind the departments whose prompt is posted and who have not reported. `ordinal`
    defaults to the latest reminder due now; earlier ones not yet sent are skipped (recorded
    as done) so that nobody gets two reminders at once after downtime."""
    if ordinal is not None and not 1 <= ordinal <= len(ctx.calendar.reminder_days):
        raise ValueError(
            f"there is no reminder {ordinal}: reminders are 1 to {len(ctx.calendar.reminder_days)}"
        )
    ordinal = ordinal if ordinal is not None else due_reminder(ctx, period, ctx.now())
    run = ReminderRun(period, ordinal)
    if ordinal is None:
        return run
    pacer = Pacer()
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        prompts = {
            p.department_id: p
            for p in await prompts_of(session, period)
            if p.state == "posted" and p.message_ts
        }
        states = await department_states(session, plan.id, period, list(prompts))
    for state in states:
        prompt = prompts[state.id]
        if state.reported:
            run.answered.append(state.key)
            continue
        async with session_scope(ctx.engine) as session:
            fresh = await claim_reminder(session, prompt.id, ordinal)
            for earlier in range(1, ordinal):
                await claim_reminder(session, prompt.id, earlier)
        if not fresh:
            run.already.append(state.key)
            continue
        try:
            thread = render_reminder(state, ordinal, mention)
            await pacer.wait(prompt.channel_id)
            await client.chat_postMessage(
                channel=prompt.channel_id,
                thread_ts=prompt.message_ts,
                text=thread.text,
                blocks=thread.blocks,
            )
            permalink = None
            try:
                link = await client.chat_getPermalink(
                    channel=prompt.channel_id, message_ts=prompt.message_ts
                )
                permalink = link.get("permalink")
            except SlackApiError:
                pass
            direct = render_reminder_dm(state, permalink)
            for owner in state.owners:
                await pacer.wait(owner)
                await client.chat_postMessage(channel=owner, text=direct.text, blocks=direct.blocks)
            async with session_scope(ctx.engine) as session:
                await mark_reminder_sent(session, prompt.id, ordinal)
            run.reminded.append(state.key)
        except POST_FAILURES as exc:
            error = describe(exc)
            log.warning("reminder %d for %s %s failed: %s", ordinal, state.key, period, error)
            run.failed.append((state.key, error))
    log.info(
        "reminder %s for %s: %d reminded, %d had answered",
        ordinal,
        period,
        len(run.reminded),
        len(run.answered),
        extra={"period": period},
    )
    return run
