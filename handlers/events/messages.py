"""Thread replies to a prompt: "1 on track - note", "2 at risk 40% …", "all others on track"."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.cycle import render_not_owner, render_reply_summary
from handlers.messages.replies import ParsedReply, parse_thread_reply
from handlers.updates import refresh_prompt
from models.cycle import (
    DepartmentState,
    UpdateEntry,
    department_state,
    first_delivery,
    is_owner,
    prompt_for_message,
    record_updates,
)
from models.db import session_scope
from models.plans import active_plan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str
    edited: bool


def read_reply(event: dict[str, Any]) -> Reply | None:
    """A person's reply in a thread (new or edited), or None for anything else."""
    subtype = event.get("subtype")
    message = event.get("message") if subtype == "message_changed" else event
    if subtype not in (None, "message_changed", "thread_broadcast") or not isinstance(
        message, dict
    ):
        return None
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    channel, user = event.get("channel"), message.get("user")
    ts, thread_ts = message.get("ts"), message.get("thread_ts")
    if not (channel and user and ts and thread_ts) or ts == thread_ts:
        return None
    return Reply(
        str(channel),
        str(user),
        str(message.get("text") or ""),
        str(ts),
        str(thread_ts),
        subtype == "message_changed",
    )


def entries_of(parsed: ParsedReply, state: DepartmentState) -> list[tuple[int, UpdateEntry]]:
    """The lines as updates, with "all others …" applied to every initiative not named."""
    entries = [
        (line.number, UpdateEntry(line.number, line.status, line.percent, line.note))
        for line in parsed.lines
    ]
    if parsed.others is not None:
        named = {number for number, _ in entries}
        others = parsed.others
        entries += [
            (i.number, UpdateEntry(i.number, others.status, others.percent, others.note))
            for i in state.initiatives
            if i.number not in named
        ]
    return entries


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.event("message")
    async def thread_reply(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        reply = read_reply(event)
        if reply is None:
            return
        async with session_scope(ctx.engine) as session:
            prompt = await prompt_for_message(session, reply.channel, reply.thread_ts)
            if prompt is None:
                return  # a thread that is not one of our prompts
            plan = await active_plan(session)
            assert plan.id is not None
            state = await department_state(session, plan.id, prompt.period, prompt.department_id)
            allowed = ctx.is_admin(reply.user) or await is_owner(
                session, prompt.department_id, reply.user
            )
        if state is None:
            return
        event_id = str(body.get("event_id") or f"{reply.channel}:{reply.ts}:{reply.text}")[:100]
        if not allowed:
            async with session_scope(ctx.engine) as session:
                if not await first_delivery(session, event_id):
                    return
            refusal = render_not_owner(state.name)
            await client.chat_postEphemeral(
                channel=reply.channel,
                user=reply.user,
                thread_ts=reply.thread_ts,
                text=refusal.text,
                blocks=refusal.blocks,
            )
            return
        parsed = parse_thread_reply(reply.text, [i.number for i in state.initiatives])
        entries = entries_of(parsed, state)
        # The delivery and its updates are recorded together: a retry after a failure here
        # finds neither, and records the reply then.
        async with session_scope(ctx.engine) as session:
            if not await first_delivery(session, event_id):
                log.info("ignored a retried delivery of %s", event_id)
                return
            if entries:
                await record_updates(
                    session,
                    state,
                    [entry for _, entry in entries],
                    author=reply.user,
                    source="thread",
                    source_ref=f"{reply.channel}:{reply.ts}",
                    late=ctx.is_late(state.period),
                    now=ctx.now(),
                )
        # Stored before any Web API call: if Slack is down now, nothing is lost.
        unreadable = [(u.line, u.reason) for u in parsed.unreadable]
        summary = render_reply_summary(state.period, entries, unreadable, state)
        if entries:
            try:
                await client.reactions_add(
                    channel=reply.channel, timestamp=reply.ts, name="white_check_mark"
                )
            except SlackApiError as exc:
                if exc.response.get("error") != "already_reacted":
                    raise
        await client.chat_postMessage(
            channel=reply.channel,
            thread_ts=reply.thread_ts,
            text=summary.text,
            blocks=summary.blocks,
        )
        if entries:
            await refresh_prompt(ctx, client, state.key, state.period, reply.user)
