"""What the weekly digest says: one content for the Monday post and for `/plan digest`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.digest import DigestMessages, render_digest
from handlers.people import PeopleNames
from models.db import session_scope
from models.digest_content import (
    DigestContent,
    DigestFigures,
    digest_content,
    digest_figures,
    previous_digest_time,
)
from models.periods import local_now
from models.plans import active_plan_id

if TYPE_CHECKING:
    from handlers.messages.chart import DigestCharts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuiltDigest:
    content: DigestContent
    messages: DigestMessages
    charts: DigestCharts | None  # None when not asked for, or when drawing them failed


def week_of(moment: datetime, timezone: str) -> str:
    """The Monday of the moment's week in the plan's time zone: the digest's unique key."""
    day: date = local_now(timezone, moment).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def _draw(figures: DigestFigures, period: str) -> DigestCharts:
    # matplotlib takes over a second to import: only when a digest is drawn, not at start-up.
    from handlers.messages.chart import render_charts

    return render_charts(figures, period)


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

    The charts need only the first queries' results; they are drawn in a worker thread while
    the rest of the digest is queried and written (the database works meanwhile, and the event
    loop stays free to serve Slack). A chart that fails to draw is logged and left out: the
    digest stands without it."""
    now = ctx.now()
    channel = channel or ctx.digest_channel
    period = ctx.open_period()
    drawing: asyncio.Future[DigestCharts] | None = None
    try:
        async with session_scope(ctx.engine) as session:
            plan_id = await active_plan_id(session)
            since = (
                await previous_digest_time(session, channel, week_of(now, ctx.timezone))
                if channel
                else None
            )
            figures = await digest_figures(
                session, plan_id, period, since=since, start_month=ctx.fiscal_year_start
            )
            if charts:
                drawing = asyncio.ensure_future(asyncio.to_thread(_draw, figures, period))
            content = await digest_content(
                session,
                plan_id,
                period,
                since=since,
                now=now,
                figures=figures,
                start_month=ctx.fiscal_year_start,
            )
        named = [owner for department in content.response.missing for owner in department.owners]
        named += [change.author for change in content.changes if change.author]
        people = await names.names(client, named)
        messages = render_digest(content, people, timezone=ctx.timezone, preview=preview)
    except BaseException:
        if drawing is not None:
            # The thread finishes on its own; nobody waits for it, and its error is not news.
            drawing.add_done_callback(lambda f: f.cancelled() or f.exception())
        raise
    return BuiltDigest(content, messages, await settled_charts(drawing))


async def settled_charts(drawing: asyncio.Future[DigestCharts] | None) -> DigestCharts | None:
    """The charts once drawn; None when none were asked for or drawing them failed (logged)."""
    if drawing is None:
        return None
    try:
        return await drawing
    except Exception:
        log.exception("the digest's charts could not be drawn; the digest goes without them")
        return None
