"""The clock: APScheduler in the bot's event loop. It only decides *when*; what has run is
recorded in the database (prompt and reminder rows with unique keys), so a restart, a retry or a
second replica never sends anything twice, and a run missed while the bot was down is made up
once when it comes back (within the catch-up window)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.people import PeopleNames
from jobs.canvases import CanvasRun, refresh_plan_canvas, refresh_wanted_canvases
from jobs.escalations import EscalationRun, escalate_silence
from jobs.follower_digests import FollowerRun, send_follower_digests
from jobs.help_requests import HelpPostRun, post_waiting_help
from jobs.measure_fetch import FETCH_TIME, fetch_measures
from jobs.prompt_refresh import prompts_waiting
from jobs.prompts import PromptRun, post_monthly_prompts
from jobs.reminders import (
    DirectRun,
    ReminderRun,
    due_reminder,
    send_due_reminder_dms,
    send_reminders,
)
from jobs.weekly_digest import DigestOutcome, DigestRun, post_weekly_digest
from models.periods import open_period, previous_period

log = logging.getLogger(__name__)

RETRY_MINUTES = 15


@dataclass
class DueRun:
    prompts: PromptRun | None = None
    reminders: ReminderRun | None = None
    digest: DigestRun | None = None
    escalations: EscalationRun | None = None
    followers: FollowerRun | None = None
    direct: DirectRun | None = None  # reminders by direct message due in someone's own hours
    help: HelpPostRun | None = None  # requests for help whose post failed, tried again
    canvases: list[CanvasRun] = field(default_factory=list)  # canvases edited or tried
    ran: list[str] = field(default_factory=list)


class Cycle:
    """What is due at a moment, worked out from the calendar, and done."""

    def __init__(
        self,
        ctx: PlanContext,
        client: AsyncWebClient,
        catch_up: timedelta,
        digest_cron: str = "0 8 * * mon",
        names: PeopleNames | None = None,
    ) -> None:
        self.ctx, self.client, self.catch_up = ctx, client, catch_up
        self.digest_trigger = CronTrigger.from_crontab(digest_cron, timezone=ctx.calendar.zone)
        self.names = names or ctx.people

    def last_digest_time(self, now: datetime) -> datetime | None:
        """The digest's latest scheduled moment at or before now (looking back up to 8 days)."""
        moment = self.digest_trigger.get_next_fire_time(None, now - timedelta(days=8))
        last = None
        while moment is not None and moment <= now:
            last = moment
            moment = self.digest_trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        return last

    def _window(self, moment: datetime, now: datetime) -> bool:
        return moment <= now <= moment + self.catch_up

    async def run_due(self) -> DueRun:
        now = self.ctx.now()
        period = open_period(self.ctx.timezone, now)
        result = DueRun()
        if self._window(self.ctx.calendar.prompt_at(period), now):
            result.prompts = await post_monthly_prompts(self.ctx, self.client, period)
            result.ran.append("prompts")
        closed = previous_period(period)
        if self._window(self.ctx.calendar.closes_at(closed), now):
            # The month before closed as this one opened: its silence goes to its contacts.
            result.escalations = await escalate_silence(self.ctx, self.client, closed)
            result.ran.append("escalations")
        ordinal = due_reminder(self.ctx, period, now)
        if ordinal is not None and self._window(
            self.ctx.calendar.reminder_at(period, ordinal), now
        ):
            result.reminders = await send_reminders(self.ctx, self.client, period, ordinal)
            result.ran.append("reminders")
        else:  # a direct message put off until its recipient's morning may be due now
            result.direct = await send_due_reminder_dms(self.ctx, self.client)
            if result.direct.sent or result.direct.failed:
                result.ran.append("direct reminders")
        result.help = await post_waiting_help(self.ctx, self.client)
        if result.help.posted:
            result.ran.append("help requests")
        digest_at = self.last_digest_time(now)
        if digest_at is not None and self._window(digest_at, now):
            if self.ctx.digest_channel:
                result.digest = await post_weekly_digest(self.ctx, self.client, self.names)
                result.ran.append("digest")
                if result.digest.outcome is DigestOutcome.POSTED:
                    result.canvases.append(await refresh_plan_canvas(self.ctx, self.client))
            # Followers get their goals' lines at the digest's time, a channel or not.
            result.followers = await send_follower_digests(self.ctx, self.client)
            result.ran.append("followers")
        # Department canvases an answer changed that no debounce edited (a restart, Slack down).
        result.canvases += await refresh_wanted_canvases(self.ctx, self.client)
        # Prompts whose refresh a restart or Slack being down left waiting: the refresher goes
        # on in the background, at the workspace's pace (it may take minutes after a rush).
        if self.ctx.prompt_wanted is not None and await prompts_waiting(self.ctx):
            await self.ctx.prompt_wanted(self.ctx, self.client)
            result.ran.append("prompt refreshes")
        return result

    async def tick(self) -> None:
        """A scheduled run: never lets an error stop the scheduler, nor a shutdown read as one."""
        try:
            await self.run_due()
        except asyncio.CancelledError:
            # The bot is stopping mid-run (a deploy, a restart): what was claimed and not done
            # is taken over by the next start's catch-up. Raised on, APScheduler would log it as
            # the job's error, and an operator would look for a fault that is not there.
            log.info("scheduled run stopped: the bot is shutting down; its next start catches up")
        except Exception:
            log.exception("scheduled run failed; the next tick tries again")

    async def fetch(self) -> None:
        """The daily fetch of measures with a data source: a failure waits for tomorrow's."""
        try:
            run = await fetch_measures(self.ctx)
        except asyncio.CancelledError:  # the bot is stopping: see `tick`
            log.info("measures fetch stopped: the bot is shutting down; tomorrow's tries again")
            return
        except Exception:
            log.exception("measures fetch failed; tomorrow's tries again")
            return
        if run.failed:
            log.warning(
                "measures fetch: %d source(s) failed: %s",
                len(run.failed),
                ", ".join(key for key, _ in run.failed),
            )


def build_scheduler(cycle: Cycle) -> AsyncIOScheduler:
    """At the prompt time on weekdays (holidays are the calendar's business), and every few
    minutes to retry what failed. A generous misfire grace: APScheduler's one second would skip
    a run whenever the loop is busy or the bot restarts."""
    calendar = cycle.ctx.calendar
    scheduler = AsyncIOScheduler(
        timezone=calendar.zone,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": max(60, int(cycle.catch_up.total_seconds())),
        },
    )
    scheduler.add_job(
        cycle.tick,
        CronTrigger(
            day_of_week="mon-fri",
            hour=calendar.prompt_time.hour,
            minute=calendar.prompt_time.minute,
            timezone=calendar.zone,
        ),
        id="cycle",
        name="monthly prompts and reminders",
        replace_existing=True,
    )
    hour, minute = FETCH_TIME
    scheduler.add_job(
        cycle.fetch,
        CronTrigger(hour=hour, minute=minute, timezone=calendar.zone),
        id="fetch",
        name="measures from their data sources",
        replace_existing=True,
    )
    scheduler.add_job(
        cycle.tick,
        IntervalTrigger(minutes=RETRY_MINUTES, timezone=calendar.zone),
        id="retry",
        name="retry and catch up",
        replace_existing=True,
    )
    return scheduler
