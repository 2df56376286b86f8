"""The clock: one cycle job at the prompt time on weekdays and one retry job, in the plan's time
zone, with a misfire grace generous enough that a late tick still runs, and a tick that never
lets an error escape into the scheduler."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.standin import Fault, SlackStandin
from handlers.context import PlanContext
from jobs.scheduler import Cycle, build_scheduler
from models.calendar import Calendar, public_holidays
from models.db import create_engine, session_scope
from models.planfile import read_plan_file
from models.plans import load_plan, set_owners
from tests.helpers import find_department

NY = ZoneInfo("America/New_York")
CHIEF, FIRE_CHANNEL, UPDATES = "U0CHIEF", "C0FIRE", "C0UPDATES"
CATCH_UP = timedelta(hours=72)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    async with SlackStandin() as standin:
        yield standin


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """Friday 2 January 2026, just after the December prompt time (New Year's Day moved it)."""
    return Clock(datetime(2026, 1, 2, 9, 0, 30, tzinfo=NY))


def make_cycle(
    engine: AsyncEngine,
    slack: SlackStandin,
    clock: Clock | None = None,
    *,
    timezone: str = "America/New_York",
    prompt_time: time = time(9, 0),
) -> Cycle:
    calendar = Calendar(
        timezone=timezone, holidays=public_holidays("US-CT"), prompt_time=prompt_time
    )
    ctx = PlanContext(
        engine=engine,
        timezone=timezone,
        updates_channel=UPDATES,
        calendar=calendar,
        **({"now": clock} if clock is not None else {}),
    )
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    return Cycle(ctx, client, CATCH_UP)


async def load_hartford_with_fire_owned(engine: AsyncEngine) -> None:
    async with session_scope(engine) as session:
        await load_plan(session, read_plan_file(), period="2025-12")
        fire = await find_department(session, "fire")
        await set_owners(session, fire, [CHIEF], FIRE_CHANNEL)


def prompts_posted(slack: SlackStandin) -> list[tuple[str, str, str]]:
    """(department, period, channel) of every prompt Slack accepted."""
    return [
        (
            c.args["metadata"]["event_payload"]["department"],
            c.args["metadata"]["event_payload"]["period"],
            c.args["channel"],
        )
        for c in slack.calls_to("chat.postMessage")
        if c.ok and (c.args.get("metadata") or {}).get("event_type") == "planbot_prompt"
    ]


# --- the schedule -------------------------------------------------------------------------------


async def test_one_cycle_job_and_one_retry_job_both_running_the_tick(
    sqlite_engine: AsyncEngine, slack: SlackStandin
) -> None:
    cycle = make_cycle(sqlite_engine, slack)
    scheduler = build_scheduler(cycle)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"cycle", "retry"} <= set(jobs)
    assert jobs["cycle"].func == cycle.tick and jobs["retry"].func == cycle.tick
    assert isinstance(jobs["cycle"].trigger, CronTrigger)
    retry = jobs["retry"].trigger
    assert isinstance(retry, IntervalTrigger)
    # A failed post is retried well within the catch-up window.
    assert timedelta(minutes=1) <= retry.interval <= timedelta(hours=1)
    assert scheduler.timezone == NY


async def test_the_cycle_fires_at_nine_new_york_time_on_weekdays(
    sqlite_engine: AsyncEngine, slack: SlackStandin
) -> None:
    trigger = build_scheduler(make_cycle(sqlite_engine, slack)).get_job("cycle").trigger

    def next_fire(*args: int) -> datetime:
        fire = trigger.get_next_fire_time(None, datetime(*args, tzinfo=NY))  # type: ignore[misc]
        assert fire is not None
        return fire

    # Friday 10:00 → Monday 09:00: never on the weekend.
    assert next_fire(2026, 1, 2, 10, 0) == datetime(2026, 1, 5, 9, 0, tzinfo=NY)
    # Before nine on a weekday → that same morning.
    assert next_fire(2026, 1, 2, 8, 59) == datetime(2026, 1, 2, 9, 0, tzinfo=NY)
    # Across the March change the wall clock stays at 09:00 and the UTC hour moves.
    before = next_fire(2026, 3, 6, 8, 0)
    after = next_fire(2026, 3, 7, 10, 0)
    assert before == datetime(2026, 3, 6, 9, 0, tzinfo=NY)
    assert after == datetime(2026, 3, 9, 9, 0, tzinfo=NY)
    assert before.astimezone(NY).hour == after.astimezone(NY).hour == 9
    assert before.utcoffset() == timedelta(hours=-5)
    assert after.utcoffset() == timedelta(hours=-4)


async def test_the_scheduler_keeps_the_plans_time_zone_and_prompt_time(
    sqlite_engine: AsyncEngine, slack: SlackStandin
) -> None:
    west = ZoneInfo("America/Los_Angeles")
    scheduler = build_scheduler(
        make_cycle(sqlite_engine, slack, timezone="America/Los_Angeles", prompt_time=time(7, 30))
    )
    assert scheduler.timezone == west
    trigger = scheduler.get_job("cycle").trigger
    fire = trigger.get_next_fire_time(None, datetime(2026, 1, 2, 10, 0, tzinfo=west))
    assert fire == datetime(2026, 1, 5, 7, 30, tzinfo=west)
    assert fire.astimezone(west).strftime("%A %H:%M") == "Monday 07:30"


