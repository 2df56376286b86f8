"""The update form: checked inline, recorded page by page, never cut; a complete initiative is
asked about again only when the lead reopens it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.ids import ActionId, CallbackId
from handlers.messages.form import form_measures, form_pages, is_measures_page, page_numbers
from handlers.messages.prompt import not_asked
from handlers.person import person_of
from handlers.reading.form import read_form, read_measures
from handlers.updates import (
    MOST_REOPENED,
    FormMetadata,
    Reporting,
    first_block_id,
    form_view,
    measure_rows,
    record_and_refresh,
    reporting_state,
    submission_key,
)
from models.tables import Source

log = logging.getLogger(__name__)

REFUSED = "Only this department's owners or a Plan Bot admin can report its progress."


def register(app: AsyncApp, ctx: PlanContext) -> None:
    register_reopen(app, ctx)

    @app.view(CallbackId.UPDATE_FORM)
    async def submitted(
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        person = person_of(context)
        user = person.user_id
        metadata = FormMetadata.load(str(view.get("private_metadata") or ""))
        reporting = Reporting(None, None)
        if metadata is not None:
            # Read before Slack is answered: in the pool's connections kept for that.
            reporting = await reporting_state(
                ctx, metadata.department, metadata.period, person, urgent=True
            )
        state = reporting.state
        if metadata is None or state is None:
            log.warning("refused a form submission by %s", user, extra={"user": user})
            refusal = REFUSED if reporting.refusal is None else reporting.refusal.text
            errors = {first_block_id(view) or "status-1": refusal.removeprefix("⚠️ ")[:150]}
            await ack(response_action="errors", errors=errors)
            return
        pages = form_pages(state, metadata.reopened)
        # A page past the last (a forged or stale form) asks about nothing, so records nothing.
        numbers = page_numbers(state, metadata.page, metadata.reopened)
        if metadata.page > pages:
            numbers = []
        values = ((view.get("state") or {}).get("values")) or {}
        entries, errors = read_form(values, numbers, reason_required=ctx.reason_required)
        actuals = []
        if is_measures_page(state, metadata.page, metadata.reopened):
            asked = form_measures(state)
            recorded = {m.id for m in asked if state.period in m.values}
            answers, errors = read_measures(values, [m.id for m in asked], recorded)
            actuals = measure_rows(state, answers)
        if errors:
            await ack(response_action="errors", errors=errors)
            return

        async def close_or_turn_the_page() -> None:
            if metadata.page < pages:
                following = FormMetadata(
                    state.key, state.period, metadata.page + 1, metadata.reopened
                )
                await ack(response_action="update", view=form_view(state, following))
            else:
                await ack()

        await record_and_refresh(
            ctx,
            client,
            state,
            entries,
            author=user,
            source=Source.FORM,
            answer=close_or_turn_the_page,
            once=submission_key(view),
            actuals=actuals,
            urgent=True,  # acknowledged once stored: Slack waits at most 3 s
        )


def register_reopen(app: AsyncApp, ctx: PlanContext) -> None:
    @app.action(ActionId.REOPEN)
    async def reopen(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """A complete initiative picked in the form's menu is asked about again: the form is
        redrawn with its status picker (what was typed elsewhere in the form is kept: the
        other inputs keep their block and action ids)."""
        await ack()
        person = person_of(context)
        user = person.user_id
        view = body.get("view") or {}
        metadata = FormMetadata.load(str(view.get("private_metadata") or ""))
        action: Any = next(iter(body.get("actions") or []), {})
        chosen = str(((action or {}).get("selected_option") or {}).get("value") or "")
        if metadata is None or not chosen.isdigit() or not view.get("id"):
            log.warning("ignored a garbled reopen by %s", user, extra={"user": user})
            return
        state = (await reporting_state(ctx, metadata.department, metadata.period, person)).state
        number = int(chosen)
        if state is None:
            log.warning("refused a reopen by %s", user, extra={"user": user})
            return
        if number not in {i.number for i in not_asked(state, metadata.reopened)}:
            return  # not complete (any more), or reopened already
        reopened = (*metadata.reopened, number)[-MOST_REOPENED:]
        now = FormMetadata(state.key, state.period, 1, reopened)
        try:
            await client.views_update(
                view_id=str(view["id"]), hash=view.get("hash"), view=form_view(state, now)
            )
        except SlackApiError as exc:  # e.g. hash_conflict: the form changed meanwhile
            log.warning("could not reopen #%s in a form: %s", number, exc.response.get("error"))
