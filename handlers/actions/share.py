"""The "Share in channel" button: the same answer, posted for everyone, naming without pinging."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.commands.parse import PlanCommand, parse_plan_command
from handlers.commands.plan import share_plan_command
from handlers.context import PlanContext
from handlers.ids import ActionId
from handlers.messages.answers import render_error
from handlers.people import PeopleNames
from handlers.person import person_of

log = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: PlanContext, names: PeopleNames) -> None:
    @app.action(ActionId.SHARE)
    async def share(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        user_id = person_of(context).user_id
        command = parse_plan_command(str(action.get("value") or ""))
        message = None
        if isinstance(command, PlanCommand):
            message = await share_plan_command(ctx, command, user_id, names, client)
        if message is None:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                **render_error("That answer cannot be shared.").as_reply(),
            )
            return
        await respond(response_type="in_channel", replace_original=False, **message.as_reply())