async def test_it_starts_in_the_running_loop_with_a_generous_grace_and_shuts_down(
    sqlite_engine: AsyncEngine, slack: SlackStandin
) -> None:
    scheduler = build_scheduler(make_cycle(sqlite_engine, slack))
    scheduler.start()
    try:
        assert scheduler.running
        # Job defaults are filled in when the scheduler starts: check the jobs it really runs.
        for job in scheduler.get_jobs():
            assert job.misfire_grace_time is not None and job.misfire_grace_time >= 3600
            assert job.coalesce is True
            assert job.max_instances == 1
        now = datetime.now(NY)
        cycle_at = scheduler.get_job("cycle").next_run_time.astimezone(NY)
        assert now < cycle_at <= now + timedelta(days=4)
        assert (cycle_at.hour, cycle_at.minute) == (9, 0) and cycle_at.weekday() < 5
        retry_at = scheduler.get_job("retry").next_run_time
        assert now < retry_at <= now + timedelta(hours=1)
    finally:
        scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
    assert not scheduler.running
    assert prompts_posted(slack) == []


async def test_a_tick_ten_minutes_late_still_posts_the_prompts(
    sqlite_engine: AsyncEngine, slack: SlackStandin, clock: Clock
) -> None:
    """A busy loop or a restart makes a run late; APScheduler's one-second default grace would
    skip it silently and nobody would be asked for their update."""
    await load_hartford_with_fire_owned(sqlite_engine)
    scheduler = build_scheduler(make_cycle(sqlite_engine, slack, clock))
    outcome: asyncio.Future[JobExecutionEvent] = asyncio.get_running_loop().create_future()

    def record(event: JobExecutionEvent) -> None:
        if event.job_id == "cycle" and not outcome.done():
            outcome.set_result(event)

    scheduler.add_listener(record, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        scheduler.modify_job("cycle", next_run_time=datetime.now(NY) - timedelta(minutes=10))
        event = await asyncio.wait_for(outcome, timeout=10)
    finally:
        scheduler.shutdown(wait=False)
    assert event.code == EVENT_JOB_EXECUTED, "the late run was skipped"
    assert prompts_posted(slack) == [("fire", "2025-12", FIRE_CHANNEL)]


# --- a tick never raises --------------------------------------------------------------------------


def _tick_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "jobs.scheduler" and r.levelno == logging.ERROR and r.exc_info
    ]


async def test_a_failed_tick_is_logged_and_the_next_one_tries_again(
    sqlite_engine: AsyncEngine,
    slack: SlackStandin,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cycle = make_cycle(sqlite_engine, slack, clock)
    with caplog.at_level(logging.INFO):
        assert await cycle.tick() is None  # no plan loaded yet: the run fails inside
    failures = _tick_failures(caplog)
    assert len(failures) == 1 and "scheduled run failed" in failures[0].getMessage()
    assert prompts_posted(slack) == []

    caplog.clear()
    await load_hartford_with_fire_owned(sqlite_engine)
    clock.moment += timedelta(minutes=15)
    await cycle.tick()
    assert _tick_failures(caplog) == []
    assert prompts_posted(slack) == [("fire", "2025-12", FIRE_CHANNEL)]


async def test_a_tick_on_a_dropped_database_logs_an_error_instead_of_raising(
    sqlite_url: str, slack: SlackStandin, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    Path(sqlite_url.removeprefix("sqlite:///")).unlink()  # the tables are gone
    engine = create_engine(sqlite_url)
    try:
        await make_cycle(engine, slack, clock).tick()
    finally:
        await engine.dispose()
    failures = _tick_failures(caplog)
    assert len(failures) == 1
    assert "no such table" in str(failures[0].exc_info[1])  # type: ignore[index]
    assert slack.calls_to("chat.postMessage") == []


async def test_a_tick_stopped_by_a_shutdown_ends_quietly_instead_of_failing(
    sqlite_engine: AsyncEngine,
    slack: SlackStandin,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A deploy stops the bot while a run waits out Slack's Retry-After: the run's task is
    cancelled, as asyncio.run does at the end. APScheduler records the job as run, and nothing
    is logged as an error (it used to log the cancellation as the job's exception)."""
    await load_hartford_with_fire_owned(sqlite_engine)
    slack.inject("chat.postMessage", Fault.rate_limited(retry_after=60))
    scheduler = build_scheduler(make_cycle(sqlite_engine, slack, clock))
    outcome: asyncio.Future[JobExecutionEvent] = asyncio.get_running_loop().create_future()

    def record(event: JobExecutionEvent) -> None:
        if event.job_id == "cycle" and not outcome.done():
            outcome.set_result(event)

    scheduler.add_listener(record, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    with caplog.at_level(logging.INFO):
        scheduler.start()
        try:
            scheduler.modify_job("cycle", next_run_time=datetime.now(NY))
            async with asyncio.timeout(10):
                while not slack.calls_to("chat.postMessage"):  # the 429: now it waits a minute
                    await asyncio.sleep(0.01)
            runs = [
                task
                for task in asyncio.all_tasks()
                if task.get_coro().__qualname__ == "run_coroutine_job"  # type: ignore[union-attr]
            ]
            assert len(runs) == 1
            runs[0].cancel()
            event = await asyncio.wait_for(outcome, timeout=10)
        finally:
            scheduler.shutdown(wait=False)
    assert event.code == EVENT_JOB_EXECUTED
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("shutting down" in r.getMessage() for r in caplog.records)
    assert prompts_posted(slack) == []  # not posted: the next start's catch-up posts it
