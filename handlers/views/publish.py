"""`/plan publish 2026-10` (issue 17): an admin previews what would become public — counts by
status and every note — leaves notes out one by one, and confirms; the period is then an
immutable snapshot served by the public site and the open data."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.ids import CallbackId
from handlers.messages.publish import (
    NOTES_PER_PAGE,
    PublishMetadata,
    already_published_words,
    left_out_on_page,
    notes_hash,
    pages,
    published_words,
    render_done_view,
    render_preview,
)
from handlers.person import person_of
from models.db import session_scope
from models.periods import PeriodError, local_now, parse_period, period_label, previous_period
from models.plans import active_plan
from models.publish import AlreadyPublished, build_snapshot, notes_to_review, publication, publish
from models.tables import Publication

log = logging.getLogger(__name__)

NOTES_CHANGED = (
    "The notes changed while you reviewed them (an answer came in), so nothing was published. "
    "Run `/plan publish {period}` again to review them as they are now."
)


def _when(ctx: PlanContext, row: Publication) -> str:
    local = local_now(ctx.timezone, row.published_at)
    return f"{local:%b} {local.day}, {local.year}"


async def open_preview(
    ctx: PlanContext, client: AsyncWebClient, trigger_id: str, words: str
) -> str | None:
    """Open the preview for the period named (the last closed one when none is); or say why
    not (mrkdwn, no user text)."""
    now = ctx.now()
    try:
        period = (
            parse_period(words.strip()) if words.strip() else previous_period(ctx.open_period())
        )
    except PeriodError:
        return "Name the month to publish as YYYY-MM, e.g. `/plan publish 2026-10`."
    if ctx.calendar.closes_at(period) > now:
        return (
            f"{period_label(period)} has not closed yet (it closes when the next month's prompt "
            "goes out): publish it after that."
        )
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        if plan.first_period is not None and period < plan.first_period:
            return f"{period_label(period)} is before this plan's first month."
        earlier = await publication(session, plan.id, period)
        if earlier is not None:
            return already_published_words(
                period, _when(ctx, earlier), f"<@{earlier.published_by}>"
            )
        snapshot = await build_snapshot(
            session, plan.id, period, start_month=ctx.fiscal_year_start, admins=ctx.admins
        )
    notes = notes_to_review(snapshot)
    metadata = PublishMetadata(period, 1, notes_hash(notes))
    await client.views_open(trigger_id=trigger_id, view=render_preview(snapshot, notes, metadata))
    return None


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.view(CallbackId.PUBLISH)
    async def confirmed(ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        person = person_of(context)
        metadata = PublishMetadata.load(str(view.get("private_metadata") or ""))
        if not person.is_admin or metadata is None:
            log.warning("refused a publish submission by %s", person.user_id)
            said = "Only a Plan Bot admin can publish a period; nothing was published."
            await ack(response_action="update", view=render_done_view("Not published", said))
            return
        async with session_scope(ctx.engine) as session:
            plan = await active_plan(session)
            assert plan.id is not None
            snapshot = await build_snapshot(
                session,
                plan.id,
                metadata.period,
                start_month=ctx.fiscal_year_start,
                admins=ctx.admins,
            )
        notes = notes_to_review(snapshot)
        if notes_hash(notes) != metadata.notes_hash:
            said = NOTES_CHANGED.format(period=metadata.period)
            await ack(response_action="update", view=render_done_view("Not published", said))
            return
        first = (metadata.page - 1) * NOTES_PER_PAGE
        page = notes[first : first + NOTES_PER_PAGE]  # the page the admin saw
        values = ((view.get("state") or {}).get("values")) or {}
        left_out = (*metadata.left_out, *left_out_on_page(values, page))
        if metadata.page < pages(notes):
            following = PublishMetadata(
                metadata.period, metadata.page + 1, metadata.notes_hash, left_out
            )
            await ack(response_action="update", view=render_preview(snapshot, notes, following))
            return
        try:
            async with session_scope(ctx.engine) as session:
                done = await publish(
                    session,
                    plan.id,
                    metadata.period,
                    by=person.user_id,
                    now=ctx.now(),
                    start_month=ctx.fiscal_year_start,
                    admins=ctx.admins,
                    left_out=left_out,
                )
        except AlreadyPublished as exc:
            said = already_published_words(
                metadata.period, _when(ctx, exc.publication), f"<@{exc.publication.published_by}>"
            )
            await ack(response_action="update", view=render_done_view("Already published", said))
            return
        kept = len(set(done.left_out) & {n.initiative for n in notes})
        said = published_words(metadata.period, len(notes) - kept, kept, ctx.public_url)
        log.info(
            "published %s: %d notes public, %d kept private",
            metadata.period,
            len(notes) - kept,
            kept,
            extra={"period": metadata.period},
        )
        await ack(response_action="update", view=render_done_view("Published", said))
