"""The weekly digest: posted once per week in the leadership channel, with its chart."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.channels import post_joining
from handlers.context import PlanContext
from handlers.digest_build import digest_for, week_of
from handlers.people import PeopleNames
from jobs.delivery import (
    SharedPace,
    careful_client,
    claim_or_take_over,
    deliver,
    holder,
    keep_leases,
)
from jobs.failures import POST_FAILURES, describe
from jobs.posted import find_posted, post_metadata
from models.db import session_scope
from models.digest_content import claim_digest, finish_digest
from models.tables import Digest

if TYPE_CHECKING:
    from handlers.messages.chart import DigestCharts

log = logging.getLogger(__name__)

DIGEST_EVENT = "planbot_digest"


class DigestOutcome(StrEnum):
    POSTED = "posted"
    ALREADY = "already"  # posted earlier this week
    IN_PROGRESS = "in_progress"  # another process holds the week's claim right now
    NO_CHANNEL = "no_channel"  # PLANBOT_DIGEST_CHANNEL is not set
    FAILED = "failed"  # Slack refused or was unreachable: the next run tries again


@dataclass
class DigestRun:
    channel: str | None
    week: str
    outcome: DigestOutcome
    ts: str | None = None
    thread_messages: int = 0
    error: str | None = None


async def post_weekly_digest(
    ctx: PlanContext, client: AsyncWebClient, names: PeopleNames
) -> DigestRun:
    """Post this week's digest unless it is posted already; safe to run again, and from several
    processes at once (the week's row is claimed in the database before posting)."""
    now = ctx.now()
    week = week_of(now, ctx.timezone)
    channel = ctx.digest_channel
    if channel is None:
        return DigestRun(None, week, DigestOutcome.NO_CHANNEL)
    me = holder(ctx)
    async with session_scope(ctx.engine) as session:
        claim, held = await claim_or_take_over(
            session,
            lambda: claim_digest(session, channel, week, now, me),
            Digest,
            {"channel_id": channel, "week": week},
            now,
        )
    if claim is None:
        if held is not None:
            return DigestRun(channel, week, DigestOutcome.IN_PROGRESS, error=f"by {held.holder}")
        return DigestRun(channel, week, DigestOutcome.ALREADY)
    careful = careful_client(client)
    pace = SharedPace(ctx.engine, ctx.posts_per_second)
    try:
        async with keep_leases(ctx, me):
            built = await digest_for(
                ctx, client, names, preview=False, channel=channel, charts=True
            )
            messages = built.messages

            async def post() -> Any:
                return await post_joining(
                    careful,
                    channel,
                    text=messages.main.text,
                    blocks=messages.main.blocks,
                    metadata=post_metadata(DIGEST_EVENT, {"week": week}),
                    unfurl_links=False,
                    unfurl_media=False,
                )

            async def find() -> str | None:
                return await find_posted(client, channel, DIGEST_EVENT, {"week": week})

            found = await find() if claim.attempts > 1 else None
            ts = found or (await deliver(pace, channel, post, find))[0]
            # A digest found in the channel had its thread posted with it.
            for part in [] if found else messages.thread:
                await client.chat_postMessage(
                    channel=channel,
                    thread_ts=ts,
                    text=part.text,
                    blocks=part.blocks,
                    unfurl_links=False,
                )
        async with session_scope(ctx.engine) as session:
            await finish_digest(session, claim.id, message_ts=ts, now=ctx.now())
    except POST_FAILURES as exc:
        error = describe(exc)
        log.warning("digest for %s failed: %s", week, error)
        async with session_scope(ctx.engine) as session:
            await finish_digest(session, claim.id, message_ts=None, now=ctx.now(), error=error)
        return DigestRun(channel, week, DigestOutcome.FAILED, error=error)
    if built.charts is not None:
        await _upload_charts(client, channel, ts, built.charts, week)
    log.info("digest for week of %s posted in %s", week, channel)
    return DigestRun(channel, week, DigestOutcome.POSTED, ts, len(messages.thread))


async def _upload_charts(
    client: AsyncWebClient, channel: str, ts: str, charts: DigestCharts, week: str
) -> None:
    """The charts go in the digest's thread; the digest stands without them if this fails."""
    uploads: list[dict[str, Any]] = [
        {
            "content": charts.by_goal,
            "filename": f"plan-status-by-goal-{week}.png",
            "title": charts.by_goal_title,
        },
        {
            "content": charts.trend,
            "filename": f"plan-status-trend-{week}.png",
            "title": charts.trend_title,
        },
    ]
    if charts.measures is not None:
        uploads.append(
            {
                "content": charts.measures,
                "filename": f"plan-measures-off-target-{week}.png",
                "title": charts.measures_title,
                "alt_txt": charts.measures_alt,
            }
        )
    try:
        await client.files_upload_v2(channel=channel, thread_ts=ts, file_uploads=uploads)
    except POST_FAILURES as exc:
        log.warning("digest charts for %s were not uploaded: %s", week, type(exc).__name__)
