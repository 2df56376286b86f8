"""The prompt's buttons ("Submit update", "No change") and App Home's "Update"."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.ids import ActionId
from handlers.messages.answers import render_error
from handlers.messages.prompt import render_no_change_done, render_no_change_overtaken
from handlers.person import person_of, tell_privately
from handlers.reading.buttons import read_prompt_value
from handlers.updates import click_key, open_form, record_and_refresh, reporting_state
from models.cycle import DepartmentState, no_change_entries, no_change_key, said_no_change
from models.tables import Source

log = logging.getLogger(__name__)

OUT_OF_DATE = "That button is out of date; use `/plan update`."


async def _reporting(
    ctx: PlanContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
    department_key: str,
    period: str,
) -> DepartmentState | None:
    """The department's state when the clicker may report for it; otherwise they are told
    why not, privately, and None."""
    reporting = await reporting_state(ctx, department_key, period, person_of(context))
    if reporting.refusal is not None:
        await tell_privately(respond, client, context, reporting.refusal)
    return reporting.state


async def _open_form_for(
    ctx: PlanContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
    body: dict[str, Any],
    department_key: str,
    period: str,
) -> None:
    """Open the update form for an owner or an admin; tell anyone else, privately, why not."""
    state = await _reporting(ctx, client, respond, context, department_key, period)
    if state is not None:
        await open_form(client, str(body.get("trigger_id") or ""), state)


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.action(ActionId.SUBMIT)
    async def submit_update(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        target = read_prompt_value(str(action.get("value") or ""))
        if target is None:
            await tell_privately(respond, client, context, render_error(OUT_OF_DATE))
            return
        await _open_form_for(ctx, client, respond, context, body, *target)

    @app.action(ActionId.HOME_UPDATE)
    async def home_update(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        department_key = str(action.get("value") or "")[:60]
        await _open_form_for(ctx, client, respond, context, body, department_key, ctx.open_period())

    @app.action(ActionId.NO_CHANGE)
    async def no_change(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        user = person_of(context).user_id
        target = read_prompt_value(str(action.get("value") or ""))
        if target is None:
            await tell_privately(respond, client, context, render_error(OUT_OF_DATE))
            return
        state = await _reporting(ctx, client, respond, context, *target)
        if state is None:
            return
        entries, without = no_change_entries(state)
        done = render_no_change_done(state, len(entries), without)
        # "No change" said again by the same person (a double click) says nothing new.
        fresh = [e for e in entries if not said_no_change(state, e.number, user)]
        await record_and_refresh(
            ctx,
            client,
            state,
            fresh,
            author=user,
            source=Source.FORM,
            answer=lambda: tell_privately(respond, client, context, done),
            once=click_key(body),
            same_as=no_change_key(state, user),
            changed=lambda: tell_privately(
                respond, client, context, render_no_change_overtaken(state)
            ),
        )
