"""Finding our own earlier post: a job that claimed a post, sent it, and died before recording
it looks in the channel for the message metadata it attached, rather than posting again."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

HISTORY_LIMIT = 200  # recent messages searched; a retry comes within minutes of the post


def post_metadata(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The message metadata that marks a post as this one."""
    return {"event_type": event_type, "event_payload": payload}


async def find_posted(
    client: AsyncWebClient, channel: str, event_type: str, payload: dict[str, Any]
) -> str | None:
    """The ts of our recent post in `channel` marked with `post_metadata(event_type, payload)`,
    if Slack accepted it before we could record it."""
    answer = await client.conversations_history(
        channel=channel, include_all_metadata=True, limit=HISTORY_LIMIT
    )
    for message in answer.get("messages") or []:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == event_type and metadata.get("event_payload") == payload:
            return str(message["ts"])
    return None


async def find_posted_in_thread(
    client: AsyncWebClient, channel: str, thread_ts: str, event_type: str, payload: dict[str, Any]
) -> str | None:
    """The ts of our reply in a thread marked with `post_metadata(event_type, payload)`."""
    answer = await client.conversations_replies(
        channel=channel, ts=thread_ts, include_all_metadata=True, limit=HISTORY_LIMIT
    )
    for message in answer.get("messages") or []:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == event_type and metadata.get("event_payload") == payload:
            return str(message["ts"])
    return None
