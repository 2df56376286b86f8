"""Plan Bot invited to a channel: prompts Slack refused there are tried again."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from handlers.context import PlanContext
from models.cycle import reopen_blocked_prompts
from models.db import session_scope

log = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.event("member_joined_channel")
    async def bot_joined(event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = str(event.get("channel") or "")
        if not channel or event.get("user") != context.bot_user_id:
            return
        async with session_scope(ctx.engine) as session:
            reopened = await reopen_blocked_prompts(session, channel_id=channel)
        if reopened:
            log.info(
                "invited to %s: %d blocked prompt(s) will be posted at the next check",
                channel,
                reopened,
                extra={"channel": channel},
            )
