"""The prompt's buttons ("Submit update", "No change") and App Home's "Update"."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.answers import HOME_UPDATE_ACTION, Message, render_error
from handlers.messages.cycle import (
    NO_CHANGE_ACTION,
    SUBMIT_ACTION,
    read_prompt_value,
    render_no_change_done,
    render_not_owner,
)
from handlers.updates import open_form, refresh_prompt, reporting_state
from models.cycle import DepartmentState, no_change_entries, record_updates
from models.db import session_scope

log = logging.getLogger(__name__)

OUT_OF_DATE = "That button is out of date; use `/plan update`."


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


async def _private(
    respond: AsyncRespond, client: AsyncWebClient, body: dict[str, Any], message: Message
) -> None:
    """An answer only the clicker sees: in the channel where they clicked, or as a DM."""
    text, blocks = message.text, message.blocks
    if body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)
    else:
        await client.chat_postMessage(channel=_user(body), text=text, blocks=blocks)


async def _reporting(
    ctx: PlanContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    body: dict[str, Any],
    department_key: str,
    period: str,
) -> DepartmentState | None:
    """The department's state when the clicker may report for it; otherwise they are told
    why not, privately, and None."""
    state, allowed = await reporting_state(ctx, department_key, period, _user(body))
    if state is None or not allowed:
        await _private(
            respond, client, body, render_not_owner(state.name if state else "that department")
        )
        return None
    return state


async def _open_form_for(
    ctx: PlanContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
    body: dict[str, Any],
    department_key: str,
    period: str,
) -> None:
    """Open the update form for an owner or an admin; tell anyone else, privately, why not."""
    state = await _reporting(ctx, client, respond, body, department_key, period)
    if state is not None:
        await open_form(client, str(body.get("trigger_id") or ""), state)


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.action(SUBMIT_ACTION)
    async def submit_update(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        target = read_prompt_value(str(action.get("value") or ""))
        if target is None:
            await _private(respond, client, body, render_error(OUT_OF_DATE))
            return
        await _open_form_for(ctx, client, respond, body, *target)

    @app.action(HOME_UPDATE_ACTION)
    async def home_update(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        department_key = str(action.get("value") or "")[:60]
        await _open_form_for(ctx, client, respond, body, department_key, ctx.open_period())

    @app.action(NO_CHANGE_ACTION)
    async def no_change(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        user = _user(body)
        target = read_prompt_value(str(action.get("value") or ""))
        if target is None:
            await _private(respond, client, body, render_error(OUT_OF_DATE))
            return
        state = await _reporting(ctx, client, respond, body, *target)
        if state is None:
            return
        entries, without = no_change_entries(state)
        async with session_scope(ctx.engine) as session:
            await record_updates(
                session,
                state,
                entries,
                author=user,
                source="form",
                late=ctx.is_late(state.period),
                now=ctx.now(),
            )
        # Stored; now tell them, and show it on the prompt.
        done = render_no_change_done(state, len(entries), without)
        await _private(respond, client, body, done)
        if entries:
            await refresh_prompt(ctx, client, state.key, state.period, user)
