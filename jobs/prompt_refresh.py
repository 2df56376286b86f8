"""Each month's prompt shows its answers: coalesced, paced under `chat.update`'s limit (issue 18).

On the first business day a thousand leads may answer within the hour, while Slack allows about
50 `chat.update` a minute for the whole workspace (Tier 3). Editing the prompt after every answer
would draw a storm of 429s and lose edits. Instead:

- An answer marks its prompt wanted, in the database (`models.prompt_refresh`), and wakes this
  process's `PromptRefresher`. The person who answered is told at once, by the answer itself;
  the prompt follows at the workspace's pace.
- The refresher takes the prompt that has waited longest, waits for the next `chat.update` slot
  of the workspace (shared by every replica through the database, `models.pace`, at
  TIER_3_PER_MINUTE), reads the department as it then stands and edits the prompt once, for
  every answer it collected while it waited. Answers that arrive during the edit keep it
  wanted: it comes round again.
- One process refreshes a prompt at a time (holder and lease). A 429 that still happens slows
  every replica's pace and the prompt keeps its place; Slack down leaves it waiting for the
  next answer or the scheduler's tick; a message or channel that is gone is given up, logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_client import retry_after_seconds
from handlers.channels import slack_error
from handlers.context import PlanContext
from handlers.cover import who_is_away
from handlers.messages.limits import TIER_3_PER_MINUTE
from handlers.messages.prompt import render_prompt, status_line
from handlers.messages.words import who_answered
from handlers.people import mention
from jobs.delivery import holder
from jobs.failures import POST_FAILURES, describe
from models.cycle import DepartmentState, department_state
from models.db import session_scope
from models.pace import slow_down, take_slot
from models.plans import active_plan_id
from models.prompt_refresh import (
    RefreshClaim,
    claim_prompt_refresh,
    finish_prompt_refresh,
    let_go_of_prompt_refresh,
    waiting_prompt_refreshes,
    wanted_now,
)
from models.tables import Prompt

log = logging.getLogger(__name__)

PACE_KEY = "chat.update"  # the workspace's chat.update budget, in models.pace
GAP = 60.0 / TIER_3_PER_MINUTE
MOST_GAP = 30.0  # after 429s the pace never slows below one edit per this many seconds
# Slack's answers that mean the prompt cannot be edited any more: given up, not retried.
GONE = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "cant_update_message",
        "edit_window_closed",
        "is_archived",
        "not_in_channel",
        "invalid_auth",
        "account_inactive",
    }
)


@dataclass
class RefreshRun:
    """What one drain did: prompts edited, given up, and whether it stopped on a failure."""

    edited: int = 0
    given_up: int = 0
    rate_limited: int = 0
    stopped: str | None = None  # why it stopped early (Slack down): the next poke goes on


def latest_line(ctx: PlanContext, state: DepartmentState) -> str | None:
    """'✅ Fire: updated by @deputy for @chief on Nov 3' for the period's most recent answer
    (an initiative's or a measure's), or None before anyone answered."""
    answers = [
        (i.latest.received_at, i.latest.author, i.latest.on_behalf_of, i.latest.late)
        for i in state.initiatives
        if i.latest is not None and i.latest.period == state.period
    ]
    answers += [
        (a.received_at, a.author, None, ctx.calendar.is_late(state.period, a.received_at))
        for m in state.measures
        if (a := m.latest.get(state.period)) is not None and a.author
    ]
    if not answers:
        return None
    when, author, for_whom, late = max(answers, key=lambda a: a[0])
    return status_line(
        state.name, who_answered(author, for_whom, mention), when, ctx.timezone, late=late
    )


async def _show(
    ctx: PlanContext, client: AsyncWebClient, claim: RefreshClaim
) -> tuple[RefreshClaim, str | None]:
    """Edit the claimed prompt to show the department as it stands now: the claim as it then
    covers (every answer counted before the department was read, those that came while it
    waited for its slot included), and None when done (or nothing to show) or Slack's refusal
    for good (raised for what may pass: a 429, a 5xx)."""
    async with session_scope(ctx.engine) as session:
        claim = replace(claim, wanted=await wanted_now(session, claim))
        prompt = await session.get(Prompt, claim.prompt_id)
        if prompt is None or prompt.message_ts is None:
            return claim, None
        state = await department_state(
            session,
            await active_plan_id(session),
            prompt.period,
            prompt.department_id,
            start_month=ctx.fiscal_year_start,
        )
        channel, ts, period = prompt.channel_id, prompt.message_ts, prompt.period
    if state is None:
        return claim, None
    # Absences as recorded (a Slack status was read when the prompt went out): no Slack call.
    cover = await who_is_away(ctx, client, (*state.owners, *state.backups), read_statuses=False)
    names = await ctx.people.names(client, cover.away) if cover.away else mention
    message = render_prompt(
        state,
        mention,
        status_line=latest_line(ctx, state),
        due=ctx.calendar.closes_at(period),
        away=cover.away,
        names=names,
        timezone=ctx.timezone,
    )
    try:
        await client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in GONE:
            return claim, error
        raise
    return claim, None


async def refresh_waiting_prompts(
    ctx: PlanContext, client: AsyncWebClient, *, most: int | None = None
) -> RefreshRun:
    """Edit waiting prompts, oldest first, one per `chat.update` slot of the workspace, until
    none waits (or `most` were tried)."""
    run = RefreshRun()
    me = holder(ctx)
    tried = 0
    while most is None or tried < most:
        async with session_scope(ctx.engine) as session:
            claim = await claim_prompt_refresh(session, me, ctx.now())
        if claim is None:
            return run
        tried += 1
        try:
            async with session_scope(ctx.engine) as session:
                slot, gap = await take_slot(session, time.time(), GAP, key=PACE_KEY)
            if (wait := slot - time.time()) > 0:
                await asyncio.sleep(wait)
            claim, error = await _show(ctx, client, claim)
        except SlackApiError as exc:
            async with session_scope(ctx.engine) as session:
                await let_go_of_prompt_refresh(session, claim, me, describe(exc))
                if exc.response.status_code == 429:
                    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
                    retry = retry_after_seconds(headers.get("retry-after"))
                    await slow_down(session, time.time() + retry, gap, MOST_GAP, key=PACE_KEY)
            if exc.response.status_code == 429:
                run.rate_limited += 1
                continue
            run.stopped = describe(exc)
            log.warning("prompt refreshes paused: Slack said %s", run.stopped)
            return run
        except POST_FAILURES as exc:
            async with session_scope(ctx.engine) as session:
                await let_go_of_prompt_refresh(session, claim, me, describe(exc))
            run.stopped = describe(exc)
            log.warning("prompt refreshes paused: %s", run.stopped)
            return run
        except BaseException:
            async with session_scope(ctx.engine) as session:
                await let_go_of_prompt_refresh(session, claim, me, "interrupted")
            raise
        async with session_scope(ctx.engine) as session:
            await finish_prompt_refresh(session, claim, me, ctx.now(), error=error)
        if error is None:
            run.edited += 1
        else:
            run.given_up += 1
            log.warning("prompt %s not refreshed: Slack said %s", claim.prompt_id, error)
    return run


async def prompts_waiting(ctx: PlanContext) -> int:
    async with session_scope(ctx.engine) as session:
        return await waiting_prompt_refreshes(session)


class PromptRefresher:
    """The refresher of one running bot: an answer wakes it (`wanted`), and it edits waiting
    prompts until none is left, then sleeps. Several replicas each run one; they share the
    workspace's pace and never edit the same prompt at once."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._again = False

    async def wanted(self, ctx: PlanContext, client: AsyncWebClient) -> None:
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(ctx, client))

    async def _drain(self, ctx: PlanContext, client: AsyncWebClient) -> None:
        while self._again:
            self._again = False
            try:
                run = await refresh_waiting_prompts(ctx, client)
            except Exception:
                log.exception("prompt refreshes stopped: the next answer or tick goes on")
                return
            if run.stopped is not None:
                return

    async def idle(self) -> None:
        """Wait until nothing this refresher started is running (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})
