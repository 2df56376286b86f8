"""'Ask for help' (issue 16): the button opens a small form; its submission is recorded, then
posted to the escalation channel; Acknowledge and Resolve there move it once each and tell the
lead."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.ids import ActionId, CallbackId
from handlers.messages.answers import render_error
from handlers.messages.help import (
    BLOCKED,
    HelpFormMetadata,
    read_help_form,
    render_help_asked,
    render_help_form,
    status_words,
)
from handlers.person import person_of, tell_privately
from handlers.reading.buttons import read_help_value, read_request_id
from handlers.updates import reporting_state, submission_key
from jobs.help_requests import permalink, post_help_request, tell_of_a_step
from models.cycle import first_delivery
from models.db import session_scope
from models.help import ask_for_help, help_request, move
from models.plans import contacts_of
from models.tables import ContactRole, HelpStatus

log = logging.getLogger(__name__)

OUT_OF_DATE = "That button is out of date; use `/plan update`."
ONLY_ESCALATION = (
    "Only the escalation contacts (the COO's office) or a Plan Bot admin can acknowledge a "
    "request for help; they and the department's owners can resolve it."
)


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.action(ActionId.ASK_HELP)
    async def ask(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        found = read_help_value(action.get("value"))
        if found is None:
            await tell_privately(respond, client, context, render_error(OUT_OF_DATE))
            return
        key, period, number = found
        reporting = await reporting_state(ctx, key, period, person_of(context))
        if reporting.refusal is not None or reporting.state is None:
            refusal = reporting.refusal or render_error(OUT_OF_DATE)
            await tell_privately(respond, client, context, refusal)
            return
        state = reporting.state
        if number is not None and state.initiative(number) is None:
            number = None
        metadata = HelpFormMetadata(state.key, state.period, number)
        await client.views_open(
            trigger_id=str(body.get("trigger_id") or ""), view=render_help_form(state, metadata)
        )

    @app.view(CallbackId.ASK_HELP)
    async def asked(
        ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        person = person_of(context)
        metadata = HelpFormMetadata.load(str(view.get("private_metadata") or ""))
        reporting = None
        if metadata is not None:
            reporting = await reporting_state(ctx, metadata.department, metadata.period, person)
        if metadata is None or reporting is None or reporting.state is None:
            refusal = "Only this department's owners or a Plan Bot admin can ask for help for it."
            if reporting is not None and reporting.refusal is not None:
                refusal = reporting.refusal.text
            await ack(response_action="errors", errors={BLOCKED: refusal[:150]})
            return
        state = reporting.state
        values = ((view.get("state") or {}).get("values")) or {}
        typed, errors = read_help_form(values, asks_which=metadata.number is None)
        number = metadata.number if metadata.number is not None else typed["number"]
        initiative = state.initiative(number) if number is not None else None
        if initiative is None and not errors:
            errors["which"] = "Pick one of the department's initiatives."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        assert initiative is not None
        async with session_scope(ctx.engine) as session:
            first = await first_delivery(session, submission_key(view))
            request_id = None
            if first:
                request_id = await ask_for_help(
                    session,
                    department_id=state.id,
                    initiative_id=initiative.id,
                    period=state.period,
                    asked_by=person.user_id,
                    blocked=typed["blocked"],
                    unblock=typed["unblock"],
                    now=ctx.now(),
                )
        await ack()
        if request_id is None:
            return  # the same submission again: recorded and posted the first time
        posted = await post_help_request(ctx, client, request_id)
        async with session_scope(ctx.engine) as session:
            v = await help_request(session, request_id)
        if v is not None:
            told = render_help_asked(v, posted, await permalink(client, v))
            await client.chat_postMessage(channel=person.user_id, **told.as_reply())

    async def step(
        to: HelpStatus,
        ack: AsyncAck,
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        person = person_of(context)
        request_id = read_request_id(action.get("value"))
        async with session_scope(ctx.engine) as session:
            v = None if request_id is None else await help_request(session, request_id)
            contacts = (
                {}
                if v is None
                else await contacts_of(session, [v.department_id], ContactRole.ESCALATION)
            )
        if v is None:
            await tell_privately(respond, client, context, render_error("No such request."))
            return
        allowed = (
            person.is_admin
            or person.user_id in ctx.escalation_users
            or person.user_id in contacts.get(v.department_id, ())
        )
        if not allowed and to == HelpStatus.RESOLVED:
            # A lead who found their own way closes their request (their department's).
            async with session_scope(ctx.engine) as session:
                allowed = await person.may_report_for(session, v.department_id)
        if not allowed:
            await tell_privately(respond, client, context, render_error(ONLY_ESCALATION))
            return
        async with session_scope(ctx.engine) as session:
            moved = await move(session, v.id, to, person.user_id, ctx.now())
        if moved:
            await tell_of_a_step(ctx, client, v.id, person.user_id)
            return
        async with session_scope(ctx.engine) as session:
            now_v = await help_request(session, v.id)
        assert now_v is not None
        names = await ctx.people.names(
            client, [u for u in (now_v.acknowledged_by, now_v.resolved_by) if u]
        )
        said = (
            f"Nothing changed: this request stands at {status_words(now_v, names, ctx.timezone)}."
        )
        await tell_privately(respond, client, context, render_error(said))

    @app.action(ActionId.HELP_ACKNOWLEDGE)
    async def acknowledge(
        ack: AsyncAck,
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await step(HelpStatus.ACKNOWLEDGED, ack, action, respond, client, context)

    @app.action(ActionId.HELP_RESOLVE)
    async def resolve(
        ack: AsyncAck,
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await step(HelpStatus.RESOLVED, ack, action, respond, client, context)
