"""Reaching the channels Plan Bot posts in. It joins a public channel by itself (scope
`channels:join`); a private, archived or missing channel needs a person, and the errors that say
so are named here once, so a job can stop retrying and tell an admin instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

NOT_IN_CHANNEL = "not_in_channel"
CHANNEL_NOT_FOUND = "channel_not_found"
IS_ARCHIVED = "is_archived"
PRIVATE_CHANNEL = "method_not_supported_for_channel_type"  # conversations.join, private channel

# Errors no retry can cure: someone must invite the bot, unarchive the channel or pick another.
CHANNEL_ERRORS = frozenset({NOT_IN_CHANNEL, CHANNEL_NOT_FOUND, IS_ARCHIVED, PRIVATE_CHANNEL})


def slack_error(exc: BaseException) -> str | None:
    """The `error` of a Slack answer (`channel_not_found`…), or None for anything else."""
    if not isinstance(exc, SlackApiError):
        return None
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    error = data.get("error")
    return str(error) if error else None


async def post_joining(client: AsyncWebClient, channel: str, **message: Any) -> AsyncSlackResponse:
    """chat.postMessage; in a public channel the bot is not a member of yet it joins first, so
    the post goes out and the thread replies to it reach the bot (a non-member gets no events).
    Raises SlackApiError as Slack answers, e.g. `channel_not_found` for a private channel the
    bot has not been invited to."""
    try:
        return await client.chat_postMessage(channel=channel, **message)
    except SlackApiError as exc:
        if slack_error(exc) != NOT_IN_CHANNEL:
            raise
    await client.conversations_join(channel=channel)
    return await client.chat_postMessage(channel=channel, **message)


@dataclass(frozen=True)
class BlockedPost:
    """A post Slack refused for a reason only a person can fix (one of CHANNEL_ERRORS)."""

    department: str  # its name, as people know it
    department_key: str
    channel: str
    error: str
    updates_channel: bool  # the channel came from PLANBOT_UPDATES_CHANNEL, not the department


@dataclass(frozen=True)
class UnreachableChannel:
    """One channel Plan Bot could not post in, and every department whose post it refused."""

    channel: str
    error: str
    departments: tuple[str, ...]
    department_keys: tuple[str, ...]
    updates_channel: bool


def by_channel(blocked: list[BlockedPost]) -> list[UnreachableChannel]:
    """Blocked posts grouped by channel and error, in the order first seen: a wrong updates
    channel is one problem with eighteen departments, not eighteen problems."""
    groups: dict[tuple[str, str], list[BlockedPost]] = {}
    for post in blocked:
        groups.setdefault((post.channel, post.error), []).append(post)
    return [
        UnreachableChannel(
            channel=channel,
            error=error,
            departments=tuple(p.department for p in posts),
            department_keys=tuple(p.department_key for p in posts),
            updates_channel=any(p.updates_channel for p in posts),
        )
        for (channel, error), posts in groups.items()
    ]


INVITE = "`/invite @Plan Bot`"
UPDATES_SETTING = "PLANBOT_UPDATES_CHANNEL"


def how_to_fix(error: str, where: str, *, setting: str | None = None, departments: int = 1) -> str:
    """What a person does about a channel Slack refused, in words for Slack and the terminal
    alike. `where` names the channel (`<#C0123>` in Slack, `#fire (C0123)` on a terminal); it
    comes from `setting` (PLANBOT_UPDATES_CHANNEL…), or else is the channel of `departments`
    departments."""
    whom = "the department" if departments == 1 else "these departments"
    elsewhere = (
        f"set {setting} to one that does"
        if setting
        else f"give {whom} another channel (`planbot owners set` or `planbot owners load`)"
    )
    if error == CHANNEL_NOT_FOUND:
        return (
            f"Plan Bot cannot see {where}: if it is a private channel, type {INVITE} in it; "
            f"if it no longer exists, {elsewhere}."
        )
    if error == IS_ARCHIVED:
        return f"{where} is archived: unarchive it, or {elsewhere}."
    if error == PRIVATE_CHANNEL:
        return (
            f"{where} is private and Plan Bot cannot join it by itself: type {INVITE} in {where}."
        )
    return f"Plan Bot is not a member of {where}: type {INVITE} in {where}."
