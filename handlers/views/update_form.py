"""The update form: checked inline, recorded page by page, never cut."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.cycle import (
    FORM_CALLBACK,
    FORM_PAGE_SIZE,
    form_pages,
    read_form,
    render_update_form,
)
from handlers.updates import FormMetadata, first_block_id, refresh_prompt, reporting_state
from models.cycle import record_updates
from models.db import session_scope

log = logging.getLogger(__name__)

REFUSED = "Only this department's owners or a Plan Bot admin can report its progress."


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.view(FORM_CALLBACK)
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        metadata = FormMetadata.load(str(view.get("private_metadata") or ""))
        state, allowed = (None, False)
        if metadata is not None:
            state, allowed = await reporting_state(ctx, metadata.department, metadata.period, user)
        if metadata is None or state is None or not allowed:
            log.warning("refused a form submission by %s", user, extra={"user": user})
            await ack(
                response_action="errors", errors={first_block_id(view) or "status-1": REFUSED}
            )
            return
        first = (metadata.page - 1) * FORM_PAGE_SIZE
        numbers = [i.number for i in state.initiatives[first : first + FORM_PAGE_SIZE]]
        values = ((view.get("state") or {}).get("values")) or {}
        entries, errors = read_form(values, numbers)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
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
        if metadata.page < form_pages(state):
            following = FormMetadata(state.key, state.period, metadata.page + 1)
            await ack(
                response_action="update",
                view=render_update_form(state, following.page, following.dump()),
            )
        else:
            await ack()
        if entries:
            await refresh_prompt(ctx, client, state.key, state.period, user)
