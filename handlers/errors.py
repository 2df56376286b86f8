"""One error handler for every listener: whatever fails, the person who acted is told privately,
once, and the failure is logged once with its traceback (never the request body: it holds
people's words and, for some payloads, a response URL)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.channels import slack_error
from handlers.messages.answers import render_error
from handlers.messages.layout import Message
from models.db import database_unavailable

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = (
    "Something went wrong on our side and it has been logged. What you just did may not have "
    "been recorded: please check, and try again in a minute."
)
ACK_POLL_SECONDS = 0.05  # five times Bolt's poll of the acknowledgement

# The database did not answer: the transaction never happened, so nothing was recorded.
DATABASE_DOWN = (
    "Plan Bot's database is not answering right now, so nothing was recorded. "
    "Please send it again in a few minutes."
)
THREAD_NOT_RECORDED = (
    "⚠️ This reply was *not recorded*: Plan Bot's database is not answering right now. "
    "Please send it again in a few minutes (or use *Submit update* then)."
)


def what_failed(body: dict[str, Any]) -> str:
    """'/plan', 'block_actions prompt_no_change', 'view_submission update_form', 'event message'."""
    if body.get("command"):
        return str(body["command"])
    kind = str(body.get("type") or "request")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        first = actions[0] if isinstance(actions, list) and actions else {}
        return f"{kind} {first.get('action_id', '?') if isinstance(first, dict) else '?'}"
    if kind in ("view_submission", "view_closed"):
        return f"{kind} {(body.get('view') or {}).get('callback_id', '?')}"
    if kind == "event_callback":
        return f"event {(body.get('event') or {}).get('type', '?')}"
    return kind


def _form_errors(body: dict[str, Any], text: str) -> dict[str, Any] | None:
    """A view submission's answer that keeps the form open with `text` under its first input."""
    blocks = (body.get("view") or {}).get("blocks") or []
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return {"response_action": "errors", "errors": {block["block_id"]: text[:150]}}
    return None


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )


async def _tell(
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond | None,
    message: Message,
) -> None:
    """The message, privately, by the way the surface allows: the response URL of a command or a
    click, an ephemeral message in the channel (and thread) of an event, else a direct message."""
    user, channel = context.user_id, context.channel_id
    if respond is not None and context.response_url:
        await respond(response_type="ephemeral", replace_original=False, **message.as_reply())
    elif body.get("type") == "event_callback" and user and channel:
        event = body.get("event") or {}
        thread = event.get("thread_ts") or (event.get("message") or {}).get("thread_ts")
        await client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread, **message.as_reply()
        )
    elif user:
        await client.chat_postMessage(channel=user, **message.as_reply())


def _thread_parent(body: dict[str, Any]) -> str | None:
    """For a reply in a thread: who started the thread ("" when Slack did not say); None for
    anything else. Slack names the parent's author on every thread reply it delivers."""
    event = body.get("event") or {}
    inner = event.get("message")
    message: dict[str, Any] = inner if isinstance(inner, dict) else event
    if body.get("type") != "event_callback" or not message.get("thread_ts"):
        return None
    return str(message.get("parent_user_id") or "")


async def _parent_author(body: dict[str, Any], client: AsyncWebClient) -> str:
    """Who started the thread a reply is in, from Slack; "" when it cannot say."""
    event = body.get("event") or {}
    inner = event.get("message")
    message: dict[str, Any] = inner if isinstance(inner, dict) else event
    try:
        answer = await client.conversations_replies(
            channel=str(event.get("channel")), ts=str(message.get("thread_ts")), limit=1
        )
    except Exception:
        return ""
    messages = answer.get("messages") or []
    return str(messages[0].get("user") or "") if messages else ""


async def _tell_the_thread(body: dict[str, Any], client: AsyncWebClient) -> None:
    """A thread reply that could not be stored: said in its thread, for everyone there, so
    that it is sent again (Slack does not deliver an acknowledged event a second time)."""
    event = body.get("event") or {}
    thread = event.get("thread_ts") or (event.get("message") or {}).get("thread_ts")
    await client.chat_postMessage(
        channel=str(event.get("channel")), thread_ts=str(thread), text=THREAD_NOT_RECORDED
    )


def register(app: AsyncApp) -> None:
    @app.error
    async def tell_the_person(
        error: Exception,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        ack: AsyncAck,
        response: BoltResponse | None,
        respond: AsyncRespond | None = None,
    ) -> BoltResponse | None:
        if response is None:
            # Acknowledged already. Bolt (1.30) sets the acknowledgement to None once this
            # handler returns; its dispatcher polls for it every 10 ms, so give it time to
            # have sent it first, or Slack gets a 404 for a click we did acknowledge.
            await asyncio.sleep(ACK_POLL_SECONDS)
        failed = what_failed(body if isinstance(body, dict) else {})
        down = database_unavailable(error)
        if down:  # one line, no traceback: the operator needs to know it, not where
            log.warning(
                "%s not recorded: the database is unavailable (%s)",
                failed,
                type(error).__name__,
                extra={"team": context.team_id, "user": context.user_id},
            )
        else:
            # The error's name and, from Slack, its code (`invalid_auth`): never its text,
            # which may quote what a person wrote.
            code = slack_error(error) if isinstance(error, SlackApiError) else None
            log.error(
                "%s failed: %s",
                failed,
                f"{type(error).__name__} {code}" if code else type(error).__name__,
                exc_info=error,
                extra={"team": context.team_id, "user": context.user_id},
            )
        said = DATABASE_DOWN if down else SOMETHING_WENT_WRONG
        message = render_error(said)
        # Not acknowledged yet (Bolt still holds the HTTP response): answer in it, so Slack shows
        # our words rather than its generic error, and an event is not delivered again.
        if response is not None and ack.response is None:
            if body.get("command"):
                return _json({"response_type": "ephemeral", **message.as_reply()})
            if body.get("type") == "view_submission":
                errors = _form_errors(body, said)
                if errors is not None:
                    return _json(errors)
            await ack()  # before telling: Slack waits three seconds at most
        try:
            whose = _thread_parent(body)
            if whose == "" and down:  # Slack did not say whose thread: ask it (it is up)
                whose = await _parent_author(body, client)
            if down and whose is not None and whose == context.bot_user_id:
                await _tell_the_thread(body, client)  # a reply to our prompt
            elif whose and whose != context.bot_user_id:
                pass  # a thread that is not ours: nothing of it was ours to record
            else:
                await _tell(body, context, client, respond, message)
        except Exception as exc:  # Slack refused or is down too: the log line above stands
            log.warning("could not tell %s that %s failed: %s", context.user_id, failed, exc)
        if response is None:  # the acknowledgement has been sent
            return None
        acked = ack.response
        if acked is not None:  # keep what was acknowledged, not Bolt's 500
            return BoltResponse(status=acked.status, body=acked.body, headers=acked.headers)
        return BoltResponse(status=200, body="")
