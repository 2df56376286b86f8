"""The "Share in channel" button: the same answer, posted for everyone, naming without pinging."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.commands.parse import parse_plan_command
from handlers.commands.plan import SHAREABLE, answer_plan_command
from handlers.context import PlanContext
from handlers.messages.answers import SHARE_ACTION, render_error, shared_by
from handlers.people import PeopleNames

log = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: PlanContext, names: PeopleNames) -> None:
    @app.action(SHARE_ACTION)
    async def share(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        command = parse_plan_command(str(action.get("value") or ""))
        if command.action not in SHAREABLE:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                **render_error("That answer cannot be shared.").as_reply(),
            )
            return
        # First pass finds who is named; the second names them without a ping.
        ids: list[str] = []

        def record(user: str) -> str:
            ids.append(user)
            return user

        await answer_plan_command(ctx, command, user_id, record)
        people = await names.names(client, [*ids, user_id])
        answer = await answer_plan_command(ctx, command, user_id, people)
        message = shared_by(answer.message, people(user_id))
        await respond(response_type="in_channel", replace_original=False, **message.as_reply())
