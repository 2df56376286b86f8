"""The buttons of the bot's answer to a thread reply: one reading of an unclear part, and
Undo. Only the department's owners or an admin may press them; each press counts once."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.actions.prompt import OUT_OF_DATE
from handlers.context import PlanContext
from handlers.ids import ActionId
from handlers.messages.answers import render_error
from handlers.messages.prompt import render_not_owner
from handlers.messages.thread import (
    render_already_answered,
    render_choice_done,
    render_undo_result,
    with_question_answered,
    with_undone,
)
from handlers.people import mention
from handlers.person import person_of, tell_privately
from handlers.reading.buttons import read_choice_value, read_undo_value
from handlers.updates import record_reported, refresh_prompt
from models.cycle import department_state
from models.db import session_scope
from models.plans import active_plan_id
from models.replies import claim_answer, department_of_reply, question, undo_reply
from models.tables import Source

log = logging.getLogger(__name__)


def _original_blocks(body: dict[str, Any]) -> Any:
    return (body.get("message") or {}).get("blocks")


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.action(re.compile(f"^{ActionId.REPLY_CHOICE}_\\d+$"))
    async def choose(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        person = person_of(context)
        user = person.user_id
        value = read_choice_value(action.get("value"))
        async with session_scope(ctx.engine) as session:
            asked = None if value is None else await question(session, value.question_id)
            if value is None or asked is None or value.choice >= len(asked.choices):
                await tell_privately(respond, client, context, render_error(OUT_OF_DATE))
                return
            plan_id = await active_plan_id(session)
            state = await department_state(
                session,
                plan_id,
                asked.period,
                asked.department_id,
                start_month=ctx.fiscal_year_start,
            )
            if state is None or not await person.may_report_for(session, asked.department_id):
                name = state.name if state is not None else "that department"
                await tell_privately(respond, client, context, render_not_owner(name))
                return
            claimed = await claim_answer(session, asked.id, value.choice, user, ctx.now())
            if claimed is not None:
                entry = asked.choices[value.choice]
                await record_reported(
                    ctx,
                    session,
                    state,
                    [entry],
                    author=user,
                    source=Source.THREAD,
                    source_ref=asked.reply_ref,
                )
        if claimed is None:
            who = mention(asked.answered_by) if asked.answered_by else None
            await tell_privately(respond, client, context, render_already_answered(who))
            return
        # Stored; now show it where the question was, and on the prompt.
        why = ctx.reason_required and entry.status.needs_reason and not entry.note.strip()
        blocks = with_question_answered(
            _original_blocks(body), asked.id, entry, mention(user), ask_why=why
        )
        if blocks is not None and body.get("response_url"):
            await respond(replace_original=True, text="Recorded", blocks=blocks)
        else:
            done = render_choice_done(entry, asked.period, ask_why=why)
            await tell_privately(respond, client, context, done)
        await refresh_prompt(ctx, client, state.key, state.period)

    @app.action(ActionId.REPLY_UNDO)
    async def undo(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        person = person_of(context)
        user = person.user_id
        reply = read_undo_value(action.get("value"))
        async with session_scope(ctx.engine) as session:
            found = None if reply is None else await department_of_reply(session, reply)
            if reply is None or found is None:
                await tell_privately(respond, client, context, render_error(OUT_OF_DATE))
                return
            department_id, period = found
            plan_id = await active_plan_id(session)
            state = await department_state(
                session, plan_id, period, department_id, start_month=ctx.fiscal_year_start
            )
            if state is None or not await person.may_report_for(session, department_id):
                name = state.name if state is not None else "that department"
                await tell_privately(respond, client, context, render_not_owner(name))
                return
            undone = await undo_reply(
                session, state, reply, author=user, late=ctx.is_late(period), now=ctx.now()
            )
        if undone.restored:
            blocks = with_undone(
                _original_blocks(body), undone.restored, mention(user), state.key, period
            )
            if blocks is not None and body.get("response_url"):
                await respond(replace_original=True, text="Undone", blocks=blocks)
        result = render_undo_result(
            undone.restored, undone.changed_since, undone.nothing_before, period
        )
        await tell_privately(respond, client, context, result)
        if undone.restored:
            await refresh_prompt(ctx, client, state.key, state.period)
