"""Reminders: in the prompt's thread and by direct message, to departments that have not
answered, each reminder at most once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.cover import Cover, who_is_away
from handlers.messages.cover import addressed
from handlers.messages.layout import People
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
from models.absence import Away
from models.calendar import their_hours
from models.cycle import (
    DepartmentState,
    DueDM,
    PromptRef,
    ReminderClaim,
    claim_reminder,
    claim_reminder_dm,
    department_states,
    drop_reminder_dm,
    due_reminder_dms,
    finish_reminder,
    finish_reminder_dm,
    postpone_reminder_dm,
    prompts_of,
    reminder_posted_in_thread,
    schedule_reminder_dms,
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
    direct: DirectRun | None = None  # the direct messages sent (or put off) in this run


@dataclass
class DirectRun:
    """Direct-message reminders handled in one run: sent, put off until the recipient's
    working hours, dropped (the department answered, they are away, the month closed)."""

    sent: list[str] = field(default_factory=list)  # "department:user"
    later: list[tuple[str, datetime]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
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
    owing = [s for s in states if not s.reported or s.measures_without_number]
    # Slack statuses read now: who is away is not reminded; whoever covers is.
    cover = await who_is_away(ctx, client, [u for s in owing for u in (*s.owners, *s.backups)])
    names = await ctx.people.names(client, cover.away) if cover.away else mention
    later: list[tuple[str, datetime]] = []
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
                await _remind(
                    ctx, careful, client, pace, state, prompt, ordinal, claim, cover, names
                )
                recipients = dm_recipients(state, ordinal, cover.away)
                profiles = await ctx.people.profiles(client, recipients)
                due = {
                    u: their_hours(
                        ctx.now(), profiles[u].zone(ctx.timezone), ctx.calendar.prompt_time
                    )
                    for u in recipients
                }
                async with session_scope(ctx.engine) as session:
                    await schedule_reminder_dms(session, prompt.id, ordinal, due, ctx.now())
                    await finish_reminder(session, claim.id, ctx.now())
                run.reminded.append(state.key)
                later += [(f"{state.key}:{u}", at) for u, at in due.items() if at > ctx.now()]
            except POST_FAILURES as exc:
                error = describe(exc)
                log.warning("reminder %d for %s %s failed: %s", ordinal, state.key, period, error)
                async with session_scope(ctx.engine) as session:
                    await finish_reminder(session, claim.id, ctx.now(), error)
                run.failed.append((state.key, error))
    run.direct = await send_due_reminder_dms(ctx, client)
    run.direct.later[:0] = later  # put off until their working hours from the start
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
    careful: AsyncWebClient,
    client: AsyncWebClient,
    pace: SharedPace,
    state: DepartmentState,
    prompt: PromptRef,
    ordinal: int,
    claim: ReminderClaim,
    cover: Cover,
    names: People,
) -> None:
    """The reminder in the prompt's thread, once (looked for there before any second send).
    A reminder taken over from a process that died after its thread post has nothing left to
    post: its direct messages are scheduled by the caller, each once."""
    if claim.thread_ts is not None:
        return
    assert prompt.message_ts is not None
    channel, thread = prompt.channel_id, prompt.message_ts
    due = ctx.calendar.closes_at(state.period)
    payload = {"department": state.key, "period": state.period, "ordinal": ordinal}
    message = render_reminder(
        state, ordinal, mention, due=due, away=cover.away, names=names, timezone=ctx.timezone
    )

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


def dm_recipients(state: DepartmentState, ordinal: int, away: Mapping[str, Away]) -> list[str]:
    """Who a reminder reaches by direct message: the owners here and whoever covers for those
    away, and from the second reminder the backup owners; never someone away."""
    both = [*addressed(state, away), *reminded_backups(state, ordinal)]
    return [u for u in dict.fromkeys(both) if u not in away]


async def send_due_reminder_dms(ctx: PlanContext, client: AsyncWebClient) -> DirectRun:
    """Send the direct-message reminders whose time has come, each once: to a department that
    still owes its answer, to someone who is not away, within their working hours (else put
    off until the next start of them). Run by every scheduler tick."""
    run = DirectRun()
    async with session_scope(ctx.engine) as session:
        due = await due_reminder_dms(session, ctx.now())
    if not due:
        return run
    pace = SharedPace(ctx.engine, ctx.posts_per_second)
    me = holder(ctx)
    careful = careful_client(client)
    async with session_scope(ctx.engine) as session:
        plan_id = await active_plan_id(session)
        states: dict[tuple[int, str], DepartmentState] = {}
        for period in sorted({dm.period for dm in due}):
            ids = list({dm.department_id for dm in due if dm.period == period})
            for state in await department_states(
                session, plan_id, period, ids, start_month=ctx.fiscal_year_start
            ):
                states[state.id, period] = state
    cover = await who_is_away(ctx, client, [dm.user_id for dm in due])
    permalinks: dict[int, str | None] = {}
    async with keep_leases(ctx, me):
        for dm in due:
            found = states.get((dm.department_id, dm.period))
            name = f"{found.key if found is not None else dm.department_id}:{dm.user_id}"
            async with session_scope(ctx.engine) as session:
                claimed = await claim_reminder_dm(session, dm, ctx.now(), me)
            if claimed is None:
                continue
            why = _not_to_send(ctx, found, dm, cover)
            if why is not None:
                async with session_scope(ctx.engine) as session:
                    await drop_reminder_dm(session, claimed, why)
                run.dropped.append((name, why))
                continue
            assert found is not None
            state = found
            zone = cover.profiles[dm.user_id].zone(ctx.timezone)
            when = their_hours(ctx.now(), zone, ctx.calendar.prompt_time)
            if when > ctx.now():
                async with session_scope(ctx.engine) as session:
                    await postpone_reminder_dm(session, claimed, when)
                run.later.append((name, when))
                continue
            if dm.prompt_id not in permalinks:
                permalinks[dm.prompt_id] = await _permalink(client, dm)
            direct = render_reminder_dm(
                state, permalinks[dm.prompt_id], due=ctx.calendar.closes_at(dm.period)
            )
            try:
                await pace.wait(dm.user_id)
                await careful.chat_postMessage(
                    channel=dm.user_id, text=direct.text, blocks=direct.blocks
                )
                async with session_scope(ctx.engine) as session:
                    await finish_reminder_dm(session, claimed, ctx.now())
                run.sent.append(name)
            except POST_FAILURES as exc:
                error = describe(exc)
                log.warning("reminder by direct message to %s failed: %s", name, error)
                async with session_scope(ctx.engine) as session:
                    await finish_reminder_dm(session, claimed, ctx.now(), error)
                run.failed.append((name, error))
    if run.sent or run.later or run.failed:
        log.info(
            "direct-message reminders: %d sent, %d put off until working hours, %d dropped, "
            "%d failed",
            len(run.sent),
            len(run.later),
            len(run.dropped),
            len(run.failed),
        )
    return run


def _not_to_send(
    ctx: PlanContext, state: DepartmentState | None, dm: DueDM, cover: Cover
) -> str | None:
    """Why a due direct message goes no further, or None."""
    if state is None or dm.message_ts is None:
        return "no prompt"
    if state.reported and not state.measures_without_number:
        return "answered"
    if dm.user_id in cover.away:
        return "away"
    closes = ctx.calendar.closes_at(dm.period)
    if dm.created_at < closes <= ctx.now():  # put off past the close: escalation took over
        return "closed"
    return None


async def _permalink(client: AsyncWebClient, dm: DueDM) -> str | None:
    if dm.message_ts is None:
        return None
    try:
        link = await client.chat_getPermalink(channel=dm.channel_id, message_ts=dm.message_ts)
        return link.get("permalink")
    except SlackApiError:
        return None
