"""What the weekly digest says: one content for the Monday post and for `/plan digest`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from handlers.chart_process import MAX_MEASURE_PANELS, ChartDrawing, DigestCharts
from handlers.context import PlanContext
from handlers.messages.digest import DigestMessages, render_digest
from handlers.people import PeopleNames
from models.db import concurrent_reads, session_scope
from models.digest_content import (
    DigestContent,
    DigestFigures,
    DigestStanding,
    MeasureDigest,
    compose_digest,
    digest_standing,
    measure_digest,
    previous_digest_time,
    status_trend,
)
from models.periods import local_now, parse_period
from models.plans import active_plan_id
from models.queries import GoalsOverview, StatusCounts, goals_overview

log = logging.getLogger(__name__)

A = TypeVar("A")
B = TypeVar("B")


@dataclass(frozen=True)
class BuiltDigest:
    content: DigestContent
    messages: DigestMessages
    charts: DigestCharts | None  # None when not asked for, or when drawing them failed


def week_of(moment: datetime, timezone: str) -> str:
    """The Monday of the moment's week in the plan's time zone: the digest's unique key."""
    day: date = local_now(timezone, moment).date()
    return (day - timedelta(days=day.weekday())).isoformat()


async def digest_for(
    ctx: PlanContext,
    client: AsyncWebClient,
    names: PeopleNames,
    *,
    preview: bool,
    channel: str | None = None,
    charts: bool = False,
) -> BuiltDigest:
    """This week's digest: its content, messages and (when asked) charts. Records nothing.

    Its parts read nothing of each other's and go at once on connections of their own (one
    after the other on an in-memory database): with charts, three reads, the goals and the
    measures, the trend, and the standing of every initiative, so that each chart's figures
    reach the chart process (handlers/chart_process.py; else a worker thread) as soon as they
    can, the measures (the chart that takes longest) before the trend (one long statement);
    without, two, the figures and the standing. A chart is drawn while the rest of the digest
    is queried and written; one that fails to draw is logged and left out: the digest stands
    without it."""
    now = ctx.now()
    channel = channel or ctx.digest_channel
    period = ctx.open_period()
    parse_period(period)
    drawing = ChartDrawing(period) if charts else None

    async def goals_and_measures(
        plan_id: int, since: datetime | None
    ) -> tuple[GoalsOverview, MeasureDigest]:
        """Two of the figures the charts draw, each sent to be drawn as soon as it is read."""
        async with session_scope(ctx.engine) as session:
            goals = await goals_overview(session, plan_id, period)
            if drawing is not None:
                drawing.draw("by_goal", goals)
            measures = await measure_digest(
                session, plan_id, period, since=since, start_month=ctx.fiscal_year_start
            )
        if drawing is not None:
            # Only what the chart draws is sent to the process, with how many are listed.
            drawing.draw("measures", measures.shown(MAX_MEASURE_PANELS), len(measures.attention))
        return goals, measures

    async def trend(plan_id: int) -> list[tuple[str, StatusCounts]]:
        """The third, the trend: one long statement, read on a connection of its own."""
        async with session_scope(ctx.engine) as session:
            months = await status_trend(session, plan_id, period)
        if drawing is not None:
            drawing.draw("trend", months)
        return months

    async def figures_in_turn(plan_id: int, since: datetime | None) -> DigestFigures:
        """The figures on one connection, the trend's long statement between the goals and
        the measures: it runs in the database while the other half's rows are turned into
        results, and the measures' rows are turned while the other half's statements run."""
        async with session_scope(ctx.engine) as session:
            goals = await goals_overview(session, plan_id, period)
            months = await status_trend(session, plan_id, period)
            measures = await measure_digest(
                session, plan_id, period, since=since, start_month=ctx.fiscal_year_start
            )
        return DigestFigures(goals, months, measures)

    async def standing(plan_id: int, since: datetime | None) -> DigestStanding:
        async with session_scope(ctx.engine) as session:
            return await digest_standing(session, plan_id, period, since=since, now=now)

    try:
        async with session_scope(ctx.engine) as session:
            plan_id = await active_plan_id(session)
            since = (
                await previous_digest_time(session, channel, week_of(now, ctx.timezone))
                if channel
                else None
            )
        if drawing is None:
            # Without charts no figure is waited for: two readers, the figures in the order
            # that overlaps best with the standing (the preview ~80 ms sooner on two cores
            # than with the measures first, or with three readers).
            if concurrent_reads(ctx.engine):
                drawn, stands = await at_once(
                    figures_in_turn(plan_id, since), standing(plan_id, since)
                )
            else:
                drawn = await figures_in_turn(plan_id, since)
                stands = await standing(plan_id, since)
        elif concurrent_reads(ctx.engine):
            # The three read nothing of each other's: on connections of their own, one's
            # statements run in the database while another's rows are turned into results,
            # and each figure reaches the chart process as soon as it can.
            (goals, measures), (months, stands) = await at_once(
                goals_and_measures(plan_id, since),
                at_once(trend(plan_id), standing(plan_id, since)),
            )
            drawn = DigestFigures(goals, months, measures)
        else:
            goals, measures = await goals_and_measures(plan_id, since)
            drawn = DigestFigures(goals, await trend(plan_id), measures)
            stands = await standing(plan_id, since)
        content = compose_digest(period, since=since, now=now, figures=drawn, standing=stands)
        named = [owner for department in content.response.missing for owner in department.owners]
        named += [change.author for change in content.changes if change.author]
        people = await names.names(client, named)
        messages = render_digest(content, people, timezone=ctx.timezone, preview=preview)
    except BaseException:
        if drawing is not None:
            drawing.abandon()
        raise
    return BuiltDigest(
        content, messages, None if drawing is None else await settled_charts(drawing.charts())
    )


async def at_once(first: Coroutine[Any, Any, A], second: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """Both results, the two awaited at once. When one fails the other is cancelled and the
    failure raised as itself, not wrapped in a group, so that callers still tell a database
    that is not answering (`database_unavailable`) from a bug."""
    try:
        async with asyncio.TaskGroup() as group:
            one, two = group.create_task(first), group.create_task(second)
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return one.result(), two.result()


async def settled_charts(drawing: Awaitable[DigestCharts] | None) -> DigestCharts | None:
    """The charts once drawn; None when none were asked for or drawing them failed (logged)."""
    if drawing is None:
        return None
    try:
        return await drawing
    except Exception:
        log.exception("the digest's charts could not be drawn; the digest goes without them")
        return None
