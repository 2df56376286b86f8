"""What the weekly digest says: one content for the Monday post and for `/plan digest`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.digest import DigestMessages, render_digest
from handlers.people import PeopleNames
from models.db import session_scope
from models.digest import DigestContent, digest_content, previous_digest_time
from models.periods import local_now
from models.plans import active_plan


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
) -> tuple[DigestContent, DigestMessages]:
    """This week's digest: its content and messages. Records nothing."""
    now = ctx.now()
    channel = channel or ctx.digest_channel
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        since = (
            await previous_digest_time(session, channel, week_of(now, ctx.timezone))
            if channel
            else None
        )
        content = await digest_content(session, plan.id, ctx.open_period(), since=since, now=now)
    named = [owner for department in content.missing.missing for owner in department.owners]
    named += [change.author for change in content.changes if change.author]
    people = await names.names(client, named)
    return content, render_digest(content, people, preview=preview)
