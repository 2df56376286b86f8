"""Reminders: in the prompt's thread and by direct message, to departments that have not
answered, each reminder at most once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.reminders import reminded_backups, render_reminder, render_reminder_dm
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
from jobs.posted import find_posted_in_thread, post_metadata
from models.cycle import (
    DepartmentState,
    PromptRef,
    ReminderClaim,
    claim_reminder,
    department_states,
    finish_reminder,
    prompts_of,
    reminder_posted_in_thread,
    skip_reminder,
)
from models.db import session_scope
from models.plans import active_plan_id
from models.tables import PostState, Reminder

log = logging.getLogger(__name__)

REMINDER_EVENT = "planbot_reminder"


@dataclass
class ReminderRun:
    period: str
    ordinal: int | None
    reminded: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Being sent right now by another process: (department, its holder, since when).
    in_progress: list[tuple[str, str, datetime | None]] = field(default_factory=list)


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
    pace = SharedPace(ctx.engine, ctx.posts_per_second)
    me = holder(ctx)
    careful = careful_client(client)
    async with session_scope(ctx.engine) as session:
        plan_id = await active_plan_id(session)
        prompts = {
            p.department_id: p
            for p in await prompts_of(session, period)
            if p.state == PostState.POSTED and p.message_ts
        }
        states = await department_states(
            session, plan_id, period, list(prompts), start_month=ctx.fiscal_year_start
        )
    async with keep_leases(ctx, me):
        for state in states:
            prompt = prompts[state.id]
            # Answered is every initiative reported on and every number due given: a missing
            # measure is still owed, and still reminded.
            if state.reported and not state.measures_without_number:
                run.answered.append(state.key)
                continue
            async with session_scope(ctx.engine) as session:
                for earlier in range(1, ordinal):
                    await skip_reminder(session, prompt.id, earlier, ctx.now())
                claim, held = await claim_or_take_over(
                    session,
                    lambda prompt_id=prompt.id: claim_reminder(  # type: ignore[misc]
                        session, prompt_id, ordinal, ctx.now(), me
                    ),
                    Reminder,
                    {"prompt_id": prompt.id, "ordinal": ordinal},
                    ctx.now(),
                )
            if claim is None:
                if held is not None:
                    run.in_progress.append((state.key, held.holder, held.since))
                else:
                    run.already.append(state.key)
                continue
            try:
                await _remind(ctx, client, careful, pace, state, prompt, ordinal, claim)
                async with session_scope(ctx.engine) as session:
                    await finish_reminder(session, claim.id, ctx.now())
                run.reminded.append(state.key)
            except POST_FAILURES as exc:
                error = describe(exc)
                log.warning("reminder %d for %s %s failed: %s", ordinal, state.key, period, error)
                async with session_scope(ctx.engine) as session:
                    await finish_reminder(session, claim.id, ctx.now(), error)
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


async def _remind(
    ctx: PlanContext,
    client: AsyncWebClient,
    careful: AsyncWebClient,
    pace: SharedPace,
    state: DepartmentState,
    prompt: PromptRef,
    ordinal: int,
    claim: ReminderClaim,
) -> None:
    """The reminder in the prompt's thread, once (looked for there before any second send),
    then by direct message to each owner. A reminder taken over from a process that died
    after its thread post sends only the direct messages."""
    assert prompt.message_ts is not None
    channel, thread = prompt.channel_id, prompt.message_ts
    due = ctx.calendar.closes_at(state.period)
    payload = {"department": state.key, "period": state.period, "ordinal": ordinal}
    if claim.thread_ts is None:
        message = render_reminder(state, ordinal, mention, due=due)

        async def post() -> Any:
            return await careful.chat_postMessage(
                channel=channel,
                thread_ts=thread,
                text=message.text,
                blocks=message.blocks,
                metadata=post_metadata(REMINDER_EVENT, payload),
            )

        async def find() -> str | None:
            return await find_posted_in_thread(client, channel, thread, REMINDER_EVENT, payload)

        ts, _ = await deliver(pace, channel, post, find, look_first=claim.attempts > 1)
        async with session_scope(ctx.engine) as session:
            await reminder_posted_in_thread(session, claim.id, ts)
    permalink = None
    try:
        link = await client.chat_getPermalink(channel=channel, message_ts=thread)
        permalink = link.get("permalink")
    except SlackApiError:
        pass
    direct = render_reminder_dm(state, permalink, due=due)
    for person in (*state.owners, *reminded_backups(state, ordinal)):
        await pace.wait(person)
        await careful.chat_postMessage(channel=person, text=direct.text, blocks=direct.blocks)
